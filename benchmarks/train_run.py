"""One cpu-profile training run end to end, its wall time split into parts: data loading and
model set-up, training steps, per-epoch evaluation, checkpoint writes, and the rest (batching,
bookkeeping), so the next bottleneck is visible (issue 16).

The parts are timed by wrapping the functions the run calls (``trainer.train_step``,
``trainer.evaluate_accuracy``, ``torch.save``); the run goes to a temporary store, so nothing
is loaded from an earlier run. Default: SMOOT on the cpu profile's Fashion-MNIST setting
(2,000 training images, a 5,000-image test subset, batch 256, one thread), 4 epochs, the test
subset evaluated after every epoch; ``--test-eval final_epoch`` evaluates it after the last
epoch only (``RunConfig.test_eval``), ``--test-eval both`` trains the run both ways, one after
the other in this process, and prints the evaluation share before and after the cut,
``--precision bf16`` trains under bf16 autocast,
``--channels-last`` in NHWC (``RunConfig.channels_last``).

    python benchmarks/train_run.py [--method smoot] [--epochs 4] [--train-subset 2000]
        [--test-subset 5000] [--threads 1] [--test-eval every_epoch|final_epoch|both]
        [--precision fp32]
        [--channels-last]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch
from _timing import CALLS, SECONDS, reset, timed

import saliency_lib.trainer as trainer_module
from saliency_lib.allocator import allocator_status
from saliency_lib.config import PRECISIONS, RunConfig
from saliency_lib.runs import train_or_load
from saliency_lib.trainer import TEST_EVALS


def measure(config: RunConfig) -> tuple[float, float, float]:
    """Train ``config`` into a temporary store with the parts timed; print the split.
    Returns the time of its epochs (set-up left out), its final test accuracy and the
    evaluation share of that time."""
    reset()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as store:
        run = train_or_load(config, store=store)
    total = time.perf_counter() - start
    epoch_seconds = sum(h["seconds"] for h in run.history)
    SECONDS["data loading and set-up"] = total - epoch_seconds - SECONDS["checkpoint writes"]
    SECONDS["batching and bookkeeping"] = (
        epoch_seconds - SECONDS["training steps"] - SECONDS["evaluation"]
    )
    tuning = allocator_status()["applied"] or "off"
    print(f"{config.method}, Fashion-MNIST {config.train_subset} training images, test subset "
          f"{config.test_subset} ({config.test_eval}), {config.epochs} epochs, batch 256, "
          f"{config.threads} thread(s), {config.precision}"
          f"{' channels_last' if config.channels_last else ''}, malloc tuning {tuning}, load "
          f"average {'/'.join(f'{v:.1f}' for v in os.getloadavg())}")  # fmt: skip
    print(f"total {total:.1f} s; final test accuracy {run.final_test_acc:.2f} %")
    print(f"{'part':28s} {'seconds':>8s} {'share':>6s} {'calls':>6s} {'per call':>9s}")
    order = ["data loading and set-up", "training steps", "evaluation", "checkpoint writes",
             "batching and bookkeeping"]  # fmt: skip
    for name in order:
        s, n = SECONDS[name], CALLS.get(name, 0)
        per = f"{1000 * s / n:7.0f}ms" if n else ""
        print(f"{name:28s} {s:8.1f} {100 * s / total:5.1f}% {n or '':>6} {per:>9s}")
    # the comparison leaves out set-up: the first run of a process also pays one-time costs
    # (reading the data, torch's first calls) that the second finds done
    epochs_only = total - SECONDS["data loading and set-up"]
    return epochs_only, run.final_test_acc, SECONDS["evaluation"] / epochs_only


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="smoot")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--train-subset", type=int, default=2000)
    ap.add_argument("--test-subset", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--test-eval", default="every_epoch", choices=[*TEST_EVALS, "both"])
    ap.add_argument("--precision", default="fp32", choices=PRECISIONS)
    ap.add_argument("--channels-last", action="store_true", help="RunConfig.channels_last")
    args = ap.parse_args()
    options = {"smoot": {"alpha": 0.95, "mu": 10.0}, "sgt": {"k_fraction": 0.5}}.get(
        args.method, {}
    )
    trainer_module.train_step = timed("training steps", trainer_module.train_step)
    trainer_module.evaluate_accuracy = timed("evaluation", trainer_module.evaluate_accuracy)
    torch.save = timed("checkpoint writes", torch.save)
    evals = list(TEST_EVALS) if args.test_eval == "both" else [args.test_eval]
    results = {}
    for test_eval in evals:
        config = RunConfig(method=args.method, method_params=options, dataset="fashion_mnist",
                           train_subset=args.train_subset, test_subset=args.test_subset,
                           epochs=args.epochs, batch_size=256, lr=1.0, threads=args.threads,
                           test_eval=test_eval, precision=args.precision,
                           channels_last=args.channels_last, progress=False)  # fmt: skip
        results[test_eval] = measure(config)
        print()
    if len(results) == 2:
        (t0, a0, e0), (t1, a1, e1) = results["every_epoch"], results["final_epoch"]
        print(f"evaluation share of the epochs (set-up left out): every_epoch {100 * e0:.1f} % "
              f"-> final_epoch {100 * e1:.1f} %; epochs {t0:.1f} -> {t1:.1f} s ({t1 / t0:.2f}); "
              f"final test accuracy "
              f"{a0:.2f} -> {a1:.2f} % ({'identical' if a0 == a1 else 'DIFFERENT'})")  # fmt: skip


if __name__ == "__main__":
    main()
