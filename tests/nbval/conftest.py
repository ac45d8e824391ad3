"""nbval harness for the stored smoke notebooks ``tests/nbval/<name>.ipynb``.

The stored notebooks are papermill outputs of ``python -m saliency_lib reproduce --profile smoke``
(parameters injected, outputs kept, ``output_dir = None``), written by ``make nbval-refresh``.
``pytest`` collects them because ``pyproject.toml`` passes ``--nbval-lax``: every cell must run
without error and the cells marked ``# NBVAL_CHECK_OUTPUT`` must reproduce their stored outputs
after sanitising with ``sanitize.cfg`` (set here by absolute path, so any working directory works).

Each notebook's kernel starts in ``notebooks/`` (where papermill ran it) with
``SALIENCY_OUTPUT_ROOT`` and ``SALIENCY_RUN_STORE`` pointing into one scratch folder per test
session, so a test run never touches ``outputs/`` and the notebooks share their training runs
and read each other's outputs as in a real run. ``SALIENCY_NBVAL_SCRATCH=DIR`` keeps the scratch
folder at DIR for inspection. The notebooks are marked ``slow`` (``make unit`` skips them) and
run after the other tests, ``summary`` last.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from saliency_lib.pipeline.runner import NBVAL_PLATFORM
from saliency_lib.seeding import numeric_platform

HERE = Path(__file__).resolve().parent
SANITIZE = HERE / "sanitize.cfg"
NOTEBOOKS_DIR = HERE.parents[1] / "notebooks"
_scratch: dict[str, Path] = {}
_compared: dict[str, str | None] = {}  # {"diff": platform_difference()} once notebooks collected


def scratch_dir() -> Path:
    if "dir" not in _scratch:
        keep = os.environ.get("SALIENCY_NBVAL_SCRATCH")
        if keep:
            _scratch["dir"] = Path(keep)
            _scratch["dir"].mkdir(parents=True, exist_ok=True)
        else:
            _scratch["dir"] = Path(tempfile.mkdtemp(prefix="saliency-nbval-"))
            _scratch["remove"] = _scratch["dir"]
    return _scratch["dir"]


def _patch_nbval_kernel() -> None:
    """Run the notebooks of this folder as papermill/JupyterLab do.

    nbval starts a kernel in the notebook's folder with the parent's environment; ours start in
    notebooks/ with the scratch environment. nbval executes cells with ``store_history=False``,
    which makes IPython ignore a trailing ``;`` (it looks at the history) and show an
    ``Out[]`` that the stored outputs lack; ours store history as Jupyter does.
    """
    try:
        from nbval import plugin
    except ImportError:  # nbval not installed: nothing is collected anyway
        return
    base = plugin.RunningKernel
    if getattr(base, "saliency_harness", False):
        return

    class Kernel(base):
        saliency_harness = True

        def __init__(self, kernel_name, cwd=None, **kwargs):
            self.in_harness = cwd is not None and Path(cwd).resolve() == HERE
            if not self.in_harness:
                super().__init__(kernel_name, cwd=cwd, **kwargs)
                return
            scratch = scratch_dir()
            env = {
                "SALIENCY_OUTPUT_ROOT": str(scratch / "outputs"),
                "SALIENCY_RUN_STORE": str(scratch / "runs"),
            }
            old = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            try:
                workdir = NOTEBOOKS_DIR if NOTEBOOKS_DIR.is_dir() else HERE
                super().__init__(kernel_name, cwd=str(workdir), **kwargs)
            finally:
                for k, v in old.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v

        def execute_cell_input(self, cell_input, allow_stdin=None):
            if not self.in_harness:
                return super().execute_cell_input(cell_input, allow_stdin)
            return self.kc.execute(
                cell_input, store_history=True, allow_stdin=allow_stdin, stop_on_error=False
            )

    plugin.RunningKernel = Kernel


def pytest_configure(config):
    if getattr(config.option, "nbval_sanitize_with", False) is None:
        config.option.nbval_sanitize_with = str(SANITIZE)
    _patch_nbval_kernel()


def platform_difference() -> str | None:
    """How this machine differs from the one that computed the stored outputs
    (``platform.json``, written by ``refresh-nbval``), or None when it computes the same numbers.

    A CPU run is repeatable on one kind of CPU, not across kinds: another CPU model or kernel
    feature set (AMX, AVX-512 BF16), torch version or thread count changes the float rounding,
    and training amplifies it (e.g. a SIB median 0.56 on the Intel machine that refreshed the
    copies against 0.59 on an AMD EPYC)."""
    stored_file = HERE / NBVAL_PLATFORM
    if not stored_file.is_file():
        return f"{stored_file.name} is missing (run `make nbval-refresh`)"
    stored, here = json.loads(stored_file.read_text()), numeric_platform()
    diff = [
        f"{k} {stored.get(k)!r} there, {here[k]!r} here" for k in here if stored.get(k) != here[k]
    ]
    return "; ".join(diff) or None


def pytest_terminal_summary(terminalreporter):
    if not _compared:
        return
    diff = _compared["diff"]
    terminalreporter.write_line(
        f"nbval: the stored notebook outputs come from another kind of machine ({diff}): every "
        "cell ran, but the NBVAL_CHECK_OUTPUT cells were not compared"
        if diff
        else "nbval: this machine computes the stored outputs' numbers: checked cells compared"
    )


def pytest_collection_modifyitems(config, items):
    """Mark the stored notebooks slow and run them after the other tests, in the runner's order
    (by name, ``summary`` last: it reads the other notebooks' outputs). On a machine whose
    numbers differ from the stored ones (:func:`platform_difference`) the cells still run, but
    their outputs are not compared."""
    ours = [i for i in items if i.path.suffix == ".ipynb" and i.path.parent == HERE]
    if ours:
        _compared["diff"] = platform_difference()
    compare = not _compared.get("diff")
    for item in ours:
        item.add_marker(pytest.mark.slow)
        if not compare and isinstance(getattr(item, "options", None), dict):
            item.options["check"] = False
    ids = {id(i) for i in ours}
    rest = [i for i in items if id(i) not in ids]
    ours.sort(key=lambda i: (i.path.stem == "summary", i.path.stem))  # stable: cell order kept
    items[:] = rest + ours


def pytest_unconfigure(config):
    if "remove" in _scratch:
        shutil.rmtree(_scratch["remove"], ignore_errors=True)
