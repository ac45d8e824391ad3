"""Determinism and device helpers (no hidden global state beyond what torch itself keeps)."""

from __future__ import annotations

import os
import random
import warnings

import numpy as np
import torch


def seed_everything(seed: int, deterministic: bool = True) -> torch.Generator:
    """Seed Python, NumPy and torch; on CPU this makes a run bit-for-bit repeatable.

    Returns a fresh ``torch.Generator`` seeded with ``seed`` for callers that want an explicit
    generator (shuffling, masking fills) instead of the global one.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if deterministic and torch.cuda.is_available():  # CPU kernels are deterministic already
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen


#: CPU features whose presence changes which oneDNN / ATen kernels run, and so the float
#: rounding of a CPU run (the same seed gives the same numbers only on the same kind of CPU).
NUMERIC_CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile",
                     "amx_bf16", "amx_int8")  # fmt: skip


def numeric_platform() -> dict:
    """What a CPU run's numbers depend on besides its parameters and seed: the CPU model and
    its kernel-selecting features (Linux ``/proc/cpuinfo``; empty elsewhere), torch's version,
    its CPU capability and its thread count. Two machines with equal records compute the same
    numbers for the same run; runs on machines that differ can differ in the last bits, and
    training amplifies that over epochs (docs/performance.md)."""
    model, flags = "", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            for line in info:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and not model:
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return {
        "cpu": model,
        "cpu_flags": [f for f in NUMERIC_CPU_FLAGS if f in flags],
        "torch": torch.__version__,
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch.get_num_threads(),
    }


def get_device(device: str | torch.device | None = None) -> torch.device:
    """``None``/``"auto"`` -> CUDA when present, else CPU; otherwise the device asked for."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def device_problem(device: str) -> str | None:
    """Why ``device`` cannot train on this machine (``None``: it can): not a device name, or a
    CUDA / MPS device this machine does not have. ``"auto"`` always can."""
    if device == "auto":
        return None
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        return f"{device!r} is not a device; use auto, cpu, cuda or cuda:<index>"
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if (dev.index or 0) >= count:
            return (
                f"{device!r} does not exist on this machine ({count} CUDA device(s)); use auto "
                "(a GPU when there is one, else the CPU) or cpu"
            )
    if dev.type == "mps" and not torch.backends.mps.is_available():
        return f"{device!r} does not exist on this machine; use auto or cpu"
    return None


def get_rng_state() -> dict:
    """Every random generator a run draws from: torch's CPU generator, each CUDA device's (when
    CUDA is in use in this process), NumPy's and Python's. Tensors and plain containers only, so
    a checkpoint holding it loads with ``weights_only=True``."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
        "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss],
        "python": [version, torch.tensor(internal, dtype=torch.int64), gauss_next],
    }


def set_rng_state(state: dict | torch.Tensor) -> None:
    """Restore what :func:`get_rng_state` returned (a bare tensor: torch's CPU state, as older
    checkpoints stored it). CUDA states are restored on the devices present (applied when CUDA
    is first used); a run checkpointed with CUDA and resumed without it cannot repeat its
    numbers and warns."""
    if isinstance(state, torch.Tensor):
        torch.set_rng_state(state)
        return
    torch.set_rng_state(state["torch"])
    cuda = list(state.get("cuda") or [])
    have = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if cuda and have:
        for i, s in enumerate(cuda[:have]):
            torch.cuda.set_rng_state(s, i)
    if len(cuda) > have:
        warnings.warn(
            f"checkpoint saved with {len(cuda)} CUDA device(s), resumed with {have}: the resumed "
            "run's random numbers differ from an uninterrupted run's",
            stacklevel=2,
        )
    if state.get("numpy") is not None:
        kind, keys, pos, has_gauss, gauss = state["numpy"]
        np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    if state.get("python") is not None:
        version, internal, gauss_next = state["python"]
        random.setstate((version, tuple(int(v) for v in internal.tolist()), gauss_next))
