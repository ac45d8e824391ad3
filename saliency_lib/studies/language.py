"""SGT Table 1 (section 5.2): ERASER comprehensiveness and sufficiency (AOPC) of Gradient,
Integrated Gradients and SmoothGrad on BiLSTM text classifiers trained traditionally and with
SGT, against a random ranking, and the agreement with human rationales that ERASER also scores
(docs/methods.md §9). The metrics are :mod:`saliency_lib.metrics.eraser`; this module evaluates
a notebook's runs, puts the numbers beside the paper's and decides the claims.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure

from .. import claims as claims_lib
from ..data.text import token_table
from ..metrics import seed_summary
from ..metrics.eraser import DEFAULT_BINS, eraser_scores, eraser_summary, token_attributions
from ..progress import track
from ..runs import Run, load_splits
from .common import eval_subset, paper_numbers

__all__ = [
    "DATASET_TASK",
    "METRICS",
    "SALIENCY_LABELS",
    "aopc_curves",
    "evaluate_language_runs",
    "language_claims",
    "plot_aopc_curves",
    "plot_table1",
    "table1",
]

#: Which of the paper's Table 1 tasks each dataset is (the analogue stands in for Movies).
DATASET_TASK = {
    "eraser_movies": "movies",
    "eraser_fever": "fever",
    "eraser_esnli": "esnli",
    "eraser_synthetic": "movies",
}
SALIENCY_LABELS = {
    "grad": "Gradient",
    "ig": "Integrated Gradient",
    "smoothgrad": "SmoothGrad",
    "random": "Random",
}
SHORT_LABELS = {"grad": "Grad", "ig": "IG", "smoothgrad": "SmoothGrad", "random": "Random"}
#: Per-seed numbers of a (run, saliency method); the first two are Table 1's.
METRICS = ("comprehensiveness", "sufficiency", "token_f1", "iou_f1", "auprc")
BETTER = {
    "comprehensiveness": "higher",
    "sufficiency": "lower",
    "token_f1": "higher",
    "iou_f1": "higher",
    "auprc": "higher",
}


def evaluate_language_runs(
    runs: Mapping[tuple, Run],
    saliency_methods: Sequence[str],
    options: Mapping[str, Mapping[str, Any]] | None = None,
    bins: Sequence[float] = DEFAULT_BINS,
    eval_docs: int | None = None,
    seed: int = 0,
    batch_size: int = 64,
    progress: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ERASER numbers of every run ``{(setting, method label, seed): Run}`` on its test split
    (or ``eval_docs`` seeded test documents, the same for every run of a setting): the
    per-document rows (:func:`~saliency_lib.metrics.eraser.eraser_scores`) and one row per
    (setting, method, seed, saliency) with :data:`METRICS`, the accuracy and the documents."""
    docs, per_seed = [], []
    for (setting, label, run_seed), run in track(runs.items(), "ERASER runs", progress=progress):
        test = load_splits(run.config)[1]
        subset = eval_subset(test, eval_docs, seed)
        indices = None if subset is test else [int(i) for i in _positions(test, subset)]
        rows = eraser_scores(
            run.model,
            test,
            saliency_methods,
            options,
            bins,
            indices=indices,
            batch_size=batch_size,
            seed=seed + 1000 * run_seed,
            progress=progress,
        )
        where = {"setting": str(setting), "dataset": run.config.dataset}
        rows = rows.assign(**where, method=label, seed=run_seed)
        docs.append(rows)
        per_seed.append(eraser_summary(rows).assign(**where, method=label, seed=run_seed))
    cols = ["setting", "dataset", "method", "seed", "saliency", "documents", "accuracy", *METRICS]
    return pd.concat(docs, ignore_index=True), pd.concat(per_seed, ignore_index=True)[cols]


def _positions(full, subset) -> np.ndarray:
    """Positions in ``full`` of the items of ``subset`` (taken from it)."""
    where = {int(s): i for i, s in enumerate(full.source_indices)}
    return np.array([where[int(s)] for s in subset.source_indices])


def aopc_curves(docs: pd.DataFrame, bins: Sequence[float] = DEFAULT_BINS) -> pd.DataFrame:
    """Comprehensiveness and sufficiency per bin (mean over documents, then over seeds), per
    (setting, method, saliency): the curves whose mean is the AOPC."""
    out = []
    for (setting, method, saliency), g in docs.groupby(["setting", "method", "saliency"]):
        for metric in ("comprehensiveness", "sufficiency"):
            for k in bins:
                per_seed = g.groupby("seed")[f"{metric}_{k:g}"].mean()
                sd = float(per_seed.std(ddof=1)) if len(per_seed) > 1 else 0.0
                out.append(
                    {
                        "setting": setting,
                        "method": method,
                        "saliency": saliency,
                        "metric": metric,
                        "bin": k,
                        "value": float(per_seed.mean()),
                        "sd": sd,
                    }
                )
    return pd.DataFrame(out)


