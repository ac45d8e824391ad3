"""Benchmark: cost of a full ``grad`` accuracy-drop curve vs. the bare forward passes it needs.

In ONE process, alternately times
  (a) the bare forward passes over the same number of masked inputs (N images x L levels,
      pre-built, in batches of ``--batch-size``, eval mode, no grad), and
  (b) ``metrics.accuracy_drop_curve`` (saliency, ranking, masks for all levels, forward passes),
and prints the ratio (b) / (a) of the fastest repetitions (wall clock; process CPU time too,
which is less sensitive to other processes on the machine). (a) and (b) are interleaved chunk by
chunk so that both see the same machine load. Target: <= 1.3.

    .venv/bin/python benchmarks/accuracy_drop.py [--n 2000] [--repeats 3]

The model is the SGT reference CNN (``cnn2``, 1x28x28) with random weights; the cost does not
depend on the weights or on the image content.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from saliency_lib.masking import mask
from saliency_lib.metrics import accuracy_drop_curve
from saliency_lib.models import create_model


def bare_forward(model, inputs: torch.Tensor, batch_size: int) -> None:
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            model(inputs[start : start + batch_size])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="images")
    ap.add_argument("--levels", type=int, default=11, help="levels 0..100 %% evenly spaced")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    model = create_model("cnn2", num_classes=10, in_channels=1, image_size=28).eval()
    x = torch.randn(args.n, 1, 28, 28)
    y = torch.randint(0, 10, (args.n,))
    background = float(x.min())
    levels = [round(100 * i / (args.levels - 1), 6) for i in range(args.levels)]

    # (a) inputs: the same number of masked images the curve evaluates (N per level)
    scores = torch.rand(args.n, 28, 28)
    masked = torch.cat(
        [mask(x, scores, round(lv / 100 * 784), "top", "constant", background) for lv in levels]
    )
    n_inputs = len(masked)

    bare_forward(model, masked[: 4 * args.batch_size], args.batch_size)  # warm-up
    accuracy_drop_curve(model, (x[:256], y[:256]), "grad", levels, value=background)

    # Other processes on a shared machine change the speed over time, so (a) and (b) are
    # interleaved chunk by chunk (one chunk = batch_size images: their L masked batches for (a),
    # the curve of those images for (b)); each repetition sums its chunks.
    per_level = masked.reshape(len(levels), args.n, 1, 28, 28)
    bare_times, curve_times, bare_cpu, curve_cpu = [], [], [], []
    for _ in range(args.repeats):
        tb = tc = cb = cc = 0.0
        for start in range(0, args.n, args.batch_size):
            sl = slice(start, start + args.batch_size)
            chunk = per_level[:, sl].reshape(-1, 1, 28, 28)
            t, c = time.perf_counter(), time.process_time()
            bare_forward(model, chunk, args.batch_size)
            tb += time.perf_counter() - t
            cb += time.process_time() - c
            t, c = time.perf_counter(), time.process_time()
            accuracy_drop_curve(
                model, (x[sl], y[sl]), "grad", levels, value=background,
                batch_size=args.batch_size,
            )  # fmt: skip
            tc += time.perf_counter() - t
            cc += time.process_time() - c
        bare_times.append(tb)
        curve_times.append(tc)
        bare_cpu.append(cb)
        curve_cpu.append(cc)
    # the whole curve in one call (as a user runs it), for the AUC and its own wall time
    t = time.perf_counter()
    df = accuracy_drop_curve(
        model, (x, y), "grad", levels, value=background, batch_size=args.batch_size
    )
    one_call = time.perf_counter() - t

    ratio = min(curve_times) / min(bare_times)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"cnn2 1x28x28, {args.n} images x {len(levels)} levels = {n_inputs} masked inputs, "
          f"batch {args.batch_size}, {args.repeats} repeats")  # fmt: skip
    print(f"(a) bare forward passes: min {min(bare_times):.2f} s, "
          f"median {statistics.median(bare_times):.2f} s")  # fmt: skip
    print(f"(b) full grad curve:     min {min(curve_times):.2f} s, "
          f"median {statistics.median(curve_times):.2f} s")  # fmt: skip
    print(f"ratio (b)/(a) = {ratio:.3f} (median ratio "
          f"{statistics.median(curve_times) / statistics.median(bare_times):.3f}); "
          f"target <= 1.3: {'OK' if ratio <= 1.3 else 'NOT MET'}")  # fmt: skip
    print(f"process CPU time: (a) min {min(bare_cpu):.2f} s, (b) min {min(curve_cpu):.2f} s, "
          f"ratio {min(curve_cpu) / min(bare_cpu):.3f}")  # fmt: skip
    print(f"one call over all {args.n} images: {one_call:.2f} s")
    print(f"AUC of the curve: {df.attrs['auc']:.2f}")


if __name__ == "__main__":
    main()
