"""The training runs a profile needs, read from its params files without running a notebook.

A training notebook trains exactly its run grid (:func:`saliency_lib.grid.notebook_grid`), which
the parameter validation builds (``NotebookJob.grid``, :mod:`.jobs`). :func:`plan_jobs` lists
those runs once each, with the notebooks that use them, what they wait for (an HLGM
continuation baseline waits for its HLGM run) and what the run store already holds;
:func:`format_plan` prints it (the ``plan`` command). The executors (:mod:`.executors`) and the
side-by-side stage (:mod:`.side_by_side`) train the missing runs of a plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabulate import tabulate

from .._project import display_path as _rel
from ..config import RunConfig
from ..grid import grid_configs
from ..runs import check_store, checkpointed_epoch, default_store, is_complete
from .jobs import NotebookJob, prepare_jobs


@dataclass
class PlannedRun:
    """One training run a profile needs."""

    run_id: str
    config: RunConfig
    notebooks: list[str]  # the notebooks that use it, in run order
    depends_on: str | None  # run id that must be complete first (HLGM continuations)
    complete: bool  # in the run store with status "complete"
    epochs_done: int = 0  # epochs already checkpointed (last.pt) by an unfinished run

    @property
    def epochs_to_train(self) -> int:
        """Epochs left to train (an HLGM continuation counts all of its epochs: an upper bound,
        it starts after the HLGM run's phase 1)."""
        return 0 if self.complete else max(self.config.epochs - self.epochs_done, 0)


class Plan(list):
    """``list[PlannedRun]`` (deduplicated by run id, in the order the notebooks first use them)
    with what else :func:`format_plan` reports."""

    def __init__(
        self,
        runs: Sequence[PlannedRun] = (),
        *,
        profile: str = "",
        store: Path | None = None,
        notebooks: Sequence[str] = (),
        disabled: Sequence[tuple[str, str | None]] = (),
    ):
        super().__init__(runs)
        self.profile = profile
        self.store = store
        self.notebooks = list(notebooks)  # enabled notebooks selected, in run order
        self.disabled = list(disabled)  # (notebook, reason): enabled: false, contribute nothing

    @property
    def missing(self) -> list[PlannedRun]:
        return [r for r in self if not r.complete]

    @property
    def epochs_to_train(self) -> int:
        return sum(r.epochs_to_train for r in self)


def plan(
    profile: str = "cpu",
    only: str | Sequence[str] | None = None,
    seeds: int | None = None,
    *,
    notebooks_dir: str | Path | None = None,
    params_dir: str | Path | None = None,
    store: str | Path | None = None,
    check_data: bool = False,
    sets: dict[str, Any] | None = None,
    check_devices: bool = False,
) -> Plan:
    """The training runs the selected notebooks of ``profile`` need, from their params files.

    ``only``, ``seeds`` and ``sets`` (``--set`` values) select notebooks and override parameters
    as ``reproduce`` does; the parameters are validated the same way
    (:func:`.jobs.prepare_jobs`, which builds each notebook's grid; the data only when
    ``check_data``; the devices only when ``check_devices``). Runs are deduplicated by run id;
    each lists the notebooks that use it and whether ``store`` (default ``$SALIENCY_RUN_STORE``
    or the project's ``outputs/runs``) holds it complete. Disabled notebooks (``enabled:
    false``) contribute no runs and are listed in ``Plan.disabled``.
    """
    store_path = check_store(store)
    jobs = prepare_jobs(
        profile,
        only,
        seeds,
        notebooks_dir=notebooks_dir,
        params_dir=params_dir,
        check_data=check_data,
        sets=sets,
        check_devices=check_devices,
    )
    return plan_jobs(jobs, store_path, profile)


def plan_jobs(jobs: Sequence[NotebookJob], store: Path, profile: str = "") -> Plan:
    """The :class:`Plan` of validated notebook jobs (each with its grid): every run once, with
    the notebooks using it and its state in ``store``."""
    runs: dict[str, PlannedRun] = {}
    enabled, disabled = [], []
    for job in jobs:
        if not job.enabled:
            disabled.append((job.name, job.reason))
            continue
        enabled.append(job.name)
        for cfg in grid_configs(job.grid):  # built and checked by prepare_jobs
            run_id = cfg.run_id
            if run_id in runs:
                if job.name not in runs[run_id].notebooks:
                    runs[run_id].notebooks.append(job.name)
                continue
            done = is_complete(cfg, store)
            runs[run_id] = PlannedRun(
                run_id=run_id,
                config=cfg,
                notebooks=[job.name],
                depends_on=cfg.continue_from,
                complete=done,
                epochs_done=0 if done else checkpointed_epoch(cfg, store),
            )
    return Plan(runs.values(), profile=profile, store=store, notebooks=enabled, disabled=disabled)


def plural(count: int, noun: str) -> str:
    """``"1 run"``, ``"2 runs"``."""
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _status(r: PlannedRun) -> str:
    if r.complete:
        return "complete"
    return f"partial ({r.epochs_done}/{r.config.epochs})" if r.epochs_done else "missing"


def format_plan(runs: Plan | Sequence[PlannedRun]) -> str:
    """A readable table of the planned runs (one line each) with totals: runs, complete,
    missing, epochs to train; then the runs per notebook and the disabled notebooks."""
    notebooks = list(getattr(runs, "notebooks", []))
    for r in runs:
        notebooks += [n for n in r.notebooks if n not in notebooks]
    index = {name: i + 1 for i, name in enumerate(notebooks)}
    row_of = {r.run_id: i + 1 for i, r in enumerate(runs)}
    rows = []
    for r in runs:
        c = r.config
        needs = ""
        if r.depends_on:
            needs = f"#{row_of[r.depends_on]}" if r.depends_on in row_of else r.depends_on
        subset = c.train_subset if c.train_subset is not None else "all"
        used_by = ",".join(str(index[n]) for n in r.notebooks)
        rows.append([row_of[r.run_id], r.run_id, c.epochs, subset, _status(r), needs, used_by])
    profile = getattr(runs, "profile", "")
    store = getattr(runs, "store", None)
    head = f"profile {profile!r}: " if profile else ""
    lines = [f"{head}run store {_rel(store) if store else default_store()}"]
    if rows:
        headers = ["#", "run id", "epochs", "train imgs", "status", "after", "notebooks"]
        align = ("right", "left", "right", "right", "left", "left", "left")
        table = tabulate(
            [[str(v) for v in row] for row in rows],
            headers=headers,
            tablefmt="simple",
            disable_numparse=True,
            colalign=align,
        )
        lines += ["", table]
    missing = [r for r in runs if not r.complete]
    epochs = sum(r.epochs_to_train for r in runs)
    lines += [
        "",
        f"{plural(len(runs), 'run')}: {len(runs) - len(missing)} complete, {len(missing)} "
        f"missing; {plural(epochs, 'epoch')} to train",
    ]
    if any(r.depends_on and not r.complete for r in runs):
        lines.append(
            "(an HLGM continuation baseline counts all its epochs: it trains only those after "
            "its HLGM run's phase 1)"
        )
    if notebooks:
        lines += ["", "notebooks (runs shared by several notebooks count in the first):"]
        counted: set[str] = set()
        for name in notebooks:
            own = [r for r in runs if name in r.notebooks]
            new = [r for r in own if r.run_id not in counted]
            counted.update(r.run_id for r in own)
            n_missing = sum(not r.complete for r in own)
            left = sum(r.epochs_to_train for r in new)
            lines.append(
                f"  [{index[name]}] {name}: {plural(len(own), 'run')}, {n_missing} missing, "
                f"{plural(left, 'epoch')} to train"
            )
    for name, reason in getattr(runs, "disabled", []):
        lines.append(f"  disabled {name}: {reason} (no runs)")
    return "\n".join(lines)


__all__ = ["Plan", "PlannedRun", "format_plan", "plan", "plan_jobs"]
