"""Per-sample gradient distributions (SGT Fig. 2, SMOOT Figs. 2, 4-5; docs/methods.md §4.6).

Each sample's signed saliency map (channel mean, true label) is divided by its own maximum
|value|, so every map lies in [-1, 1] (an all-zero map stays 0). The result is a tidy DataFrame
(one row per sample and position) for box, violin and distribution plots per training method.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ._common import unpack_data
from .scores import saliency_scores


def scale_per_sample(maps: torch.Tensor) -> torch.Tensor:
    """Divide each (H, W) map of (N, H, W) ``maps`` by its max |value| (zeros stay zero)."""
    m = torch.as_tensor(maps).double()
    peak = m.abs().flatten(1).amax(1).clamp_min(torch.finfo(torch.float64).tiny)
    return m / peak[:, None, None]


def gradient_distribution(
    model: nn.Module,
    data,
    method: str = "grad",
    n: int | None = 100,
    indices: Sequence[int] | None = None,
    label: str | None = None,
    abs: bool = False,
    output: str = "log_prob",
    batch_size: int = 256,
    generator: torch.Generator | None = None,
    device=None,
    progress: bool = True,
    **saliency_kwargs,
) -> pd.DataFrame:
    """Per-sample scaled saliency values of the first ``n`` images (or ``indices``).

    Returns columns ``sample`` (dataset index), ``target`` (true class), ``position`` (row-major
    pixel index), ``value`` (in [-1, 1]; signed unless ``abs``) and ``label`` (the caller's
    label, e.g. the training method, for grouping several models in one plot). ``progress``: a
    bar and lines over the saliency batches.
    """
    x, y = unpack_data(data)
    if indices is None:
        indices = np.arange(len(x) if n is None else min(n, len(x)))
    idx = torch.as_tensor(np.asarray(indices), dtype=torch.long)
    scores = saliency_scores(
        model, (x[idx], y[idx]), method=method, abs=abs, output=output, batch_size=batch_size,
        generator=generator, device=device, progress=progress, **saliency_kwargs,
    )  # fmt: skip
    scaled = scale_per_sample(scores).reshape(len(idx), -1).numpy()
    hw = scaled.shape[1]
    return pd.DataFrame(
        {
            "sample": np.repeat(idx.numpy(), hw),
            "target": np.repeat(y[idx].numpy(), hw),
            "position": np.tile(np.arange(hw), len(idx)),
            "value": scaled.reshape(-1),
            "label": label,
        }
    )


def saliency_concentration(scores, top: float = 0.1) -> np.ndarray:
    """Per image, the share of total |saliency| held by its top ``top`` fraction of positions
    (1 = all mass on few pixels, ``top`` = spread evenly). A one-number summary of the
    "sharper, less noisy maps" that SGT Fig. 2 / SMOOT Fig. 2 show."""
    s = torch.as_tensor(scores).abs().flatten(1).double()
    k = max(1, int(round(top * s.shape[1])))
    total = s.sum(1).clamp_min(torch.finfo(torch.float64).tiny)
    return (s.topk(k, dim=1).values.sum(1) / total).numpy()


def gini_index(scores) -> np.ndarray:
    """Per image, the Gini index of its |saliency| over positions (Hurley & Rickard 2009, the
    sparsity measure Chalasani et al. 2020 use for attributions; docs/methods.md §4): with the
    n values sorted ascending ``c_(1) <= ... <= c_(n)``,
    ``G = 1 - 2 * sum_k (c_(k) / ||c||_1) * (n - k + 1/2) / n``. 0 for a uniform map, ``1 - 1/n``
    when one position holds all the mass; NaN for an all-zero map."""
    s = torch.as_tensor(scores).abs().flatten(1).double()
    n = s.shape[1]
    c = s.sort(dim=1).values
    total = c.sum(1)
    k = torch.arange(1, n + 1, dtype=torch.float64)
    weights = (n - k + 0.5) / n
    g = 1 - 2 * (c * weights).sum(1) / total.clamp_min(torch.finfo(torch.float64).tiny)
    g[total == 0] = float("nan")
    return g.numpy()
