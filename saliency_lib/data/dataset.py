"""``ImageDataset``: the one dataset type every loader returns.

``dataset[i]`` is ``(x, y, i)``: the normalised image (C, H, W) float32, the label (int) and ``i``,
the position in *this* dataset (after subsetting), which training code uses to key per-sample
state such as SMOOT's K vector.

In-memory sets hold ``.x`` (float32 (N, C, H, W), normalised) and ``.y`` (int64 (N,)). Lazy sets
(Caltech-101, Oxford-IIIT Pet) have ``.x = None`` and read each image on access through an item
loader that maps a *source index* (position in the full split) to a normalised tensor.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch.utils.data import Dataset

from .checksum import sha256_arrays
from .info import Stats, background_value

ItemLoader = Callable[[int], torch.Tensor]


class ImageDataset(Dataset):
    """A labelled image split with its normalisation, provenance and optional boxes.

    Attributes: ``name``, ``split``, ``num_classes``, ``in_channels``, ``image_size`` (int, square
    images), ``mean``/``std`` (tuples per channel), ``background`` (normalised raw 0: float for one
    channel, tuple otherwise), ``provenance`` (dict), ``in_memory``, ``x`` (or ``None`` when lazy),
    ``y`` and ``targets`` (int64 labels), ``source_indices`` (position of each item in the full
    split), ``boxes`` ((N, 4) int64 ``(x_min, y_min, x_max, y_max)``, max exclusive) and
    ``has_box`` ((N,) bool) when the set has localisation boxes, else ``None``. Per-sample extras
    (e.g. ``item_positions`` of the cluttered set) are attributes too and follow subsetting.
    """

    def __init__(
        self,
        *,
        name: str,
        split: str,
        y: torch.Tensor,
        num_classes: int,
        in_channels: int,
        image_size: int,
        mean: Stats,
        std: Stats,
        provenance: dict[str, Any],
        x: torch.Tensor | None = None,
        item_loader: ItemLoader | None = None,
        boxes: torch.Tensor | None = None,
        has_box: torch.Tensor | None = None,
        source_indices: torch.Tensor | None = None,
        per_sample: Mapping[str, torch.Tensor] | None = None,
        attributes: Mapping[str, Any] | None = None,
    ):
        if (x is None) == (item_loader is None):
            raise ValueError("give exactly one of x (in-memory) or item_loader (lazy)")
        y = torch.as_tensor(y, dtype=torch.int64)
        n = len(y)
        if x is not None:
            if x.dtype != torch.float32 or x.dim() != 4 or len(x) != n:
                raise ValueError(f"x must be float32 (N, C, H, W) with N={n}, got {tuple(x.shape)}")
            if tuple(x.shape[1:]) != (in_channels, image_size, image_size):
                raise ValueError(
                    f"x has shape {tuple(x.shape[1:])}, "
                    f"expected {(in_channels, image_size, image_size)}"
                )
        if len(mean) != in_channels or len(std) != in_channels:
            raise ValueError("mean and std need one value per channel")
        if boxes is not None:
            boxes = torch.as_tensor(boxes, dtype=torch.int64)
            if boxes.shape != (n, 4):
                raise ValueError(f"boxes must have shape ({n}, 4), got {tuple(boxes.shape)}")
            has_box = (
                torch.ones(n, dtype=torch.bool)
                if has_box is None
                else torch.as_tensor(has_box, dtype=torch.bool)
            )
        self.name = name
        self.split = split
        self.x = x
        self.y = y
        self.num_classes = int(num_classes)
        self.in_channels = int(in_channels)
        self.image_size = int(image_size)
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        self.provenance = provenance
        self.boxes = boxes
        self.has_box = has_box
        self.source_indices = (
            torch.arange(n, dtype=torch.int64)
            if source_indices is None
            else torch.as_tensor(source_indices, dtype=torch.int64)
        )
        self._item_loader = item_loader
        self._per_sample: dict[str, torch.Tensor] = {}
        for key, value in (per_sample or {}).items():
            if len(value) != n:
                raise ValueError(
                    f"per-sample attribute {key!r} has {len(value)} rows, expected {n}"
                )
            self._per_sample[key] = value
            setattr(self, key, value)
        for key, value in (attributes or {}).items():
            setattr(self, key, value)
        self._attributes = dict(attributes or {})

    # --- Dataset protocol -------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int, int]:
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} items")
        if self.x is not None:
            image = self.x[i]
        else:
            image = self._item_loader(int(self.source_indices[i]))
        return image, int(self.y[i]), i

    # --- properties -------------------------------------------------------------------------
    @property
    def in_memory(self) -> bool:
        return self.x is not None

    @property
    def targets(self) -> torch.Tensor:
        return self.y

    @property
    def background(self) -> float | tuple[float, ...]:
        return background_value(self.mean, self.std)

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape of one image, (C, H, W)."""
        return (self.in_channels, self.image_size, self.image_size)

    # --- subsetting -------------------------------------------------------------------------
    def take(self, indices: torch.Tensor, subset_info: Mapping[str, Any] | None = None):
        """A new dataset holding the items at ``indices`` (positions in this dataset), in order.

        ``subset_info`` is stored under ``provenance["subset"]``; the indices' checksum is added.
        """
        indices = torch.as_tensor(indices, dtype=torch.int64)
        if indices.dim() != 1:
            raise ValueError("indices must be one-dimensional")
        if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= len(self)):
            raise IndexError("subset indices out of range")
        provenance = copy.deepcopy(self.provenance)
        info = dict(subset_info or {})
        info.setdefault("from_n", len(self))
        info["n"] = len(indices)
        info["indices_sha256"] = sha256_arrays(self.source_indices[indices])
        provenance["subset"] = info
        provenance["n"] = len(indices)
        return ImageDataset(
            name=self.name,
            split=self.split,
            x=None if self.x is None else self.x[indices],
            item_loader=self._item_loader,
            y=self.y[indices],
            num_classes=self.num_classes,
            in_channels=self.in_channels,
            image_size=self.image_size,
            mean=self.mean,
            std=self.std,
            provenance=provenance,
            boxes=None if self.boxes is None else self.boxes[indices],
            has_box=None if self.has_box is None else self.has_box[indices],
            source_indices=self.source_indices[indices],
            per_sample={k: v[indices] for k, v in self._per_sample.items()},
            attributes=self._attributes,
        )

    def __repr__(self) -> str:
        kind = "in-memory" if self.in_memory else "lazy"
        return (
            f"ImageDataset(name={self.name!r}, split={self.split!r}, n={len(self)}, "
            f"shape={self.shape}, num_classes={self.num_classes}, {kind}, "
            f"source={self.provenance.get('source')!r})"
        )
