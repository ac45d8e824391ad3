"""No bad input becomes a stored result (issue 22): each case of the input audit, as a new user
would try it. Non-finite numbers and impossible sizes are refused before any work; a run whose
training loss is not finite is never marked complete; every file the package reads that is
damaged, truncated or not UTF-8 gives one line naming it, what is wrong and the fix; the NumPy
and Python random states survive a resume; the validator and the ``--set`` parser answer any
input with a configuration or one line (hypothesis), never a traceback."""

from __future__ import annotations

import errno
import json
import math
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_runner import complete_params, make_project

from saliency_lib import runs
from saliency_lib.__main__ import main
from saliency_lib._fileio import StoreError, os_error
from saliency_lib._project import project_layout
from saliency_lib.config import RunConfig
from saliency_lib.grid import grid_configs
from saliency_lib.methods import SGTConfig, Traditional
from saliency_lib.pipeline.params import (
    ParameterError,
    notebook_parameters,
    parameters_grid,
    parse_sets,
    validate_params,
)
from saliency_lib.runs import RunStoreError, is_complete, load_run, train_or_load
from saliency_lib.trainer import TrainingDiverged

LAYOUT = project_layout(Path(__file__).resolve().parents[1])  # this repository
SMOOT = "smoot_tab2_tab3_fig3_accuracy_drop"
TINY = dict(dataset="synthetic", dataset_params={"n": 64, "num_classes": 4, "image_size": 8},
            epochs=3, batch_size=32, progress=False, device="cpu")  # fmt: skip


def one_line(text: str) -> bool:
    return text.count("\n") <= 1 and "Traceback" not in text


# --------------------------------------------------------------------------- non-finite values


def test_non_finite_numbers_are_refused_by_run_configs_and_method_configs():
    with pytest.raises(ValueError, match="RunConfig.lr must be a finite number, got inf"):
        RunConfig(lr=math.inf)
    with pytest.raises(
        ValueError, match="method_params.lambda_kl must be a finite number, got nan"
    ):
        RunConfig(method="sgt", method_params={"lambda_kl": math.nan})
    with pytest.raises(ValueError, match="SGTConfig.lambda_kl must be a finite number, got nan"):
        SGTConfig(lambda_kl=math.nan)
    with pytest.raises(ValueError, match=r"dataset_params.noise must be a finite number"):
        RunConfig(dataset_params={"noise": -math.inf})


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("training.lr=.inf", "training.lr: must be a finite number, got inf"),
        ("methods.sgt.lambda_kl=.nan", "methods.sgt.lambda_kl: must be a finite number, got nan"),
        ("training.epochs=1000000000", "training.epochs: must be in [1, 10000]"),
        ("training.batch_size=1000000000", "training.batch_size: must be in [1, 65536]"),
        ("datasets.fashion_mnist.train_subset=1000000000000", "at most 60000 train images"),
        ("training.device=cuda:7", "training.device: 'cuda:7' does not exist on this machine"),
    ],
)
def test_the_audit_set_values_are_refused_in_one_line(item, message, capsys):
    args = ["validate", "--profile", "cpu", "--only", SMOOT, "--no-data-check", "--set", item]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("error: ") and one_line(err), err


def test_too_many_seeds_on_the_command_line(capsys):
    assert main(["validate", "--profile", "cpu", "--only", SMOOT, "--seeds", "100000"]) == 2
    err = capsys.readouterr().err
    assert "--seeds must be a number of seeds from 1 to 100" in err and one_line(err), err


@pytest.mark.slow
def test_a_non_finite_loss_stops_the_run_and_it_is_never_complete(tmp_path):
    """lr = inf passes no validation, so this sets it after the config was checked (as a bug
    or a library user could): the run stops at its first epoch with one line naming the run,
    the epoch and the likely cause, keeps nothing of that epoch, and stays incomplete."""
    cfg = RunConfig(**TINY)
    cfg.lr = math.inf
    for _ in range(2):  # a second call trains the epoch again: the same refusal
        with pytest.raises(TrainingDiverged) as err:
            train_or_load(cfg, store=tmp_path)
        msg = str(err.value)
        assert msg.startswith(f"run {cfg.run_id}: ") and "at epoch 1" in msg, msg
        assert "likely cause: a learning rate too large" in msg and one_line(msg), msg
        assert not is_complete(cfg, tmp_path)
    record = json.loads((tmp_path / cfg.run_id / "run.json").read_text())
    assert record["status"] == "running" and not (tmp_path / cfg.run_id / "last.pt").exists()


def test_the_trainer_checks_the_weights_too():
    """One batch per epoch: the loss of the step is finite (computed before the update), the
    weights after it are not; the epoch is refused all the same."""
    import torch

    from saliency_lib.trainer import check_finite

    model = torch.nn.Linear(2, 2)
    check_finite(model, {"epoch": 1, "train_loss": 0.5})
    with torch.no_grad():
        model.weight[0, 0] = math.nan
    with pytest.raises(TrainingDiverged, match="a weight is not finite at epoch 1"):
        check_finite(model, {"epoch": 1, "train_loss": 0.5})


