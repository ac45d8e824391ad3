"""The single training loop every method runs on ("a plain loop you can read top to
bottom"). The method supplies the per-batch loss and its epoch hooks; the trainer does the rest."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import IO

import torch
from torch import nn
from tqdm.auto import tqdm

from .methods.base import BatchLoss, TrainingMethod
from .progress import INTERVAL, ProgressLog

#: The optimizers a run may use (``RunConfig.optimizer``), name -> builder
#: ``(params, lr, momentum, weight_decay)``: the one list (config and validation read it).
OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    # the SGT reference code and the papers' CNN (docs/methods.md §6)
    "adadelta": lambda p, lr, momentum, wd: torch.optim.Adadelta(p, lr=lr, weight_decay=wd),
    # HLGM's ResNet-18 (docs/methods.md §3.6)
    "sgd": lambda p, lr, momentum, wd: torch.optim.SGD(
        p, lr=lr, momentum=momentum, weight_decay=wd
    ),
    "adam": lambda p, lr, momentum, wd: torch.optim.Adam(p, lr=lr, weight_decay=wd),
}


def make_optimizer(
    name: str, params: Iterable, lr: float, momentum: float = 0.0, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """The optimizer ``name`` of :data:`OPTIMIZERS` over ``params`` (``momentum``: SGD only)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")
    return OPTIMIZERS[name](params, lr, momentum, weight_decay)


class TrainingDiverged(FloatingPointError):
    """An epoch ended with a non-finite training loss or non-finite weights: the run diverged
    and must not be kept as trained (``epoch``, ``loss``: where and what)."""

    def __init__(self, message: str, epoch: int, loss: float):
        super().__init__(message)
        self.epoch = epoch
        self.loss = loss


def check_finite(model: nn.Module, entry: dict) -> None:
    """:class:`TrainingDiverged` when epoch ``entry``'s training loss or any weight of ``model``
    is NaN or infinite (one reduction per parameter tensor per epoch)."""
    loss = entry["train_loss"]
    weights_ok = all(bool(torch.isfinite(p).all()) for p in model.parameters())
    if not math.isfinite(loss) or not weights_ok:
        what = (
            f"the training loss is {loss}" if not math.isfinite(loss) else "a weight is not finite"
        )
        raise TrainingDiverged(f"{what} at epoch {entry['epoch']}", entry["epoch"], loss)


@torch.no_grad()
def evaluate_accuracy(model: nn.Module, batches: Iterable) -> float:
    """Top-1 accuracy in % over ``(x, y, ...)`` batches, model in eval mode (state restored)."""
    was_training = model.training
    model.eval()
    correct, total = torch.zeros((), dtype=torch.int64), 0
    for batch in batches:
        x, y = batch[0], batch[1]
        correct = correct.to(y.device) + (model(x).argmax(1) == y).sum()  # read once, at the end
        total += len(y)
    model.train(was_training)
    return 100.0 * int(correct) / max(total, 1)


def stop_reached(entry: dict, stop_at_acc: float | None) -> bool:
    """Whether an epoch's history ``entry`` meets the stopping rule: its train or test accuracy
    (%) reaches ``stop_at_acc`` (``None``: never; a test accuracy not measured that epoch does
    not count). The time-series benchmark's rule with 99."""
    if stop_at_acc is None:
        return False
    test = entry.get("test_acc")
    return entry["train_acc"] >= stop_at_acc or (test is not None and test >= stop_at_acc)


#: When the test split is evaluated (``RunConfig.test_eval``): after every epoch (the history's
#: per-epoch accuracy, the best epoch) or after the last one only.
TEST_EVALS = ("every_epoch", "final_epoch")

