"""The training-method interface and the saliency-guided loss shared by SGT, SMOOT and HLGM.

A training method is a small object the single :class:`~saliency_lib.trainer.Trainer` calls:
``setup`` once, ``start_epoch``/``end_epoch`` around each epoch (HLGM's schedule lives there) and
``loss`` once per batch. Its state (SMOOT's K, HLGM's phase) is saved whole in every checkpoint.
What it may tell the run store (:mod:`saliency_lib.runs`) is declared here with defaults:
extra snapshots of the training state (:meth:`TrainingMethod.snapshots`), facts recorded in the
run's record (:meth:`TrainingMethod.record`) and where a continuation of a finished run starts
(:meth:`TrainingMethod.continuation_start`); the run store names and writes the files.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .._validation import check_choice, check_types
from ..masking import FILLS, mask
from ..saliency import OUTPUTS, gradient_from_logits, reduce_channels, training_saliency


class BatchLoss(NamedTuple):
    loss: torch.Tensor  # scalar to back-propagate
    logits: torch.Tensor  # clean logits (train mode), for the running train accuracy


@dataclass
class SaliencyGuidedConfig:
    """Options shared by every masked-input method (docs/methods.md §3.1, §3.2, §3.4)."""

    lambda_kl: float = 1.0  # weight of KL(clean || masked); SGT Alg. 1, lambda = 1
    fill: str = "uniform"  # docs/methods.md §3.2; SGT: U(min, max) of the sample's channel
    fill_value: float | None = None  # for fill="constant"
    saliency_output: str = "log_prob"  # log_prob (SGT reference) | logit
    saliency_abs: bool = False  # signed by default, as the reference code
    saliency_mode: str = "eval"  # eval (reference: separate eval-mode pass) | fused
    share_prefix: bool = True  # eval mode: reuse the clean pass's mode-invariant layers (exact)

    def __post_init__(self):
        check_types(self)
        check_choice("fill", self.fill, FILLS)
        check_choice("saliency_output", self.saliency_output, OUTPUTS)
        check_choice("saliency_mode", self.saliency_mode, ("eval", "fused"))
        if self.fill == "noisy_linear":
            raise ValueError("fill='noisy_linear' is an evaluation fill (slow); not for training")


def kl_clean_to_masked(clean_logits: torch.Tensor, masked_logits: torch.Tensor) -> torch.Tensor:
    """KL(softmax clean || softmax masked), batch-mean (SGT Alg. 1; docs/methods.md §6):
    ``KLDivLoss(log_target=True, reduction="batchmean")(log_softmax(masked), log_softmax(clean))``.
    Neither side is detached; taken in float32 (a no-op for float32 logits, e.g. under autocast
    the logits are bfloat16)."""
    return F.kl_div(
        F.log_softmax(masked_logits.float(), dim=1),
        F.log_softmax(clean_logits.float(), dim=1),
        reduction="batchmean",
        log_target=True,
    )


class MaskedPair(NamedTuple):
    clean_logits: torch.Tensor
    masked_logits: torch.Tensor
    x_masked: torch.Tensor  # the masked input (detached), for methods that look at it again


def masked_forward(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    k: int | torch.Tensor,
    which: str,
    cfg: SaliencyGuidedConfig,
) -> MaskedPair:
    """Clean pass, saliency (docs/methods.md §3.1), mask ``k`` positions (§3.2), masked pass.

    ``eval`` mode: the input gradient of the eval-mode model; both loss passes in train mode.
    When the model exposes ``mode_invariant_split()`` (layers before its first Dropout/BatchNorm)
    and ``cfg.share_prefix``, the eval-mode gradient reuses the clean pass's prefix activations:
    the same numbers as a separate eval pass, without recomputing the prefix.
    ``fused`` mode: the gradient of the train-mode clean pass itself.
    """
    split = getattr(model, "mode_invariant_split", None)
    if cfg.saliency_mode == "fused" or (cfg.share_prefix and split is not None):
        x_in = x.detach().requires_grad_(True)
        if cfg.saliency_mode == "fused":
            clean = model(x_in)
            saliency_logits = clean
        else:
            prefix, rest = split()
            hidden = prefix(x_in)
            clean = rest(hidden)
            was_training = rest.training
            rest.eval()
            try:
                saliency_logits = rest(hidden)
            finally:
                rest.train(was_training)
        grad = gradient_from_logits(
            saliency_logits, x_in, y, cfg.saliency_output, retain_graph=True
        )
        scores = reduce_channels(grad, abs=cfg.saliency_abs)
    else:
        clean = model(x)
        scores = training_saliency(model, x, y, cfg.saliency_output, cfg.saliency_abs)
    x_masked = mask(x, scores, k, which, cfg.fill, cfg.fill_value)
    return MaskedPair(clean, model(x_masked), x_masked)


def saliency_guided_loss(pair: MaskedPair, y: torch.Tensor, lambda_kl: float) -> torch.Tensor:
    """SGT Alg. 1 line 6, docs/methods.md §3.4: ``CE(f(x), y) + lambda * KL(f(x) || f(x̃))``,
    in float32."""
    return F.cross_entropy(pair.clean_logits.float(), y) + lambda_kl * kl_clean_to_masked(
        pair.clean_logits, pair.masked_logits
    )


def positions_from_fraction(fraction: float, num_positions: int) -> int:
    """``round(fraction * H*W)``: k as a pixel-position count (e.g. 0.5 * 784 = 392)."""
    return int(round(fraction * num_positions))


@dataclass
class NoOptions:
    """The options of a method that has none (traditional training)."""


class Continuation(NamedTuple):
    """Where a run continuing a finished run starts: the training state the method kept as
    snapshot ``snapshot`` (:meth:`TrainingMethod.snapshots`; ``None``: the run's final state),
    which holds epoch ``epoch``."""

    snapshot: str | None
    epoch: int


class TrainingMethod:
    """Base class: cross-entropy only, no state. Subclasses override what they change.

    Built from its typed options (``cfg``, an instance of ``Config``) or from keyword options,
    which are checked and turned into ``Config`` (:func:`build_config`)."""

    name = "base"
    Config: type = NoOptions  # the dataclass of this method's options

    def __init__(self, cfg: Any = None, **params):
        if cfg is not None and params:
            raise TypeError(f"{self.name}: give the options as a config or as keywords, not both")
        self.cfg = build_config(self.Config, self.name, params if cfg is None else cfg)
        self.num_positions = 0
        self.phase = self.name

    # --- lifecycle -------------------------------------------------------------------------
    def setup(self, num_train: int, num_positions: int, num_classes: int, device) -> None:
        """Called once before training with the training-set size and H*W."""
        self.num_positions = num_positions

    def start_epoch(self, epoch: int) -> str:
        """Called before each epoch (1-based); returns the phase label recorded in the history."""
        return self.phase

    def loss(self, model: nn.Module, x, y, idx) -> BatchLoss:
        raise NotImplementedError

    def end_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        """Called after each epoch with its train/test metrics (HLGM watches them)."""

    # --- what the history records ------------------------------------------------------------
    def k_stats(self) -> tuple[int, float, int]:
        """(min, median, max) of the number of masked positions in the current epoch."""
        return (0, 0.0, 0)

    def per_sample_k(self) -> torch.Tensor | None:
        return None

    # --- checkpointing -------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass

    # --- what the run store keeps ----------------------------------------------------------------
    def snapshots(self) -> dict[str, int]:
        """Whole training states to keep besides the latest, ``{label: epoch}``: the run store
        keeps the state at the end of that epoch under ``label`` (HLGM: ``"phase1"`` at its
        plateau epoch, once found). Default: none."""
        return {}

    def record(self) -> dict[str, Any]:
        """Facts about this training the run store records with the finished run (plain JSON
        values, read back by :meth:`continuation_start`; HLGM: ``plateau_epoch``). Default:
        none."""
        return {}

    def continuation_start(self, record: dict[str, Any], last_epoch: int) -> Continuation | None:
        """Where a run continuing a finished run of this method starts, from what :meth:`record`
        recorded and the run's last epoch; ``None`` (the default): its runs have no
        continuation."""
        return None


def build_config(cls, method_name: str, params: Any):
    """``params`` (a mapping of options, or already an instance of ``cls``) as ``cls``, with an
    error naming the method, the unknown options and the valid ones."""
    if isinstance(params, cls):
        return params
    if dataclasses.is_dataclass(params):
        raise TypeError(
            f"training method {method_name!r} takes {cls.__name__} options, "
            f"got {type(params).__name__}"
        )
    if not isinstance(params, dict):
        raise TypeError(
            f"the options of training method {method_name!r} must be a mapping, "
            f"got {params!r} ({type(params).__name__})"
        )
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise KeyError(
            f"unknown option(s) {unknown} for training method {method_name!r}; "
            f"valid options are: {', '.join(names)}"
        )
    return cls(**params)
