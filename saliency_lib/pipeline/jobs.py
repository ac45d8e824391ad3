"""Which notebooks run, and their validated parameters: the first step of every command.

``prepare_jobs(profile, only, seeds, sets=...)`` selects the notebooks (:func:`select_notebooks`),
validates each one's ``params/<profile>/<name>.yaml`` with the command line's overrides
(:func:`.params.validate_params`: keys, types, ranges, the run grid, the data) and returns one
:class:`NotebookJob` per notebook, with the run grid it trains. Every problem is found before any
work: one :class:`.params.ParameterError`, or :class:`ValidationFailed` listing every notebook
that fails. The run planner (:mod:`.plan`), the executors (:mod:`.executors`), the side-by-side
stage (:mod:`.side_by_side`) and the notebook runner (:mod:`.runner`) all start from these jobs.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._project import display_path as _rel
from .._project import project_layout
from ..data import DatasetNotFoundError
from ..grid import Grid
from .params import (
    MAX_SEEDS,
    ParameterError,
    check_profile,
    load_params,
    notebook_parameters,
    parameters_grid,
    params_path,
    profile_status,
    validate_params,
)

#: The notebook that runs last (it reads what the others wrote).
SUMMARY = "summary"
PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class ValidationFailed(ParameterError):
    """Several notebooks have invalid parameters; ``errors`` holds ``(name, exception)`` pairs."""

    def __init__(self, errors: list[tuple[str, Exception]], profile: str):
        self.errors = errors
        lines = [f"{len(errors)} notebooks have invalid parameters for profile {profile!r}:"]
        lines += [f"  - {name}: {err}" for name, err in errors]
        super().__init__("\n".join(lines))


@dataclass
class NotebookJob:
    """One notebook to run in one profile, with validated parameters."""

    name: str
    path: Path
    params_file: Path
    parameters: dict[str, Any]  # the values to inject besides profile/output_dir
    enabled: bool = True
    reason: str | None = None
    grid: Grid = field(default_factory=dict)  # the runs it trains (saliency_lib.grid)


def list_notebooks(notebooks_dir: str | Path | None = None) -> list[str]:
    """Notebook names in run order: sorted by name, ``summary`` last.

    Files whose name starts with ``_`` or ``.`` (drafts, helpers) are not notebooks of the
    reproduction.
    """
    root = Path(notebooks_dir or project_layout().notebooks)
    names = sorted(
        p.stem for p in root.glob("*.ipynb") if p.is_file() and not p.name.startswith(("_", "."))
    )
    if SUMMARY in names:
        names.remove(SUMMARY)
        names.append(SUMMARY)
    return names


def _matches(name: str, pattern: str) -> bool:
    if any(ch in pattern for ch in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name


def select_notebooks(
    only: str | Sequence[str] | None = None, notebooks_dir: str | Path | None = None
) -> list[str]:
    """The notebooks matching ``only`` (a glob if it has ``*?[``, else a substring; several
    patterns, as a list or comma-separated, select their union), in run order."""
    names = list_notebooks(notebooks_dir)
    if only is None:
        return names
    patterns = [only] if isinstance(only, str) else list(only)
    patterns = [p.strip() for item in patterns for p in item.split(",") if p.strip()]
    chosen = [n for n in names if any(_matches(n, p) for p in patterns)]
    if not chosen:
        where = _rel(Path(notebooks_dir or project_layout().notebooks))
        raise ParameterError(
            f"no notebook in {where} matches {', '.join(patterns)!r}; "
            f"notebooks: {', '.join(names) or 'none'}"
        )
    return chosen


def _check_seeds(seeds: Any) -> None:
    if seeds is None:
        return
    if isinstance(seeds, bool) or not isinstance(seeds, int) or not 1 <= seeds <= MAX_SEEDS:
        raise ParameterError(
            f"--seeds must be a number of seeds from 1 to {MAX_SEEDS} (each seed trains every run "
            f"again), got {seeds!r}"
        )


def check_profile_name(profile: Any) -> None:
    """A profile is a folder name under params/ (letters, digits, ``_ . -``), never a path."""
    if not isinstance(profile, str) or not PROFILE_NAME.fullmatch(profile):
        raise ParameterError(
            f"profile must be the name of a folder in params/ (letters, digits, _ . -), not a "
            f"path; got {profile!r}"
        )


def prepare_jobs(
    profile: str = "cpu",
    only: str | Sequence[str] | None = None,
    seeds: int | None = None,
    *,
    notebooks_dir: str | Path | None = None,
    params_dir: str | Path | None = None,
    check_data: bool = True,
    sets: dict[str, Any] | None = None,
    check_devices: bool = True,
) -> list[NotebookJob]:
    """Validate every selected notebook's parameters (all of them, before any work).

    ``seeds`` overrides the ``seeds`` parameter of the notebooks that have one; ``sets``
    (``--set``, :func:`.params.parse_sets`) the (dotted) keys of the notebooks whose parameters
    hold their first part; a key no selected notebook has is an error. ``check_devices``: a
    ``device`` must exist on this machine (off where the runs train on other machines). Raises
    the single error, or :class:`ValidationFailed` listing all of them when several notebooks
    fail.
    """
    check_profile_name(profile)
    check_profile(profile, params_dir)
    _check_seeds(seeds)
    nb_dir = Path(notebooks_dir or project_layout().notebooks)
    jobs: list[NotebookJob] = []
    errors: list[tuple[str, Exception]] = []
    names = select_notebooks(only, nb_dir)
    sets = sets or {}
    used: set[str] = set()
    for name in names:
        path = nb_dir / f"{name}.ipynb"
        try:
            own = {k: v for k, v in sets.items() if k.split(".")[0] in notebook_parameters(path)}
            used.update(own)
            raw = load_params(name, profile, params_dir)
            enabled, reason = profile_status(raw, _rel(params_path(name, profile, params_dir)))
            overrides = {}
            if seeds is not None and "seeds" in notebook_parameters(path):
                overrides["seeds"] = seeds
            values = validate_params(
                name,
                profile,
                raw,
                overrides=overrides,
                notebooks_dir=nb_dir,
                params_dir=params_dir,
                check_data=check_data,
                sets=own,
                check_devices=check_devices,
            )
        except (ParameterError, DatasetNotFoundError) as e:
            errors.append((name, e))
            continue
        file = params_path(name, profile, params_dir)
        effective = {**notebook_parameters(path), **values}
        grid = parameters_grid(name, effective, _rel(file))  # checked by validate_params
        jobs.append(NotebookJob(name, path, file, values, enabled, reason, grid))
    unused = [k for k in sets if k not in used]
    if unused and not errors:
        raise ParameterError(
            f"--set {unused[0]}: no selected notebook ({', '.join(names)}) has a parameter "
            f"{unused[0].split('.')[0]!r}"
        )
    if len(errors) == 1:
        raise errors[0][1]
    if errors:
        raise ValidationFailed(errors, profile)
    return jobs


__all__ = [
    "SUMMARY",
    "NotebookJob",
    "ValidationFailed",
    "check_profile_name",
    "list_notebooks",
    "prepare_jobs",
    "select_notebooks",
]
