"""SMOOT: per-sample mask size K optimised online (SMOOT Alg. 2; docs/methods.md §3.5)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .._validation import check_choice
from .base import (
    BatchLoss,
    SaliencyGuidedConfig,
    TrainingMethod,
    masked_forward,
    positions_from_fraction,
    saliency_guided_loss,
)

MU_UNITS = ("positions", "per_784")
MNIST_POSITIONS = 784  # the 28 x 28 image the SMOOT papers' mu = 10 was stated for


def mu_in_positions(mu: float, mu_unit: str, num_positions: int) -> float:
    """SMOOT's step size in positions of an ``num_positions``-position image (methods §3.5).

    ``"positions"``: ``mu`` itself. ``"per_784"``: ``mu * num_positions / 784``, i.e. ``mu``
    positions per 28 x 28 image scaled to the image's area (Caltech-101 at 224 x 224: ``64 mu``).
    """
    check_choice("mu_unit", mu_unit, MU_UNITS)
    if mu_unit == "positions":
        return float(mu)
    return float(mu) * num_positions / MNIST_POSITIONS


@dataclass
class SMOOTConfig(SaliencyGuidedConfig):
    k_init_fraction: float = 0.5  # initial K: 50 % of positions (SMOOT Table I: 392 of 784)
    k_min_fraction: float = 0.2  # K_min
    k_max_fraction: float = 0.8  # K_max
    n_top: int = 5  # n: top classes compared (capped at the class count)
    alpha: float = 0.7  # weight of the top class; Table I: 0.95 MNIST/F-MNIST, 0.8 CIFAR/Caltech
    mu: float = 10.0  # step size, in the unit mu_unit names
    # mu_unit: "positions" (mu positions per step, any image size) | "per_784" (mu positions per
    # 784-position image, scaled to the image's area: step floor(mu * d * H*W / 784); the paper
    # profile's reading, which makes SMOOT Tables II-III and IV both reachable, methods §3.5)
    mu_unit: str = "positions"
    rank: str = "clean"  # smoot_rank: clean (rank both by the clean softmax) | independent
    # k_update: "train" (the paper: the loss's two train-mode passes, whose dropout masks
    # differ, so K drifts even when nothing is masked) | "eval" (two extra dropout-free passes:
    # no drift under the null; docs/methods.md §3.5)
    k_update: str = "train"

    def __post_init__(self):
        super().__post_init__()
        check_choice("rank", self.rank, ("clean", "independent"))
        check_choice("k_update", self.k_update, ("train", "eval"))
        check_choice("mu_unit", self.mu_unit, MU_UNITS)
        if not 0 <= self.k_min_fraction <= self.k_max_fraction <= 1:
            raise ValueError("need 0 <= k_min_fraction <= k_max_fraction <= 1")


def smoot_k_step(
    clean_logits: torch.Tensor,
    masked_logits: torch.Tensor,
    n_top: int,
    alpha: float,
    mu: float,
    rank: str = "clean",
) -> torch.Tensor:
    """SMOOT Alg. 2 K update direction, per sample: ``floor(mu * d)`` (int64, may be negative).

    ``p``/``q`` are the clean/masked softmax; ``c_1..c_n`` the top-n clean classes;
    ``d1 = q[c_1] - p[c_1]``, ``d2 = mean_{i>=2}(q[c_i] - p[c_i])``,
    ``d = alpha*d1 + (1-alpha)*d2``.
    ``rank="independent"`` sorts ``p`` and ``q`` each on its own instead. Mathematical floor:
    a small negative ``d`` gives -1 (docs/methods.md §3.5).
    """
    with torch.no_grad():
        p = F.softmax(clean_logits.detach().float(), dim=1)
        q = F.softmax(masked_logits.detach().float(), dim=1)
        n = min(n_top, p.shape[1])
        if rank == "clean":
            top = p.topk(n, dim=1).indices
            diff = q.gather(1, top) - p.gather(1, top)
        else:
            diff = q.topk(n, dim=1).values - p.topk(n, dim=1).values
        d1 = diff[:, 0]
        d2 = diff[:, 1:].mean(dim=1) if n > 1 else torch.zeros_like(d1)
        d = alpha * d1 + (1 - alpha) * d2
        return torch.floor(mu * d).long()


def eval_logits(
    model, x: torch.Tensor, x_masked: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Clean and masked logits of the dropout-free (eval-mode) model, without gradients; the
    model's mode is restored."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(x.detach()), model(x_masked.detach())
    finally:
        model.train(was_training)


class SMOOT(TrainingMethod):
    """SGT's loss with a per-sample K, keyed by dataset index and updated from the same passes."""

    name = "smoot"
    Config = SMOOTConfig

    def setup(self, num_train, num_positions, num_classes, device):
        super().setup(num_train, num_positions, num_classes, device)
        c = self.cfg
        self.k_min = positions_from_fraction(c.k_min_fraction, num_positions)
        self.k_max = positions_from_fraction(c.k_max_fraction, num_positions)
        k0 = positions_from_fraction(c.k_init_fraction, num_positions)
        self.K = torch.full((num_train,), k0, dtype=torch.long, device=device)
        self.mu_positions = mu_in_positions(c.mu, c.mu_unit, num_positions)

    def loss(self, model, x, y, idx) -> BatchLoss:
        pair = masked_forward(model, x, y, self.K[idx], "bottom", self.cfg)
        if self.cfg.k_update == "eval":
            self.update_k(idx, *eval_logits(model, x, pair.x_masked))
        else:
            self.update_k(idx, pair.clean_logits, pair.masked_logits)
        return BatchLoss(saliency_guided_loss(pair, y, self.cfg.lambda_kl), pair.clean_logits)

    def update_k(self, idx: torch.Tensor, clean_logits, masked_logits) -> None:
        """SMOOT Alg. 2: ``K[idx] = clip(K[idx] + floor(mu * d), K_min, K_max)``, from the same
        two forward passes as the loss (no extra pass); ``mu`` in positions (``mu_unit``)."""
        c = self.cfg
        step = smoot_k_step(
            clean_logits, masked_logits, c.n_top, c.alpha, self.mu_positions, c.rank
        )
        self.K[idx] = (self.K[idx] + step).clamp(self.k_min, self.k_max)

    def k_stats(self):
        k = self.K.float()
        return (int(k.min()), float(k.quantile(0.5)), int(k.max()))

    def per_sample_k(self):
        return self.K.detach().cpu().clone()

    def state_dict(self):
        return {"K": self.K.detach().cpu().clone()}

    def load_state_dict(self, state):
        self.K = state["K"].to(self.K.device)
