"""Caltech-101 (lazy, RGB, resized to ``image_size``, default 224) through torchvision.

torchvision's ``Caltech101`` has no train/test split, so one is made here: stratified by class,
``test_fraction`` (default 0.2) of each class's images (largest-remainder rounding so the total
is ``round(test_fraction * N)``) go to test, drawn with ``split_seed`` (default 0, independent
of the subset ``seed``). Grayscale images are converted to RGB. ImageNet normalisation (the
models are ImageNet-pretrained). Needs ``<root>/caltech101/101_ObjectCategories/`` or a download.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ._dataset import IMAGENET_MEAN, IMAGENET_STD, DatasetInfo, ImageDataset, sha256_strings
from ._loader import stratified_split
from ._registry import DatasetSpec, register
from ._sources import root_and_torchvision_sources
from ._transforms import TorchvisionItemLoader

__all__ = ["FOLDER", "URL"]

URL = "https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip"
FOLDER = Path("caltech101") / "101_ObjectCategories"


def _locate(root: Path, split: str, kw) -> Path | None:
    return root / FOLDER if (root / FOLDER).is_dir() else None


def _describe(root: Path, split: str, kw) -> str:
    return f"no torchvision Caltech101 layout under {root} (missing {root / FOLDER})"


def _make_load(source: str):
    def load(root: Path, split: str, download: bool, kw) -> ImageDataset:
        import torchvision
        from torchvision.datasets import Caltech101

        tv = Caltech101(str(root), target_type="category", download=download)
        labels = np.asarray(tv.y, dtype=np.int64)
        n_test = int(round(float(kw["test_fraction"]) * len(labels)))
        train_idx, test_idx = stratified_split(labels, n_test, int(kw["split_seed"]))
        idx = train_idx if split == "train" else test_idx
        files = [
            f"{tv.categories[labels[j]]}/image_{tv.index[j]:04d}.jpg\t{labels[j]}" for j in idx
        ]
        size = int(kw["image_size"])
        provenance = {
            "dataset": "caltech101",
            "split": split,
            "source": source,
            "path": str(root / FOLDER),
            "torchvision_class": "Caltech101",
            "torchvision_version": torchvision.__version__,
            "downloaded": bool(download),
            "n": len(idx),
            "n_full": len(idx),
            "shape": [3, size, size],
            "sha256": sha256_strings(files),
            "checksum_of": "the split's file list 'category/image_XXXX.jpg<TAB>label', in order",
            "caltech_split": {
                "train": len(train_idx),
                "test": len(test_idx),
                "test_fraction": float(kw["test_fraction"]),
                "split_seed": int(kw["split_seed"]),
                "stratified": True,
            },
            "normalisation": {"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)},
            "subset": None,
            "notes": [
                "torchvision Caltech101 has no split: seeded stratified split made here",
                f"images converted to RGB and resized to {size}x{size} (aspect not kept)",
            ],
        }
        return ImageDataset(
            name="caltech101",
            split=split,
            item_loader=TorchvisionItemLoader(tv, size, IMAGENET_MEAN, IMAGENET_STD),
            y=torch.from_numpy(labels[idx]),
            source_indices=torch.from_numpy(idx),
            num_classes=len(tv.categories),
            in_channels=3,
            image_size=size,
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            provenance=provenance,
        )

    return load


def _info(image_size: int = 224, **kw) -> DatasetInfo:
    return DatasetInfo(
        name="caltech101",
        num_classes=101,
        in_channels=3,
        image_size=int(image_size),
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        in_memory=False,
        sources=("root", "torchvision"),
        auto_order=("root", "torchvision"),
        sizes={"total": 8677},
        notes="seeded stratified split (test_fraction, split_seed); lazy, RGB, resized",
        title="Caltech-101",
    )


register(
    DatasetSpec(
        name="caltech101",
        info=_info,
        sources=root_and_torchvision_sources(
            _locate,
            _describe,
            lambda source: {"load": _make_load(source)},
            layout_hint="{root}/caltech101/101_ObjectCategories/",
            url=URL,
        ),
        auto_order=("root", "torchvision"),
        params={"image_size": 224, "test_fraction": 0.2, "split_seed": 0},
        description="Caltech-101, 101 classes, lazy RGB resized to image_size",
    )
)
