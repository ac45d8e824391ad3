"""Step-time ratios of the training methods against Traditional (issue 3 targets).

cnn2, Fashion-MNIST, batch 256, CPU. Every method runs the same real batches; measurements are
interleaved round-robin, and each ratio is the median over rounds of the ratio within a round (so
a slow spell of the machine hits both sides of a ratio alike), printed with its spread. Targets:
SGT (eval) <= 2.5x Traditional, SGT fused <= 2.15x, SMOOT <= 1.05x SGT, HLGM phase 2 <= 1.05x SGT.
Steps are timed through ``trainer.train_step``, the function the Trainer runs.

    python benchmarks/train_step.py [--rounds 12] [--steps 2] [--threads 2]

``--allocators`` instead compares malloc settings (saliency_lib/allocator.py): each round starts one
child process per setting, in turn, and each child times Traditional, SGT, SMOOT and HLGM steps and
reports its peak and current resident memory; ratios are taken within a round.

    python benchmarks/train_step.py --allocators [--rounds 3] [--steps 4]

``--side-by-side`` compares one process using every core (``--threads``, default 2) with
``--threads`` processes of 1 thread each at the same time (what ``reproduce`` does with runs of
``RunConfig.threads=1``, saliency_lib/pipeline/side_by_side.py): the throughput ratio per method,
steps per second of all the processes together over the single process's, within each round.

    python benchmarks/train_step.py --side-by-side [--rounds 3] [--steps 4]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from saliency_lib.data import get_dataset, make_loader
from saliency_lib.methods import get_method
from saliency_lib.models import create_model
from saliency_lib.trainer import make_optimizer, train_step

# name -> (method, options, epoch passed to start_epoch, channels_last); NCHW is the RunConfig
# default, the two channels_last rows show what RunConfig(channels_last=True) buys
CASES = {
    "traditional": ("traditional", {}, 1, False),
    "sgt (eval)": ("sgt", {}, 1, False),
    "sgt (eval, no prefix sharing)": ("sgt", {"share_prefix": False}, 1, False),
    "sgt (fused)": ("sgt", {"saliency_mode": "fused"}, 1, False),
    "smoot": ("smoot", {"alpha": 0.95}, 1, False),
    "hlgm regularize": ("hlgm", {}, 2, False),
    "hlgm denoise": ("hlgm", {}, 6, False),
    "traditional (channels_last)": ("traditional", {}, 1, True),
    "sgt (eval, channels_last)": ("sgt", {}, 1, True),
}


# allocator setting -> environment of the child process (on top of the parent's, switch off)
_LIBDIR = Path("/usr/lib/x86_64-linux-gnu")
ALLOCATORS = {
    "glibc default": {"SALIENCY_MALLOC_TUNING": "0"},
    "glibc tuned (package default)": {"SALIENCY_MALLOC_TUNING": "1"},
    "glibc env, issue 16 values": {
        "SALIENCY_MALLOC_TUNING": "0",
        "MALLOC_MMAP_THRESHOLD_": str(4 * 1024**3),
        "MALLOC_TRIM_THRESHOLD_": str(64 * 1024**3),
        "MALLOC_TOP_PAD_": str(1024**3),
    },
    "jemalloc (LD_PRELOAD)": {"SALIENCY_MALLOC_TUNING": "0",
                              "LD_PRELOAD": str(_LIBDIR / "libjemalloc.so.2")},
    "tcmalloc (LD_PRELOAD)": {"SALIENCY_MALLOC_TUNING": "0",
                              "LD_PRELOAD": str(_LIBDIR / "libtcmalloc_minimal.so.4")},
}  # fmt: skip
ALLOCATOR_CASES = ["traditional", "sgt (eval)", "smoot", "hlgm regularize", "hlgm denoise"]


def _rss_mb() -> tuple[float, float]:
    """(peak, current) resident memory of this process in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open("/proc/self/statm") as f:
        current = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**2
    return peak, current


