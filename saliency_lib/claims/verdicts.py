"""Verdict rules: a paired comparison across seeds turned into one of four verdicts.

A claim compares a quantity between two arms ``a`` and ``b`` (two training methods, two fills, ...)
measured on the same seeds (same seed, same data subset). The per-seed differences, signed so that
positive supports the claim, give a Student t interval of the mean difference; the rule reads the
interval (docs/methods.md, "Claims and verdicts"):

* **holds**: the interval lies on the claimed side (above 0, or above ``-margin`` for a
  non-inferiority claim "at least as high");
* **does not hold**: the interval lies on the other side;
* **inconclusive**: the interval straddles the boundary, or fewer than ``min_seeds`` seeds (no
  interval is computed from fewer than 3);
* **not testable here**: a precondition measured from the runs is unmet (the mechanism under test
  did not act at this scale), whatever the numbers.

Every decision carries the interval's half-width: the smallest difference this design resolves.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum

import numpy as np
from scipy import stats


class Verdict(str, Enum):
    HOLDS = "holds"
    DOES_NOT_HOLD = "does not hold"
    INCONCLUSIVE = "inconclusive"
    NOT_TESTABLE = "not testable here"
    NOT_RUN = "not run"

    def __str__(self) -> str:
        return self.value


DIRECTIONS = ("greater", "less", "at_least", "at_most", "equivalent")
MIN_SEEDS = 3
#: Paired differences this close (relative to their size, at least 1) count as the same value.
SAME_TOLERANCE = 1e-9


@dataclass(frozen=True)
class Precondition:
    """A measured condition under which a test means something: ``value`` must be ``>= minimum``
    (and ``<= maximum`` when given). ``what`` says what was measured, in words."""

    what: str
    value: float
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""

    @property
    def met(self) -> bool:
        if self.value is None or (isinstance(self.value, float) and math.isnan(self.value)):
            return False
        lo_ok = self.minimum is None or self.value >= self.minimum
        hi_ok = self.maximum is None or self.value <= self.maximum
        return lo_ok and hi_ok

    def describe(self) -> str:
        need = []
        if self.minimum is not None:
            need.append(f">= {_num(self.minimum)}{self.unit}")
        if self.maximum is not None:
            need.append(f"<= {_num(self.maximum)}{self.unit}")
        return f"{self.what} = {_num(self.value)}{self.unit} (needs {' and '.join(need)})"


@dataclass
class Decision:
    """The verdict on one claim and everything needed to read it."""

    verdict: Verdict
    reason: str
    n: int = 0
    mean_a: float = float("nan")
    mean_b: float = float("nan")
    mean_diff: float = float("nan")  # a - b
    ci_low: float = float("nan")  # interval of a - b
    ci_high: float = float("nan")
    resolvable: float = float("nan")  # the interval's half-width
    per_seed_a: list[float] = field(default_factory=list)
    per_seed_b: list[float] = field(default_factory=list)
    preconditions: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["verdict"] = self.verdict.value
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in d.items()}


def _num(x: float) -> str:
    if x is None:
        return "n/a"
    if float(x).is_integer():
        return f"{int(x)}"
    return f"{x:.3g}" if abs(x) < 1 else f"{x:.2f}"


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of the Student t interval of the mean; needs 2+ values."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    mean = float(v.mean())
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def decide(
    a: Iterable[float],
    b: Iterable[float],
    direction: str,
    margin: float = 0.0,
    preconditions: Iterable[Precondition] = (),
    min_seeds: int = MIN_SEEDS,
    confidence: float = 0.95,
    unit: str = "",
) -> Decision:
    """Verdict on "``a`` <direction> ``b``" from values paired by seed (``a[i]``, ``b[i]`` from
    the same seed and data).

    ``direction``: ``greater`` (a > b), ``less`` (a < b), ``at_least`` (a >= b - margin,
    non-inferiority), ``at_most`` (a <= b + margin), ``equivalent`` (|a - b| < margin).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if direction in ("at_least", "at_most", "equivalent") and margin <= 0:
        raise ValueError(f"direction {direction!r} needs a positive margin, got {margin}")
    a = [float(x) for x in a]
    b = [float(x) for x in b]
    if len(a) != len(b):
        raise ValueError(f"paired values need equal length, got {len(a)} and {len(b)}")
    pre = list(preconditions)
    base = Decision(
        verdict=Verdict.INCONCLUSIVE, reason="", n=len(a), per_seed_a=a, per_seed_b=b,
        preconditions=[{**asdict(p), "met": p.met} for p in pre],
    )  # fmt: skip
    diffs = np.asarray(a) - np.asarray(b)
    if a:
        base.mean_a, base.mean_b, base.mean_diff = (
            float(np.mean(a)), float(np.mean(b)), float(diffs.mean()),
        )  # fmt: skip
    unmet = [p for p in pre if not p.met]
    if unmet:
        base.verdict = Verdict.NOT_TESTABLE
        base.reason = "precondition unmet: " + "; ".join(p.describe() for p in unmet)
        return base
    if not a:
        base.verdict, base.reason = Verdict.NOT_RUN, "no measurements"
        return base
    if len(a) < min_seeds:
        base.reason = (f"{len(a)} seed(s), {min_seeds} needed to decide; a - b per seed: "
                       + ", ".join(f"{d:+.3g}" for d in diffs))  # fmt: skip
        return base
    mean, lo, hi = t_interval(diffs, confidence)
    base.ci_low, base.ci_high, base.resolvable = lo, hi, (hi - lo) / 2
    pct = f"{confidence:.0%}"
    interval = (f"a - b = {mean:+.3g}{unit}, {pct} interval [{lo:+.3g}, {hi:+.3g}] "
                f"over {len(a)} seeds")  # fmt: skip
    # Differences equal up to float rounding (a discrete measure, e.g. a count of images, read
    # through a float subtraction) have no spread: a t interval needs spread, and 3 equal signs
    # alone are no evidence (a sign test needs 6 for p < 0.05). Nothing is resolved then.
    largest = float(np.abs(diffs).max())
    tol = SAME_TOLERANCE * max(1.0, largest)
    if float(np.ptp(diffs)) <= tol:
        base.resolvable = float("nan")
        base.reason = (
            f"identical in every seed ({interval}): the measure does not separate them"
            if largest <= tol
            else f"the same difference in every seed ({interval}): no spread to judge it by; "
            "more seeds or a finer measure would decide"
        )
        return base
    if direction == "equivalent":
        inside, outside = lo > -margin and hi < margin, lo > margin or hi < -margin
        base.verdict = (Verdict.HOLDS if inside else Verdict.DOES_NOT_HOLD if outside
                        else Verdict.INCONCLUSIVE)  # fmt: skip
        side = {Verdict.HOLDS: "inside", Verdict.DOES_NOT_HOLD: "outside"}.get(
            base.verdict, "not within nor outside"
        )
        base.reason = f"{interval}, {side} the equivalence margin +-{margin:g}{unit}"
        return base
    # the boundary the interval is compared with, and the claimed side (+1 above, -1 below)
    boundary, side = {
        "greater": (0.0, 1), "less": (0.0, -1),
        "at_least": (-margin, 1), "at_most": (margin, -1),
    }[direction]  # fmt: skip
    claimed = lo > boundary if side > 0 else hi < boundary
    opposite = hi < boundary if side > 0 else lo > boundary
    where = f"{boundary:+g}{unit}" if margin else "0"
    if claimed:
        base.verdict, what = Verdict.HOLDS, f"entirely on the claimed side of {where}"
    elif opposite:
        base.verdict, what = Verdict.DOES_NOT_HOLD, f"entirely on the other side of {where}"
    else:
        base.verdict, what = Verdict.INCONCLUSIVE, f"straddles {where}"
    base.reason = f"{interval}, {what}"
    return base


def combine(decisions: Sequence[Decision], reason: str = "") -> Decision:
    """One verdict for a conjunction of claims (an ordering A < B < C is two comparisons):
    not run if any is not run, else not testable if any is, else does not hold if any does not,
    else holds if all hold, else inconclusive."""
    order = [Verdict.NOT_RUN, Verdict.NOT_TESTABLE, Verdict.DOES_NOT_HOLD, Verdict.INCONCLUSIVE]
    verdicts = {d.verdict for d in decisions}
    verdict = next((v for v in order if v in verdicts), Verdict.HOLDS)
    if not decisions:
        verdict = Verdict.NOT_RUN
    resolvable = max((d.resolvable for d in decisions if not math.isnan(d.resolvable)),
                     default=float("nan"))  # fmt: skip
    parts = [f"{d.verdict.value}" for d in decisions]
    return Decision(
        verdict=verdict,
        reason=reason or f"{len(decisions)} comparisons: " + ", ".join(parts),
        n=min((d.n for d in decisions), default=0),
        resolvable=resolvable,
    )
