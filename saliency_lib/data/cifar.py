"""CIFAR-10 and CIFAR-100 (in memory, 3x32x32) through torchvision; no offline source exists.

``source="auto"`` tries ``root`` (``<root>/cifar-10-batches-py/`` or ``<root>/cifar-100-python/``)
then ``torchvision`` (download). Normalised with the standard per-channel train statistics.
``image_size`` (default 32, native): other values serve each image resized to that size
(bilinear, on access; ``_transforms.resized``), e.g. 224 for DeiT-tiny so that saliency and
masking act on the model's input resolution (HLGM Section IV; docs/methods.md §3.6).
"""

from __future__ import annotations

from ._dataset import (
    CIFAR10_CLASSES,
    CIFAR10_MEAN,
    CIFAR10_STD,
    CIFAR100_CLASSES,
    CIFAR100_MEAN,
    CIFAR100_STD,
    DatasetInfo,
    ImageDataset,
    RawSplit,
    Stats,
)
from ._registry import DatasetSpec, register
from ._sources import TorchvisionLayout, torchvision_sources
from ._transforms import resized, to_dataset

__all__ = ["CIFAR10_LAYOUT", "CIFAR100_LAYOUT", "NATIVE_SIZE"]

NATIVE_SIZE = 32
CIFAR10_LAYOUT = TorchvisionLayout(
    tv_class="CIFAR10",
    folder="cifar-10-batches-py",
    files=(*(f"data_batch_{i}" for i in range(1, 6)), "test_batch", "batches.meta"),
    url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
)
CIFAR100_LAYOUT = TorchvisionLayout(
    tv_class="CIFAR100",
    folder="cifar-100-python",
    files=("train", "test", "meta"),
    url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
)


def _register_cifar(
    name: str,
    layout: TorchvisionLayout,
    num_classes: int,
    mean: Stats,
    std: Stats,
    title: str,
    classes: tuple[str, ...],
) -> None:
    def finish(raw: RawSplit, split: str, kw) -> ImageDataset:
        ds = to_dataset(raw, name=name, split=split, num_classes=num_classes, mean=mean, std=std)
        return resized(ds, kw["image_size"])

    def info(image_size: int = NATIVE_SIZE, **kw) -> DatasetInfo:
        return DatasetInfo(
            name=name,
            num_classes=num_classes,
            in_channels=3,
            image_size=int(image_size),
            mean=mean,
            std=std,
            in_memory=image_size == NATIVE_SIZE,
            sources=("root", "torchvision"),
            auto_order=("root", "torchvision"),
            sizes={"train": 50000, "test": 10000},
            notes="no offline source: needs root= with the data or a download",
            title=title,
            classes=classes,
        )

    register(
        DatasetSpec(
            name=name,
            info=info,
            sources=torchvision_sources(layout, finish),
            auto_order=("root", "torchvision"),
            params={"image_size": NATIVE_SIZE},
            description=f"{layout.tv_class}, 50,000 train / 10,000 test, 3x32x32 "
            "(image_size: served resized, e.g. 224 for DeiT-tiny)",
        )
    )


_register_cifar("cifar10", CIFAR10_LAYOUT, 10, CIFAR10_MEAN, CIFAR10_STD, "CIFAR-10",
                CIFAR10_CLASSES)  # fmt: skip
_register_cifar("cifar100", CIFAR100_LAYOUT, 100, CIFAR100_MEAN, CIFAR100_STD, "CIFAR-100",
                CIFAR100_CLASSES)  # fmt: skip
