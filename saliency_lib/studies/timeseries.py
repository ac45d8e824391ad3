"""SGT on time series (SGT section 5.3): the run grid (dataset x architecture x training method x
seed), the box precision/recall evaluation of every (architecture, saliency method) pair, the
Table 2 summary beside the paper's, the Fig. 5 / Fig. 6 figures, and the claims.

Attribution goes through :func:`saliency_lib.saliency.attribute` (captum). Pairs that are not
computed are skipped with the reason recorded in the results (never silently). DeepLIFT and
DeepSHAP apply their rules only at non-linearity *modules* (ReLU, max-pool; the package
registers them so adjacent modules stay complete, :func:`saliency_lib.saliency._rule_hooks`):

* in ``nn.LSTM`` the gate non-linearities are inside one fused operator, so DeepLIFT would
  silently be gradient x (input - baseline): :data:`UNSUPPORTED`;
* every other model is checked per run: DeepLIFT's completeness error
  (:func:`saliency_lib.saliency.deeplift_completeness`) must be under :data:`COMPLETENESS_TOL`.
  The TCN (ReLU and max-pool modules) passes (about 1e-6); the Transformer does not (attention
  softmax, layer norm and the max over time pass plain gradients), and its DeepLIFT-family
  columns are skipped with the measured error as the reason.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from .. import claims
from ..claims import MIN_SEEDS, Precondition
from ..metrics import box_mask
from ..metrics.timeseries import DEFAULT_LEVELS, BoxScores, areas, normalise_maps, permute_features
from ..progress import track
from ..runs import load_splits
from ..saliency import attribute, deeplift_completeness, make_baseline
from .common import paper_numbers

#: (architecture family, saliency method) -> why it is not computed.
UNSUPPORTED: dict[tuple[str, str], str] = {
    (arch, method): (
        "captum's DeepLIFT rules cannot pass through nn.LSTM's fused gates; captum would "
        "silently return gradient x (input - baseline) instead"
    )
    for arch in ("lstm", "lstm_cell_attention")
    for method in ("deeplift", "deepshap")
}
#: (architecture family, saliency method) -> a note shown with its results.
NOTES: dict[tuple[str, str], str] = {}
#: The DeepLIFT-family saliency methods (their pairs are checked for completeness).
DEEPLIFT_FAMILY = ("deeplift", "deepshap")
#: Largest completeness error (relative) at which DeepLIFT is reported (float32: about 1e-6).
COMPLETENESS_TOL = 1e-3
#: Random-baseline definitions (:func:`evaluate_runs`).
RANDOM_BASELINES = ("benchmark", "own")
#: Saliency methods of SGT Table 2, in its column order, with the paper's labels.
SALIENCY_LABELS = {
    "grad": "Gradient",
    "ig": "Integrated Gradient",
    "deeplift": "DeepLIFT",
    "gradshap": "Gradient SHAP",
    "deepshap": "DeepSHAP",
    "smoothgrad": "SmoothGrad",
}
ARCH_LABELS = {
    "lstm": "LSTM",
    "lstm_cell_attention": "LSTM + Input-cell attention",
    "tcn": "TCN",
    "transformer": "Transformer",
}


def family(model: str) -> str:
    """``tcn_mnist`` -> ``tcn``: the architecture family of a registered model name."""
    return model.removesuffix("_mnist")


def unsupported_reason(model: str, saliency: str) -> str | None:
    """Why captum cannot compute ``saliency`` on ``model`` (``None`` if it can)."""
    return UNSUPPORTED.get((family(model), saliency))


def evaluate_runs(
    runs: Mapping[tuple, Any],
    saliency_methods: Sequence[str],
    options: Mapping[str, Mapping[str, Any]] | None = None,
    eval_samples: int | None = None,
    levels: Sequence[float] = DEFAULT_LEVELS,
    batch_size: int = 50,
    progress: bool = True,
    random_baseline: str = "benchmark",
    ties: str = "random",
) -> pd.DataFrame:
    """One row per (dataset, architecture, method, seed, saliency): AUP, AUR, the random
    baseline's, Diff(AUP), Diff(AUR) (SGT eqs. 7-8), the model's test accuracy and, for a pair
    not computed, ``skipped`` with the reason. The model is the best-test-accuracy checkpoint
    (as the benchmark); ``eval_samples`` limits the test samples (first ``n``). ``progress``: a
    bar and lines over the runs.

    ``random_baseline``: ``"benchmark"`` (default; the benchmark's ``createMasks.py``): per run
    one saliency method is drawn at random among those computed, its map is permuted along
    features, and that one baseline is subtracted from every method (``random_source`` names
    it); ``"own"``: each method's own map permuted. ``ties``: order of equal saliency values
    (:mod:`saliency_lib.metrics.timeseries`). DeepLIFT-family pairs are computed only where
    DeepLIFT is complete on the run's model (:func:`saliency_lib.saliency.deeplift_completeness`
    on the first 16 test samples, ``completeness_error``); otherwise skipped with the measured
    error as the reason."""

    if random_baseline not in RANDOM_BASELINES:
        raise ValueError(
            f"random_baseline must be one of {RANDOM_BASELINES}, got {random_baseline!r}"
        )
    rows = []
    what = "saliency evaluation"
    for key, run in track(runs.items(), what, unit="run", progress=progress):
        ds, arch, label, seed = key
        test = load_splits(run.config)[1]
        n = len(test) if eval_samples is None else min(eval_samples, len(test))
        x, y = test.x[:n], test.y[:n]
        box = box_mask(test.boxes[:n], x.shape[2], x.shape[3])
        model = run.best_model()
        with torch.no_grad():
            accuracy = float((model(x).argmax(1) == y).double().mean() * 100)
        base = {"dataset": ds, "architecture": arch, "method": label, "seed": seed,
                "accuracy": accuracy, "best_accuracy": run.best_test_acc}  # fmt: skip
        complete_err = None
        if any(sal in DEEPLIFT_FAMILY for sal in saliency_methods):
            complete_err = _completeness(model, arch, x, y, seed)
        maps, out = {}, {}
        for j, sal in enumerate(saliency_methods):
            reason = unsupported_reason(arch, sal)
            if reason is None and sal in DEEPLIFT_FAMILY and complete_err > COMPLETENESS_TOL:
                reason = (
                    f"DeepLIFT is not complete on this model: its attributions miss the logit "
                    f"difference by {complete_err:.0%} (rules only at ReLU / max-pool modules; "
                    "captum passes plain gradients through the other operations)"
                )
            if reason:
                out[sal] = {"skipped": reason}
                if sal in DEEPLIFT_FAMILY and np.isfinite(complete_err):
                    out[sal]["completeness_error"] = complete_err
                continue
            gen = torch.Generator().manual_seed(1000 * seed + j)
            maps[sal] = attribute(model, x, y, sal, abs=True, batch_size=batch_size,
                                  generator=gen, **dict((options or {}).get(sal, {})))  # fmt: skip
            out[sal] = {"skipped": None, "note": NOTES.get((family(arch), sal)),
                        "generator": gen}  # fmt: skip
            if sal in DEEPLIFT_FAMILY:
                out[sal]["completeness_error"] = complete_err
        source, shared = None, None
        if random_baseline == "benchmark" and maps:
            pick = torch.Generator().manual_seed(zlib.crc32(repr(key).encode()))
            source = list(maps)[int(torch.randint(len(maps), (1,), generator=pick))]
            shared = areas(permute_features(maps[source], pick), box, levels, ties, pick)
        for sal in saliency_methods:
            entry = out[sal]
            if entry["skipped"] is None:
                gen = entry.pop("generator")
                rnd = shared or areas(permute_features(maps[sal], gen), box, levels, ties, gen)
                aup, aur, p, r = areas(maps[sal], box, levels, ties, gen)
                scores = BoxScores(aup, aur, rnd[0], rnd[1], p, r)
                entry.update(scores.as_dict(), random_source=source or sal)
            rows.append({**base, "saliency": sal, **entry})
    return pd.DataFrame(rows)


def _completeness(model, arch: str, x: torch.Tensor, y: torch.Tensor, seed: int) -> float:
    """DeepLIFT's completeness error on the first 16 samples with a uniform baseline (the
    attribution baseline); ``inf`` for a pair listed in :data:`UNSUPPORTED`."""
    if any(unsupported_reason(arch, m) for m in DEEPLIFT_FAMILY):
        return float("inf")
    gen = torch.Generator().manual_seed(seed)
    xs = x[:16]
    return deeplift_completeness(model, xs, y[:16], make_baseline(xs, "uniform", gen))


def per_seed_means(scores: pd.DataFrame, min_accuracy: float | None = None) -> pd.DataFrame:
    """Mean over datasets per (architecture, saliency, method, seed) of AUP/AUR/Diff: the
    per-seed values SGT Table 2 averages (paired by seed across methods). Runs below
    ``min_accuracy`` (the benchmark interprets models with test accuracy >= 90 %) are left out
    and counted in ``datasets_used``."""
    ok = scores[scores["skipped"].isna()].copy()
    if min_accuracy is not None:
        ok = ok[ok["accuracy"] >= min_accuracy]
    cols = ["aup", "aur", "random_aup", "random_aur", "diff_aup", "diff_aur"]
    keys = ["architecture", "saliency", "method", "seed"]
    out = ok.groupby(keys, sort=False)[cols].mean().reset_index()
    out["datasets_used"] = ok.groupby(keys, sort=False).size().values
    return out


def table2(per_seed: pd.DataFrame, metric: str = "diff_aup") -> pd.DataFrame:
    """SGT Table 2 layout: rows architectures, columns ``<saliency> <method>``, mean over seeds
    of ``metric``, with the paper's values beside (``paper <saliency> <method>``)."""
    paper = paper_table2()
    rows = []
    for arch, g in per_seed.groupby("architecture", sort=False):
        row = {"architecture": ARCH_LABELS.get(family(arch), arch)}
        means = g.groupby(["saliency", "method"])[metric].mean()
        sals = sorted(g["saliency"].unique(), key=_saliency_rank)
        for sal in sals:
            for meth in dict.fromkeys(g["method"]):
                row[f"{sal} {meth}"] = means.get((sal, meth), np.nan)
                ref = paper.get((metric, family(arch), sal, meth))
                if ref is not None:
                    row[f"paper {sal} {meth}"] = ref
        rows.append(row)
    return pd.DataFrame(rows)


