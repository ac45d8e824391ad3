"""Saliency precision and recall against the informative box (SGT section 5.3, eqs. 7-8; the
benchmark of Ismail et al. 2020, ``Scripts/createMasks.py``, ``getPrecisionRecall.py``,
``getAccuracyMetrics.py``).

For one sample with saliency map ``s`` (|attribution|, min-max normalised per sample) and box
``B`` (the cells that carry the label):

* at level ``p`` the *removed set* ``R_p`` is the smallest set of top-salient cells whose
  saliency reaches ``p`` of the sample's total saliency. Cells of equal saliency are ordered by
  ``ties``: ``"random"`` (default; a seeded random order, the same for every level), ``"first"``
  (lower cell index first = earlier time step) or ``"last"``. The benchmark's ``np.argsort``
  (quicksort) leaves the order of ties undefined; an index order would favour early or late
  time steps, which SGT Fig. 6 compares (docs/methods.md, time series). Cells of saliency 0 never
  enter ``R_p`` for ``p < 1``;
* weighted precision ``P_p = sum_{R_p & B} s / sum_{R_p} s``; weighted recall
  ``R_p = sum_{R_p & B} s / sum_B s`` (a sample whose denominator is 0 is left out of that
  level's mean, as the benchmark code does);
* ``AUP`` and ``AUR``: trapezoid of the sample-mean precision / recall over ``p`` in
  0.1 ... 0.9 (maximum 0.8);
* the random baseline is a map permuted along the feature axis (one permutation for all
  samples and time steps, as the benchmark's ``np.random.shuffle(np.transpose(map))``);
  ``Diff(AUP) = AUP(method) - AUP(random)`` (eqs. 7-8). Which map is permuted is the caller's
  choice (:func:`box_scores`' ``baseline_maps``): the benchmark permutes the map of one randomly
  chosen saliency method of the model and subtracts that one baseline from every method
  (:func:`saliency_lib.studies.timeseries.evaluate_runs`, ``random_baseline="benchmark"``);
  ``"own"`` permutes each method's own map.

Maps are (N, T, F) tensors, time first, as ``saliency.attribute`` returns them for the
package's (N, 1, T, F) time-series layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

#: Levels of the benchmark: 10 % ... 90 % of the saliency mass.
DEFAULT_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: How cells of equal saliency are ordered in the removal ranking.
TIES = ("random", "first", "last")


def normalise_maps(maps: torch.Tensor) -> torch.Tensor:
    """|maps| min-max scaled to [0, 1] per sample (benchmark ``givenAttGetRescaledSaliency``);
    a constant map becomes all zeros."""
    flat = maps.detach().abs().reshape(len(maps), -1).double()
    lo = flat.amin(1, keepdim=True)
    span = flat.amax(1, keepdim=True) - lo
    out = torch.where(span > 0, (flat - lo) / span.clamp_min(1e-300), torch.zeros_like(flat))
    return out.reshape(maps.shape)


def _tie_order(n: int, ties: str, generator: torch.Generator | None) -> torch.Tensor:
    """The cell order equal saliency values are taken in (a permutation of ``range(n)``)."""
    if ties == "first":
        return torch.arange(n)
    if ties == "last":
        return torch.arange(n - 1, -1, -1)
    if ties == "random":
        gen = generator if generator is not None else torch.Generator().manual_seed(0)
        return torch.randperm(n, generator=gen)
    raise ValueError(f"ties must be one of {TIES}, got {ties!r}")


def removal_sets(
    maps: torch.Tensor,
    levels: Sequence[float] = DEFAULT_LEVELS,
    ties: str = "random",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(N, L, T*F) bool: for each level ``p`` the smallest top-salient set holding >= ``p`` of
    the sample's saliency mass (all cells when the map is all zeros). Equal values are taken in
    the ``ties`` order (module doc); ``"random"`` draws one order from ``generator`` (default:
    seed 0) for all samples."""
    flat = maps.detach().reshape(len(maps), -1).double()
    lv = torch.as_tensor(list(levels), dtype=torch.float64)
    if ((lv <= 0) | (lv > 1)).any():
        raise ValueError(f"levels must be in (0, 1], got {list(levels)}")
    n = flat.shape[1]
    tie = _tie_order(n, ties, generator)
    # a stable sort of the cells taken in the tie order keeps that order among equal values
    order = tie[torch.sort(flat[:, tie], dim=1, descending=True, stable=True).indices]
    cum = torch.gather(flat, 1, order).cumsum(1)  # (N, C)
    total = cum[:, -1:]
    goal = lv[None, :] * total - 1e-12 * total.abs().clamp_min(1.0)  # (N, L), float tolerance
    # number of cells = 1 + number of prefixes still below the goal
    count = (torch.searchsorted(cum.contiguous(), goal.contiguous(), right=False) + 1).clamp(max=n)
    count = torch.where(total > 0, count, torch.full_like(count, n))
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(n).expand_as(order).contiguous())
    return rank[:, None, :] < count[:, :, None]


