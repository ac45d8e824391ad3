"""Small synthetic classification sets for tests, with known informative pixels.

The image is tiled into ``block_size`` x ``block_size`` cells (a grid of
``G = image_size // block_size`` cells per side). Class ``c`` owns cell number
``round(linspace(0, G*G - 1, num_classes))[c]`` (row-major; with the defaults 8x8 images, 2x2
blocks and 4 classes these are the four diagonal cells). A sample of class ``c`` is Gaussian
noise (std ``noise``) plus ``signal`` on every channel of its class cell. So the label is
carried exactly by the pixels of ``informative_mask`` ((H, W) bool, the union of the class
cells); ``class_masks`` ((num_classes, H, W) bool) gives each class's cell and ``boxes`` the
box of each sample's own class cell ``(x_min, y_min, x_max, y_max)``, max exclusive.

Values are generated directly in normalised space: ``mean`` 0 and ``std`` 1 per channel, so
the ``background`` (normalised raw 0) is 0, the noise mean. Labels are balanced
(``arange(n) % num_classes``, shuffled). Train and test use
``numpy.random.default_rng([generator_seed, split_code])`` with split codes 0 and 1, so they
differ and are each deterministic; ``generator_seed`` defaults to ``get_dataset``'s ``seed``.
"""

from __future__ import annotations

import numpy as np
import torch

from ._dataset import SPLIT_CODES, DatasetInfo, ImageDataset, sha256_arrays
from ._registry import DatasetSpec, register
from ._sources import generated_source

__all__ = ["NAME", "PARAMS", "class_masks", "make_synthetic"]

NAME = "synthetic"
PARAMS = {
    "n": 512,
    "num_classes": 4,
    "image_size": 8,
    "in_channels": 1,
    "block_size": 2,
    "noise": 0.5,
    "signal": 1.0,
    "generator_seed": None,  # None: the ``seed`` given to get_dataset
}


def class_masks(num_classes: int, image_size: int, block_size: int) -> torch.Tensor:
    """(num_classes, H, W) bool: the cell that carries each class."""
    grid = image_size // block_size
    if grid < 1 or num_classes > grid * grid:
        raise ValueError(
            f"{num_classes} classes need {num_classes} cells of {block_size}x{block_size}, but a "
            f"{image_size}x{image_size} image has {max(grid, 0) ** 2}"
        )
    cells = np.round(np.linspace(0, grid * grid - 1, num_classes)).astype(int)
    masks = torch.zeros(num_classes, image_size, image_size, dtype=torch.bool)
    for c, cell in enumerate(cells):
        r, q = divmod(int(cell), grid)
        masks[c, r * block_size : (r + 1) * block_size, q * block_size : (q + 1) * block_size] = 1
    return masks


def _box_of(mask: torch.Tensor) -> tuple[int, int, int, int]:
    rows = torch.nonzero(mask.any(1)).flatten()
    cols = torch.nonzero(mask.any(0)).flatten()
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def make_synthetic(split: str, **kw) -> ImageDataset:
    """Build the synthetic ``split`` (see the module docstring for the construction)."""
    p = {**PARAMS, **kw}
    n, k, size, ch = int(p["n"]), int(p["num_classes"]), int(p["image_size"]), int(p["in_channels"])
    seed = int(p["generator_seed"] or 0)
    if k < 2 or n < 1 or ch < 1:
        raise ValueError("synthetic needs num_classes >= 2, n >= 1, in_channels >= 1")
    masks = class_masks(k, size, int(p["block_size"]))
    rng = np.random.default_rng([seed, SPLIT_CODES[split]])
    labels = rng.permutation(np.arange(n) % k).astype(np.int64)
    noise = rng.standard_normal((n, ch, size, size), dtype=np.float32) * np.float32(p["noise"])
    y = torch.from_numpy(labels)
    x = torch.from_numpy(noise)
    x += float(p["signal"]) * masks[y].unsqueeze(1).to(torch.float32)
    class_boxes = torch.tensor([_box_of(m) for m in masks], dtype=torch.int64)
    params = {k_: p[k_] for k_ in PARAMS} | {"generator_seed": seed}
    provenance = {
        "dataset": NAME,
        "split": split,
        "source": "generated",
        "path": None,
        "generator": params,
        "rng": "numpy.random.default_rng([generator_seed, split_code]), train 0 / test 1",
        "n": n,
        "n_full": n,
        "shape": [ch, size, size],
        "sha256": sha256_arrays(x, y),
        "checksum_of": "float32 images (N, C, H, W) then int64 labels (dtype, shape, bytes)",
        "normalisation": {"mean": [0.0] * ch, "std": [1.0] * ch, "scale": "none (generated)"},
        "subset": None,
        "notes": ["synthetic test data: class c adds `signal` on its own block of pixels"],
    }
    return ImageDataset(
        name=NAME,
        split=split,
        x=x,
        y=y,
        num_classes=k,
        in_channels=ch,
        image_size=size,
        mean=(0.0,) * ch,
        std=(1.0,) * ch,
        provenance=provenance,
        boxes=class_boxes[y],
        attributes={"informative_mask": masks.any(0), "class_masks": masks},
    )


def _info(num_classes=4, image_size=8, in_channels=1, n=512, **kw) -> DatasetInfo:
    return DatasetInfo(
        name=NAME,
        num_classes=int(num_classes),
        in_channels=int(in_channels),
        image_size=int(image_size),
        mean=(0.0,) * int(in_channels),
        std=(1.0,) * int(in_channels),
        in_memory=True,
        sources=("generated",),
        auto_order=("generated",),
        sizes={"train": int(n), "test": int(n)},
        has_boxes=True,
        notes="synthetic test data with a known informative_mask",
        title="synthetic images",
    )


register(
    DatasetSpec(
        name=NAME,
        info=_info,
        sources={
            "generated": generated_source(
                lambda root, split, download, kw: make_synthetic(split, **kw)
            )
        },
        auto_order=("generated",),
        params=dict(PARAMS),
        inherit={"generator_seed": "seed"},
        description="synthetic classification set with known informative pixels (tests)",
    )
)
