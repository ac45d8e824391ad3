"""Executors: training a plan's missing runs as jobs, in local processes, on a Slurm cluster, or in
this process (debug), through `submitit <https://github.com/facebookincubator/submitit>`_.

A profile's runs are listed from its params files without running a notebook (:mod:`.plan`);
:func:`train` (the ``train`` command) trains the missing ones as independent jobs, and the
notebooks then find every run complete in the store and train nothing::

    python -m saliency_lib plan  --profile paper
    python -m saliency_lib train --profile paper --executor slurm --partition gpu --gpus-per-job 1
    python -m saliency_lib reproduce --profile paper

A job calls the same :func:`saliency_lib.runs.train_or_load` the notebooks use. It is a
``submitit.helpers.Checkpointable``: when the job is preempted or about to time out, submitit
calls its ``checkpoint`` hook, which requeues the same call; the requeued call resumes from the
run's last checkpoint (written after every epoch), so no finished epoch is lost and the results
are those of an uninterrupted run.

An HLGM continuation baseline (``continue_from`` an HLGM run) starts once its HLGM run is
complete: local processes start it as soon as that run completes, Slurm and debug in a second
wave (:func:`train_runs`, also what ``reproduce``'s side-by-side stage calls).
"""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import re
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import submitit
import torch

from .._project import display_path as _rel
from .._project import output_root
from ..config import RunConfig
from ..data import check_available, get_dataset
from ..runs import check_store, checkpointed_epoch, is_complete, train_or_load
from .params import ParameterError
from .plan import PlannedRun, plan, plural

EXECUTORS = ("local", "slurm", "debug")
#: Default job time limits (minutes). A job that reaches its limit is requeued and resumes from
#: its last epoch, so the Slurm limit only needs to fit the partition, not the run.
DEFAULT_TIMEOUT_MIN = {"slurm": 4 * 60, "local": 7 * 24 * 60, "debug": 7 * 24 * 60}
#: How many times a job may time out (and be requeued) before submitit gives up on it.
DEFAULT_MAX_REQUEUES = 30
#: How the runs packed into one job (``ClusterOptions.runs_per_job``) are trained: one after the
#: other, or each in its own process at the same time on the job's GPU(s).
PACK_MODES = ("processes", "sequential")
#: Models small enough to share one GPU with other runs: only runs of these are packed.
SHAREABLE_MODELS = ("cnn2",)


# --------------------------------------------------------------------------- the job


