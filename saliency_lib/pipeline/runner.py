"""The notebook runner: papermill over ``notebooks/*.ipynb`` with one profile's parameters.

``reproduce(profile)`` first validates every selected notebook's ``params/<profile>/<name>.yaml``
(keys, types, run grid, data availability: :func:`.jobs.prepare_jobs`) and fails before any
execution if one is wrong. With ``side_by_side`` it trains the runs with a fixed thread count
in parallel local processes (:mod:`.side_by_side`). It then runs the notebooks in order (sorted
by name, ``summary`` last), each into a staging folder ``outputs/<profile>/.<name>.partial/``
holding the executed ``<name>.ipynb``, its HTML rendering and whatever the notebook writes
(``output_dir`` is injected). On success the staging folder atomically replaces
``outputs/<profile>/<name>/``; on failure it becomes ``outputs/<profile>/<name>.FAILED/`` and
any earlier complete ``<name>/`` is left as it was.

A folder is complete iff its ``metrics.json`` has ``"status": "complete"`` (stamped by the
runner after the notebook finished) or ``"not run"`` (a notebook disabled in the profile with
``enabled: false``; the ``reason`` is recorded). ``.FAILED`` folders carry ``"status": "failed"``.

A ``reproduce`` holds an OS lock on ``outputs/<profile>/`` (file ``outputs/.<profile>.lock``, beside
the folder so the folder holds only outputs): a second one on the
same folder stops at once with one line naming the holder, before touching anything. Ctrl-C
discards the running notebook's staging folder and prints one line saying what was kept.

Training runs are shared between notebooks through the run store (``train_or_load``); the runner
does not touch it.

Progress: besides its bar over the notebooks, ``reproduce`` shows the lines a running notebook
prints that start with :data:`saliency_lib.progress.TAG` (the library's throttled progress lines:
epochs with their metrics and ETA, curve and ROAR loops), as they come, prefixed with the
notebook's name (papermill's ``stdout_file``/``stderr_file`` hooks). ``progress=False`` shows
neither; the executed notebooks are the same either way.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import papermill
from jupyter_client.manager import AsyncKernelManager
from nbconvert import HTMLExporter
from papermill.translators import translate_parameters
from tqdm import tqdm

from .._fileio import (
    FolderLock,
    atomic_write,
    atomic_write_json,
    os_error,
    remove_stale_temporaries,
)
from .._project import END_TO_END, SIDE_BY_SIDE, project_layout, run_store_root
from .._project import display_path as _rel
from .._project import output_root as default_output_root
from ..allocator import tuning_enabled
from ..progress import TAG
from ..runs import check_store
from ..seeding import numeric_platform
from .jobs import NotebookJob, list_notebooks, prepare_jobs, select_notebooks
from .params import ParameterError, cell_source, parse_assignments
from .side_by_side import train_side_by_side

KERNEL_NAME = "python3"
# The kernel's own log at ERROR: ipykernel warns at every start that its local TCP sockets are
# not encrypted (papermill's kernels listen on 127.0.0.1 only), one line per notebook in the
# user's terminal that says nothing about the run. Errors (and the cells' output) still show.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
#: The kernel process's own stderr, in the notebook's output folder (kept only if not empty).
KERNEL_LOG = "kernel.log"
NBVAL_PROFILE = "smoke"
NBVAL_PLATFORM = "platform.json"  # beside the stored notebooks: the machine that computed them
INJECTED_TAG = "injected-parameters"
COMPLETE_STATUSES = ("complete", "not run")


@dataclass
class NotebookResult:
    name: str
    status: str  # "complete" | "not run" | "failed"
    seconds: float
    output_dir: Path  # the final folder (``<name>/`` or ``<name>.FAILED/``)
    error: str | None = None
    stale: Path | None = None  # earlier complete outputs kept after a failure
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in COMPLETE_STATUSES


# --------------------------------------------------------------------------- files


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _write_json(obj: Any, path: Path) -> None:
    atomic_write_json(path, obj)  # per-process temporary, removed on failure


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _rmtree(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _replace_dir(src: Path, dst: Path) -> None:
    """Put folder ``src`` at ``dst``, replacing any old ``dst``: two renames, so ``dst`` is
    always either the old complete folder or the new one (briefly absent in between)."""
    old = dst.with_name(f".{dst.name}.old")
    _rmtree(old)
    if dst.exists():
        os.replace(dst, old)
    os.replace(src, dst)
    _rmtree(old)


def profile_lock(profile_dir: Path) -> FolderLock:
    """The lock ``reproduce`` holds on ``<root>/<profile>/`` (file ``<root>/.<profile>.lock``)."""
    return FolderLock(
        profile_dir.parent, f".{profile_dir.name}.lock", f"output folder {_rel(profile_dir)}"
    )


def _recover_killed_writes(profile_dir: Path) -> None:
    """Undo what a killed ``reproduce`` left half done (we hold the folder's lock): temporaries,
    and a ``.<name>.old`` folder whose ``<name>/`` was moved away but not yet replaced (it is
    put back). Staging folders stay until their notebook runs again (``list`` shows them)."""
    remove_stale_temporaries(profile_dir)
    for old in profile_dir.glob(".*.old"):
        dst = profile_dir / old.name[1 : -len(".old")]
        if dst.exists():
            _rmtree(old)
        else:
            os.replace(old, dst)


def resolve_output_root(output_root: str | Path | None = None) -> Path:
    """``output_root`` if given, else ``$SALIENCY_OUTPUT_ROOT``, else the project's outputs/."""
    return Path(output_root) if output_root else default_output_root()


@contextlib.contextmanager
def _env(**values: str | None) -> Iterator[None]:
    """Set environment variables (inherited by the kernels) for the duration of the block."""
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is not None:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _quiet_papermill() -> Iterator[None]:
    """Hide papermill's parameter warnings ("Passed unknown parameter", "Unable to parse line"):
    its parser trips on comments after values, and validate_params already checked every key."""
    log = logging.getLogger("papermill")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _kernel_manager(log_path: Path) -> type[AsyncKernelManager]:
    """nbclient's kernel manager with the kernel process's stderr written to ``log_path``
    instead of the user's terminal: ipykernel's own log (at ERROR), such as "KeyboardInterrupt
    caught in kernel" and the ZMQ errors of a kernel shut down after a Ctrl-C. The cells'
    outputs do not travel on that stream; they stay in the notebook."""

    class LoggedKernelManager(AsyncKernelManager):
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            with open(log_path, "ab") as log:  # the kernel keeps its own copy of the descriptor
                kw["stderr"] = log
                await super()._async_launch_kernel(kernel_cmd, **kw)

    return LoggedKernelManager


NOTEBOOK_CSS = "notebook.css"
_HEAD_STYLE = re.compile(r"<style[^>]*>.*?</style>\s*", re.S)


def render_html(notebook: Path, html: Path, shared_css: Path | None = None) -> None:
    """The executed notebook as HTML (nbconvert's lab template, inputs shown).

    With ``shared_css`` (a file in the profile folder, the parent of the notebook's output
    folder), the template's style sheets (about 260 kB, the same for every notebook) are written
    once to that file and the page links to ``../<its name>``; styles inside the body (tables of
    the outputs) stay in the page."""
    body, _ = HTMLExporter().from_filename(str(notebook))
    if shared_css is not None and "</head>" in body:
        head, rest = body.split("</head>", 1)
        css = "\n".join(m.group(0) for m in _HEAD_STYLE.finditer(head))
        if css:
            if not shared_css.is_file() or shared_css.read_text(encoding="utf-8") != css:
                atomic_write(shared_css, css)
            link = f'<link rel="stylesheet" href="../{shared_css.name}">\n'
            head = _HEAD_STYLE.sub("", head) + link
            body = head + "</head>" + rest
    html.write_text(body, encoding="utf-8")


def _update_timings(profile_dir: Path, entry: dict[str, Any], order: list[str]) -> None:
    """Put ``entry`` (``name``, ``seconds``, ``status``, ...) into ``timings.json``, stamped with
    the time it finished, replacing the entry of the same name; notebooks in run order."""
    path = profile_dir / "timings.json"
    old = _read_json(path)
    entries = {e["name"]: e for e in old if isinstance(e, dict) and "name" in e} if old else {}
    entries[entry["name"]] = {**entry, "finished": _now()}
    rank = {n: i for i, n in enumerate(order)}
    ordered = sorted(entries.values(), key=lambda e: (rank.get(e["name"], len(rank)), e["name"]))
    _write_json(ordered, path)


# --------------------------------------------------------------------------- running


def _error_text(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    if ename:  # papermill.PapermillExecutionError
        return f"{ename}: {exc.evalue} (cell [{exc.exec_count}])"
    return f"{type(exc).__name__}: {exc}"


class LineRelay:
    """A file-like sink for papermill's ``stdout_file``/``stderr_file``: splits the kernel's
    stream output into lines and passes each line that starts with ``tag`` (the library's
    progress lines, :mod:`saliency_lib.progress`) to ``say`` as ``"[<name>] <rest of line>"``.
    Other output (tables, warnings, tqdm redraws) stays in the executed notebook only."""

    def __init__(self, name: str, say: Callable[[str], None], tag: str = TAG):
        self.name = name
        self.say = say
        self.tag = tag
        self._partial = ""

    def write(self, text: str) -> int:
        lines = (self._partial + text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._emit(line)
        return len(text)

    def _emit(self, line: str) -> None:
        line = line.strip()
        if line.startswith(self.tag):
            self.say(f"[{self.name}] {line[len(self.tag) :].strip()}")

    def flush(self) -> None:  # papermill flushes after every output; lines end with "\n"
        pass

    def close(self) -> None:
        if self._partial:
            self._emit(self._partial)
            self._partial = ""


def run_notebook(
    job: NotebookJob,
    profile: str,
    profile_dir: Path,
    on_line: Callable[[str], None] | None = None,
) -> NotebookResult:
    """Run one validated notebook into ``profile_dir`` (staging -> ``<name>/`` or ``.FAILED``).
    ``on_line``: receives the notebook's progress lines while it runs (:class:`LineRelay`).
    Ctrl-C (also inside the kernel) removes the staging folder and propagates; so does a write
    error, as one :class:`~saliency_lib._fileio.StoreError`."""
    staging = profile_dir / f".{job.name}.partial"
    try:
        return _run_notebook(job, profile, profile_dir, staging, on_line)
    except BaseException as e:  # Ctrl-C, a full disk, ...: no half-written staging folder left
        with contextlib.suppress(OSError):
            _rmtree(staging)
        if isinstance(e, OSError):
            raise os_error(e, Path(getattr(e, "filename", None) or staging)) from None
        raise


def _run_notebook(
    job: NotebookJob,
    profile: str,
    profile_dir: Path,
    staging: Path,
    on_line: Callable[[str], None] | None = None,
) -> NotebookResult:
    name = job.name
    final = profile_dir / name
    failed = profile_dir / f"{name}.FAILED"
    _rmtree(staging)  # left by a killed run (we hold the folder's lock)
    staging.mkdir(parents=True)
    runner_info: dict[str, Any] = {
        "params_file": _rel(job.params_file),
        "parameters": job.parameters,
        "started": _now(),
    }
    start = time.perf_counter()

    if not job.enabled:
        runner_info["seconds"] = 0.0
        metrics = {
            "notebook": name,
            "profile": profile,
            "status": "not run",
            "reason": job.reason,
            "runner": runner_info,
        }
        _write_json(metrics, staging / "metrics.json")
        _replace_dir(staging, final)
        _rmtree(failed)
        return NotebookResult(name, "not run", 0.0, final, error=job.reason)

    executed = staging / f"{name}.ipynb"
    parameters = {**job.parameters, "profile": profile, "output_dir": str(staging.resolve())}
    error = None
    # one relay per stream: a partial line on one (a tqdm redraw) must not swallow the other's
    relays = [LineRelay(name, on_line) for _ in range(2)] if on_line is not None else [None] * 2
    kernel_log = staging / KERNEL_LOG
    try:
        with _quiet_papermill():
            papermill.execute_notebook(
                str(job.path),
                str(executed),
                parameters=parameters,
                cwd=str(job.path.parent),
                kernel_name=KERNEL_NAME,
                extra_arguments=KERNEL_ARGUMENTS,
                progress_bar=False,
                log_output=False,
                stdout_file=relays[0],
                stderr_file=relays[1],
                kernel_manager_class=_kernel_manager(kernel_log),
            )
        for relay in relays:
            if relay is not None:
                relay.close()
    except Exception as e:  # noqa: BLE001  (any failure is recorded; Ctrl-C propagates)
        if getattr(e, "ename", None) == "KeyboardInterrupt":  # Ctrl-C reached the kernel
            raise KeyboardInterrupt from None
        error = _error_text(e)
    finally:
        if kernel_log.is_file() and kernel_log.stat().st_size == 0:
            kernel_log.unlink()
    if executed.exists():
        try:
            render_html(executed, staging / f"{name}.html", staging.parent / NOTEBOOK_CSS)
        except Exception as e:  # noqa: BLE001
            error = error or f"HTML export failed: {_error_text(e)}"
    elif error is None:
        error = "papermill wrote no executed notebook"
    seconds = time.perf_counter() - start
    runner_info.update(seconds=round(seconds, 2), finished=_now(), executed=f"{name}.ipynb")

    metrics_path = staging / "metrics.json"
    metrics = _read_json(metrics_path) if metrics_path.exists() else {}
    if not isinstance(metrics, dict):
        error = error or "metrics.json written by the notebook is not a JSON object"
        metrics = {}
    metrics.setdefault("notebook", name)
    metrics.setdefault("profile", profile)
    metrics["runner"] = runner_info

    if error is None:
        metrics.setdefault("status", "complete")
        runner_info["html"] = f"{name}.html"
        _write_json(metrics, metrics_path)
        _replace_dir(staging, final)
        _rmtree(failed)
        return NotebookResult(name, metrics["status"], seconds, final)

    metrics["status"] = "failed"
    metrics["error"] = error
    _write_json(metrics, metrics_path)
    _replace_dir(staging, failed)
    stale = final if final.exists() else None
    return NotebookResult(name, "failed", seconds, failed, error=error, stale=stale)


def _say(msg: str = "", file=None) -> None:
    """One line above the runner's bar, flushed (shown at once when the output is a pipe)."""
    out = file or sys.stdout
    tqdm.write(msg, file=out)
    out.flush()


def reproduce(
    profile: str = "cpu",
    only: str | Sequence[str] | None = None,
    seeds: int | None = None,
    output_root: str | Path | None = None,
    progress: bool = True,
    fail_fast: bool = False,
    *,
    notebooks_dir: str | Path | None = None,
    params_dir: str | Path | None = None,
    check_data: bool = True,
    sets: dict[str, Any] | None = None,
    side_by_side: bool = False,
) -> list[NotebookResult]:
    """Run the notebooks of ``profile`` with papermill; return one result per notebook run.

    ``only``: glob or substring pattern(s) selecting notebooks; ``seeds``: overrides the
    ``seeds`` parameter where a notebook has one; ``output_root``: instead of
    ``$SALIENCY_OUTPUT_ROOT`` or outputs/ (also passed to the kernels, so ``summary`` reads the
    same tree); ``fail_fast``: stop after the first failure instead of continuing; ``sets``:
    ``--set`` values (:func:`.jobs.prepare_jobs`); ``side_by_side``: first train the runs with a
    thread count in parallel local processes (:func:`.side_by_side.train_side_by_side`; the
    same numbers as trained in the notebooks; the CLI's default).
    All parameters are validated before anything runs (:func:`prepare_jobs`). Per-notebook
    timings are printed and kept in ``<output_root>/<profile>/timings.json``.
    """
    jobs = prepare_jobs(
        profile,
        only,
        seeds,
        notebooks_dir=notebooks_dir,
        params_dir=params_dir,
        check_data=check_data,
        sets=sets,
    )
    check_store(run_store_root())
    if seeds is not None and not any("seeds" in j.parameters for j in jobs):
        _say(f"note: --seeds {seeds} ignored: no selected notebook has a 'seeds' parameter")
    root = resolve_output_root(output_root)
    profile_dir = root / profile
    lock = profile_lock(profile_dir)
    lock.acquire(wait=False)  # LockBusy: another reproduce writes there; nothing touched yet
    try:
        profile_dir.mkdir(parents=True, exist_ok=True)
        _recover_killed_writes(profile_dir)
    except OSError as e:
        lock.release()
        raise os_error(e, profile_dir, "create") from None
    order = list_notebooks(notebooks_dir)
    results: list[NotebookResult] = []
    env = {"SALIENCY_OUTPUT_ROOT": str(root.resolve()) if output_root else None}
    whole = only is None and seeds is None and not sets  # the profile as its files say
    start = {"wall": time.perf_counter(), "at": _now(), "store_empty": _store_is_empty()}
    bar = tqdm(jobs, desc=f"reproduce[{profile}]", unit="nb", disable=not progress, file=sys.stderr)
    job = None
    stage: dict[str, Any] | None = None
    training = False  # inside the side-by-side stage (what an interruption there keeps differs)
    try:
        with _env(**env):
            if side_by_side:
                training = True
                stage = _train_side_by_side(jobs, root, profile, profile_dir, order)
                training = False
            for job in bar:
                bar.set_postfix_str(job.name)
                on_line = _say if progress else None
                result = run_notebook(job, profile, profile_dir, on_line=on_line)
                results.append(result)
                timing = {"seconds": round(result.seconds, 2), "status": result.status}
                _update_timings(profile_dir, {"name": result.name, **timing}, order)
                _say(_result_line(result))
                if fail_fast and result.status == "failed":
                    break
        if whole and len(results) == len(jobs):
            _write_end_to_end(profile_dir, profile, results, start, stage)
    except KeyboardInterrupt:
        if training:
            raise Interrupted(
                "interrupted while training runs side by side before the notebooks: finished "
                "runs are kept in the run store, unfinished ones resume from their last epoch; "
                f"no notebook output in {_rel(profile_dir)} was touched"
            ) from None
        raise Interrupted(_interrupted_line(results, job, profile_dir)) from None
    finally:
        bar.close()
        lock.release()
    _say(_summary(results, jobs, profile_dir))
    return results


def _store_is_empty() -> bool:
    """True when the run store holds no run yet (every run will be trained, none loaded)."""
    store = run_store_root()
    return not store.is_dir() or not any(p.is_dir() for p in store.iterdir())


def _train_side_by_side(
    jobs: list[NotebookJob],
    root: Path,
    profile: str,
    profile_dir: Path,
    order: list[str],
) -> dict[str, Any] | None:
    """The side-by-side training stage (:mod:`.side_by_side`), timed in ``timings.json`` under
    :data:`SIDE_BY_SIDE`."""
    stage = train_side_by_side(
        jobs, run_store_root().resolve(), root.resolve() / "submitit", _say, profile=profile
    )
    if stage is not None:
        status = "complete" if not stage["failed"] else f"{len(stage['failed'])} failed"
        entry = {"name": SIDE_BY_SIDE, "seconds": stage["seconds"], "status": status,
                 **{k: stage[k] for k in ("runs", "processes")}}  # fmt: skip
        _update_timings(profile_dir, entry, order)
    return stage


def _write_end_to_end(
    profile_dir: Path, profile: str, results: list, start: dict, stage: dict | None = None
) -> None:
    """Record the wall time of one ``reproduce`` of every notebook of the profile (its own
    parameters), what the README and REPORT quote as the profile's time."""
    record = {
        "profile": profile,
        "seconds": round(time.perf_counter() - start["wall"], 1),
        "started": start["at"],
        "finished": _now(),
        "notebooks": len(results),
        "statuses": {r.name: r.status for r in results},
        "run_store_empty_at_start": start["store_empty"],
        "cpus": os.cpu_count(),
        "allocator_tuning": tuning_enabled(),
        "side_by_side": stage,  # runs trained in parallel before the notebooks (or None)
    }
    _write_json(record, profile_dir / END_TO_END)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`reproduce`; the message says what was kept."""


def _interrupted_line(
    results: list[NotebookResult], job: NotebookJob | None, profile_dir: Path
) -> str:
    done = [r.name for r in results]
    kept = f"kept {len(done)} notebook(s) finished in this run ({', '.join(done) or 'none'})"
    if job is None or job.name in done:
        return f"interrupted; {kept} in {_rel(profile_dir)}"
    earlier = (profile_dir / job.name).is_dir()
    return (
        f"interrupted during {job.name}: its partial outputs were discarded"
        f"{' (its earlier outputs are untouched)' if earlier else ''}; {kept} in "
        f"{_rel(profile_dir)}"
    )


def _result_line(r: NotebookResult) -> str:
    line = f"{r.name:<32} {r.status:<9} {r.seconds:8.1f}s  {_rel(r.output_dir)}"
    if r.status == "not run":
        line += f"  ({r.error})"
    elif r.status == "failed":
        line += f"\n    {r.error}"
        if r.stale:
            line += f"\n    earlier outputs in {_rel(r.stale)} are from a previous run"
    return line


def _summary(results: list[NotebookResult], jobs: list[NotebookJob], profile_dir: Path) -> str:
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    parts = [f"{n} {s}" for s, n in counts.items()]
    skipped = len(jobs) - len(results)
    if skipped:
        parts.append(f"{skipped} skipped (--fail-fast)")
    total = sum(r.seconds for r in results)
    text = f"{', '.join(parts) or 'nothing run'} in {total:.1f}s; outputs in {_rel(profile_dir)}"
    failed = [r for r in results if r.status == "failed"]
    if failed:
        text += "\nFAILED: " + ", ".join(f"{r.name} (see {_rel(r.output_dir)})" for r in failed)
    return text


# --------------------------------------------------------------------------- status


def output_status(name: str, profile: str, output_root: str | Path | None = None) -> dict:
    """What ``outputs/<profile>/`` holds for notebook ``name``.

    ``{"status": "complete" | "not run" | "failed" | "incomplete" | None, "seconds": float|None,
    "reason": str|None, "failed": bool, "partial": bool, "running": bool}``: ``status`` is that
    of ``<name>/metrics.json`` (``"incomplete"`` when the folder exists without a complete status,
    ``None`` when there is no folder); ``failed`` says a ``<name>.FAILED/`` from a later failed
    run exists; ``partial`` that a staging folder ``.<name>.partial/`` exists, ``running`` that a
    ``reproduce`` holds the folder now (else the staging folder is a killed run's leftover).
    """
    root = resolve_output_root(output_root) / profile
    metrics = _read_json(root / name / "metrics.json") if (root / name).is_dir() else None
    status = None
    if (root / name).is_dir():
        status = metrics.get("status") if isinstance(metrics, dict) else None
        if status not in COMPLETE_STATUSES:
            status = "incomplete"
    seconds = None
    if isinstance(metrics, dict):
        seconds = (metrics.get("runner") or {}).get("seconds")
    return {
        "status": status,
        "seconds": seconds,
        "reason": metrics.get("reason") if isinstance(metrics, dict) else None,
        "failed": (root / f"{name}.FAILED").is_dir(),
        "partial": (root / f".{name}.partial").is_dir(),
        "running": profile_lock(root).held_elsewhere(),
    }


# --------------------------------------------------------------------------- nbval copies


def injected_parameters(nb: dict[str, Any]) -> dict[str, Any] | None:
    """The values of papermill's injected-parameters cell (``None`` if there is none)."""
    for c in nb.get("cells", []):
        if INJECTED_TAG in c.get("metadata", {}).get("tags", []):
            return parse_assignments(cell_source(c), "injected-parameters cell")
    return None


def store_for_nbval(executed: str | Path, dest: str | Path) -> Path:
    """Copy an executed smoke notebook to ``dest`` for nbval: ``output_dir = None`` in the
    injected cell (so a test run writes under ``$SALIENCY_OUTPUT_ROOT``), outputs kept without
    their images (:func:`strip_images`), and the volatile papermill metadata (paths, timestamps,
    durations) dropped."""
    nb = nbformat.read(str(executed), as_version=4)
    params = injected_parameters(nb)
    if params is None:
        raise ValueError(f"{executed} has no papermill injected-parameters cell")
    params["output_dir"] = None
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        if INJECTED_TAG in cell.metadata.get("tags", []):
            cell.source = translate_parameters(KERNEL_NAME, "python", params, "Parameters").strip()
    nb.metadata["papermill"] = {"parameters": params}
    nb.metadata.pop("widgets", None)  # ipywidgets state of progress bars: large, not checked
    strip_images(nb)
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    text = nbformat.writes(nb)
    atomic_write(dest, text if text.endswith("\n") else text + "\n")
    return dest


def strip_images(nb) -> None:
    """Drop the image payloads (``image/*``, PDF) of every output, in place: nbval compares text
    only, and the figures are in ``outputs/``. An output left with no data is removed."""
    for cell in nb.get("cells", []):
        kept = []
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data is not None:
                for mime in [m for m in data if m.startswith("image/") or m == "application/pdf"]:
                    del data[mime]
                    out.get("metadata", {}).pop(mime, None)
                if not data:
                    continue
            kept.append(out)
        if "outputs" in cell:
            cell["outputs"] = kept


def refresh_nbval(
    only: str | Sequence[str] | None = None,
    run: bool = True,
    dest: str | Path | None = None,
    output_root: str | Path | None = None,
    progress: bool = True,
    *,
    notebooks_dir: str | Path | None = None,
    params_dir: str | Path | None = None,
) -> tuple[list[Path], list[NotebookResult]]:
    """Rewrite the stored smoke notebooks ``<dest>/<name>.ipynb`` that nbval checks (``dest``:
    default the project's ``nbval`` folder, :mod:`saliency_lib._project`).

    Runs the ``smoke`` profile (``run=False``: reuse the executed notebooks already in
    ``outputs/smoke/``), then stores each complete one with :func:`store_for_nbval`. Stored
    copies of notebooks that are disabled in ``smoke`` or no longer exist are removed. Returns
    ``(written paths, run results)``; a failed notebook keeps its old stored copy.
    """
    if dest is None:
        dest = project_layout().nbval
        if dest is None:
            raise ParameterError(
                "no folder for the stored nbval notebooks: pass dest (--dest) or declare "
                '`nbval = "<folder>"` under [tool.saliency-lib] in the project\'s pyproject.toml'
            )
    dest_dir = Path(dest)
    names = select_notebooks(only, notebooks_dir)
    results: list[NotebookResult] = []
    if run:
        results = reproduce(
            NBVAL_PROFILE,
            only,
            output_root=output_root,
            progress=progress,
            notebooks_dir=notebooks_dir,
            params_dir=params_dir,
        )
    profile_dir = resolve_output_root(output_root) / NBVAL_PROFILE
    written: list[Path] = []
    failed = {r.name for r in results if r.status == "failed"}
    for name in names:
        stored = dest_dir / f"{name}.ipynb"
        status = output_status(name, NBVAL_PROFILE, output_root)["status"]
        if name in failed:
            _say(f"{name}: smoke run failed; stored copy not updated")
        elif status == "not run":
            if stored.exists():
                stored.unlink()
            _say(f"{name}: disabled in the smoke profile; no stored copy (nbval skips it)")
        elif status == "complete" and (profile_dir / name / f"{name}.ipynb").is_file():
            written.append(store_for_nbval(profile_dir / name / f"{name}.ipynb", stored))
            _say(f"{name}: stored {_rel(stored)}")
        else:
            raise ParameterError(
                f"{name}: no complete smoke run in {_rel(profile_dir / name)}; run without --no-run"
            )
    if written and run:
        # the machine the stored outputs were computed on: nbval compares them only on one
        # that computes the same numbers (the nbval harness compares against this record)
        atomic_write(dest_dir / NBVAL_PLATFORM, json.dumps(numeric_platform(), indent=1) + "\n")
    if only is None:
        existing = set(list_notebooks(notebooks_dir))
        for old in dest_dir.glob("*.ipynb"):
            if old.stem not in existing:
                old.unlink()
                _say(f"removed {_rel(old)} (no such notebook)")
    return written, results
