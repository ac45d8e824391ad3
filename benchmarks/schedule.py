"""Replay the side-by-side stage's schedule on recorded run times (issue 27).

``reproduce`` trains a profile's fixed-thread runs in ``P`` local processes (a sliding window:
a free process takes the next pending run; an HLGM continuation joins the front of the queue
when its HLGM run completes; saliency_lib/pipeline/executors.py). This script replays that
window on each run's recorded wall seconds, in three orders: the plan's (the notebooks' order,
the stage before issue 27), longest first by the cost model of the configuration
(``side_by_side.longest_first``, what the stage does now) and longest first by the recorded
times themselves (the best a cost model could do), beside a lower bound (the total over ``P``,
or the longest HLGM run plus its continuation).

Recorded times come from a run store (``--store``: each complete run's epoch seconds; a
continuation counts only its own epochs) or from ``end_to_end.json`` (``--end-to-end``: the
stage's ``run_seconds``, written by every ``reproduce`` since issue 27). Runs of the plan with no
recorded time are left out of the replay (the count is printed).

    python benchmarks/schedule.py --store DIR [--profile cpu] [--only NAME ...] [--set K=V ...]
    python benchmarks/schedule.py --end-to-end outputs/cpu/end_to_end.json

``--calibrate`` instead measures the cost model's constants (``side_by_side.STEP_MS``,
``EVAL_SHARE``, ``METHOD_COST``): CPU milliseconds per sample of a Traditional and an SGT step
and of evaluation, one thread, for every model of the cpu profile on its data, interleaved.

    python benchmarks/schedule.py --calibrate [--rounds 4]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from saliency_lib.data import get_dataset, make_loader
from saliency_lib.methods import get_method
from saliency_lib.models import create_model
from saliency_lib.pipeline.params import parse_sets
from saliency_lib.pipeline.plan import PlannedRun, plan
from saliency_lib.pipeline.side_by_side import estimated_seconds, longest_first
from saliency_lib.trainer import evaluate_accuracy, make_optimizer, train_step


def replay(order: list[PlannedRun], seconds: dict[str, float], processes: int) -> float:
    """Makespan of the local executor's window over ``order`` (continuations, the runs with a
    ``depends_on`` among them, join the front of the queue when that run ends)."""
    ids = {r.run_id for r in order}
    pending = [r for r in order if r.depends_on is None or r.depends_on not in ids]
    waiting = [r for r in order if r not in pending]
    running: list[tuple[float, PlannedRun]] = []  # (end time, run)
    now = 0.0
    while pending or running:
        while pending and len(running) < processes:
            run = pending.pop(0)
            running.append((now + seconds[run.run_id], run))
        running.sort(key=lambda item: item[0])
        now, done = running.pop(0)
        released = [w for w in waiting if w.depends_on == done.run_id]
        waiting = [w for w in waiting if w not in released]
        pending[:0] = released
    return now


def store_seconds(store: Path, runs: list[PlannedRun]) -> dict[str, float]:
    """Recorded wall seconds of the complete runs in ``store`` (a continuation: the epochs after
    its source's plateau, the ones it trained)."""
    out = {}
    for r in runs:
        record = store / r.run_id / "run.json"
        if not record.exists():
            continue
        meta = json.loads(record.read_text())
        if meta.get("status") != "complete":
            continue
        start = 0
        if r.depends_on:
            source = json.loads((store / r.depends_on / "run.json").read_text())
            start = source.get("plateau_epoch") or 0
        out[r.run_id] = sum(h["seconds"] for h in meta["history"] if h["epoch"] > start)
    return out


def compare(args) -> None:
    with tempfile.TemporaryDirectory() as empty:  # every run of the plan counts as missing
        planned = plan(args.profile, args.only or None, store=Path(empty),
                       sets=parse_sets(args.set))  # fmt: skip
    runs = [r for r in planned if r.config.threads is not None]
    if args.end_to_end:
        stage = json.loads(Path(args.end_to_end).read_text()).get("side_by_side") or {}
        seconds = stage.get("run_seconds") or {}
        source = f"{args.end_to_end} (side_by_side.run_seconds)"
    else:
        seconds = store_seconds(Path(args.store), runs)
        source = f"run store {args.store}"
    kept = [r for r in runs if r.run_id in seconds]
    # a continuation whose HLGM run has no recorded time cannot be replayed in its place
    kept = [r for r in kept if r.depends_on is None or r.depends_on in seconds]
    print(f"profile {args.profile!r}: {len(runs)} fixed-thread runs planned, {len(kept)} with a "
          f"recorded time in {source}; {args.processes} processes")  # fmt: skip
    if not kept:
        return
    total = sum(seconds[r.run_id] for r in kept)
    chains = [seconds[r.run_id] + seconds[r.depends_on] for r in kept if r.depends_on]
    bound = max(total / args.processes, max(chains, default=0.0),
                max(seconds[r.run_id] for r in kept))  # fmt: skip
    orders = {
        "plan order (before)": kept,
        "longest first, cost model (now)": longest_first(kept),
        "longest first, recorded times": sorted(kept, key=lambda r: -seconds[r.run_id]),
    }
    plan_time = replay(kept, seconds, args.processes)
    print(f"recorded: {total:,.0f} s of runs; lower bound {bound:,.0f} s")
    for label, order in orders.items():
        t = replay(order, seconds, args.processes)
        print(f"  {label:34s} {t:8,.0f} s  ({t / 60:6.1f} min, {t - plan_time:+7,.0f} s)")
    model = {r.run_id: estimated_seconds(r.config) for r in kept}
    ranks = statistics.correlation(
        _ranks([model[r.run_id] for r in kept]), _ranks([seconds[r.run_id] for r in kept])
    ) if len(kept) > 2 else float("nan")  # fmt: skip
    print(f"cost model vs recorded times: Spearman rank correlation {ranks:.2f}")


def _ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    for rank, i in enumerate(order):
        ranks[i] = float(rank)
    return ranks


# model, dataset, batch size: the cpu profile's fixed-thread runs
CALIBRATION = [
    ("cnn2", "fashion_mnist", 256),
    ("lstm", "ts_middle", 50),
    ("lstm_cell_attention", "ts_middle", 50),
    ("tcn", "ts_middle", 50),
    ("lstm_mnist", "mnist_sequence", 64),
    ("tcn_mnist", "mnist_sequence", 64),
]


def calibrate(args) -> None:
    torch.set_num_threads(1)
    cases = []
    for model_name, dataset, batch in CALIBRATION:
        data = get_dataset(dataset, "test")
        x, y, idx = next(iter(make_loader(data, batch, shuffle=True, seed=0).batches(1)))
        for method_name in ("traditional", "sgt"):
            torch.manual_seed(0)
            model = create_model(model_name, data.num_classes, data.in_channels, data.image_size)
            method = get_method(method_name)
            method.setup(len(data), data.image_size**2, data.num_classes, "cpu")
            method.start_epoch(1)
            opt = make_optimizer("adam", model.parameters(), lr=1e-3)
            cases.append((model_name, method_name, model, method, opt, (x, y, idx)))
    ms: dict[tuple[str, str], list[float]] = {}
    for r in range(args.rounds + 1):  # the first round warms up
        for model_name, method_name, model, method, opt, (x, y, idx) in cases:
            model.train()
            t = time.process_time()
            train_step(model, method, opt, x, y, idx)
            step = 1000 * (time.process_time() - t) / len(y)
            t = time.process_time()
            evaluate_accuracy(model, [(x, y)])
            evaluation = 1000 * (time.process_time() - t) / len(y)
            if r:
                ms.setdefault((model_name, method_name), []).append(step)
                ms.setdefault((model_name, "evaluation"), []).append(evaluation)
    print(f"CPU ms per sample, one thread, median of {args.rounds} rounds")
    print(f"{'model':22s}{'traditional':>12s}{'sgt':>8s}{'sgt/trad':>9s}{'eval/trad':>10s}")
    for model_name, _, _ in CALIBRATION:
        trad, sgt, ev = (statistics.median(ms[model_name, k])
                         for k in ("traditional", "sgt", "evaluation"))  # fmt: skip
        print(f"{model_name:22s}{trad:12.3f}{sgt:8.3f}{sgt / trad:9.2f}{ev / trad:10.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", help="run store with the recorded runs")
    ap.add_argument("--end-to-end", help="end_to_end.json of a reproduce run")
    ap.add_argument("--profile", default="cpu")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    if args.calibrate:
        return calibrate(args)
    if not (args.store or args.end_to_end):
        ap.error("give --store DIR or --end-to-end FILE (or --calibrate)")
    return compare(args)


if __name__ == "__main__":
    main()
