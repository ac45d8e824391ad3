"""Experiment-level building blocks the notebooks call: training a notebook's run grid
(:func:`saliency_lib.grid.run_grid`, re-exported here) through the run store, and per-seed
evaluation tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import torch

from .. import claims
from ..claims import Precondition, paper_numbers
from ..config import RunConfig
from ..grid import run_grid
from ..metrics import accuracy_drop_curve, auc, k_statistics, seed_summary
from ..progress import ProgressLog, track
from ..runs import Run, is_complete, train_or_load


def make_configs(
    dataset: str,
    training: Mapping[str, Any],
    methods: Mapping[str, Mapping[str, Any]],
    seeds: int | Iterable[int],
    dataset_params: Mapping[str, Any] | None = None,
) -> dict[tuple[str, int], RunConfig]:
    """``{(label, seed): RunConfig}`` on one dataset, without HLGM baselines: the grid of
    :func:`saliency_lib.grid.run_grid` for a study that adds its own axes around it."""
    grid = run_grid(
        datasets=[dataset],
        training=training,
        methods=methods,
        seeds=seeds,
        dataset_params=dataset_params,
        hlgm_baselines=False,
    )
    return grid[dataset]


def train_all(
    configs: Mapping[tuple[str, int], RunConfig], store=None, progress: bool = True
) -> dict[tuple, Run]:
    """Train (or load) every configuration, in order; returns ``{key: Run}``.

    ``progress``: a bar over the runs, a line naming each run before it is trained or loaded,
    and the training's own epoch lines (:meth:`saliency_lib.trainer.Trainer.fit`; not for a
    configuration with ``progress=False``)."""
    runs = {}
    n = len(configs)
    log = ProgressLog("train_all", n, enabled=progress)
    for i, (key, cfg) in enumerate(track(configs.items(), "runs", total=n, progress=progress), 1):
        label, seed = key
        action = "loading (complete in the store)" if is_complete(cfg, store) else "training"
        log.say(f"run {i}/{n} {label} seed {seed} ({cfg.run_id}): {action}")
        runs[key] = train_or_load(cfg, store=store, progress=progress and cfg.progress)
    return runs


def per_seed_table(runs: Mapping[tuple[str, int], Run], extra: Mapping | None = None):
    """One row per run: ``method``, ``seed``, final and best test accuracy, K min/median/max,
    epochs, seconds of training, plus any ``extra[(label, seed)]`` dict of values."""
    rows = []
    for (label, seed), run in runs.items():
        k = k_statistics(run)
        rows.append(
            {
                "method": label,
                "seed": seed,
                "accuracy": run.final_test_acc,
                "best_accuracy": run.best_test_acc,
                "k_min": k.min,
                "k_median": k.median,
                "k_max": k.max,
                "epochs": len(run.history),
                "train_seconds": sum(h["seconds"] for h in run.history),
                **(extra or {}).get((label, seed), {}),
            }
        )
    return pd.DataFrame(rows)


# The possible range of each per-seed value the tables summarise: intervals are clipped to it.
VALUE_RANGES = {
    "accuracy": (0.0, 100.0),
    "best_accuracy": (0.0, 100.0),
    "auc": (0.0, 100.0),
    "k_min": (0.0, float("inf")),
    "k_median": (0.0, float("inf")),
    "k_max": (0.0, float("inf")),
}
INTEGER_VALUES = ("k_min", "k_median", "k_max")  # K counts positions: shown as integers


def summary_table(per_seed: pd.DataFrame, values: Iterable[str], by: str = "method"):
    """Mean, 95 % t-interval (3+ seeds, clipped to :data:`VALUE_RANGES`) and n over seeds of
    each column in ``values``, one row per group: columns ``<value>_mean``, ``<value>_ci_low``,
    ``<value>_ci_high``, ``<value>_values`` (the seeds' values), ``n_seeds``."""
    rows = []
    for key, g in per_seed.groupby(by, sort=False):
        row = {by: key, "n_seeds": len(g)}
        for v in values:
            s = seed_summary(g[v], bounds=VALUE_RANGES.get(v))
            row.update({f"{v}_mean": s["mean"], f"{v}_ci_low": s["ci_low"],
                        f"{v}_ci_high": s["ci_high"], f"{v}_values": s["values"]})  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


def format_mean_ci(table: pd.DataFrame, values: Iterable[str], digits: int = 2) -> pd.DataFrame:
    """``"mean [low, high]"`` strings for display; with fewer than 3 seeds (no interval) the
    mean and the seeds' values, ``"mean (seeds: a, b)"``; K statistics as integers; ``"n/a"``
    for a value not measured (NaN mean)."""
    out = table[[c for c in table.columns if not any(c.startswith(f"{v}_") for v in values)]]
    out = out.copy()
    for v in values:
        d = 0 if v in INTEGER_VALUES else digits
        mean, lo, hi = table[f"{v}_mean"], table[f"{v}_ci_low"], table[f"{v}_ci_high"]
        seeds = table.get(f"{v}_values", pd.Series([[]] * len(table), index=table.index))
        cells = []
        for m, a, b, vals in zip(mean, lo, hi, seeds, strict=True):
            if pd.isna(m):  # not measured (e.g. no best epoch: RunConfig.test_eval)
                cells.append("n/a")
            elif not pd.isna(a):
                cells.append(f"{m:.{d}f} [{a:.{d}f}, {b:.{d}f}]")
            elif isinstance(vals, list) and len(vals) > 1:
                cells.append(f"{m:.{d}f} (seeds: {', '.join(f'{x:.{d}f}' for x in vals)})")
            else:
                cells.append(f"{m:.{d}f}")
        out[v] = cells
    return out


def eval_subset(dataset, n: int | None, seed: int = 0):
    """A seeded subset of ``n`` test images for the expensive evaluations (all when ``None``)."""
    if n is None or n >= len(dataset):
        return dataset
    g = torch.Generator().manual_seed(seed)
    return dataset.take(torch.randperm(len(dataset), generator=g)[:n].sort().values)


def method_curves(
    runs: Mapping[tuple[str, int], Run],
    data,
    levels: Iterable[float] = range(0, 101, 10),
    saliency: str | Iterable[str] = "grad",
    fill: str = "constant",
    seed: int = 0,
    progress: bool = True,
    **kwargs,
) -> pd.DataFrame:
    """Accuracy-drop curves (docs/methods.md §4.1) of every run and saliency method: DataFrame with
    ``method`` (training label), ``seed``, ``saliency``, ``level``, ``accuracy``, ``n``.
    ``progress``: a bar and lines over the curves and over each curve's batches."""
    saliencies = [saliency] if isinstance(saliency, str) else list(saliency)
    jobs = [(key, run, sal) for key, run in runs.items() for sal in saliencies]
    frames = []
    what = f"accuracy-drop curves ({fill})"
    for (label, run_seed), run, sal in track(jobs, what, unit="curve", progress=progress):
        g = torch.Generator().manual_seed(seed)
        curve = accuracy_drop_curve(
            run.model, data, method=sal, levels=levels, fill=fill, generator=g,
            progress=progress, **kwargs,
        )  # fmt: skip
        frames.append(curve.assign(method=label, seed=run_seed, saliency=sal))
    return pd.concat(frames, ignore_index=True)


def curve_aucs(curves: pd.DataFrame) -> dict[tuple[str, int], dict[str, float]]:
    """``{(method, seed): {"auc": ...}}`` (one saliency method) for :func:`per_seed_table`."""
    return {
        (label, seed): {"auc": auc(g)} for (label, seed), g in curves.groupby(["method", "seed"])
    }


def paper_comparison(
    summary: pd.DataFrame,
    paper_key: str,
    values: Iterable[str] = ("accuracy", "auc", "k_min", "k_median", "k_max"),
    by: str = "method",
    digits: int = 2,
) -> pd.DataFrame:
    """Our mean [95 % interval] beside the paper's number for every value, one row per method
    (for display and the report; docs/methods.md §5)."""
    rows_paper = paper_numbers(paper_key)["rows"]
    values = [v for v in values if f"{v}_mean" in summary.columns]
    shown = format_mean_ci(summary, values, digits)
    out = []
    for _, row in shown.iterrows():
        paper = rows_paper.get(row[by], {})
        entry = {by: row[by], "seeds": row["n_seeds"]}
        for v in values:
            entry[f"{v} (ours)"] = row[v]
            entry[f"{v} (paper)"] = paper.get(v, "")
        out.append(entry)
    return pd.DataFrame(out)


def trained_precondition(
    per_seed: pd.DataFrame, min_accuracy: float | None, label: str = "traditional"
):
    """The models are trained far enough for a claim on their saliency or accuracy: the mean
    final test accuracy of ``label`` is at least ``min_accuracy`` (%); no precondition when
    ``min_accuracy`` is None."""
    rows = per_seed[per_seed["method"] == label]
    if min_accuracy is None or rows.empty:
        return []
    acc = float(rows["accuracy"].mean())
    return [Precondition(f"{label} test accuracy (mean over seeds)", acc, minimum=min_accuracy,
                         unit=" %")]  # fmt: skip


def accuracy_claim(
    claim_id: str,
    per_seed: pd.DataFrame,
    a: str,
    b: str,
    setting: str,
    preconditions=(),
    versus: str | None = None,
    paper_key: str | None = None,
) -> dict:
    """An accuracy claim decided by the rule fixed in advance, the final-epoch test accuracy
    (``per_seed`` column ``accuracy``), with the best epoch chosen on the test split
    (``best_accuracy``, the papers' "max test accuracy") as the sensitivity reading beside it,
    left out when a run of ``a`` or ``b`` has no best epoch (NaN: evaluated at its final epoch
    only, ``RunConfig.test_eval``). Paired by seed (:func:`saliency_lib.claims.evaluate`)."""
    fa, fb = claims.paired(per_seed, "accuracy", a, b)
    sensitivity = None
    rows = per_seed[per_seed["method"].isin([a, b])]
    if "best_accuracy" in per_seed and rows["best_accuracy"].notna().all():
        ba, bb = claims.paired(per_seed, "best_accuracy", a, b)
        sensitivity = claims.evaluate(claim_id, ba, bb, setting, preconditions, versus=versus,
                                      paper_key=paper_key)  # fmt: skip
    return claims.evaluate(claim_id, fa, fb, setting, preconditions, versus=versus,
                           paper_key=paper_key, sensitivity=sensitivity,
                           sensitivity_label="best epoch (chosen on the test split)")  # fmt: skip
