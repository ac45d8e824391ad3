"""Figure helpers for the papers' plots (seaborn / matplotlib); every helper returns the Figure.

Inputs are the tidy DataFrames and results of :mod:`saliency_lib.metrics`. ``save_figure`` writes
PNG and PDF next to each other.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .metrics.accuracy_drop import auc as _auc

# HLGM paper: traditional grey, regularize purple, denoise yellow.
PHASE_COLORS = {
    "traditional": "#bdbdbd",
    "regularize": "#b39ddb",
    "denoise": "#fff59d",
    "sgt": "#c6dbef",
    "smoot": "#c7e9c0",
}


#: How the package's identifiers read in figures (legends, panel titles, axis ticks); an
#: identifier not listed is shown as it is (e.g. a user's own method label).
LABELS = {
    "traditional": "Traditional",
    "sgt": "SGT",
    "smoot": "SMOOT",
    "smoot_scaled_mu": "SMOOT, mu scaled to 100 epochs",
    "hlgm": "HLGM",
    "baseline": "baseline (Traditional continued)",
    "grad": "gradient",
    "ig": "Integrated Gradients",
    "smoothgrad": "SmoothGrad",
    "deeplift": "DeepLIFT",
    "gradshap": "GradientSHAP",
    "deepshap": "DeepSHAP",
    "random": "random ranking",
    "background": "background fill",
    "mean": "mean fill",
    "roar": "ROAR (retrained)",
}


def in_words(value) -> str:
    """``value`` in words for a figure (:data:`LABELS`), else ``str(value)``."""
    return LABELS.get(str(value), str(value))


VECTOR_FORMATS = ("pdf", "svg", "eps", "ps")


def save_figure(
    fig: Figure, path, formats: Sequence[str] = ("png", "pdf"), dpi: int = 150
) -> list[Path]:
    """Write ``fig`` as ``path.png`` and ``path.pdf`` (``path`` without suffix; parent folders
    are created): raster formats at ``dpi``, vector formats with their images at the figure's
    own dpi. Returns the written paths (the notebooks' ``Experiment.save_figure`` calls this)."""
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        out = base.with_name(f"{base.name}.{fmt}")
        raster = {"dpi": dpi} if fmt not in VECTOR_FORMATS else {}
        fig.savefig(out, bbox_inches="tight", **raster)
        written.append(out)
    return written


def _axes(ax, figsize=(5, 3.5)):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _boxplot(**kwargs):
    """``sns.boxplot`` without seaborn 0.13's ``vert=`` deprecation warning on matplotlib 3.11."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*vert: bool.*")
        return sns.boxplot(**kwargs)


def _groups(df: pd.DataFrame, keys: list[str]):
    if not keys:
        return [((), df)]
    return [(k if isinstance(k, tuple) else (k,), g) for k, g in df.groupby(keys, sort=False)]


# --------------------------------------------------------------------------- accuracy drop
def plot_accuracy_drop(
    df: pd.DataFrame,
    hue: str | None = "training",
    style: str | None = None,
    col: str | None = None,
    show_auc: bool = True,
    title: str | None = None,
    palette=None,
    col_wrap: int = 3,
) -> Figure:
    """Accuracy-drop curves (SGT Fig. 3, SMOOT Fig. 3): accuracy (%) over removed level (%).

    ``df`` is tidy (``level``, ``accuracy`` and the grouping columns ``hue`` / ``style`` /
    ``col``, any of which may be ``None``), e.g. from ``metrics.accuracy_drop_table``: one line
    per training method (``hue="training"``), one panel per saliency method (``col="method"``)
    or one line per saliency method (``hue="method"``). Several rows per level (seeds) are
    averaged, with a min-max band. The legend gives each curve's AUC.
    """
    hue = hue if hue in df.columns else None
    style = style if style in df.columns else None
    col = col if col in df.columns else None
    panels = list(dict.fromkeys(df[col])) if col else [None]
    ncols = min(len(panels), col_wrap)
    nrows = int(np.ceil(len(panels) / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(4.2 * ncols, 3.4 * nrows), squeeze=False, sharey=True,
        layout="constrained",
    )  # fmt: skip
    hues = list(dict.fromkeys(df[hue])) if hue else [None]
    colors = dict(zip(hues, sns.color_palette(palette, len(hues)), strict=True))
    styles = list(dict.fromkeys(df[style])) if style else [None]
    dashes = dict(zip(styles, ["-", "--", ":", "-."] * (len(styles) // 4 + 1), strict=False))
    for ax, panel in zip(axes.flat, panels, strict=False):
        sub = df[df[col] == panel] if col else df
        for key, g in _groups(sub, [k for k in (hue, style) if k]):
            kd = dict(zip([k for k in (hue, style) if k], key, strict=True))
            stats = g.groupby("level")["accuracy"].agg(["mean", "min", "max"]).reset_index()
            name = " / ".join(in_words(v) for v in key) or "accuracy"
            if show_auc:
                name += f" (AUC {_auc(stats['level'], stats['mean']):.2f})"
            color = colors[kd.get(hue)]
            ax.plot(stats["level"], stats["mean"], dashes[kd.get(style)], marker="o",
                    ms=3, color=color, label=name)  # fmt: skip
            if (stats["max"] > stats["min"]).any():
                ax.fill_between(stats["level"], stats["min"], stats["max"], color=color,
                                alpha=0.2, lw=0)  # fmt: skip
        ax.set_xlabel("removed features (%)")
        ax.set_ylabel("accuracy (%)")
        ax.set_xlim(0, 100)
        ax.grid(alpha=0.3)
        if panel is not None:
            ax.set_title(in_words(panel))
        ax.legend(fontsize="small")
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------- saliency maps
def _to_numpy(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().double().numpy()
    return np.asarray(a, dtype=float)


def _display_image(img: np.ndarray) -> tuple[np.ndarray, str | None]:
    """(C, H, W) or (H, W) -> something imshow can show, min-max scaled to [0, 1]."""
    if img.ndim == 3 and img.shape[0] == 1:
        img = img[0]
    if img.ndim == 3:
        img = np.moveaxis(img, 0, -1)
    lo, hi = img.min(), img.max()
    img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    return img, ("gray" if img.ndim == 2 else None)


def plot_saliency_grid(
    images,
    maps: Mapping[str, object],
    titles: Sequence[str] | None = None,
    cmap: str = "hot",
    abs: bool = True,
    image_label: str = "image",
) -> Figure:
    """Saliency-map grid (SGT/SMOOT Fig. 2, HLGM Fig. 6): the first row shows the images
    ((N, C, H, W) or (N, H, W), normalised values are min-max scaled for display), then one row
    per entry of ``maps`` (label -> (N, H, W) saliency, e.g. per training method). Each map is
    shown as |map| (``abs``) scaled by its own maximum."""
    imgs = _to_numpy(images)
    n = len(imgs)
    rows = [(image_label, None)] + list(maps.items())
    fig, axes = plt.subplots(
        len(rows), n, figsize=(1.5 * n + 0.8, 1.5 * len(rows)), squeeze=False,
        layout="constrained",
    )  # fmt: skip
    for j in range(n):
        for i, (row_label, m) in enumerate(rows):
            ax = axes[i, j]
            if m is None:
                shown, cm = _display_image(imgs[j])
                ax.imshow(shown, cmap=cm)
                if titles is not None:
                    ax.set_title(str(titles[j]), fontsize="small")
            else:
                s = _to_numpy(m)[j]
                s = np.abs(s) if abs else s
                peak = np.abs(s).max()
                s = s / peak if peak > 0 else s
                ax.imshow(s, cmap=cmap, vmin=0 if abs else -1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(in_words(row_label), fontsize="small")
    return fig


# --------------------------------------------------------------------------- gradients
def plot_gradient_distribution(
    df: pd.DataFrame,
    x: str = "label",
    y: str = "value",
    hue: str | None = None,
    kind: str = "box",
    ax=None,
    showfliers: bool = False,
) -> Figure:
    """Distribution of per-sample scaled gradients (``metrics.gradient_distribution`` frames
    concatenated over training methods): ``kind="box"`` or ``"violin"`` per ``x`` (e.g. the
    training-method ``label``, or ``x="sample", hue="label"`` for per-sample boxes), or
    ``"hist"``: density of ``y`` per ``x`` group."""
    fig, ax = _axes(ax, (5.5, 3.5))
    df = df.assign(**{c: df[c].map(in_words) for c in (x, hue) if c == "label"})
    if kind == "box":
        _boxplot(data=df, x=x, y=y, hue=hue, ax=ax, showfliers=showfliers)
    elif kind == "violin":
        sns.violinplot(data=df, x=x, y=y, hue=hue, ax=ax, cut=0, density_norm="width")
    elif kind == "hist":
        sns.histplot(data=df, x=y, hue=x, ax=ax, stat="density", element="step",
                     common_norm=False, bins=50)  # fmt: skip
    else:
        raise ValueError(f"kind must be 'box', 'violin' or 'hist', got {kind!r}")
    if kind == "hist":
        ax.set_xlabel("gradient per position, scaled per sample to [-1, 1]")
    else:
        ax.set_xlabel({"label": "training method", "sample": "test image"}.get(x, x))
        ax.set_ylabel("gradient per position, scaled per sample to [-1, 1]")
    ax.grid(alpha=0.3)
    return fig


# --------------------------------------------------------------------------- K
def plot_k_histogram(k_values, bins: int = 30, ax=None, n_positions: int | None = None) -> Figure:
    """Histogram of final per-sample K (positions masked, SMOOT eq. (5)) per label: ``k_values``
    is a mapping label -> (N,) values (e.g. ``SMOOT.state().per_sample_k``) or one array.
    ``n_positions`` adds a top axis in % of positions."""
    fig, ax = _axes(ax)
    items = k_values.items() if isinstance(k_values, Mapping) else [("K", k_values)]
    for label, v in items:
        ax.hist(_to_numpy(v).reshape(-1), bins=bins, alpha=0.6, label=str(label))
    ax.set_xlabel("K (positions)")
    ax.set_ylabel("samples")
    ax.legend(fontsize="small")
    if n_positions:
        top = ax.secondary_xaxis(
            "top", functions=(lambda k: 100 * k / n_positions, lambda p: p * n_positions / 100)
        )
        top.set_xlabel("K (% of positions)")
    return fig


# --------------------------------------------------------------------------- HLGM
def _history_df(history) -> pd.DataFrame:
    return history.copy() if isinstance(history, pd.DataFrame) else pd.DataFrame(list(history))


def plot_hlgm_accuracy(
    history,
    baseline_history=None,
    ax=None,
    title: str | None = None,
    phase_colors: Mapping[str, str] = PHASE_COLORS,
    baseline_label: str = "traditional (continued) test",
) -> Figure:
    """HLGM Figs. 2-5: train and test accuracy per epoch with the phases shaded (traditional
    grey, regularize purple, denoise yellow) and, if given, the test accuracy of the
    traditional continuation (``baseline_history``) overlaid. Histories are lists of per-epoch
    dicts or DataFrames with ``epoch``, ``train_acc``, ``test_acc``, ``phase``."""
    fig, ax = _axes(ax, (6.5, 3.8))
    h = _history_df(history)
    if "phase" in h:
        seen = {}
        start = 0
        phases = h["phase"].tolist()
        epochs = h["epoch"].to_numpy(dtype=float)
        for i in range(1, len(h) + 1):
            if i == len(h) or phases[i] != phases[start]:
                ph = phases[start]
                color = phase_colors.get(ph, "#eeeeee")
                ax.axvspan(epochs[start] - 0.5, epochs[i - 1] + 0.5, color=color, alpha=0.6,
                           lw=0)  # fmt: skip
                seen.setdefault(ph, color)
                start = i
        phase_handles = [Patch(color=c, alpha=0.6, label=p) for p, c in seen.items()]
    else:
        phase_handles = []
    ax.plot(h["epoch"], h["train_acc"], color="tab:blue", label="train")
    ax.plot(h["epoch"], h["test_acc"], color="tab:red", label="test")
    if baseline_history is not None:
        b = _history_df(baseline_history)
        ax.plot(b["epoch"], b["test_acc"], color="black", ls="--", label=baseline_label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy (%)")
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(handles=handles + phase_handles, fontsize="small", loc="best")
    if title:
        ax.set_title(title)
    return fig


# --------------------------------------------------------------------------- SIB
def _sib_long(sib_by_label, columns: Iterable[str], label_col: str = "label") -> pd.DataFrame:
    if isinstance(sib_by_label, Mapping):
        frames = [df.assign(**{label_col: lab}) for lab, df in sib_by_label.items()]
        wide = pd.concat(frames)
    else:
        wide = sib_by_label
    cols = [c for c in columns if c in wide]
    return wide.melt(id_vars=[label_col], value_vars=cols, var_name="fraction", value_name="SIB")


def plot_sib_boxplots(
    sib_by_label, columns: Sequence[str] = ("SIB(1)", "SIB(5)"), label_col: str = "label"
) -> Figure:
    """HLGM Fig. 7: box plots of per-image SIB for each column (default SIB(1), SIB(5)) per
    model. ``sib_by_label``: mapping label -> ``metrics.sib`` DataFrame, or one DataFrame with a
    ``label_col`` column."""
    long = _sib_long(sib_by_label, columns, label_col)
    long[label_col] = long[label_col].map(in_words)
    cols = [c for c in columns if c in set(long["fraction"])]
    fig, axes = plt.subplots(1, len(cols), figsize=(3.8 * len(cols), 3.5), squeeze=False,
                             sharey=True, layout="constrained")  # fmt: skip
    for ax, c in zip(axes[0], cols, strict=True):
        _boxplot(data=long[long["fraction"] == c], x=label_col, y="SIB", ax=ax)
        ax.set_title(f"{c}: saliency inside the object's box")
        ax.set_xlabel("training method")
        ax.set_ylabel("SIB per image")
        ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    return fig


def plot_sib_scatter(
    sib_by_label: Mapping[str, pd.DataFrame],
    column: str = "SIB(1)",
    baseline: str | None = None,
    n: int = 120,
    seed: int = 0,
    ax=None,
) -> Figure:
    """HLGM Fig. 8: SIB of ``n`` random images (common to all models, drawn with ``seed``),
    sorted by the ``baseline`` model's SIB (default: the first label), one marker per model."""
    fig, ax = _axes(ax, (7, 3.5))
    labels = list(sib_by_label)
    baseline = baseline if baseline is not None else labels[0]
    common = None
    for df in sib_by_label.values():
        valid = df.index[df[column].notna()]
        common = valid if common is None else common.intersection(valid)
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(np.asarray(common), size=min(n, len(common)), replace=False))
    order = sib_by_label[baseline].loc[chosen, column].sort_values(kind="stable").index
    xs = np.arange(len(order))
    markers = ["o", "s", "^", "D", "v", "P"]
    for i, lab in enumerate([baseline] + [lb for lb in labels if lb != baseline]):
        ax.scatter(xs, sib_by_label[lab].loc[order, column], s=12, marker=markers[i % 6],
                   label=in_words(lab), alpha=0.8)  # fmt: skip
    ax.set_xlabel(f"image (sorted by the {in_words(baseline)} model's {column})")
    ax.set_ylabel(f"{column}: saliency inside the box")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


