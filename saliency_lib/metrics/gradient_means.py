"""Per-feature gradient means over a test set (SGT Fig. 2 (C); docs/methods.md §10).

The SGT reference code saves, for a trained model, the signed input gradient at the true label
of every test image (per element: channel, row, column) and its mean over the images
(``getSaliency(..., abs=False)`` then ``.mean(axis=0)``); Fig. 2 (C) shows the distribution of
these means ("gradient means across examples") as box plots, traditional vs SGT. Here the means
of each model are divided by their largest |mean|, so models whose gradients differ in scale
compare on one axis, and summarised by the box plot's own quantities
(:func:`gradient_mean_stats`): the interquartile range (how concentrated the features are around
the centre) and how far the outlying features (beyond the 1.5 IQR whiskers) lie from the mean,
in interquartile ranges.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..progress import track
from ..saliency import gradient_from_logits
from ._common import eval_mode, model_device

__all__ = ["feature_gradient_means", "gradient_mean_stats", "scale_to_max"]


def feature_gradient_means(
    model: nn.Module,
    data,
    batch_size: int = 128,
    output: str = "log_prob",
    device=None,
    progress: bool = True,
) -> torch.Tensor:
    """(C, H, W) mean over the images of ``data`` (a dataset; lazy ones are read item by item)
    of the signed input gradient of ``output`` at the true label, model in eval mode."""
    dev = model_device(model, device)
    total, n = None, 0
    starts = range(0, len(data), batch_size)
    with eval_mode(model):
        for start in track(starts, "gradient means", unit="batch", progress=progress):
            idx = range(start, min(start + batch_size, len(data)))
            if getattr(data, "x", None) is not None:
                x, y = data.x[start : idx.stop], data.y[start : idx.stop]
            else:
                x = torch.stack([data[i][0] for i in idx])
                y = data.y[start : idx.stop]
            with torch.enable_grad():
                x_in = x.to(dev).requires_grad_(True)
                grad = gradient_from_logits(model(x_in), x_in, y.to(dev).long(), output)
            part = grad.detach().double().sum(dim=0).cpu()
            total = part if total is None else total + part
            n += len(x)
    if total is None:
        raise ValueError("no images to average")
    return (total / n).float()


def scale_to_max(values) -> np.ndarray:
    """``values`` (any shape, flattened) divided by their largest |value| (zeros stay zero)."""
    v = np.asarray(values, dtype=float).reshape(-1)
    peak = np.abs(v).max() if v.size else 0.0
    return v / peak if peak > 0 else v


def gradient_mean_stats(means, whisker: float = 1.5) -> dict:
    """Box-plot quantities of the per-feature means, scaled by :func:`scale_to_max`: ``median``,
    ``mean``, ``q1``, ``q3``, ``iqr``, the share of features beyond the whiskers (``outliers``,
    Tukey's ``whisker`` x IQR fences) and ``separation``: the median distance of those outlying
    features from the mean, in IQRs (NaN without outliers or with a zero IQR)."""
    v = scale_to_max(means)
    q1, median, q3 = np.percentile(v, [25, 50, 75])
    iqr = q3 - q1
    outside = (v < q1 - whisker * iqr) | (v > q3 + whisker * iqr)
    mean = float(v.mean())
    sep = float(np.median(np.abs(v[outside] - mean)) / iqr) if outside.any() and iqr > 0 else np.nan
    return {
        "features": int(v.size),
        "median": float(median),
        "mean": mean,
        "q1": float(q1),
        "q3": float(q3),
        "iqr": float(iqr),
        "outliers": float(outside.mean()),
        "separation": sep,
    }
