"""HLGM paper studies (Figs. 2-8, Tables II-III; docs/methods.md §3.6, §4, §5).

* :func:`hlgm_plateau_info`, :func:`hlgm_plateau_caption`: where an HLGM run's phase 1 ended
  (or that it never did, in which case HLGM equals its traditional continuation, ``baseline``).
* :func:`hlgm_accuracy_table`, :func:`hlgm_accuracy_claims`: Table II, best-epoch and final
  test accuracy of ``baseline`` / ``sgt`` / ``hlgm`` beside the paper's number, and "HLGM beats
  the baseline / SGT" decided by :mod:`saliency_lib.claims` (paired by seed, phase-2 episodes as
  the precondition).
* :func:`object_share`, :func:`object_share_table`, :func:`object_share_claims`: the share of
  each model's top-|gradient| positions that lie on the object's pixels (a number for HLGM
  Fig. 6's "higher gradients on the main object", on data whose background is known, e.g.
  Fashion-MNIST's raw 0).
* :func:`sib_by_run`, :func:`sib_per_seed`, :func:`hlgm_sib_table`, :func:`hlgm_sib_claims`:
  SIB(x) of several models on one box-annotated test set (in-memory or lazy, e.g. Oxford-IIIT
  Pet), the Table III layout beside the paper and "HLGM has the highest median SIB";
  :func:`box_area_share`: the box's share of the image (the SIB of a random map).

Method labels follow :func:`~saliency_lib.grid.run_grid`: ``"baseline"`` (the
traditional continuation from HLGM's phase-1 checkpoint), ``"sgt"``, ``"hlgm"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import torch

from .. import claims
from ..claims import Precondition, record_line
from ..grid import HLGM_BASELINE
from ..methods import method_config
from ..metrics import DEFAULT_FRACTIONS, positions_for_fraction, saliency_scores, sib
from ..plots import plot_hlgm_accuracy
from ..progress import track
from .common import accuracy_claim, format_mean_ci, paper_numbers, summary_table

HLGM_METHODS = (HLGM_BASELINE, "sgt", "hlgm")  # the papers' column order (Tables II and III)
ACCURACY_VALUES = {"best_accuracy": "best", "accuracy": "final"}


def _ordered(labels: Iterable[str], order: Iterable[str] = HLGM_METHODS) -> list[str]:
    labels = list(dict.fromkeys(labels))
    return [m for m in order if m in labels] + [m for m in labels if m not in order]


# --------------------------------------------------------------------------- phase 1 plateau
def hlgm_plateau_info(run) -> dict:
    """Where phase 1 of an HLGM run ended: ``plateau_epoch`` (last traditional epoch, or None),
    ``reached``, ``epochs`` (run length), ``phase2_epochs`` and the epochs per phase."""
    phases = [h.get("phase", "traditional") for h in run.history]
    p = run.plateau_epoch
    n = len(run.history)
    config = getattr(run, "config", None)
    episode = method_config("hlgm", config.method_params if config else None).episode_size
    phase2 = 0 if p is None else n - p
    return {
        "plateau_epoch": p,
        "reached": p is not None,
        "epochs": n,
        "phase2_epochs": phase2,
        "episode_size": episode,
        "phase2_episodes": phase2 / episode,
        "phase_epochs": {ph: phases.count(ph) for ph in dict.fromkeys(phases)},
    }


def hlgm_plateau_caption(run) -> str:
    """One line for the figure: where the plateau was found, or plainly that it was not."""
    info = hlgm_plateau_info(run)
    p, n = info["plateau_epoch"], info["epochs"]
    if not info["reached"]:
        return (f"NO phase-1 plateau within {n} epochs: HLGM never left traditional training "
                "(HLGM = baseline)")  # fmt: skip
    if info["phase2_epochs"] == 0:
        return f"phase-1 plateau only at the last epoch ({p}): no HLGM (phase-2) epoch was run"
    return f"phase-1 plateau at epoch {p}; HLGM phase 2 in epochs {p + 1}-{n}"


def hlgm_plateaus(runs: Mapping) -> dict[int, dict]:
    """``{seed: hlgm_plateau_info}`` of the HLGM runs among ``{(label, seed): run}``."""
    return {seed: hlgm_plateau_info(run) for (label, seed), run in runs.items() if label == "hlgm"}


def hlgm_accuracy_figures(runs: Mapping, setting: str):
    """HLGM Figs. 2-5: for each HLGM run among ``{(label, seed): run}``, ``(seed, figure)`` of
    its test accuracy per epoch with the phases shaded, its baseline's continuation from the
    phase-1 checkpoint dashed, and the plateau caption in the title."""
    for (label, seed), run in runs.items():
        if label != "hlgm":
            continue
        baseline = runs.get((HLGM_BASELINE, seed))
        history = baseline.history if baseline is not None else []
        continued = [h for h in history if h["epoch"] > (run.plateau_epoch or 0)]
        title = f"{setting}, seed {seed}\n{hlgm_plateau_caption(run)}"
        yield seed, plot_hlgm_accuracy(run.history, continued or None, title=title)


# --------------------------------------------------------------------------- Table II
def hlgm_accuracy_table(
    per_seed: pd.DataFrame,
    setting: str,
    paper_key: str | None = "hlgm_table2",
    methods: Iterable[str] = HLGM_METHODS,
    digits: int = 2,
) -> pd.DataFrame:
    """HLGM Table II for one setting (a ``datasets`` label such as ``cnn2_cifar10``): one row per
    method with the best-epoch and the final test accuracy (mean [95 % interval] over seeds,
    from :func:`~saliency_lib.studies.per_seed_table`) and the paper's number (``"-"`` when the
    paper has no such setting; the paper's table does not say whether it is best or final)."""
    values = list(ACCURACY_VALUES)
    summary = summary_table(per_seed, values)
    shown = format_mean_ci(summary, values, digits).set_index("method")
    rows_paper = paper_numbers(paper_key)["rows"].get(setting, {}) if paper_key else {}
    rows = []
    for m in _ordered(shown.index, methods):
        paper = rows_paper.get(m)
        rows.append({
            "setting": setting,
            "method": m,
            "seeds": int(shown.loc[m, "n_seeds"]),
            "best test acc (ours)": shown.loc[m, "best_accuracy"],
            "final test acc (ours)": shown.loc[m, "accuracy"],
            "acc (paper)": "-" if paper is None else f"{paper:.{digits}f}",
        })  # fmt: skip
    return pd.DataFrame(rows)