def _saliency_rank(name: str) -> int:
    order = list(SALIENCY_LABELS)
    return order.index(name) if name in order else len(order)


def paper_table2() -> dict[tuple[str, str, str, str], float]:
    """``{(metric, architecture, saliency, method): value}`` of SGT Table 2."""
    data = paper_numbers("sgt_table2")
    out = {}
    for metric, archs in data["rows"].items():
        for arch, per_sal in archs.items():
            for sal, (trad, sgt) in per_sal.items():
                out[(metric, arch, sal, "traditional")] = trad
                out[(metric, arch, sal, "sgt")] = sgt
    return out


def _paired(frame: pd.DataFrame, value: str, a: str = "sgt", b: str = "traditional") -> pd.Series:
    """Per-seed ``value`` of method ``a`` minus method ``b`` (seeds present in both)."""
    wide = frame.pivot_table(index="seed", columns="method", values=value, aggfunc="mean")
    if a not in wide or b not in wide:
        return pd.Series(dtype=float)
    return (wide[a] - wide[b]).dropna()


# our claim ids -> (the catalogue's claim, the setting); the metric / architecture are the setting
def _catalogue_id(cid: str) -> tuple[str, str]:
    for prefix, claim_id in (
        ("tab2_tcn_ig_best_", "sgt_tab2_tcn_ig_best"),
        ("tab2_sgt_raises_", "sgt_tab2_precision_recall_up"),
        ("fig6_trad_time_bias_", "sgt_fig6_trad_time_bias"),
        ("fig6_sgt_shrinks_bias_", "sgt_fig6_sgt_no_time_bias"),
    ):
        if cid.startswith(prefix):
            return claim_id, cid[len(prefix) :]
    raise KeyError(f"no catalogue claim for {cid!r}")


