"""The package installs: ``python -m build`` makes an sdist and a wheel (built from the sdist), the
wheel installs into a clean virtual environment, and the README's example and the API's doctests
run there, with no checkout on ``sys.path``.

No download: the build uses this environment's backend (``--no-isolation``) and the clean
environment sees this one's installed dependencies through a ``.pth`` line (its site-packages
only: their ``.pth`` hooks, such as this checkout's editable install, are not run); the wheel is
installed with ``--no-index``. The test then checks that every dependency the wheel declares is
met there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

import saliency_lib

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow

CHECK = r"""
import doctest, importlib.metadata as md, os, sys
from pathlib import Path
from packaging.requirements import Requirement
from packaging.version import Version

venv, repo = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
import saliency_lib
from saliency_lib import api, saliency, metrics
here = Path(saliency_lib.__file__).resolve()
assert venv in here.parents, f"saliency_lib imported from {here}, not from the wheel"
on_path = [p for p in sys.path if p and Path(p).resolve() in (repo, repo / "saliency_lib")]
assert not on_path, f"the checkout is on sys.path: {on_path}"
dist = md.distribution("saliency-lib")
installed = Path(dist.locate_file("saliency_lib/__init__.py")).resolve()
assert installed == here, f"the saliency-lib metadata found is of {installed}"
assert dist.version == saliency_lib.__version__, (dist.version, saliency_lib.__version__)
for line in dist.requires or []:
    req = Requirement(line)
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue  # an extra's dependency
    have = md.version(req.name)
    assert req.specifier.contains(have, prereleases=True), f"{req}: {have} installed"
flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
failed = attempted = 0
for module in (api, saliency, metrics.accuracy_drop):
    result = doctest.testmod(module, optionflags=flags)
    failed, attempted = failed + result.failed, attempted + result.attempted
assert failed == 0 and attempted > 40, (failed, attempted)
print(f"OK {dist.version} {here} {attempted} examples")
"""


def _readme_example() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## Use it on your own model", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert blocks, "README: no python example under 'Use it on your own model'"
    return blocks[0]


def test_readme_section_is_short_and_points_to_the_notebook_and_the_reference():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = "## Use it on your own model" + text.split("## Use it on your own model", 1)[1]
    section = section.split("\n## ", 1)[0].rstrip()
    assert len(section.splitlines()) <= 25
    assert "notebooks/own_training_loop" in section and "make docs" in section
    assert (REPO / "notebooks" / "own_training_loop.py").exists()


def test_the_wheel_installs_and_runs_in_a_clean_environment(tmp_path):
    pytest.importorskip("build", reason="python -m build (the test extra)")
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(REPO)],
        check=True, capture_output=True,
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # no checkout on the path
    version = saliency_lib.__version__
    (wheel,) = dist.glob(f"saliency_lib-{version}-py3-none-any.whl")
    (sdist,) = dist.glob(f"saliency_lib-{version}.tar.gz")
    names = zipfile.ZipFile(wheel).namelist()
    assert "saliency_lib/api.py" in names
    assert "saliency_lib/claims/paper_numbers.yaml" in names  # package data
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "docs/"))]
    with tarfile.open(sdist) as tar:
        members = tar.getnames()
    assert f"saliency_lib-{version}/saliency_lib/api.py" in members
    assert f"saliency_lib-{version}/README.md" in members

    # a clean environment: no pip, no checkout; this environment's dependencies by a .pth line
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, env=env,
    ).stdout.strip()  # fmt: skip
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(purelib, "_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-index",
         "--no-deps", "--ignore-installed", str(wheel)],
        check=True, capture_output=True, env=env,
    )  # fmt: skip

    run = tmp_path / "elsewhere"
    run.mkdir()
    (run / "check.py").write_text(CHECK)
    (run / "readme_example.py").write_text(_readme_example())
    out = subprocess.run(
        [str(python), "check.py", str(venv), str(REPO)],
        cwd=run, check=True, capture_output=True, text=True, env=env,
    ).stdout  # fmt: skip
    assert out.startswith(f"OK {version} ")
    example = subprocess.run(
        [str(python), "readme_example.py"], cwd=run, check=True, capture_output=True, text=True,
        env=env,
    ).stdout  # fmt: skip
    assert example.count("'train_loss'") == 3 and example.splitlines()[-1].startswith("smoot ")
