"""SMOOT paper studies (Tables II-III, Fig. 2) with the claims they test and their preconditions.

* :func:`smoot_table_claims`: AUC(SMOOT) < AUC(SGT) < AUC(Traditional) and SMOOT's accuracy
  comparable to Traditional's, paired by seed, with the preconditions that make them testable:
  the Traditional model trained to a stated accuracy, SMOOT's K spread reaching a stated share
  of the paper's (:func:`k_spread_precondition`).
* :func:`k_null_table`: SMOOT's K step under the null (identical inputs) beside the K change the
  runs made, so the mechanism can be told from dropout noise (docs/methods.md §3.5).
* :func:`sparsity_per_seed`, :func:`sparsity_claims`: "sparser maps" (SGT / SMOOT Fig. 2) by the
  Gini index of |saliency| per image, with the on-object share beside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from ..progress import track
from .common import eval_subset, paper_comparison, paper_numbers, per_seed_table, summary_table

PAPER_TABLE = {"mnist": "smoot_table2", "fashion_mnist": "smoot_table3"}
K_SPREAD_SHARE = 0.5  # SMOOT's K must spread at least half as far as the paper's


def paper_k_spread(setting: str) -> float | None:
    """The paper's SMOOT K spread (max - min, positions) for a dataset, None if it has none."""
    key = PAPER_TABLE.get(setting)
    if key is None:
        return None
    row = paper_numbers(key)["rows"]["smoot"]
    return float(row["k_max"] - row["k_min"])


def k_spread_precondition(
    per_seed: pd.DataFrame, setting: str, label: str = "smoot", share: float = K_SPREAD_SHARE
):
    """SMOOT's mechanism acted: the smallest K spread (k_max - k_min) over the seeds of ``label``
    reaches ``share`` of the paper's spread for ``setting``."""
    from ..claims import Precondition

    paper = paper_k_spread(setting)
    rows = per_seed[per_seed["method"] == label]
    if paper is None or rows.empty:
        return []
    spread = float((rows["k_max"] - rows["k_min"]).min())
    what = f"smallest {label} K spread over the seeds (paper: {paper:.0f})"
    return [Precondition(what, spread, minimum=share * paper, unit=" positions")]


def trained_precondition(
    per_seed: pd.DataFrame, min_accuracy: float | None, label: str = "traditional"
):
    """The models are trained far enough for the claim: the mean final test accuracy of
    ``label`` is at least ``min_accuracy`` (%); no precondition when ``min_accuracy`` is None."""
    from ..claims import Precondition

    rows = per_seed[per_seed["method"] == label]
    if min_accuracy is None or rows.empty:
        return []
    acc = float(rows["accuracy"].mean())
    return [Precondition(f"{label} test accuracy (mean over seeds)", acc, minimum=min_accuracy,
                         unit=" %")]  # fmt: skip


def smoot_table_claims(
    per_seed: pd.DataFrame,
    setting: str,
    min_accuracy: float | None = None,
    smoot_labels: Iterable[str] = ("smoot",),
) -> list[dict]:
    """SMOOT Tables II-III's claims for one dataset from :func:`per_seed_table` rows (with
    ``auc``), each paired by seed. Every SMOOT label (the faithful ``mu`` and, e.g., a variant
    whose ``mu`` is scaled to the epoch budget) is tested on its own."""
    from .. import claims

    trained = trained_precondition(per_seed, min_accuracy)
    methods = set(per_seed["method"])
    out = []
    if {"sgt", "traditional"} <= methods:
        a, b = claims.paired(per_seed, "auc", "sgt", "traditional")
        out.append(claims.evaluate("sgt_auc_below_traditional", a, b, setting, trained))
    for label in smoot_labels:
        if label not in methods:
            continue
        where = setting if label == "smoot" else f"{setting}, {label}"
        if "sgt" in methods:
            a, b = claims.paired(per_seed, "auc", label, "sgt")
            pre = trained + k_spread_precondition(per_seed, setting, label)
            out.append(claims.evaluate("smoot_auc_below_sgt", a, b, where, pre, paper_key=setting))
        if "traditional" in methods:
            a, b = claims.paired(per_seed, "accuracy", label, "traditional")
            out.append(claims.evaluate("smoot_accuracy_comparable", a, b, where, trained,
                                       paper_key=setting))  # fmt: skip
    return out


