"""Evaluation metrics of the papers (docs/methods.md §4), one concept per module.

* :mod:`.accuracy_drop`: accuracy-drop curves, AUC, feature replacement fills.
* :mod:`.roar`: RemOve And Retrain.
* :mod:`.sib`: saliency-in-box SIB(x).
* :mod:`.k_stats`: K statistics and trajectories of SGT/SMOOT/HLGM runs.
* :mod:`.motivation`: SMOOT Fig. 1 class I / class II curves.
* :mod:`.gradients`: per-sample scaled gradient distributions.
* :mod:`.seeds`: mean, 95 % t interval and paired tests over seeds.
* :mod:`.scores`: evaluation saliency scores over a data set.
* :mod:`.timeseries`: saliency precision/recall against the box, AUP/AUR, Diff vs random.
"""

from ._common import positions_for_fraction
from .accuracy_drop import (
    accuracy,
    accuracy_drop_curve,
    accuracy_drop_table,
    auc,
    auc_table,
    masked_batch,
)
from .gradients import gini_index, gradient_distribution, saliency_concentration, scale_per_sample
from .k_stats import KStatistics, k_null_drift, k_null_spread, k_null_steps, k_statistics, k_table
from .motivation import MotivationResult, classify_curves, motivation_curves, summarize_classes
from .roar import remove_top, roar
from .scores import saliency_scores
from .seeds import paired_comparison, seed_summary, seed_table
from .sib import DEFAULT_FRACTIONS, box_mask, model_sib, sib, sib_column, sib_medians
from .timeseries import BoxScores, box_scores, precision_recall, removal_sets

__all__ = [
    "DEFAULT_FRACTIONS",
    "BoxScores",
    "KStatistics",
    "MotivationResult",
    "accuracy",
    "accuracy_drop_curve",
    "accuracy_drop_table",
    "auc",
    "auc_table",
    "box_mask",
    "box_scores",
    "classify_curves",
    "gini_index",
    "gradient_distribution",
    "k_null_drift",
    "k_null_spread",
    "k_null_steps",
    "k_statistics",
    "k_table",
    "masked_batch",
    "model_sib",
    "motivation_curves",
    "paired_comparison",
    "positions_for_fraction",
    "precision_recall",
    "removal_sets",
    "remove_top",
    "roar",
    "saliency_concentration",
    "saliency_scores",
    "scale_per_sample",
    "seed_summary",
    "seed_table",
    "sib",
    "sib_column",
    "sib_medians",
    "summarize_classes",
]
