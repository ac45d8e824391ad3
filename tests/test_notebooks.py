"""The committed notebooks and their stored smoke outputs for nbval (tests/nbval/<name>.ipynb).

nbval itself runs the stored copies (``pytest`` collects ``tests/nbval/*.ipynb``, see
``tests/nbval/conftest.py``); these tests check that the copies are up to date with the
notebooks and the smoke parameters, so a changed notebook without refreshed outputs fails with
"run make nbval-refresh". The harness itself is tested on a fixture notebook in test_runner.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_runner import code_cells

from saliency_lib._project import project_layout
from saliency_lib.pipeline.jobs import list_notebooks as _list
from saliency_lib.pipeline.params import (
    RESERVED_KEYS,
    load_params,
    notebook_parameters,
    params_path,
    profile_status,
)
from saliency_lib.pipeline.runner import NBVAL_PROFILE, injected_parameters, strip_images

LAYOUT = project_layout(Path(__file__).resolve().parents[1])  # this repository
NOTEBOOKS_DIR = LAYOUT.notebooks
NBVAL_DIR = LAYOUT.nbval

NOTEBOOKS = _list()
REFRESH = "run `make nbval-refresh` (python -m saliency_lib refresh-nbval) and commit tests/nbval/"


def _or_skip(values, reason):
    return values or [pytest.param(None, marks=pytest.mark.skip(reason=reason))]


each_notebook = pytest.mark.parametrize(
    "name", _or_skip(NOTEBOOKS, "no notebooks in notebooks/ yet"), ids=lambda n: n or "none"
)


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@each_notebook
def test_stored_smoke_copy_is_up_to_date(name):
    """(a) tests/nbval/<name>.ipynb has the notebook's code cells and the smoke parameters."""
    smoke = params_path(name, NBVAL_PROFILE)
    params = load_params(name, NBVAL_PROFILE) if smoke.is_file() else {}
    enabled, reason = profile_status(params, str(smoke))
    if not enabled:
        pytest.skip(f"{name} is disabled in the smoke profile ({reason}); nbval does not run it")
    stored = NBVAL_DIR / f"{name}.ipynb"
    assert stored.is_file(), f"no stored smoke outputs {stored.name} for notebook {name}: {REFRESH}"
    nb, copy = _read(NOTEBOOKS_DIR / f"{name}.ipynb"), _read(stored)
    assert code_cells(copy) == code_cells(nb), (
        f"notebooks/{name}.ipynb changed since its smoke outputs were stored: {REFRESH}"
    )
    expected = {k: v for k, v in params.items() if k not in RESERVED_KEYS}
    expected.update(profile=NBVAL_PROFILE, output_dir=None)
    assert injected_parameters(copy) == expected, (
        f"params/smoke/{name}.yaml changed since the smoke outputs were stored: {REFRESH}"
    )
    errors = [o for c in copy["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors, f"stored {stored.name} holds an error output: {REFRESH}"


def test_stored_copies_hold_no_images():
    """nbval compares text; the figures live in outputs/, not in tests/nbval/."""
    for path in sorted(NBVAL_DIR.glob("*.ipynb")):
        mimes = {
            m
            for c in _read(path)["cells"]
            for o in c.get("outputs", [])
            for m in o.get("data", {})
            if m.startswith("image/") or m == "application/pdf"
        }
        assert not mimes, f"{path.name} stores {sorted(mimes)} payloads: {REFRESH}"


def test_strip_images_keeps_text():
    figure = {"output_type": "display_data", "metadata": {"image/png": {"width": 3}},
              "data": {"image/png": "iVBOR", "text/plain": "<Figure size 640x480>"}}  # fmt: skip
    image_only = {"output_type": "display_data", "metadata": {}, "data": {"image/svg+xml": "<s/>"}}
    stream = {"output_type": "stream", "name": "stdout", "text": "acc 0.91\n"}
    nb = {"cells": [{"cell_type": "code", "outputs": [figure, image_only, stream]}]}
    strip_images(nb)
    assert nb["cells"][0]["outputs"] == [
        {"output_type": "display_data", "metadata": {},
         "data": {"text/plain": "<Figure size 640x480>"}},
        stream,
    ]  # fmt: skip


def test_no_stored_copy_without_notebook():
    orphans = sorted(p.name for p in NBVAL_DIR.glob("*.ipynb") if p.stem not in NOTEBOOKS)
    assert not orphans, f"tests/nbval/ holds copies of notebooks that do not exist: {orphans}"


@each_notebook
def test_committed_notebook_has_no_outputs(name):
    """(b) outputs live in outputs/ and tests/nbval/, never in notebooks/."""
    nb = _read(NOTEBOOKS_DIR / f"{name}.ipynb")
    dirty = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"notebooks/{name}.ipynb cells {dirty} have outputs or execution counts; clear them "
        "(JupyterLab: Edit > Clear Outputs of All Cells, or "
        f"jupyter nbconvert --clear-output --inplace notebooks/{name}.ipynb)"
    )


@each_notebook
def test_notebook_has_parameters_cell(name):
    """(c) one `parameters` cell of literals with at least `profile` and `output_dir`."""
    defaults = notebook_parameters(NOTEBOOKS_DIR / f"{name}.ipynb")
    assert "profile" in defaults and "output_dir" in defaults, (
        f'notebooks/{name}.ipynb parameters cell needs `profile = "cpu"` and `output_dir = None`'
    )
    assert defaults["output_dir"] is None, "the default output_dir must be None"


def test_sanitize_patterns():
    """tests/nbval/sanitize.cfg replaces what changes between runs and keeps the numbers."""
    from nbval.plugin import get_sanitize_patterns

    patterns = get_sanitize_patterns((NBVAL_DIR / "sanitize.cfg").read_text(encoding="utf-8"))

    def sanitize(text: str) -> str:
        for regex, replace in patterns:
            text = re.sub(regex, replace, text)
        return text

    cases = {
        "wrote /tmp/pytest-of-x/p3/outputs/smoke/fig1/metrics.json": "wrote PATH",
        "PosixPath('/work/main/outputs/runs')": "PosixPath('PATH')",
        "saved ~/data/cifar": "saved PATH",
        " 50%|█████     | 5/10 [00:01<00:01,  4.20it/s]": " TQDM-BAR",
        "written 2026-11-21T23:48:25+00:00 on 2026-11-21 at 23:48:25": (
            "written DATETIME on DATE at TIME"
        ),
        "took 12.5s (3 ms per batch, 2.1 s/it)": "took DURATION (DURATION per batch, DURATION)",
        "<Figure at 0x7f3a2b1c>": "<Figure at 0xADDRESS>",
        "sgt-fashion_mnist-cnn2-s0-a1b2c3d4e5f6": "sgt-fashion_mnist-cnn2-s0-HASH",
        "id 3f2a9c0d1e": "id HEXID",
        "uuid 123e4567-e89b-12d3-a456-426614174000": "uuid UUID",
        # kept: results, fractions, relative names, scientific notation, words
        "acc 0.9134 +- 0.0200, 5 seeds, 3/4 train/test, 1.2345678e-05, deadbeef": (
            "acc 0.9134 +- 0.0200, 5 seeds, 3/4 train/test, 1.2345678e-05, deadbeef"
        ),
    }
    for text, expected in cases.items():
        assert sanitize(text) == expected, text