class TrainJob(submitit.helpers.Checkpointable):
    """The job callable: ``TrainJob()(config_dict, store)`` trains (or loads) one run through
    :func:`saliency_lib.runs.train_or_load`, the function the notebooks use, and returns a small
    summary dict (never the model).

    ``config_dict`` is ``RunConfig.to_dict()`` (plain data, as submitit pickles the call). A
    config with ``device="auto"`` gets CUDA when the job sees a GPU, else the CPU (the device is
    not part of the run id). On preemption or timeout submitit calls :meth:`checkpoint`, which
    requeues the same call; it resumes from the run's ``last.pt``.

    ``require_gpu``: fail instead of training on the CPU when no GPU is visible.
    ``visible_devices``: ``CUDA_VISIBLE_DEVICES`` for this job (local executor: one GPU per
    slot). ``threads``: torch CPU threads. ``catch_errors``: return ``{"status": "failed"}``
    instead of raising (the debug executor opens pdb on an exception).
    """

    def __init__(
        self,
        require_gpu: bool = False,
        visible_devices: str | None = None,
        threads: int | None = None,
        catch_errors: bool = False,
    ):
        self.require_gpu = require_gpu
        self.visible_devices = visible_devices
        self.threads = threads
        self.catch_errors = catch_errors

    def __call__(self, config_dict: dict[str, Any], store: str) -> dict[str, Any]:
        try:
            return self._train(config_dict, store)
        except Exception as e:
            if not self.catch_errors:
                raise
            try:
                run_id = RunConfig.from_dict(dict(config_dict)).run_id
            except Exception:  # noqa: BLE001  (the config itself is what failed)
                run_id = None
            return {
                "run_id": run_id,
                "status": "failed",
                "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc(),
            }

    def _train(self, config_dict: dict[str, Any], store: str) -> dict[str, Any]:
        if self.visible_devices is not None:  # before torch initialises CUDA (on first use)
            os.environ["CUDA_VISIBLE_DEVICES"] = self.visible_devices
        if self.threads:
            torch.set_num_threads(self.threads)
        config = RunConfig.from_dict(dict(config_dict))
        if config.device == "auto":
            config = config.replace(device="cuda" if torch.cuda.is_available() else "cpu")
        if self.require_gpu and not config.device.startswith("cuda"):
            raise RuntimeError(
                f"run {config.run_id}: a GPU was requested but this job sees none "
                f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r}, "
                f"device {config.device!r}); not training on the CPU"
            )
        resumed = 0 if is_complete(config, store) else checkpointed_epoch(config, store)
        what = f"resuming after epoch {resumed}" if resumed else "starting"
        print(
            f"{config.run_id}: {what} of {config.epochs} on {config.device} (store {store})",
            flush=True,
        )
        start = time.perf_counter()
        run = train_or_load(config, store=store, progress=False)
        seconds = time.perf_counter() - start
        print(f"{config.run_id}: complete, {len(run.history)} epochs", flush=True)
        return {
            "run_id": config.run_id,
            "status": "complete",
            "epochs": len(run.history),
            "resumed_after_epoch": resumed,
            "device": config.device,
            "seconds": round(seconds, 2),
        }

    def checkpoint(
        self, config_dict: dict[str, Any], store: str
    ) -> submitit.helpers.DelayedSubmission:
        """Preempted or timed out: requeue the same call; it resumes from ``last.pt``."""
        return submitit.helpers.DelayedSubmission(self, config_dict, store)


def _leave_signals() -> None:
    """A packed job's child process ignores SIGTERM and the preemption/timeout signal: Slurm
    sends them to every process of the job (``scontrol requeue``, ``scancel``, ``--signal``),
    and the job's own process handles them (submitit ignores SIGTERM; checkpoints and requeues
    on USR2), after which Slurm ends the whole job. A child dying of them instead made its run
    "failed" while the job was being requeued."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    name = os.environ.get("SUBMITIT_PREEMPT_SIGNAL", "USR2")
    signal.signal(getattr(signal, f"SIG{name}", signal.SIGUSR2), signal.SIG_IGN)


def _train_one(job: TrainJob, config_dict: dict[str, Any], store: str) -> dict[str, Any]:
    """A child process's work in a packed job (module level: picklable for ``spawn``)."""
    return job(config_dict, store)


class PackedTrainJob(submitit.helpers.Checkpointable):
    """Several runs in one job: ``PackedTrainJob(...)(config_dicts, store)`` trains each
    through :class:`TrainJob` and returns their summaries in order (a run that fails gives
    ``{"status": "failed", ...}`` without stopping the others).

    ``mode="processes"``: every run in its own process (``spawn``), all at once on the job's
    GPU(s): small CNN runs leave most of a GPU idle, so several at a time raise throughput. Each
    process has its own random generators, so a run's numbers are those it has alone (threads
    in one process would share torch's global generator and mix their draws). ``"sequential"``:
    one after the other in the job's process (fewer, longer jobs; no concurrency). On
    preemption or timeout the same call is requeued: finished runs are loaded, unfinished ones
    resume from their ``last.pt``.
    """

    def __init__(self, mode: str = "processes", **job_options):
        if mode not in PACK_MODES:
            raise ParameterError(f"pack mode must be one of {', '.join(PACK_MODES)}, got {mode!r}")
        self.mode = mode
        self.job_options = job_options

    def __call__(self, config_dicts: list[dict[str, Any]], store: str) -> list[dict[str, Any]]:
        job = TrainJob(**{**self.job_options, "catch_errors": True})
        if self.mode == "sequential" or len(config_dicts) == 1:
            return [job(c, store) for c in config_dicts]
        ctx = multiprocessing.get_context("spawn")  # no CUDA state inherited from the parent
        pool = ProcessPoolExecutor(len(config_dicts), mp_context=ctx, initializer=_leave_signals)
        with pool:
            futures = [pool.submit(_train_one, job, c, store) for c in config_dicts]
            return [_future_result(f, c) for f, c in zip(futures, config_dicts, strict=True)]

    def checkpoint(
        self, config_dicts: list[dict[str, Any]], store: str
    ) -> submitit.helpers.DelayedSubmission:
        """Preempted or timed out: requeue the same call; every run resumes or is loaded."""
        return submitit.helpers.DelayedSubmission(self, config_dicts, store)


