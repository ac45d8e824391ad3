"""The API reference builds from the docstrings (pdoc, docs/api/make_reference.py) with every
warning an error, and documents every public entry point with its examples."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import pytest

from saliency_lib import api

SCRIPT = Path(__file__).resolve().parents[1] / "docs" / "api" / "make_reference.py"


def _reference_builder():
    spec = importlib.util.spec_from_file_location("make_reference", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_builds_with_warnings_as_errors(tmp_path):
    pytest.importorskip("pdoc", reason="pdoc builds the reference (the test extra)")
    index = _reference_builder().build(tmp_path, strict=True)
    assert index.exists()
    page = (tmp_path / "saliency_lib" / "api.html").read_text(encoding="utf-8")
    for name in api.__all__:
        assert f'id="{name}"' in page, f"{name} is missing from the reference"
    for method in ("step", "loss", "start_epoch", "end_epoch", "state"):
        assert f'id="GuidedTraining.{method}"' in page
    # the Examples sections are rendered, as highlighted interpreter sessions
    assert page.count("Examples") >= len(api.__all__)
    assert page.count("&gt;&gt;&gt;") >= 40


def test_a_warning_while_rendering_fails_the_build(tmp_path, monkeypatch):
    pytest.importorskip("pdoc", reason="pdoc builds the reference (the test extra)")
    import pdoc

    def warns(*modules, output_directory):
        warnings.warn("cannot resolve a reference", UserWarning, stacklevel=1)

    monkeypatch.setattr(pdoc, "pdoc", warns)
    with pytest.raises(UserWarning, match="cannot resolve"):
        _reference_builder().build(tmp_path, strict=True)