def compare_allocators(args) -> None:
    """Parent of ``--allocators``: interleaved child processes, one per setting per round."""
    settings = {k: v for k, v in ALLOCATORS.items()
                if "LD_PRELOAD" not in v or Path(v["LD_PRELOAD"]).exists()}  # fmt: skip
    missing = sorted(set(ALLOCATORS) - set(settings))
    results = {name: [] for name in settings}
    for _ in range(args.rounds):
        for name, extra in settings.items():
            env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
            env.update(extra)
            cmd = [sys.executable, __file__, "--child", "--steps", str(args.steps), "--batch-size",
                   str(args.batch_size), "--threads", str(args.threads)]  # fmt: skip
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
            results[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = "glibc default"
    print(f"cnn2, Fashion-MNIST, batch {args.batch_size}, CPU, {args.threads} threads; "
          f"{args.rounds} rounds x {args.steps} steps per child; ms/step = median over rounds; "
          f"change = median over rounds of the within-round ratio to '{base}'")  # fmt: skip
    if missing:
        print(f"(not installed, skipped: {', '.join(missing)})")
    for key, what in [
        ("ms", "wall ms/step"),
        ("cpu_ms", "CPU ms/step (user+system, all threads: less sensitive to other load)"),
        ("sys_ms", "system ms/step"),
    ]:
        print(f"\n{what}")
        header = f"{'setting':31s}" + "".join(f"{c:>18s}" for c in ALLOCATOR_CASES)
        print(header + f"{'SGT/Trad':>9s}{'peak MB':>9s}{'end MB':>8s}")
        for name, runs in results.items():
            cells = []
            for case in ALLOCATOR_CASES:
                ms = statistics.median(r[key][case] for r in runs)
                change = statistics.median(
                    r[key][case] / max(b[key][case], 1e-9) - 1
                    for r, b in zip(runs, results[base], strict=True)
                )
                cells.append(f"{ms:9.0f} ({100 * change:+4.0f}%)")
            sgt = statistics.median(r[key]["sgt (eval)"] / r[key]["traditional"] for r in runs)
            peak = statistics.median(r["peak_mb"] for r in runs)
            end = statistics.median(r["end_mb"] for r in runs)
            print(f"{name:31s}" + "".join(f"{c:>18s}" for c in cells)
                  + f"{sgt:9.2f}{peak:9.0f}{end:8.0f}")  # fmt: skip


def compare_side_by_side(args) -> None:
    """Parent of ``--side-by-side``: per round, one child of ``--threads`` threads alone, then
    ``--threads`` children of 1 thread at once; ratios within a round."""
    procs = args.threads
    cmd = [sys.executable, __file__, "--child", "--steps", str(args.steps), "--batch-size",
           str(args.batch_size), "--threads"]  # fmt: skip
    ratios = {case: [] for case in ALLOCATOR_CASES}
    alone_ms = {case: [] for case in ALLOCATOR_CASES}
    side_ms = {case: [] for case in ALLOCATOR_CASES}
    for _ in range(args.rounds):
        out = subprocess.run([*cmd, str(procs)], capture_output=True, text=True, check=True)
        alone = json.loads(out.stdout.strip().splitlines()[-1])["ms"]
        children = [subprocess.Popen([*cmd, "1"], stdout=subprocess.PIPE, text=True)
                    for _ in range(procs)]  # fmt: skip
        each = [json.loads(c.communicate()[0].strip().splitlines()[-1])["ms"] for c in children]
        for case in ALLOCATOR_CASES:
            side = statistics.mean(e[case] for e in each)
            alone_ms[case].append(alone[case])
            side_ms[case].append(side)
            ratios[case].append(procs * alone[case] / side)  # steps/s together over alone
    print(f"cnn2, Fashion-MNIST, batch {args.batch_size}, CPU ({os.cpu_count()} cores): one "
          f"process of {procs} threads vs {procs} processes of 1 thread at once; {args.rounds} "
          f"rounds x {args.steps} steps; medians over rounds")  # fmt: skip
    print(f"{'method':18s}{'alone ms/step':>15s}{'side by side ms/step':>22s}{'throughput':>12s}")
    for case in ALLOCATOR_CASES:
        print(f"{case:18s}{statistics.median(alone_ms[case]):15.0f}"
              f"{statistics.median(side_ms[case]):22.0f}"
              f"{statistics.median(ratios[case]):11.2f}x")  # fmt: skip


def child(args) -> None:
    """One child of ``--allocators``: time each case and print one JSON line."""
    torch.set_num_threads(args.threads)
    data = get_dataset("fashion_mnist", "train")
    loader = make_loader(data, args.batch_size, shuffle=True, seed=0)
    batches = [b for _, b in zip(range(args.steps), loader.batches(1), strict=False)]
    ms, cpu_ms, sys_ms = {}, {}, {}
    for name in ALLOCATOR_CASES:
        method_name, options, epoch, _ = CASES[name]
        torch.manual_seed(0)
        model = create_model("cnn2", data.num_classes, data.in_channels, data.image_size)
        method = get_method(method_name, **options)
        method.setup(len(data), data.image_size**2, data.num_classes, "cpu")
        if method_name == "hlgm":
            method.plateau_epoch = 1
        method.start_epoch(epoch)
        opt = make_optimizer("adadelta", model.parameters(), lr=1.0)
        model.train()
        train_step(model, method, opt, *batches[0])  # warm-up
        r0, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for x, y, idx in batches:
            train_step(model, method, opt, x, y, idx)
        wall, r1 = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
        ms[name] = 1000 * wall / len(batches)
        cpu_ms[name] = 1000 * (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) / len(batches)
        sys_ms[name] = 1000 * (r1.ru_stime - r0.ru_stime) / len(batches)
    peak, end = _rss_mb()
    print(json.dumps({"ms": ms, "cpu_ms": cpu_ms, "sys_ms": sys_ms, "peak_mb": peak,
                      "end_mb": end}))  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--allocators", action="store_true", help="compare malloc settings")
    ap.add_argument(
        "--side-by-side",
        action="store_true",
        help="one process of --threads threads vs --threads 1-thread processes",
    )
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    if args.allocators:
        return compare_allocators(args)
    if args.side_by_side:
        return compare_side_by_side(args)
    torch.set_num_threads(args.threads)

    data = get_dataset("fashion_mnist", "train")
    loader = make_loader(data, args.batch_size, shuffle=True, seed=0)
    batches = [b for _, b in zip(range(args.steps), loader.batches(1), strict=False)]

    setups = {}
    for name, (method_name, options, epoch, channels_last) in CASES.items():
        torch.manual_seed(0)
        model = create_model("cnn2", data.num_classes, data.in_channels, data.image_size)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        method = get_method(method_name, **options)
        method.setup(len(data), data.image_size**2, data.num_classes, "cpu")
        if method_name == "hlgm":
            method.plateau_epoch = 1  # put HLGM in phase 2 (epoch 2: regularize, 6: denoise)
        method.start_epoch(epoch)
        opt = make_optimizer("adadelta", model.parameters(), lr=1.0)
        setups[name] = (model, method, opt)

    def run_steps(name: str) -> float:
        model, method, opt = setups[name]
        model.train()
        start = time.perf_counter()
        for x, y, idx in batches:
            train_step(model, method, opt, x, y, idx)
        return (time.perf_counter() - start) / len(batches)

    for name in setups:  # warm-up
        run_steps(name)
    times = {name: [] for name in setups}
    for _ in range(args.rounds):
        for name in setups:
            times[name].append(run_steps(name))
    med = {name: statistics.median(t) for name, t in times.items()}

    def ratio(name: str, ref: str) -> tuple[float, float, float]:
        """Median, min and max over rounds of the per-round ratio (cases of one round run
        back to back, so a slow spell of the machine cancels out of the ratio)."""
        r = [a / b for a, b in zip(times[name], times[ref], strict=True)]
        return statistics.median(r), min(r), max(r)

    print(f"cnn2, Fashion-MNIST, batch {args.batch_size}, CPU, {args.threads} threads; "
          f"{args.rounds} rounds x {args.steps} steps; ratios: median over rounds of the "
          "per-round ratio [min-max]")  # fmt: skip
    print(f"{'method':30s} {'ms/step':>8s} {'x trad':>7s} {'[min-max]':>11s} {'x sgt':>6s}")
    for name, t in med.items():
        r, lo, hi = ratio(name, "traditional")
        print(f"{name:30s} {1000 * t:8.1f} {r:7.2f} [{lo:4.2f}-{hi:4.2f}] "
              f"{ratio(name, 'sgt (eval)')[0]:6.2f}")  # fmt: skip
    checks = [
        ("SGT (eval) <= 2.5x Traditional", ratio("sgt (eval)", "traditional"), 2.5),
        ("SGT fused <= 2.15x Traditional", ratio("sgt (fused)", "traditional"), 2.15),
        ("SMOOT <= 1.05x SGT", ratio("smoot", "sgt (eval)"), 1.05),
        ("HLGM regularize <= 1.05x SGT", ratio("hlgm regularize", "sgt (eval)"), 1.05),
        ("HLGM denoise <= 1.05x SGT", ratio("hlgm denoise", "sgt (eval)"), 1.05),
    ]
    nhwc = ratio("sgt (eval, channels_last)", "traditional (channels_last)")[0]
    time_ratio = ratio("traditional (channels_last)", "traditional")[0]
    print(f"(channels_last: SGT eval {nhwc:.2f}x Traditional; a Traditional step takes "
          f"{time_ratio:.2f}x its NCHW time)")  # fmt: skip
    print()
    for label, (r, lo, hi), target in checks:
        print(f"{label:34s} {r:5.2f} [{lo:4.2f}-{hi:4.2f}]  {'met' if r <= target else 'NOT met'}")


if __name__ == "__main__":
    main()
