"""Oxford-IIIT Pet (lazy, RGB, resized to ``image_size``, default 224) with VOC boxes.

Splits: ``train`` is torchvision's ``"trainval"``, ``test`` its ``"test"``. Labels are the 37
breeds. Boxes come from ``<root>/oxford-iiit-pet/annotations/xmls/<image>.xml`` (Pascal VOC; the
Pet boxes are head boxes and exist only for part of the images), converted to 0-based max
exclusive and scaled outward to the resized image (``_formats.py``). Images without an xml get
``has_box=False`` and the sentinel box ``(-1, -1, -1, -1)``; the counts are in the provenance
(SIB skips them).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ._dataset import IMAGENET_MEAN, IMAGENET_STD, DatasetInfo, ImageDataset, sha256_strings
from ._formats import MISSING_BOX, join_boxes, load_pet_boxes
from ._registry import DatasetSpec, register
from ._sources import root_and_torchvision_sources
from ._transforms import TorchvisionItemLoader

__all__ = ["FOLDER", "TV_SPLITS", "URL"]

URL = "https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz"
FOLDER = Path("oxford-iiit-pet")
TV_SPLITS = {"train": "trainval", "test": "test"}


def _needed(root: Path, split: str) -> list[Path]:
    base = root / FOLDER
    return [base / "images", base / "annotations" / f"{TV_SPLITS[split]}.txt"]


def _locate(root: Path, split: str, kw) -> Path | None:
    return root / FOLDER if all(p.exists() for p in _needed(root, split)) else None


def _describe(root: Path, split: str, kw) -> str:
    missing = [str(p) for p in _needed(root, split) if not p.exists()]
    return f"no torchvision OxfordIIITPet layout under {root} (missing {', '.join(missing)})"


def _make_load(source: str):
    def load(root: Path, split: str, download: bool, kw) -> ImageDataset:
        import torchvision
        from PIL import Image
        from torchvision.datasets import OxfordIIITPet

        tv = OxfordIIITPet(str(root), split=TV_SPLITS[split], download=download)
        images = [Path(p) for p in tv._images]
        labels = torch.tensor(tv._labels, dtype=torch.int64)
        stems = [p.stem for p in images]
        size = int(kw["image_size"])
        annotations_dir = root / FOLDER / "annotations"
        xml_dir = annotations_dir / "xmls"
        annotations = load_pet_boxes(annotations_dir, return_sizes=True) if xml_dir.is_dir() else {}
        by_stem = dict(zip(stems, images, strict=True))

        def size_of(stem: str) -> tuple[int, int]:
            with Image.open(by_stem[stem]) as im:
                return im.size

        boxes, has_box = join_boxes(stems, annotations, size, size_of)
        n_box = int(has_box.sum())
        provenance = {
            "dataset": "oxford_pet",
            "split": split,
            "source": source,
            "path": str(root / FOLDER),
            "torchvision_class": "OxfordIIITPet",
            "torchvision_split": TV_SPLITS[split],
            "torchvision_version": torchvision.__version__,
            "downloaded": bool(download),
            "n": len(images),
            "n_full": len(images),
            "shape": [3, size, size],
            "sha256": sha256_strings(
                f"{p.name}\t{int(y)}" for p, y in zip(images, labels, strict=True)
            ),
            "checksum_of": "the split's file list 'image.jpg<TAB>label', in order",
            "boxes": {
                "xml_dir": str(xml_dir),
                "n_with_box": n_box,
                "n_without_box": len(images) - n_box,
                "missing_box_sentinel": list(MISSING_BOX),
                "convention": "(x_min, y_min, x_max, y_max) 0-based, max exclusive, resized image",
            },
            "normalisation": {"mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)},
            "subset": None,
            "notes": [
                f"images converted to RGB and resized to {size}x{size} (aspect not kept)",
                f"{len(images) - n_box} of {len(images)} images have no box xml (has_box=False)",
            ],
        }
        return ImageDataset(
            name="oxford_pet",
            split=split,
            item_loader=TorchvisionItemLoader(tv, size, IMAGENET_MEAN, IMAGENET_STD),
            y=labels,
            num_classes=37,
            in_channels=3,
            image_size=size,
            mean=IMAGENET_MEAN,
            std=IMAGENET_STD,
            provenance=provenance,
            boxes=boxes,
            has_box=has_box,
            attributes={"image_stems": stems},
        )

    return load


def _info(image_size: int = 224, **kw) -> DatasetInfo:
    return DatasetInfo(
        name="oxford_pet",
        num_classes=37,
        in_channels=3,
        image_size=int(image_size),
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        in_memory=False,
        sources=("root", "torchvision"),
        auto_order=("root", "torchvision"),
        sizes={"train": 3680, "test": 3669},
        has_boxes=True,
        notes="train = torchvision 'trainval'; boxes from annotations/xmls (part of the images)",
        title="Oxford-IIIT Pet",
    )


register(
    DatasetSpec(
        name="oxford_pet",
        info=_info,
        sources=root_and_torchvision_sources(
            _locate,
            _describe,
            lambda source: {"load": _make_load(source)},
            layout_hint=(
                "{root}/oxford-iiit-pet/images/ and annotations/ "
                "(with trainval.txt, test.txt, xmls/)"
            ),
            url=URL,
        ),
        auto_order=("root", "torchvision"),
        params={"image_size": 224},
        description="Oxford-IIIT Pet, 37 breeds, lazy RGB resized to image_size, head boxes",
    )
)