_AUTOCAST_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class Precision:
    """How a training step computes: ``"fp32"`` (plain float32, the default), ``"bf16"`` or
    ``"fp16"`` (the method's forward passes, saliency gradients included, under
    ``torch.autocast(device_type, dtype)``; parameters, optimiser state and the data stay
    float32). ``fp16`` scales the loss with a ``torch.amp.GradScaler`` (its state is part of a
    checkpoint: :meth:`state_dict`)."""

    def __init__(self, precision: str = "fp32", device: str | torch.device = "cpu"):
        if precision not in _AUTOCAST_DTYPES:
            raise ValueError(
                f"precision must be one of {tuple(_AUTOCAST_DTYPES)}, got {precision!r}"
            )
        self.name = precision
        self.device_type = torch.device(device).type
        self.dtype = _AUTOCAST_DTYPES[precision]
        self.scaler = torch.amp.GradScaler(self.device_type) if precision == "fp16" else None

    def autocast(self):
        """The context the forward passes run in (nothing at all for fp32)."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def state_dict(self) -> dict:
        return {} if self.scaler is None else {"scaler": self.scaler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])

    def __repr__(self) -> str:
        return f"Precision({self.name!r}, device_type={self.device_type!r})"


def train_step(
    model: nn.Module,
    method: TrainingMethod,
    optimizer: torch.optim.Optimizer,
    x,
    y,
    idx,
    precision: Precision | None = None,
) -> BatchLoss:
    """One optimiser step of ``method`` on a batch; returns the method's :class:`BatchLoss`.

    The backward pass asks only for the parameters' gradients: the saliency methods' input
    ``x`` requires grad (input gradient, docs/methods.md §3.1); a plain ``loss.backward()`` would
    also compute the loss's gradient with respect to it, which nothing uses (same numbers).
    ``precision`` (default float32): the method's loss runs under its autocast; the backward
    pass outside it, scaled by its GradScaler for fp16."""
    optimizer.zero_grad(set_to_none=True)
    scaler = None if precision is None else precision.scaler
    with contextlib.nullcontext() if precision is None else precision.autocast():
        out = method.loss(model, x, y, idx)
    params = [p for p in model.parameters() if p.requires_grad]
    if scaler is None:
        torch.autograd.backward(out.loss, inputs=params)
        optimizer.step()
    else:
        torch.autograd.backward(scaler.scale(out.loss), inputs=params)
        scaler.step(optimizer)  # skipped when a gradient is inf/nan; the scale then shrinks
        scaler.update()
    return out


class Trainer:
    """Runs ``method`` on ``model``: one optimiser step per batch, the test split evaluated
    after each epoch (``test_eval="every_epoch"``) or after the last one (``"final_epoch"``)."""

    def __init__(
        self,
        model: nn.Module,
        method: TrainingMethod,
        optimizer: torch.optim.Optimizer,
        train_loader,
        test_loader,
        progress: bool = True,
        precision: Precision | None = None,
        test_eval: str = "every_epoch",
    ):
        if test_eval not in TEST_EVALS:
            raise ValueError(f"test_eval must be one of {TEST_EVALS}, got {test_eval!r}")
        self.model = model
        self.method = method
        self.optimizer = optimizer
        self.train_loader = train_loader
        self.test_loader = test_loader
        self.progress = progress
        self.precision = precision  # None: float32 (training steps only; evaluation is fp32)
        self.test_eval = test_eval

    def train_epoch(
        self,
        epoch: int,
        bar=None,
        on_batch: Callable[[int, int], None] | None = None,
        evaluate: bool = True,
    ) -> dict:
        """One epoch; returns the history entry (loss, accuracies, phase, K, seconds).
        ``bar`` (a tqdm bar over all steps of the run) is advanced once per batch;
        ``on_batch(batch, batches)`` runs after each batch (1-based; the progress lines);
        ``evaluate=False``: no test pass, the entry's ``test_acc`` is ``None``."""
        start = time.perf_counter()
        phase = self.method.start_epoch(epoch)
        if bar is not None:
            bar.set_description(f"{self.method.name} epoch {epoch} [{phase}]")
        self.model.train()
        # summed on the device and read once per epoch: no wait for the GPU at every step
        loss_sum, correct = torch.zeros((), dtype=torch.float64), torch.zeros((), dtype=torch.int64)
        seen = 0
        n_batches = len(self.train_loader)
        for b, (x, y, idx) in enumerate(self.train_loader.batches(epoch), 1):
            out = train_step(self.model, self.method, self.optimizer, x, y, idx, self.precision)
            loss_sum = loss_sum.to(out.loss.device) + out.loss.detach().double() * len(y)
            correct = correct.to(y.device) + (out.logits.detach().argmax(1) == y).sum()
            seen += len(y)
            if bar is not None:
                bar.update(1)
            if on_batch is not None:
                on_batch(b, n_batches)
        metrics = {
            "epoch": epoch,
            "phase": phase,
            "train_loss": float(loss_sum) / seen,
            "train_acc": 100.0 * int(correct) / seen,
            "test_acc": evaluate_accuracy(self.model, self.test_loader.batches(0))
            if evaluate
            else None,
        }
        self.method.end_epoch(epoch, metrics)
        k_min, k_median, k_max = self.method.k_stats()
        metrics.update(k_min=k_min, k_median=k_median, k_max=k_max)
        metrics["seconds"] = time.perf_counter() - start
        return metrics

    def fit(
        self,
        epochs: int,
        start_epoch: int = 1,
        on_epoch_end: Callable[[dict], None] | None = None,
        progress_interval: float = INTERVAL,
        progress_file: IO[str] | None = None,
        stop_at_acc: float | None = None,
    ) -> list[dict]:
        """Train epochs ``start_epoch..epochs``; ``on_epoch_end(entry)`` runs after each one (the
        run store checkpoints there); an epoch whose loss or weights are not finite raises
        :class:`TrainingDiverged` before it (nothing of it is kept). ``stop_at_acc``: stop after
        the first epoch that meets :func:`stop_reached`. With ``progress``: one tqdm bar over all
        steps of the run, and a line (:mod:`saliency_lib.progress`) at most every
        ``progress_interval`` seconds, to ``progress_file`` (default stdout): after an epoch its
        loss, train and test accuracy,
        within a long epoch the batch reached; each with the time elapsed and the ETA. The
        last epoch's line is always printed."""
        history = []
        steps = len(self.train_loader) * max(epochs - start_epoch + 1, 0)
        log = ProgressLog(
            f"train {self.method.name}",
            steps,
            enabled=self.progress,
            interval=progress_interval,
            file=progress_file,
        )
        has_test = len(self.test_loader) > 0

        def heartbeat(epoch: int, batch: int, batches: int) -> None:
            log.advance()
            if log.due():
                log.say(f"epoch {epoch}/{epochs}, batch {batch}/{batches}")

        bar = tqdm(total=steps, disable=not self.progress, unit="step", mininterval=2.0, delay=2.0)
        with bar:
            for epoch in range(start_epoch, epochs + 1):
                evaluate = self.test_eval == "every_epoch" or epoch == epochs
                entry = self.train_epoch(epoch, bar, partial(heartbeat, epoch), evaluate)
                check_finite(self.model, entry)
                history.append(entry)
                tested = has_test and entry["test_acc"] is not None
                postfix = {"loss": f"{entry['train_loss']:.3f}"}
                if entry["test_acc"] is not None:
                    postfix["test"] = f"{entry['test_acc']:.2f}"
                bar.set_postfix(postfix)
                stop = stop_reached(entry, stop_at_acc)
                if log.due() or epoch == epochs or stop:
                    text = (
                        f"epoch {epoch}/{epochs} [{entry['phase']}] loss {entry['train_loss']:.4f}"
                        f", train acc {entry['train_acc']:.2f} %"
                    )
                    if tested:
                        text += f", test acc {entry['test_acc']:.2f} %"
                    if stop:
                        text += f" (stop: accuracy reached {stop_at_acc:g} %)"
                    log.say(text)
                if on_epoch_end is not None:
                    on_epoch_end(entry)
                if stop:
                    break
        return history
