"""The masking function M of SGT/SMOOT/HLGM (docs/methods.md §3.2) and its fill strategies.

Masking works on pixel positions: ``scores`` has one value per position (B, H, W); masking a
position sets all of its channels. Ties are broken deterministically by a stable sort, so equal
scores are taken in pixel order (row-major).
"""

from __future__ import annotations

import numpy as np
import torch

FILLS = ("uniform", "uniform_feature", "constant", "mean", "noisy_linear")


def select_positions(
    scores: torch.Tensor, k: int | torch.Tensor, which: str = "bottom"
) -> torch.Tensor:
    """Boolean (B, H, W) mask of the ``k`` lowest (``"bottom"``) or highest (``"top"``) scores.

    ``k`` is an int or a per-sample integer tensor (B,), clipped to [0, H*W]. A stable sort breaks
    ties by pixel order (SGT: ``topk(largest=False)``; docs/methods.md §3.2 and §4).
    """
    if which not in ("bottom", "top"):
        raise ValueError(f"which must be 'bottom' or 'top', got {which!r}")
    if scores.dim() != 3:
        raise ValueError(f"scores must be (B, H, W), got shape {tuple(scores.shape)}")
    b, h, w = scores.shape
    flat = scores.reshape(b, h * w)
    order = torch.sort(flat, dim=1, stable=True, descending=(which == "top")).indices
    k_t = torch.as_tensor(k, device=scores.device).long().clamp(0, h * w)
    if k_t.dim() == 0:
        k_t = k_t.expand(b)
    if k_t.shape != (b,):
        raise ValueError(f"k must be an int or a ({b},) tensor, got shape {tuple(k_t.shape)}")
    taken = torch.arange(h * w, device=scores.device)[None, :] < k_t[:, None]
    selected = torch.zeros_like(taken)
    selected.scatter_(1, order, taken)
    return selected.reshape(b, h, w)


def mask(
    x: torch.Tensor,
    scores: torch.Tensor,
    k: int | torch.Tensor,
    which: str = "bottom",
    fill: str = "uniform",
    value: float | torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    noise_std: float = 0.01,
) -> torch.Tensor:
    """``M(x, s, k, which, fill)`` (docs/methods.md §3.2): mask the positions; a detached copy.

    Fills (all in normalised space):
      * ``uniform``: fresh draw per masked element from U(min, max) of that sample's channel (SGT).
      * ``uniform_feature``: fresh draw from U(min, max) of that sample's column (the W axis) in
        its channel: for time series stored as (B, 1, T, F), the sample's range of that feature
        (SGT section 3 "random values within the feature range").
      * ``constant``: ``value`` (a float or a per-channel tensor), e.g. the dataset background.
      * ``mean``: the per-channel mean of the sample (SGT Fig. 4, OOD replacement).
      * ``noisy_linear``: ROAD noisy linear imputation (:func:`noisy_linear_impute`).
    """
    if x.dim() != 4:
        raise ValueError(f"x must be (B, C, H, W), got shape {tuple(x.shape)}")
    if scores.shape != (x.shape[0], *x.shape[2:]):
        raise ValueError(
            f"scores must have shape (B, H, W) = {(x.shape[0], *x.shape[2:])}, "
            f"got {tuple(scores.shape)}"
        )
    x = x.detach()
    selected = select_positions(scores.detach(), k, which)
    if fill == "noisy_linear":
        return noisy_linear_impute(x, selected, noise_std=noise_std, generator=generator)
    replacement = fill_values(x, fill, value, generator)
    return torch.where(selected[:, None], replacement, x)


def check_fill(fill: str) -> None:
    """``ValueError`` naming the valid fills unless ``fill`` is one of :data:`FILLS`."""
    if fill not in FILLS:
        raise ValueError(f"unknown fill {fill!r}; choose one of: {', '.join(FILLS)}")


