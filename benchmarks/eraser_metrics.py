"""Where SGT Table 1's ERASER metrics spend their time (issue 27): one run of the cpu profile's
``sgt_tab1_eraser_language`` grid, its test documents scored by each saliency method in turn
(:func:`saliency_lib.metrics.eraser.eraser_scores`, the notebook's settings), the wall time
split into the attributions (``token_attributions``), the forward passes on the perturbed
documents (comprehensiveness and sufficiency: ``_probabilities``) and the rest (the full
documents' forward pass, rationale scores, bookkeeping).

The run is loaded from the run store (``--store``, default the project's) or trained there
first. The printout ends with the whole notebook's metric time this predicts (runs x the
per-run sum), to compare with the notebook's measured time in ``outputs/cpu/timings.json``.

    python benchmarks/eraser_metrics.py [--store DIR] [--label traditional] [--seed 0]
        [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from _timing import CALLS, SECONDS, reset, timed

import saliency_lib.metrics.eraser as eraser
from saliency_lib._project import project_layout
from saliency_lib.grid import grid_configs
from saliency_lib.pipeline.params import notebook_parameters, parameters_grid, validate_params
from saliency_lib.runs import load_splits, train_or_load

NOTEBOOK = "sgt_tab1_eraser_language"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default=None, help="run store (default: the project's)")
    ap.add_argument("--label", default="traditional", help="method label of the grid")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    defaults = notebook_parameters(project_layout().notebooks / f"{NOTEBOOK}.ipynb")
    params = {**defaults, **validate_params(NOTEBOOK, "cpu", check_network=False)}
    grid = parameters_grid(NOTEBOOK, params, "params/cpu")
    configs = grid_configs(grid)
    (setting,) = grid
    config = grid[setting][(args.label, args.seed)]
    run = train_or_load(config, store=args.store, progress=False)
    test = load_splits(config)[1]
    methods, options = params["saliency_methods"], params["saliency_options"] or {}

    eraser.token_attributions = timed("attributions", eraser.token_attributions)
    eraser._probabilities = timed("perturbed forward passes", eraser._probabilities)
    print(f"{NOTEBOOK}, cpu profile: run {config.run_id}, {len(test)} test documents, "
          f"{args.threads} thread(s), load average "
          f"{'/'.join(f'{v:.1f}' for v in os.getloadavg())}")  # fmt: skip
    print(f"{'saliency':12s} {'seconds':>8s} {'attrib.':>8s} {'perturbed':>9s} {'rest':>6s} "
          f"{'batches':>8s}")  # fmt: skip
    per_run = 0.0
    for method in methods:
        reset()
        start = time.perf_counter()
        eraser.eraser_scores(run.model, test, [method], {method: options.get(method) or {}},
                             params["bins"], progress=False)  # fmt: skip
        total = time.perf_counter() - start
        per_run += total
        a, p = SECONDS["attributions"], SECONDS["perturbed forward passes"]
        print(f"{method:12s} {total:8.1f} {a:8.1f} {p:9.1f} {total - a - p:6.1f} "
              f"{CALLS['perturbed forward passes']:8d}")  # fmt: skip
    print(
        f"per run {per_run:.1f} s; the notebook's {len(configs)} runs: about "
        f"{len(configs) * per_run / 60:.1f} min of metrics (one process)"
    )


if __name__ == "__main__":
    main()
