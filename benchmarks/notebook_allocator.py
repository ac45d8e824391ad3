"""Wall time of whole cpu-profile notebooks with the allocator tuning off and on (issue 16).

Each notebook runs through ``python -m saliency_lib reproduce --only NAME`` twice, first with
``SALIENCY_MALLOC_TUNING=0`` then with the default (tuned), each in a fresh run store and output
folder, so both train everything; the two runs of a notebook are back to back on the same
machine. Prints one line per notebook and the ratio on/off. Run it on an idle machine: a
notebook's two runs see the same load only if nothing else runs.

    python benchmarks/notebook_allocator.py sgt_fig5_mnist_sequence_maps hlgm_fig6_saliency_maps
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def run_notebook(name: str, profile: str, tuning: bool) -> float:
    """Seconds for one fresh run of notebook ``name`` (raises if it fails)."""
    with tempfile.TemporaryDirectory(prefix="alloc-bench-") as tmp:
        env = {**os.environ, "SALIENCY_RUN_STORE": f"{tmp}/runs",
               "SALIENCY_MALLOC_TUNING": "1" if tuning else "0"}  # fmt: skip
        cmd = [sys.executable, "-m", "saliency_lib", "reproduce", "--profile", profile,
               "--only", name, "--output-root", f"{tmp}/outputs", "--no-progress"]  # fmt: skip
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", help="notebook names (exact)")
    parser.add_argument("--profile", default="cpu")
    args = parser.parse_args()
    print(f"{'notebook':40s} {'off (s)':>9s} {'on (s)':>9s} {'on/off':>7s}")
    for name in args.notebooks:
        off = run_notebook(name, args.profile, tuning=False)
        on = run_notebook(name, args.profile, tuning=True)
        print(f"{name:40s} {off:9.1f} {on:9.1f} {on / off:7.2f}", flush=True)


if __name__ == "__main__":
    main()
