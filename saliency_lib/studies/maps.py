"""Saliency maps and gradient distributions of several trained models on the same images
(SGT Fig. 2, SMOOT Figs. 2, 4, 5, HLGM Fig. 6)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import torch
from matplotlib.figure import Figure

from ..data import dataset_info
from ..metrics import gradient_distribution, saliency_concentration
from ..plots import plot_gradient_distribution, plot_saliency_grid
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


def _info(name: str):
    """The registry's metadata of dataset ``name``, or None for a label that is not a dataset
    name (a grid label such as ``cnn2_fashion_mnist``)."""
    try:
        return dataset_info(name)
    except KeyError:
        return None


def dataset_title(name: str) -> str:
    """The dataset's name as people write it (``"fashion_mnist"`` -> ``"Fashion-MNIST"``), for
    figure titles and captions; ``name`` itself if it is not a dataset or has no title."""
    info = _info(name)
    return info.title if info is not None and info.title else name


def class_titles(name: str, y) -> list[str]:
    """Class names of labels ``y`` of dataset ``name`` (the label itself where none is known)."""
    info = _info(name)
    classes = info.classes if info is not None else ()
    labels = [int(v) for v in (y.tolist() if hasattr(y, "tolist") else y)]
    return [classes[v] if v < len(classes) else str(v) for v in labels]


@dataclass
class MapFigures:
    """The saliency-map grid and the gradient box plots of several models on one dataset, and
    the per-model gradient summary (:func:`gradient_summary`)."""

    saliency: Figure
    gradients: Figure
    gradient_summary: pd.DataFrame


def method_map_figures(
    models: Mapping[str, torch.nn.Module],
    data,
    dataset: str,
    n_images: int,
    gradient_images: int,
    progress: bool = True,
) -> MapFigures:
    """SGT Fig. 2, SMOOT Figs. 2, 4, 5: |gradient| maps of each model on the first ``n_images``
    images of ``data`` (titled with their class names) and per-image gradient box plots over
    ``gradient_images`` images."""
    x, y = first_images(data, n_images)
    maps = plot_saliency_grid(x, saliency_maps(models, x, y), titles=class_titles(dataset, y))
    grads, summary = gradient_summary(models, data, n=gradient_images, progress=progress)
    return MapFigures(maps, plot_gradient_distribution(grads, x="label"), summary)
