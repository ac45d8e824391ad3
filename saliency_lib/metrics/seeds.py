"""Statistics over seeds (docs/methods.md §4.7: mean and a 95 % interval where seeds > 1).

The interval is the Student t interval ``mean +- t_{0.975, n-1} * std / sqrt(n)`` (``std`` with
ddof = 1); with one seed std and interval are NaN.
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


def seed_summary(values, confidence: float = 0.95) -> dict:
    """``mean``, ``std`` (ddof 1), ``n``, ``ci_low``, ``ci_high``, ``half_width`` of ``values``
    (one number per seed); NaN where undefined (n < 2 for std and interval)."""
    v = _clean(values)
    n = len(v)
    mean = float(v.mean()) if n else float("nan")
    if n < 2:
        return {"mean": mean, "std": float("nan"), "n": n, "ci_low": float("nan"),
                "ci_high": float("nan"), "half_width": float("nan")}  # fmt: skip
    std = float(v.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * std / np.sqrt(n))
    return {"mean": mean, "std": std, "n": n, "ci_low": mean - half, "ci_high": mean + half,
            "half_width": half}  # fmt: skip


def paired_comparison(a, b, confidence: float = 0.95) -> dict:
    """Paired comparison of ``a`` and ``b`` (same seeds, same order): ``mean_diff`` (a - b), its
    t interval ``ci_low``/``ci_high``, the paired t-test ``p_value`` (NaN when n < 2 or the
    differences have no spread) and ``n``."""
    x, y = _clean(a), _clean(b)
    if x.shape != y.shape:
        raise ValueError(f"paired values need equal length, got {len(x)} and {len(y)}")
    d = seed_summary(x - y, confidence)
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
