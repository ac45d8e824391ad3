"""SMOOT Fig. 1 motivation: the true-class probability while top-gradient pixels are masked.

For each test image the positions are ranked once by |gradient| at the true label; for each
level x (default 0, 5, ..., 100 %) the top x % are replaced by the fill (default the dataset
background) and the softmax probability of the true class is recorded. An image is **class II**
if its maximum over x > 0 exceeds its value at x = 0 by more than ``epsilon`` (masking the
"most important" pixels *raises* confidence), else **class I**. The peak is the first level > 0
where the maximum over x > 0 is reached; it is "before" 50 % if ``peak_level < split`` and
"after" otherwise (a peak exactly at 50 % counts as after).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from ._common import as_levels, fill_value, unpack_data
from .accuracy_drop import iterate_level_outputs


def classify_curves(curves, levels, epsilon: float = 0.01, split: float = 50.0) -> pd.DataFrame:
    """Class I / II split of probability ``curves`` (N, L) over ``levels`` (percent, with 0).

    Returns one row per curve with ``p0`` (value at level 0), ``peak_level`` and ``peak_prob``
    (first maximum over levels > 0), ``gain`` (``peak_prob - p0``), ``class_ii`` (``gain >
    epsilon``), ``class`` ("I"/"II") and ``peak`` ("before"/"after" ``split`` %).
    """
    c = np.asarray(curves, dtype=float)
    lv = np.asarray(list(levels), dtype=float)
    if c.ndim != 2 or c.shape[1] != len(lv):
        raise ValueError(f"curves must be (N, {len(lv)}) for {len(lv)} levels, got {c.shape}")
    zero = np.flatnonzero(lv == 0)
    positive = np.flatnonzero(lv > 0)
    if len(zero) != 1 or len(positive) == 0:
        raise ValueError("levels must contain 0 exactly once and at least one level > 0")
    p0 = c[:, zero[0]]
    after = c[:, positive]
    arg = np.argmax(after, axis=1)  # first maximum
    peak_prob = after[np.arange(len(c)), arg]
    peak_level = lv[positive][arg]
    gain = peak_prob - p0
    class_ii = gain > epsilon
    return pd.DataFrame(
        {
            "p0": p0,
            "peak_level": peak_level,
            "peak_prob": peak_prob,
            "gain": gain,
            "class_ii": class_ii,
            "class": np.where(class_ii, "II", "I"),
            "peak": np.where(peak_level < split, "before", "after"),
        }
    )


def summarize_classes(classes: pd.DataFrame, epsilon: float | None = None) -> dict:
    """Class-II count and share, and the peak position (before/after) counts for class II."""
    n = len(classes)
    ii = classes[classes["class_ii"]]
    n_ii = len(ii)
    before = int((ii["peak"] == "before").sum())
    out = {
        "n": n,
        "n_class_ii": n_ii,
        "share_class_ii": n_ii / n if n else float("nan"),
        "n_class_ii_peak_before_50": before,
        "n_class_ii_peak_after_50": n_ii - before,
        "share_class_ii_peak_before_50": before / n_ii if n_ii else float("nan"),
        "share_class_ii_peak_after_50": (n_ii - before) / n_ii if n_ii else float("nan"),
    }
    if epsilon is not None:
        out["epsilon"] = epsilon
    return out


@dataclass
class MotivationResult:
    """Curves (``probs`` (N, L) over ``levels``), per-image ``classes`` (see
    :func:`classify_curves`, plus ``label``) and the ``summary`` dict."""

    levels: np.ndarray
    probs: np.ndarray
    classes: pd.DataFrame
    summary: dict = field(default_factory=dict)

    @property
    def curves(self) -> pd.DataFrame:
        """Tidy curves: ``image``, ``level``, ``prob``, ``class``, ``peak``."""
        n, n_lv = self.probs.shape
        df = pd.DataFrame(
            {
                "image": np.repeat(self.classes.index.to_numpy(), n_lv),
                "level": np.tile(self.levels, n),
                "prob": self.probs.reshape(-1),
            }
        )
        df["class"] = np.repeat(self.classes["class"].to_numpy(), n_lv)
        df["peak"] = np.repeat(self.classes["peak"].to_numpy(), n_lv)
        return df

    def mean_curves(self) -> pd.DataFrame:
        """Mean probability per level for class I, class II and class II split by peak."""
        df = self.curves
        parts = [
            df.groupby(["class", "level"], as_index=False)["prob"]
            .mean()
            .assign(group=lambda d: "class " + d["class"]),
            df[df["class"] == "II"]
            .groupby(["peak", "level"], as_index=False)["prob"]
            .mean()
            .assign(group=lambda d: "class II, peak " + d["peak"] + " 50 %"),
        ]
        return pd.concat(parts, ignore_index=True)[["group", "level", "prob"]]


def motivation_curves(
    model: nn.Module,
    data,
    levels: Iterable[float] = range(0, 101, 5),
    epsilon: float = 0.01,
    method: str = "grad",
    fill: str = "constant",
    value=None,
    batch_size: int = 256,
    generator: torch.Generator | None = None,
    device=None,
    output: str = "log_prob",
    split: float = 50.0,
    progress: bool = True,
    **saliency_kwargs,
) -> MotivationResult:
    """SMOOT Fig. 1: true-class softmax probability of ``model`` on every image of ``data``
    while its top ``levels`` % positions by |saliency| (true label, computed once) are filled
    (``fill``/``value`` as in :func:`accuracy_drop_curve`, default the dataset background).
    Class split per :func:`classify_curves` with ``epsilon`` and ``split``. ``progress``: a bar
    and lines over the batches (:mod:`saliency_lib.progress`)."""
    x, y = unpack_data(data)
    lv = as_levels(levels)
    value = fill_value(data, fill, value)
    probs = np.empty((len(x), len(lv)))
    for sl, yb, logits in iterate_level_outputs(
        model, x, y, lv, method, fill, value, batch_size, generator, device, output,
        progress=progress, **saliency_kwargs,
    ):  # fmt: skip
        p = torch.softmax(logits.double(), dim=-1)  # (L, B, classes)
        idx = yb[None, :, None].expand(len(lv), -1, 1)
        probs[sl] = p.gather(2, idx)[..., 0].T.cpu().numpy()
    classes = classify_curves(probs, lv, epsilon, split)
    classes.index.name = "image"
    classes.insert(0, "label", y.numpy())
    return MotivationResult(lv, probs, classes, summarize_classes(classes, epsilon))