# --------------------------------------------------------------------------- motivation
def plot_motivation(result, title: str | None = None) -> Figure:
    """SMOOT Fig. 1: mean true-class probability per level for class I and class II images
    (left) and class II split by peak before / after 50 % (right). ``result`` is a
    ``metrics.MotivationResult`` or its tidy ``curves`` DataFrame (``image``, ``level``,
    ``prob``, ``class``, ``peak``)."""
    curves = result.curves if hasattr(result, "curves") else result
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True, layout="constrained")
    n_img = curves["image"].nunique()
    per_image = curves.drop_duplicates("image")
    for cls, color in (("I", "tab:blue"), ("II", "tab:red")):
        g = curves[curves["class"] == cls]
        if len(g):
            m = g.groupby("level")["prob"].mean()
            k = (per_image["class"] == cls).sum()
            axes[0].plot(m.index, m.values, color=color, marker="o", ms=3,
                         label=f"class {cls} ({k}/{n_img}, {100 * k / n_img:.1f} %)")  # fmt: skip
    ii = curves[curves["class"] == "II"]
    ii_img = per_image[per_image["class"] == "II"]
    for peak, color in (("before", "tab:orange"), ("after", "tab:purple")):
        g = ii[ii["peak"] == peak]
        if len(g):
            m = g.groupby("level")["prob"].mean()
            k = (ii_img["peak"] == peak).sum()
            axes[1].plot(m.index, m.values, color=color, marker="o", ms=3,
                         label=f"peak {peak} 50 % ({k})")  # fmt: skip
    axes[0].set_title("mean curve per class")
    axes[1].set_title("class II by peak position")
    for ax in axes:
        ax.axvline(50, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("top-gradient pixels masked (%)")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    axes[0].set_ylabel("true-class probability")
    if title:
        fig.suptitle(title)
    return fig


#: Colours of the four verdicts (and not run) in the forest plots.
VERDICT_COLORS = {
    "holds": "#1a9850",
    "does not hold": "#d73027",
    "inconclusive": "#737373",
    "not testable here": "#fdae61",
    "not run": "#bdbdbd",
}


def plot_forest(points: Sequence[Mapping], title: str = "") -> Figure:
    """A forest plot of a paper's claim records (:func:`saliency_lib.claims.summary.
    forest_points`): one row per record with its own x-axis (the claims' units differ), the
    paired effect a - b as a dot coloured by its verdict with its 95 % interval, 0 (solid) and the
    claim's boundary or margins (dashed) as vertical lines, and the paper's own effect as a
    diamond where the paper has a number."""
    n = max(len(points), 1)
    fig, axes = plt.subplots(n, 1, figsize=(7.5, 0.42 * n + 0.9), squeeze=False)
    for ax, p in zip(axes[:, 0], points, strict=False):
        lo = p["low"] if p.get("low") is not None else p["effect"]
        hi = p["high"] if p.get("high") is not None else p["effect"]
        color = VERDICT_COLORS.get(p.get("verdict"), "black")
        ax.plot([lo, hi], [0, 0], color=color, lw=2)
        ax.plot([p["effect"]], [0], "o", color=color, ms=5)
        lines = [p.get("boundary") or 0.0]
        if p.get("direction") == "equivalent":
            lines = [-p["margin"], p["margin"]]
        xs = [lo, hi, 0.0, *lines]
        ax.axvline(0.0, color="black", lw=0.8)
        for b in lines:
            if b:
                ax.axvline(b, color="black", lw=0.8, ls="--")
        if p.get("paper_effect") is not None:
            ax.plot([p["paper_effect"]], [0], "D", mfc="none", mec="#2166ac", ms=6)
            xs.append(p["paper_effect"])
        span = (max(xs) - min(xs)) or 1.0
        ax.set_xlim(min(xs) - 0.08 * span, max(xs) + 0.08 * span)
        ax.set_yticks([])
        ax.set_ylabel(p["label"], rotation=0, ha="right", va="center", fontsize=7)
        ax.tick_params(axis="x", labelsize=6, pad=1)
        unit = f" ({p['unit']})" if p.get("unit") else ""
        ax.text(1.01, 0.5, f"{p.get('verdict', '')}{unit}", transform=ax.transAxes, fontsize=6.5,
                va="center", color=color)  # fmt: skip
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
    if not points:
        axes[0, 0].text(0.5, 0.5, "no claim of this paper was decided here", ha="center")
        axes[0, 0].set_axis_off()
    handles = [Patch(color=c, label=v) for v, c in VERDICT_COLORS.items() if v != "not run"]
    fig.legend(handles=handles, loc="upper right", fontsize=6.5, ncol=4, frameon=False)
    fig.suptitle(title, x=0.02, ha="left", fontsize=9)
    fig.text(0.02, 0.005, "dot: a - b, paired by seed, with its 95 % interval; solid line 0; "
             "dashed: the claim's boundary or margins; open diamond: the paper's own a - b",
             fontsize=6)  # fmt: skip
    fig.tight_layout(rect=(0, 0.02, 0.9, 0.95))
    return fig
