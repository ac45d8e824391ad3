"""glibc malloc tuning (saliency_lib/allocator.py) reaches the processes the package starts: a
papermill kernel and a submitit job have it, and do not when SALIENCY_MALLOC_TUNING=0."""

import json
import platform

import nbformat
import pytest

from saliency_lib import allocator

GLIBC = platform.system() == "Linux" and allocator._glibc() is not None
needs_glibc = pytest.mark.skipif(not GLIBC, reason="malloc tuning applies to glibc only")
ALL_APPLIED = {"mmap_threshold": True, "trim_threshold": True, "top_pad": True}


def test_switch_values():
    assert allocator.tuning_enabled({})
    for off in ("0", "off", "False", " no "):
        assert not allocator.tuning_enabled({allocator.ENV_SWITCH: off})
    assert allocator.tuning_enabled({allocator.ENV_SWITCH: "1"})


@needs_glibc
def test_this_process_is_tuned(monkeypatch):
    monkeypatch.delenv(allocator.ENV_SWITCH, raising=False)
    assert allocator.allocator_status()["applied"] == ALL_APPLIED


def _status_in_kernel(tmp_path) -> dict:
    import papermill

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import json\nimport saliency_lib.allocator as a\nprint(json.dumps(a.allocator_status()))"
    )]  # fmt: skip
    tmp_path.mkdir(parents=True, exist_ok=True)
    src, out = tmp_path / "probe.ipynb", tmp_path / "probe.out.ipynb"
    nbformat.write(nb, src)
    papermill.execute_notebook(str(src), str(out), kernel_name="python3", progress_bar=False)
    text = nbformat.read(out, as_version=4).cells[0].outputs[0]["text"]
    return json.loads(text)


def _status_in_job(tmp_path) -> dict:
    import submitit

    ex = submitit.AutoExecutor(folder=str(tmp_path / "jobs"), cluster="local")
    ex.update_parameters(timeout_min=5)
    return ex.submit(allocator.allocator_status).result()


@needs_glibc
@pytest.mark.slow
@pytest.mark.parametrize("where", [_status_in_kernel, _status_in_job], ids=["kernel", "job"])
def test_children_are_tuned_unless_switched_off(where, tmp_path, monkeypatch):
    monkeypatch.delenv(allocator.ENV_SWITCH, raising=False)
    assert where(tmp_path / "on") == {"switch": True, "applied": ALL_APPLIED}
    monkeypatch.setenv(allocator.ENV_SWITCH, "0")
    assert where(tmp_path / "off") == {"switch": False, "applied": {}}
