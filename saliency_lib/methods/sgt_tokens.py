"""SGT on token sequences: saliency-guided training for language (SGT section 3 and 4, Table 1;
docs/methods.md §9).

The same loss as :class:`~saliency_lib.methods.sgt.SGT` (SGT Alg. 1, ``CE + lambda * KL(clean ||
masked)``); what differs is what is sorted and masked. A word's score is "the sum of the gradient
of the embeddings" (SGT section 3): the input gradient at the true label, taken in eval mode as
for images (docs/methods.md §3.1), summed over the embedding dimensions. The bottom ``k`` words
of each sequence (``k = floor(k_fraction * length)``, at most ``length - 1``; padding never
counts) are replaced by the previous high-salient word (``fill="previous"``,
:func:`saliency_lib.masking.mask_tokens`), so the sequence keeps its length. The inputs are
embedded token sequences ``(B, 1, L, D)`` (:mod:`saliency_lib.data.text`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._validation import Range, check_choice, check_types
from ..masking import TOKEN_FILLS, mask_tokens, select_tokens, sequence_lengths
from ..saliency import OUTPUTS, training_saliency
from .base import BatchLoss, MaskedPair, TrainingMethod, saliency_guided_loss

__all__ = ["SGTTokens", "SGTTokensConfig", "token_k"]


@dataclass
class SGTTokensConfig:
    """Options of ``sgt_tokens`` (docs/methods.md §9)."""

    k_fraction: float = 0.5  # share of each sequence's words masked (bottom-k by saliency)
    lambda_kl: float = 1.0  # weight of KL(clean || masked); SGT: lambda = 1
    fill: str = "previous"  # previous (SGT: the previous high-salient word) | uniform
    saliency_output: str = "log_prob"  # log_prob (as the image SGT) | logit
    saliency_abs: bool = False  # signed gradient summed over the embedding (SGT section 3)

    def __post_init__(self):
        check_types(self)
        Range(0, 1).check("k_fraction", self.k_fraction)
        Range(0).check("lambda_kl", self.lambda_kl)
        check_choice("fill", self.fill, TOKEN_FILLS)
        check_choice("saliency_output", self.saliency_output, OUTPUTS)


def token_k(fraction: float, lengths: torch.Tensor) -> torch.Tensor:
    """Words masked per sequence: ``floor(fraction * length)`` (the SGT code's ``int(k * N)``),
    at most ``length - 1`` so that one word is always kept."""
    k = torch.floor(fraction * lengths.double()).long()
    return torch.minimum(k, (lengths - 1).clamp_min(0))


class SGTTokens(TrainingMethod):
    """Mask the bottom ``k`` words by training saliency (replaced by the previous high-salient
    word), add KL(clean || masked)."""

    name = "sgt_tokens"
    Config = SGTTokensConfig

    def __init__(self, cfg=None, **params):
        super().__init__(cfg, **params)
        self._k: list[torch.Tensor] = []

    def start_epoch(self, epoch: int) -> str:
        self._k = []
        return self.phase

    def loss(self, model, x, y, idx) -> BatchLoss:
        clean = model(x)
        grad = training_saliency(model, x, y, self.cfg.saliency_output, self.cfg.saliency_abs)
        scores = grad.sum(dim=-1)  # (B, L): sum of the gradient over the embedding
        lengths = sequence_lengths(x)
        k = token_k(self.cfg.k_fraction, lengths)
        x_masked = mask_tokens(x, select_tokens(scores, lengths, k, "bottom"), self.cfg.fill)
        pair = MaskedPair(clean, model(x_masked), x_masked)
        self._k.append(k.detach().cpu())
        return BatchLoss(saliency_guided_loss(pair, y, self.cfg.lambda_kl), clean)

    def k_stats(self):
        """(min, median, max) of the words masked per sequence in the current epoch."""
        if not self._k:
            return (0, 0.0, 0)
        k = torch.cat(self._k).double()
        return (int(k.min()), float(k.median()), int(k.max()))