def _claim(cid: str, text: str, values: pd.Series, detail: str, preconditions=()) -> dict:
    """The record of one claim tested on ``values`` (one per seed, positive = as claimed) against
    0 by :func:`saliency_lib.claims.evaluate`; ``text`` and ``detail`` go into its note."""

    claim_id, setting = _catalogue_id(cid)
    values = values.dropna()
    rec = claims.evaluate(claim_id, values.tolist(), [0.0] * len(values), setting, preconditions,
                          note=f"{text}: {detail}")  # fmt: skip
    rec["per_seed"] = {int(k): float(v) for k, v in values.items()}
    return rec


def timeseries_claims(study: str, data: pd.DataFrame, **options) -> list[dict[str, Any]]:
    """All claims of SGT section 5.3, judged on per-seed data (one value per seed, paired).

    ``study="tab2"``: ``data`` = :func:`per_seed_means`. Claims: (1) under SGT, (TCN, IG) has the
    highest mean Diff(AUP) and Diff(AUR) of the pairs run (per seed: its margin over the best
    other SGT pair); (2) per architecture and metric, SGT raises Diff over traditional training,
    averaged over every saliency method run (per seed: SGT - Trad; the paper's general claim,
    not only the methods whose row rises in its own Table 2). ``study="fig6"``: ``data`` =
    :func:`evaluate_runs` rows on the early / middle / late datasets (``options``: ``datasets``
    in time order, ``saliency`` the method judged, default ``grad``; ``min_accuracy``: a seed
    counts only when all its models reach this test accuracy, since the saliency of a model at
    chance says nothing about the box). Claims: (3) the traditional LSTM's AUP and AUR grow from
    the early to the late box (per seed: late - early); (4) SGT shrinks that time bias (per
    seed: bias(Trad) - bias(SGT)).

    Each claim is decided by :mod:`saliency_lib.claims` on those per-seed values against 0 and
    carries ``per_seed`` (seed -> value).
    """
    if study == "tab2":
        return _tab2_claims(data)
    if study == "fig6":
        return _fig6_claims(data, **options)
    raise ValueError(f"study must be 'tab2' or 'fig6', got {study!r}")