# --------------------------------------------------------------------------- params files


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty (or only comments)"),
        ("# nothing yet\n", "is empty (or only comments)"),
        ("profile: cpu\ndatasets:\n  fashion_mnist: {}\n", "does not set dataset_params, train"),
        ("datasets: {fashion_mnist: {}}\n", "add `profile: cpu`"),
    ],
    ids=["empty", "comment-only", "truncated", "no profile"],
)
def test_an_incomplete_params_file_is_refused_in_one_line(tmp_path, text, message, capsys):
    params = tmp_path / "params"
    shutil.copytree(LAYOUT.params / "cpu", params / "cpu")
    (params / "cpu" / f"{SMOOT}.yaml").write_text(text)
    args = ["validate", "--profile", "cpu", "--only", SMOOT, "--no-data-check"]
    assert main([*args, "--params-dir", str(params)]) == 2
    err = capsys.readouterr().err
    assert message in err and f"cpu/{SMOOT}.yaml" in err and one_line(err), err


def test_from_notebook_must_name_parameters_once(tmp_path):
    dirs = make_project(tmp_path, {"smoke": {"alpha": "from_notebook: [seeds, sedes]\n"}})
    with pytest.raises(ParameterError, match="from_notebook: 'sedes' is not a parameter"):
        validate_params("alpha", "smoke", **dirs, check_data=False)
    text = "profile: smoke\nseeds: 2\nfrom_notebook: [seeds, dataset, dataset_params, scale, fail]"
    (dirs["params_dir"] / "smoke" / "alpha.yaml").write_text(text)
    with pytest.raises(ParameterError, match="seeds is set here and listed under from_notebook"):
        validate_params("alpha", "smoke", **dirs, check_data=False)


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("command", ["validate", "list", "reproduce"])
def test_a_params_file_or_notebook_that_is_not_utf8(tmp_path, command, capsys):
    dirs = make_project(tmp_path, {"smoke": {"alpha": "scale: 0.5\n"}})
    flags = [f"--{k.replace('_', '-')}={v}" for k, v in dirs.items()]
    out = ["--output-root", str(tmp_path / "out")] if command != "validate" else []
    extra = ["--profile", "smoke"] if command != "list" else []
    yaml_file = dirs["params_dir"] / "smoke" / "alpha.yaml"
    yaml_file.write_bytes(yaml_file.read_bytes() + b"# caf\xe9\n")  # Latin-1, not UTF-8
    code = main([command, *extra, *out, *flags])
    err = capsys.readouterr().err
    if command == "list":  # the table says so; no traceback
        assert code == 0 and "Traceback" not in err
    else:
        assert code == 2 and "alpha.yaml is not UTF-8 text (byte 0xe9" in err and one_line(err)
    yaml_file.write_text(complete_params("scale: 0.5\n", "smoke"))
    nb = dirs["notebooks_dir"] / "alpha.ipynb"
    nb.write_bytes(nb.read_bytes().replace(b"A tiny notebook", b"A tiny \xff notebook"))
    code = main([command, *extra, *out, *flags])
    err = capsys.readouterr().err
    if command == "list":
        assert code == 0 and "Traceback" not in err
    else:
        assert code == 2 and "alpha.ipynb is not UTF-8 text (byte 0xff" in err and one_line(err)


# --------------------------------------------------------------------------- run store files


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    store = tmp_path_factory.mktemp("store")
    cfg = RunConfig(**{**TINY, "epochs": 2})
    train_or_load(cfg, store=store)
    return cfg, store


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"status": "complete"}, "'run_id' is missing"),
        ("EMPTY_HISTORY", "its history is empty"),
        ("NO_SHAPE", "shape_info has no num_classes"),
        ({"status": "done", "run_id": "x", "config": {}}, "neither 'running' nor 'complete'"),
        ([1, 2], "not a run record but list"),
    ],
    ids=["status only", "empty history", "no shape info", "unknown status", "a list"],
)
def test_a_wrong_run_json_names_the_file_and_is_rebuilt(trained, tmp_path, record, problem):
    cfg, store = trained
    mine = tmp_path / "store"
    shutil.copytree(store, mine)
    file = mine / cfg.run_id / "run.json"
    good = json.loads(file.read_text())
    if record == "EMPTY_HISTORY":
        record = {**good, "history": []}
    elif record == "NO_SHAPE":
        record = {**good, "shape_info": {}}
    file.write_text(json.dumps(record))
    with pytest.raises(RunStoreError) as err:
        load_run(cfg, mine)
    msg = str(err.value)
    assert str(file) in msg and problem in msg and "rebuilds it from" in msg and one_line(msg)
    run = train_or_load(cfg, store=mine)  # rebuilt from last.pt, nothing retrained
    assert [h["test_acc"] for h in run.history] == [h["test_acc"] for h in good["history"]]
    assert json.loads(file.read_text())["status"] == "complete"


def test_a_run_store_that_is_a_file(tmp_path, capsys):
    store = tmp_path / "runs"
    store.write_text("not a folder")
    with pytest.raises(RunStoreError, match="is a file, not a folder"):
        train_or_load(RunConfig(**TINY), store=store)
    assert main(["plan", "--profile", "smoke", "--only", "smoot_fig1", "--store", str(store)]) == 1
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and one_line(err), err