def k_null_table(
    runs: Mapping[tuple[str, int], object],
    n_images: int | None = 2000,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """For every SMOOT run: the K change the run made (mean and median over the training set,
    per epoch, from its initial K) beside SMOOT's K step under the null, both passes on the same
    unmasked images (train mode, as the loss; and eval mode, which gives exactly 0).
    ``n_images``: training images used for the null measurement. ``progress``: a bar and lines
    over the runs."""
    from ..methods import method_config
    from ..methods.smoot import mu_in_positions
    from ..metrics import k_null_drift, k_statistics
    from ..runs import load_splits

    rows = []
    smoot = [(key, run) for key, run in runs.items() if run.config.method == "smoot"]
    for (label, run_seed), run in track(smoot, "K null step", unit="run", progress=progress):
        cfg = method_config("smoot", run.config.method_params)
        train = load_splits(run.config)[0]
        positions = train.image_size**2
        k0 = int(round(cfg.k_init_fraction * positions))
        k = k_statistics(run)
        final = k.final if k.final is not None else np.array([k.median])
        epochs = len(run.history)
        images = eval_subset(train, n_images, seed)
        mu = mu_in_positions(cfg.mu, cfg.mu_unit, positions)
        args = dict(n_top=cfg.n_top, alpha=cfg.alpha, mu=mu, rank=cfg.rank, seed=seed)
        null_train = k_null_drift(run.model, images, k_update="train", **args)
        null_eval = k_null_drift(run.model, images, k_update="eval", **args)
        rows.append({
            "method": label, "seed": run_seed, "mu": cfg.mu, "mu_unit": cfg.mu_unit,
            "mu (positions)": mu, "epochs": epochs,
            "k_init": k0, "k_min": int(final.min()), "k_median": float(np.median(final)),
            "k_max": int(final.max()),
            "observed mean change / epoch": float(final.mean() - k0) / epochs,
            "observed median change / epoch": float(np.median(final) - k0) / epochs,
            "null mean step / epoch (train mode)": null_train["mean_step"],
            "null share of negative steps": null_train["share_negative"],
            "null share of zero steps": null_train["share_zero"],
            "null mean step / epoch (eval mode)": null_eval["mean_step"],
            "null images": null_train["n"],
        })  # fmt: skip
    return pd.DataFrame(rows)


def sparsity_per_seed(
    runs: Mapping[tuple[str, int], object],
    data,
    n_images: int = 500,
    background=None,
    top: float = 0.1,
    progress: bool = True,
) -> pd.DataFrame:
    """Per run (method, seed): mean Gini index of |grad saliency| over the first ``n_images``
    test images (:func:`saliency_lib.metrics.gini_index`; higher = sparser), the mean share of
    |saliency| in the top ``top`` positions, and, when the dataset's ``background`` value is
    given, the mean share of the top ``top`` positions that lie on the object. ``progress``: a
    bar and lines over the runs."""
    from ..metrics import gini_index, saliency_concentration
    from .hlgm import object_share
    from .maps import first_images, saliency_maps

    x, y = first_images(data, n_images)
    rows = []
    for (label, run_seed), run in track(runs.items(), "sparsity", unit="run", progress=progress):
        maps = saliency_maps({label: run.model}, x, y)[label]
        row = {"method": label, "seed": run_seed, "images": len(x),
               "gini": float(np.nanmean(gini_index(maps))),
               f"top {top:.0%} share": float(saliency_concentration(maps, top).mean())}  # fmt: skip
        if background is not None:
            shares = object_share({label: maps}, x, background, fractions=(top,))
            row[f"top {top:.0%} on object"] = float(shares["share"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def sparsity_claims(per_seed: pd.DataFrame, setting: str) -> list[dict]:
    """SGT Fig. 2 / SMOOT Fig. 2: SGT's and SMOOT's maps are sparser than Traditional's (higher
    mean Gini index), paired by seed."""
    from .. import claims

    out = []
    methods = set(per_seed["method"])
    for label, claim_id in (("sgt", "sgt_sparser_maps"), ("smoot", "smoot_sparser_maps")):
        if {label, "traditional"} <= methods:
            a, b = claims.paired(per_seed, "gini", label, "traditional")
            out.append(claims.evaluate(claim_id, a, b, setting))
    return out


def accuracy_k_tables(runs, paper_key: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """SMOOT Tables IV-VI: per-seed accuracy and K of each method's runs, their summary
    (mean [95 % interval] over seeds) and that summary beside the paper's table ``paper_key``."""
    per_seed = per_seed_table(runs)
    summary = summary_table(per_seed, ["accuracy", "k_min", "k_median", "k_max"])
    return per_seed, summary, paper_comparison(summary, paper_key)
