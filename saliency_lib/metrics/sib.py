"""SIB(x): share of the top saliency positions inside the object's box (HLGM; docs/methods.md §4.3).

For an image with box ``(x_min, y_min, x_max, y_max)`` (columns / rows, max exclusive, i.e.
``scores[y_min:y_max, x_min:x_max]``), SIB(x) is the fraction of its top
``k = round(x * H*W)`` positions by |score| that lie inside the box. Positions are ranked by a
stable descending sort, so among equal scores the earlier pixel (row-major order) is taken first.

``k = 0`` (a fraction too small for the image) gives NaN: the share of an empty set is
undefined; the ``round`` of docs/methods.md §4.3 is kept rather than forcing at least one position.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import torch
from torch import nn

from ._common import descending_ranks, positions_for_fraction
from .scores import saliency_scores

DEFAULT_FRACTIONS = (0.005, 0.01, 0.02, 0.05, 0.1)


def sib_column(fraction: float) -> str:
    """Column name of a fraction in percent: 0.005 -> ``"SIB(0.5)"``, 0.01 -> ``"SIB(1)"``."""
    return f"SIB({round(100 * fraction, 6):g})"


def box_mask(boxes: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Boolean (N, H, W): inside each ``(x_min, y_min, x_max, y_max)`` box (max exclusive)."""
    boxes = torch.as_tensor(boxes).long()
    rows = torch.arange(h)[None, :, None]
    cols = torch.arange(w)[None, None, :]
    x0, y0, x1, y1 = (boxes[:, i, None, None] for i in range(4))
    return (cols >= x0) & (cols < x1) & (rows >= y0) & (rows < y1)


def sib(
    scores,
    boxes,
    fractions: Iterable[float] = DEFAULT_FRACTIONS,
    has_box=None,
) -> pd.DataFrame:
    """Per-image SIB values for (N, H, W) ``scores`` (|score| is ranked) and (N, 4) ``boxes``.

    ``fractions`` are fractions of the H*W positions (0.01 = 1 %). ``has_box`` (bool (N,))
    marks images with a box; the others are excluded. Returns a DataFrame indexed by image
    index (name ``image``) with one column per fraction (``"SIB(0.5)"``, ``"SIB(1)"``, ...);
    ``df.attrs`` holds ``n_images``, ``n_excluded`` (images without a box), ``k`` (positions
    per column) and ``fractions``. A column whose k rounds to 0 is NaN.
    """
    s = torch.as_tensor(scores).detach().cpu()
    if s.dim() != 3:
        raise ValueError(f"scores must be (N, H, W), got shape {tuple(s.shape)}")
    n, h, w = s.shape
    b = torch.as_tensor(boxes).detach().cpu().long()
    if b.shape != (n, 4):
        raise ValueError(f"boxes must be ({n}, 4), got shape {tuple(b.shape)}")
    keep = (
        torch.ones(n, dtype=torch.bool)
        if has_box is None
        else torch.as_tensor(has_box).detach().cpu().bool()
    )
    fractions = [float(f) for f in fractions]
    if any(f < 0 or f > 1 for f in fractions):
        raise ValueError(f"fractions must lie in [0, 1] (0.01 = 1 %), got {fractions}")
    idx = torch.nonzero(keep).flatten()
    ranks = descending_ranks(s[idx].abs().double())
    inside = box_mask(b[idx], h, w).reshape(len(idx), h * w)
    # inside_by_rank[i, r] = is the position of rank r inside the box; cumulative sum gives
    # the count of inside positions among the top k for every k at once.
    inside_by_rank = torch.zeros_like(inside)
    inside_by_rank.scatter_(1, ranks, inside)
    cum = torch.cumsum(inside_by_rank.long(), dim=1)
    ks = [positions_for_fraction(f, h * w) for f in fractions]
    data = {}
    for f, k in zip(fractions, ks, strict=True):
        col = sib_column(f)
        data[col] = (cum[:, k - 1].double() / k).numpy() if k > 0 else np.full(len(idx), np.nan)
    df = pd.DataFrame(data, index=pd.Index(idx.numpy(), name="image"))
    df.attrs.update(n_images=len(idx), n_excluded=int(n - len(idx)), k=ks, fractions=fractions)
    return df


def sib_medians(df: pd.DataFrame) -> pd.Series:
    """Median of every SIB column (HLGM Table III)."""
    return df[[c for c in df.columns if str(c).startswith("SIB(")]].median()


def model_sib(
    model: nn.Module,
    dataset,
    method: str = "grad",
    fractions: Iterable[float] = DEFAULT_FRACTIONS,
    batch_size: int = 256,
    generator: torch.Generator | None = None,
    device=None,
    progress: bool = True,
    **saliency_kwargs,
) -> pd.DataFrame:
    """:func:`sib` of ``model``'s |saliency| (true label) on a dataset with ``.boxes`` (and
    optionally ``.has_box``). Saliency is only computed for images with a box. ``progress``:
    a bar and lines over the saliency batches."""
    boxes = torch.as_tensor(dataset.boxes)
    has_box = getattr(dataset, "has_box", None)
    keep = torch.ones(len(boxes), dtype=torch.bool) if has_box is None else torch.as_tensor(has_box)
    idx = torch.nonzero(keep).flatten()
    if getattr(dataset, "x", None) is not None:
        x = torch.as_tensor(dataset.x)[idx]
    else:  # a lazy set (Oxford-IIIT Pet): read the boxed images
        x = torch.stack([dataset[int(i)][0] for i in idx])
    y = torch.as_tensor(dataset.y)[idx]
    scores = saliency_scores(
        model, (x, y), method=method, batch_size=batch_size, generator=generator,
        device=device, progress=progress, **saliency_kwargs,
    )  # fmt: skip
    df = sib(scores, boxes[idx], fractions)
    df.index = pd.Index(idx.numpy(), name="image")
    df.attrs.update(n_images=len(idx), n_excluded=int(len(boxes) - len(idx)))
    return df