def _cell(values: Sequence[float], digits: int = 3) -> str:
    s = seed_summary(values)
    if np.isnan(s["ci_low"]):
        return f"{s['mean']:.{digits}f}" + (f" (n={s['n']})" if s["n"] > 1 else "")
    return f"{s['mean']:.{digits}f} [{s['ci_low']:.{digits}f}, {s['ci_high']:.{digits}f}]"


def table1(
    per_seed: pd.DataFrame,
    metrics: Sequence[str] = ("comprehensiveness", "sufficiency"),
    traditional: str = "traditional",
    sgt: str = "sgt",
) -> pd.DataFrame:
    """SGT Table 1 layout: one row per (setting, metric), for each saliency method the
    traditional and SGT models' mean [95 % interval] over seeds, and the paper's numbers
    beside them (its Random column is one number; ours is per training method)."""
    paper = paper_numbers("sgt_table1")
    rows = []
    for setting, g in per_seed.groupby("setting", sort=False):
        task = DATASET_TASK.get(g["dataset"].iloc[0])
        for metric in metrics:
            row = {"setting": setting, "metric": f"{metric} ({BETTER[metric]} = better)"}
            for sal in g["saliency"].unique():
                label = SALIENCY_LABELS.get(sal, sal)
                for arm, name in ((traditional, "Trad."), (sgt, "SGT")):
                    vals = g[(g.saliency == sal) & (g.method == arm)].sort_values("seed")[metric]
                    if len(vals):
                        row[f"{label}: {name}"] = _cell(vals.tolist())
                ref = (paper.get(task, {}).get(metric, {}) or {}).get(sal)
                if ref is not None and metric in ("comprehensiveness", "sufficiency"):
                    shown = (
                        f"{ref:.3f}"
                        if isinstance(ref, (int, float))
                        else " / ".join(f"{v:.3f}" for v in ref)
                    )
                    row[f"{label}: paper{' (Trad. / SGT)' if sal != 'random' else ''}"] = shown
            rows.append(row)
    return pd.DataFrame(rows)


def language_claims(
    per_seed: pd.DataFrame,
    saliency_methods: Sequence[str] = ("grad", "ig", "smoothgrad"),
    min_accuracy: Mapping[str, float] | float | None = None,
    traditional: str = "traditional",
    sgt: str = "sgt",
    variant: str = "",
) -> list[dict]:
    """The Table 1 claims, per setting and saliency method, paired by seed: Movie Reviews (and
    its analogue): SGT raises comprehensiveness and lowers sufficiency; FEVER and e-SNLI: SGT
    raises comprehensiveness, sufficiency shows no obvious improvement. Precondition: the
    traditional models' mean test accuracy reaches ``min_accuracy`` (per dataset or one number)
    and so do the SGT models'; a model near chance has no rationale to find. ``variant``: a
    label for a run of another reading of SGT (``sgt`` then names its method label): it is put
    in the records' setting and note, and claims without a dataset are not listed again."""
    out, judged = [], set()
    for setting, g in per_seed.groupby("setting", sort=False):
        name = g["dataset"].iloc[0]
        task = DATASET_TASK.get(name)
        if task is None:
            continue
        family = "movies" if task == "movies" else "fever_esnli"
        judged.add(family)
        threshold = min_accuracy.get(name) if isinstance(min_accuracy, Mapping) else min_accuracy
        pre = []
        if threshold is not None:
            for arm in (traditional, sgt):
                acc = g[(g.method == arm)].drop_duplicates("seed")["accuracy"]
                value = float(acc.mean()) if len(acc) else float("nan")
                what = f"{arm} test accuracy on the evaluated documents, mean over seeds"
                pre.append(claims_lib.Precondition(what, value, float(threshold), unit=" %"))
        notes = ["offline analogue of Movie Reviews (planted evidence, not real text)"] * (
            name == "eraser_synthetic"
        )
        if variant:
            notes.append(f"variant {sgt!r}: {variant}")
        note = "; ".join(notes)
        for sal in saliency_methods:
            sub = g[g.saliency == sal]
            if sub.empty:
                continue
            for metric in ("comprehensiveness", "sufficiency"):
                a, b = claims_lib.paired(sub, metric, sgt, traditional)
                claim_id = f"sgt_tab1_{metric}_{family}"
                key = f"{task}, {sal}"
                out.append(
                    claims_lib.evaluate(
                        claim_id,
                        a,
                        b,
                        setting=f"{setting}, {SALIENCY_LABELS.get(sal, sal)}"
                        + (f", {sgt}" if variant else ""),
                        preconditions=pre,
                        note=note,
                        paper_key=None if name == "eraser_synthetic" else key,
                    )
                )
    for family, what in (("movies", "Movie Reviews"), ("fever_esnli", "FEVER or e-SNLI")):
        if family not in judged and not variant:
            reason = f"no {what} dataset among this run's datasets"
            out += [
                claims_lib.not_run(f"sgt_tab1_{m}_{family}", reason=reason)
                for m in ("comprehensiveness", "sufficiency")
            ]
    return out


