"""Verdict rules: a paired comparison across seeds turned into one of four verdicts.

A claim compares a quantity between two arms ``a`` and ``b`` (two training methods, two fills, ...)
measured on the same seeds (same seed, same data subset). The per-seed differences give a Student t
interval of the mean difference; the rule reads the interval against the claim's boundary
(docs/methods.md §8):

* **holds**: the interval lies on the claimed side of the boundary (0; ``-margin`` for a
  non-inferiority claim "at least as high"; ``+margin`` for "better by more than");
* **does not hold**: the interval lies on the other side;
* **inconclusive**: the interval straddles the boundary, or fewer than ``min_seeds`` seeds;
* **not testable here**: a precondition (measured from the runs, or computed from the
  parameters before any training: *by design*) is unmet, whatever the numbers.

A difference that is the same in every seed (a discrete measure such as a median SIB) has no
spread for a t interval. It is then decided on a finer measure, never declared undecidable: the
per-image values within each seed (``units``), resampled over images (a paired bootstrap, the
same images for both arms) for the seed-mean of the statistic's difference. Without per-image
values, a constant non-zero difference is inconclusive and says what would decide it.

Every decision carries the interval's half-width (the smallest difference this design resolves),
a p-value against the boundary that gives the same verdict at 5 % (so that verdicts can be
adjusted for multiplicity: :func:`holm`), and the smallest true effect the design detects with
80 % power at the measured spread (:func:`detectable_effect`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import Enum

import numpy as np
from scipy import optimize, stats


class Verdict(str, Enum):
    HOLDS = "holds"
    DOES_NOT_HOLD = "does not hold"
    INCONCLUSIVE = "inconclusive"
    NOT_TESTABLE = "not testable here"
    NOT_RUN = "not run"

    def __str__(self) -> str:
        return self.value


DIRECTIONS = ("greater", "less", "exceeds", "at_least", "at_most", "equivalent")
MIN_SEEDS = 3
CONFIDENCE = 0.95
POWER = 0.8
#: Paired differences this close (relative to their size, at least 1) count as the same value.
SAME_TOLERANCE = 1e-9
#: Resamples of the per-image bootstrap (fixed generator seed: the same numbers every time).
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def boundary(direction: str, margin: float = 0.0) -> tuple[float, int]:
    """The value of ``a - b`` the interval is compared with, and the claimed side (+1: above,
    -1: below). ``equivalent`` has two boundaries, ``-margin`` and ``+margin``: (margin, 0)."""
    return {
        "greater": (0.0, 1), "less": (0.0, -1), "exceeds": (margin, 1),
        "at_least": (-margin, 1), "at_most": (margin, -1), "equivalent": (margin, 0),
    }[direction]  # fmt: skip


@dataclass(frozen=True)
class Precondition:
    """A condition under which a test means something: ``value`` must be ``>= minimum`` (and
    ``<= maximum`` when given). ``what`` says what was measured, in words; ``by_design``: the
    value is computed from the parameters before any training (e.g. the largest K spread a
    setting allows), so an unmet one says the setting cannot test the claim at all."""

    what: str
    value: float
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    by_design: bool = False

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
        design = "by design (from the parameters, before training): " if self.by_design else ""
        return f"{design}{self.what} = {_num(self.value)}{self.unit} (needs {' and '.join(need)})"


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
    p_value: float = float("nan")  # against the boundary; < 0.05 exactly when decided
    detectable: float = float("nan")  # smallest true a - b decided with 80 % power
    interval: str = ""  # "t" (seeds) or "bootstrap" (images within seeds)
    by_design: bool = False  # not testable from the parameters alone
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


def t_interval(
    values: Sequence[float], confidence: float = CONFIDENCE
) -> tuple[float, float, float]:
    """(mean, low, high) of the Student t interval of the mean; needs 2+ values."""
    v = np.asarray(values, dtype=float)
    n = len(v)
    mean = float(v.mean())
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def detectable_effect(
    sd: float, n: int, direction: str, margin: float = 0.0,
    confidence: float = CONFIDENCE, power: float = POWER,
) -> float:  # fmt: skip
    """The smallest true mean difference ``a - b`` that a paired design with ``n`` seeds and
    difference standard deviation ``sd`` decides as *holds* with probability ``power``: the
    noncentral-t solution of P(lower interval bound > boundary) = power (mirrored for claims of
    a lower ``a``). NaN for equivalence claims and for fewer than 2 seeds or no spread."""
    if direction == "equivalent" or n < 2 or not sd > 0:
        return float("nan")
    df, se = n - 1, sd / math.sqrt(n)
    crit = stats.t.ppf(0.5 + confidence / 2, df)
    nc = optimize.brentq(lambda d: stats.nct.sf(crit, df, d) - power, 0.0, 100.0)
    bound, side = boundary(direction, margin)
    return bound + side * nc * se


def _t_p_value(diffs: np.ndarray, direction: str, margin: float) -> float:
    """Two-sided p-value of the mean difference against the claim's boundary (for equivalence:
    twice the larger one-sided p of the two margins, or of the nearer margin when outside), so
    that p < 1 - confidence exactly when the t interval decides."""
    n = len(diffs)
    mean, se = float(diffs.mean()), float(diffs.std(ddof=1)) / math.sqrt(n)
    t = lambda b: (mean - b) / se  # noqa: E731
    if direction == "equivalent":
        p_low, p_high = stats.t.sf(t(-margin), n - 1), stats.t.cdf(t(margin), n - 1)
        if -margin < mean < margin:
            return min(1.0, 2 * max(p_low, p_high))
        return min(1.0, 2 * min(stats.t.sf(t(margin), n - 1), stats.t.cdf(t(-margin), n - 1)))
    bound, _ = boundary(direction, margin)
    return float(min(1.0, 2 * stats.t.sf(abs(t(bound)), n - 1)))


def paired_bootstrap(
    units: Sequence[tuple[Sequence[float], Sequence[float]]],
    statistic: Callable = np.median,
    confidence: float = CONFIDENCE,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[float, float, float, np.ndarray]:
    """Interval of the seed-mean of ``statistic(a) - statistic(b)`` from per-image values paired
    within each seed (``units[s] = (a_images, b_images)``, the same images in both): images are
    resampled with replacement within each seed, the same indices for both arms. Returns (point
    estimate, low, high, the resampled values); deterministic (generator seeded by ``seed``)."""
    rng = np.random.default_rng(seed)
    total, point = np.zeros(resamples), 0.0
    for ua, ub in units:
        ua, ub = np.asarray(ua, dtype=float), np.asarray(ub, dtype=float)
        if ua.shape != ub.shape or ua.ndim != 1 or len(ua) == 0:
            raise ValueError(
                f"per-image values must be paired 1-D arrays, got {ua.shape}, {ub.shape}"
            )
        idx = rng.integers(0, len(ua), size=(resamples, len(ua)))
        total += statistic(ua[idx], axis=1) - statistic(ub[idx], axis=1)
        point += float(statistic(ua) - statistic(ub))
    total /= len(units)
    lo, hi = np.quantile(total, [0.5 - confidence / 2, 0.5 + confidence / 2])
    return point / len(units), float(lo), float(hi), total


def _bootstrap_p_value(draws: np.ndarray, direction: str, margin: float) -> float:
    """The bootstrap counterpart of :func:`_t_p_value` (percentile method)."""

    def two_sided(b):
        return min(1.0, 2 * min(float((draws <= b).mean()), float((draws >= b).mean())))

    if direction == "equivalent":
        inside = float(np.mean(draws)) > -margin and float(np.mean(draws)) < margin
        if inside:
            return min(
                1.0, 2 * max(float((draws <= -margin).mean()), float((draws >= margin).mean()))
            )
        return min(two_sided(margin), two_sided(-margin))
    return two_sided(boundary(direction, margin)[0])


def _verdict_from_interval(
    lo: float, hi: float, direction: str, margin: float
) -> tuple[Verdict, str]:
    if direction == "equivalent":
        inside, outside = lo > -margin and hi < margin, lo > margin or hi < -margin
        verdict = (
            Verdict.HOLDS if inside else Verdict.DOES_NOT_HOLD if outside else Verdict.INCONCLUSIVE
        )
        side = {Verdict.HOLDS: "inside", Verdict.DOES_NOT_HOLD: "outside"}.get(
            verdict, "not within nor outside"
        )
        return verdict, f"{side} the equivalence margin +-{margin:g}"
    bound, side = boundary(direction, margin)
    where = f"{bound:+g}" if bound else "0"
    if (lo > bound) if side > 0 else (hi < bound):
        return Verdict.HOLDS, f"entirely on the claimed side of {where}"
    if (hi < bound) if side > 0 else (lo > bound):
        return Verdict.DOES_NOT_HOLD, f"entirely on the other side of {where}"
    return Verdict.INCONCLUSIVE, f"straddles {where}"


def decide(
    a: Iterable[float],
    b: Iterable[float],
    direction: str,
    margin: float = 0.0,
    preconditions: Iterable[Precondition] = (),
    min_seeds: int = MIN_SEEDS,
    confidence: float = CONFIDENCE,
    unit: str = "",
    units: Sequence[tuple[Sequence[float], Sequence[float]]] | None = None,
    statistic: Callable = np.median,
) -> Decision:
    """Verdict on "``a`` <direction> ``b``" from values paired by seed (``a[i]``, ``b[i]`` from
    the same seed and data).

    ``direction``: ``greater`` (a > b), ``less`` (a < b), ``exceeds`` (a - b > margin),
    ``at_least`` (a >= b - margin, non-inferiority), ``at_most`` (a <= b + margin),
    ``equivalent`` (|a - b| < margin). ``units``: optional per-image values behind each seed's
    ``a[i]`` and ``b[i]`` (``a[i] == statistic(units[i][0])``), used when the seed differences
    have no spread (:func:`paired_bootstrap`).
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    if direction in ("exceeds", "at_least", "at_most", "equivalent") and margin <= 0:
        raise ValueError(f"direction {direction!r} needs a positive margin, got {margin}")
    a = [float(x) for x in a]
    b = [float(x) for x in b]
    if len(a) != len(b):
        raise ValueError(f"paired values need equal length, got {len(a)} and {len(b)}")
    if units is not None and len(units) != len(a):
        raise ValueError(f"units must have one entry per seed ({len(a)}), got {len(units)}")
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
        base.by_design = any(p.by_design for p in unmet)
        base.reason = "precondition unmet: " + "; ".join(p.describe() for p in unmet)
        return base
    if not a:
        base.verdict, base.reason = Verdict.NOT_RUN, "no measurements"
        return base
    if len(a) < min_seeds:
        base.reason = (f"{len(a)} seed(s), {min_seeds} needed to decide; a - b per seed: "
                       + ", ".join(f"{d:+.3g}" for d in diffs))  # fmt: skip
        return base
    pct = f"{confidence:.0%}"
    largest = float(np.abs(diffs).max())
    tol = SAME_TOLERANCE * max(1.0, largest)
    if float(np.ptp(diffs)) <= tol:
        # No spread across seeds: a t interval has zero width and judges nothing.
        if units is None:
            base.reason = (
                f"identical in every seed (a - b = {diffs[0]:+.3g}{unit} over {len(a)} seeds): "
                "the measure does not separate them" if largest <= tol else
                f"the same difference in every seed (a - b = {diffs[0]:+.3g}{unit} over "
                f"{len(a)} seeds): no spread for an interval; per-image values would decide"
            )  # fmt: skip
            return base
        mean, lo, hi, draws = paired_bootstrap(units, statistic, confidence)
        base.mean_diff, base.ci_low, base.ci_high = mean, lo, hi
        base.resolvable, base.interval = (hi - lo) / 2, "bootstrap"
        base.p_value = _bootstrap_p_value(draws, direction, margin)
        z = stats.norm.ppf(0.5 + confidence / 2) + stats.norm.ppf(POWER)
        if direction != "equivalent":
            bound, side = boundary(direction, margin)
            base.detectable = bound + side * z * float(draws.std(ddof=1))
        base.verdict, what = _verdict_from_interval(lo, hi, direction, margin)
        n_img = sum(len(u[0]) for u in units)
        base.reason = (
            f"the same difference in every seed ({diffs[0]:+.3g}{unit}), so decided on the "
            f"{n_img} per-image values within the seeds (paired bootstrap over images, "
            f"{BOOTSTRAP_RESAMPLES} resamples): a - b = {mean:+.3g}{unit}, {pct} interval "
            f"[{lo:+.3g}, {hi:+.3g}], {what}"
        )
        return base
    mean, lo, hi = t_interval(diffs, confidence)
    base.ci_low, base.ci_high, base.resolvable, base.interval = lo, hi, (hi - lo) / 2, "t"
    base.p_value = _t_p_value(diffs, direction, margin)
    base.detectable = detectable_effect(float(diffs.std(ddof=1)), len(a), direction, margin,
                                        confidence)  # fmt: skip
    base.verdict, what = _verdict_from_interval(lo, hi, direction, margin)
    base.reason = (f"a - b = {mean:+.3g}{unit}, {pct} interval [{lo:+.3g}, {hi:+.3g}] over "
                   f"{len(a)} seeds, {what}")  # fmt: skip
    return base


