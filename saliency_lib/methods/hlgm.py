"""HLGM: traditional phase, then regularize (top-k) / denoise (bottom-k) episodes
(HLGM paper Alg. 2; docs/methods.md §3.6)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch.nn.functional as F

from .._validation import check_choice
from .base import (
    BatchLoss,
    Continuation,
    SaliencyGuidedConfig,
    TrainingMethod,
    masked_forward,
    positions_from_fraction,
    saliency_guided_loss,
)

TRADITIONAL, REGULARIZE, DENOISE = "traditional", "regularize", "denoise"
#: The snapshot of HLGM's whole training state at its plateau epoch (the run store keeps it):
#: the traditional continuation baseline starts there (docs/methods.md §3.6).
PHASE1 = "phase1"


@dataclass
class HLGMConfig(SaliencyGuidedConfig):
    patience: int = 20  # phase 1 ends after this many epochs without improvement (paper: 20)
    monitor: str = "train_loss"  # train_loss (Alg. 2) | test_acc (the text)
    min_delta: float = 0.0  # an improvement must exceed this
    episode_size: int = 5  # S_e
    k_top_start: float = 0.2  # k_t: share of positions masked at the top, first regularize epoch
    k_top_step: float = 0.02  # alpha_t: k_t drops by 2 percentage points per regularize epoch
    k_bottom: float = 0.5  # k_b: share masked at the bottom in denoise epochs
    decrement_first: bool = False  # hlgm_decrement_first: Alg. 2 decrements k_t before masking

    def __post_init__(self):
        super().__post_init__()
        check_choice("monitor", self.monitor, ("train_loss", "test_acc"))
        if self.episode_size < 1 or self.patience < 1:
            raise ValueError("episode_size and patience must be >= 1")


def phase2_schedule(
    num_epochs: int,
    episode_size: int = 5,
    k_top_start: float = 0.2,
    k_top_step: float = 0.02,
    k_bottom: float = 0.5,
    decrement_first: bool = False,
) -> list[tuple[str, float]]:
    """(phase, masked share) for each phase-2 epoch (docs/methods.md §3.6).

    Episode ``j`` (0-based) has ``de = min(j + 1, S_e)`` denoise epochs at its end and
    ``S_e - de`` regularize epochs before them. ``k_t`` drops by ``k_top_step`` after each
    regularize epoch (before it with ``decrement_first``) and never below 0.
    """
    schedule: list[tuple[str, float]] = []
    k_top = k_top_start
    episode = 0
    while len(schedule) < num_epochs:
        denoise = min(episode + 1, episode_size)
        for step in range(episode_size):
            if len(schedule) == num_epochs:
                break
            if step < episode_size - denoise:
                if decrement_first:
                    k_top = max(k_top - k_top_step, 0.0)
                schedule.append((REGULARIZE, round(k_top, 10)))
                if not decrement_first:
                    k_top = max(k_top - k_top_step, 0.0)
            else:
                schedule.append((DENOISE, k_bottom))
        episode += 1
    return schedule


def hlgm_schedule(
    plateau_epoch: int, total_epochs: int, **phase2_options
) -> list[tuple[str, float]]:
    """Whole-run schedule, epochs 1..total: traditional up to ``plateau_epoch`` (the last phase-1
    epoch), then :func:`phase2_schedule`."""
    n1 = min(plateau_epoch, total_epochs)
    return [(TRADITIONAL, 0.0)] * n1 + phase2_schedule(total_epochs - n1, **phase2_options)


class HLGM(TrainingMethod):
    name = "hlgm"
    Config = HLGMConfig

    def __init__(self, cfg=None, **params):
        super().__init__(cfg, **params)
        self.phase = TRADITIONAL
        self.plateau_epoch: int | None = None  # last phase-1 epoch, once the plateau is found
        self.best = math.nan
        self.since_best = 0
        self.k_share = 0.0

    def _phase2_options(self) -> dict:
        c = self.cfg
        return dict(
            episode_size=c.episode_size,
            k_top_start=c.k_top_start,
            k_top_step=c.k_top_step,
            k_bottom=c.k_bottom,
            decrement_first=c.decrement_first,
        )

    def start_epoch(self, epoch):
        if self.plateau_epoch is None:
            self.phase, self.k_share = TRADITIONAL, 0.0
        else:
            offset = epoch - self.plateau_epoch  # 1 for the first phase-2 epoch
            self.phase, self.k_share = phase2_schedule(offset, **self._phase2_options())[-1]
        self.k = positions_from_fraction(self.k_share, self.num_positions)
        return self.phase

    def loss(self, model, x, y, idx) -> BatchLoss:
        if self.phase == TRADITIONAL:
            logits = model(x)
            return BatchLoss(F.cross_entropy(logits.float(), y), logits)
        which = "top" if self.phase == REGULARIZE else "bottom"
        pair = masked_forward(model, x, y, self.k, which, self.cfg)
        return BatchLoss(saliency_guided_loss(pair, y, self.cfg.lambda_kl), pair.clean_logits)

    def end_epoch(self, epoch, metrics):
        """Phase-1 patience on the monitored quantity (Alg. 2: "loss does not improve in last 20
        epochs")."""
        if self.plateau_epoch is not None:
            return
        value = metrics[self.cfg.monitor]
        sign = -1.0 if self.cfg.monitor == "train_loss" else 1.0
        if math.isnan(self.best) or sign * (value - self.best) > self.cfg.min_delta:
            self.best, self.since_best = value, 0
        else:
            self.since_best += 1
        if self.since_best >= self.cfg.patience:
            self.plateau_epoch = epoch

    def snapshots(self) -> dict[str, int]:
        """The whole state at the plateau epoch (:data:`PHASE1`), once the plateau is found."""
        return {} if self.plateau_epoch is None else {PHASE1: self.plateau_epoch}

    def record(self) -> dict:
        """``plateau_epoch``: the last phase-1 epoch (``None``: phase 1 never ended)."""
        return {"plateau_epoch": self.plateau_epoch}

    def continuation_start(self, record: dict, last_epoch: int) -> Continuation:
        """The traditional continuation of a finished HLGM run starts from the :data:`PHASE1`
        snapshot at the recorded plateau epoch, or from the final state when HLGM never left
        phase 1 (every epoch was traditional: nothing is left to continue). Read from the
        record, never from which files exist."""
        plateau = record.get("plateau_epoch")
        if plateau is None:
            return Continuation(None, int(last_epoch))
        return Continuation(PHASE1, int(plateau))

    def k_stats(self):
        return (self.k, float(self.k), self.k)

    def state_dict(self):
        return {
            "plateau_epoch": -1 if self.plateau_epoch is None else self.plateau_epoch,
            "best": self.best,
            "since_best": self.since_best,
        }

    def load_state_dict(self, state):
        self.plateau_epoch = None if state["plateau_epoch"] < 0 else int(state["plateau_epoch"])
        self.best = float(state["best"])
        self.since_best = int(state["since_best"])
