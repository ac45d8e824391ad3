"""Resizing an in-memory set to a model's input resolution, as a data transform.

DeiT-tiny takes 224 x 224 inputs; fed 32 x 32 CIFAR images it resizes them inside its forward
pass, so saliency and masking act on 32 x 32 positions. The HLGM paper resizes the images
themselves ("we resized the input images from 32x32 to 224x224 pixels and used them as input",
Section IV; Fig. 5: masking "224x224" pixels). :func:`resized` does that before the model: items
are upsampled on access with the model's own interpolation (bilinear, ``align_corners=False``),
so the clean forward pass computes the same function while saliency and masking see 224 x 224
positions (docs/methods.md §3.6). Bilinear resizing commutes with the per-channel normalisation.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F

from .dataset import ImageDataset


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