def plot_table1(per_seed: pd.DataFrame, setting: str) -> Figure:
    """Comprehensiveness (higher = better) and sufficiency (lower = better) per saliency method
    and training method (one bar each, in the table's order): mean over seeds, the seeds as
    dots."""
    g = per_seed[per_seed.setting == setting]
    sal = list(dict.fromkeys(g["saliency"]))
    arms = list(dict.fromkeys(g["method"]))
    colors = dict(zip(arms, ["tab:gray", "tab:blue", "tab:orange", "tab:green"] * 4, strict=False))
    width = 0.8 / max(len(arms), 1)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    for ax, metric in zip(axes, ("comprehensiveness", "sufficiency"), strict=True):
        for a, arm in enumerate(arms):
            for i, s in enumerate(sal):
                vals = g[(g.saliency == s) & (g.method == arm)][metric].to_numpy()
                if not len(vals):
                    continue
                x = i + (a - (len(arms) - 1) / 2) * width
                ax.bar(x, vals.mean(), width=0.95 * width, color=colors[arm], alpha=0.8,
                       label=arm if i == 0 else None)  # fmt: skip
                ax.scatter(np.full(len(vals), x), vals, s=8, color="black", zorder=3)
        ax.set_xticks(range(len(sal)), [SHORT_LABELS.get(s, s) for s in sal])
        ax.set_title(f"{metric} (AOPC, {BETTER[metric]} = better)")
        ax.axhline(0, color="black", lw=0.5)
    axes[0].legend(frameon=False, fontsize=8)
    return fig


def plot_aopc_curves(
    curves: pd.DataFrame, setting: str, traditional: str = "traditional", sgt: str = "sgt"
) -> Figure:
    """Comprehensiveness and sufficiency by the share of tokens ``k`` (the curves the AOPC
    averages), one panel per metric, a line per (training method, saliency method)."""
    g = curves[curves.setting == setting]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), layout="constrained")
    styles = {traditional: "--", sgt: "-"}
    palette = dict(
        zip(SALIENCY_LABELS, ["tab:red", "tab:blue", "tab:green", "tab:gray"], strict=True)
    )
    for ax, metric in zip(axes, ("comprehensiveness", "sufficiency"), strict=True):
        for (method, sal), c in g[g.metric == metric].groupby(["method", "saliency"]):
            if method not in styles:
                continue
            ax.plot(
                100 * c["bin"],
                c["value"],
                styles[method],
                marker="o",
                ms=3,
                color=palette.get(sal),
                label=f"{SHORT_LABELS.get(sal, sal)}, {method}",
            )
        ax.set_xscale("log")
        ax.set_xlabel("tokens removed / kept (% of the document)")
        ax.set_title(metric)
    axes[1].legend(frameon=False, fontsize=7)
    return fig


def plot_token_maps(
    models: Mapping[str, Any],
    data,
    index: int,
    saliency: str = "grad",
    options: Mapping[str, Any] | None = None,
    max_tokens: int = 60,
) -> Figure:
    """The text counterpart of a saliency map: for document ``index`` of a text dataset, its
    human rationale and each model's token scores (scaled to the document's maximum |score|),
    one row each, over its first ``max_tokens`` tokens (the word under each column)."""
    table = token_table(data)
    j = int(data.source_indices[index])
    ids, rationale, _ = table.sequence(j)
    x = table.embed(ids)[None]
    rows, names = [rationale.double().numpy()], ["human rationale"]
    for label, model in models.items():
        with torch.no_grad():
            pred = model.eval()(x).argmax(dim=1)
        g = torch.Generator().manual_seed(0)
        s = token_attributions(model, x, pred, saliency, generator=g, **dict(options or {}))[0]
        s = s.detach().double().numpy()
        rows.append(s / max(np.abs(s).max(), 1e-12))
        names.append(f"{label} ({SALIENCY_LABELS.get(saliency, saliency)})")
    n = min(len(ids), max_tokens)
    grid = np.stack([r[:n] for r in rows])
    fig, ax = plt.subplots(
        figsize=(min(0.22 * n + 2, 16), 0.5 * len(rows) + 1.4), layout="constrained"
    )
    ax.imshow(grid, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.set_xticks(range(n), table.words(j)[:n], rotation=90, fontsize=7)
    label = table.classes[int(data.y[index])]
    ax.set_title(f"{table.annotation_ids[j]} (label {label})", fontsize=9)
    return fig