def _tab2_claims(per_seed: pd.DataFrame) -> list[dict[str, Any]]:
    claims = []
    sgt = per_seed[per_seed["method"] == "sgt"]
    for metric, label in (("diff_aup", "Diff(AUP)"), ("diff_aur", "Diff(AUR)")):
        cid = f"tab2_tcn_ig_best_{metric}"
        text = f"Under SGT, (TCN, IG) has the highest {label} of all (architecture, saliency) pairs"
        target = sgt[(sgt["architecture"].map(family) == "tcn") & (sgt["saliency"] == "ig")]
        others = sgt[~sgt.index.isin(target.index)]
        if target.empty or others.empty:
            claims.append(_claim(cid, text, pd.Series(dtype=float),
                                 "TCN with IG or another pair was not run"))  # fmt: skip
            continue
        mean_pairs = sgt.groupby(["architecture", "saliency"])[metric].mean()
        best = mean_pairs.idxmax()
        rival = mean_pairs.drop(
            [p for p in mean_pairs.index if family(p[0]) == "tcn" and p[1] == "ig"]
        ).idxmax()
        rival_rows = others[(others["architecture"] == rival[0]) & (others["saliency"] == rival[1])]
        margin = (
            target.groupby("seed")[metric].mean() - rival_rows.groupby("seed")[metric].mean()
        ).dropna()
        detail = (
            f"TCN-IG {target[metric].mean():.3f}; best pair {best[0]}-{best[1]} "
            f"{mean_pairs.max():.3f}; per-seed margin over the best other pair ({rival[0]}-"
            f"{rival[1]}) {margin.mean():+.3f} ({len(margin)} seeds)"
        )
        claims.append(_claim(cid, text, margin, detail))
    shown = paper_table2()
    for arch in per_seed["architecture"].unique():
        fam = family(arch)
        g = per_seed[per_seed["architecture"] == arch]
        for metric, label in (("diff_aup", "Diff(AUP)"), ("diff_aur", "Diff(AUR)")):
            sals = list(g["saliency"].unique())
            cid = f"tab2_sgt_raises_{metric}_{fam}"
            text = (f"SGT raises {label} of {ARCH_LABELS.get(fam, fam)} (mean over the saliency "
                    "methods run)")  # fmt: skip
            rises = sum(
                shown.get((metric, fam, x, "sgt"), -np.inf)
                > shown.get((metric, fam, x, "traditional"), np.inf)
                for x in sals
            )
            text += f"; the paper's Table 2 shows a rise for {rises} of these {len(sals)}"
            if not sals:
                why = "no saliency method run"
                claims.append(_claim(cid, text, pd.Series(dtype=float), why))
                continue
            sub = g[g["saliency"].isin(sals)]
            diffs = _paired(sub, metric)
            detail = (
                f"SGT - Trad {diffs.mean():+.3f} over {', '.join(sals)} "
                f"({len(diffs)} seeds: {', '.join(f'{v:+.3f}' for v in diffs)})"
            )
            claims.append(_claim(cid, text, diffs, detail))
    return claims


