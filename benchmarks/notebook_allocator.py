"""Wall time of whole cpu-profile notebooks with the allocator tuning off and on (issue 16).

Each notebook runs through ``python -m saliency_lib reproduce --only NAME`` twice, first with
``SALIENCY_MALLOC_TUNING=0`` then with the default (tuned), each in a fresh output folder and,
by default, a fresh run store, so both train everything; the two runs of a notebook are back to
back on the same machine. With ``--store DIR`` (a store holding the notebooks' runs complete,
e.g. after ``make reproduce``) both load their runs from it instead: the notebooks' own work
(evaluation, attributions, figures) without the training, which
``benchmarks/profile_allocator.py`` measures. Prints one line per notebook and the ratio on/off.
Run it on an idle machine: a notebook's two runs see the same load only if nothing else runs.

    python benchmarks/notebook_allocator.py sgt_fig5_mnist_sequence_maps hlgm_fig6_saliency_maps
    python benchmarks/notebook_allocator.py --store outputs/runs --all
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from saliency_lib.pipeline.jobs import prepare_jobs


def run_notebook(name: str, profile: str, tuning: bool, store: str | None = None) -> float:
    """Seconds for one run of notebook ``name`` in a fresh output folder, with its runs in
    ``store`` (default: a fresh one); raises if it fails."""
    with tempfile.TemporaryDirectory(prefix="alloc-bench-") as tmp:
        env = {**os.environ, "SALIENCY_RUN_STORE": store or f"{tmp}/runs",
               "SALIENCY_MALLOC_TUNING": "1" if tuning else "0"}  # fmt: skip
        cmd = [sys.executable, "-m", "saliency_lib", "reproduce", "--profile", profile,
               "--only", name, "--output-root", f"{tmp}/outputs", "--no-progress"]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def profile_notebooks(profile: str) -> list[str]:
    """The enabled notebooks of ``profile``, in run order (the summary excluded: it trains and
    computes nothing of its own)."""
    return [j.name for j in prepare_jobs(profile) if j.enabled and j.name != "summary"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="notebook names (exact)")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--store", help="load the runs from this run store (no training)")
    parser.add_argument("--all", action="store_true", help="every enabled notebook of the profile")
    args = parser.parse_args()
    names = args.notebooks
    if args.all:
        names = profile_notebooks(args.profile)
    if args.store:
        args.store = str(Path(args.store).resolve())
    print(f"{'notebook':40s} {'off (s)':>9s} {'on (s)':>9s} {'on/off':>7s}")
    total = [0.0, 0.0]
    for name in names:
        off = run_notebook(name, args.profile, tuning=False, store=args.store)
        on = run_notebook(name, args.profile, tuning=True, store=args.store)
        total = [total[0] + off, total[1] + on]
        print(f"{name:40s} {off:9.1f} {on:9.1f} {on / off:7.2f}", flush=True)
    if len(names) > 1:
        print(f"{'all':40s} {total[0]:9.1f} {total[1]:9.1f} {total[1] / total[0]:7.2f}")


if __name__ == "__main__":
    main()