def test_a_file_size_limit_is_not_called_a_full_disk(tmp_path):
    msg = str(os_error(OSError(errno.EFBIG, "File too large"), tmp_path / "last.pt"))
    assert "ulimit -f" in msg and "free space" not in msg
    msg = str(os_error(OSError(errno.ENOSPC, "No space left"), tmp_path / "last.pt"))
    assert "no space left on device" in msg and "free space" in msg
    assert isinstance(os_error(OSError(errno.EFBIG, "x"), tmp_path), StoreError)


# --------------------------------------------------------------------------- random states


@pytest.mark.slow
def test_resume_restores_the_numpy_and_python_random_states(tmp_path, monkeypatch):
    """A method drawing from NumPy's and Python's global generators after each epoch draws the
    same numbers whether the run was interrupted or not: fails if either restore is removed."""

    def end_epoch(self, epoch, metrics):
        metrics["numpy"] = float(np.random.random())
        metrics["python"] = random.random()

    monkeypatch.setattr(Traditional, "end_epoch", end_epoch)
    cfg = RunConfig(**TINY)
    whole = train_or_load(cfg, store=tmp_path / "whole")
    assert train_or_load(cfg, store=tmp_path / "split", stop_after=1) is None
    np.random.seed(123), random.seed(123)  # whatever ran in between
    resumed = train_or_load(cfg, store=tmp_path / "split")
    draws = [(h["numpy"], h["python"]) for h in whole.history]
    assert [(h["numpy"], h["python"]) for h in resumed.history] == draws
    assert len(set(draws)) == len(draws)  # each epoch drew new numbers


# --------------------------------------------------------------------------- fuzz

NOTEBOOK = LAYOUT.notebooks / "smoot_fig1_motivation.ipynb"
KEYS = sorted(notebook_parameters(NOTEBOOK)) + ["training.epochs", "training.lr", "seeds", "x.y"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True),
    st.text(max_size=8),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def _accepted_or_one_line(call) -> dict | None:
    try:
        return call()
    except ParameterError as e:
        assert str(e) and "\n" not in str(e), str(e)
        return None


def _trains(values: dict) -> None:
    """An accepted configuration builds runs whose numbers are all finite and in range."""
    effective = {**notebook_parameters(NOTEBOOK), **values}
    for cfg in grid_configs(parameters_grid("smoot_fig1_motivation", effective, "fuzz")):
        RunConfig.from_dict(cfg.to_dict())  # every check again, from plain data
        assert 1 <= cfg.epochs <= 10_000 and math.isfinite(cfg.lr) and cfg.lr > 0


@FUZZ
@given(st.dictionaries(st.sampled_from(KEYS[:-4]), values, max_size=4))
def test_fuzz_the_params_validator(data):
    params = {"profile": "smoke", **data, "from_notebook": [
        k for k in notebook_parameters(NOTEBOOK) if k not in (*data, "profile", "output_dir")
    ]}  # fmt: skip
    accepted = _accepted_or_one_line(
        lambda: validate_params("smoot_fig1_motivation", "smoke", params, check_data=False)
    )
    if accepted is not None:
        _trains(accepted)


@FUZZ
@given(
    st.lists(
        st.tuples(st.sampled_from(KEYS), st.text(max_size=12) | values.map(yaml.safe_dump)),
        max_size=3,
    )
)
def test_fuzz_the_set_parser(items):
    raw = [f"{k}={v.strip() if isinstance(v, str) else v}" for k, v in items]
    sets = _accepted_or_one_line(lambda: parse_sets(raw))
    if sets is None:
        return
    own = {k: v for k, v in sets.items() if k.split(".")[0] in notebook_parameters(NOTEBOOK)}
    accepted = _accepted_or_one_line(
        lambda: validate_params("smoot_fig1_motivation", "smoke", sets=own, check_data=False)
    )
    if accepted is not None:
        _trains(accepted)


@pytest.mark.parametrize(
    "params, sets",
    [
        ({"training": {"\n": 1}}, None),  # the key a fuzz run drew: "training.\n"
        ({"x\ny": 1}, None),
        (None, {"training.a\tb": 1}),
        (None, {"a\nb": 1}),
    ],
)
def test_an_unprintable_key_is_quoted_on_one_line(params, sets):
    with pytest.raises(ParameterError) as err:
        validate_params(
            "smoot_fig1_motivation", "smoke", {"profile": "smoke", **(params or {})},
            sets=sets, check_data=False,
        )  # fmt: skip
    message = str(err.value)
    assert "\n" not in message and "\t" not in message, message
    assert "'" in message and ("\\n" in message or "\\t" in message), message


def test_the_fuzz_helpers_see_a_traceback():
    def boom():
        raise KeyError("x")

    with pytest.raises(KeyError):
        _accepted_or_one_line(boom)
    with pytest.raises(AssertionError):
        _accepted_or_one_line(lambda: (_ for _ in ()).throw(ParameterError("a\nb")))
    assert runs.record_problem({"run_id": "x", "config": {}, "status": "running"}) is None
