"""ROAR: RemOve And Retrain (Hooker et al. 2019; SGT Fig. 4, docs/methods.md §4.2).

For every level x the top x % positions (by |saliency| of a *reference* model, computed once on
the training and the test images at their true labels) are replaced by a fill (default the
sample's channel mean) in BOTH the training and the test set; a fresh model is trained on the
masked training set by a user-supplied ``train_fn(x_train, y_train) -> model`` (which owns the
architecture, optimiser and epochs) and evaluated on the masked test set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd
import torch
from torch import nn

from ..masking import check_fill, fill_values
from ..progress import track
from ._common import as_levels, descending_ranks, fill_value, level_k, unpack_data
from .accuracy_drop import accuracy, masked_batch
from .scores import saliency_scores


def remove_top(
    x: torch.Tensor,
    ranks: torch.Tensor,
    k: int,
    fill: str = "mean",
    value=None,
    batch_size: int = 1024,
    generator: torch.Generator | None = None,
    noise_std: float = 0.01,
) -> torch.Tensor:
    """Copy of ``x`` (N, C, H, W) with the ``k`` top-ranked positions (``ranks`` (N, H*W) from a
    stable descending sort) replaced by ``fill``, processed in batches."""
    h, w = x.shape[2:]
    out = torch.empty_like(x)
    for start in range(0, len(x), batch_size):
        sl = slice(start, start + batch_size)
        xb = x[sl]
        selected = (ranks[sl] < k).reshape(len(xb), h, w)
        replacement = (
            None if fill in ("uniform", "noisy_linear") else fill_values(xb, fill, value, generator)
        )
        out[sl] = masked_batch(xb, selected, fill, value, replacement, generator, noise_std)
    return out


def roar(
    train_fn: Callable[[torch.Tensor, torch.Tensor], nn.Module],
    train_data,
    test_data,
    levels: Iterable[float] = range(0, 101, 10),
    fill: str = "mean",
    method: str = "grad",
    reference_model: nn.Module | None = None,
    value=None,
    batch_size: int = 256,
    generator: torch.Generator | None = None,
    device=None,
    noise_std: float = 0.01,
    progress: bool = True,
    **saliency_kwargs,
) -> pd.DataFrame:
    """ROAR curve: test accuracy (%) of models retrained with the top ``level`` % removed.

    ``train_fn(x_train, y_train)`` returns a trained model (it is called once per level with a
    non-zero k). ``reference_model`` provides the saliency ranking; when ``None`` it is trained
    by ``train_fn`` on the unmasked training set and also serves as the 0 % model. ``method`` /
    ``saliency_kwargs`` select the attribution (|value|, true label; docs/methods.md §4); ``fill``:
    :func:`accuracy_drop_curve` (``value`` defaults to ``.background`` for ``constant``).
    ``progress``: a bar and lines over the saliency batches and the levels (the retraining's
    own progress is ``train_fn``'s).

    Returns a DataFrame with columns ``level``, ``accuracy`` (%), ``n`` (test images);
    ``df.attrs`` holds ``method``, ``fill`` and ``k``.
    """
    check_fill(fill)
    x_tr, y_tr = unpack_data(train_data)
    x_te, y_te = unpack_data(test_data)
    lv = as_levels(levels)
    value = fill_value(test_data if hasattr(test_data, "x") else train_data, fill, value)
    trained_reference = reference_model is None
    if trained_reference:
        reference_model = train_fn(x_tr, y_tr)
    kw = dict(
        method=method, batch_size=batch_size, generator=generator, device=device, progress=progress
    )
    ranks_tr = descending_ranks(saliency_scores(reference_model, (x_tr, y_tr), **kw,
                                                **saliency_kwargs))  # fmt: skip
    ranks_te = descending_ranks(saliency_scores(reference_model, (x_te, y_te), **kw,
                                                **saliency_kwargs))  # fmt: skip
    ks = level_k(lv, x_tr.shape[2] * x_tr.shape[3])
    rows = []
    levels_k = list(zip(lv, ks, strict=True))
    for level, k in track(levels_k, "ROAR levels", unit="level", progress=progress):
        masked = dict(fill=fill, value=value, generator=generator, noise_std=noise_std)
        if k == 0 and trained_reference:
            model, x_test = reference_model, x_te
        else:
            x_train = remove_top(x_tr, ranks_tr, k, **masked)
            x_test = remove_top(x_te, ranks_te, k, **masked)
            model = train_fn(x_train, y_tr)
        acc = accuracy(model, (x_test, y_te), batch_size=batch_size, device=device)
        rows.append({"level": float(level), "accuracy": acc, "n": len(x_te)})
    df = pd.DataFrame(rows)
    df.attrs.update(method=method, fill=fill, k=ks)
    return df
