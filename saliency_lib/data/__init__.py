"""Data layer: datasets with provenance, offline sources, localisation boxes and fast loaders.

``get_dataset(name, split, ...)`` returns an ``ImageDataset`` whose items are ``(x, y, i)``;
``make_loader`` batches it deterministically per epoch. See docs/methods.md §2 and the module
docstrings (``mnist``, ``cifar``, ``caltech``, ``pet``, ``cluttered``, ``synthetic``).
"""

from . import caltech, cifar, cluttered, mnist, pet, synthetic, timeseries  # noqa: F401
from .api import check_available, dataset_info, get_dataset, list_datasets
from .dataset import ImageDataset
from .errors import DatasetNotFoundError, SubsetDataWarning
from .info import DatasetInfo
from .loader import EpochLoader, epoch_permutation, make_loader
from .spec import DATASETS, SPLITS
from .voc import MISSING_BOX, load_pet_boxes, parse_voc_box, scale_box

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
