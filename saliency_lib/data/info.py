"""Cheap dataset metadata and the normalisation statistics used for each dataset.

Pixels are scaled to [0, 1] and then normalised per channel: ``(p - mean) / std``. The
``background`` is the normalised value of a raw 0 pixel, ``(0 - mean) / std``, i.e. the fill used
for "removed" pixels on MNIST-like data (docs/methods.md §4.1).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

Stats = tuple[float, ...]

#: MNIST train-split pixel statistics (the usual constants).
MNIST_MEAN: Stats = (0.1307,)
MNIST_STD: Stats = (0.3081,)
#: Fashion-MNIST train-split pixel statistics.
FASHION_MNIST_MEAN: Stats = (0.2860,)
FASHION_MNIST_STD: Stats = (0.3530,)
#: CIFAR-10 train-split per-channel pixel statistics (RGB).
CIFAR10_MEAN: Stats = (0.4914, 0.4822, 0.4465)
CIFAR10_STD: Stats = (0.2470, 0.2435, 0.2616)
#: CIFAR-100 train-split per-channel pixel statistics (RGB).
CIFAR100_MEAN: Stats = (0.5071, 0.4865, 0.4409)
CIFAR100_STD: Stats = (0.2673, 0.2564, 0.2762)
#: ImageNet statistics, used for ImageNet-pretrained models (Caltech-101, Oxford-IIIT Pet).
IMAGENET_MEAN: Stats = (0.485, 0.456, 0.406)
IMAGENET_STD: Stats = (0.229, 0.224, 0.225)


def background_value(mean: Stats, std: Stats) -> float | Stats:
    """Normalised value of a raw 0 pixel: a float for one channel, a tuple per channel otherwise."""
    values = tuple(float(-m / s) for m, s in zip(mean, std, strict=True))
    return values[0] if len(values) == 1 else values


@dataclass(frozen=True)
class DatasetInfo:
    """What is known about a dataset without loading it (for validating configs early)."""

    name: str
    num_classes: int
    in_channels: int
    image_size: int
    mean: Stats
    std: Stats
    in_memory: bool
    sources: tuple[str, ...]
    auto_order: tuple[str, ...]
    sizes: dict[str, int | None] = field(default_factory=dict)
    has_boxes: bool = False
    notes: str = ""

    @property
    def background(self) -> float | Stats:
        return background_value(self.mean, self.std)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["background"] = self.background
        return out
