"""Step-time ratios of the training methods against Traditional (issue 3 targets).

cnn2, Fashion-MNIST, batch 256, CPU. Every method runs the same real batches; measurements are
interleaved round-robin, and each ratio is the median over rounds of the ratio within a round (so
a slow spell of the machine hits both sides of a ratio alike), printed with its spread. Targets:
SGT (eval) <= 2.5x Traditional, SGT fused <= 2.15x, SMOOT <= 1.05x SGT, HLGM phase 2 <= 1.05x SGT.
Steps are timed through ``trainer.train_step``, the function the Trainer runs.

    python benchmarks/train_step.py [--rounds 12] [--steps 2] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
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
