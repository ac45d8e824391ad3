"""Write the notebooks with one profile's parameters injected but not executed, for JupyterLab.

``make lab-profile PROFILE=smoke`` runs this, then JupyterLab on the folder: each notebook opens
with papermill's ``injected-parameters`` cell (after its own ``parameters`` cell) holding the
values ``reproduce --profile smoke`` would inject, checked the same way first. Run All then is
that profile's run, in seconds for ``smoke``, writing to ``outputs/<profile>/<notebook>/`` as a
Run All of ``notebooks/`` writes to ``outputs/cpu/``. Nothing is executed here (papermill's
prepare-only mode), and the notebooks in ``notebooks/`` are not touched::

    python scripts/lab_notebooks.py --profile smoke                     # -> outputs/lab/smoke/
    python scripts/lab_notebooks.py --profile smoke --only hlgm_fig2 --set training.epochs=2
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from saliency_lib._project import output_root
from saliency_lib.pipeline.jobs import prepare_jobs
from saliency_lib.pipeline.params import ParameterError, parse_sets
from saliency_lib.pipeline.runner import KERNEL_NAME


def prepare_notebooks(
    profile: str,
    out: str | Path,
    only: list[str] | None = None,
    sets: dict | None = None,
    say=print,
) -> list[Path]:
    """``out/<name>.ipynb`` for every enabled notebook ``reproduce --profile PROFILE --only ...
    --set ...`` would run, with its parameters injected (``profile`` among them), not executed."""
    import papermill  # the lab extra's dependency; imported when used

    jobs = prepare_jobs(profile, only, check_data=False, sets=sets)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    logging.getLogger("papermill").setLevel(logging.ERROR)  # its parser trips on comments
    for job in jobs:
        if not job.enabled:
            say(f"  not written: {job.name} ({job.reason})")
            continue
        target = out / job.path.name
        papermill.execute_notebook(
            str(job.path),
            str(target),
            parameters={**job.parameters, "profile": profile},
            prepare_only=True,
            kernel_name=KERNEL_NAME,
            progress_bar=False,
        )
        written.append(target)
    say(f"{len(written)} notebooks with the {profile!r} parameters in {out} (not executed)")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default="smoke", help="params/<profile>/ (default: smoke)")
    parser.add_argument("--out", help="folder (default: <outputs>/lab/<profile>/)")
    parser.add_argument("--only", action="append", metavar="PATTERN", help="as for reproduce")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", help="as for reproduce")
    args = parser.parse_args(argv)
    out = Path(args.out) if args.out else output_root() / "lab" / args.profile
    try:
        prepare_notebooks(args.profile, out, args.only, parse_sets(args.set))
    except ParameterError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
