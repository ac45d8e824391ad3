"""Where a notebook's results go: ``outputs/<profile>/<notebook>/`` (figures as PNG and PDF,
tables as CSV and Markdown, ``metrics.json``). One small object per notebook, no global state.

The output root is ``$SALIENCY_OUTPUT_ROOT`` if set, else the project's ``outputs/`` (found from
the working directory, :mod:`saliency_lib._project`); the runner passes ``output_dir`` explicitly
(a staging folder it renames on success).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ._project import output_root
from .mdtable import markdown_table
from .plots import save_figure


def _jsonable(obj: Any) -> Any:
    """numpy/torch scalars and arrays, paths and dataframes -> plain JSON types."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return _jsonable(obj.to_dict(orient="records"))
    if isinstance(obj, torch.Tensor):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and obj != obj:  # NaN -> null
        return None
    return obj


def _display(obj) -> None:
    """Show ``obj`` in a running IPython kernel; nothing elsewhere (scripts, tests)."""
    try:  # lazy: IPython comes with the notebook kernel; a script or a job does without it
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is a dependency of the notebooks
        return
    if get_ipython() is not None:
        display(obj)


def _profile_folder(profile: str, name: str, output_dir: str | Path | None) -> Path:
    """``<output root>/<profile>/<name>``, or ``output_dir``; an ``output_dir`` inside the output
    root must lie in ``<profile>/`` (no run writes into another profile's folder)."""
    if not isinstance(profile, str) or not profile.strip(".") or Path(profile).name != profile:
        raise ValueError(f"profile must be a folder name (cpu, paper, smoke, ...), got {profile!r}")
    root = output_root()
    if not output_dir:
        return root / profile / name
    folder = Path(output_dir)
    try:
        inside = folder.resolve().relative_to(root.resolve()).parts
    except ValueError:
        return folder  # outside the outputs tree (e.g. a test's temporary folder)
    if not inside or inside[0] != profile:
        raise ValueError(
            f"output_dir {folder} is in {root} but not in {root / profile}: profile {profile!r} "
            f"writes only there; leave output_dir None, or set the profile of that folder"
        )
    return folder


class Experiment:
    """Collects one notebook's outputs and writes them under its output folder."""

    def __init__(self, name: str, profile: str, output_dir: str | Path | None = None):
        self.name = name
        self.profile = profile
        self.dir = _profile_folder(profile, name, output_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.metrics: dict[str, Any] = {
            "notebook": name,
            "profile": profile,
            "settings": {},
            "results": {},
            "provenance": {},
            "environment": {
                "torch": torch.__version__,
                "python": platform.python_version(),
                "device": "cuda" if torch.cuda.is_available() else "cpu",
            },
        }

    def show_figure(self, fig, name: str, caption: str, *, in_report: bool = True) -> Path:
        """Save ``fig`` (:meth:`save_figure`), display it once in the notebook and close it.

        ``caption`` says what the figure shows in words, naming the paper's panel it
        reproduces; with ``in_report`` the report shows the figure under that caption (each
        notebook declares its report items this way). Returns the PNG path."""
        path = self.save_figure(fig, name)
        _display(fig)
        plt.close(fig)
        if in_report:
            self._declare("figure", path.name, caption)
        return path

    def show_table(
        self, df, name: str, caption: str, *, in_report: bool = True, floatfmt: str = ".2f"
    ) -> Path:
        """Save ``df`` (:meth:`save_table`), display it, and with ``in_report`` put it in the
        report under ``caption``. Returns the CSV path."""
        path = self.save_table(df, name, floatfmt)
        _display(df)
        if in_report:
            self._declare("table", f"{name}.md", caption)
        return path

    def _declare(self, kind: str, file: str, caption: str) -> None:
        items = self.metrics.setdefault("report", [])
        items[:] = [i for i in items if i["file"] != file]
        items.append({"kind": kind, "file": file, "caption": caption})

    def save_figure(self, fig, name: str) -> Path:
        """Write ``<name>.png`` and ``<name>.pdf`` (:func:`saliency_lib.plots.save_figure`);
        returns the PNG path."""
        return save_figure(fig, self.dir / name, ("png", "pdf"), dpi=130)[0]

    def save_table(self, df, name: str, floatfmt: str = ".2f") -> Path:
        """Write ``<name>.csv`` and ``<name>.md``; returns the CSV path."""
        csv = self.dir / f"{name}.csv"
        df.to_csv(csv, index=False)
        (self.dir / f"{name}.md").write_text(markdown_table(df, floatfmt) + "\n")
        return csv

    def record(self, section: str, **values: Any) -> None:
        """Add values to ``metrics.json`` under ``section`` ("settings", "results", ...)."""
        self.metrics.setdefault(section, {}).update(_jsonable(values))

    def record_claims(self, claims) -> None:
        """Record claim dicts (each with an ``"id"``, as the studies' ``*_claims`` return them)
        under "claims", keyed by id: the report reads them from there."""
        self.record("claims", **{claim["id"]: claim for claim in claims})

    def record_runs(self, runs) -> None:
        """Record each run's id, config and data provenance."""
        for run in runs:
            self.metrics["provenance"][run.run_id] = _jsonable(
                {"config": run.config.identity(), "data": run.provenance}
            )

    def write_metrics(self) -> Path:
        """Write ``metrics.json``; the notebook's last step, so it marks the outputs complete."""
        self.metrics.setdefault("status", "complete")
        self.metrics["written"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        path = self.dir / "metrics.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(_jsonable(self.metrics), indent=1))
        os.replace(tmp, path)
        return path