MIN_PHASE2_EPISODES = 4  # below this, HLGM's schedule has barely acted: claims not testable


def phase2_precondition(plateaus: Mapping[int, dict] | None):
    """The precondition of every HLGM claim: the fewest phase-2 episodes over the HLGM seeds
    (from :func:`hlgm_plateau_info` per seed) is at least :data:`MIN_PHASE2_EPISODES`."""
    if not plateaus:
        return []
    episodes = min(p["phase2_episodes"] for p in plateaus.values())
    return [Precondition("fewest HLGM phase-2 episodes over the seeds", episodes,
                         minimum=MIN_PHASE2_EPISODES)]  # fmt: skip


def hlgm_accuracy_claims(
    per_seed: pd.DataFrame,
    setting: str,
    plateaus: Mapping[int, dict] | None = None,
    runs: Mapping | None = None,
    paper_key: str | None = None,
) -> list[dict]:
    """HLGM Table II's claims for one setting, paired by seed, on the final-epoch test accuracy
    (the rule fixed in advance) with the best epoch beside it (:func:`accuracy_claim`): HLGM
    above the baseline (traditional continuation) and above SGT; HLGM's gain over the baseline
    above the 1 point its stated range starts at; SGT below the baseline (HLGM's introduction).
    With ``runs``, also Fig. 2's dip in training accuracy when the first regularize epoch
    starts (:func:`train_dip`). ``plateaus`` (seed -> :func:`hlgm_plateau_info`) gives the
    precondition: every seed ran at least 4 phase-2 episodes. ``paper_key``: the paper's
    Table II row shown beside (default: :func:`paper_row` of the setting)."""
    pre = phase2_precondition(plateaus)
    paper_key = paper_key or paper_row(setting)
    out = [accuracy_claim("hlgm_superior_accuracy", per_seed, "hlgm", other, setting, pre,
                          versus=other, paper_key=paper_key)
           for other in (HLGM_BASELINE, "sgt")]  # fmt: skip
    out.append(accuracy_claim("hlgm_gain_range", per_seed, "hlgm", HLGM_BASELINE, setting, pre,
                              paper_key=paper_key))  # fmt: skip
    out.append(accuracy_claim("hlgm_sgt_costs_accuracy", per_seed, "sgt", HLGM_BASELINE,
                              setting, pre, paper_key=paper_key))  # fmt: skip
    if runs is not None:
        dips = {seed: train_dip(run) for (label, seed), run in runs.items() if label == "hlgm"}
        seeds = sorted(s for s, d in dips.items() if d is not None)
        if seeds:
            a = [dips[s][1] for s in seeds]
            b = [dips[s][0] for s in seeds]
            out.append(claims.evaluate("hlgm_train_accuracy_dip", a, b, setting, pre))
    return out


