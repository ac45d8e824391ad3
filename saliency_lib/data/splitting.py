"""Reproducible index splits and subsets."""

from __future__ import annotations

import numpy as np
import torch


def stratified_split(
    labels: np.ndarray, test_size: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split positions into (train, test) with exactly ``test_size`` test items, stratified.

    Each class gets ``test_size * class_count / n`` test items, rounded by largest remainder so
    the total is exact (ties to the smaller class label). Items are drawn with
    ``numpy.random.default_rng(seed)``, class by class in label order. Both index arrays are
    sorted, so each split keeps the source order.
    """
    labels = np.asarray(labels)
    n = len(labels)
    if not 0 < test_size < n:
        raise ValueError(f"test_size must be in (0, {n}), got {test_size}")
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * (test_size / n)
    take = np.floor(quota).astype(np.int64)
    order = np.argsort(-(quota - take), kind="stable")
    take[order[: test_size - int(take.sum())]] += 1
    rng = np.random.default_rng(seed)
    test = [
        rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take, strict=True)
    ]
    test_idx = np.sort(np.concatenate(test))
    train_idx = np.setdiff1d(np.arange(n), test_idx)
    return train_idx, test_idx


def random_subset_indices(n: int, size: int, seed: int) -> torch.Tensor:
    """``size`` distinct positions out of ``n``, drawn with ``torch.Generator().manual_seed(seed)``,
    returned sorted (the subset keeps the dataset's order)."""
    if not 0 <= size <= n:
        raise ValueError(f"subset size must be in [0, {n}], got {size}")
    gen = torch.Generator().manual_seed(int(seed))
    return torch.randperm(n, generator=gen)[:size].sort().values
