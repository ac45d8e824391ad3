"""Command line: ``python -m saliency_lib <command>`` (also installed as ``saliency-lib``).

Commands: ``reproduce``, ``validate``, ``list``, ``refresh-nbval``, ``plan``, ``train``. Each
command is one function decorated with :func:`command`, which names its arguments; adding a
command is adding one such function. Parameter and data errors print one ``error:`` message
(no traceback) and exit 2; a failed notebook makes ``reproduce`` exit 1; a file that cannot be
read or written (damaged, disk full, permission, folder in use) prints one ``error:`` line naming
it and exits 1; Ctrl-C prints one line saying what was kept and exits 130; SIGTERM (``kill``, a
batch system stopping the job) does the same and exits 143 (:func:`_terminate_as_interrupt`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tabulate import tabulate

from ._fileio import StoreError
from ._project import display_path, project_layout
from .data import DatasetNotFoundError
from .pipeline.executors import ClusterOptions, train
from .pipeline.jobs import list_notebooks, prepare_jobs
from .pipeline.params import (
    ParameterError,
    list_profiles,
    load_params,
    params_path,
    parse_sets,
    profile_status,
)
from .pipeline.plan import format_plan, plan
from .pipeline.runner import (
    output_status,
    profile_lock,
    refresh_nbval,
    reproduce,
    resolve_output_root,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


class _Terminated:
    """SIGTERM handler: raise ``KeyboardInterrupt`` once (the Ctrl-C path stops the training
    processes and says what was kept), then ignore further SIGTERMs while that cleanup runs."""

    received = False

    def __call__(self, signum, frame) -> None:
        self.received = True
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt


@contextlib.contextmanager
def _terminate_as_interrupt():
    """SIGTERM stops a command the way Ctrl-C does. Its default action killed this process
    alone: the local training processes it had started went on training, unwatched. Left as
    it is outside the main thread or where SIGTERM already has a handler or is ignored."""
    handler = _Terminated()
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield handler
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield handler
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class Command:
    name: str
    help: str
    args: tuple[tuple[tuple[str, ...], dict[str, Any]], ...]
    run: Callable[[argparse.Namespace], int]


COMMANDS: dict[str, Command] = {}


def arg(*flags: str, **kwargs: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    """One ``add_argument`` call, for :func:`command`."""
    return flags, kwargs


def command(name: str, help: str, *args: tuple[tuple[str, ...], dict[str, Any]]):
    """Register ``fn(args) -> exit code`` as subcommand ``name`` with the given arguments."""

    def register(fn: Callable[[argparse.Namespace], int]):
        COMMANDS[name] = Command(name, help, args, fn)
        return fn

    return register


# Arguments shared by several commands.
# no short -p: papermill's -p means "parameter", and people pass both tools' options around
PROFILE = arg("--profile", default="cpu", help="params/<profile>/ to use (default: cpu)")
SET = arg(
    "--set",
    action="append",
    metavar="KEY=VALUE",
    help="override a parameter without editing files, checked like the files' values: KEY a "
    "parameter or a dotted path into one (training.epochs), VALUE read as YAML; applies to the "
    "selected notebooks that have KEY (repeatable)",
)
ONLY = arg(
    "--only",
    action="append",
    metavar="PATTERN",
    help="only notebooks matching PATTERN (glob if it has *?[, else substring; repeatable)",
)
SEEDS = arg("--seeds", type=int, help="number of seeds, for the notebooks with a 'seeds' parameter")
OUTPUT_ROOT = arg(
    "--output-root",
    metavar="DIR",
    help="outputs go to DIR/<profile>/ (default: $SALIENCY_OUTPUT_ROOT or outputs/)",
)
NOTEBOOKS_DIR = arg("--notebooks-dir", metavar="DIR", help=argparse.SUPPRESS)
PARAMS_DIR = arg("--params-dir", metavar="DIR", help=argparse.SUPPRESS)
DIRS = (NOTEBOOKS_DIR, PARAMS_DIR)


def _dirs(args: argparse.Namespace) -> dict[str, Any]:
    return {"notebooks_dir": args.notebooks_dir, "params_dir": args.params_dir}


def _fill_defaults(args: argparse.Namespace) -> None:
    """The repository's folders for every folder argument not given: from ``--root`` (default:
    the project around the working directory, :mod:`saliency_lib._project`) and the
    ``$SALIENCY_OUTPUT_ROOT`` / ``$SALIENCY_RUN_STORE`` environment variables."""
    layout = project_layout(args.root)
    outputs = Path(os.environ.get("SALIENCY_OUTPUT_ROOT") or layout.outputs)
    defaults = {
        "notebooks_dir": layout.notebooks,
        "params_dir": layout.params,
        "output_root": outputs,
        "store": os.environ.get("SALIENCY_RUN_STORE") or layout.outputs / "runs",
        "log_dir": outputs / "submitit",
        "dest": layout.nbval,
    }
    for name, value in defaults.items():
        if getattr(args, name, False) is None:  # a folder argument of this command, not given
            setattr(args, name, value)


@command(
    "reproduce",
    "run the notebooks of a profile with papermill into outputs/<profile>/",
    PROFILE,
    ONLY,
    SEEDS,
    SET,
    arg("--fail-fast", action="store_true", help="stop at the first failed notebook"),
    OUTPUT_ROOT,
    arg("--no-progress", action="store_true", help="no progress bar, no notebook progress lines"),
    arg(
        "--no-side-by-side",
        action="store_true",
        help="do not train runs with a thread count in parallel processes before the notebooks "
        "(the notebooks train them, one at a time; same numbers)",
    ),
    *DIRS,
)
def cmd_reproduce(args: argparse.Namespace) -> int:
    results = reproduce(
        args.profile,
        only=args.only,
        seeds=args.seeds,
        output_root=args.output_root,
        progress=not args.no_progress,
        fail_fast=args.fail_fast,
        sets=parse_sets(args.set),
        side_by_side=not args.no_side_by_side,
        **_dirs(args),
    )
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


@command(
    "validate",
    "check a profile's parameters files (keys, types, data) without running anything",
    PROFILE,
    ONLY,
    SEEDS,
    SET,
    arg("--no-data-check", action="store_true", help="skip the dataset availability check"),
    *DIRS,
)
def cmd_validate(args: argparse.Namespace) -> int:
    jobs = prepare_jobs(
        args.profile,
        args.only,
        args.seeds,
        check_data=not args.no_data_check,
        sets=parse_sets(args.set),
        **_dirs(args),
    )
    for job in jobs:
        state = "ok" if job.enabled else f"ok, disabled: {job.reason}"
        print(f"{job.name:<32} {state}")
    print(f"{len(jobs)} notebook(s) valid for profile {args.profile!r}")
    return EXIT_OK


def _cell(name: str, profile: str, args: argparse.Namespace, reasons: list[str]) -> str:
    if not params_path(name, profile, args.params_dir).is_file():
        params = "no params"
    else:
        try:
            enabled, reason = profile_status(load_params(name, profile, args.params_dir))
        except ParameterError:
            params = "bad params"
        else:
            params = "enabled" if enabled else "disabled"
            if not enabled:
                reasons.append(f"{profile}/{name}: {reason}")
    out = output_status(name, profile, args.output_root)
    status = out["status"] or "-"
    if out["status"] == "complete" and out["seconds"] is not None:
        status += f" {out['seconds']:.0f}s"
    if out["failed"]:
        status = "FAILED" if out["status"] is None else f"{status}, then FAILED"
    if out["partial"]:
        status += ", running" if out["running"] else ", .partial left"
    return f"{params} | {status}"


def _leftovers(profiles: list[str], args: argparse.Namespace) -> list[str]:
    """Lines for the ``.partial`` (killed runs) and ``.FAILED`` folders under the outputs."""
    lines = []
    for profile in profiles:
        folder = resolve_output_root(args.output_root) / profile
        if not folder.is_dir():
            continue
        running = profile_lock(folder).held_elsewhere()
        for p in sorted(folder.glob(".*.partial")):
            why = "a reproduce is running" if running else "left by an interrupted run; delete it"
            lines.append(f"staging  {display_path(p)} ({why})")
        for p in sorted(folder.glob("*.FAILED")):
            lines.append(
                f"failed   {display_path(p)} (see its metrics.json; the next success removes it)"
            )
    return lines


@command(
    "list",
    "table of notebooks x profiles: params file, enabled, outputs and their status",
    OUTPUT_ROOT,
    *DIRS,
)
def cmd_list(args: argparse.Namespace) -> int:
    names = list_notebooks(args.notebooks_dir)
    if not names:
        print("no notebooks yet")
        return EXIT_OK
    profiles = list_profiles(args.params_dir)
    reasons: list[str] = []
    rows = [[n] + [_cell(n, p, args, reasons) for p in profiles] for n in names]
    print(tabulate(rows, headers=["notebook", *profiles], tablefmt="simple"))
    print("\ncell: params file state | outputs/<profile>/<notebook>/ status (- = none)")
    for line in reasons:
        print(f"disabled {line}")
    for line in _leftovers(profiles, args):
        print(line)
    return EXIT_OK


@command(
    "refresh-nbval",
    "run the smoke profile and store the executed notebooks for nbval (the project's nbval folder)",
    ONLY,
    arg("--no-run", action="store_true", help="store the executed notebooks already in outputs/"),
    OUTPUT_ROOT,
    arg("--dest", metavar="DIR", help=argparse.SUPPRESS),
    *DIRS,
)
def cmd_refresh_nbval(args: argparse.Namespace) -> int:
    _, results = refresh_nbval(
        args.only,
        run=not args.no_run,
        dest=args.dest,
        output_root=args.output_root,
        **_dirs(args),
    )
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


STORE = arg(
    "--store",
    metavar="DIR",
    help="run store (default: $SALIENCY_RUN_STORE or outputs/runs); on a cluster, a shared path",
)


@command(
    "plan",
    "list the training runs a profile needs (from its params files), their run ids and which "
    "the run store holds",
    PROFILE,
    ONLY,
    SEEDS,
    SET,
    STORE,
    *DIRS,
)
def cmd_plan(args: argparse.Namespace) -> int:
    runs = plan(args.profile, args.only, args.seeds, store=args.store, sets=parse_sets(args.set),
                **_dirs(args))  # fmt: skip
    print(format_plan(runs))
    return EXIT_OK


@command(
    "train",
    "train a profile's missing runs as submitit jobs (local processes, Slurm job arrays, or "
    "in-process with debug) into the run store",
    PROFILE,
    ONLY,
    SEEDS,
    SET,
    arg(
        "--executor",
        choices=["local", "slurm", "debug"],
        default="local",
        help="local processes (default), a Slurm cluster, or this process (debug)",
    ),
    arg("--jobs", type=int, default=2, metavar="N", help="local: runs at a time (default: 2)"),
    arg("--partition", metavar="P", help="slurm: partition"),
    arg(
        "--gpus-per-job",
        type=int,
        default=0,
        metavar="N",
        help="GPUs per job (default: 0: local and slurm jobs train on the CPU)",
    ),
    arg("--max-parallel", type=int, metavar="N", help="slurm: array jobs running at once"),
    arg(
        "--timeout-min",
        type=int,
        metavar="M",
        help="job time limit in minutes; a job reaching it is requeued and resumes "
        "(default: slurm 240, local 10080)",
    ),
    arg("--cpus-per-job", type=int, metavar="N", help="slurm: CPUs per job"),
    arg(
        "--runs-per-job",
        type=int,
        default=1,
        metavar="N",
        help="pack up to N small-CNN (cnn2) runs into one job, sharing its GPU (default: 1)",
    ),
    arg(
        "--pack",
        choices=["processes", "sequential"],
        default="processes",
        help="packed runs: each in its own process at once (default), or one after the other",
    ),
    arg(
        "--slurm",
        action="append",
        metavar="KEY=VALUE",
        help="slurm: any other submitit Slurm parameter, e.g. account=proj, qos=high, mem_gb=32 "
        "(repeatable)",
    ),
    STORE,
    arg(
        "--log-dir",
        metavar="DIR",
        help="submitit pickles and job logs (default: outputs/submitit/)",
    ),
    arg("--no-data-check", action="store_true", help="skip the dataset availability check"),
    *DIRS,
)
def cmd_train(args: argparse.Namespace) -> int:
    options = ClusterOptions(
        executor=args.executor,
        jobs=args.jobs,
        partition=args.partition,
        gpus_per_job=args.gpus_per_job,
        max_parallel=args.max_parallel,
        timeout_min=args.timeout_min,
        cpus_per_job=args.cpus_per_job,
        slurm_params=args.slurm or (),
        runs_per_job=args.runs_per_job,
        pack=args.pack,
    )
    results = train(
        args.profile,
        args.only,
        args.seeds,
        options=options,
        store=args.store,
        log_dir=args.log_dir,
        check_data=not args.no_data_check,
        sets=parse_sets(args.set),
        **_dirs(args),
    )
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m saliency_lib",
        description="Saliency-guided training reproduction: run and check the notebooks.",
    )
    parser.add_argument(
        "--root",
        metavar="DIR",
        help="the repository (default: the nearest folder at or above the working directory "
        "whose pyproject.toml has a [tool.saliency-lib] table)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        for flags, kwargs in cmd.args:
            p.add_argument(*flags, **kwargs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    with _terminate_as_interrupt() as terminated:
        return _run(args, terminated)


def _run(args: argparse.Namespace, terminated: _Terminated) -> int:
    try:
        if args.root is not None and not Path(args.root).is_dir():
            raise ParameterError(f"--root {args.root}: no such folder")
        _fill_defaults(args)
        return COMMANDS[args.command].run(args)
    except (ParameterError, DatasetNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except StoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt as e:
        print(str(e) or "interrupted", file=sys.stderr)
        return EXIT_TERMINATED if terminated.received else EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
