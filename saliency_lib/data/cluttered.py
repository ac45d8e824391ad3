"""Cluttered Fashion-MNIST: an offline localisation set with known boxes (docs/methods.md §2.3).

Built deterministically from a Fashion-MNIST split (train from train, test from test). Each
sample:

1. picks one item (a 28x28 Fashion-MNIST image with at least one non-zero pixel) and places it
   at a uniformly random position on a ``canvas_size`` x ``canvas_size`` black canvas;
2. records the **tight box** of the placed item's non-zero pixels,
   ``(x_min, y_min, x_max, y_max)`` max exclusive, and the item's class;
3. adds ``num_distractors`` patches of ``distractor_size`` x ``distractor_size`` cropped at
   random positions from other random items (never the placed item itself), each crop with at
   least ``distractor_min_fill`` of its pixels non-zero (so no crop is empty), at random
   positions chosen so that the **whole patch lies outside the tight box**. Patches may overlap
   each other and the item's empty margin; layers are combined with a pixel-wise maximum.

Consequently the box contains every non-zero pixel of the item and no distractor pixel, and
every pixel inside the box equals the item's pixel. ``dataset.item_source_indices`` (position of
the item in the Fashion-MNIST split) and ``dataset.item_positions`` ((x, y) of the item's
28x28 top-left corner) let the item layer be rebuilt (``render_item_layer``).

Randomness: ``numpy.random.default_rng([seed, split_code])`` (train 0, test 1); all sampling is
vectorised over samples (rejection steps resample only the failing rows). The result is cached
as ``<root>/cluttered_fashion_mnist/<split>-<key>.pt`` where ``key`` hashes every parameter;
the normalisation is Fashion-MNIST's (so a raw 0 pixel has the same normalised background).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from ._dataset import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_MEAN,
    FASHION_MNIST_STD,
    SPLIT_CODES,
    DatasetInfo,
    DatasetNotFoundError,
    ImageDataset,
    RawSplit,
)
from ._registry import DATASETS, DatasetSpec, register
from ._sources import generated_source
from ._transforms import to_dataset

__all__ = [
    "BUILD_VERSION",
    "DEFAULT_N",
    "NAME",
    "build_cluttered",
    "cache_path",
    "render_item_layer",
]

NAME = "cluttered_fashion_mnist"
#: Bump when the construction changes, so old caches are not reused.
BUILD_VERSION = 1
DEFAULT_N = {"train": 10000, "test": 2000}
PARAMS = {
    "n": None,  # None: DEFAULT_N[split]
    "canvas_size": 56,
    "num_distractors": 4,
    "distractor_size": 8,
    "distractor_min_fill": 0.25,
    "generator_seed": None,  # None: the ``seed`` given to get_dataset
    "cache": True,
    "base_source": "auto",
    "debian_dir": None,  # None: fashion_mnist's default
}
MAX_REJECTION_ROUNDS = 1000


def build_cluttered(
    items: np.ndarray,
    labels: np.ndarray,
    n: int,
    canvas_size: int = 56,
    num_distractors: int = 4,
    distractor_size: int = 8,
    distractor_min_fill: float = 0.25,
    seed: int | list[int] = 0,
    return_item_layer: bool = False,
) -> dict[str, np.ndarray]:
    """Build ``n`` cluttered samples from ``items`` (uint8 (N, h, w), one channel) and ``labels``.

    Returns a dict of arrays: ``images`` uint8 (n, canvas, canvas), ``labels`` (n,), ``boxes``
    int64 (n, 4) tight item boxes ``(x_min, y_min, x_max, y_max)`` max exclusive,
    ``item_index`` (n,) positions in ``items``, ``item_pos`` (n, 2) (x, y) of the item's corner,
    ``distractor_index`` (n, D), ``distractor_crop`` (n, D, 2) and ``distractor_pos`` (n, D, 2)
    ((x, y) corners), and with ``return_item_layer`` the canvas holding the item alone.
    """
    items = np.asarray(items)
    if items.ndim == 4:
        items = items[:, 0]
    if items.dtype != np.uint8 or items.ndim != 3:
        raise ValueError("items must be uint8 (N, h, w)")
    _, ih, iw = items.shape
    d, c = int(distractor_size), int(canvas_size)
    if c < max(ih, iw):
        raise ValueError(f"canvas_size {c} is smaller than the items ({ih}x{iw})")
    if not 0 < d <= min(ih, iw, c):
        raise ValueError(f"distractor_size must be in [1, {min(ih, iw, c)}], got {d}")
    if not 0.0 <= distractor_min_fill <= 1.0:
        raise ValueError("distractor_min_fill must be in [0, 1]")
    rng = np.random.default_rng(seed)
    nonzero = items > 0
    rows_any, cols_any = nonzero.any(axis=2), nonzero.any(axis=1)
    candidates = np.flatnonzero(rows_any.any(axis=1))
    if len(candidates) < 2:
        raise ValueError("need at least two non-empty items")
    rmin, rmax = rows_any.argmax(1), ih - 1 - rows_any[:, ::-1].argmax(1)
    cmin, cmax = cols_any.argmax(1), iw - 1 - cols_any[:, ::-1].argmax(1)

    item_index = rng.choice(candidates, size=n, replace=n > len(candidates))
    item_pos = np.stack(
        [rng.integers(0, c - iw + 1, size=n), rng.integers(0, c - ih + 1, size=n)], axis=1
    )
    px, py = item_pos[:, 0], item_pos[:, 1]
    boxes = np.stack(
        [
            px + cmin[item_index],
            py + rmin[item_index],
            px + cmax[item_index] + 1,
            py + rmax[item_index] + 1,
        ],
        axis=1,
    ).astype(np.int64)
    bx0, by0, bx1, by1 = boxes.T
    if num_distractors > 0:
        room = (bx0 >= d) | (c - bx1 >= d) | (by0 >= d) | (c - by1 >= d)
        if not room.all():
            raise ValueError(
                f"no room for a {d}x{d} distractor outside the item box on a {c}x{c} canvas "
                f"(sample {int(np.flatnonzero(~room)[0])}); use a larger canvas_size"
            )

    rows = np.arange(n)[:, None, None]
    ar_h, ar_w, ar_d = np.arange(ih), np.arange(iw), np.arange(d)
    canvas = np.zeros((n, c, c), dtype=np.uint8)
    canvas[rows, (py[:, None] + ar_h)[:, :, None], (px[:, None] + ar_w)[:, None, :]] = items[
        item_index
    ]
    item_layer = canvas.copy() if return_item_layer else None

    min_pixels = max(1, int(np.ceil(distractor_min_fill * d * d)))
    dist_index = np.zeros((n, num_distractors), dtype=np.int64)
    dist_crop = np.zeros((n, num_distractors, 2), dtype=np.int64)
    dist_pos = np.zeros((n, num_distractors, 2), dtype=np.int64)

    def draw_crop(m):
        return [
            rng.choice(candidates, size=m),
            rng.integers(0, iw - d + 1, size=m),
            rng.integers(0, ih - d + 1, size=m),
        ]

    def crops_of(j, cx, cy):
        r = (cy[:, None] + ar_d)[:, :, None]
        q = (cx[:, None] + ar_d)[:, None, :]
        return items[j[:, None, None], r, q]

    def draw_pos(m):
        return [rng.integers(0, c - d + 1, size=m), rng.integers(0, c - d + 1, size=m)]

    for k in range(num_distractors):
        j, cx, cy = draw_crop(n)
        crops = crops_of(j, cx, cy)
        bad = np.arange(n)
        ok = (j != item_index) & ((crops > 0).sum(axis=(1, 2)) >= min_pixels)
        for _ in range(MAX_REJECTION_ROUNDS):
            bad = bad[~ok]
            if len(bad) == 0:
                break
            nj, ncx, ncy = draw_crop(len(bad))
            j[bad], cx[bad], cy[bad] = nj, ncx, ncy
            crops[bad] = new = crops_of(nj, ncx, ncy)
            ok = (nj != item_index[bad]) & ((new > 0).sum(axis=(1, 2)) >= min_pixels)
        if len(bad):
            raise RuntimeError("could not find non-empty distractor crops")

        dx, dy = draw_pos(n)
        bad = np.arange(n)
        for _ in range(MAX_REJECTION_ROUNDS):
            overlap = (dx[bad] < bx1[bad]) & (dx[bad] + d > bx0[bad])
            overlap &= (dy[bad] < by1[bad]) & (dy[bad] + d > by0[bad])
            bad = bad[overlap]
            if len(bad) == 0:
                break
            dx[bad], dy[bad] = draw_pos(len(bad))
        if len(bad):
            raise RuntimeError("could not place distractors outside the item boxes")

        r = (dy[:, None] + ar_d)[:, :, None]
        q = (dx[:, None] + ar_d)[:, None, :]
        canvas[rows, r, q] = np.maximum(canvas[rows, r, q], crops)
        dist_index[:, k], dist_crop[:, k] = j, np.stack([cx, cy], 1)
        dist_pos[:, k] = np.stack([dx, dy], 1)

    out = {
        "images": canvas,
        "labels": np.asarray(labels)[item_index].astype(np.int64),
        "boxes": boxes,
        "item_index": item_index.astype(np.int64),
        "item_pos": item_pos.astype(np.int64),
        "distractor_index": dist_index,
        "distractor_crop": dist_crop,
        "distractor_pos": dist_pos,
    }
    if return_item_layer:
        out["item_layer"] = item_layer
    return out


def render_item_layer(
    items: np.ndarray, item_index: np.ndarray, item_pos: np.ndarray, canvas_size: int
) -> np.ndarray:
    """The canvas holding only the placed items (uint8 (n, canvas, canvas)), for checks."""
    items = np.asarray(items)
    if items.ndim == 4:
        items = items[:, 0]
    n, (_, ih, iw) = len(item_index), items.shape
    canvas = np.zeros((n, canvas_size, canvas_size), dtype=np.uint8)
    px, py = np.asarray(item_pos)[:, 0], np.asarray(item_pos)[:, 1]
    canvas[
        np.arange(n)[:, None, None],
        (py[:, None] + np.arange(ih))[:, :, None],
        (px[:, None] + np.arange(iw))[:, None, :],
    ] = items[np.asarray(item_index)]
    return canvas


# --- dataset registration ---------------------------------------------------------------------
def _params(split: str, kw) -> dict:
    """The parameters that determine the data (the cache key is their hash)."""
    return {
        "version": BUILD_VERSION,
        "split": split,
        "n": int(kw["n"] if kw["n"] is not None else DEFAULT_N[split]),
        "canvas_size": int(kw["canvas_size"]),
        "num_distractors": int(kw["num_distractors"]),
        "distractor_size": int(kw["distractor_size"]),
        "distractor_min_fill": float(kw["distractor_min_fill"]),
        "generator_seed": int(kw["generator_seed"] or 0),
    }


def cache_path(root: Path, split: str, kw) -> Path:
    """``<root>/cluttered_fashion_mnist/<split>-n<n>-seed<seed>-<key>.pt``."""
    params = _params(split, kw)
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    name = f"{split}-n{params['n']}-seed{params['generator_seed']}-{key}.pt"
    return Path(root) / NAME / name


def _base(kw):
    spec = DATASETS.get("fashion_mnist")
    base_kw = {} if kw["debian_dir"] is None else {"debian_dir": kw["debian_dir"]}
    return spec, spec.bind(base_kw)


def _locate(root: Path, split: str, kw) -> Path | None:
    path = cache_path(root, split, kw)
    if kw["cache"] and path.is_file():
        return path
    spec, base_kw = _base(kw)
    try:
        spec.resolve(split, root, kw["base_source"], kw["base_download"], base_kw)
    except DatasetNotFoundError as exc:
        raise DatasetNotFoundError(
            f"Dataset {NAME!r} is built from 'fashion_mnist', which is not available "
            f"(and no cache at {path}):\n{exc}"
        ) from None
    return path


def _save(path: Path, payload: dict) -> str | None:
    """Atomically write the cache; returns a warning text instead of failing."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        torch.save(payload, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        return f"could not write the cluttered-set cache {path}: {exc}"
    return None


