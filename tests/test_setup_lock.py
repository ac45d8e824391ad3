"""requirements.lock (``make lock``) pins every dependency pyproject.toml names, within its range,
and the two commands install from it."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    """NAME -> VERSION of every line (each must be NAME==VERSION, optionally with a marker)."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", f"requirements.lock: {line!r} is not NAME==VERSION"
        pins[_name(req.name)] = spec.version
    return pins


def test_cuda_wheels_are_marked_linux_only():
    for line in LOCK.read_text().splitlines():
        if re.match(r"(nvidia-|cuda-|triton==)", line):
            assert Requirement(line).marker is not None, line


def _declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in project["dependencies"] + extras["test"] + extras["lab"]]


def test_every_declared_dependency_is_pinned_within_its_range():
    pins = _pins()
    for req in _declared():
        name = _name(req.name)
        assert name in pins, f"{req.name} (pyproject.toml) is not pinned in requirements.lock"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {req.name}=={pins[name]}, outside pyproject.toml's {req}"
        )


def test_the_lock_does_not_pin_the_project_itself():
    assert "saliency-lib" not in _pins()


def test_make_installs_from_the_lock():
    makefile = (REPO / "Makefile").read_text()
    assert "pip install -q -r $(LOCK)" in makefile
    assert "--no-deps -e ." in makefile
    assert re.search(r"^LOCK\s*:=\s*requirements\.lock$", makefile, re.M)
