"""Helpers shared by the metric modules: unpacking ``data``, device handling, k from a level."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator

import numpy as np
import torch
from torch import nn


def unpack_data(data) -> tuple[torch.Tensor, torch.Tensor]:
    """``data`` is a dataset object with ``.x``/``.y`` or an ``(x, y)`` pair -> (x, y) tensors."""
    if hasattr(data, "x") and hasattr(data, "y"):
        x, y = data.x, data.y
        if x is None:  # a lazy set (Caltech-101, Oxford-IIIT Pet, resized CIFAR): read each item
            x = torch.stack([data[i][0] for i in range(len(data))]) if len(data) else None
    else:
        try:
            x, y = data
        except (TypeError, ValueError):
            raise TypeError(
                "data must be a dataset with .x and .y or an (x, y) pair of tensors"
            ) from None
    x = torch.as_tensor(x)
    y = torch.as_tensor(y).long()
    if x.dim() != 4:
        raise ValueError(f"x must be (N, C, H, W), got shape {tuple(x.shape)}")
    if y.shape != (len(x),):
        raise ValueError(f"y must be ({len(x)},), got shape {tuple(y.shape)}")
    return x, y


def fill_value(data, fill: str, value):
    """The fill value: ``value`` if given, else the dataset's ``.background`` for ``constant``."""
    if value is not None or fill != "constant":
        return value
    background = getattr(data, "background", None)
    if background is None:
        raise ValueError(
            "fill='constant' needs value=...: data has no .background (an (x, y) pair was "
            "given); pass the normalised value of a raw 0 pixel, e.g. value=-mean/std"
        )
    if isinstance(background, list | tuple):
        return torch.tensor(background, dtype=torch.float32)
    return background


def model_device(model: nn.Module, device=None) -> torch.device:
    """``device`` if given (the model is moved there), else the device of the model's weights."""
    if device is not None:
        device = torch.device(device)
        model.to(device)
        return device
    for p in model.parameters():
        return p.device
    return torch.device("cpu")


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block and restore its train/eval state afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def positions_for_fraction(fraction: float, n_positions: int) -> int:
    """k = round(fraction * n_positions), halves up (docs/methods.md §4: ``round(x/100 * H*W)``).

    A tiny tolerance absorbs floating-point error (e.g. ``0.35 * 100`` positions is 35, not 34).
    """
    return int(math.floor(fraction * n_positions + 0.5 + 1e-9))


def as_levels(levels: Iterable[float]) -> np.ndarray:
    """Levels in percent as a float array; checks 0 <= level <= 100."""
    arr = np.asarray(list(levels), dtype=float)
    if arr.ndim != 1 or len(arr) == 0:
        raise ValueError("levels must be a non-empty 1-D sequence of percentages")
    if np.any(arr < 0) or np.any(arr > 100):
        raise ValueError(f"levels are percentages in [0, 100], got {arr.tolist()}")
    return arr


def level_k(levels: np.ndarray, n_positions: int) -> list[int]:
    """Number of removed positions for every level (percent)."""
    return [positions_for_fraction(level / 100.0, n_positions) for level in levels]


def descending_ranks(scores: torch.Tensor) -> torch.Tensor:
    """Rank (0 = highest) of every position of (B, H, W) ``scores``, as (B, H*W) int64.

    A stable descending sort, so equal scores keep pixel order: ``ranks < k`` equals
    ``masking.select_positions(scores, k, "top")`` for every k, from a single sort.
    """
    b = scores.shape[0]
    flat = scores.reshape(b, -1)
    order = torch.sort(flat, dim=1, stable=True, descending=True).indices
    ranks = torch.empty_like(order)
    ar = torch.arange(flat.shape[1], device=flat.device).expand(b, -1)
    ranks.scatter_(1, order, ar)
    return ranks
