"""Pixels to normalised tensors: a whole raw split in memory (``to_dataset``), or one item on
access (``TorchvisionItemLoader`` for the large RGB sets, ``resized`` for a model's input size).

**Lazy RGB items** (Caltech-101, Oxford-IIIT Pet) are read through the torchvision dataset object:
the PIL image is converted to RGB (Caltech-101 has grayscale images), resized to ``image_size`` x
``image_size`` (bilinear, antialiased; the aspect ratio is not kept, so boxes scale per axis),
scaled to [0, 1] and normalised. The loaders are plain picklable objects, so DataLoader workers
can use them.

**Resizing to the model's input.** DeiT-tiny takes 224 x 224 inputs; fed 32 x 32 CIFAR images it
resizes them inside its forward pass, so saliency and masking act on 32 x 32 positions. The HLGM
paper resizes the images themselves ("we resized the input images from 32x32 to 224x224 pixels
and used them as input", Section IV; Fig. 5: masking "224x224" pixels). :func:`resized` does that
before the model: items are upsampled on access with the model's own interpolation (bilinear,
``align_corners=False``), so the clean forward pass computes the same function while saliency and
masking see 224 x 224 positions (docs/methods.md §3.6). Bilinear resizing commutes with the
per-channel normalisation.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ._dataset import ImageDataset, RawSplit, Stats


# --- in memory -------------------------------------------------------------------------------
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


# --- on access -------------------------------------------------------------------------------
class TorchvisionItemLoader:
    """``loader(j)`` -> normalised float32 (3, S, S) tensor of item ``j`` of ``tv_dataset``."""

    def __init__(self, tv_dataset, image_size: int, mean: Stats, std: Stats):
        self.tv_dataset = tv_dataset
        self.image_size = int(image_size)
        self.mean = list(mean)
        self.std = list(std)

    def __call__(self, j: int) -> torch.Tensor:
        import torchvision.transforms.functional as TF

        image = self.tv_dataset[j][0].convert("RGB")
        image = TF.resize(image, [self.image_size, self.image_size], antialias=True)
        return TF.normalize(TF.to_tensor(image), self.mean, self.std)


class ResizedItemLoader:
    """``loader(j)`` -> item ``j`` of the in-memory ``x`` (N, C, h, w), resized to (C, S, S)."""

    def __init__(self, x: torch.Tensor, size: int):
        self.x = x
        self.size = int(size)

    def __call__(self, j: int) -> torch.Tensor:
        size = (self.size, self.size)
        return F.interpolate(self.x[j : j + 1], size=size, mode="bilinear", align_corners=False)[0]


def resized(dataset: ImageDataset, size: int) -> ImageDataset:
    """``dataset`` (in memory, full split) served at ``size`` x ``size`` per item (lazy: the
    resized set is not held in memory). ``size`` equal to the stored size returns ``dataset``."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"image_size must be a positive int, got {size!r}")
    if size == dataset.image_size:
        return dataset
    if dataset.x is None:
        raise ValueError(f"{dataset.name!r} is lazy; resize it with its own image_size parameter")
    if dataset.boxes is not None:
        raise ValueError(f"{dataset.name!r} has boxes; resizing would need them scaled too")
    provenance = copy.deepcopy(dataset.provenance)
    provenance.setdefault("notes", []).append(
        f"resized on access from {dataset.image_size}x{dataset.image_size} to {size}x{size} "
        "(bilinear, align_corners=False, as the model's own resize)"
    )
    provenance["shape"] = [dataset.in_channels, size, size]
    return ImageDataset(
        name=dataset.name,
        split=dataset.split,
        item_loader=ResizedItemLoader(dataset.x, size),
        y=dataset.y,
        num_classes=dataset.num_classes,
        in_channels=dataset.in_channels,
        image_size=size,
        mean=dataset.mean,
        std=dataset.std,
        provenance=provenance,
        source_indices=dataset.source_indices,
    )
