"""SGT: saliency-guided training with a fixed k (SGT paper Alg. 1; docs/methods.md §3.4)."""

from __future__ import annotations

from dataclasses import dataclass

from .base import (
    BatchLoss,
    SaliencyGuidedConfig,
    TrainingMethod,
    masked_forward,
    positions_from_fraction,
    saliency_guided_loss,
)


@dataclass
class SGTConfig(SaliencyGuidedConfig):
    k_fraction: float = 0.5  # share of pixel positions masked (bottom-k); 0.5 * 784 = 392


class SGT(TrainingMethod):
    """Mask the bottom ``k`` positions by training saliency, add KL(clean || masked)."""

    name = "sgt"
    Config = SGTConfig

    def setup(self, num_train, num_positions, num_classes, device):
        super().setup(num_train, num_positions, num_classes, device)
        self.k = positions_from_fraction(self.cfg.k_fraction, num_positions)

    def loss(self, model, x, y, idx) -> BatchLoss:
        pair = masked_forward(model, x, y, self.k, "bottom", self.cfg)
        return BatchLoss(saliency_guided_loss(pair, y, self.cfg.lambda_kl), pair.clean_logits)

    def k_stats(self):
        return (self.k, float(self.k), self.k)