def combine(decisions: Sequence[Decision], reason: str = "") -> Decision:
    """One verdict for a conjunction of claims (all parts must hold): not run if any part is
    not run, else not testable if any is, else does not hold if any does not, else holds if all
    hold, else inconclusive."""
    order = [Verdict.NOT_RUN, Verdict.NOT_TESTABLE, Verdict.DOES_NOT_HOLD, Verdict.INCONCLUSIVE]
    verdicts = {d.verdict for d in decisions}
    verdict = next((v for v in order if v in verdicts), Verdict.HOLDS)
    if not decisions:
        verdict = Verdict.NOT_RUN
    resolvable = max((d.resolvable for d in decisions if not math.isnan(d.resolvable)),
                     default=float("nan"))  # fmt: skip
    counts = {v: sum(d.verdict is v for d in decisions) for v in Verdict}
    parts = ", ".join(f"{c} {v.value}" for v, c in counts.items() if c)
    return Decision(
        verdict=verdict,
        reason=reason or f"all {len(decisions)} parts must hold: {parts}",
        n=min((d.n for d in decisions), default=0),
        resolvable=resolvable,
        by_design=any(d.by_design for d in decisions if d.verdict is Verdict.NOT_TESTABLE),
    )


def holm(p_values: Sequence[float], alpha: float = 1 - CONFIDENCE) -> list[bool]:
    """Holm's step-down procedure: for each p-value (NaN: not a decided test, never rejected),
    whether it stays significant with the family-wise error rate held at ``alpha``."""
    p = np.asarray(p_values, dtype=float)
    keep = ~np.isnan(p)
    m = int(keep.sum())
    out = np.zeros(len(p), dtype=bool)
    order = [i for i in np.argsort(np.where(keep, p, np.inf)) if keep[i]]
    for rank, i in enumerate(order):
        if p[i] > alpha / (m - rank):
            break
        out[i] = True
    return out.tolist()