def paper_row(setting: str) -> str | None:
    """The HLGM Table II row to show beside a setting: the row of that name (the paper profile's
    settings are named after them), else the CIFAR-10 row of the same model (``cnn2_...`` ->
    ``cnn2_cifar10``: the 2-layer CNN on the offline data is compared with the paper's 2-layer
    CNN), else None."""
    rows = paper_numbers("hlgm_table2")["rows"]
    if setting in rows:
        return setting
    guess = f"{setting.split('_')[0]}_cifar10"
    return guess if guess in rows else None


def train_dip(run) -> tuple[float, float] | None:
    """HLGM Fig. 2's dip: the training accuracy (%) of the run's last phase-1 epoch and of its
    first regularize epoch (None if phase 2 never started)."""
    history = run.history
    first = next((i for i, h in enumerate(history) if h.get("phase") == "regularize"), None)
    if first is None or first == 0:
        return None
    return float(history[first - 1]["train_acc"]), float(history[first]["train_acc"])


def claim_line(claim: Mapping) -> str:
    """One printable line per claim record (:func:`saliency_lib.claims.record_line`)."""
    return record_line(claim)


# --------------------------------------------------------------------------- Fig. 6, a number
def top_share_in_mask(scores, mask, fraction: float) -> torch.Tensor:
    """Per image, the share of its top ``round(fraction * H*W)`` positions by |score| (stable
    descending sort, ties in pixel order) that lie where ``mask`` (bool (N, H, W)) is True."""
    s = torch.as_tensor(scores).detach().cpu().abs().double()
    m = torch.as_tensor(mask).detach().cpu().bool()
    n = s.shape[0]
    k = positions_for_fraction(fraction, s[0].numel())
    if k == 0:
        return torch.full((n,), float("nan"), dtype=torch.float64)
    order = torch.sort(s.reshape(n, -1), dim=1, stable=True, descending=True).indices[:, :k]
    return m.reshape(n, -1).gather(1, order).double().mean(1)


def object_share(maps: Mapping[str, torch.Tensor], x: torch.Tensor, background,
                 fractions: Iterable[float] = (0.05, 0.1)) -> pd.DataFrame:  # fmt: skip
    """Per image and model, the share of the top x % |saliency| positions on the object, where
    the object is every position whose value differs from the dataset's ``background``
    (normalised raw 0) in some channel. Tidy: ``method``, ``image``, ``fraction``, ``share``."""
    bg = torch.as_tensor(background, dtype=x.dtype).reshape(1, -1, 1, 1)
    on_object = (x - bg).abs().amax(1) > 1e-6
    frames = []
    for label, m in maps.items():
        for f in fractions:
            share = top_share_in_mask(m, on_object, f).numpy()
            frames.append(pd.DataFrame({"method": label, "image": np.arange(len(share)),
                                        "fraction": f, "share": share}))  # fmt: skip
    out = pd.concat(frames, ignore_index=True)
    out.attrs["object_share_of_image"] = float(on_object.double().mean())
    return out


def object_share_table(shares: pd.DataFrame, methods: Iterable[str] = HLGM_METHODS) -> pd.DataFrame:
    """Mean and median share of the top positions on the object, one row per method and
    fraction (in %)."""
    g = shares.groupby(["method", "fraction"], sort=False)["share"]
    t = g.agg(["mean", "median", "count"]).reset_index()
    t["method"] = pd.Categorical(t["method"], _ordered(t["method"], methods), ordered=True)
    t = t.sort_values(["fraction", "method"]).reset_index(drop=True)
    t["method"] = t["method"].astype(str)
    t["top (%)"] = 100 * t.pop("fraction")
    return t.rename(columns={"mean": "mean share", "median": "median share",
                             "count": "images"})[["top (%)", "method", "mean share",
                                                  "median share", "images"]]  # fmt: skip


def object_share_claims(
    shares: pd.DataFrame,
    setting: str,
    plateaus: Mapping[int, dict] | None = None,
) -> list[dict]:
    """HLGM Fig. 6's claim as a number, per top fraction: HLGM's mean share of top positions on
    the object is higher than each other model's, paired by seed. ``shares`` is
    :func:`object_share` output with a ``seed`` column (one mean per model and seed)."""
    if "seed" not in shares.columns:
        raise KeyError(
            "object_share_claims needs a 'seed' column in shares: concatenate the "
            "object_share() frames of every seed with .assign(seed=seed)"
        )
    pre = phase2_precondition(plateaus)
    per_seed = shares.groupby(["method", "seed", "fraction"], sort=False)["share"].mean()
    per_seed = per_seed.reset_index()
    out = []
    for frac, g in per_seed.groupby("fraction", sort=False):
        for other in [m for m in _ordered(g["method"]) if m != "hlgm"]:
            a, b = claims.paired(g, "share", "hlgm", other)
            out.append(claims.evaluate("hlgm_object_share", a, b,
                                       f"{setting}, top {100 * frac:g} %", pre,
                                       versus=other))  # fmt: skip
    return out


