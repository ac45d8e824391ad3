"""Data layer: datasets with provenance, offline sources, localisation boxes and fast loaders.

``get_dataset(name, split, ...)`` returns an ``ImageDataset`` whose items are ``(x, y, i)``;
``make_loader`` batches it deterministically per epoch. See docs/methods.md §2.

Layout: one public module per dataset family, each registering its datasets in ``DATASETS``
(``mnist``: fashion_mnist and mnist; ``cifar``; ``caltech``; ``pet``; ``cluttered``;
``synthetic``; ``timeseries``; ``bird``: SGT Fig. 2 (B), docs/methods.md §10; ``text``: ERASER's
datasets and their offline analogue, docs/methods.md §9), over private internals: ``_dataset``
(the types, statistics, errors, checksums), ``_formats`` (IDX, integer CSV, VOC xml),
``_transforms`` (raw pixels to normalised tensors, lazy items, resizing), ``_sources`` (data root,
offline paths, torchvision layouts and downloads, generated sets), ``_registry`` (specs, source
resolution and the entry points) and ``_loader`` (epoch loaders, splits and subsets).
"""

from . import bird, caltech, cifar, cluttered, mnist, pet, synthetic, text, timeseries  # noqa: F401
from ._dataset import SPLITS, DatasetInfo, DatasetNotFoundError, ImageDataset, SubsetDataWarning
from ._formats import MISSING_BOX, load_pet_boxes, parse_voc_box, scale_box
from ._loader import EpochLoader, epoch_permutation, make_loader
from ._registry import DATASETS, check_available, dataset_info, get_dataset, list_datasets

__all__ = [
    "DATASETS",
    "MISSING_BOX",
    "SPLITS",
    "DatasetInfo",
    "DatasetNotFoundError",
    "EpochLoader",
    "ImageDataset",
    "SubsetDataWarning",
    "check_available",
    "dataset_info",
    "epoch_permutation",
    "get_dataset",
    "list_datasets",
    "load_pet_boxes",
    "make_loader",
    "parse_voc_box",
    "scale_box",
]
