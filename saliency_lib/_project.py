"""Where a project's folders are: the notebooks, their parameters, the outputs, the stored nbval
copies. The repository declares them in its ``pyproject.toml``::

    [tool.saliency-lib]
    notebooks = "notebooks"
    params = "params"
    outputs = "outputs"
    nbval = "..."          # where `refresh-nbval` stores the executed smoke notebooks

The project is found from the working directory (its nearest folder holding such a file), or
given (``--root``, ``$SALIENCY_ROOT``); nothing here depends on where the package is installed.
Outside any project the working directory is the root, with the default folder names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import tomllib

TABLE = "saliency-lib"
DEFAULTS = {"notebooks": "notebooks", "params": "params", "outputs": "outputs"}


@dataclass(frozen=True)
class Layout:
    """A project's folders (absolute paths)."""

    root: Path
    notebooks: Path
    params: Path
    outputs: Path
    nbval: Path | None = None  # stored smoke notebooks for nbval (None: not declared)

    @classmethod
    def from_root(cls, root: str | Path) -> Layout:
        """The layout declared in ``<root>/pyproject.toml`` (defaults for what it omits)."""
        root = Path(root).resolve()
        table = _table(root / "pyproject.toml") or {}
        folders = {k: root / table.get(k, v) for k, v in DEFAULTS.items()}
        nbval = table.get("nbval")
        return cls(root, nbval=root / nbval if nbval else None, **folders)


def _table(path: Path) -> dict | None:
    """The ``[tool.saliency-lib]`` table of a pyproject file (None without one)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    table = data.get("tool", {}).get(TABLE)
    return table if isinstance(table, dict) else None


def find_root(start: str | Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: the working directory) whose
    ``pyproject.toml`` has a ``[tool.saliency-lib]`` table."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _table(folder / "pyproject.toml") is not None:
            return folder
    return None


def project_layout(root: str | Path | None = None) -> Layout:
    """The layout of ``root``, else of ``$SALIENCY_ROOT``, else of the project around the
    working directory, else of the working directory itself."""
    root = root or os.environ.get("SALIENCY_ROOT") or find_root() or Path.cwd()
    return Layout.from_root(root)


def output_root() -> Path:
    """Where outputs go: ``$SALIENCY_OUTPUT_ROOT`` if set, else the project's outputs folder."""
    env = os.environ.get("SALIENCY_OUTPUT_ROOT")
    return Path(env) if env else project_layout().outputs


END_TO_END = "end_to_end.json"  # in outputs/<profile>/: one whole-profile reproduce's wall time
#: timings.json entry of the runs `reproduce` trained side by side before the notebooks
SIDE_BY_SIDE = "(training side by side)"


def run_store_root() -> Path:
    """The run store: ``$SALIENCY_RUN_STORE`` if set, else ``runs/`` in the project's outputs
    folder (found from the working directory)."""
    env = os.environ.get("SALIENCY_RUN_STORE")
    return Path(env) if env else project_layout().outputs / "runs"


def display_path(path: str | Path) -> str:
    """``path`` relative to the project's root when inside it (shorter messages)."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(project_layout().root))
    except ValueError:
        return str(path)
