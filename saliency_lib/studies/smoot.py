"""SMOOT paper studies (Tables II-III, Figs. 2-3) with the claims they test and their
preconditions (docs/methods.md §8).

* :func:`smoot_claims`: SMOOT Fig. 3 and Tables II-III on one setting: the AUC ordering
  SMOOT < SGT < Traditional (Grad), "regardless of the saliency method" (every method, against
  both), each with its random-ranking control; SMOOT's superior accuracy and SGT's kept
  accuracy (final epoch, best epoch beside it); K adjusted "dynamically" (its spread against
  the null). SMOOT's claims need its K to spread (:func:`k_spread_preconditions`: by design
  from the parameters, and measured).
* :func:`k_null_table`: SMOOT's K step under the null (identical inputs) and the K spread it
  gives over the run's epochs, beside the K change the runs made (docs/methods.md §3.5).
* :func:`sparsity_per_seed`, :func:`map_claims`: SGT / SMOOT Fig. 2 by the Gini index of
  |saliency| and the share of the top positions on the object.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .. import claims
from ..claims import Precondition, paper_numbers
from ..methods import method_config
from ..methods.smoot import mu_in_positions
from ..metrics import (
    gini_index,
    k_null_drift,
    k_null_spread,
    k_null_steps,
    k_statistics,
    saliency_concentration,
)
from ..progress import track
from ..runs import load_splits
from .common import (
    accuracy_claim,
    eval_subset,
    paper_comparison,
    per_seed_table,
    summary_table,
    trained_precondition,
)
from .hlgm import object_share
from .maps import first_images, saliency_maps
from .replacement import drop_claims

PAPER_TABLE = {"mnist": "smoot_table2", "fashion_mnist": "smoot_table3"}
K_SPREAD_SHARE = 0.5  # SMOOT's K must spread at least half as far as the paper's


def paper_k_spread(dataset: str) -> float | None:
    """The paper's SMOOT K spread (max - min, positions) for a dataset, None if it has none."""
    key = PAPER_TABLE.get(dataset)
    if key is None:
        return None
    row = paper_numbers(key)["rows"]["smoot"]
    return float(row["k_max"] - row["k_min"])


def k_spread_by_design(method_params, epochs: int, positions: int) -> float:
    """The largest K spread (max - min, positions) SMOOT can reach in ``epochs`` epochs, from
    its parameters alone: every image's K moves by at most ``mu`` positions per epoch (one
    update per visit, ``|floor(mu * d)| <= mu`` for ``|d| <= 1``), from ``k_init`` and within
    ``[K_min, K_max]`` (SMOOT Alg. 2 line 6)."""
    cfg = method_config("smoot", method_params)
    mu = mu_in_positions(cfg.mu, cfg.mu_unit, positions)
    k0 = cfg.k_init_fraction * positions
    hi = min(cfg.k_max_fraction * positions, k0 + mu * epochs)
    lo = max(cfg.k_min_fraction * positions, k0 - mu * epochs)
    return float(hi - lo)


def smoot_k_design(grid: Mapping[str, Mapping]) -> dict[str, float]:
    """Per setting of a run grid (:func:`~saliency_lib.studies.run_grid`), the largest K spread
    its SMOOT runs can reach (:func:`k_spread_by_design`, the smallest over the SMOOT runs),
    computed from the configurations and the data's image size before anything is trained;
    settings without SMOOT are left out."""
    out = {}
    for name, configs in grid.items():
        spreads = []
        for config in configs.values():
            if config.method == "smoot":
                positions = load_splits(config)[0].image_size ** 2
                spreads.append(k_spread_by_design(config.method_params, config.epochs, positions))
        if spreads:
            out[name] = min(spreads)
    return out


def null_spreads(k_null: pd.DataFrame | None, label: str = "smoot") -> dict[int, float]:
    """Seed -> the K spread under the null of the ``label`` runs of a :func:`k_null_table`."""
    if k_null is None or k_null.empty:
        return {}
    rows = k_null[k_null["method"] == label]
    return dict(zip(rows["seed"], rows["null K spread over the epochs"], strict=True))


