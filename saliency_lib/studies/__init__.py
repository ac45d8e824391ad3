"""Experiment-level building blocks the notebooks call (one module per kind of study).

* :mod:`.common`: training a notebook's run grid (:func:`run_grid`, from
  :mod:`saliency_lib.grid`), per-seed and summary tables, the papers' numbers beside ours.
* :mod:`.timeseries`: SGT section 5.3 (Fig. 5, Table 2, Fig. 6) on time series.
* :mod:`.replacement`: SGT Figs. 3-4, accuracy drop per saliency method and per feature
  replacement (background, mean, ROAR with :func:`roar_train_fn`), AUC tables and claims.
"""

from ..grid import HLGM_BASELINE, run_grid
from .common import (
    accuracy_claim,
    curve_aucs,
    eval_subset,
    format_mean_ci,
    make_configs,
    method_curves,
    paper_comparison,
    paper_numbers,
    per_seed_table,
    summary_table,
    train_all,
    trained_precondition,
)
from .replacement import (
    REPLACEMENTS,
    auc_gain_over,
    auc_matrix,
    curve_gap,
    drop_claims,
    replacement_curves,
    roar_curves,
    roar_train_fn,
    saliency_method_curves,
    sgt_fig3_claims,
    sgt_fig4_claims,
)

__all__ = [
    "HLGM_BASELINE",
    "accuracy_claim",
    "drop_claims",
    "trained_precondition",
    "curve_aucs",
    "eval_subset",
    "format_mean_ci",
    "make_configs",
    "method_curves",
    "paper_comparison",
    "paper_numbers",
    "per_seed_table",
    "run_grid",
    "summary_table",
    "train_all",
    "REPLACEMENTS",
    "auc_gain_over",
    "auc_matrix",
    "curve_gap",
    "replacement_curves",
    "roar_curves",
    "roar_train_fn",
    "saliency_method_curves",
    "sgt_fig3_claims",
    "sgt_fig4_claims",
]

from .maps import (  # noqa: E402
    MapFigures,
    class_titles,
    dataset_title,
    first_images,
    gradient_summary,
    method_map_figures,
    saliency_maps,
)

__all__ += [
    "MapFigures",
    "class_titles",
    "dataset_title",
    "first_images",
    "gradient_summary",
    "method_map_figures",
    "saliency_maps",
]

from .hlgm import (  # noqa: E402
    HLGM_METHODS,
    box_area_share,
    claim_line,
    dataset_images,
    hlgm_accuracy_claims,
    hlgm_accuracy_figures,
    hlgm_accuracy_table,
    hlgm_plateau_caption,
    hlgm_plateau_info,
    hlgm_plateaus,
    hlgm_sib_claims,
    hlgm_sib_table,
    object_share,
    object_share_claims,
    object_share_table,
    sib_by_run,
    sib_per_seed,
    top_share_in_mask,
)

__all__ += [
    "HLGM_METHODS",
    "box_area_share",
    "claim_line",
    "dataset_images",
    "hlgm_accuracy_claims",
    "hlgm_accuracy_figures",
    "hlgm_accuracy_table",
    "hlgm_plateau_caption",
    "hlgm_plateau_info",
    "hlgm_plateaus",
    "hlgm_sib_claims",
    "hlgm_sib_table",
    "object_share",
    "object_share_claims",
    "object_share_table",
    "sib_by_run",
    "sib_per_seed",
    "top_share_in_mask",
]

from .smoot import (  # noqa: E402
    PAPER_TABLE,
    accuracy_k_tables,
    k_null_table,
    k_spread_by_design,
    k_spread_preconditions,
    map_claims,
    null_spreads,
    smoot_accuracy_claims,
    smoot_claims,
    smoot_k_design,
    sparsity_per_seed,
)

__all__ += [
    "accuracy_k_tables",
    "k_null_table",
    "k_spread_by_design",
    "k_spread_preconditions",
    "map_claims",
    "null_spreads",
    "PAPER_TABLE",
    "smoot_accuracy_claims",
    "smoot_claims",
    "smoot_k_design",
    "sparsity_per_seed",
]

from . import timeseries  # noqa: E402  (SGT section 5.3, used as studies.timeseries.*)

__all__ += ["timeseries"]