def _future_result(future: Any, config_dict: dict[str, Any]) -> dict[str, Any]:
    try:
        return future.result()
    except Exception as e:  # noqa: BLE001  (the child process died: report, keep the others)
        return {
            "run_id": RunConfig.from_dict(dict(config_dict)).run_id,
            "status": "failed",
            "error": f"{type(e).__name__}: {e}",
        }


def pack_runs(
    runs: Sequence[PlannedRun], runs_per_job: int, shareable: Sequence[str] = SHAREABLE_MODELS
) -> list[list[PlannedRun]]:
    """The jobs of a wave: runs of a ``shareable`` model in groups of up to ``runs_per_job``
    (in plan order), every other run alone in its job. Groups never mix devices
    (``RunConfig.device``), so a packed job's runs all go where the job goes."""
    if isinstance(runs_per_job, bool) or not isinstance(runs_per_job, int) or runs_per_job < 1:
        raise ParameterError(f"runs_per_job must be an int >= 1, got {runs_per_job!r}")
    jobs: list[list[PlannedRun]] = []
    open_packs: dict[str, list[PlannedRun]] = {}
    for run in runs:
        if runs_per_job == 1 or run.config.model not in shareable:
            jobs.append([run])
            continue
        key = run.config.device
        pack = open_packs.get(key)
        if pack is None or len(pack) == runs_per_job:
            pack = open_packs[key] = []
            jobs.append(pack)
        pack.append(run)
    return jobs


# --------------------------------------------------------------------------- train


@dataclass
class TrainResult:
    """What became of one missing run."""

    run_id: str
    status: str  # "complete" | "failed" | "skipped"
    job_id: str | None = None
    error: str | None = None
    log: Path | None = None  # the job's stdout file
    info: dict[str, Any] = field(default_factory=dict)  # the job's return value

    @property
    def ok(self) -> bool:
        return self.status == "complete"


@dataclass(frozen=True)
class ClusterOptions:
    """How :func:`train` runs its jobs; checked on construction (a :class:`ParameterError`
    naming the option).

    ``executor``: ``"local"`` (one process per run, at most ``jobs`` at a time; with
    ``gpus_per_job`` > 0 the jobs take the visible GPUs in turn), ``"slurm"`` (one job array per
    wave: ``partition``, ``gpus_per_job`` GPUs per job, at most ``max_parallel`` jobs running,
    ``timeout_min`` per job, ``cpus_per_job``, other ``slurm_params`` such as
    ``["account=proj"]``) or ``"debug"`` (in this process, one after the other). A job that times
    out or is preempted is requeued (at most ``max_requeues`` timeouts) and resumes from its
    last epoch. ``poll_seconds``: how often finished jobs are looked for.

    ``runs_per_job`` > 1 packs up to that many runs of a small model (:data:`SHAREABLE_MODELS`)
    into one job, sharing its GPU (:func:`pack_runs`, :class:`PackedTrainJob`); ``pack``:
    ``"processes"`` (at the same time, default) or ``"sequential"``.
    """

    executor: str = "local"
    jobs: int = 2
    partition: str | None = None
    gpus_per_job: int = 0
    max_parallel: int | None = None
    timeout_min: int | None = None
    cpus_per_job: int | None = None
    slurm_params: tuple[str, ...] | dict[str, Any] = ()
    max_requeues: int = DEFAULT_MAX_REQUEUES
    poll_seconds: float = 2.0
    runs_per_job: int = 1
    pack: str = "processes"

    def __post_init__(self):
        if self.executor not in EXECUTORS:
            raise ParameterError(
                f"executor must be one of {', '.join(EXECUTORS)}, got {self.executor!r}"
            )
        _check_int("jobs", self.jobs, 1)
        _check_int("gpus_per_job", self.gpus_per_job, 0)
        _check_int("max_parallel", self.max_parallel, 1, optional=True)
        _check_int("timeout_min", self.timeout_min, 1, optional=True)
        _check_int("cpus_per_job", self.cpus_per_job, 1, optional=True)
        _check_int("max_requeues", self.max_requeues, 0)
        _check_int("runs_per_job", self.runs_per_job, 1)
        if self.pack not in PACK_MODES:
            raise ParameterError(f"pack must be one of {', '.join(PACK_MODES)}, got {self.pack!r}")
        if self.slurm_params is None:
            object.__setattr__(self, "slurm_params", ())
        elif not isinstance(self.slurm_params, dict):
            object.__setattr__(self, "slurm_params", tuple(self.slurm_params))
        _parse_slurm_params(self.slurm_params)  # KEY=VALUE form checked now
        if self.executor != "slurm":
            given = {
                "partition": self.partition,
                "max_parallel": self.max_parallel,
                "cpus_per_job": self.cpus_per_job,
                "slurm_params": self.slurm_params or None,
            }
            extra = [k for k, v in given.items() if v is not None]
            if extra:
                raise ParameterError(
                    f"{', '.join(extra)} only apply to executor 'slurm' "
                    f"(got executor {self.executor!r})"
                )


