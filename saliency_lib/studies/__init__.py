"""Experiment-level building blocks the notebooks call (one module per kind of study).

* :mod:`.common`: the run grid of a notebook (methods x seeds), training it, per-seed and
  summary tables, the papers' numbers beside ours.
"""

from .common import (
    HLGM_BASELINE,
    curve_aucs,
    eval_subset,
    format_mean_ci,
    make_configs,
    method_curves,
    normalise_datasets,
    paper_comparison,
    paper_numbers,
    per_seed_table,
    planned_configs,
    setting_configs,
    summary_table,
    train_all,
    with_hlgm_baselines,
)

__all__ = [
    "HLGM_BASELINE",
    "curve_aucs",
    "eval_subset",
    "format_mean_ci",
    "make_configs",
    "method_curves",
    "normalise_datasets",
    "paper_comparison",
    "paper_numbers",
    "per_seed_table",
    "planned_configs",
    "setting_configs",
    "summary_table",
    "train_all",
    "with_hlgm_baselines",
]
