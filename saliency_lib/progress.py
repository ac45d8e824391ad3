"""Live progress of long loops: throttled lines and tqdm bars, both off with ``progress=False``.

A bar redraws itself with carriage returns (or, in Jupyter, is a widget), which a notebook run by
papermill does not pass on. So every long loop of the library also prints *lines*: at most one
per ``interval`` seconds (default :data:`INTERVAL`), each starting with :data:`TAG`, naming the
task and saying how far it is, the time elapsed and the estimated time left. ``reproduce``
(:mod:`saliency_lib.pipeline.runner`) shows the kernel's lines that start with :data:`TAG` on the
terminal, prefixed with the notebook's name. Functions take ``progress`` as an argument; there is
no global switch.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TypeVar

from tqdm import tqdm
from tqdm.auto import tqdm as auto_tqdm

TAG = "[progress]"
INTERVAL = 20.0  # seconds between two lines of one task (reproduce promises one per 30 s)

T = TypeVar("T")


def format_seconds(seconds: float) -> str:
    """``h:mm:ss`` (``m:ss`` under an hour)."""
    s = max(int(round(seconds)), 0)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class ProgressLog:
    """Throttled progress lines of one task of ``total`` units (``None``: unknown).

    :meth:`advance` counts finished units; :meth:`due` says whether ``interval`` seconds have
    passed since the last line; :meth:`say` prints ``"[progress] <what>: <text> | <elapsed>
    elapsed, ETA <left>"`` (the ETA extrapolates the time per finished unit) to ``file``
    (default: ``sys.stdout`` at the time of the call). Disabled, it prints nothing.
    """

    def __init__(
        self,
        what: str,
        total: int | None = None,
        *,
        enabled: bool = True,
        interval: float = INTERVAL,
        file: IO[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        if interval < 0:
            raise ValueError(f"interval must be >= 0 seconds, got {interval}")
        self.what = what
        self.total = total
        self.enabled = enabled
        self.interval = interval
        self.file = file
        self.clock = clock
        self.done = 0
        self.start = self.last = clock()

    def advance(self, n: int = 1) -> None:
        self.done += n

    def elapsed(self) -> float:
        return self.clock() - self.start

    def eta(self) -> float | None:
        """Seconds left at the rate so far (``None`` before the first unit or without a total)."""
        if not self.total or self.done <= 0:
            return None
        return self.elapsed() * max(self.total - self.done, 0) / self.done

    def due(self) -> bool:
        return self.enabled and self.clock() - self.last >= self.interval

    def say(self, text: str) -> None:
        """Print one line now (if enabled) and restart the interval."""
        if not self.enabled:
            return
        eta = self.eta()
        timing = f"{format_seconds(self.elapsed())} elapsed"
        if eta is not None:
            timing += f", ETA {format_seconds(eta)}"
        write_line(f"{TAG} {self.what}: {text} | {timing}", self.file)
        self.last = self.clock()


def write_line(line: str, file: IO[str] | None = None) -> None:
    """One line to ``file`` (default ``sys.stdout``), flushed, above any terminal tqdm bar."""
    out = file if file is not None else sys.stdout
    tqdm.write(line, file=out)
    out.flush()


def track(
    items: Iterable[T],
    what: str,
    *,
    total: int | None = None,
    progress: bool = True,
    unit: str = "it",
    interval: float = INTERVAL,
    file: IO[str] | None = None,
    leave: bool = False,
) -> Iterator[T]:
    """Iterate ``items`` with a tqdm bar (``tqdm.auto``: a widget in Jupyter) and a throttled
    line (:class:`ProgressLog`) after an item when ``interval`` seconds have passed since the
    last one: ``"<what>: <done>/<total> <unit> | elapsed, ETA"``. ``progress=False``: neither."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    log = ProgressLog(what, total, enabled=progress, interval=interval, file=file)
    of = f"/{total}" if total is not None else ""
    bar = auto_tqdm(
        total=total, desc=what, unit=unit, disable=not progress, leave=leave, mininterval=1.0,
        delay=2.0,  # short loops leave no bar (nor an empty widget in a notebook)
    )  # fmt: skip
    with bar:
        for item in items:
            yield item
            log.advance()
            bar.update(1)
            if log.due():
                log.say(f"{log.done}{of} {unit}")
