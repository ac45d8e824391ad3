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

The runs start longest first (:func:`longest_first`, from a cost model of each run's
configuration, :func:`estimated_seconds`): with a few processes, a long run started last would
leave the other processes idle at the end (docs/performance.md). An HLGM continuation still
starts as soon as its HLGM run is complete.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..config import RunConfig
from ..data import DATASETS, dataset_info
from ..runs import load_splits
from .executors import ClusterOptions, train_runs
from .jobs import NotebookJob
from .plan import PlannedRun, plan_jobs

#: CPU milliseconds per sample of a Traditional training step on one thread, per model (cnn2:
#: per 28 x 28 image, in proportion to the pixels), and evaluation (a forward pass) as a share
#: of it: only the order of the runs depends on them. Measured on the 2-core machine,
#: 2026-12-06 (`python benchmarks/schedule.py --calibrate`).
STEP_MS = {"cnn2": 1.1, "lstm": 0.32, "lstm_cell_attention": 0.47, "tcn": 0.35,
           "lstm_mnist": 0.07, "tcn_mnist": 1.9}  # fmt: skip
EVAL_SHARE = 0.35
#: A method's step over a Traditional step (saliency pass, masked pass; HLGM: about half its
#: epochs are Traditional ones).
METHOD_COST = {"traditional": 1.0, "sgt": 2.4, "smoot": 2.5, "hlgm": 1.8}


def _data_size(config: RunConfig) -> tuple[int, int, int]:
    """(training images, test images, values per image) of a run: from its subsets and the
    dataset's metadata when both subsets are set (nothing read), else from the data
    (:func:`saliency_lib.runs.load_splits`, cached per process; a second or so per dataset)."""
    if config.train_subset is not None and config.test_subset is not None:
        accepted = DATASETS.get(config.dataset).params
        info = dataset_info(
            config.dataset, **{k: v for k, v in config.dataset_params.items() if k in accepted}
        )
        return config.train_subset, config.test_subset, info.image_size**2 * info.in_channels
    with warnings.catch_warnings():  # the notebooks say what the data is (e.g. MNIST's subset)
        warnings.simplefilter("ignore")
        train, test = load_splits(config)
    return len(train), len(test), train.image_size**2 * train.in_channels


def estimated_seconds(config: RunConfig, epochs: int | None = None) -> float:
    """A cost model of one run's training time on one thread, in seconds (to order runs, not a
    prediction): ``epochs`` (default: all) x training images x the model's step cost x the
    method's factor, plus the test images x the evaluation share once per evaluated epoch."""
    epochs = config.epochs if epochs is None else epochs
    n_train, n_test, values = _data_size(config)
    per_value = STEP_MS["cnn2"] / 784  # a model not in the table: as cnn2
    step = STEP_MS[config.model] if config.model in STEP_MS else per_value * values
    if config.model == "cnn2":
        step = per_value * values
    train = n_train * step * METHOD_COST.get(config.method, max(METHOD_COST.values()))
    evaluated = epochs if config.test_eval == "every_epoch" else min(epochs, 1)
    return (epochs * train + evaluated * n_test * step * EVAL_SHARE) / 1000


def longest_first(runs: Sequence[PlannedRun]) -> list[PlannedRun]:
    """``runs`` by :func:`estimated_seconds` of the epochs each has left, longest first (ties in
    their given order)."""
    cost = {r.run_id: estimated_seconds(r.config, r.epochs_to_train) for r in runs}
    return sorted(runs, key=lambda r: -cost[r.run_id])


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
        longest_first(runs), ClusterOptions(executor="local", jobs=n), store, log_dir, profile,
        say=counted,
    )  # fmt: skip
    return {
        "seconds": round(time.perf_counter() - start, 2),
        "runs": len(runs),
        "processes": n,
        "threads_per_run": threads,
        "failed": [r.run_id for r in results if not r.ok],
        # each run's wall seconds in its process, to replay the schedule (benchmarks/schedule.py)
        "run_seconds": {r.run_id: r.info["seconds"] for r in results if "seconds" in r.info},
    }


__all__ = [
    "estimated_seconds",
    "longest_first",
    "processes_for",
    "side_by_side_runs",
    "train_side_by_side",
]
