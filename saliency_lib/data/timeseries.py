"""Multivariate time series (SGT section 5.3): the synthetic benchmark of Ismail et al. 2020 and
MNIST read as a sequence.

**Tensor layout.** A sample of ``T`` time steps x ``F`` features is stored as an image of one
channel, ``x[i]`` of shape ``(1, T, F)``: the image rows (H) are time, the columns (W) are
features. Every (time, feature) cell is one pixel position, so the existing SGT masking
(:func:`saliency_lib.masking.mask`, one position = one cell) and saliency code (one channel: the
channel mean is the attribution itself) work on cells unchanged; the time-series models
(``saliency_lib.models.timeseries``) read ``x[:, 0]`` as ``(batch, time, feature)``. The
benchmark uses ``T = F = 50`` (square, as ``ImageDataset`` needs: ``time_steps`` must equal
``features``).

**Benchmark generator** (the public benchmark code, ``Scripts/createSimulationDataProcesses.py``;
Gaussian process only): background ``N(0, 1)``; inside the sample's box ``N(+mu, 1)`` for label
1 and ``N(-mu, 1)`` for label 0 (labels drawn uniformly, ``mu = 1``). ``LAYOUTS`` gives each
layout's box extent (time x feature) and start; ``moving`` layouts draw the start per sample
uniformly in ``[0, T - extent)``; the two positional layouts shift the box by ``+mu`` for both
classes and carry the class in the box's position: as in the public code, ``PositionalTime``
fixes the box's *feature* start per class (1 for label 1, 29 for label 0) with a random time
start, and ``PositionalFeature`` fixes the *time* start per class with a random feature start.
Three extra layouts put a 10 x 20 box early, in the middle or late in time (SGT Fig. 6; time
starts 0, 20, 40, features 15-35); these three scale with ``time_steps`` and ``features``
(e.g. 4 x 8 at time 0, 8, 16 for 20 x 20), the benchmark's ten need 50 x 50 or more.

Each sample's box is recorded in ``boxes`` as ``(x_min, y_min, x_max, y_max)`` = ``(feature
start, time start, feature end, time end)``, max exclusive, the image convention of the package.
``saliency_lib.metrics.box_mask(boxes, T, F)`` turns them into the (N, T, F) informative cells.
Values are min-max scaled per (time, feature) cell with the training split's min and max
(test values may fall outside [0, 1]); ``mean = 0`` and ``std = 1`` record that no further
normalisation is applied. Generation uses ``numpy.random.default_rng([generator_seed,
layout_code, split_code])`` and is cached per process (``functools.lru_cache``).

**MNIST as a sequence** (``mnist_sequence``, SGT Fig. 5): the offline MNIST source of
``get_dataset("mnist")`` with pixels in [0, 1] (no mean/std normalisation); image row = time
step (28), column = feature (28).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from ._dataset import SPLIT_CODES, DatasetInfo, ImageDataset, sha256_arrays
from ._registry import DatasetSpec, check_available, get_dataset, register
from ._sources import generated_source

__all__ = [
    "BENCHMARK_DATASETS",
    "DATASET_NAMES",
    "LAYOUTS",
    "MNIST_SEQUENCE",
    "PARAMS",
    "TIME_BIAS_DATASETS",
    "BoxLayout",
    "make_timeseries",
]


@dataclass(frozen=True)
class BoxLayout:
    """Where the informative box lies: extent (time x feature) and start, or how it moves."""

    name: str
    time_extent: int
    feature_extent: int
    time_start: int | None = None  # None: drawn per sample
    feature_start: int | None = None
    positional: str | None = None  # "time" | "feature": the class is carried by position
    loc1: int = 1  # positional: start of the fixed axis for label 1
    loc2: int = 29  # ... and for label 0
    scales: bool = False  # extents and starts are for 50 x 50 and scale with T and F

    def scaled(self, t: int, f: int) -> BoxLayout:
        """This layout for ``t`` x ``f`` samples (``scales`` layouts only; others unchanged)."""
        if not self.scales or (t, f) == (50, 50):
            return self
        st, sf = t / 50, f / 50
        return BoxLayout(self.name, max(1, round(self.time_extent * st)),
                      max(1, round(self.feature_extent * sf)), round(self.time_start * st),
                      round(self.feature_start * sf))  # fmt: skip


#: The benchmark's 10 layouts (``Scripts/run_benchmark.py``) and the three of SGT Fig. 6.
LAYOUTS: dict[str, BoxLayout] = {
    lay.name: lay
    for lay in (
        BoxLayout("Middle", 30, 30, 10, 10),
        BoxLayout("SmallMiddle", 14, 14, 18, 18),
        BoxLayout("Moving_Middle", 30, 30),
        BoxLayout("Moving_SmallMiddle", 15, 15),
        BoxLayout("RareTime", 6, 40, 22, 5),
        BoxLayout("Moving_RareTime", 6, 40),
        BoxLayout("RareFeature", 40, 6, 5, 22),
        BoxLayout("Moving_RareFeature", 40, 6),
        BoxLayout("PositionalTime", 20, 20, positional="time"),
        BoxLayout("PositionalFeature", 20, 20, positional="feature"),
        BoxLayout("TimeEarly", 10, 20, 0, 15, scales=True),
        BoxLayout("TimeMiddle", 10, 20, 20, 15, scales=True),
        BoxLayout("TimeLate", 10, 20, 40, 15, scales=True),
    )
}
#: Registered dataset name of each layout, e.g. ``ts_moving_small_middle``.
DATASET_NAMES = {
    name: "ts_"
    + "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_").replace("__", "_")
    for name in LAYOUTS
}
#: The 10 layouts of SGT Table 2 and the 3 of SGT Fig. 6, by dataset name.
BENCHMARK_DATASETS = tuple(DATASET_NAMES[n] for n in list(LAYOUTS)[:10])
TIME_BIAS_DATASETS = tuple(DATASET_NAMES[n] for n in ("TimeEarly", "TimeMiddle", "TimeLate"))

PARAMS = {
    "n_train": 1000,
    "n_test": 100,
    "time_steps": 50,
    "features": 50,
    "mu": 1.0,
    "scaling": "minmax",  # "minmax" (fitted on train, per cell) | "none"
    "generator_seed": None,  # None: the ``seed`` given to get_dataset
}


def _generate(layout: BoxLayout, n: int, t: int, f: int, mu: float, rng) -> tuple:
    """Raw samples (n, t, f) float64, labels (n,) int64, boxes (n, 4) int64."""
    if layout.time_extent > t or layout.feature_extent > f:
        raise ValueError(
            f"layout {layout.name!r} needs at least {layout.time_extent} time steps and "
            f"{layout.feature_extent} features, got time_steps={t}, features={f}"
        )
    labels = rng.integers(0, 2, size=n).astype(np.int64)
    x = rng.standard_normal((n, t, f))
    te, fe = layout.time_extent, layout.feature_extent
    t0 = rng.integers(0, max(t - te, 1), size=n)
    f0 = rng.integers(0, max(f - fe, 1), size=n)
    if layout.positional == "time":  # public code: feature start fixed per class
        f0 = np.where(labels == 1, layout.loc1, layout.loc2)
    elif layout.positional == "feature":  # time start fixed per class
        t0 = np.where(labels == 1, layout.loc1, layout.loc2)
    else:
        if layout.time_start is not None:
            t0 = np.full(n, layout.time_start)
        if layout.feature_start is not None:
            f0 = np.full(n, layout.feature_start)
    if layout.positional and (f0.max() + fe > f or t0.max() + te > t):
        raise ValueError(f"layout {layout.name!r} does not fit {t} x {f}")
    shift = np.where(labels == 1, mu, -mu) if layout.positional is None else np.full(n, mu)
    for i in range(n):
        x[i, t0[i] : t0[i] + te, f0[i] : f0[i] + fe] += shift[i]
    boxes = np.stack([f0, t0, f0 + fe, t0 + te], axis=1).astype(np.int64)
    return x, labels, boxes


@lru_cache(maxsize=32)
def _both_splits(layout_name: str, n_train, n_test, t, f, mu, scaling, seed):
    layout = LAYOUTS[layout_name].scaled(t, f)
    code = list(LAYOUTS).index(layout_name)
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        rng = np.random.default_rng([seed, code, SPLIT_CODES[split]])
        out[split] = _generate(layout, n, t, f, mu, rng)
    if scaling == "minmax":
        lo = out["train"][0].min(axis=0)
        span = out["train"][0].max(axis=0) - lo
        span[span == 0] = 1.0
        out = {s: ((x - lo) / span, y, b) for s, (x, y, b) in out.items()}
    elif scaling != "none":
        raise ValueError(f"scaling must be 'minmax' or 'none', got {scaling!r}")
    return out


def make_timeseries(layout: str, split: str, **kw) -> ImageDataset:
    """The ``split`` of benchmark layout ``layout`` (a key of ``LAYOUTS``), see the module doc."""
    if layout not in LAYOUTS:
        raise KeyError(f"unknown layout {layout!r}; choose one of: {', '.join(LAYOUTS)}")
    p = {**PARAMS, **kw}
    t, f = int(p["time_steps"]), int(p["features"])
    if t != f:
        raise ValueError(
            f"time_steps ({t}) must equal features ({f}): samples are stored as square "
            "(1, T, F) images"
        )
    n_train, n_test = int(p["n_train"]), int(p["n_test"])
    if n_train < 2 or n_test < 1:
        raise ValueError(f"need n_train >= 2 and n_test >= 1, got {n_train}, {n_test}")
    seed = int(p["generator_seed"] or 0)
    splits = _both_splits(layout, n_train, n_test, t, f, float(p["mu"]), p["scaling"], seed)
    raw, labels, boxes = splits[split]
    x = torch.from_numpy(raw.astype(np.float32)).unsqueeze(1)
    y = torch.from_numpy(labels)
    name = DATASET_NAMES[layout]
    params = {k: p[k] for k in PARAMS} | {"generator_seed": seed}
    provenance = {
        "dataset": name,
        "split": split,
        "source": "generated",
        "path": None,
        "layout": layout,
        "generator": params,
        "process": "gaussian: background N(0,1), box N(+-mu, 1) (benchmark public code)",
        "rng": "numpy.random.default_rng([generator_seed, layout_code, split_code])",
        "n": len(y),
        "n_full": len(y),
        "shape": [1, t, f],
        "layout_axes": "(channel=1, time, feature)",
        "sha256": sha256_arrays(x, y),
        "checksum_of": "float32 samples (N, 1, T, F) then int64 labels",
        "normalisation": {"scale": f"{p['scaling']} per (time, feature) cell, fitted on train"},
        "subset": None,
        "notes": ["boxes are (feature start, time start, feature end, time end), end exclusive"],
    }
    return ImageDataset(
        name=name,
        split=split,
        x=x,
        y=y,
        num_classes=2,
        in_channels=1,
        image_size=t,
        mean=(0.0,),
        std=(1.0,),
        provenance=provenance,
        boxes=torch.from_numpy(boxes),
        attributes={"layout": layout, "time_steps": t, "features": f},
    )


def _ts_info(layout: str):
    def info(n_train=1000, n_test=100, time_steps=50, features=50, **kw) -> DatasetInfo:
        return DatasetInfo(
            name=DATASET_NAMES[layout],
            num_classes=2,
            in_channels=1,
            image_size=int(time_steps),
            mean=(0.0,),
            std=(1.0,),
            in_memory=True,
            sources=("generated",),
            auto_order=("generated",),
            sizes={"train": int(n_train), "test": int(n_test)},
            has_boxes=True,
            notes=f"time-series benchmark layout {layout}: (1, time, feature) samples",
            title=f"synthetic time series, {layout} layout",
        )

    return info


for _layout in LAYOUTS:
    register(
        DatasetSpec(
            name=DATASET_NAMES[_layout],
            info=_ts_info(_layout),
            sources={
                "generated": generated_source(
                    lambda root, split, download, kw, _l=_layout: make_timeseries(_l, split, **kw)
                )
            },
            auto_order=("generated",),
            params=dict(PARAMS),
            inherit={"generator_seed": "seed"},
            description=f"time-series benchmark layout {_layout} (Ismail et al. 2020)",
        )
    )


# --- MNIST as a sequence -----------------------------------------------------------------------
MNIST_SEQUENCE = "mnist_sequence"
_MNIST_SEQ_PARAMS = {"mnist_source": "auto"}


def _mnist_sequence(root: Path, split: str, download, kw) -> ImageDataset:
    base = get_dataset("mnist", split, root=root, source=kw["mnist_source"], download=download)
    x = base.x * base.std[0] + base.mean[0]  # back to [0, 1] pixels
    provenance = dict(base.provenance)
    provenance.update(
        dataset=MNIST_SEQUENCE,
        layout_axes="(channel=1, time = image row, feature = image column)",
        normalisation={"scale": "pixels / 255 in [0, 1], no mean/std"},
        base_dataset="mnist",
    )
    return ImageDataset(
        name=MNIST_SEQUENCE,
        split=split,
        x=x.contiguous(),
        y=base.y,
        num_classes=10,
        in_channels=1,
        image_size=base.image_size,
        mean=(0.0,),
        std=(1.0,),
        provenance=provenance,
        attributes={"time_steps": base.image_size, "features": base.image_size},
    )


def _mnist_seq_locate(root: Path, split: str, kw):
    check_available("mnist", root=root, source=kw["mnist_source"], split=split)
    return Path("<mnist>")


register(
    DatasetSpec(
        name=MNIST_SEQUENCE,
        info=lambda **kw: DatasetInfo(
            name=MNIST_SEQUENCE,
            num_classes=10,
            in_channels=1,
            image_size=28,
            mean=(0.0,),
            std=(1.0,),
            in_memory=True,
            sources=("mnist",),
            auto_order=("mnist",),
            sizes={},
            has_boxes=False,
            notes="MNIST as 28 time steps x 28 features (rows are time)",
            title="MNIST as a time series",
            classes=tuple(str(digit) for digit in range(10)),
        ),
        sources={
            "mnist": generated_source(
                _mnist_sequence,
                locate=_mnist_seq_locate,
                describe="the mnist dataset (any of its sources)",
                fix="make get_dataset('mnist') available (see its sources)",
                name="mnist",
            )
        },
        auto_order=("mnist",),
        params=dict(_MNIST_SEQ_PARAMS),
        description="MNIST read as a multivariate time series (SGT Fig. 5)",
    )
)
