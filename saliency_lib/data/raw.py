"""Raw uint8 splits and their conversion to a normalised in-memory ``ImageDataset``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .checksum import sha256_arrays
from .dataset import ImageDataset
from .info import Stats


@dataclass
class RawSplit:
    """A split as loaded from its source: ``images`` uint8 (N, C, H, W), ``labels`` int64 (N,).

    ``provenance`` holds at least ``source`` and ``path``; ``to_dataset`` adds sizes and the
    checksum of the raw arrays.
    """

    images: np.ndarray
    labels: np.ndarray
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        images = np.asarray(self.images)
        if images.ndim == 3:  # (N, H, W) -> (N, 1, H, W)
            images = images[:, None]
        if images.dtype != np.uint8 or images.ndim != 4:
            raise ValueError(
                f"raw images must be uint8 (N, C, H, W), got {images.dtype} {images.shape}"
            )
        labels = np.asarray(self.labels).astype(np.int64, copy=False)
        if labels.shape != (len(images),):
            raise ValueError(f"labels shape {labels.shape} does not match {len(images)} images")
        self.images = np.ascontiguousarray(images)
        self.labels = np.ascontiguousarray(labels)

    def sha256(self) -> str:
        return sha256_arrays(self.images, self.labels)


def normalise_uint8(images: np.ndarray | torch.Tensor, mean: Stats, std: Stats) -> torch.Tensor:
    """uint8 (N, C, H, W) -> float32 ``(p / 255 - mean) / std`` per channel (a new tensor)."""
    x = torch.as_tensor(images).to(torch.float32).div_(255.0)
    m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return x.sub_(m).div_(s)


def to_dataset(
    raw: RawSplit,
    *,
    name: str,
    split: str,
    num_classes: int,
    mean: Stats,
    std: Stats,
    boxes: torch.Tensor | None = None,
    per_sample: dict[str, torch.Tensor] | None = None,
    attributes: dict[str, Any] | None = None,
) -> ImageDataset:
    """Normalise ``raw`` and wrap it in an in-memory ``ImageDataset`` with full provenance."""
    n, c, h, w = raw.images.shape
    if h != w:
        raise ValueError(f"images must be square, got {h}x{w}")
    if len(raw.labels) and (raw.labels.min() < 0 or raw.labels.max() >= num_classes):
        raise ValueError(f"labels outside [0, {num_classes})")
    provenance = {
        "dataset": name,
        "split": split,
        **raw.provenance,
        "n": int(n),
        "n_full": int(n),
        "shape": [int(c), int(h), int(w)],
        "sha256": raw.sha256(),
        "checksum_of": "raw uint8 images (N, C, H, W) then int64 labels (dtype, shape, bytes)",
        "normalisation": {"mean": list(mean), "std": list(std), "scale": "pixel / 255"},
        "subset": None,
    }
    provenance.setdefault("notes", [])
    return ImageDataset(
        name=name,
        split=split,
        x=normalise_uint8(raw.images, mean, std),
        y=torch.from_numpy(raw.labels),
        num_classes=num_classes,
        in_channels=c,
        image_size=h,
        mean=mean,
        std=std,
        provenance=provenance,
        boxes=boxes,
        per_sample=per_sample,
        attributes=attributes,
    )


def denormalise_to_uint8(dataset: ImageDataset) -> np.ndarray:
    """The raw uint8 (N, C, H, W) pixels of an in-memory dataset (exact inverse of
    ``normalise_uint8``: float32 error is far below half a grey level)."""
    if dataset.x is None:
        raise ValueError("denormalise_to_uint8 needs an in-memory dataset")
    m = torch.tensor(dataset.mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(dataset.std, dtype=torch.float32).view(1, -1, 1, 1)
    pixels = (dataset.x * s + m).mul_(255.0).round_().clamp_(0, 255)
    return pixels.to(torch.uint8).numpy()
