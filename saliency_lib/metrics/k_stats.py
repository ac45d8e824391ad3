"""K statistics of a trained run (SMOOT Tables II-VI; docs/methods.md §4.4).

K is the number of masked pixel positions: 0 for Traditional, the fixed k for SGT, the per-sample
K of SMOOT (``run.k_history``, (epochs, N_train)), and the masked k of the epoch for HLGM. The
final statistics come from ``run.k_history[-1]`` when present, else from the last history entry's
``k_min`` / ``k_median`` / ``k_max``. The median is numpy's (mean of the two middle values when
the count is even).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from ..methods.smoot import smoot_k_step
from ._common import unpack_data


@dataclass
class KStatistics:
    """Final K min / median / max (pixels), where they came from, and the per-epoch trajectory
    (DataFrame ``epoch``, ``min``, ``median``, ``max`` and ``q25``-style quantile columns)."""

    min: float
    median: float
    max: float
    source: str
    method: str | None = None
    trajectory: pd.DataFrame = field(default_factory=pd.DataFrame)
    final: np.ndarray | None = None  # the final per-sample K vector when known

    def as_dict(self) -> dict:
        return {"min": self.min, "median": self.median, "max": self.max}

    def as_series(self) -> pd.Series:
        return pd.Series(self.as_dict(), name=self.method)


def _quantile_name(q: float) -> str:
    return f"q{round(100 * q, 6):g}"


def _history_frame(history) -> pd.DataFrame:
    if isinstance(history, pd.DataFrame):
        return history.reset_index(drop=True)
    return pd.DataFrame(list(history or []))


def _method(run) -> str | None:
    config = getattr(run, "config", None)
    return getattr(config, "method", None) if config is not None else None


def k_statistics(run, quantiles: Iterable[float] = (0.25, 0.75)) -> KStatistics:
    """K statistics of ``run`` (``.history``, optional ``.k_history``, ``.config.method``).

    With ``k_history`` (int tensor (epochs, N)): final stats over the last row, trajectory
    per row (with the given ``quantiles`` as extra columns ``q25``, ``q75``, ...). Without it:
    stats from the history's ``k_min``/``k_median``/``k_max`` (quantile columns NaN); a
    ``traditional`` run without K entries gives 0.
    """
    quantiles = [float(q) for q in quantiles]
    hist = _history_frame(getattr(run, "history", None))
    k_history = getattr(run, "k_history", None)
    method = _method(run)
    epochs = hist["epoch"].to_numpy() if "epoch" in hist else None
    if k_history is not None and len(k_history) > 0:
        kh = torch.as_tensor(k_history).detach().cpu().double().numpy()
        if kh.ndim != 2:
            raise ValueError(f"k_history must be (epochs, N), got shape {kh.shape}")
        if epochs is None or len(epochs) != len(kh):
            # k_history may cover fewer epochs than the history (e.g. SMOOT after a
            # traditional phase): align on the last epochs, else number from 1.
            epochs = (
                epochs[-len(kh) :]
                if epochs is not None and len(epochs) > len(kh)
                else (np.arange(1, len(kh) + 1))
            )
        traj = pd.DataFrame(
            {
                "epoch": epochs,
                "min": kh.min(1),
                "median": np.median(kh, axis=1),
                "max": kh.max(1),
                **{_quantile_name(q): np.quantile(kh, q, axis=1) for q in quantiles},
            }
        )
        last = kh[-1]
        return KStatistics(
            float(last.min()), float(np.median(last)), float(last.max()), "k_history", method,
            traj, last,
        )  # fmt: skip
    cols = ("k_min", "k_median", "k_max")
    if len(hist) and all(c in hist for c in cols):
        traj = pd.DataFrame(
            {
                "epoch": epochs if epochs is not None else np.arange(1, len(hist) + 1),
                "min": hist["k_min"].astype(float).to_numpy(),
                "median": hist["k_median"].astype(float).to_numpy(),
                "max": hist["k_max"].astype(float).to_numpy(),
                **{_quantile_name(q): np.nan for q in quantiles},
            }
        )
        last = traj.iloc[-1]
        return KStatistics(
            float(last["min"]), float(last["median"]), float(last["max"]), "history", method,
            traj,
        )  # fmt: skip
    if method == "traditional":
        traj = pd.DataFrame(
            {
                "epoch": epochs if epochs is not None else np.arange(1, len(hist) + 1),
                "min": 0.0, "median": 0.0, "max": 0.0,
                **{_quantile_name(q): 0.0 for q in quantiles},
            }
        )  # fmt: skip
        return KStatistics(0.0, 0.0, 0.0, "traditional", method, traj)
    raise ValueError(
        "run has neither k_history nor k_min/k_median/k_max in its history "
        f"(method {method!r}); cannot compute K statistics"
    )


def k_table(runs: dict, quantiles: Iterable[float] = ()) -> pd.DataFrame:
    """Final K min/median/max of several runs, one row per label (SMOOT tables)."""
    rows = []
    for label, run in runs.items():
        st = k_statistics(run, quantiles)
        rows.append({"label": label, **st.as_dict(), "source": st.source})
    return pd.DataFrame(rows).set_index("label")


def k_null_steps(
    model,
    data,
    n_top: int = 5,
    alpha: float = 0.7,
    mu: float = 10.0,
    rank: str = "clean",
    k_update: str = "train",
    batch_size: int = 512,
    seed: int = 0,
) -> torch.Tensor:
    """SMOOT's K step under the null, per sample of ``data`` (int64): both passes see the *same*
    unmasked input, so any step is noise (docs/methods.md §3.5). ``k_update="train"`` takes the
    two passes in train mode, as SMOOT's loss does (different dropout masks); ``"eval"`` takes
    them dropout-free (every step is then exactly 0). Dropout draws come from a generator seeded
    by ``seed`` (global state untouched)."""
    x_all, _ = unpack_data(data)
    device = next(model.parameters()).device
    was_training = model.training
    model.train(k_update == "train")
    steps = []
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(seed)
            for start in range(0, len(x_all), batch_size):
                x = torch.as_tensor(x_all[start : start + batch_size]).to(device)
                clean = model(x)
                # train mode: a second pass draws other dropout masks; eval mode: the same output
                other = model(x) if k_update == "train" else clean
                steps.append(smoot_k_step(clean, other, n_top, alpha, mu, rank).cpu())
    finally:
        model.train(was_training)
    return torch.cat(steps)


def k_null_drift(model, data, **options) -> dict:
    """Summary of :func:`k_null_steps` (same options): one pass over ``data`` is one epoch of
    updates: ``mean_step`` (positions per sample per epoch), ``share_negative``,
    ``share_zero``, ``share_positive`` and ``n``."""
    s = k_null_steps(model, data, **options).double()
    return {
        "mean_step": float(s.mean()),
        "share_negative": float((s < 0).double().mean()),
        "share_zero": float((s == 0).double().mean()),
        "share_positive": float((s > 0).double().mean()),
        "n": int(len(s)),
    }


def k_null_spread(
    steps, n: int, epochs: int, k_init: float, k_min: float, k_max: float, seed: int = 0
) -> float:
    """The K spread (max - min over ``n`` samples) that SMOOT's update gives when every step is
    noise: ``n`` walks from ``k_init`` over ``epochs`` epochs, each epoch's step drawn from the
    null ``steps`` (:func:`k_null_steps`, pooled over samples), clipped to ``[k_min, k_max]``
    after every step as SMOOT Alg. 2 line 6 does. Deterministic (generator seeded by ``seed``).
    The null of the claim "SMOOT adjusts the value of K dynamically" (docs/methods.md §8)."""
    pool = np.asarray(torch.as_tensor(steps).cpu(), dtype=float)
    if pool.size == 0:
        raise ValueError("no null steps to draw from")
    rng = np.random.default_rng(seed)
    k = np.full(int(n), float(k_init))
    for _ in range(int(epochs)):
        k = np.clip(k + rng.choice(pool, size=len(k)), k_min, k_max)
    return float(k.max() - k.min())