def time_bias(rows: pd.DataFrame, datasets: Sequence[str], saliency: str) -> pd.DataFrame:
    """Per (method, seed): AUP and AUR on each dataset and the bias ``late - early``."""
    sub = rows[(rows["saliency"] == saliency) & rows["skipped"].isna()]
    out = []
    for (meth, seed), g in sub.groupby(["method", "seed"], sort=False):
        vals = g.set_index("dataset")
        row = {"method": meth, "seed": seed}
        for m in ("aup", "aur"):
            for ds in datasets:
                row[f"{m} {ds}"] = vals[m].get(ds, np.nan)
            row[f"{m} bias"] = row[f"{m} {datasets[-1]}"] - row[f"{m} {datasets[0]}"]
        out.append(row)
    return pd.DataFrame(out)


def _fig6_claims(
    rows: pd.DataFrame,
    datasets: Sequence[str],
    saliency: str = "grad",
    min_accuracy: float | None = None,
) -> list:
    bias = time_bias(rows, datasets, saliency)
    low = pd.Series(dtype=float)
    if min_accuracy is not None and "accuracy" in rows:
        acc = rows.drop_duplicates(["dataset", "method", "seed"])
        low = acc[acc["accuracy"] < min_accuracy]
        bias = bias[~bias["seed"].isin(low["seed"])]
    gate = ""
    if len(low):
        gate = "; seeds left out (a model under {:.0f} % test accuracy: {}): {}".format(
            min_accuracy,
            ", ".join(
                f"{r.dataset} {r.method} s{r.seed} {r.accuracy:.0f} %" for r in low.itertuples()
            ),
            sorted(set(low["seed"].tolist())),
        )

    kept = int(bias["seed"].nunique())
    pre = [Precondition(f"seeds whose every model reaches {min_accuracy:g} % test accuracy",
                        kept, minimum=MIN_SEEDS)] if min_accuracy is not None else []  # fmt: skip
    claims = []
    for m, label in (("aup", "AUP"), ("aur", "AUR")):
        trad = bias[bias["method"] == "traditional"].set_index("seed")[f"{m} bias"]
        sgt = bias[bias["method"] == "sgt"].set_index("seed")[f"{m} bias"]
        detail = f"{saliency}: late - early {trad.mean():+.3f} ({len(trad)} seeds){gate}"
        claims.append(_claim(f"fig6_trad_time_bias_{m}",
                             f"A traditionally trained LSTM has a higher {label} the later the box",
                             trad.dropna(), detail, pre))  # fmt: skip
        shrink = (trad - sgt).dropna()
        values = ", ".join(f"{v:+.3f}" for v in shrink)
        detail = (f"{saliency}: bias Trad {trad.mean():+.3f}, SGT {sgt.mean():+.3f}; "
                  f"per-seed Trad - SGT {values}{gate}")  # fmt: skip
        claims.append(_claim(f"fig6_sgt_shrinks_bias_{m}",
                             f"SGT shrinks the LSTM's time bias in {label} (late - early)",
                             shrink, detail, pre))  # fmt: skip
    return claims


