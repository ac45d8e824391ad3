"""Saliency maps and gradient distributions of several trained models on the same images
(SGT Fig. 2, SMOOT Figs. 2, 4, 5, HLGM Fig. 6)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import torch

from ..metrics import gradient_distribution, saliency_concentration
from ..progress import track
from ..saliency import attribute


def first_images(data, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` images and labels of a dataset (a fixed, reproducible choice)."""
    n = min(n, len(data))
    if data.x is None:  # a lazy set: read the n items
        return torch.stack([data[i][0] for i in range(n)]), data.y[:n]
    return data.x[:n], data.y[:n]


def saliency_maps(
    models: Mapping[str, torch.nn.Module], x: torch.Tensor, y: torch.Tensor, method: str = "grad"
) -> dict[str, torch.Tensor]:
    """``{label: (N, H, W) |saliency|}`` of each model at the true labels."""
    g = torch.Generator().manual_seed(0)
    return {label: attribute(m, x, y, method, abs=True, generator=g) for label, m in models.items()}


def gradient_summary(
    models: Mapping[str, torch.nn.Module],
    data,
    n: int = 200,
    top: float = 0.1,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-sample scaled gradients of each model (tidy, for box plots) and a per-model summary:
    mean share of |gradient| in the top ``top`` positions (``concentration``) and the mean
    |scaled gradient| (``mean_abs``; lower = sparser maps). ``progress``: a bar and lines over
    the models and their saliency batches."""
    frames, rows = [], []
    for label, model in track(models.items(), "gradient distributions", progress=progress):
        df = gradient_distribution(model, data, n=n, label=label, progress=progress)
        frames.append(df)
        maps = df.pivot(index="sample", columns="position", values="value").to_numpy()
        rows.append(
            {
                "method": label,
                "images": len(maps),
                "concentration": float(saliency_concentration(torch.tensor(maps), top).mean()),
                "mean_abs": float(abs(maps).mean()),
            }
        )
    return pd.concat(frames, ignore_index=True), pd.DataFrame(rows)