def fill_values(x, fill, value, generator) -> torch.Tensor:
    """The replacement values of ``fill`` for every element of ``x`` (B, C, H, W), as
    :func:`mask` uses them; the evaluation metrics reuse a level-independent fill."""
    if fill == "uniform":
        lo = x.amin(dim=(2, 3), keepdim=True)
        hi = x.amax(dim=(2, 3), keepdim=True)
        u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return lo + (hi - lo) * u
    if fill == "uniform_feature":
        lo = x.amin(dim=2, keepdim=True)
        hi = x.amax(dim=2, keepdim=True)
        u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        return lo + (hi - lo) * u
    if fill == "constant":
        if value is None:
            raise ValueError("fill='constant' needs value= (e.g. the dataset's .background)")
        v = torch.as_tensor(value, dtype=x.dtype, device=x.device)
        return v.reshape(1, -1, 1, 1).expand_as(x) if v.dim() == 1 else v.expand_as(x)
    if fill == "mean":
        return x.mean(dim=(2, 3), keepdim=True).expand_as(x)
    raise ValueError(f"unknown fill {fill!r}; choose one of: {', '.join(FILLS)}")


# ROAD neighbour weights: 1/6 for the 4 direct neighbours, 1/12 for the 4 diagonal ones.
_NEIGHBOURS = [(-1, 0, 1 / 6), (1, 0, 1 / 6), (0, -1, 1 / 6), (0, 1, 1 / 6),
               (-1, -1, 1 / 12), (-1, 1, 1 / 12), (1, -1, 1 / 12), (1, 1, 1 / 12)]  # fmt: skip


def noisy_linear_impute(
    x: torch.Tensor,
    selected: torch.Tensor,
    noise_std: float = 0.01,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """ROAD noisy linear imputation (Rong et al. 2022; docs/methods.md §3.2).

    Every removed pixel equals the weighted mean of its in-image neighbours (weights 1/6 direct,
    1/12 diagonal, renormalised over the neighbours that exist), solved jointly as one sparse
    linear system (block-diagonal over the images of the batch, one right-hand side per
    channel); Gaussian noise (``noise_std``) is then added to the imputed pixels. Kept pixels are
    unchanged. An image with every position removed has nothing to interpolate from (the system
    is singular): its pixels become 0 plus noise.
    """
    from scipy.sparse import csc_matrix
    from scipy.sparse.linalg import spsolve

    b, c, h, w = x.shape
    out = x.detach().cpu().double().numpy().copy()
    sel = selected.detach().cpu().numpy().astype(bool).reshape(b, h, w)
    full = sel.reshape(b, -1).all(axis=1)
    out[full] = 0.0
    solve = sel & ~full[:, None, None]
    bi, ri, ci = np.nonzero(solve)  # unknowns, in (image, row, column) order
    n = len(bi)
    if n:
        unknown_id = np.full((b, h, w), -1, dtype=np.int64)
        unknown_id[bi, ri, ci] = np.arange(n)
        # total neighbour weight of every position (renormalisation at the image border)
        total = np.zeros((h, w))
        for dr, dc, wt in _NEIGHBOURS:
            total[max(0, -dr) : h - max(0, dr), max(0, -dc) : w - max(0, dc)] += wt
        rows = [np.arange(n)]
        cols = [np.arange(n)]
        vals = [np.ones(n)]
        rhs = np.zeros((n, c))
        for dr, dc, wt in _NEIGHBOURS:
            rr, cc = ri + dr, ci + dc
            inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
            j = np.flatnonzero(inside)
            nb_b, nb_r, nb_c = bi[j], rr[j], cc[j]
            weight = wt / total[ri[j], ci[j]]
            nb_id = unknown_id[nb_b, nb_r, nb_c]
            unknown = nb_id >= 0
            rows.append(j[unknown])
            cols.append(nb_id[unknown])
            vals.append(-weight[unknown])
            known = ~unknown
            # each unknown has at most one neighbour per offset: plain indexed add is safe
            rhs[j[known]] += weight[known, None] * out[nb_b[known], :, nb_r[known], nb_c[known]]
        a = csc_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
        )
        solution = np.asarray(spsolve(a, rhs)).reshape(n, c)
        out[bi, :, ri, ci] = solution
    result = torch.from_numpy(out).to(dtype=x.dtype, device=x.device)
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype) * noise_std
    return torch.where(selected.reshape(b, 1, h, w), result + noise, x).detach()


