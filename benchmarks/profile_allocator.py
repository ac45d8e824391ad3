"""The cpu profile's training time with the allocator tuning off and on, per notebook (issue 16).

Trains the profile's runs twice with ``python -m saliency_lib train`` (local processes, ``--jobs``
at a time, each run on its params' thread count: what ``reproduce``'s side-by-side stage does),
first with ``SALIENCY_MALLOC_TUNING=0`` into ``WORK/off-runs``, then with the default tuning into
``WORK/on-runs``, and prints every notebook's training seconds (the sum of its runs' wall
seconds, each run counted under the first notebook that uses it) off and on. A setting whose log
``WORK/<setting>.log`` already ends with its summary line is not trained again (delete a run's
folder to train just that run again). ``--seeds 1`` trains seed 0 of every run: a third of the
profile's training, the same kinds of run.

    python benchmarks/profile_allocator.py --seeds 1 --work /tmp/alloc

Run it on an idle machine: the two settings are trained one after the other, so a machine
whose speed drifts between them biases the ratio. ``--pair RUN_ID`` (repeatable) checks that
without drift: it trains that run twice at the same time, off in one process and on in the
other (``--jobs`` must be 2: the same load as two runs side by side), into fresh stores under
``WORK/pair-*``, and prints both times.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from saliency_lib.pipeline.plan import plan

SETTINGS = {"off": "0", "on": "1"}
RESULT = re.compile(r"^\s+complete (\S+) in ([0-9.]+)s")
SUMMARY = re.compile(r"complete(, .*)?; run store ")


def train(setting: str, work: Path, args: argparse.Namespace) -> None:
    """Train the missing runs of ``setting``'s store, appending the output to its log."""
    env = {**os.environ, "SALIENCY_MALLOC_TUNING": SETTINGS[setting]}
    store, logs = work / f"{setting}-runs", work / f"{setting}-logs"
    cmd = [sys.executable, "-m", "saliency_lib", "train", "--profile", args.profile,
           "--executor", "local", "--jobs", str(args.jobs), "--store", str(store),
           "--log-dir", str(logs)]  # fmt: skip
    if args.seeds:
        cmd += ["--seeds", str(args.seeds)]
    print(f"training with the tuning {setting}: {' '.join(cmd[1:])}", flush=True)
    with open(work / f"{setting}.log", "a") as log:
        subprocess.run(cmd, env=env, check=True, stdout=log, stderr=subprocess.STDOUT)


PAIR_CHILD = """
import json, sys
from saliency_lib.pipeline.executors import TrainJob
out = TrainJob(threads=1)(json.loads(sys.argv[1]), sys.argv[2])
print(json.dumps(out))
"""


def train_pair(run_id: str, work: Path, args: argparse.Namespace) -> tuple[float, float]:
    """(off, on) wall seconds of run ``run_id`` trained off and on at the same time."""
    runs = {r.run_id: r for r in plan(args.profile, seeds=args.seeds, store=work / "on-runs")}
    if run_id not in runs or runs[run_id].depends_on:
        raise SystemExit(f"--pair: {run_id} is not a run of the profile that needs no other run")
    config = json.dumps(runs[run_id].config.to_dict())
    procs = {}
    for setting, value in SETTINGS.items():
        store = work / f"pair-{setting}"
        shutil.rmtree(store / run_id, ignore_errors=True)
        env = {**os.environ, "SALIENCY_MALLOC_TUNING": value}
        cmd = [sys.executable, "-c", PAIR_CHILD, config, str(store)]
        procs[setting] = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
    seconds = []
    for setting, proc in procs.items():
        out, _ = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"--pair: training {run_id} with the tuning {setting} failed")
        seconds.append(float(json.loads(out.strip().splitlines()[-1])["seconds"]))
    return seconds[0], seconds[1]


def run_seconds(log: Path) -> dict[str, float]:
    """Wall seconds of each run trained in ``log`` (the last time, if it was trained again)."""
    out: dict[str, float] = {}
    for line in log.read_text().splitlines():
        m = RESULT.match(line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per run (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time (default: 2)")
    parser.add_argument("--work", type=Path, required=True, help="run stores and logs")
    parser.add_argument("--pair", action="append", default=[], metavar="RUN_ID",
                        help="train this run off and on at the same time (repeatable)")  # fmt: skip
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.pair:
        print(f"{'run (off and on at the same time)':55s} {'off (s)':>9s} {'on (s)':>9s} on/off")
        for run_id in args.pair:
            off, on = train_pair(run_id, args.work, args)
            print(f"{run_id:55s} {off:9.1f} {on:9.1f} {on / off:6.2f}", flush=True)
        return
    for setting in SETTINGS:
        log = args.work / f"{setting}.log"
        lines = log.read_text().splitlines() if log.exists() else []
        if not (lines and SUMMARY.search(lines[-1])):
            train(setting, args.work, args)
    seconds = {s: run_seconds(args.work / f"{s}.log") for s in SETTINGS}
    runs = plan(args.profile, seeds=args.seeds, store=args.work / "on-runs")
    by_notebook: dict[str, list[str]] = defaultdict(list)
    for r in runs:
        by_notebook[r.notebooks[0]].append(r.run_id)
    width = max(map(len, by_notebook))
    print(f"\n{'notebook (runs it trains first)':{width}s} {'runs':>4s} {'off (s)':>9s} "
          f"{'on (s)':>9s} {'on/off':>7s}")  # fmt: skip
    total = {s: 0.0 for s in SETTINGS}
    for name in sorted(by_notebook):
        ids = by_notebook[name]
        missing = [i for s in SETTINGS for i in ids if i not in seconds[s]]
        if missing:
            print(f"{name:{width}s} {len(ids):4d}  no time for {len(missing)} run(s)")
            continue
        off, on = (sum(seconds[s][i] for i in ids) for s in SETTINGS)
        total["off"] += off
        total["on"] += on
        print(f"{name:{width}s} {len(ids):4d} {off:9.1f} {on:9.1f} {on / off:7.2f}")
    off, on = total["off"], total["on"]
    print(f"{'all':{width}s} {len(runs):4d} {off:9.1f} {on:9.1f} {on / off:7.2f}")
    print(f"\nrun seconds summed; {args.jobs} runs at a time, so the training's wall time is about "
          f"{off / args.jobs / 60:.1f} min off, {on / args.jobs / 60:.1f} min on")  # fmt: skip


if __name__ == "__main__":
    main()