def precision_recall(
    maps: torch.Tensor,
    box: torch.Tensor,
    levels: Sequence[float] = DEFAULT_LEVELS,
    normalise: bool = True,
    ties: str = "random",
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample-mean weighted precision and recall per level, each (L,) float64.

    ``maps`` (N, T, F) raw attributions (``normalise=True``: |.| and per-sample min-max first);
    ``box`` (N, T, F) bool, the informative cells (:func:`saliency_lib.metrics.box_mask`);
    ``ties`` / ``generator``: the order of equal values (:func:`removal_sets`).
    """
    if maps.shape != box.shape:
        raise ValueError(f"maps {tuple(maps.shape)} and box {tuple(box.shape)} differ in shape")
    s = normalise_maps(maps) if normalise else maps.detach().double()
    s = s.reshape(len(s), -1)
    inside = box.reshape(len(box), -1).bool()
    removed = removal_sets(s, levels, ties, generator)  # (N, L, C)
    removed_mass = torch.einsum("nlc,nc->nl", removed.double(), s)
    tp = torch.einsum("nlc,nc->nl", removed.double(), s * inside)
    fp = removed_mass - tp
    fn = (s * inside).sum(1, keepdim=True) - tp
    precision = _masked_mean(tp, tp + fp)
    recall = _masked_mean(tp, tp + fn)
    return precision, recall


def _masked_mean(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    ok = den > 0
    ratio = torch.where(ok, num / den.clamp_min(1e-300), torch.zeros_like(num))
    count = ok.sum(0)
    return torch.where(count > 0, ratio.sum(0) / count.clamp_min(1), torch.nan)


def area(values: torch.Tensor, levels: Sequence[float] = DEFAULT_LEVELS) -> float:
    """Trapezoid of ``values`` over ``levels`` (fractions): AUP or AUR."""
    return float(torch.trapezoid(values.double(), torch.as_tensor(levels, dtype=torch.float64)))


def permute_features(maps: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """The random-baseline map: ``maps`` (N, T, F) with its feature axis permuted (one
    permutation for all samples and time steps)."""
    perm = torch.randperm(maps.shape[-1], generator=generator)
    return maps[..., perm]


@dataclass
class BoxScores:
    """AUP/AUR of one map set and of its random baseline (a feature-permuted map)."""

    aup: float
    aur: float
    random_aup: float
    random_aur: float
    precision: list[float]
    recall: list[float]

    @property
    def diff_aup(self) -> float:
        return self.aup - self.random_aup

    @property
    def diff_aur(self) -> float:
        return self.aur - self.random_aur

    def as_dict(self) -> dict[str, float]:
        return {
            "aup": self.aup,
            "aur": self.aur,
            "random_aup": self.random_aup,
            "random_aur": self.random_aur,
            "diff_aup": self.diff_aup,
            "diff_aur": self.diff_aur,
        }


def areas(
    maps: torch.Tensor,
    box: torch.Tensor,
    levels: Sequence[float] = DEFAULT_LEVELS,
    ties: str = "random",
    generator: torch.Generator | None = None,
) -> tuple[float, float, list[float], list[float]]:
    """``(AUP, AUR, precision per level, recall per level)`` of ``maps`` against ``box``."""
    p, r = precision_recall(maps, box, levels, ties=ties, generator=generator)
    return area(p, levels), area(r, levels), p.tolist(), r.tolist()


def box_scores(
    maps: torch.Tensor,
    box: torch.Tensor,
    levels: Sequence[float] = DEFAULT_LEVELS,
    generator: torch.Generator | None = None,
    baseline_maps: torch.Tensor | None = None,
    ties: str = "random",
) -> BoxScores:
    """AUP, AUR and the random baseline's (SGT eqs. 7-8) of ``maps`` against ``box``. The
    baseline is ``baseline_maps`` permuted along features (default ``maps`` itself);
    ``generator`` draws the permutation, then the random tie order (module doc)."""
    source = maps if baseline_maps is None else baseline_maps
    permuted = permute_features(source, generator)
    rp, rr = precision_recall(permuted, box, levels, ties=ties, generator=generator)
    aup, aur, p, r = areas(maps, box, levels, ties, generator)
    return BoxScores(aup, aur, area(rp, levels), area(rr, levels), p, r)