def k_spread_preconditions(
    per_seed: pd.DataFrame, dataset: str, by_design: float | None = None, label: str = "smoot",
    share: float = K_SPREAD_SHARE,
) -> list[Precondition]:  # fmt: skip
    """SMOOT's mechanism acted: the largest K spread the setting allows (``by_design``,
    :func:`k_spread_by_design`, checked before any training) and the smallest K spread measured
    over the seeds of ``label`` both reach ``share`` of the paper's spread for ``dataset``."""
    paper = paper_k_spread(dataset)
    if paper is None:
        return []
    need = share * paper
    out = []
    if by_design is not None:
        out.append(
            Precondition(
                f"largest K spread the setting allows (paper: {paper:.0f})",
                by_design,
                minimum=need,
                unit=" positions",
                by_design=True,
            )
        )
    rows = per_seed[per_seed["method"] == label]
    if not rows.empty:
        spread = float((rows["k_max"] - rows["k_min"]).min())
        out.append(
            Precondition(
                f"smallest {label} K spread over the seeds (paper: {paper:.0f})",
                spread,
                minimum=need,
                unit=" positions",
            )
        )
    return out


def smoot_claims(
    per_seed: pd.DataFrame,
    auc: pd.DataFrame,
    setting: str,
    dataset: str,
    min_accuracy: float | None = None,
    k_by_design: float | None = None,
    null_spread: Mapping[int, float] | None = None,
    auc_methods: pd.DataFrame | None = None,
    label: str = "smoot",
) -> list[dict]:
    """SMOOT Fig. 3 and Tables II-III's claims on one setting (``dataset`` names the paper's
    table), each paired by seed:

    * the AUC ordering on ``auc`` (per-seed AUCs of the Grad and random rankings,
      :func:`~saliency_lib.studies.auc_matrix` with ``rows="saliency"``): SGT below Traditional,
      SMOOT below SGT; and SMOOT below both for every saliency method ("regardless of the
      saliency method": Grad from ``auc``, the others from ``auc_methods``, with its own random
      ranking); each record with the random-ranking control of the same images beside it;
    * SMOOT's accuracy above SGT's and Traditional's, SGT's not below Traditional's by more
      than the margin (final epoch; the best epoch as sensitivity);
    * K adjusted dynamically: SMOOT's K spread above the spread under the null
      (``null_spread``, seed -> positions, from :func:`k_null_table`).

    ``per_seed``: :func:`per_seed_table` rows. SMOOT's claims carry the K-spread preconditions
    (``k_by_design`` from :func:`k_spread_by_design`), all the Traditional-accuracy one."""
    trained = trained_precondition(per_seed, min_accuracy)
    k_pre = trained + k_spread_preconditions(per_seed, dataset, k_by_design, label)
    methods = set(per_seed["method"])
    out = []
    if {"sgt", "traditional"} <= methods:
        out += drop_claims("sgt_auc_below_traditional", auc, "sgt", "traditional", setting,
                           trained, paper_key=dataset, only=["grad"])  # fmt: skip
        out.append(accuracy_claim("sgt_accuracy_kept", per_seed, "sgt", "traditional", setting,
                                  trained))  # fmt: skip
    if label not in methods:
        return out
    if "sgt" in methods:
        out += drop_claims("smoot_auc_below_sgt", auc, label, "sgt", setting, k_pre,
                           paper_key=dataset, only=["grad"])  # fmt: skip
    for other in [m for m in ("sgt", "traditional") if m in methods]:
        for table, only in ((auc, ["grad"]), (auc_methods, None)):
            if table is not None:
                out += drop_claims("smoot_steeper_drop_any_method", table, label, other,
                                   setting, k_pre, versus=other, only=only)  # fmt: skip
        out.append(accuracy_claim("smoot_superior_accuracy", per_seed, label, other, setting,
                                  k_pre, versus=other, paper_key=dataset))  # fmt: skip
    if null_spread:
        rows = per_seed[per_seed["method"] == label].set_index("seed")
        seeds = [s for s in rows.index if s in null_spread]
        spread = [float(rows.loc[s, "k_max"] - rows.loc[s, "k_min"]) for s in seeds]
        null = [float(null_spread[s]) for s in seeds]
        out.append(claims.evaluate("smoot_k_dynamic", spread, null, setting, paper_key=dataset))
    return out


def smoot_accuracy_claims(
    per_seed: pd.DataFrame, setting: str, claim_id: str, sgt_claim: str | None = None,
    gradients_claim: str | None = None,
) -> list[dict]:  # fmt: skip
    """SMOOT Tables IV-VI: ``claim_id`` (SMOOT's final-epoch accuracy above SGT's and above
    Traditional's), ``sgt_claim`` (SGT's above Traditional's) when given, paired by seed with the
    best epoch beside (:func:`accuracy_claim`); ``gradients_claim`` (the figures' "gradient box"
    statements) is recorded as not testable by design: the paper gives no measure for it."""
    methods = set(per_seed["method"])
    out = [accuracy_claim(claim_id, per_seed, "smoot", other, setting, versus=other)
           for other in ("sgt", "traditional") if {"smoot", other} <= methods]  # fmt: skip
    if sgt_claim and {"sgt", "traditional"} <= methods:
        out.append(accuracy_claim(sgt_claim, per_seed, "sgt", "traditional", setting))
    if gradients_claim:
        out.append(
            claims.not_testable(
                gradients_claim,
                setting,
                "the paper shows maps and gradient box plots and gives no measure to test",
            )
        )
    return out