def _check_int(name: str, value: Any, minimum: int, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ParameterError(f"{name} must be an int >= {minimum}, got {value!r}")


def _parse_slurm_params(items: Mapping[str, Any] | Sequence[str] | None) -> dict[str, Any]:
    """``["account=abc", "mem_gb=32"]`` or a mapping -> ``{"slurm_account": "abc", ...}``."""
    if not items:
        return {}
    if isinstance(items, Mapping):
        pairs = list(items.items())
    else:
        pairs = []
        for item in items:
            key, sep, value = str(item).partition("=")
            if not sep or not key.strip():
                raise ParameterError(f"--slurm takes KEY=VALUE (e.g. account=myproj), got {item!r}")
            value = value.strip()
            pairs.append((key.strip(), int(value) if value.isdigit() else value))
    return {k if k.startswith("slurm_") else f"slurm_{k}": v for k, v in pairs}


@contextlib.contextmanager
def _spawned_without_terminal_interrupt():
    """Local job processes started inside inherit SIGINT ignored: a Ctrl-C in the terminal
    (sent to the whole foreground process group) reaches only this process, which stops them
    itself (:func:`_stop_local_job`), so the terminal shows one line, not each child's
    ``KeyboardInterrupt`` traceback. Outside the main thread signals cannot be changed: as is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux ``/proc``; empty where there is none)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _stop_local_job(job: Any) -> None:
    """Stop a local job started by :func:`_spawned_without_terminal_interrupt` (it ignores the
    SIGINT submitit's ``cancel`` sends): SIGKILL to its controller and everything below it.
    The run store is safe against a kill at any point (its checkpoints are atomic); the run
    resumes from its last epoch next time."""
    process = getattr(job, "_process", None)
    if process is None or not Path("/proc").is_dir():
        job.cancel()
        return
    for pid in [*_descendants(process.pid), process.pid]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        process.wait(timeout=10)


def make_executor(
    options: ClusterOptions, log_dir: str | Path, profile: str = "run"
) -> submitit.AutoExecutor:
    """The ``submitit.AutoExecutor`` for ``options.executor`` with the job resources: Slurm
    partition, GPUs per job, array parallelism, time limit, CPUs per job and any other Slurm
    parameter (``options.slurm_params``)."""
    o = options
    timeout = o.timeout_min or DEFAULT_TIMEOUT_MIN[o.executor]
    kwargs: dict[str, Any] = {}
    if o.executor in ("slurm", "local"):
        kwargs[f"{o.executor}_max_num_timeout"] = o.max_requeues
    params: dict[str, Any] = {"name": f"saliency-{profile}", "timeout_min": timeout}
    if o.executor == "slurm":
        params.update(
            gpus_per_node=o.gpus_per_job,
            nodes=1,
            tasks_per_node=1,
            cpus_per_task=o.cpus_per_job,
            slurm_partition=o.partition,
            slurm_array_parallelism=o.max_parallel,
            **_parse_slurm_params(o.slurm_params),
        )
    try:
        ex = submitit.AutoExecutor(folder=str(Path(log_dir) / "%j"), cluster=o.executor, **kwargs)
        ex.update_parameters(**params)
    except (NameError, AssertionError, ValueError, TypeError, RuntimeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ParameterError(f"invalid {o.executor} job parameter: {first}") from None
    return ex


def _visible_gpus() -> list[str]:
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip()]
    return [str(i) for i in range(torch.cuda.device_count())]


def _prefetch_data(runs: Sequence[PlannedRun], say: Callable[[str], None]) -> None:
    """Download any dataset the runs need on this host, once, before the jobs start (so jobs do
    not race to download the same files, and compute nodes need no network)."""
    seen = set()
    for r in runs:
        c = r.config
        key = (c.dataset, json.dumps(c.dataset_params, sort_keys=True))
        if key in seen:
            continue
        seen.add(key)
        params = {k: v for k, v in c.dataset_params.items() if k not in ("subset", "seed")}
        source = check_available(c.dataset, **params, check_network=False)
        if source.endswith("(download)"):
            say(f"downloading {c.dataset} on this host before submitting ({source})")
            for split in ("train", "test"):
                get_dataset(c.dataset, split, **c.dataset_params)


def _job_error(exc: BaseException) -> str:
    """One line for the exception of a failed job's ``result()``: the last line of its
    traceback, or, for a job that ended without a result (cancelled, killed, node failure), the
    state the scheduler gives."""
    text = str(exc)
    state = re.search(r"has not produced any output \(state: ([^)]*)\)", text)
    if state:  # submitit's message continues with the tail of the job's stderr
        return f"the job ended without a result (state {state.group(1)})"
    text = re.split(r"\n-+\nYou can check full logs", text)[0]  # submitit's footer: log paths
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


def _collect(job: Any, run: PlannedRun, store: Path) -> TrainResult:
    log = getattr(job.paths, "stdout", None)
    log = Path(str(log).replace("%j", str(job.job_id))) if log else None
    try:
        info = job.result()  # (submitit waits 15 s for a result file before it gives up)
    except Exception as e:  # noqa: BLE001  (the job failed; its log has the traceback)
        return TrainResult(run.run_id, "failed", job.job_id, _job_error(e), log)
    if isinstance(info, list):  # a packed job: its summary of this run
        info = next((i for i in info if isinstance(i, dict) and i.get("run_id") == run.run_id),
                    None)  # fmt: skip
    if isinstance(info, dict) and info.get("status") == "failed":
        return TrainResult(run.run_id, "failed", job.job_id, info.get("error"), log, info)
    if not is_complete(run.config, store):
        return TrainResult(
            run.run_id, "failed", job.job_id, "job ended but the run is not complete", log
        )
    return TrainResult(run.run_id, "complete", job.job_id, None, log, info or {})


def _result_line(r: TrainResult) -> str:
    if r.ok:
        secs = r.info.get("seconds")
        extra = f" in {secs:.1f}s" if isinstance(secs, int | float) else ""
        if r.info.get("resumed_after_epoch"):
            extra += f" (resumed after epoch {r.info['resumed_after_epoch']})"
        return f"  complete {r.run_id}{extra}"
    where = f" (log: {_rel(r.log)})" if r.log else ""
    return f"  {r.status.upper()} {r.run_id}: {r.error}{where}"


def _packing(o: ClusterOptions) -> str:
    if o.runs_per_job == 1:
        return ""
    return f"; up to {o.runs_per_job} {'/'.join(SHAREABLE_MODELS)} runs per job ({o.pack})"


def _skipped(run: PlannedRun) -> TrainResult:
    return TrainResult(
        run.run_id, "skipped", error=f"needs run {run.depends_on}, which did not complete"
    )


def train(
    profile: str = "cpu",
    only: str | Sequence[str] | None = None,
    seeds: int | None = None,
    *,
    options: ClusterOptions | None = None,
    store: str | Path | None = None,
    log_dir: str | Path | None = None,
    notebooks_dir: str | Path | None = None,
    params_dir: str | Path | None = None,
    check_data: bool = True,
    prefetch_data: bool = True,
    on_submit: Callable[[Any, PlannedRun], None] | None = None,
    say: Callable[[str], None] | None = None,
    sets: dict[str, Any] | None = None,
) -> list[TrainResult]:
    """Train every missing run of :func:`plan` as a submitit job and wait for them.

    ``options`` (:class:`ClusterOptions`; default: local processes, two at a time) say where
    and how the jobs run. ``store`` must be a path every job can reach (a shared filesystem on
    a cluster); ``log_dir`` (default ``<output root>/submitit/``) holds submitit's pickles and
    the job logs.

    An HLGM continuation baseline is submitted once its HLGM run is complete (``"skipped"``
    if that run fails): by local processes as soon as it completes, on Slurm and debug in a
    second wave after all the others (:func:`train_runs`). Before submitting, datasets
    that would be downloaded are downloaded once on this host (``prefetch_data``).
    ``on_submit(job, planned_run)`` is called after each submission (monitoring, tests);
    ``sets``: ``--set`` values, as in :func:`plan`. Returns one :class:`TrainResult` per missing
    run.
    """
    say = say or (lambda msg: print(msg, flush=True))
    o = options or ClusterOptions()
    gpus: list[str] = []
    if o.executor == "slurm" and shutil.which("sbatch") is None:
        raise ParameterError(
            "executor 'slurm' needs Slurm's sbatch on PATH: run `train` on the cluster's login "
            "node (or use --executor local)"
        )
    if o.executor != "slurm" and o.gpus_per_job:
        gpus = _visible_gpus()
        if len(gpus) < o.gpus_per_job:
            raise ParameterError(
                f"gpus_per_job={o.gpus_per_job} but this host has {len(gpus)} visible GPU(s)"
            )
    store_path = check_store(store).resolve()
    log_path = Path(log_dir or output_root() / "submitit").resolve()
    planned = plan(
        profile,
        only,
        seeds,
        notebooks_dir=notebooks_dir,
        params_dir=params_dir,
        store=store_path,
        check_data=check_data,
        sets=sets,
        check_devices=o.executor != "slurm",  # Slurm jobs train on the cluster's nodes
    )
    missing = planned.missing
    say(
        f"{len(planned)} runs for profile {profile!r}: {len(planned) - len(missing)} complete in "
        f"{_rel(store_path)}, {len(missing)} to train ({planned.epochs_to_train} epochs)"
    )
    if not missing:
        return []
    if prefetch_data and check_data and o.executor != "debug":
        _prefetch_data(missing, say)
    return train_runs(missing, o, store_path, log_path, profile, gpus, on_submit, say)


def train_runs(
    missing: Sequence[PlannedRun],
    options: ClusterOptions,
    store: Path,
    log_dir: Path,
    profile: str = "run",
    gpus: Sequence[str] = (),
    on_submit: Callable[[Any, PlannedRun], None] | None = None,
    say: Callable[[str], None] | None = None,
) -> list[TrainResult]:
    """Train ``missing`` runs as jobs of ``options.executor`` and wait for them; one
    :class:`TrainResult` per run. An HLGM continuation baseline needs its HLGM run complete:
    local processes start each as soon as its own HLGM run completes (the other runs fill the
    slots meanwhile); Slurm and debug go in two waves (the runs that need no other run, then
    the continuations whose HLGM run completed). :func:`train` after its checks, and
    ``reproduce``'s side-by-side training of runs with a fixed thread count."""
    say = say or (lambda msg: print(msg, flush=True))
    o, store_path, log_path = options, Path(store), Path(log_dir)
    ex = make_executor(o, log_path, profile)
    ids = {r.run_id for r in missing}
    wave1 = [r for r in missing if r.depends_on is None or r.depends_on not in ids]
    wave2 = [r for r in missing if r not in wave1]
    results: dict[str, TrainResult] = {}
    # Jobs run elsewhere (other processes, other hosts): the store is passed as an absolute path.
    waves = _Waves(ex, o, list(gpus), str(store_path), on_submit, say)
    if o.executor == "local":
        waiting = plural(len(wave2), "HLGM continuation")
        waiting = f"; each of {waiting} starts when its run completes"
        say(
            f"{plural(len(missing), 'run')} on executor 'local' (at most {o.jobs} at a time, logs "
            f"in {_rel(log_path)}{_packing(o)}{waiting if wave2 else ''})"
        )
        results = {res.run_id: res for res in waves.run(wave1, continuations=wave2)}
    else:
        for number, wave in ((1, wave1), (2, wave2)):
            ready = []
            for r in wave:
                dep = r.depends_on
                if dep and dep in results and not results[dep].ok:
                    results[r.run_id] = _skipped(r)
                    say(_result_line(results[r.run_id]))
                else:
                    ready.append(r)
            if not ready:
                continue
            where = f"job array, logs in {_rel(log_path)}" if o.executor == "slurm" else (
                "in this process")  # fmt: skip
            what = "runs" if number == 1 else "HLGM continuation runs"
            say(
                f"wave {number}: {len(ready)} {what} on executor {o.executor!r} "
                f"({where}{_packing(o)})"
            )
            for res in waves.run(ready):
                results[res.run_id] = res
    ordered = [results[r.run_id] for r in missing if r.run_id in results]
    counts: dict[str, int] = {}
    for res in ordered:
        counts[res.status] = counts.get(res.status, 0) + 1
    say(", ".join(f"{n} {s}" for s, n in counts.items()) + f"; run store {_rel(store_path)}")
    return ordered


@contextlib.contextmanager
def _submission_env():
    """submitit's ``clean_env`` (no ``SLURM_*`` variable of a surrounding job reaches the jobs
    submitted) that keeps ``SLURM_CONF``: sbatch and the jobs' ``scontrol requeue`` need it on
    a cluster whose configuration is not in ``/etc/slurm``. sbatch refusing the jobs (unknown
    partition, a ``--slurm`` value the cluster cannot satisfy) is a one-line
    :class:`ParameterError` instead of submitit's traceback."""
    conf = os.environ.get("SLURM_CONF")
    with submitit.helpers.clean_env():
        if conf is not None:
            os.environ["SLURM_CONF"] = conf
        printed = io.StringIO()  # submitit prints sbatch's stderr before raising
        try:
            with contextlib.redirect_stderr(printed):
                yield
        except submitit.core.utils.FailedJobError as e:
            lines = [ln.strip().removeprefix("sbatch: ").removeprefix("error: ")
                     for ln in str(e).splitlines() if ln.strip()]  # fmt: skip
            raise ParameterError(f"sbatch refused the jobs: {'; '.join(lines)}") from None
        sys.stderr.write(printed.getvalue())


@dataclass
class _Waves:
    """What submitting and waiting for a wave of jobs needs."""

    ex: Any  # the submitit executor
    options: ClusterOptions
    gpus: list[str]  # visible GPUs (local executor with gpus_per_job)
    store: str
    on_submit: Callable[[Any, PlannedRun], None] | None
    say: Callable[[str], None]

    def run(
        self, runs: list[PlannedRun], continuations: Sequence[PlannedRun] = ()
    ) -> list[TrainResult]:
        """Submit ``runs`` and wait for them; ``continuations`` (local executor only) start
        as their runs complete."""
        o = self.options
        if continuations and o.executor != "local":
            raise ValueError("only the local executor schedules continuations itself")
        if o.executor != "local":
            options = dict(require_gpu=o.gpus_per_job > 0, threads=o.cpus_per_job)
            packs = pack_runs(runs, o.runs_per_job)
            store = [self.store] * len(packs)
            with _submission_env():
                if o.runs_per_job == 1:
                    fn = TrainJob(**options, catch_errors=o.executor == "debug")
                    submitted = self.ex.map_array(fn, [p[0].config.to_dict() for p in packs], store)
                else:
                    fn = PackedTrainJob(o.pack, **options)
                    dicts = [[r.config.to_dict() for r in p] for p in packs]
                    submitted = self.ex.map_array(fn, dicts, store)
            if o.executor == "slurm" and submitted:
                array = submitted[0].job_id.split("_")[0]
                self.say(f"  submitted job array {array} ({len(packs)} jobs, {len(runs)} runs)")
            items = [(job, run) for job, p in zip(submitted, packs, strict=True) for run in p]
            for job, run in items:
                if self.on_submit:
                    self.on_submit(job, run)
            return self._wait(items)
        return self._local(runs, continuations)

    def _local(
        self, runs: list[PlannedRun], continuations: Sequence[PlannedRun] = ()
    ) -> list[TrainResult]:
        """A sliding window of at most ``jobs`` processes; slot i takes GPUs in turn. Each of
        ``continuations`` joins the front of the queue when the run it continues
        (``depends_on``) completes, or is ``"skipped"`` if that run fails."""
        o = self.options
        pending = pack_runs(runs, o.runs_per_job)
        waiting = list(continuations)
        active: list[tuple[Any, list[PlannedRun], int]] = []
        out: list[TrainResult] = []
        threads = max(1, (os.cpu_count() or 1) // (o.jobs * o.runs_per_job))
        gpus, per = self.gpus, o.gpus_per_job
        try:
            while pending or active:
                used = {slot for _, _, slot in active}
                while pending and len(active) < o.jobs:
                    slot = min(set(range(o.jobs)) - used)
                    used.add(slot)
                    pack = pending.pop(0)
                    devices = None
                    if per:
                        start = (slot * per) % len(gpus)
                        devices = ",".join(gpus[(start + k) % len(gpus)] for k in range(per))
                    options = dict(require_gpu=bool(per), visible_devices=devices, threads=threads)
                    if o.runs_per_job == 1:
                        fn, arg = TrainJob(**options), pack[0].config.to_dict()
                    else:
                        fn = PackedTrainJob(o.pack, **options)
                        arg = [r.config.to_dict() for r in pack]
                    with _spawned_without_terminal_interrupt():
                        job = self.ex.submit(fn, arg, self.store)
                    active.append((job, pack, slot))
                    if self.on_submit:
                        for run in pack:
                            self.on_submit(job, run)
                time.sleep(o.poll_seconds)
                for item in list(active):
                    job, pack, _ = item
                    if job.done():
                        active.remove(item)
                        released: list[PlannedRun] = []
                        for run in pack:
                            res = _collect(job, run, Path(self.store))
                            self.say(_result_line(res))
                            out.append(res)
                            now = [w for w in waiting if w.depends_on == run.run_id]
                            waiting = [w for w in waiting if w not in now]
                            if res.ok:
                                released += now
                                continue
                            for w in now:
                                out.append(_skipped(w))
                                self.say(_result_line(out[-1]))
                        pending[:0] = pack_runs(released, o.runs_per_job)
            for w in waiting:  # their run was not in this call and is not complete
                out.append(_skipped(w))
                self.say(_result_line(out[-1]))
        except KeyboardInterrupt:
            for job, _, _ in active:
                _stop_local_job(job)
            self.say(
                f"interrupted: cancelled {len(active)} running job(s); their runs resume next time"
            )
            raise
        return out

    def _wait(self, items: list[tuple[Any, PlannedRun]]) -> list[TrainResult]:
        out: list[TrainResult] = []
        pending = list(items)
        try:
            while pending:
                for item in list(pending):
                    job, run = item
                    if job.done():
                        pending.remove(item)
                        res = _collect(job, run, Path(self.store))
                        self.say(_result_line(res))
                        out.append(res)
                if pending:
                    time.sleep(self.options.poll_seconds)
        except KeyboardInterrupt:
            if self.options.executor == "slurm":
                self.say(
                    "interrupted: the Slurm jobs keep running (squeue --me; scancel to stop "
                    "them); do not start `train` again until they have ended"
                )
            raise
        return out


__all__ = [
    "EXECUTORS",
    "PACK_MODES",
    "SHAREABLE_MODELS",
    "ClusterOptions",
    "PackedTrainJob",
    "TrainJob",
    "TrainResult",
    "make_executor",
    "pack_runs",
    "train",
    "train_runs",
]