def example_maps(
    runs: Mapping[tuple, Any],
    x: torch.Tensor,
    y: torch.Tensor,
    saliency_methods: Sequence[str],
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[tuple[str, str, str], torch.Tensor | str]:
    """``{(architecture, saliency, method): (N, T, F) normalised |map| or the skip reason}``
    for the given samples (SGT Fig. 5), from each run's best checkpoint (DeepLIFT-family pairs
    only where DeepLIFT is complete, as :func:`evaluate_runs`)."""

    out = {}
    for (_ds, arch, label, seed), run in runs.items():
        model = run.best_model()
        complete_err = None
        if any(sal in DEEPLIFT_FAMILY for sal in saliency_methods):
            complete_err = _completeness(model, arch, x, y, seed)
        for j, sal in enumerate(saliency_methods):
            reason = unsupported_reason(arch, sal)
            if reason is None and sal in DEEPLIFT_FAMILY and complete_err > COMPLETENESS_TOL:
                reason = f"DeepLIFT not complete on this model ({complete_err:.0%})"
            if reason:
                out[(arch, sal, label)] = reason
                continue
            gen = torch.Generator().manual_seed(j)
            maps = attribute(model, x, y, sal, abs=True, generator=gen,
                             **dict((options or {}).get(sal, {})))  # fmt: skip
            out[(arch, sal, label)] = normalise_maps(maps).float()
    return out


def plot_map_grid(maps: Mapping[tuple[str, str, str], Any], sample: int = 0, title: str = ""):
    """Fig. 5 layout: one column per (architecture, saliency), rows traditional / SGT; time on
    the vertical axis. A skipped pair shows its reason."""

    pairs = list(dict.fromkeys((a, s) for a, s, _ in maps))
    methods = list(dict.fromkeys(m for _, _, m in maps))
    fig, axes = plt.subplots(len(methods), len(pairs), squeeze=False,
                             figsize=(1.6 * len(pairs) + 1, 1.8 * len(methods) + 0.6))  # fmt: skip
    for c, (arch, sal) in enumerate(pairs):
        for r, meth in enumerate(methods):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            value = maps.get((arch, sal, meth))
            if isinstance(value, torch.Tensor):
                ax.imshow(value[sample].numpy(), cmap="hot", vmin=0, vmax=1)
            else:
                ax.text(
                    0.5, 0.5, "not computed\n(see reason)", ha="center", va="center", fontsize=7
                )
            if r == 0:
                ax.set_title(f"{ARCH_LABELS.get(family(arch), arch)}\n{sal}", fontsize=7)
            if c == 0:
                ax.set_ylabel(meth, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_time_bias(bias: pd.DataFrame, datasets: Sequence[str], title: str = ""):
    """SGT Fig. 6 (B): AUP and AUR per dataset (early, middle, late), mean +- sd over seeds."""

    fig, axes = plt.subplots(1, 2, figsize=(8, 3))
    xs = np.arange(len(datasets))
    for ax, m in zip(axes, ("aup", "aur"), strict=True):
        for meth, g in bias.groupby("method", sort=False):
            vals = g[[f"{m} {ds}" for ds in datasets]].to_numpy(dtype=float)
            ax.errorbar(xs, vals.mean(0), yerr=vals.std(0) if len(vals) > 1 else None,
                        marker="o", capsize=3, label=meth)  # fmt: skip
        ax.set_xticks(xs, [d.removeprefix("ts_") for d in datasets])
        ax.set_ylabel(m.upper())
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def plot_table2(per_seed: pd.DataFrame, title: str = ""):
    """Table 2 as bars: Diff(AUP) and Diff(AUR) per (architecture, saliency), traditional vs SGT,
    mean +- sd over seeds; the paper's values as black ticks."""

    paper = paper_table2()
    pairs = list(dict.fromkeys(zip(per_seed["architecture"], per_seed["saliency"], strict=True)))
    methods = list(dict.fromkeys(per_seed["method"]))
    fig, axes = plt.subplots(2, 1, figsize=(max(6, 0.55 * len(pairs) * len(methods)), 6))
    width = 0.8 / max(len(methods), 1)
    xs = np.arange(len(pairs))
    panels = (("diff_aup", "Diff(AUP)"), ("diff_aur", "Diff(AUR)"))
    for ax, (metric, label) in zip(axes, panels, strict=True):
        for i, meth in enumerate(methods):
            g = per_seed[per_seed["method"] == meth]
            stats = g.groupby(["architecture", "saliency"])[metric].agg(["mean", "std"])
            mean = [stats["mean"].get(p, np.nan) for p in pairs]
            sd = [stats["std"].get(p, np.nan) for p in pairs]
            pos = xs + (i - (len(methods) - 1) / 2) * width
            ax.bar(pos, mean, width, yerr=np.nan_to_num(sd), capsize=2, label=meth)
            ref = [paper.get((metric, family(a), s, meth), np.nan) for a, s in pairs]
            ax.scatter(pos, ref, marker="_", color="k", s=120, zorder=3,
                       label="paper" if i == 0 else None)  # fmt: skip
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_ylabel(label)
        ax.set_xticks(xs, [f"{ARCH_LABELS.get(family(a), a)}\n{s}" for a, s in pairs], fontsize=7)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def digit_shares(
    runs: Mapping[tuple, Any],
    x: torch.Tensor,
    y: torch.Tensor,
    saliency_methods: Sequence[str],
    options: Mapping[str, Mapping[str, Any]] | None = None,
    top: float = 0.1,
) -> pd.DataFrame:
    """SGT Fig. 5 as a number: per run (``runs`` keyed ``(dataset, architecture, method,
    seed)``) and saliency method, the mean over the samples ``x`` (MNIST read as a time series,
    pixels in [0, 1], background 0) of the share of each map's top ``top`` cells by |saliency|
    that lie on the digit (pixels above 0). Tidy: ``architecture``, ``saliency``, ``method``,
    ``seed``, ``share``; pairs :func:`example_maps` does not compute are left out."""
    on_digit = x.reshape(len(x), -1) > 0
    k = max(1, int(round(top * on_digit.shape[1])))
    rows = []
    for seed in sorted({key[3] for key in runs}):
        maps = example_maps({key: r for key, r in runs.items() if key[3] == seed}, x, y,
                            saliency_methods, options)  # fmt: skip
        for (arch, sal, label), m in maps.items():
            if isinstance(m, str):
                continue
            flat = torch.as_tensor(m).reshape(len(x), -1).double()
            order = torch.sort(flat, dim=1, stable=True, descending=True).indices[:, :k]
            share = on_digit.gather(1, order).double().mean(1)
            rows.append({"architecture": arch, "saliency": sal, "method": label, "seed": seed,
                         "share": float(share.mean())})  # fmt: skip
    return pd.DataFrame(rows, columns=["architecture", "saliency", "method", "seed", "share"])


def fig5_claims(shares: pd.DataFrame, setting: str = "mnist_sequence") -> list[dict[str, Any]]:
    """SGT Fig. 5's "visible improvement in saliency quality across different networks": per
    (architecture, saliency method), SGT's share of top cells on the digit above Traditional's,
    paired by seed (:func:`digit_shares`)."""
    out = []
    for (arch, sal), g in shares.groupby(["architecture", "saliency"], sort=False):
        a, b = claims.paired(g, "share", "sgt", "traditional")
        out.append(claims.evaluate("sgt_fig5_maps_improve", a, b, f"{setting}, {arch}, {sal}"))
    return out
