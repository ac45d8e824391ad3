"""Evaluation saliency scores (docs/methods.md §4): one |attribution| per position, true label.

A thin layer over :func:`saliency_lib.saliency.attribute` that batches over a whole data set and
has a fast path for ``grad`` which also returns the clean logits of the same forward pass (the
accuracy-drop curve reuses them for its 0 % level instead of a second forward pass).
"""

from __future__ import annotations

import torch
from torch import nn

from ..progress import track
from ..saliency import attribute, gradient_from_logits, reduce_channels
from ._common import eval_mode, model_device, unpack_data

# Methods whose attribution costs many forward passes per image: smaller default chunks.
EXPENSIVE_METHODS = ("ig", "smoothgrad", "gradshap", "deeplift")


def default_saliency_batch_size(method: str, batch_size: int) -> int:
    """Images per ``attribute`` call: ``batch_size`` for grad/random, at most 32 otherwise
    (IG with 50 steps expands every image 50 times)."""
    return min(batch_size, 32) if method in EXPENSIVE_METHODS else batch_size


def grad_scores_and_logits(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    output: str = "log_prob",
    abs: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``attribute(model, x, y, "grad", abs=abs, output=output)`` and the logits of the same pass.

    The model must already be in the wanted mode (eval for evaluation). One forward and one
    backward pass; only the input gradient is computed.
    """
    with torch.enable_grad():
        x_in = x.detach().requires_grad_(True)
        logits = model(x_in)
        grad = gradient_from_logits(logits, x_in, y, output)
    return reduce_channels(grad.detach(), abs=abs), logits.detach()


def batch_scores(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    method: str = "grad",
    abs: bool = True,
    output: str = "log_prob",
    generator: torch.Generator | None = None,
    saliency_batch_size: int | None = None,
    **saliency_kwargs,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Scores (B, H, W) for one batch already on the model's device, plus the clean logits when
    they come for free (``grad``), else ``None``. Model in eval mode."""
    if method == "grad" and not saliency_kwargs:
        return grad_scores_and_logits(model, x, y, output=output, abs=abs)
    step = saliency_batch_size or default_saliency_batch_size(method, len(x))
    scores = attribute(
        model, x, y, method=method, abs=abs, batch_size=step, output=output,
        generator=generator, **saliency_kwargs,
    )  # fmt: skip
    return scores, None


def saliency_scores(
    model: nn.Module,
    data,
    method: str = "grad",
    abs: bool = True,
    output: str = "log_prob",
    batch_size: int = 256,
    generator: torch.Generator | None = None,
    device=None,
    progress: bool = True,
    **saliency_kwargs,
) -> torch.Tensor:
    """Saliency scores (N, H, W) on the CPU for every image of ``data`` at its true label.

    ``data`` is a dataset (``.x``, ``.y``) or an ``(x, y)`` pair. ``abs=True`` ranks by
    |attribution| (docs/methods.md §4); the model is evaluated in eval mode and its state restored.
    ``progress``: a bar and lines over the batches (:mod:`saliency_lib.progress`).
    """
    x, y = unpack_data(data)
    dev = model_device(model, device)
    chunks = []
    with eval_mode(model):
        starts = range(0, len(x), batch_size)
        for start in track(starts, f"{method} saliency", unit="batch", progress=progress):
            xb = x[start : start + batch_size].to(dev)
            yb = y[start : start + batch_size].to(dev)
            scores, _ = batch_scores(
                model, xb, yb, method, abs=abs, output=output, generator=generator,
                **saliency_kwargs,
            )  # fmt: skip
            chunks.append(scores.cpu())
    return torch.cat(chunks) if chunks else torch.empty(0, *x.shape[2:])
