"""Step-time ratios of the training methods against Traditional (issue 3 targets).

cnn2, Fashion-MNIST, batch 256, CPU. Every method runs the same real batches; measurements are
interleaved round-robin (so machine noise hits all methods alike) and the median step time of each
method is reported with its ratio. Targets: SGT (eval) <= 2.5x Traditional, SGT fused <= 2.15x,
SMOOT <= 1.05x SGT, HLGM phase 2 <= 1.05x SGT.

    python benchmarks/train_step.py [--rounds 7] [--steps 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from saliency_lib.data import get_dataset, make_loader
from saliency_lib.methods import get_method
from saliency_lib.models import create_model
from saliency_lib.trainer import make_optimizer

# name -> (method, options, epoch passed to start_epoch)
CASES = {
    "traditional": ("traditional", {}, 1),
    "sgt (eval)": ("sgt", {}, 1),
    "sgt (eval, no prefix sharing)": ("sgt", {"share_prefix": False}, 1),
    "sgt (fused)": ("sgt", {"saliency_mode": "fused"}, 1),
    "smoot": ("smoot", {"alpha": 0.95}, 1),
    "hlgm regularize": ("hlgm", {}, 2),
    "hlgm denoise": ("hlgm", {}, 6),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    data = get_dataset("fashion_mnist", "train")
    loader = make_loader(data, args.batch_size, shuffle=True, seed=0)
    batches = [b for _, b in zip(range(args.steps), loader.batches(1), strict=False)]

    setups = {}
    for name, (method_name, options, epoch) in CASES.items():
        torch.manual_seed(0)
        model = create_model("cnn2", data.num_classes, data.in_channels, data.image_size)
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
            opt.zero_grad(set_to_none=True)
            method.loss(model, x, y, idx).loss.backward()
            opt.step()
        return (time.perf_counter() - start) / len(batches)

    for name in setups:  # warm-up
        run_steps(name)
    times = {name: [] for name in setups}
    for _ in range(args.rounds):
        for name in setups:
            times[name].append(run_steps(name))
    med = {name: statistics.median(t) for name, t in times.items()}

    base, sgt = med["traditional"], med["sgt (eval)"]
    print(f"cnn2, Fashion-MNIST, batch {args.batch_size}, CPU, {args.threads} threads; "
          f"median of {args.rounds} rounds x {args.steps} steps")  # fmt: skip
    print(f"{'method':30s} {'ms/step':>9s} {'x trad':>7s} {'x sgt':>7s}")
    for name, t in med.items():
        print(f"{name:30s} {1000 * t:9.1f} {t / base:7.2f} {t / sgt:7.2f}")
    checks = [
        ("SGT (eval) <= 2.5x Traditional", sgt / base, 2.5),
        ("SGT fused <= 2.15x Traditional", med["sgt (fused)"] / base, 2.15),
        ("SMOOT <= 1.05x SGT", med["smoot"] / sgt, 1.05),
        ("HLGM regularize <= 1.05x SGT", med["hlgm regularize"] / sgt, 1.05),
        ("HLGM denoise <= 1.05x SGT", med["hlgm denoise"] / sgt, 1.05),
    ]
    print()
    for label, ratio, target in checks:
        print(f"{label:34s} {ratio:5.2f}  {'met' if ratio <= target else 'NOT met'}")


if __name__ == "__main__":
    main()
