"""SGT Fig. 2 (B) and (C) (section 5.1): saliency maps of traditional and SGT models on images
both classify correctly, and the distribution over features of the gradient means across test
images, box plots, traditional vs SGT (docs/methods.md §10). The numbers are
:mod:`saliency_lib.metrics.gradient_means`; this module evaluates a notebook's runs, draws the
figures and decides the claims.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from .. import claims as claims_lib
from ..metrics.gradient_means import feature_gradient_means, gradient_mean_stats, scale_to_max
from ..plots import plot_saliency_grid
from ..progress import track
from ..runs import Run
from .maps import class_titles, saliency_maps

__all__ = [
    "correctly_classified",
    "fig2b_maps",
    "fig2c_claims",
    "gradient_means_per_seed",
    "gradient_means_table",
    "plot_gradient_means",
]


def correctly_classified(
    models: Mapping[str, torch.nn.Module], data, n: int, batch_size: int = 64
) -> list[int]:
    """Positions of the first ``n`` images of ``data`` that every model classifies correctly
    (SGT Fig. 2: "correctly classified by both models"); fewer if the data run out."""
    found: list[int] = []
    for start in range(0, len(data), batch_size):
        idx = list(range(start, min(start + batch_size, len(data))))
        x = torch.stack([data[i][0] for i in idx])
        y = data.y[idx]
        ok = torch.ones(len(idx), dtype=torch.bool)
        for model in models.values():
            device = next(model.parameters()).device
            with torch.no_grad():
                ok &= model.eval()(x.to(device)).argmax(dim=1).cpu() == y
        found += [i for i, good in zip(idx, ok.tolist(), strict=True) if good]
        if len(found) >= n:
            break
    return found[:n]


def fig2b_maps(
    models: Mapping[str, torch.nn.Module], data, dataset: str, n_images: int
) -> tuple[Figure, list[int]]:
    """SGT Fig. 2 (B): |gradient| maps (true label, each scaled to its maximum) of every model
    on the first ``n_images`` test images all models classify correctly; and their positions.
    Where no test image is classified correctly by every model (a model near chance), the first
    ``n_images`` test images, with a warning that says so."""
    idx = correctly_classified(models, data, n_images)
    if not idx:
        warnings.warn(
            f"no {dataset} test image is classified correctly by every model (a model near "
            f"chance?): the maps show the first {n_images} test images instead",
            stacklevel=2,
        )
        idx = list(range(min(n_images, len(data))))
    x = torch.stack([data[i][0] for i in idx])
    y = data.y[idx]
    names = getattr(data, "classes", None)  # a folder dataset knows its class names (BIRD)
    titles = [names[int(v)] for v in y] if names else class_titles(dataset, y)
    fig = plot_saliency_grid(x, saliency_maps(models, x, y), titles=titles)
    return fig, idx


def gradient_means_per_seed(
    runs: Mapping[tuple[str, int], Run], data, batch_size: int = 128, progress: bool = True
) -> tuple[pd.DataFrame, dict[tuple[str, int], np.ndarray]]:
    """Per run ``{(method label, seed): Run}``: the box-plot quantities of its per-feature
    gradient means over ``data`` (:func:`~saliency_lib.metrics.gradient_means.gradient_mean_stats`)
    with its test accuracy, one row each; and the scaled means themselves (for the box plots)."""
    rows, values = [], {}
    for (label, seed), run in track(runs.items(), "gradient means", progress=progress):
        means = feature_gradient_means(run.model, data, batch_size, progress=progress)
        values[(label, seed)] = scale_to_max(means)
        rows.append(
            {
                "method": label,
                "seed": seed,
                "accuracy": run.final_test_acc,
                **gradient_mean_stats(means),
            }
        )
    return pd.DataFrame(rows), values


def plot_gradient_means(values: Mapping[str, np.ndarray], title: str = "") -> Figure:
    """SGT Fig. 2 (C): box plots (whiskers at 1.5 IQR, outliers drawn) of the per-feature
    gradient means, scaled to a largest |mean| of 1, one box per training method."""
    fig, ax = plt.subplots(figsize=(1.6 * len(values) + 1.5, 3.6), layout="constrained")
    ax.boxplot(list(values.values()), whis=1.5, flierprops={"markersize": 2, "alpha": 0.4})
    ax.set_xticks(range(1, len(values) + 1), list(values))
    ax.axhline(0, color="black", lw=0.5)
    ax.set_ylabel("gradient mean per feature (scaled)")
    ax.set_title(title, fontsize=9)
    return fig


def fig2c_claims(
    per_seed: pd.DataFrame,
    setting: str,
    min_accuracy: float | None = None,
    traditional: str = "traditional",
    sgt: str = "sgt",
) -> list[dict]:
    """SGT Fig. 2 (C), paired by seed: SGT's gradient means are more concentrated (smaller IQR)
    and its outlying features lie farther from the mean (larger separation). Precondition:
    the traditional models' mean test accuracy reaches ``min_accuracy``."""
    pre = []
    if min_accuracy is not None:
        acc = per_seed[per_seed.method == traditional]["accuracy"]
        pre.append(
            claims_lib.Precondition(
                "traditional test accuracy, mean over seeds",
                float(acc.mean()) if len(acc) else float("nan"),
                float(min_accuracy),
                unit=" %",
            )
        )
    out = []
    for claim_id, value in (
        ("sgt_fig2c_concentrated", "iqr"),
        ("sgt_fig2c_separation", "separation"),
    ):
        a, b = claims_lib.paired(per_seed, value, sgt, traditional)
        out.append(claims_lib.evaluate(claim_id, a, b, setting, preconditions=pre))
    return out


def gradient_means_table(
    per_seed: pd.DataFrame, values: Sequence[str] = ("iqr", "separation", "outliers", "accuracy")
) -> pd.DataFrame:
    """Mean over seeds of the box-plot quantities per training method (with the seeds)."""
    rows = []
    for method, g in per_seed.groupby("method", sort=False):
        row = {"method": method, "seeds": len(g)}
        for v in values:
            row[v] = float(g[v].mean())
            row[f"{v} per seed"] = ", ".join(f"{x:.3g}" for x in g.sort_values("seed")[v])
        rows.append(row)
    return pd.DataFrame(rows)
