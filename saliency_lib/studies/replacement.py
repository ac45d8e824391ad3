"""Feature-removal studies of the SGT paper (Ismail et al. 2021): SGT Fig. 3 (accuracy drop per
saliency method, removed pixels set to the MNIST background) and SGT Fig. 4 (the same curve with
three replacement strategies: background = IID, per-sample mean = OOD, ROAR = retrain on the
masked training set; docs/methods.md §4.2).

* :func:`saliency_method_curves`: accuracy-drop curves of every run for several saliency methods,
  each with its own options (IG steps, SmoothGrad samples, ...).
* :func:`replacement_curves` / :func:`roar_curves`: the curves of SGT Fig. 4 for every run.
* :func:`roar_train_fn`: the ``train_fn(x, y) -> model`` that :func:`saliency_lib.metrics.roar`
  retrains with, built from a :class:`RunConfig` and the library's :class:`Trainer` (in memory,
  seeded, no run store).
* :func:`auc_matrix`, :func:`sgt_fig3_claims`, :func:`sgt_fig4_claims`: the AUC tables and the
  papers' claims checked on them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from .. import claims
from ..config import RunConfig
from ..data import make_loader
from ..methods import get_method
from ..metrics import auc_table, roar
from ..progress import track
from ..runs import Run, build_model
from ..seeding import get_device, seed_everything
from ..trainer import Trainer, make_optimizer
from .common import method_curves

#: Labels of the replacement strategies of SGT Fig. 4 (column ``replacement``) and their fills.
REPLACEMENTS = {"background": "constant", "mean": "mean"}
ROAR = "roar"


# ----------------------------------------------------------------------------- ROAR training
class _TensorSplit(torch.utils.data.Dataset):
    """In-memory ``(x, y)`` tensors with the ``(image, label, index)`` item protocol of the
    library's datasets, so :func:`saliency_lib.data.make_loader` takes its fast path."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor):
        self.x = x
        self.y = torch.as_tensor(y, dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int):
        return self.x[i], int(self.y[i]), i


