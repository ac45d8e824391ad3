"""Lazy image loading for the large RGB sets (Caltech-101, Oxford-IIIT Pet).

Items are read on access through the torchvision dataset object: the PIL image is converted to
RGB (Caltech-101 has grayscale images), resized to ``image_size`` x ``image_size`` (bilinear,
antialiased; the aspect ratio is not kept, so boxes scale per axis), scaled to [0, 1] and
normalised. The loader is a plain picklable object, so DataLoader workers can use it.
"""

from __future__ import annotations

import torch

from .info import Stats


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
