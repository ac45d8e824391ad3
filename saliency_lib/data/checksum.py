"""SHA-256 checksums of raw arrays and file lists, recorded in every dataset's provenance."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import torch


def _as_numpy(array: np.ndarray | torch.Tensor) -> np.ndarray:
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    return np.ascontiguousarray(array)


def sha256_arrays(*arrays: np.ndarray | torch.Tensor) -> str:
    """SHA-256 over the dtype, shape and bytes of each array in turn (order matters)."""
    digest = hashlib.sha256()
    for array in arrays:
        a = _as_numpy(array)
        digest.update(f"{a.dtype.str}{a.shape}".encode())
        digest.update(memoryview(a).cast("B"))
    return digest.hexdigest()


def sha256_strings(items: Iterable[str]) -> str:
    """SHA-256 of newline-joined strings (e.g. a sorted file list with labels)."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(item.encode())
        digest.update(b"\n")
    return digest.hexdigest()