def _tensor_key(config: RunConfig, x: torch.Tensor, y: torch.Tensor) -> str:
    h = hashlib.sha256(config.config_hash().encode())
    for t in (x, y):
        t = t.detach().cpu().contiguous()
        h.update(str((t.dtype, tuple(t.shape))).encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def roar_train_fn(
    config: RunConfig,
    num_classes: int | None = None,
    cache: dict | None = None,
    progress: bool = False,
) -> Callable[[torch.Tensor, torch.Tensor], nn.Module]:
    """``train_fn(x, y) -> model`` for :func:`saliency_lib.metrics.roar` (ROAR, Hooker et al.;
    SGT Fig. 4, docs/methods.md §4.2): trains a new ``config.model`` by ``config.method`` (Fig. 4:
    ``traditional``), optimiser, learning rate, batch size, epochs and seed of ``config`` on the
    in-memory tensors ``x`` (N, C, H, W, normalised) and ``y`` through the library's
    :class:`~saliency_lib.trainer.Trainer`. No run store and no held-out evaluation: the model
    is returned in eval mode after the last epoch (``model.roar_history`` holds the epochs'
    training loss and accuracy). The dataset fields of ``config`` are not used.

    Seeded exactly like :func:`saliency_lib.runs.train_or_load` (``seed_everything(seed)``, then
    the model, then a loader shuffled by ``(seed, epoch)``), so equal inputs give equal models.
    ``num_classes`` defaults to ``max(y) + 1``. ``cache`` (a dict, shared between calls or
    train functions) memoises the trained models by configuration and a checksum of ``x`` and
    ``y``: the 0 % level of ROAR is the same unmasked training set for every reference model.
    """

    def train(x: torch.Tensor, y: torch.Tensor) -> nn.Module:
        if x.dim() != 4 or len(x) != len(y) or len(x) == 0:
            raise ValueError(
                f"need x (N, C, H, W) and y (N,), got {tuple(x.shape)} and {tuple(y.shape)}"
            )
        if x.shape[2] != x.shape[3]:
            raise ValueError(f"square images expected, got {tuple(x.shape[2:])}")
        key = _tensor_key(config, x, y) if cache is not None else None
        if key is not None and key in cache:
            return cache[key]
        n_classes = int(num_classes) if num_classes is not None else int(y.max()) + 1
        device = get_device(config.device)
        seed_everything(config.seed)
        shape_info = {"num_classes": n_classes, "in_channels": x.shape[1], "image_size": x.shape[2]}
        model = build_model(config, shape_info).to(device)
        method = get_method(config.method, config.method_params)
        method.setup(len(x), x.shape[2] * x.shape[3], n_classes, device)
        optimizer = make_optimizer(
            config.optimizer, model.parameters(), config.lr, config.momentum, config.weight_decay
        )
        split = _TensorSplit(x.detach().float(), y)
        loader = make_loader(split, config.batch_size, shuffle=True, seed=config.seed,
                             device=device)  # fmt: skip
        no_eval = make_loader(_TensorSplit(x[:0], y[:0]), 1, shuffle=False, device=device)
        trainer = Trainer(model, method, optimizer, loader, no_eval, progress=progress)
        history = trainer.fit(config.epochs)
        for entry in history:  # there is no test set here: drop the meaningless entry
            entry.pop("test_acc", None)
        model.eval()
        model.roar_history = history
        if key is not None:
            cache[key] = model
        return model

    return train


# ----------------------------------------------------------------------------- curves
def saliency_method_curves(
    runs: Mapping[tuple[str, int], Run],
    data,
    levels: Iterable[float] = range(0, 101, 10),
    saliency_methods: Iterable[str] = ("grad",),
    options: Mapping[str, Mapping[str, Any]] | None = None,
    fill: str = "constant",
    seed: int = 0,
    progress: bool = True,
    **kwargs,
) -> pd.DataFrame:
    """SGT Fig. 3: accuracy-drop curves (docs/methods.md §4.1) of each run and saliency method, each
    method with its own keyword options (``options[method]``, e.g. ``{"ig": {"n_steps": 20}}``).
    Tidy DataFrame as :func:`saliency_lib.studies.method_curves` (``method`` = training label,
    ``seed``, ``saliency``, ``level``, ``accuracy``, ``n``).

    Every (run, method) curve starts from the global RNGs seeded with ``seed`` as well as its own
    generator: captum's GradientSHAP draws its baselines and interpolation points from NumPy's
    global RNG, so without this the curves would change from one call to the next.
    ``progress``: a bar and lines over the curves and each curve's batches."""
    levels = list(levels)
    options = dict(options or {})
    methods = list(saliency_methods)
    unknown = sorted(set(options) - set(methods))
    if unknown:
        raise ValueError(f"options given for saliency methods not in the list: {unknown}")
    frames = []
    jobs = [(m, key, run) for m in methods for key, run in runs.items()]
    for m, key, run in track(jobs, "saliency-method curves", unit="curve", progress=progress):
        seed_everything(seed)
        frames.append(
            method_curves(
                {key: run},
                data,
                levels=levels,
                saliency=m,
                fill=fill,
                seed=seed,
                progress=progress,
                **kwargs,
                **dict(options.get(m) or {}),
            )  # fmt: skip
        )
    return pd.concat(frames, ignore_index=True)


def replacement_curves(
    runs: Mapping[tuple[str, int], Run],
    data,
    levels: Iterable[float] = range(0, 101, 10),
    replacements: Iterable[str] = ("background", "mean"),
    saliency: str = "grad",
    seed: int = 0,
    progress: bool = True,
    **kwargs,
) -> pd.DataFrame:
    """SGT Fig. 4 without retraining: the accuracy-drop curve of every run with the removed
    pixels set to the dataset ``background`` (IID for MNIST, ``fill="constant"``) or to the
    sample's ``mean`` (OOD, ``fill="mean"``). Tidy DataFrame with a ``replacement`` column.
    ``progress``: bars and lines over the curves and each curve's batches."""
    levels = list(levels)
    frames = []
    for name in replacements:
        if name not in REPLACEMENTS:
            raise ValueError(f"unknown replacement {name!r}; choose from {list(REPLACEMENTS)}")
        curves = method_curves(runs, data, levels=levels, saliency=saliency,
                               fill=REPLACEMENTS[name], seed=seed, progress=progress,
                               **kwargs)  # fmt: skip
        frames.append(curves.assign(replacement=name))
    return pd.concat(frames, ignore_index=True)


def roar_curves(
    runs: Mapping[tuple[str, int], Run],
    train_data,
    test_data,
    levels: Iterable[float] = (0, 25, 50, 75, 100),
    retrain: Mapping[str, Any] | None = None,
    fill: str = "mean",
    saliency: str = "grad",
    seed: int = 0,
    num_classes: int | None = None,
    cache: dict | None = None,
    progress: bool = True,
    **saliency_kwargs,
) -> pd.DataFrame:
    """SGT Fig. 4, ROAR: for every run (the *reference model* whose |saliency| ranks the pixels)
    the test accuracy of models retrained on the training set with the top x % replaced by
    ``fill`` (default the sample's mean, as Hooker et al. and SGT Fig. 4), tested on the equally
    masked test set (:func:`saliency_lib.metrics.roar`).

    The retrained models use the run's own configuration with ``method="traditional"`` and the
    ``retrain`` overrides (e.g. ``{"epochs": 2}``), seeded with the run's seed, through
    :func:`roar_train_fn`. ``cache`` (default: a fresh dict for this call) shares identical
    trainings (the unmasked 0 % level) between runs. Tidy DataFrame like
    :func:`replacement_curves` with ``replacement="roar"`` and the retrained models' final
    training loss in ``retrain_loss``. ``progress``: bars and lines over the runs, the levels,
    the saliency batches and every retraining's epochs.
    """
    levels = list(levels)
    cache = {} if cache is None else cache
    if num_classes is None and hasattr(train_data, "num_classes"):
        num_classes = train_data.num_classes
    frames = []
    for (label, run_seed), run in track(runs.items(), "ROAR runs", unit="run", progress=progress):
        cfg = run.config.replace(
            **{"method": "traditional", "method_params": {}, **dict(retrain or {})}
        )
        train_fn = roar_train_fn(cfg, num_classes=num_classes, cache=cache, progress=progress)
        losses = []

        def tracked(x, y, _fn=train_fn, _losses=losses):
            model = _fn(x, y)
            _losses.append(model.roar_history[-1]["train_loss"])
            return model

        g = torch.Generator().manual_seed(seed)
        curve = roar(tracked, train_data, test_data, levels=levels, fill=fill, method=saliency,
                     reference_model=run.model, generator=g, progress=progress,
                     **saliency_kwargs)  # fmt: skip
        frames.append(curve.assign(method=label, seed=run_seed, saliency=saliency,
                                   replacement=ROAR, retrain_loss=losses))  # fmt: skip
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------- AUC tables
def auc_matrix(
    curves: pd.DataFrame,
    rows: str,
    reference: str = "traditional",
    by: str = "method",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """AUC of every curve (docs/methods.md §4.1; lower = better) as ``(per_seed, matrix)``.

    ``per_seed``: one row per (``rows`` value, training method, seed) with its ``auc``.
    ``matrix``: one row per ``rows`` value (e.g. saliency method or replacement), one column per
    training method with the mean AUC over seeds, ``n_seeds``, and for every other method a
    column ``"<method> - <reference>"`` (negative = that method's curve drops faster)."""
    per_seed = auc_table(curves, by=(rows, by, "seed"))
    mean = per_seed.groupby([rows, by], sort=False)["auc"].mean().unstack(by)
    order_rows = list(dict.fromkeys(per_seed[rows]))
    order_cols = list(dict.fromkeys(per_seed[by]))
    matrix = mean.loc[order_rows, order_cols]
    matrix.columns.name = None
    matrix = matrix.reset_index()
    matrix["n_seeds"] = per_seed.groupby(rows, sort=False)["seed"].nunique().loc[order_rows].values
    if reference in order_cols:
        for col in order_cols:
            if col != reference:
                matrix[f"{col} - {reference}"] = matrix[col] - matrix[reference]
    return per_seed, matrix


def auc_gain_over(
    matrix: pd.DataFrame,
    baseline: str = "random",
    rows: str = "saliency",
    reference: str = "traditional",
) -> pd.DataFrame:
    """How much faster than the ``baseline`` row (the random ranking) each saliency method makes
    each model's accuracy drop: ``AUC(baseline) - AUC(method)`` per training method (higher =
    the ranking matters more), the comparison the SGT paper makes for its time-series benchmark.
    It separates a better ranking from a model that is merely more fragile to any removal (whose
    random curve drops faster too). Same layout as :func:`auc_matrix`, ``baseline`` row dropped.
    """
    methods = [c for c in matrix.columns if c not in (rows, "n_seeds") and " - " not in c]
    if baseline not in set(matrix[rows]):
        raise KeyError(f"{rows} {baseline!r} not in the AUC table ({list(matrix[rows])})")
    base = matrix.set_index(rows).loc[baseline, methods]
    out = matrix[matrix[rows] != baseline][[rows, *methods, "n_seeds"]].copy()
    for m in methods:
        out[m] = base[m] - out[m]
    if reference in methods:
        for m in methods:
            if m != reference:
                out[f"{m} - {reference}"] = out[m] - out[reference]
    return out.reset_index(drop=True)


def drop_claims(
    claim_id: str,
    per_seed: pd.DataFrame,
    a: str,
    b: str,
    setting: str,
    preconditions=(),
    rows: str = "saliency",
    baseline: str = "random",
    versus: str | None = None,
    paper_key: str | None = None,
    only: Iterable[str] | None = None,
) -> list[dict]:
    """ "``a``'s accuracy drops faster than ``b``'s" (lower AUC) for every ranking of
    ``per_seed`` (:func:`auc_matrix`'s per-seed AUCs, one ``rows`` value per saliency method),
    each record with the random-ranking control of the same models beside it: the claim
    ``drop_beyond_random`` on ``AUC(baseline) - AUC(method)``, ``a`` against ``b`` (a model
    more fragile to any removal drops faster under every ranking; only the part beyond its own
    random-ranking drop credits its saliency). ``only``: the rankings to record (default all
    but the baseline). Paired by seed (:func:`saliency_lib.claims.evaluate`)."""

    def auc(label, key):
        sub = per_seed[per_seed[rows] == key]
        return claims.paired(sub, "auc", label, b if label == a else a)[0]

    keys = [k for k in dict.fromkeys(per_seed[rows]) if k != baseline]
    keys = [k for k in keys if only is None or k in set(only)]
    has_random = baseline in set(per_seed[rows])
    out = []
    for key in keys:
        sub = per_seed[per_seed[rows] == key]
        auc_a, auc_b = claims.paired(sub, "auc", a, b)
        where = f"{setting}, {key}"
        control = None
        if has_random:
            rnd = per_seed[per_seed[rows] == baseline]
            rand_a, rand_b = claims.paired(rnd, "auc", a, b)
            if len(rand_a) == len(auc_a):
                gain_a = [r - x for r, x in zip(rand_a, auc_a, strict=True)]
                gain_b = [r - x for r, x in zip(rand_b, auc_b, strict=True)]
                control = claims.evaluate("drop_beyond_random", gain_a, gain_b, where,
                                          preconditions, versus=versus)  # fmt: skip
        out.append(claims.evaluate(claim_id, auc_a, auc_b, where, preconditions, versus=versus,
                                   paper_key=paper_key, control=control))  # fmt: skip
    return out


def sgt_fig3_claims(
    per_seed: pd.DataFrame,
    dataset: str,
    better: str = "sgt",
    reference: str = "traditional",
    preconditions=(),
) -> list[dict]:
    """SGT Fig. 3's claim "the saliency guided training shows a steeper accuracy drop
    regardless of the saliency method used": for every saliency method in ``per_seed`` (the
    per-seed AUCs of :func:`auc_matrix`) the ``better`` model's AUC is below the
    ``reference`` model's, each with the random-ranking control beside it (:func:`drop_claims`)."""
    if not {better, reference} <= set(per_seed["method"]):
        return [claims.not_run("sgt_fig3_steeper_drop", dataset,
                               f"needs training methods {better!r} and {reference!r}")]  # fmt: skip
    return drop_claims("sgt_fig3_steeper_drop", per_seed, better, reference, dataset,
                       preconditions)  # fmt: skip


def sgt_fig4_claims(
    curves: pd.DataFrame,
    dataset: str,
    per_seed: pd.DataFrame,
    better: str = "sgt",
    reference: str = "traditional",
    similar_tolerance: float = 5.0,
    preconditions=(),
) -> list[dict]:
    """SGT Fig. 4's claims, decided by :mod:`saliency_lib.claims`. The paper's (traditional
    model only): neither the OOD (``mean``) nor the ``roar`` curve is similar to the IID
    (``background``) curve: per seed, the mean |gap| between the curves' drops, each curve
    taken relative to its own 0 %-removed accuracy (ROAR's retrained models start lower than
    the original: :func:`curve_gap` with ``relative=True``), exceeds ``similar_tolerance``
    points. Our check (Fig. 4 shows one model): under every replacement the ``better`` model's
    curve drops faster (lower AUC) than the ``reference`` model's."""
    if better not in set(per_seed["method"]) or reference not in set(per_seed["method"]):
        return [claims.not_run("sgt_fig4_faster_drop", dataset,
                               f"needs training methods {better!r} and {reference!r}")]  # fmt: skip
    out = []
    seeds = sorted(set(curves["seed"]))
    for other in ("mean", ROAR):
        if other not in set(curves["replacement"]):
            continue
        gaps = [curve_gap(curves, {"method": reference, "replacement": "background", "seed": s},
                          {"method": reference, "replacement": other, "seed": s},
                          relative=True)
                for s in seeds]  # fmt: skip
        out.append(claims.evaluate(
            "sgt_fig4_replacements_differ", gaps, [similar_tolerance] * len(gaps),
            f"{dataset}, {other} vs background (tolerance {similar_tolerance:g} pts)",
        ))  # fmt: skip
    for rep in dict.fromkeys(per_seed["replacement"]):
        sub = per_seed[per_seed["replacement"] == rep]
        a, b = claims.paired(sub, "auc", better, reference)
        out.append(claims.evaluate("sgt_fig4_faster_drop", a, b, f"{dataset}, {rep}",
                                   preconditions))  # fmt: skip
    return out


def curve_gap(
    curves: pd.DataFrame, a: Mapping[str, Any], b: Mapping[str, Any], relative: bool = False
) -> float:
    """Mean |accuracy difference| (percentage points) between two curves of a tidy DataFrame,
    each selected by column values (e.g. ``{"method": "traditional", "replacement": "mean"}``),
    over the levels they share (seeds averaged first). ``relative``: compare the curves' drops,
    each curve minus its own accuracy at level 0, over the shared levels above 0 (for curves
    whose models differ at 0 % removed, as ROAR's retrained ones do)."""

    def select(sel):
        sub = curves
        for col, val in sel.items():
            sub = sub[sub[col] == val]
        if sub.empty:
            raise KeyError(f"no curve with {dict(sel)}")
        return sub.groupby("level")["accuracy"].mean()

    ca, cb = select(a), select(b)
    shared = ca.index.intersection(cb.index)
    if relative:
        if 0 not in shared:
            raise ValueError("relative=True needs both curves at level 0")
        ca, cb = ca - ca.loc[0], cb - cb.loc[0]
        shared = shared[shared > 0]
    if len(shared) == 0:
        raise ValueError("the two curves share no level" + (" above 0" if relative else ""))
    return float(np.mean(np.abs(ca.loc[shared].values - cb.loc[shared].values)))