# --- token sequences (SGT section 4, language; docs/methods.md §9) ---------------------------
#: Fills of :func:`mask_tokens`: ``previous`` (the SGT text's rule), ``uniform`` (the image rule).
TOKEN_FILLS = ("previous", "uniform")


def sequence_lengths(x: torch.Tensor) -> torch.Tensor:
    """Lengths (B,) int64 of token sequences ``x`` (B, 1, L, D) padded with all-zero rows at the
    end: one plus the last row holding a non-zero value, at least 1. Embedded tokens are never
    all zero (:mod:`saliency_lib.data.text`), so this is the number of tokens."""
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(f"token sequences are (B, 1, L, D), got shape {tuple(x.shape)}")
    present = x.detach().ne(0).any(dim=-1)[:, 0]  # (B, L)
    steps = torch.arange(1, present.shape[1] + 1, device=x.device)
    return (present * steps).amax(dim=1).clamp_min(1)


def select_tokens(
    scores: torch.Tensor, lengths: torch.Tensor, k: int | torch.Tensor, which: str = "bottom"
) -> torch.Tensor:
    """Boolean (B, L) mask of the ``k`` lowest (``"bottom"``) or highest (``"top"``) token scores
    among the first ``lengths`` tokens of each row; padding is never selected. ``k`` is an int or
    a per-sample tensor (B,); ties are taken in token order (stable sort, as
    :func:`select_positions`)."""
    if scores.dim() != 2:
        raise ValueError(f"token scores must be (B, L), got shape {tuple(scores.shape)}")
    steps = torch.arange(scores.shape[1], device=scores.device)
    pad = steps[None, :] >= lengths.to(scores.device)[:, None]
    fill = float("inf") if which == "bottom" else float("-inf")
    k_t = torch.minimum(torch.as_tensor(k, device=scores.device).long(), lengths.to(scores.device))
    chosen = select_positions(scores.masked_fill(pad, fill)[:, :, None], k_t, which)[:, :, 0]
    return chosen & ~pad


def mask_tokens(
    x: torch.Tensor,
    selected: torch.Tensor,
    fill: str = "previous",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """The token sequences ``x`` (B, 1, L, D) with the ``selected`` (B, L) tokens replaced; a
    detached copy (docs/methods.md §9).

    * ``previous`` (SGT section 4: "the masking function replaces the low salient word with the
      previous high salient word"): each selected token takes the embedding of the nearest
      unselected token before it; selected tokens at the start of a sequence, which have none,
      take the first unselected token after them. The sequence keeps its length. A sequence
      with every token selected is left unchanged (there is nothing to copy).
    * ``uniform``: a fresh draw per element from U(min, max) of the sample's values (the image
      and time-series rule, :func:`fill_values`), for comparison.
    """
    if fill not in TOKEN_FILLS:
        raise ValueError(f"unknown token fill {fill!r}; choose one of: {', '.join(TOKEN_FILLS)}")
    if x.dim() != 4 or x.shape[1] != 1 or selected.shape != (x.shape[0], x.shape[2]):
        raise ValueError(
            f"need x (B, 1, L, D) and selected (B, L), got {tuple(x.shape)} and "
            f"{tuple(selected.shape)}"
        )
    x = x.detach()
    selected = selected.to(x.device, torch.bool)
    if fill == "uniform":
        replacement = fill_values(x, "uniform", None, generator)
        return torch.where(selected[:, None, :, None], replacement, x)
    lengths = sequence_lengths(x)
    steps = torch.arange(x.shape[2], device=x.device)
    kept = ~selected & (steps[None, :] < lengths[:, None])
    last_kept = torch.where(kept, steps[None, :], torch.full_like(steps[None, :], -1))
    previous = torch.cummax(last_kept, dim=1).values  # nearest kept token at or before t
    first = kept.long().argmax(dim=1, keepdim=True)  # first kept token (0 if none)
    source = torch.where(previous >= 0, previous, first)
    source = torch.where(kept.any(dim=1, keepdim=True), source, steps[None, :].expand_as(source))
    gathered = x.gather(2, source[:, None, :, None].expand_as(x))
    return torch.where(selected[:, None, :, None], gathered, x)
