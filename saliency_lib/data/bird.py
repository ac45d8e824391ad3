"""BIRD (SGT Fig. 2 (B)): the Kaggle "bird species" set (gpiosenka/100-bird-species, the SGT
reference code's ``bird260``), read in its published folder layout (docs/methods.md §10).

Layout: ``<bird_dir>/{train,valid,test}/<CLASS NAME>/<image>.jpg`` (``bird_dir`` default
``<root>/bird``). The classes are the sorted folder names of ``train/``; every split's labels use
that order (a class folder missing from ``train/`` is an error). ``split="train"`` reads
``train/``, ``split="test"`` reads ``test_split`` (default ``test``; ``valid`` is the other
held-out folder). Lazy RGB items resized to ``image_size`` (the images are 224 x 224 already).
``normalise``: ``imagenet`` (the statistics of the ImageNet-pretrained VGG-16, default) or
``none`` (pixels / 255, what the SGT reference code feeds). There is no download (Kaggle needs an
account): place the unzipped set there.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ._dataset import IMAGENET_MEAN, IMAGENET_STD, DatasetInfo, ImageDataset, sha256_strings
from ._registry import DatasetSpec, register
from ._sources import Source

__all__ = ["IMAGE_SUFFIXES", "bird_dir", "class_folders"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
NORMALISATIONS = {"imagenet": (IMAGENET_MEAN, IMAGENET_STD), "none": ((0.0,) * 3, (1.0,) * 3)}


def bird_dir(root: Path, kw) -> Path:
    return Path(kw["bird_dir"]).expanduser() if kw.get("bird_dir") else Path(root) / "bird"


def class_folders(folder: Path) -> list[str]:
    """The class folder names of one split folder, sorted."""
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def _split_folder(split: str, kw) -> str:
    return "train" if split == "train" else str(kw["test_split"])


class ImageFileLoader:
    """``loader(j)`` -> normalised float32 (3, S, S) tensor of image file ``files[j]``."""

    def __init__(self, files: list[Path], size: int, mean, std):
        self.files = files
        self.size = int(size)
        self.mean, self.std = list(mean), list(std)

    def __call__(self, j: int) -> torch.Tensor:
        import torchvision.transforms.functional as TF
        from PIL import Image

        with Image.open(self.files[j]) as im:
            image = im.convert("RGB")
        if image.size != (self.size, self.size):
            image = TF.resize(image, [self.size, self.size], antialias=True)
        return TF.normalize(TF.to_tensor(image), self.mean, self.std)


def _locate(root: Path, split: str, kw) -> Path | None:
    base = bird_dir(root, kw)
    ok = (base / "train").is_dir() and (base / _split_folder(split, kw)).is_dir()
    return base if ok else None


def _describe(root: Path, split: str, kw) -> str:
    base = bird_dir(root, kw)
    return f"no {base}/train/ and {base}/{_split_folder(split, kw)}/ class folders"


def _load(root: Path, split: str, download: bool, kw) -> ImageDataset:
    base = bird_dir(root, kw)
    classes = class_folders(base / "train")
    if not classes:
        raise ValueError(f"{base / 'train'} has no class folders")
    index = {c: i for i, c in enumerate(classes)}
    folder = base / _split_folder(split, kw)
    files, labels = [], []
    for name in class_folders(folder):
        if name not in index:
            raise ValueError(f"{folder / name}: class not in {base / 'train'}")
        images = sorted(p for p in (folder / name).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        files += images
        labels += [index[name]] * len(images)
    if not files:
        raise ValueError(f"{folder} holds no images")
    mean, std = NORMALISATIONS[kw["normalise"]]
    size = int(kw["image_size"])
    listing = [f"{p.parent.name}/{p.name}\t{y}" for p, y in zip(files, labels, strict=True)]
    provenance = {
        "dataset": "bird",
        "split": split,
        "source": "root",
        "path": str(folder),
        "downloaded": False,
        "n": len(files),
        "n_full": len(files),
        "classes": len(classes),
        "shape": [3, size, size],
        "sha256": sha256_strings(listing),
        "checksum_of": "the split's file list 'class/image<TAB>label', in order",
        "normalisation": {"name": kw["normalise"], "mean": list(mean), "std": list(std)},
        "subset": None,
    }
    return ImageDataset(
        name="bird",
        split=split,
        item_loader=ImageFileLoader(files, size, mean, std),
        y=torch.tensor(labels, dtype=torch.int64),
        num_classes=len(classes),
        in_channels=3,
        image_size=size,
        mean=mean,
        std=std,
        provenance=provenance,
        attributes={"classes": tuple(classes)},
    )


def _info(image_size: int = 224, normalise: str = "imagenet", **kw) -> DatasetInfo:
    if normalise not in NORMALISATIONS:
        raise ValueError(f"normalise must be one of {', '.join(NORMALISATIONS)}, got {normalise!r}")
    mean, std = NORMALISATIONS[normalise]
    return DatasetInfo(
        name="bird",
        num_classes=0,  # the class folders decide (260 in the SGT code's version)
        in_channels=3,
        image_size=int(image_size),
        mean=mean,
        std=std,
        in_memory=False,
        sources=("root",),
        auto_order=("root",),
        notes="Kaggle bird species, split/class/image.jpg; lazy RGB",
        title="BIRD",
    )


register(
    DatasetSpec(
        name="bird",
        info=_info,
        sources={
            "root": Source(
                name="root",
                locate=_locate,
                describe=_describe,
                load=_load,
                fix="download the Kaggle set gpiosenka/100-bird-species and unzip it so that "
                "{root}/bird/train/<CLASS>/*.jpg and {root}/bird/test/ exist (or pass bird_dir=)",
            )
        },
        auto_order=("root",),
        params={"bird_dir": None, "image_size": 224, "test_split": "test", "normalise": "imagenet"},
        description="BIRD (Kaggle bird species), lazy RGB 224 x 224, classes from train/",
    )
)
