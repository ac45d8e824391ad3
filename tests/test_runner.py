"""The notebook runner and CLI on the fixture notebook ``tests/fixtures/notebooks/alpha.ipynb``
(parameters ``profile``, ``output_dir``, ``seeds``, ``dataset``, ``dataset_params``, ``scale``,
``fail``; writes metrics.json through ``Experiment``). Executing it takes a few seconds, so the
executions are few: one successful smoke run shared by several tests, one failing run, and one
nbval run of two stored copies."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from saliency_lib.__main__ import main
from saliency_lib.pipeline import runner
from saliency_lib.pipeline.jobs import (
    ValidationFailed,
    list_notebooks,
    prepare_jobs,
    select_notebooks,
)
from saliency_lib.pipeline.params import ParameterError, cell_source
from saliency_lib.pipeline.runner import (
    INJECTED_TAG,
    NotebookResult,
    injected_parameters,
    output_status,
    reproduce,
    store_for_nbval,
)
from saliency_lib.seeding import numeric_platform

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
NBVAL_HARNESS = Path(__file__).parent / "nbval"


def code_cells(nb: dict) -> list[str]:
    """Sources of a notebook's code cells, without papermill's injected-parameters cell."""
    return [
        cell_source(c)
        for c in nb.get("cells", [])
        if c.get("cell_type") == "code"
        and INJECTED_TAG not in c.get("metadata", {}).get("tags", [])
    ]


#: The parameters of the fixture notebook ``alpha`` a params file sets (besides its profile).
ALPHA_PARAMETERS = ("seeds", "dataset", "dataset_params", "scale", "fail")


def complete_params(text: str, profile: str, keys: tuple[str, ...] = ALPHA_PARAMETERS) -> str:
    """A params YAML ``text`` made complete (issue 22): ``profile`` and the keys it does not set
    under ``from_notebook``; a text that is not a mapping is left as it is (a broken file)."""
    data = yaml.safe_load(text) if text.strip() else {}
    if not isinstance(data, dict):
        return text
    extra = {} if "profile" in data else {"profile": profile}
    taken = data.get("from_notebook", [])
    rest = [k for k in keys if k not in data and k not in taken]
    if rest and "from_notebook" not in data:
        extra["from_notebook"] = rest
    if not extra:
        return text
    if not text.strip() or text.lstrip().startswith("{"):
        return yaml.safe_dump({**data, **extra}, sort_keys=False, default_flow_style=None)
    return text.rstrip("\n") + "\n" + yaml.safe_dump(extra, sort_keys=False)


def make_project(
    root: Path, params: dict[str, dict[str, str]], complete: bool = True
) -> dict[str, Path]:
    """``root/notebooks`` with copies of the fixture and ``root/params/<profile>/<name>.yaml``.

    ``params``: ``{profile: {notebook name: yaml text}}``; every name is a copy of ``alpha``;
    ``complete``: each file made complete (:func:`complete_params`).
    """
    nb_dir, params_dir = root / "notebooks", root / "params"
    nb_dir.mkdir(parents=True, exist_ok=True)
    for profile, files in params.items():
        (params_dir / profile).mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            nb = json.loads((FIXTURES / "alpha.ipynb").read_text())
            for cell in nb["cells"]:  # the notebook names its Experiment after itself
                src = "".join(cell["source"]).replace('Experiment("alpha"', f'Experiment("{name}"')
                cell["source"] = src
            (nb_dir / f"{name}.ipynb").write_text(json.dumps(nb))
            text = complete_params(text, profile) if complete else text
            (params_dir / profile / f"{name}.yaml").write_text(text)
    return {"notebooks_dir": nb_dir, "params_dir": params_dir}


def cli(dirs: dict[str, Path], *args: str) -> int:
    return main(
        [
            *args,
            "--notebooks-dir",
            str(dirs["notebooks_dir"]),
            "--params-dir",
            str(dirs["params_dir"]),
        ]
    )


# --------------------------------------------------------------------------- selection


def test_run_order_sorted_with_summary_last(tmp_path):
    for name in ["summary", "fig2_b", "fig1_a", "_draft", "table1"]:
        (tmp_path / f"{name}.ipynb").write_text("{}")
    assert list_notebooks(tmp_path) == ["fig1_a", "fig2_b", "table1", "summary"]
    assert select_notebooks("fig", tmp_path) == ["fig1_a", "fig2_b"]
    assert select_notebooks("fig?_a", tmp_path) == ["fig1_a"]
    assert select_notebooks(["summary", "table*"], tmp_path) == ["table1", "summary"]
    assert select_notebooks("table1,fig1_a", tmp_path) == ["fig1_a", "table1"]
    with pytest.raises(ParameterError, match="no notebook .* matches 'nope'"):
        select_notebooks("nope", tmp_path)
    assert list_notebooks(tmp_path / "missing") == []


def test_validation_of_all_notebooks_before_any_execution(tmp_path, monkeypatch):
    dirs = make_project(
        tmp_path, {"smoke": {"a_ok": "{}", "b_bad": "sedes: 1\n", "c_bad": "scale: x\n"}}
    )
    monkeypatch.setattr(runner, "run_notebook", lambda *a: pytest.fail("executed a notebook"))
    with pytest.raises(ValidationFailed) as err:
        reproduce("smoke", progress=False, **dirs)
    assert [n for n, _ in err.value.errors] == ["b_bad", "c_bad"]
    assert "sedes: unknown parameter" in str(err.value) and "scale: " in str(err.value)
    with pytest.raises(ParameterError, match="sedes"):  # a single error is raised as is
        reproduce("smoke", only="b_bad", progress=False, **dirs)
    with pytest.raises(ParameterError, match="unknown profile 'gpu'"):
        reproduce("gpu", progress=False, **dirs)
    with pytest.raises(ParameterError, match="--seeds must be a number of seeds from 1 to 100"):
        reproduce("smoke", only="a_ok", seeds=0, progress=False, **dirs)


def test_cli_validation_errors_exit_2_with_one_message(tmp_path, capsys):
    missing = f"dataset: cifar10\ndataset_params: {{root: {tmp_path}, source: root}}"
    dirs = make_project(tmp_path, {"smoke": {"alpha": missing}})
    assert cli(dirs, "validate", "--profile", "smoke") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: notebook 'alpha', profile 'smoke'") and "Traceback" not in err
    assert cli(dirs, "reproduce", "--profile", "smoke", "--no-progress") == 2
    assert cli(dirs, "validate", "--profile", "smoke", "--no-data-check") == 0
    assert "1 notebook(s) valid" in capsys.readouterr().out


def test_fail_fast_stops_after_the_first_failure(tmp_path, monkeypatch):
    dirs = make_project(tmp_path, {"smoke": {"a": "{}", "b": "{}", "c": "{}"}})
    ran = []

    def fake_run(job, profile, profile_dir, on_line=None):
        ran.append(job.name)
        status = "failed" if job.name == "b" else "complete"
        return NotebookResult(job.name, status, 0.1, profile_dir / job.name, error="boom")

    monkeypatch.setattr(runner, "run_notebook", fake_run)
    out = tmp_path / "out"
    args = ("reproduce", "--profile", "smoke", "--output-root", str(out), "--no-progress")
    assert cli(dirs, *args) == 1
    assert ran == ["a", "b", "c"]  # continues by default
    ran.clear()
    results = reproduce("smoke", output_root=out, progress=False, fail_fast=True, **dirs)
    assert ran == ["a", "b"] and [r.status for r in results] == ["complete", "failed"]
    timings = json.loads((out / "smoke" / "timings.json").read_text())
    assert [(t["name"], t["status"]) for t in timings] == [
        ("a", "complete"),
        ("b", "failed"),
        ("c", "complete"),  # kept from the earlier run
    ]


def test_disabled_notebook_is_recorded_as_not_run(tmp_path, capsys):
    dirs = make_project(tmp_path, {"paper": {"alpha": 'enabled: false\nreason: "needs a GPU"\n'}})
    out = tmp_path / "out"
    (out / "paper" / "alpha").mkdir(parents=True)  # an older folder is replaced
    (out / "paper" / "alpha" / "old.png").write_text("x")
    [result] = reproduce("paper", output_root=out, progress=False, **dirs)
    assert (result.status, result.error, result.ok) == ("not run", "needs a GPU", True)
    metrics = json.loads((out / "paper" / "alpha" / "metrics.json").read_text())
    assert metrics["status"] == "not run" and metrics["reason"] == "needs a GPU"
    assert sorted(os.listdir(out / "paper")) == ["alpha", "end_to_end.json", "timings.json"]
    assert os.listdir(out / "paper" / "alpha") == ["metrics.json"]
    assert "not run" in capsys.readouterr().out


# --------------------------------------------------------------------------- executions


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """One real papermill run of the fixture: params seeds=2, overridden by seeds=3."""
    root = tmp_path_factory.mktemp("project")
    dirs = make_project(root, {"smoke": {"alpha": "seeds: 2  # tiny\nscale: 0.5\n"}})
    out = root / "out"
    results = reproduce("smoke", seeds=3, output_root=out, progress=False, **dirs)
    return {"dirs": dirs, "out": out, "results": results, "root": root}


@pytest.mark.slow
def test_successful_run_replaces_output_folder(smoke_run):
    out = smoke_run["out"] / "smoke"
    [result] = smoke_run["results"]
    assert result.status == "complete" and result.output_dir == out / "alpha"
    # no staging left behind; the executed notebooks' shared style sheet
    assert sorted(os.listdir(out)) == ["alpha", "notebook.css", "timings.json"]
    assert sorted(os.listdir(out / "alpha")) == ["alpha.html", "alpha.ipynb", "metrics.json"]
    metrics = json.loads((out / "alpha" / "metrics.json").read_text())
    assert metrics["status"] == "complete"
    assert metrics["settings"] == {"seeds": 3, "dataset": "synthetic", "scale": 0.5}
    assert metrics["results"] == {"total": 1.5}
    assert metrics["runner"]["parameters"] == {"seeds": 3, "scale": 0.5, "profile": "smoke"}
    [timing] = json.loads((out / "timings.json").read_text())
    assert timing["name"] == "alpha" and timing["status"] == "complete" and timing["seconds"] > 0
    html = (out / "alpha" / "alpha.html").read_text()
    assert "write_metrics" in html and "NBVAL_CHECK_OUTPUT" in html  # inputs are shown
    assert output_status("alpha", "smoke", smoke_run["out"])["status"] == "complete"


@pytest.mark.slow
def test_executed_notebook_has_injected_parameters(smoke_run):
    nb = nbformat.read(smoke_run["out"] / "smoke" / "alpha" / "alpha.ipynb", as_version=4)
    params = injected_parameters(nb)
    assert params["profile"] == "smoke" and params["seeds"] == 3
    assert params["output_dir"].endswith(".alpha.partial")  # staging, renamed afterwards
    outputs = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "profile=smoke seeds=3 total=1.5" in outputs


@pytest.mark.slow
def test_failure_goes_to_FAILED_and_keeps_earlier_outputs(smoke_run, tmp_path, capsys):
    dirs = make_project(
        tmp_path, {"smoke": {"alpha": "fail: true\n", "beta": 'enabled: false\nreason: "x"\n'}}
    )
    out = tmp_path / "out"
    shutil.copytree(smoke_run["out"] / "smoke" / "alpha", out / "smoke" / "alpha")
    code = cli(dirs, "reproduce", "--profile", "smoke", "--output-root", str(out), "--no-progress")
    assert code == 1
    text = capsys.readouterr().out
    assert "RuntimeError: fixture failure requested" in text
    assert "are from a previous run" in text
    smoke = out / "smoke"
    assert sorted(os.listdir(smoke)) == ["alpha", "alpha.FAILED", "beta", "end_to_end.json",
                                         "notebook.css", "timings.json"]  # fmt: skip
    failed = json.loads((smoke / "alpha.FAILED" / "metrics.json").read_text())
    assert failed["status"] == "failed" and "fixture failure requested" in failed["error"]
    nb = nbformat.read(smoke / "alpha.FAILED" / "alpha.ipynb", as_version=4)
    assert any(o.output_type == "error" for c in nb.cells for o in c.get("outputs", []))
    earlier = json.loads((smoke / "alpha" / "metrics.json").read_text())
    assert earlier["status"] == "complete"  # the previous good outputs are untouched
    status = output_status("alpha", "smoke", out)
    assert status["status"] == "complete" and status["failed"]
    assert json.loads((smoke / "beta" / "metrics.json").read_text())["status"] == "not run"

    assert cli(dirs, "list", "--output-root", str(out)) == 0
    table = capsys.readouterr().out
    assert "enabled | complete" in table and "then FAILED" in table
    assert "disabled | not run" in table and "disabled smoke/beta: x" in table


# --------------------------------------------------------------------------- nbval copies


@pytest.mark.slow
def test_store_for_nbval(smoke_run, tmp_path):
    executed = smoke_run["out"] / "smoke" / "alpha" / "alpha.ipynb"
    stored = store_for_nbval(executed, tmp_path / "alpha.ipynb")
    nb = json.loads(stored.read_text())
    assert injected_parameters(nb) == {
        "seeds": 3,
        "scale": 0.5,
        "profile": "smoke",
        "output_dir": None,
    }
    assert nb["metadata"]["papermill"] == {"parameters": injected_parameters(nb)}
    original = json.loads((smoke_run["dirs"]["notebooks_dir"] / "alpha.ipynb").read_text())
    assert code_cells(nb) == code_cells(original)
    assert any(c.get("outputs") for c in nb["cells"])  # outputs kept
    assert not any("papermill" in c["metadata"] for c in nb["cells"])


@pytest.mark.slow
def test_refresh_nbval_without_rerun(smoke_run, tmp_path):
    dest = tmp_path / "nbval"
    dest.mkdir()
    (dest / "gone.ipynb").write_text("{}")  # a notebook that no longer exists
    code = cli(
        smoke_run["dirs"],
        "refresh-nbval",
        "--no-run",
        "--output-root",
        str(smoke_run["out"]),
        "--dest",
        str(dest),
    )
    assert code == 0
    assert sorted(os.listdir(dest)) == ["alpha.ipynb"]


@pytest.mark.slow
def test_nbval_harness_checks_marked_outputs(smoke_run, tmp_path):
    """Run the real harness (conftest + sanitize.cfg) under nbval on a stored copy and on a copy
    whose checked output was tampered with: the first passes although its printed path differs
    (staging folder vs scratch output root), the second fails."""
    work = tmp_path / "nbval"
    work.mkdir()
    for name in ("conftest.py", "sanitize.cfg"):
        shutil.copy(NBVAL_HARNESS / name, work / name)
    (work / "platform.json").write_text(json.dumps(numeric_platform()))  # computed here
    executed = smoke_run["out"] / "smoke" / "alpha" / "alpha.ipynb"
    store_for_nbval(executed, work / "alpha.ipynb")
    tampered = nbformat.read(work / "alpha.ipynb", as_version=4)
    for cell in tampered.cells:
        for output in cell.get("outputs", []):
            if "total=1.5" in output.get("text", ""):
                output.text = output.text.replace("total=1.5", "total=9.9")
    nbformat.write(tampered, work / "alpha_tampered.ipynb")
    scratch = tmp_path / "scratch"
    env = {**os.environ, "SALIENCY_NBVAL_SCRATCH": str(scratch)}

    def harness() -> tuple[int, str]:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax"]
            + ["--nbval-current-env", "-o", "markers=slow", "-rf", str(work)],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return proc.returncode, proc.stdout + proc.stderr

    code, report = harness()
    assert code == 1, report
    failed = [line for line in report.splitlines() if line.startswith("FAILED")]
    assert failed and all("alpha_tampered.ipynb" in line for line in failed), report
    assert "total=9.9" in report
    assert "checked cells compared" in report
    # stored outputs from another kind of CPU: every cell runs, none is compared, and it says so
    other = {**numeric_platform(), "cpu": "Another CPU", "cpu_flags": ["amx_bf16"]}
    (work / "platform.json").write_text(json.dumps(other))
    code, report = harness()
    assert code == 0, report
    assert "from another kind of machine (cpu 'Another CPU' there" in report, report
    assert "were not compared" in report
    # output_dir = None in the stored copy: Experiment wrote under $SALIENCY_OUTPUT_ROOT
    metrics = json.loads((scratch / "outputs" / "smoke" / "alpha" / "metrics.json").read_text())
    assert metrics["settings"]["seeds"] == 3


def test_prepare_jobs_seeds_only_where_the_notebook_has_them(tmp_path):
    dirs = make_project(tmp_path, {"cpu": {"alpha": "{}"}})
    nb = json.loads((dirs["notebooks_dir"] / "alpha.ipynb").read_text())
    for cell in nb["cells"]:  # a second notebook without a `seeds` parameter
        cell["source"] = cell["source"].replace("seeds = 1\n", "").replace("seeds", "1")
    (dirs["notebooks_dir"] / "noseeds.ipynb").write_text(json.dumps(nb))
    keys = ("dataset", "dataset_params", "scale", "fail")
    (dirs["params_dir"] / "cpu" / "noseeds.yaml").write_text(complete_params("{}", "cpu", keys))
    jobs = prepare_jobs("cpu", seeds=5, **dirs)
    params = {j.name: j.parameters for j in jobs}
    assert params == {"alpha": {"profile": "cpu", "seeds": 5}, "noseeds": {"profile": "cpu"}}


def test_record_claims_keys_claims_by_id_in_metrics(tmp_path):
    from saliency_lib.experiment import Experiment

    exp = Experiment("claims_demo", "smoke", tmp_path)
    claims = [{"id": "a_beats_b", "holds": True}, {"id": "c_beats_d", "holds": False}]
    exp.record_claims(claims)
    metrics = json.loads(exp.write_metrics().read_text())
    assert metrics["claims"] == {"a_beats_b": claims[0], "c_beats_d": claims[1]}


def test_whole_profile_run_records_its_end_to_end_time(tmp_path, monkeypatch):
    from saliency_lib.report import end_to_end_line

    dirs = make_project(tmp_path, {"smoke": {"a": "{}", "b": "{}"}})
    store = tmp_path / "store"
    monkeypatch.setenv("SALIENCY_RUN_STORE", str(store))

    def fake_run(job, profile, profile_dir, on_line=None):
        (store / f"run-{job.name}").mkdir(parents=True, exist_ok=True)  # a notebook trains a run
        return NotebookResult(job.name, "complete", 0.1, profile_dir / job.name)

    monkeypatch.setattr(runner, "run_notebook", fake_run)
    clock = iter(range(10, 60))  # later runs finish later (real ones take more than a second)
    monkeypatch.setattr(runner, "_now", lambda: f"2026-12-01T00:00:{next(clock)}+00:00")
    out = tmp_path / "out"
    record_path = out / "smoke" / runner.END_TO_END
    reproduce("smoke", only="a", output_root=out, progress=False, **dirs)
    assert not record_path.exists()  # a selection is not the profile's time
    assert end_to_end_line(out / "smoke").startswith("End to end: not measured")
    shutil.rmtree(store)
    reproduce("smoke", output_root=out, progress=False, **dirs)
    record = json.loads(record_path.read_text())
    assert record["notebooks"] == 2 and record["statuses"] == {"a": "complete", "b": "complete"}
    assert record["run_store_empty_at_start"] is True and record["seconds"] >= 0
    line = end_to_end_line(out / "smoke")
    assert "all 2 notebooks took" in line and "run store empty at the start" in line
    assert "run again since" not in line
    reproduce("smoke", seeds=1, output_root=out, progress=False, **dirs)  # not the files' values
    assert json.loads(record_path.read_text()) == record
    assert "run again since (their outputs are newer): a, b" in end_to_end_line(out / "smoke")
    shutil.rmtree(store / "run-a")
    reproduce("smoke", output_root=out, progress=False, **dirs)  # the store has run-b
    assert json.loads(record_path.read_text())["run_store_empty_at_start"] is False
