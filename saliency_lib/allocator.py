"""glibc malloc tuning for CPU training, applied in every process that imports the package.

A training step allocates and frees tensors of tens of megabytes (cnn2's conv activations at batch
256 are 22-38 MB). With glibc's defaults each of them is served by a fresh ``mmap`` and returned by
``munmap``, so the kernel zero-fills every page again on every step; and memory freed at the top
of the heap is trimmed back to the system after each step. Raising the mmap threshold and the trim
threshold keeps that memory in the process and reuses it: the same numbers, less system time
(``benchmarks/train_step.py --allocators`` measures it; ``docs/performance.md`` gives the numbers
and the resident-memory cost).

It is applied when the package is imported, so every process that uses it has it: the CLI,
notebook kernels (opened in JupyterLab or started by the runner), cluster jobs, tests and
benchmarks. On by default where it applies (Linux with glibc), a no-op elsewhere (macOS, musl,
Windows). ``SALIENCY_MALLOC_TUNING=0`` in the environment switches it off; child processes
inherit the environment, so the switch reaches kernels and jobs too.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
from collections.abc import Mapping

ENV_SWITCH = "SALIENCY_MALLOC_TUNING"
_OFF = {"0", "off", "false", "no"}

# mallopt parameter numbers from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3

# glibc refuses an mmap threshold above HEAP_MAX_SIZE / 2 (32 MiB on 64-bit); the largest
# accepted value moves every allocation up to that size onto the heap, where it is reused.
MMAP_THRESHOLD = 32 * 1024**2
TRIM_THRESHOLD = 4 * 1024**3  # never hand freed heap memory back during training
TOP_PAD = 256 * 1024**2  # grow the heap in large steps: fewer brk calls

_applied: dict[str, bool] | None = None


def tuning_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """False when ``SALIENCY_MALLOC_TUNING`` is set to 0/off/false/no, True otherwise."""
    env = os.environ if environ is None else environ
    return env.get(ENV_SWITCH, "1").strip().lower() not in _OFF


def _glibc() -> ctypes.CDLL | None:
    if platform.system() != "Linux":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        libc.gnu_get_libc_version()  # only glibc has it (musl does not)
        return libc
    except (OSError, AttributeError):
        return None


def tune_allocator(enabled: bool | None = None) -> dict[str, bool]:
    """Apply the malloc settings to this process (once); returns which ``mallopt`` calls took
    effect, ``{}`` when switched off or not on glibc. ``enabled=None`` reads the switch."""
    global _applied
    if _applied is not None:
        return _applied
    if not (tuning_enabled() if enabled is None else enabled):
        _applied = {}
        return _applied
    libc = _glibc()
    if libc is None:
        _applied = {}
        return _applied
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    _applied = {
        "mmap_threshold": bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)),
        "trim_threshold": bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)),
        "top_pad": bool(libc.mallopt(_M_TOP_PAD, TOP_PAD)),
    }
    return _applied


def allocator_status() -> dict:
    """What this process runs with: ``{"switch": bool, "applied": {...}}`` (for tests and the
    run's provenance)."""
    return {"switch": tuning_enabled(), "applied": dict(_applied or {})}
