"""Statistics over seeds (docs/methods.md §4.7: mean and a 95 % interval).

The interval is the Student t interval ``mean +- t_{0.975, n-1} * std / sqrt(n)`` (``std`` with
ddof = 1), computed only from ``MIN_SEEDS_FOR_INTERVAL`` (3) seeds or more: with two seeds the t
quantile is 12.7 and the interval says nothing (tables list the seed values instead). An interval
is clipped to the metric's possible range when one is given (an accuracy never exceeds 100).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

import numpy as np
import pandas as pd
from scipy import stats


def _clean(values) -> np.ndarray:
    v = np.asarray(list(values) if not hasattr(values, "__array__") else values, dtype=float)
    return v.reshape(-1)


MIN_SEEDS_FOR_INTERVAL = 3


def seed_summary(
    values,
    confidence: float = 0.95,
    bounds: tuple[float, float] | None = None,
    min_seeds: int = MIN_SEEDS_FOR_INTERVAL,
) -> dict:
    """``mean``, ``std`` (ddof 1), ``n``, ``ci_low``, ``ci_high``, ``half_width`` of ``values``
    (one number per seed), and the ``values`` themselves; the interval is NaN with fewer than
    ``min_seeds`` values and clipped to ``bounds`` (the metric's range) when given."""
    v = _clean(values)
    n = len(v)
    mean = float(v.mean()) if n else float("nan")
    std = float(v.std(ddof=1)) if n >= 2 else float("nan")
    out = {"mean": mean, "std": std, "n": n, "ci_low": float("nan"), "ci_high": float("nan"),
           "half_width": float("nan"), "values": [float(x) for x in v]}  # fmt: skip
    if n < max(2, min_seeds):
        return out
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * std / np.sqrt(n))
    lo, hi = mean - half, mean + half
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    out.update(ci_low=lo, ci_high=hi, half_width=half)
    return out


def paired_comparison(a, b, confidence: float = 0.95) -> dict:
    """Paired comparison of ``a`` and ``b`` (same seeds, same order): ``mean_diff`` (a - b), its
    t interval ``ci_low``/``ci_high``, the paired t-test ``p_value`` (NaN when n < 2 or the
    differences have no spread) and ``n``."""
    x, y = _clean(a), _clean(b)
    if x.shape != y.shape:
        raise ValueError(f"paired values need equal length, got {len(x)} and {len(y)}")
    d = seed_summary(x - y, confidence, min_seeds=2)
    p = float("nan")
    if len(x) >= 2:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            p = float(stats.ttest_rel(x, y).pvalue)
    return {"mean_diff": d["mean"], "std_diff": d["std"], "ci_low": d["ci_low"],
            "ci_high": d["ci_high"], "p_value": p, "n": d["n"]}  # fmt: skip


def seed_table(
    df: pd.DataFrame, value: str, by: Iterable[str], confidence: float = 0.95
) -> pd.DataFrame:
    """:func:`seed_summary` of column ``value`` for every group of ``by`` (rows = seeds)."""
    by = list(by)
    rows = []
    for key, g in df.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key, strict=True)), **seed_summary(g[value], confidence)})
    return pd.DataFrame(rows)
