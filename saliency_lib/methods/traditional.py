"""Traditional training: cross-entropy only (docs/methods.md §3.3)."""

from __future__ import annotations

import torch.nn.functional as F

from .base import BatchLoss, TrainingMethod


class Traditional(TrainingMethod):
    name = "traditional"

    def loss(self, model, x, y, idx) -> BatchLoss:
        logits = model(x)
        return BatchLoss(F.cross_entropy(logits.float(), y), logits)