def _load(root: Path, split: str, download: bool, kw) -> ImageDataset:
    params = _params(split, kw)
    path = cache_path(root, split, kw)
    payload = None
    if kw["cache"] and path.is_file():
        try:
            payload = torch.load(path, weights_only=True)
        except Exception as exc:  # a truncated or foreign file: rebuild it
            warnings.warn(f"ignoring unreadable cache {path}: {exc!r}", stacklevel=2)
    if payload is not None:
        provenance = json.loads(payload["provenance"])
        provenance["cache"] = {"path": str(path), "hit": True}
        arrays = {k: payload[k].numpy() for k in ("images", "labels", "boxes")}
        item_index, item_pos = payload["item_index"], payload["item_pos"]
    else:
        spec, base_kw = _base(kw)
        base = spec.load(split, root, kw["base_source"], kw["base_download"], base_kw, raw=True)
        built = build_cluttered(
            base.images,
            base.labels,
            n=params["n"],
            canvas_size=params["canvas_size"],
            num_distractors=params["num_distractors"],
            distractor_size=params["distractor_size"],
            distractor_min_fill=params["distractor_min_fill"],
            seed=[params["generator_seed"], SPLIT_CODES[split]],
        )
        provenance = {
            "source": "generated",
            "path": str(path),
            "generator": params,
            "rng": "numpy.random.default_rng([generator_seed, split_code]), train 0 / test 1",
            "base": {
                "dataset": "fashion_mnist",
                "split": split,
                "source": base.provenance.get("source"),
                "path": base.provenance.get("path"),
                "n": len(base.labels),
                "sha256": base.sha256(),
            },
            "notes": [
                "built from Fashion-MNIST: one item per canvas, distractor patches outside the "
                "item's tight box; boxes are (x_min, y_min, x_max, y_max), max exclusive"
            ],
        }
        arrays = {k: built[k] for k in ("images", "labels", "boxes")}
        item_index = torch.from_numpy(built["item_index"])
        item_pos = torch.from_numpy(built["item_pos"])
        if kw["cache"]:
            payload = {k: torch.from_numpy(v) for k, v in built.items()}
            payload["provenance"] = json.dumps(provenance)
            problem = _save(path, payload)
            provenance["cache"] = {"path": str(path), "hit": False, "written": problem is None}
            if problem:
                warnings.warn(problem, stacklevel=2)
    raw = RawSplit(arrays["images"], arrays["labels"], provenance)
    return to_dataset(
        raw,
        name=NAME,
        split=split,
        num_classes=10,
        mean=FASHION_MNIST_MEAN,
        std=FASHION_MNIST_STD,
        boxes=torch.as_tensor(arrays["boxes"]),
        per_sample={"item_source_indices": item_index, "item_positions": item_pos},
    )


def _info(canvas_size: int = 56, **kw) -> DatasetInfo:
    return DatasetInfo(
        name=NAME,
        num_classes=10,
        in_channels=1,
        image_size=int(canvas_size),
        mean=FASHION_MNIST_MEAN,
        std=FASHION_MNIST_STD,
        in_memory=True,
        sources=("generated",),
        auto_order=("generated",),
        sizes=dict(DEFAULT_N),
        has_boxes=True,
        notes="generated from fashion_mnist (same split) and cached under the data root",
        title="cluttered Fashion-MNIST",
        classes=FASHION_MNIST_CLASSES,
    )


register(
    DatasetSpec(
        name=NAME,
        info=_info,
        sources={
            "generated": generated_source(
                _load,
                locate=_locate,
                describe="generated from fashion_mnist",
                fix="make fashion_mnist available (see its own error message)",
            )
        },
        auto_order=("generated",),
        params={**PARAMS, "base_download": None},
        inherit={"generator_seed": "seed", "base_download": "download"},
        description="Fashion-MNIST items on a cluttered canvas with tight item boxes",
    )
)
