"""bf16 against fp32 training steps on this CPU, per training method (issue 27).

cnn2, Fashion-MNIST, batch 256 (the cpu profile's image runs), one thread by default (the cpu
profile trains every run on one thread, two runs side by side). Each step goes through
``trainer.train_step`` with the ``Precision`` a run builds from ``RunConfig.precision``. Every
round times each method in every precision back to back (the precisions' order alternates
between rounds), so a slow spell of a shared machine hits both sides of a ratio alike; each
ratio is the median over rounds of the within-round ratio, printed with its range. Wall time
and the process's CPU time (user + system) are both reported: on a loaded machine the wall time
also counts the time waiting for a core, the CPU time much less so. The load average before and
after is printed.

    python benchmarks/precision.py [--rounds 8] [--steps 3] [--threads 1] [--channels-last]

``--channels-last`` adds bf16 with ``RunConfig.channels_last`` (NHWC): oneDNN's bf16 kernels work
on NHWC, so an NCHW model pays a layout reorder around every convolution.

``--onednn`` instead runs one step of each method per precision in a child process with
``ONEDNN_VERBOSE=1`` and prints which oneDNN kernels (implementation:ISA) it executed and the
share of oneDNN's time spent in layout reorders.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict

import torch

from saliency_lib.config import RunConfig
from saliency_lib.data import get_dataset, make_loader
from saliency_lib.methods import get_method
from saliency_lib.models import create_model
from saliency_lib.trainer import Precision, make_optimizer, train_step

# name -> (method, options, epoch passed to start_epoch); the cpu profile's options
METHODS = {
    "traditional": ("traditional", {}, 1),
    "sgt": ("sgt", {"k_fraction": 0.5}, 1),
    "smoot": ("smoot", {"alpha": 0.95, "mu": 10.0}, 1),
    "hlgm regularize": ("hlgm", {}, 2),  # plateau at epoch 1: epoch 2 regularizes
    "hlgm denoise": ("hlgm", {}, 6),  # ... and epoch 6 (episode of 5, 4 regularize) denoises
}
# variant -> RunConfig fields
VARIANTS = {
    "fp32": {"precision": "fp32"},
    "bf16": {"precision": "bf16"},
    "bf16 channels_last": {"precision": "bf16", "channels_last": True},
}


def _setup(method_key: str, variant: dict, data):
    """Model, method, optimiser and precision of one case, built the way a run builds them."""
    method_name, options, epoch = METHODS[method_key]
    config = RunConfig(method=method_name, method_params=options, **variant)
    torch.manual_seed(0)
    model = create_model(config.model, data.num_classes, data.in_channels, data.image_size)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    method = get_method(config.method, config.method_params)
    method.setup(len(data), data.image_size**2, data.num_classes, "cpu")
    if method_name == "hlgm":
        method.plateau_epoch = 1
    method.start_epoch(epoch)
    opt = make_optimizer(config.optimizer, model.parameters(), lr=config.lr)
    return model, method, opt, Precision(config.precision, "cpu")


def _batches(steps: int, batch_size: int):
    data = get_dataset("fashion_mnist", "train")
    loader = make_loader(data, batch_size, shuffle=True, seed=0)
    return data, [b for _, b in zip(range(steps), loader.batches(1), strict=False)]


def _time(case, batches) -> tuple[float, float]:
    """(wall, CPU) seconds per step of ``case`` over ``batches``."""
    model, method, opt, precision = case
    model.train()
    c0, w0 = time.process_time(), time.perf_counter()
    for x, y, idx in batches:
        train_step(model, method, opt, x, y, idx, precision)
    n = len(batches)
    return (time.perf_counter() - w0) / n, (time.process_time() - c0) / n


def _load() -> str:
    return "/".join(f"{v:.1f}" for v in os.getloadavg())


def compare(args) -> None:
    torch.set_num_threads(args.threads)
    variants = [v for v in VARIANTS if args.channels_last or "channels_last" not in v]
    data, batches = _batches(args.steps, args.batch_size)
    cases = {(m, v): _setup(m, VARIANTS[v], data) for m in METHODS for v in variants}
    load_before = _load()
    for case in cases.values():  # warm-up: oneDNN builds its kernels on first use
        _time(case, batches[:1])
    wall, cpu = defaultdict(list), defaultdict(list)
    started = time.perf_counter()
    for r in range(args.rounds):
        order = variants if r % 2 == 0 else variants[::-1]
        for m in METHODS:
            for v in order:
                w, c = _time(cases[m, v], batches)
                wall[m, v].append(w)
                cpu[m, v].append(c)
    minutes = (time.perf_counter() - started) / 60
    print(f"cnn2, Fashion-MNIST, batch {args.batch_size}, {args.threads} thread(s), "
          f"{args.rounds} rounds x {args.steps} steps, interleaved; torch {torch.__version__}, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}")  # fmt: skip
    print(f"load average (1/5/15 min) before {load_before}, after {_load()}; "
          f"{minutes:.1f} min of rounds")  # fmt: skip
    print("ms/step: median over rounds; ratio: median over rounds of the within-round ratio to "
          "fp32 [min-max]")  # fmt: skip
    for label, times in (("wall", wall), ("CPU (user+system)", cpu)):
        print(f"\n{label} time")
        head = f"{'method':17s}{'fp32 ms':>9s}"
        for v in variants[1:]:
            head += f"{v + ' ms':>22s}{v + '/fp32':>25s}"
        print(head)
        for m in METHODS:
            base = times[m, "fp32"]
            line = f"{m:17s}{1000 * statistics.median(base):9.0f}"
            for v in variants[1:]:
                r = [a / b for a, b in zip(times[m, v], base, strict=True)]
                cell = f"{statistics.median(r):.2f} [{min(r):.2f}-{max(r):.2f}]"
                line += f"{1000 * statistics.median(times[m, v]):22.0f}{cell:>25s}"
            print(line)


_LIBC = ctypes.CDLL(None)
_LINE = re.compile(r"^onednn_verbose,[^,]*,primitive,exec,cpu,([^,]+),([^,]+),([^,]*),")


def onednn(args) -> None:
    """Parent of ``--onednn``: one child per precision with ``ONEDNN_VERBOSE=1``; per primitive
    kind the implementations it ran, and the reorders' share of oneDNN's time."""
    variants = [v for v in VARIANTS if args.channels_last or "channels_last" not in v]
    for v in variants:
        env = dict(os.environ, ONEDNN_VERBOSE="1")
        cmd = [sys.executable, __file__, "--onednn-child", v, "--threads", str(args.threads),
               "--batch-size", str(args.batch_size)]  # fmt: skip
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        kernels, ms = defaultdict(int), defaultdict(float)
        timed = False
        for line in out.splitlines():
            if line.startswith("=== timed"):
                timed = True
            m = _LINE.match(line)
            if not (timed and m):
                continue
            kind, impl, prop = m.groups()
            kernels[f"{kind} {prop}".strip() + f": {impl}"] += 1
            ms[kind] += float(line.rsplit(",", 1)[1])
        total = sum(ms.values())
        share = f"{100 * ms['reorder'] / total:.0f} %" if total else "n/a"
        print(f"\n{v}: oneDNN primitives in one step of each method (count; time in reorders "
              f"{share} of oneDNN's {total:.0f} ms)")  # fmt: skip
        for k in sorted(kernels):
            print(f"  {kernels[k]:4d}  {k}")
        if not kernels:
            print("  (none: every op ran outside oneDNN)")


def onednn_child(args) -> None:
    torch.set_num_threads(args.threads)
    data, batches = _batches(1, args.batch_size)
    for m in METHODS:
        case = _setup(m, VARIANTS[args.onednn_child], data)
        _time(case, batches)  # warm-up (kernel creation lines)
        _LIBC.fflush(None)  # oneDNN's lines (C stdio) before the marker
        print("=== timed", m, flush=True)
        _time(case, batches)
        _LIBC.fflush(None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--channels-last", action="store_true", help="add bf16 with NHWC")
    ap.add_argument("--onednn", action="store_true", help="print the oneDNN kernels each runs")
    ap.add_argument("--onednn-child", choices=list(VARIANTS), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.onednn_child:
        return onednn_child(args)
    if args.onednn:
        return onednn(args)
    return compare(args)


if __name__ == "__main__":
    main()