# --------------------------------------------------------------------------- SIB, Table III
def _images(dataset, idx: torch.Tensor) -> torch.Tensor:
    if getattr(dataset, "x", None) is not None:
        return torch.as_tensor(dataset.x)[idx]
    return torch.stack([dataset[int(i)][0] for i in idx])  # lazy set: read each image


def dataset_images(dataset, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` images (all when None) and labels of a dataset, in-memory or lazy
    (Oxford-IIIT Pet, Caltech-101: each image is read)."""
    idx = torch.arange(len(dataset) if n is None else min(n, len(dataset)))
    return _images(dataset, idx), torch.as_tensor(dataset.y)[idx]


def sib_by_run(
    runs: Mapping,
    dataset,
    fractions: Iterable[float] = DEFAULT_FRACTIONS,
    method: str = "grad",
    batch_size: int = 128,
    best: bool = False,
    progress: bool = True,
) -> dict:
    """Per-image SIB(x) (:func:`saliency_lib.metrics.sib`) of every run's model on the images
    of ``dataset`` that have a box: ``{key: DataFrame}`` indexed by the image's position in
    ``dataset``. Images are read once per chunk of ``batch_size`` and shared by all models, so
    a lazy set (Oxford-IIIT Pet) works and is read once. ``best`` uses each run's best-epoch
    weights instead of its final ones. ``progress``: a bar and lines over the chunks."""
    fractions = [float(f) for f in fractions]
    boxes = torch.as_tensor(dataset.boxes)
    has_box = getattr(dataset, "has_box", None)
    keep = torch.ones(len(boxes), dtype=torch.bool) if has_box is None else torch.as_tensor(
        has_box, dtype=torch.bool)  # fmt: skip
    idx = torch.nonzero(keep).flatten()
    if len(idx) == 0:
        raise ValueError(
            f"no image of {getattr(dataset, 'name', 'the dataset')} "
            f"({getattr(dataset, 'split', '?')} split) has a box, so SIB is undefined; "
            "Oxford-IIIT Pet's head boxes (annotations/xmls) cover its trainval images only"
        )
    y_all = torch.as_tensor(dataset.y)
    models = {key: (run.best_model() if best else run.model) for key, run in runs.items()}
    parts: dict = {key: [] for key in models}
    starts = range(0, len(idx), batch_size)
    for start in track(starts, f"SIB of {len(models)} models", unit="chunk", progress=progress):
        chunk = idx[start : start + batch_size]
        x, y = _images(dataset, chunk), y_all[chunk]
        for key, model in models.items():
            scores = saliency_scores(
                model, (x, y), method=method, batch_size=batch_size, progress=False
            )
            df = sib(scores, boxes[chunk], fractions)
            df.index = pd.Index(chunk.numpy(), name="image")
            parts[key].append(df)
    k = [positions_for_fraction(f, dataset.image_size**2) for f in fractions]
    out = {}
    for key, frames in parts.items():
        df = pd.concat(frames)
        df.attrs.update(n_images=len(idx), n_excluded=int(len(boxes) - len(idx)),
                        fractions=fractions, k=k)  # fmt: skip
        out[key] = df
    return out


def box_area_share(dataset) -> pd.Series:
    """Share of the image inside the box, per image with a box (indexed by position): the SIB
    a saliency map would get on average if its top positions were spread at random."""
    boxes = torch.as_tensor(dataset.boxes).double()
    has_box = getattr(dataset, "has_box", None)
    keep = torch.ones(len(boxes), dtype=torch.bool) if has_box is None else torch.as_tensor(
        has_box, dtype=torch.bool)  # fmt: skip
    idx = torch.nonzero(keep).flatten()
    b = boxes[idx]
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) / dataset.image_size**2
    return pd.Series(area.numpy(), index=pd.Index(idx.numpy(), name="image"), name="box_share")


def sib_per_seed(sibs: Mapping) -> pd.DataFrame:
    """Median and mean SIB of every run, tidy: ``method``, ``seed``, ``fraction`` (column name,
    e.g. ``"SIB(1)"``), ``median``, ``mean``, ``images``. Keys of ``sibs`` are
    ``(label, seed)``."""
    rows = []
    for (label, seed), df in sibs.items():
        for col in [c for c in df.columns if str(c).startswith("SIB(")]:
            v = df[col].dropna()
            rows.append({"method": label, "seed": seed, "fraction": col,
                         "median": float(v.median()) if len(v) else float("nan"),
                         "mean": float(v.mean()) if len(v) else float("nan"),
                         "images": len(v)})  # fmt: skip
    return pd.DataFrame(rows)


def hlgm_sib_table(
    per_seed: pd.DataFrame,
    paper_key: str | None = "hlgm_table3",
    methods: Iterable[str] = HLGM_METHODS,
    stat: str = "median",
    digits: int = 2,
) -> pd.DataFrame:
    """HLGM Table III layout: one row per SIB(x), for each method our ``stat`` (mean [95 %
    interval] over seeds of the per-seed medians) beside the paper's median."""
    paper = paper_numbers(paper_key)["rows"] if paper_key else {}
    labels = _ordered(per_seed["method"], methods)
    rows = []
    for frac, g in per_seed.groupby("fraction", sort=False):
        summary = summary_table(g, [stat])
        shown = format_mean_ci(summary, [stat], digits).set_index("method")
        row = {"SIB": f"{stat} {frac}", "seeds": int(summary["n_seeds"].max())}
        for m in labels:
            row[f"{m} (ours)"] = shown.loc[m, stat] if m in shown.index else "-"
            p = paper.get(frac, {}).get(m)
            row[f"{m} (paper)"] = "-" if p is None else f"{p:.{digits}f}"
        rows.append(row)
    return pd.DataFrame(rows)


def _paired_images(sibs: Mapping, a_key, b_key, column: str):
    """Per-image SIB values of two runs on the images both have a value for, in image order."""
    both = pd.concat([sibs[a_key][column], sibs[b_key][column]], axis=1, keys=["a", "b"])
    both = both.dropna()
    return both["a"].to_numpy(), both["b"].to_numpy()


def hlgm_sib_claims(
    per_seed: pd.DataFrame,
    setting: str,
    plateaus: Mapping[int, dict] | None = None,
    sibs: Mapping | None = None,
    box_columns: Iterable[str] = ("SIB(1)", "SIB(5)"),
) -> list[dict]:
    """HLGM's SIB claims, paired by seed against each other model (:func:`sib_per_seed` rows):

    * Table III: HLGM's median SIB(x) is higher at every x; a median can be the same in every
      seed (SIB is a share of a few positions), then the per-image values of ``sibs``
      (:func:`sib_by_run`) decide it (a paired bootstrap over images within the seeds);
    * Fig. 8 left: HLGM's mean SIB is higher for the box-plot columns;
    * Fig. 8 right: on more than half of the images where the two differ, HLGM's SIB is the
      higher (``sibs`` needed).
    """
    pre = phase2_precondition(plateaus)
    out = []
    for frac, g in per_seed.groupby("fraction", sort=False):
        for other in [m for m in _ordered(g["method"]) if m != "hlgm"]:
            seeds = sorted(
                set(g[g["method"] == "hlgm"]["seed"]) & set(g[g["method"] == other]["seed"])
            )
            units = ([_paired_images(sibs, ("hlgm", s), (other, s), frac) for s in seeds]
                     if sibs is not None else None)  # fmt: skip
            for stat, claim_id in (("median", "hlgm_sib_median"), ("mean", "hlgm_sib_mean")):
                if stat == "mean" and frac not in set(box_columns):
                    continue
                a, b = claims.paired(g, stat, "hlgm", other)
                out.append(claims.evaluate(
                    claim_id, a, b, f"{setting}, {frac}", pre, versus=other,
                    paper_key=frac, units=units, statistic=getattr(np, stat),
                ))  # fmt: skip
            if units is not None and frac in set(box_columns):
                # per image where the two differ: 1 if HLGM's SIB is the higher; its mean is the
                # share tested against one half (a seed with no difference counts as a half)
                wins = [(ua[ua != ub] > ub[ua != ub]).astype(float) for ua, ub in units]
                wins = [w if len(w) else np.array([0.5]) for w in wins]
                share = [float(w.mean()) for w in wins]
                out.append(claims.evaluate(
                    "hlgm_sib_majority", share, [0.5] * len(share), f"{setting}, {frac}", pre,
                    versus=other, units=[(w, np.full(len(w), 0.5)) for w in wins],
                    statistic=np.mean,
                ))  # fmt: skip
    return out
