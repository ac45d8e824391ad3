"""Saliency-guided training in your own training loop: the package's public face.

:func:`create_method` builds a training method (``"traditional"``, ``"sgt"``, ``"smoot"``,
``"hlgm"``) with its options, as timm's ``create_model`` builds a model. The returned
:class:`GuidedTraining` takes your batches, one optimiser step each (:meth:`GuidedTraining.step`)
or just the loss (:meth:`GuidedTraining.loss`, when something else runs the backward pass, e.g.
PyTorch Lightning), and is told the epoch boundaries (:meth:`GuidedTraining.start_epoch`,
:meth:`GuidedTraining.end_epoch`) where the method needs them. Its
:attr:`GuidedTraining.state` reports what it keeps: SMOOT's per-sample mask size ``K``, HLGM's
phase.

What each method needs from your loop (docs/methods.md §3.3-3.6):

| method | per batch | per epoch |
|---|---|---|
| ``traditional``, ``sgt`` | ``x``, ``y`` | nothing |
| ``smoot`` | ``x``, ``y`` and ``idx``, the samples' indices in the training set | nothing |
| ``hlgm`` | ``x``, ``y`` | ``start_epoch()`` before, ``end_epoch()`` after each epoch |

SMOOT keeps one mask size ``K`` per training sample, so :func:`create_method` needs its
``num_train``; HLGM with ``monitor="test_acc"`` needs ``end_epoch(test_acc=...)``.

Inputs are ``(B, C, H, W)`` float tensors: images, or time series as ``(B, 1, T, F)`` (time as
rows, features as columns, as the package's time-series models take them). Saliency and masking
act on the ``H x W`` positions (all channels of a position together). The model is any
``nn.Module`` returning ``(B, classes)`` logits whose gradient with respect to its input is
defined. Batches may live on any device (the method's state follows them) and the forward
passes may run under ``torch.autocast`` (``precision`` of :func:`create_method`, or your own
autocast around :meth:`GuidedTraining.loss`).

The evaluation functions the worked notebook uses are exported here too: :func:`accuracy`,
:func:`attribute` (saliency maps), :func:`accuracy_drop_curve` and :func:`auc`
(docs/methods.md §4). ``notebooks/own_training_loop.ipynb`` applies all of it to a model and data
none of the three papers used.

Examples
--------
SGT on a small CNN, one epoch of a plain loop:

>>> import torch
>>> from torch import nn
>>> from saliency_lib.api import create_method
>>> _ = torch.manual_seed(0)
>>> model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Flatten(),
...                       nn.Linear(8 * 8 * 8, 3))
>>> optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
>>> x, y = torch.randn(32, 1, 8, 8), torch.randint(0, 3, (32,))
>>> method = create_method("sgt", k_fraction=0.5)
>>> for start in range(0, 32, 16):
...     out = method.step(model, optimizer, x[start:start + 16], y[start:start + 16])
>>> method.state.k  # half of the 8 x 8 positions are masked in every sample
32
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .methods import BatchLoss, TrainingMethod, get_method, method_config
from .methods import list_methods as _list_methods
from .metrics import accuracy, accuracy_drop_curve, auc
from .saliency import attribute, training_saliency
from .trainer import Precision, train_step

__all__ = [
    "create_method",
    "list_methods",
    "method_options",
    "GuidedTraining",
    "MethodState",
    "accuracy",
    "attribute",
    "accuracy_drop_curve",
    "auc",
]

#: torch's messages when the model's output does not depend differentiably on its input
_NO_INPUT_GRADIENT = (
    "does not require grad",
    "appears to not have been used in the graph",
    "does not have a grad_fn",
)


def list_methods() -> list[str]:
    """The names :func:`create_method` accepts.

    Examples
    --------
    >>> from saliency_lib.api import list_methods
    >>> list_methods()
    ['hlgm', 'sgt', 'sgt_tokens', 'smoot', 'traditional']
    """
    return _list_methods()


def method_options(name: str):
    """The options of training method ``name`` with their defaults, as its typed config.

    Parameters
    ----------
    name
        ``"traditional"``, ``"sgt"``, ``"smoot"`` or ``"hlgm"`` (:func:`list_methods`).

    Returns
    -------
    The method's options dataclass (``SGTConfig``, ``SMOOTConfig``, ``HLGMConfig``,
    ``NoOptions``); each field is a keyword option of :func:`create_method`, documented in
    docs/methods.md §3.

    Examples
    --------
    >>> from saliency_lib.api import method_options
    >>> opts = method_options("smoot")
    >>> opts.k_init_fraction, opts.k_min_fraction, opts.k_max_fraction, opts.mu
    (0.5, 0.2, 0.8, 10.0)
    >>> method_options("hlgm").monitor
    'train_loss'
    """
    return method_config(name)


def create_method(
    name: str,
    config: Any = None,
    /,
    *,
    num_train: int | None = None,
    precision: str = "fp32",
    **options: Any,
) -> GuidedTraining:
    """A saliency-guided training method for your own loop.

    Parameters
    ----------
    name
        ``"traditional"`` (cross-entropy only), ``"sgt"`` (SGT Alg. 1, fixed ``k``),
        ``"smoot"`` (SMOOT Alg. 2, one ``K`` per training sample) or ``"hlgm"`` (HLGM Alg. 2,
        traditional phase then regularize/denoise episodes).
    config
        The method's typed options (:func:`method_options`), instead of keyword options.
    num_train
        The training-set size. Required by SMOOT, which keeps one mask size per sample and
        reads each batch's sample indices; ignored by the other methods.
    precision
        ``"fp32"`` (default), ``"bf16"`` or ``"fp16"``: :meth:`GuidedTraining.step` runs the
        method's forward passes under ``torch.autocast`` of the batch's device (``fp16`` with a
        gradient scaler), as the package's trainer does.
    **options
        The method's options by name, e.g. ``k_fraction=0.3`` (SGT), ``alpha=0.95`` (SMOOT),
        ``patience=5, monitor="test_acc"`` (HLGM); :func:`method_options` lists them with their
        defaults, docs/methods.md §3 explains each. An unknown option is an error naming the
        valid ones.

    Returns
    -------
    GuidedTraining
        Feed it batches with :meth:`GuidedTraining.step` or :meth:`GuidedTraining.loss`.

    Examples
    --------
    >>> from saliency_lib.api import create_method
    >>> create_method("smoot", num_train=1000, alpha=0.95)
    GuidedTraining('smoot', num_train=1000, precision='fp32')
    >>> create_method("smoot")
    Traceback (most recent call last):
    ...
    ValueError: create_method('smoot') needs num_train=: SMOOT keeps one mask size K per
    training sample (docs/methods.md §3.5); pass the training-set size, e.g.
    num_train=len(train_set)
    >>> create_method("sgt", k_frac=0.3)
    Traceback (most recent call last):
    ...
    KeyError: "unknown option(s) ['k_frac'] for training method 'sgt'; valid options are:
    lambda_kl, fill, fill_value, saliency_output, saliency_abs, saliency_mode, share_prefix,
    k_fraction"
    """
    method = get_method(name, config, **options)
    return GuidedTraining(method, num_train=num_train, precision=precision)


@dataclass(frozen=True)
class MethodState:
    """What a training method keeps, as :attr:`GuidedTraining.state` reports it.

    Attributes
    ----------
    method
        The method's name.
    epoch
        The current epoch (1-based; the last one after :meth:`GuidedTraining.end_epoch`),
        0 before the first :meth:`GuidedTraining.start_epoch`.
    phase
        The label of the epoch: the method's name for traditional, SGT and SMOOT; HLGM's
        ``"traditional"``, ``"regularize"`` (top-k masked) or ``"denoise"`` (bottom-k masked).
    k
        Positions masked in every sample this epoch (traditional: 0, SGT: fixed, HLGM: by
        phase); ``None`` for SMOOT (see ``per_sample_k``) and before the first batch (the
        positions are counted from its shape).
    per_sample_k
        SMOOT: the mask size of every training sample, indexed by the sample's index (a CPU
        copy of ``num_train`` integers); ``None`` for the other methods.
    k_min, k_median, k_max
        Statistics of the masked positions over the training set (SMOOT Tables II-VI).
    num_positions
        ``H * W`` of the batches, known after the first batch.
    plateau_epoch
        HLGM: the last epoch of phase 1 once its plateau is found, else ``None``.

    Examples
    --------
    >>> from saliency_lib.api import create_method
    >>> create_method("hlgm").state
    MethodState(method='hlgm', epoch=0, phase='traditional', k=None, per_sample_k=None, k_min=0,
    k_median=0.0, k_max=0, num_positions=None, plateau_epoch=None)
    """

    method: str
    epoch: int
    phase: str
    k: int | None
    per_sample_k: torch.Tensor | None
    k_min: int
    k_median: float
    k_max: int
    num_positions: int | None
    plateau_epoch: int | None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MethodState):
            return NotImplemented
        for f in dataclasses.fields(self):
            a, b = getattr(self, f.name), getattr(other, f.name)
            same = (
                torch.equal(a, b)
                if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                else a == b
            )
            if not same:
                return False
        return True


class GuidedTraining:
    """A training method fed by your loop; built by :func:`create_method`.

    Per batch call :meth:`step` (one optimiser step) or :meth:`loss` (the loss only, you run
    the backward pass and the optimiser). Around each epoch call :meth:`start_epoch` and
    :meth:`end_epoch` (HLGM needs them; the others accept them and report the epoch). The
    first batch fixes the number of positions ``H * W`` and the device of the method's state.

    The numbers are those of the package's own trainer (:class:`saliency_lib.trainer.Trainer`)
    for the same model, optimiser, batches and seed: :meth:`step` is its training step, and
    :meth:`end_epoch` returns its history entry (without the timing).

    Examples
    --------
    HLGM in a plain loop, with held-out accuracy deciding the end of phase 1:

    >>> import torch
    >>> from torch import nn
    >>> from saliency_lib.api import accuracy, create_method
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 3))
    >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> x, y = torch.randn(48, 1, 8, 8), torch.randint(0, 3, (48,))
    >>> x_test, y_test = torch.randn(24, 1, 8, 8), torch.randint(0, 3, (24,))
    >>> method = create_method("hlgm", patience=1, monitor="test_acc", min_delta=100.0,
    ...                        episode_size=2)
    >>> phases = []
    >>> for epoch in range(4):
    ...     phases.append(method.start_epoch())
    ...     _ = model.train()
    ...     for start in range(0, 48, 16):
    ...         _ = method.step(model, optimizer, x[start:start + 16], y[start:start + 16])
    ...     entry = method.end_epoch(test_acc=accuracy(model, (x_test, y_test)))
    >>> phases
    ['traditional', 'traditional', 'regularize', 'denoise']
    >>> method.state.plateau_epoch, method.state.k  # k_bottom = 50 % of 64 positions
    (2, 32)
    """

    def __init__(
        self, method: TrainingMethod, num_train: int | None = None, precision: str = "fp32"
    ):
        if not isinstance(method, TrainingMethod):
            raise TypeError(
                f"GuidedTraining wraps a training method, got {type(method).__name__}; "
                "build one with create_method(name, **options)"
            )
        if method.name == "smoot" and num_train is None:
            raise ValueError(
                "create_method('smoot') needs num_train=: SMOOT keeps one mask size K per "
                "training sample (docs/methods.md §3.5); pass the training-set size, e.g. "
                "num_train=len(train_set)"
            )
        if num_train is not None and (
            isinstance(num_train, bool) or not isinstance(num_train, int) or num_train < 1
        ):
            raise ValueError(f"num_train must be a positive int, got {num_train!r}")
        Precision(precision)  # checks the name now, before any batch
        self._method = method
        self.name: str = method.name
        """The method's name."""
        self.num_train: int | None = num_train
        """The training-set size (SMOOT's ``K`` has one entry per sample)."""
        self.precision: str = precision
        """``"fp32"``, ``"bf16"`` or ``"fp16"``: how :meth:`step` computes."""
        self.needs_index: bool = method.name == "smoot"
        """Whether every batch needs ``idx`` (SMOOT)."""
        self.needs_epochs: bool = method.name == "hlgm"
        """Whether the batches must lie inside :meth:`start_epoch` / :meth:`end_epoch` (HLGM)."""
        self.needs_test_acc: bool = getattr(method.cfg, "monitor", None) == "test_acc"
        """Whether :meth:`end_epoch` needs ``test_acc`` (HLGM with ``monitor="test_acc"``)."""
        self.epoch: int = 0
        """The current epoch (the last one after :meth:`end_epoch`); 0 before the first."""
        self._in_epoch = False
        self._phase = method.phase
        self._positions: int | None = None
        self._precision: Precision | None = None  # built on the first batch (its device)
        self._reset_sums()

    # --------------------------------------------------------------------- introspection
    @property
    def options(self):
        """The method's options (its typed config, defaults completed)."""
        return self._method.cfg

    @property
    def method(self) -> TrainingMethod:
        """The underlying training method (``saliency_lib.methods``), for advanced use."""
        return self._method

    @property
    def state(self) -> MethodState:
        """The method's state now: epoch, phase, masked positions (SMOOT's per-sample ``K``),
        HLGM's plateau epoch (:class:`MethodState`)."""
        m = self._method
        ready = self._positions is not None
        per_sample = m.per_sample_k() if ready else None
        k: int | None = None
        if self.name == "traditional":
            k = 0
        elif ready and per_sample is None and hasattr(m, "k"):
            k = int(m.k)
        k_min, k_median, k_max = m.k_stats() if ready else (0, 0.0, 0)
        return MethodState(
            method=self.name,
            epoch=self.epoch,
            phase=self._phase,
            k=k,
            per_sample_k=per_sample,
            k_min=int(k_min),
            k_median=float(k_median),
            k_max=int(k_max),
            num_positions=self._positions,
            plateau_epoch=getattr(m, "plateau_epoch", None),
        )

    def __repr__(self) -> str:
        extra = f", num_train={self.num_train}" if self.num_train is not None else ""
        return f"GuidedTraining({self.name!r}{extra}, precision={self.precision!r})"

    # --------------------------------------------------------------------- epochs
    def start_epoch(self, epoch: int | None = None) -> str:
        """Begin an epoch (default: the one after the last); returns its phase label.

        HLGM chooses the epoch's phase and mask size here, from the plateau found by earlier
        :meth:`end_epoch` calls (docs/methods.md §3.6).

        Examples
        --------
        >>> from saliency_lib.api import create_method
        >>> method = create_method("sgt")
        >>> method.start_epoch()
        'sgt'
        >>> method.start_epoch()
        Traceback (most recent call last):
        ...
        RuntimeError: epoch 1 is still open: call end_epoch() after its batches, before
        start_epoch()
        """
        if self._in_epoch:
            raise RuntimeError(
                f"epoch {self.epoch} is still open: call end_epoch() after its batches, "
                "before start_epoch()"
            )
        if epoch is None:
            epoch = self.epoch + 1
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
            raise ValueError(f"epoch must be a positive int (1-based), got {epoch!r}")
        self.epoch = epoch
        self._in_epoch = True
        self._reset_sums()
        self._phase = self._method.start_epoch(epoch)
        return self._phase

    def end_epoch(self, test_acc: float | None = None, train_loss: float | None = None) -> dict:
        """End the epoch; returns its summary (the package trainer's history entry).

        Parameters
        ----------
        test_acc
            Held-out accuracy in % after the epoch. Required by HLGM with
            ``monitor="test_acc"`` (phase 1 ends when it stops improving); recorded otherwise.
        train_loss
            The epoch's training loss; default: the mean loss of the batches this object saw
            (weighted by batch size), which HLGM's default ``monitor="train_loss"`` reads.

        Returns
        -------
        dict
            ``epoch``, ``phase``, ``train_loss``, ``train_acc`` (% of the batches seen,
            clean logits), ``test_acc`` (``nan`` if not given), ``k_min``, ``k_median``,
            ``k_max``.

        Examples
        --------
        >>> from saliency_lib.api import create_method
        >>> method = create_method("hlgm", monitor="test_acc")
        >>> method.start_epoch()
        'traditional'
        >>> method.end_epoch()
        Traceback (most recent call last):
        ...
        ValueError: HLGM with monitor='test_acc' ends phase 1 when held-out accuracy stops
        improving: pass end_epoch(test_acc=<accuracy in %>)
        """
        if not self._in_epoch:
            raise RuntimeError(
                "no epoch is open: call start_epoch() before the epoch's batches, "
                "end_epoch() after them"
            )
        if self.needs_test_acc and test_acc is None:
            raise ValueError(
                "HLGM with monitor='test_acc' ends phase 1 when held-out accuracy stops "
                "improving: pass end_epoch(test_acc=<accuracy in %>)"
            )
        seen = self._seen
        if train_loss is None:
            if seen == 0 and self.needs_epochs:
                raise ValueError(
                    f"epoch {self.epoch} saw no batch: HLGM's phase 1 watches the training loss "
                    "of the batches fed to step() or loss(), or pass end_epoch(train_loss=...)"
                )
            train_loss = float(self._loss_sum) / seen if seen else math.nan
        metrics = {
            "epoch": self.epoch,
            "phase": self._phase,
            "train_loss": float(train_loss),
            "train_acc": 100.0 * int(self._correct) / seen if seen else math.nan,
            "test_acc": math.nan if test_acc is None else float(test_acc),
        }
        self._method.end_epoch(self.epoch, metrics)
        k_min, k_median, k_max = self._method.k_stats()
        metrics.update(k_min=k_min, k_median=k_median, k_max=k_max)
        self._in_epoch = False
        return metrics

    # --------------------------------------------------------------------- batches
    def loss(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, idx=None) -> BatchLoss:
        """The method's loss on a batch, for a loop that runs its own backward pass.

        Parameters
        ----------
        model
            Any ``nn.Module`` mapping ``x`` to ``(B, classes)`` logits, differentiable in ``x``;
            in train mode (the saliency pass switches to eval mode and back).
        x
            ``(B, C, H, W)`` float inputs (time series: ``(B, 1, T, F)``).
        y
            ``(B,)`` integer labels.
        idx
            ``(B,)`` indices of the batch's samples in the training set (``0 .. num_train-1``);
            required by SMOOT, ignored by the others.

        Returns
        -------
        BatchLoss
            ``loss`` (a scalar to back-propagate: cross-entropy, plus ``lambda`` times the KL
            term for the masking methods) and ``logits`` (the clean pass's).

        Examples
        --------
        >>> import torch
        >>> from torch import nn
        >>> from saliency_lib.api import create_method
        >>> _ = torch.manual_seed(0)
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(2 * 6 * 5, 4))
        >>> x, y = torch.randn(10, 2, 6, 5), torch.randint(0, 4, (10,))
        >>> method = create_method("smoot", num_train=100)
        >>> out = method.loss(model, x, y, idx=torch.arange(10, 20))
        >>> out.loss.backward()
        >>> out.logits.shape
        torch.Size([10, 4])
        >>> method.state.per_sample_k.shape, method.state.num_positions
        (torch.Size([100]), 30)
        >>> method.loss(model, x, y)
        Traceback (most recent call last):
        ...
        ValueError: SMOOT needs idx=: the indices (0 .. num_train - 1) of the batch's
        samples in the training set, so that each sample keeps its own mask size K across
        epochs (docs/methods.md §3.5); have your Dataset return (x, y, index)
        """
        idx = self._prepare(model, x, y, idx)
        try:
            out = self._method.loss(model, x, y, idx)
        except RuntimeError as e:
            if _no_input_gradient(e):
                raise self._gradient_error(e) from e
            raise
        self._add(out, y)
        return out

    def step(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        x: torch.Tensor,
        y: torch.Tensor,
        idx=None,
    ) -> BatchLoss:
        """One optimiser step of the method on a batch (zero grad, loss, backward, step).

        The package trainer's step (:func:`saliency_lib.trainer.train_step`): the backward
        pass computes the parameters' gradients only, under ``precision``'s autocast and
        gradient scaler. Arguments as :meth:`loss`, plus the ``optimizer`` of ``model``'s
        parameters.

        Examples
        --------
        >>> import torch
        >>> from torch import nn
        >>> from saliency_lib.api import create_method
        >>> _ = torch.manual_seed(0)
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(50, 2))  # a (B, 1, 10, 5) time series
        >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        >>> x, y = torch.randn(8, 1, 10, 5), torch.randint(0, 2, (8,))
        >>> method = create_method("sgt", k_fraction=0.2, fill="uniform_feature",
        ...                        precision="bf16")
        >>> out = method.step(model, optimizer, x, y)
        >>> out.loss.dtype, method.state.k  # 20 % of 10 x 5 cells
        (torch.float32, 10)
        """
        idx = self._prepare(model, x, y, idx)
        try:
            out = train_step(model, self._method, optimizer, x, y, idx, self._precision)
        except RuntimeError as e:
            if _no_input_gradient(e):
                raise self._gradient_error(e) from e
            raise
        self._add(out, y)
        return out

    # --------------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: the method's state (SMOOT's ``K``, HLGM's plateau
        search), the epoch counter and the open epoch's running sums, the fp16 scaler.

        Examples
        --------
        >>> import torch
        >>> from torch import nn
        >>> from saliency_lib.api import create_method
        >>> model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
        >>> a = create_method("smoot", num_train=8)
        >>> _ = a.loss(model, torch.randn(8, 1, 4, 4), torch.randint(0, 2, (8,)), torch.arange(8))
        >>> b = create_method("smoot", num_train=8)
        >>> b.load_state_dict(a.state_dict())
        >>> torch.equal(a.state.per_sample_k, b.state.per_sample_k)
        True
        """
        return {
            "method": self.name,
            "options": dataclasses.asdict(self._method.cfg),
            "num_train": self.num_train,
            "num_positions": self._positions,
            "epoch": self.epoch,
            "in_epoch": self._in_epoch,
            "phase": self._phase,
            # the last epoch's mask size: HLGM sets it at start_epoch, its own state omits it
            "k": int(self._method.k) if isinstance(getattr(self._method, "k", None), int) else None,
            "sums": [float(self._loss_sum), int(self._correct), self._seen],
            # before the first batch nothing is set up (SMOOT's K needs H * W)
            "method_state": self._method.state_dict() if self._positions is not None else {},
            "precision": {} if self._precision is None else self._precision.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (into a method built with the same name,
        options and ``num_train``); see :meth:`state_dict` for an example."""
        if state.get("method") != self.name:
            raise ValueError(
                f"this state is of training method {state.get('method')!r}, not {self.name!r}"
            )
        if state.get("options") != dataclasses.asdict(self._method.cfg):
            raise ValueError(
                f"this state was saved with other {self.name} options: {state.get('options')}"
            )
        if state.get("num_train") != self.num_train:
            raise ValueError(
                f"this state was saved with num_train={state.get('num_train')}, "
                f"not {self.num_train}"
            )
        positions = state.get("num_positions")
        if positions is not None:
            if self._positions is None:
                self._setup(positions, torch.device("cpu"))  # the state follows the batches
            elif positions != self._positions:
                raise ValueError(
                    f"this state counts {positions} positions per sample, the batches here "
                    f"{self._positions}"
                )
            self._method.load_state_dict(state["method_state"])
            self._precision.load_state_dict(state.get("precision") or {})
        self.epoch = int(state["epoch"])
        self._in_epoch = bool(state["in_epoch"])
        self._phase = self._method.phase = state["phase"]
        if state.get("k") is not None:
            self._method.k = int(state["k"])
        if self._in_epoch:
            self._method.start_epoch(self.epoch)  # HLGM: the open epoch's phase and k
        loss_sum, correct, seen = state["sums"]
        self._loss_sum = torch.tensor(loss_sum, dtype=torch.float64)
        self._correct = torch.tensor(correct, dtype=torch.int64)
        self._seen = int(seen)

    # --------------------------------------------------------------------- internals
    def _reset_sums(self) -> None:
        self._loss_sum = torch.zeros((), dtype=torch.float64)
        self._correct = torch.zeros((), dtype=torch.int64)
        self._seen = 0

    def _add(self, out: BatchLoss, y: torch.Tensor) -> None:
        # summed on the device, read at end_epoch (as the trainer: no wait at every step)
        self._loss_sum = self._loss_sum.to(out.loss.device) + out.loss.detach().double() * len(y)
        self._correct = self._correct.to(y.device) + (out.logits.detach().argmax(1) == y).sum()
        self._seen += len(y)

    def _setup(self, positions: int, device: torch.device) -> None:
        self._method.setup(self.num_train or 0, positions, 0, device)  # num_classes: unused
        self._positions = positions
        self._precision = Precision(self.precision, device)
        if self._in_epoch:  # an epoch started before the first batch: its k needs H * W
            self._method.start_epoch(self.epoch)

    def _prepare(self, model, x, y, idx) -> torch.Tensor | None:
        """Check the batch (shape-only, before any work), set up on the first batch, move the
        method's state to the batch's device; returns ``idx`` as a tensor on that device."""
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or not x.is_floating_point():
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            dtype = f" {x.dtype}" if isinstance(x, torch.Tensor) else ""
            raise ValueError(
                "x must be a float tensor (B, C, H, W): images, or time series as (B, 1, T, F) "
                f"(saliency and masking act on the H x W positions); got{dtype} {shape}"
            )
        b = x.shape[0]
        if not isinstance(y, torch.Tensor) or y.shape != (b,) or y.is_floating_point():
            shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise ValueError(f"y must be ({b},) integer class labels, one per sample; got {shape}")
        if self.needs_epochs and not self._in_epoch:
            raise RuntimeError(
                "HLGM's schedule runs on epochs: call start_epoch() before each epoch's batches "
                "and end_epoch(...) after them (docs/methods.md §3.6)"
            )
        if self.needs_index:
            if idx is None:
                raise ValueError(
                    "SMOOT needs idx=: the indices (0 .. num_train - 1) of the batch's samples in "
                    "the training set, so that each sample keeps its own mask size K across "
                    "epochs (docs/methods.md §3.5); have your Dataset return (x, y, index)"
                )
            idx = torch.as_tensor(idx)
            if idx.shape != (b,) or idx.is_floating_point() or idx.dtype == torch.bool:
                raise ValueError(
                    f"idx must be ({b},) integer sample indices, got {idx.dtype} {tuple(idx.shape)}"
                )
            lo, hi = int(idx.min()), int(idx.max())
            if lo < 0 or hi >= self.num_train:
                bad = lo if lo < 0 else hi
                raise ValueError(
                    f"idx holds {bad}, outside 0 .. {self.num_train - 1} "
                    f"(num_train={self.num_train}): indices count the training samples"
                )
            idx = idx.to(device=x.device, dtype=torch.int64)
        positions = x.shape[2] * x.shape[3]
        if self._positions is None:
            if self.name != "traditional":
                self._check_input_gradient(model, x, y)
            self._setup(positions, x.device)
        elif positions != self._positions:
            raise ValueError(
                f"{self.name} was set up for {self._positions} positions (H x W of the first "
                f"batch); this batch {tuple(x.shape)} has {positions}: all batches must share "
                "H and W"
            )
        k = getattr(self._method, "K", None)  # SMOOT's per-sample K follows the batches
        if isinstance(k, torch.Tensor) and k.device != x.device:
            self._method.K = k.to(x.device)
        if self._precision is not None and self._precision.device_type != x.device.type:
            state = self._precision.state_dict()
            self._precision = Precision(self.precision, x.device)
            self._precision.load_state_dict(state)
        return idx

    def _check_input_gradient(self, model, x, y) -> None:
        """The masking methods sort the input gradient (docs/methods.md §3.1): compute it on
        one sample of the first batch, so a model without one fails now, not in HLGM's
        phase 2."""
        cfg = self._method.cfg
        try:
            training_saliency(model, x[:1], y[:1], cfg.saliency_output, cfg.saliency_abs)
        except RuntimeError as e:
            if _no_input_gradient(e):
                raise self._gradient_error(e) from e
            raise

    def _gradient_error(self, error: RuntimeError) -> ValueError:
        return ValueError(
            f"{self.name} masks inputs by their gradient (docs/methods.md §3.1), and the "
            "model's output has no gradient with respect to its input: the forward pass must "
            "be differentiable in x (no .detach(), torch.no_grad() or integer casts of the "
            f"input); torch said: {str(error).splitlines()[0]}"
        )


def _no_input_gradient(error: RuntimeError) -> bool:
    return any(s in str(error) for s in _NO_INPUT_GRADIENT)
