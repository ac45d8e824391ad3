"""Training a profile's fixed-thread runs side by side before its notebooks run.

A run whose ``RunConfig.threads`` is set trains with exactly that many torch threads wherever it
trains (a notebook, a worker process, a cluster job), so its numbers do not depend on where.
Small models use a few threads poorly (cnn2 on this 2-core machine: 418 ms per Traditional step
on 1 thread, 277 ms on 2, 430 ms each with two 1-thread processes at once: 1.29x the throughput
of one 2-thread process; docs/performance.md). So before executing the notebooks, ``reproduce``
trains the missing fixed-thread runs of the selected notebooks in ``cores // threads`` local
processes at once (:func:`.executors.train_runs`, the ``train`` command's machinery), and the
notebooks then load them from the run store. Runs without a thread count are left to the
notebooks (their numbers depend on the thread count of whoever trains them).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .executors import ClusterOptions, train_runs
from .jobs import NotebookJob
from .plan import PlannedRun, plan_jobs


def side_by_side_runs(jobs: Sequence[NotebookJob], store: Path) -> list[PlannedRun]:
    """The runs of the enabled ``jobs`` that have a thread count and are not
    complete in ``store``, each once, in the order the notebooks first use them."""
    return [r for r in plan_jobs(jobs, store).missing if r.config.threads is not None]


def processes_for(runs: Sequence[PlannedRun], cpus: int | None = None) -> int:
    """How many runs train at once: the cores (``os.cpu_count()``) over the largest thread
    count among ``runs`` (at least 1)."""
    cpus = cpus or os.cpu_count() or 1
    widest = max((r.config.threads or 1 for r in runs), default=1)
    return max(1, cpus // widest)


def train_side_by_side(
    jobs: Sequence[NotebookJob],
    store: Path,
    log_dir: Path,
    say: Callable[[str], None],
    processes: int | None = None,
    profile: str = "run",
) -> dict[str, Any] | None:
    """Train the missing fixed-thread runs of ``jobs`` in ``processes`` (default
    :func:`processes_for`) local processes at once; ``None`` when there is nothing to gain (fewer
    than 2 such runs, or room for only one process). Returns what the runner records: wall
    seconds, runs, processes, threads per run and the runs that failed (their notebooks train
    them again and report the error)."""
    runs = side_by_side_runs(jobs, store)
    n = processes or processes_for(runs)
    if len(runs) < 2 or n < 2:
        return None
    threads = sorted({r.config.threads for r in runs})
    say(
        f"training {len(runs)} runs side by side before the notebooks: {n} processes of "
        f"{'/'.join(map(str, threads))} thread(s), run store {store}"
    )
    start = time.perf_counter()
    done = 0

    def counted(msg: str) -> None:  # a run's result line (indented) gets "[done/total, elapsed]"
        nonlocal done
        if msg.startswith("  "):
            done += 1
            msg += f"  [{done}/{len(runs)}, {(time.perf_counter() - start) / 60:.1f} min]"
        say(msg)

    results = train_runs(
        runs, ClusterOptions(executor="local", jobs=n), store, log_dir, profile, say=counted
    )
    return {
        "seconds": round(time.perf_counter() - start, 2),
        "runs": len(runs),
        "processes": n,
        "threads_per_run": threads,
        "failed": [r.run_id for r in results if not r.ok],
    }


__all__ = ["processes_for", "side_by_side_runs", "train_side_by_side"]
