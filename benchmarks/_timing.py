"""Wall time and call counts of wrapped functions, for the benchmark scripts that split a run's
time into parts (``train_run.py``, ``eraser_metrics.py``)."""

from __future__ import annotations

import time
from collections import defaultdict

#: Seconds and calls per part name, summed over every call of the wrapped functions.
SECONDS: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)


def timed(name: str, fn):
    """``fn`` with each call's wall time added to ``SECONDS[name]`` and counted in ``CALLS``."""

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            SECONDS[name] += time.perf_counter() - start
            CALLS[name] += 1

    return wrapper


def reset() -> None:
    SECONDS.clear()
    CALLS.clear()