def k_null_table(
    runs: Mapping[tuple[str, int], object],
    n_images: int | None = 2000,
    seed: int = 0,
    progress: bool = True,
) -> pd.DataFrame:
    """For every SMOOT run: the K change the run made (mean and median over the training set,
    per epoch, from its initial K) beside SMOOT's K step under the null, both passes on the same
    unmasked images (train mode, as the loss; and eval mode, which gives exactly 0), and the K
    spread the null steps give over the run's epochs for as many images as the run trained on
    (:func:`saliency_lib.metrics.k_null_spread`: the null of "K adjusted dynamically", the
    final model's null steps standing for every epoch's). ``n_images``: training images used
    for the null measurement. ``progress``: a bar and lines over the runs."""
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
        steps = k_null_steps(run.model, images, k_update="train", **args).double()
        null_eval = k_null_drift(run.model, images, k_update="eval", **args)
        k_lo, k_hi = cfg.k_min_fraction * positions, cfg.k_max_fraction * positions
        null_spread = k_null_spread(steps, len(final), epochs, k0, k_lo, k_hi, seed=run_seed)
        rows.append({
            "method": label, "seed": run_seed, "mu": cfg.mu, "mu_unit": cfg.mu_unit,
            "mu (positions)": mu, "epochs": epochs,
            "k_init": k0, "k_min": int(final.min()), "k_median": float(np.median(final)),
            "k_max": int(final.max()),
            "observed mean change / epoch": float(final.mean() - k0) / epochs,
            "observed median change / epoch": float(np.median(final) - k0) / epochs,
            "k_spread": int(final.max() - final.min()),
            "null mean step / epoch (train mode)": float(steps.mean()),
            "null share of negative steps": float((steps < 0).double().mean()),
            "null share of zero steps": float((steps == 0).double().mean()),
            "null mean step / epoch (eval mode)": null_eval["mean_step"],
            "null K spread over the epochs": null_spread,
            "null images": int(len(steps)),
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


def map_claims(
    maps: pd.DataFrame,
    per_seed: pd.DataFrame,
    setting: str,
    dataset: str,
    min_accuracy: float | None = None,
    k_by_design: float | None = None,
    on_object: str = "top 10% on object",
) -> list[dict]:
    """SGT Fig. 2 and SMOOT Fig. 2 from :func:`sparsity_per_seed` rows (``maps``), paired by
    seed: SGT's maps sparser than Traditional's (mean Gini index) and more on the object (the
    share of the top positions on it, column ``on_object``); SMOOT's more on the object than
    SGT's and than Traditional's. ``per_seed`` (:func:`per_seed_table` of the same runs) gives
    the preconditions: Traditional's accuracy (``min_accuracy``) for all, SMOOT's K spread
    (``k_by_design`` and measured, :func:`k_spread_preconditions`) for SMOOT's."""
    trained = trained_precondition(per_seed, min_accuracy)
    k_pre = trained + k_spread_preconditions(per_seed, dataset, k_by_design)
    out = []
    methods = set(maps["method"])
    if {"sgt", "traditional"} <= methods:
        a, b = claims.paired(maps, "gini", "sgt", "traditional")
        out.append(claims.evaluate("sgt_sparser_maps", a, b, setting, trained))
        if on_object in maps:
            a, b = claims.paired(maps, on_object, "sgt", "traditional")
            out.append(claims.evaluate("sgt_maps_on_object", a, b, setting, trained))
    if "smoot" in methods and on_object in maps:
        for other in [m for m in ("sgt", "traditional") if m in methods]:
            a, b = claims.paired(maps, on_object, "smoot", other)
            out.append(claims.evaluate("smoot_maps_on_object", a, b, setting, k_pre,
                                       versus=other))  # fmt: skip
    return out


def accuracy_k_tables(runs, paper_key: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """SMOOT Tables IV-VI: per-seed accuracy and K of each method's runs, their summary
    (mean [95 % interval] over seeds) and that summary beside the paper's table ``paper_key``."""
    per_seed = per_seed_table(runs)
    summary = summary_table(per_seed, ["accuracy", "k_min", "k_median", "k_max"])
    return per_seed, summary, paper_comparison(summary, paper_key)
