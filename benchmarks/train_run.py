"""One cpu-profile training run end to end, its wall time split into parts: data loading and
model set-up, training steps, per-epoch evaluation, checkpoint writes, and the rest (batching,
bookkeeping), so the next bottleneck is visible (issue 16).

The parts are timed by wrapping the functions the run calls (``trainer.train_step``,
``trainer.evaluate_accuracy``, ``torch.save``); the run goes to a temporary store, so nothing
is loaded from an earlier run. Default: SMOOT on the cpu profile's Fashion-MNIST setting
(2,000 training images, a 5,000-image test subset, batch 256, one thread), 4 epochs, the test
subset evaluated after every epoch; ``--test-eval final_epoch`` evaluates it after the last
epoch only (``RunConfig.test_eval``), ``--precision bf16`` trains under bf16 autocast,
``--channels-last`` in NHWC (``RunConfig.channels_last``).

    python benchmarks/train_run.py [--method smoot] [--epochs 4] [--train-subset 2000]
        [--test-subset 5000] [--threads 1] [--test-eval every_epoch] [--precision fp32]
        [--channels-last]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import defaultdict

import torch

import saliency_lib.trainer as trainer_module
from saliency_lib.allocator import allocator_status
from saliency_lib.config import PRECISIONS, RunConfig
from saliency_lib.runs import train_or_load
from saliency_lib.trainer import TEST_EVALS

SECONDS: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)


def _timed(name: str, fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            SECONDS[name] += time.perf_counter() - start
            CALLS[name] += 1

    return wrapper


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="smoot")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--train-subset", type=int, default=2000)
    ap.add_argument("--test-subset", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--test-eval", default="every_epoch", choices=TEST_EVALS)
    ap.add_argument("--precision", default="fp32", choices=PRECISIONS)
    ap.add_argument("--channels-last", action="store_true", help="RunConfig.channels_last")
    args = ap.parse_args()
    options = {"smoot": {"alpha": 0.95, "mu": 10.0}, "sgt": {"k_fraction": 0.5}}.get(
        args.method, {}
    )
    config = RunConfig(method=args.method, method_params=options, dataset="fashion_mnist",
                       train_subset=args.train_subset, test_subset=args.test_subset,
                       epochs=args.epochs, batch_size=256, lr=1.0, threads=args.threads,
                       test_eval=args.test_eval, precision=args.precision,
                       channels_last=args.channels_last, progress=False)  # fmt: skip

    trainer_module.train_step = _timed("training steps", trainer_module.train_step)
    trainer_module.evaluate_accuracy = _timed("evaluation", trainer_module.evaluate_accuracy)
    torch.save = _timed("checkpoint writes", torch.save)
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
    print(f"{args.method}, Fashion-MNIST {args.train_subset} training images, test subset "
          f"{args.test_subset} ({args.test_eval}), {args.epochs} epochs, batch 256, "
          f"{args.threads} thread(s), {args.precision}"
          f"{' channels_last' if args.channels_last else ''}, malloc tuning {tuning}, load average "
          f"{'/'.join(f'{v:.1f}' for v in os.getloadavg())}")  # fmt: skip
    print(f"total {total:.1f} s; final test accuracy {run.final_test_acc:.2f} %")
    print(f"{'part':28s} {'seconds':>8s} {'share':>6s} {'calls':>6s} {'per call':>9s}")
    order = ["data loading and set-up", "training steps", "evaluation", "checkpoint writes",
             "batching and bookkeeping"]  # fmt: skip
    for name in order:
        s, n = SECONDS[name], CALLS.get(name, 0)
        per = f"{1000 * s / n:7.0f}ms" if n else ""
        print(f"{name:28s} {s:8.1f} {100 * s / total:5.1f}% {n or '':>6} {per:>9s}")


if __name__ == "__main__":
    main()
