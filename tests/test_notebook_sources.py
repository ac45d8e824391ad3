"""notebooks/<name>.py (jupytext percent format) is the source of notebooks/<name>.ipynb.

Each pair must hold the same cells: same type, source and metadata (the ``parameters`` tag that
papermill and the parameter validation read). Edit the ``.py`` (or the ``.ipynb`` in JupyterLab
with jupytext installed, which writes both) and run ``make notebooks`` to sync the pair.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jupytext
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SYNC = "run `make notebooks` (jupytext --sync notebooks/*.py) and commit both files"


def _cells_of_ipynb(path: Path) -> list[tuple[str, str, dict]]:
    nb = json.loads(path.read_text(encoding="utf-8"))

    def source(c):
        return "".join(c["source"]) if isinstance(c["source"], list) else c["source"]

    return [(c["cell_type"], source(c), c.get("metadata", {})) for c in nb["cells"]]


def _cells_of_source(path: Path) -> list[tuple[str, str, dict]]:
    nb = jupytext.read(path)
    return [(c.cell_type, c.source, dict(c.metadata)) for c in nb.cells]


def pair_differences(source: Path, notebook: Path) -> list[str]:
    """Human-readable differences between what jupytext reads from ``source`` and ``notebook``."""
    ours, theirs = _cells_of_source(source), _cells_of_ipynb(notebook)
    out = []
    if len(ours) != len(theirs):
        out.append(f"{len(ours)} cells in {source.name}, {len(theirs)} in {notebook.name}")
    for i, (a, b) in enumerate(zip(ours, theirs, strict=False)):
        for what, x, y in zip(("type", "source", "metadata"), a, b, strict=True):
            if x != y:
                out.append(f"cell {i}: {what} differs")
    return out


SOURCES = sorted(p.stem for p in NOTEBOOKS.glob("*.py"))
IPYNBS = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))


def test_every_notebook_has_its_source_and_back():
    assert SOURCES, "no notebook sources notebooks/*.py"
    assert sorted(set(IPYNBS) - set(SOURCES)) == [], f"notebooks without a .py source: {SYNC}"
    assert sorted(set(SOURCES) - set(IPYNBS)) == [], f"sources without their .ipynb: {SYNC}"


@pytest.mark.parametrize("name", SOURCES)
def test_pair_in_sync(name):
    diffs = pair_differences(NOTEBOOKS / f"{name}.py", NOTEBOOKS / f"{name}.ipynb")
    assert not diffs, f"notebooks/{name}.py and .ipynb differ ({'; '.join(diffs[:5])}): {SYNC}"


def test_pair_check_sees_an_edit_on_either_side(tmp_path):
    """The check above is not vacuous: editing the source or the notebook is reported."""
    name = SOURCES[0]
    src, nb = tmp_path / f"{name}.py", tmp_path / f"{name}.ipynb"
    shutil.copy(NOTEBOOKS / f"{name}.py", src)
    shutil.copy(NOTEBOOKS / f"{name}.ipynb", nb)
    assert pair_differences(src, nb) == []

    src.write_text(src.read_text(encoding="utf-8") + "\n# %%\nprint('added')\n", encoding="utf-8")
    assert pair_differences(src, nb)

    shutil.copy(NOTEBOOKS / f"{name}.py", src)
    data = json.loads(nb.read_text(encoding="utf-8"))
    code = next(c for c in data["cells"] if c["cell_type"] == "code")
    code["source"] = "".join(code["source"]) + "\nx = 1"
    nb.write_text(json.dumps(data), encoding="utf-8")
    assert any("source differs" in d for d in pair_differences(src, nb))

    data["cells"][1]["metadata"] = {}  # the parameters tag dropped
    nb.write_text(json.dumps(data), encoding="utf-8")
    assert any("metadata differs" in d for d in pair_differences(src, nb))
