"""Parameters files against their notebooks (the repository's, parametrised over what exists),
and the validation machinery on small fixture notebooks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_runner import complete_params

from saliency_lib._project import project_layout
from saliency_lib.data import DatasetNotFoundError
from saliency_lib.pipeline.jobs import list_notebooks
from saliency_lib.pipeline.params import (
    PROFILES,
    ParameterError,
    load_params,
    notebook_parameters,
    params_path,
    parse_assignments,
    profile_status,
    type_matches,
    validate_params,
)

LAYOUT = project_layout(Path(__file__).resolve().parents[1])  # this repository
NOTEBOOKS_DIR = LAYOUT.notebooks
PARAMS_DIR = LAYOUT.params

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
NOTEBOOKS = list_notebooks()
PARAM_FILES = sorted(PARAMS_DIR.glob("*/*.yaml"))


def _or_skip(values, reason):
    return values or [pytest.param(None, marks=pytest.mark.skip(reason=reason))]


# --------------------------------------------------------------------------- the repository


@pytest.mark.parametrize(
    "path",
    _or_skip(PARAM_FILES, "no params/<profile>/*.yaml files yet"),
    ids=lambda p: f"{p.parent.name}/{p.stem}" if p else "none",
)
def test_params_file_matches_notebook(path):
    """Keys are a subset of the notebook's parameters and types match their defaults."""
    name, profile = path.stem, path.parent.name
    assert (NOTEBOOKS_DIR / f"{name}.ipynb").is_file(), (
        f"{path.relative_to(PARAMS_DIR.parent)} has no notebook notebooks/{name}.ipynb"
    )
    validate_params(name, profile, check_data=False)


@pytest.mark.parametrize(
    "name", _or_skip(NOTEBOOKS, "no notebooks in notebooks/ yet"), ids=lambda n: n or "none"
)
@pytest.mark.parametrize("profile", PROFILES)
def test_every_notebook_has_params_in_every_profile(name, profile):
    path = params_path(name, profile)
    assert path.is_file(), (
        f"notebook {name!r} has no parameters file params/{profile}/{name}.yaml "
        "(use `enabled: false` + `reason:` if it cannot run in this profile)"
    )


# --------------------------------------------------------------------------- machinery


@pytest.fixture
def nbdir(tmp_path):
    """A notebooks/ + params/ pair holding the fixture notebook ``alpha``."""
    nb = tmp_path / "notebooks"
    nb.mkdir()
    shutil.copy(FIXTURES / "alpha.ipynb", nb / "alpha.ipynb")
    (tmp_path / "params" / "smoke").mkdir(parents=True)
    return tmp_path


def write_params(root: Path, text: str, name="alpha", profile="smoke", complete=True) -> Path:
    """``text`` as the params file, made complete (profile, from_notebook) unless told not to."""
    path = root / "params" / profile / f"{name}.yaml"
    path.write_text(complete_params(text, profile) if complete else text)
    return path


def validate(root: Path, name="alpha", profile="smoke", **kw):
    return validate_params(
        name, profile, notebooks_dir=root / "notebooks", params_dir=root / "params", **kw
    )


def test_notebook_parameters_reads_the_parameters_cell():
    assert notebook_parameters(FIXTURES / "alpha.ipynb") == {
        "profile": "cpu",
        "output_dir": None,
        "seeds": 1,
        "dataset": "synthetic",
        "dataset_params": {},
        "scale": 1.0,
        "fail": False,
    }


def test_parameters_cell_must_exist_once(tmp_path):
    nb = json.loads((FIXTURES / "alpha.ipynb").read_text())
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("tags", None)
    path = tmp_path / "untagged.ipynb"
    path.write_text(json.dumps(nb))
    with pytest.raises(ParameterError, match="no code cell tagged 'parameters'"):
        notebook_parameters(path)


def test_parameters_cell_allows_only_literal_assignments():
    assert parse_assignments("# comment\na = 1\nb: float = 2.5\nc = d = [1, {'x': None}]") == {
        "a": 1,
        "b": 2.5,
        "c": [1, {"x": None}],
        "d": [1, {"x": None}],
    }
    with pytest.raises(ParameterError, match="must be a literal"):
        parse_assignments("a = len([1])")
    with pytest.raises(ParameterError, match="only `name = literal` assignments"):
        parse_assignments("import os")


@pytest.mark.parametrize(
    "value, default, ok",
    [
        (1, 1.0, True),  # int accepted for float
        (1.5, 1, False),
        (True, 1, False),  # a bool is not an int
        (1, True, False),
        ("x", None, True),  # None default accepts anything
        ([1], None, True),
        ([1, 2], [], True),
        ({"a": 1}, [], False),
        ({}, {"a": 1}, True),
        (None, 1, False),
        ("cpu", "smoke", True),
    ],
)
def test_type_rules(value, default, ok):
    assert type_matches(value, default) is ok


def test_load_params_names_the_missing_file(nbdir):
    with pytest.raises(ParameterError, match=r"params/smoke/alpha\.yaml"):
        load_params("alpha", "smoke", nbdir / "params")
    write_params(nbdir, "", complete=False)
    assert load_params("alpha", "smoke", nbdir / "params") == {}  # refused by validation
    write_params(nbdir, "- 1\n- 2\n")
    with pytest.raises(ParameterError, match="must be a mapping"):
        load_params("alpha", "smoke", nbdir / "params")


def test_valid_params_return_the_values_to_inject(nbdir):
    write_params(nbdir, "seeds: 2  # SGT paper: 5 seeds\nscale: 3\n")
    assert validate(nbdir, overrides={"seeds": 4}) == {"profile": "smoke", "seeds": 4, "scale": 3}


def test_unknown_key_names_key_file_and_valid_keys(nbdir):
    write_params(nbdir, "sedes: 2\n")
    with pytest.raises(ParameterError) as err:
        validate(nbdir)
    msg = str(err.value)
    assert "alpha.yaml: sedes: unknown parameter" in msg
    assert "valid keys: dataset, dataset_params, fail, output_dir, profile, scale, seeds" in msg


def test_wrong_type_names_key_expected_type_and_file(nbdir):
    write_params(nbdir, "fail: 1\n")
    with pytest.raises(ParameterError, match=r"alpha\.yaml: fail: .* must be bool"):
        validate(nbdir)
    with pytest.raises(ParameterError, match=r"command-line override: seeds: .* int"):
        write_params(nbdir, "{}")
        validate(nbdir, overrides={"seeds": "3"})


def test_runner_owned_keys(nbdir):
    write_params(nbdir, "output_dir: /tmp/x\n")
    with pytest.raises(ParameterError, match="output_dir: set by the runner"):
        validate(nbdir)
    write_params(nbdir, "profile: cpu\n")
    with pytest.raises(ParameterError, match=r"smoke/alpha\.yaml: profile: 'cpu' is not the pro"):
        validate(nbdir)
    write_params(nbdir, "profile: smoke\n")  # the file's own folder
    assert validate(nbdir) == {"profile": "smoke"}


def test_disabled_needs_a_reason_and_skips_the_data_check(nbdir, tmp_path):
    assert profile_status({}) == (True, None)
    with pytest.raises(ParameterError, match="needs a 'reason'"):
        profile_status({"enabled": False})
    with pytest.raises(ParameterError, match="'enabled' must be true or false"):
        profile_status({"enabled": "no"})
    write_params(
        nbdir,
        f"enabled: false\nreason: needs a GPU\ndataset: cifar10\n"
        f"dataset_params: {{root: {tmp_path / 'none'}, source: root}}\n",
    )
    assert validate(nbdir)["dataset"] == "cifar10"


def test_missing_dataset_names_notebook_and_profile(nbdir, tmp_path):
    write_params(
        nbdir,
        f"dataset: cifar10\ndataset_params: {{root: {tmp_path / 'empty'}, source: root}}\n",
    )
    with pytest.raises(DatasetNotFoundError) as err:
        validate(nbdir)
    msg = str(err.value)
    assert "notebook 'alpha', profile 'smoke'" in msg and "'cifar10'" in msg
    assert "How to fix" in msg  # the data layer's fix is kept
    assert validate(nbdir, check_data=False)["dataset"] == "cifar10"


def test_dataset_names_and_dataset_params_are_checked(nbdir):
    write_params(nbdir, "dataset: imagenet\n")
    with pytest.raises(ParameterError, match="dataset: unknown dataset 'imagenet'; .*cifar10"):
        validate(nbdir)
    write_params(nbdir, "dataset_params: {canvas: 3}\n")
    with pytest.raises(ParameterError, match="dataset parameter.* canvas"):
        validate(nbdir)
    write_params(nbdir, "dataset_params: {n: 64, num_classes: 3}\n")
    assert validate(nbdir) == {"dataset_params": {"n": 64, "num_classes": 3}, "profile": "smoke"}


def test_datasets_mapping_entries_may_name_their_dataset(nbdir, tmp_path):
    """``datasets: {label: overrides}`` as saliency_lib.grid reads it: the label is the dataset
    unless the entry names one; an entry's own dataset_params apply to it."""
    nb = json.loads((nbdir / "notebooks" / "alpha.ipynb").read_text())
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        cell["source"] = src.replace('dataset = "synthetic"', 'datasets = {"synthetic": {}}')
    (nbdir / "notebooks" / "alpha.ipynb").write_text(json.dumps(nb))
    keys = ("seeds", "datasets", "dataset_params", "scale", "fail")

    def write_params(root, text):
        (root / "params" / "smoke" / "alpha.yaml").write_text(complete_params(text, "smoke", keys))

    write_params(nbdir, "datasets: {small: {dataset: synthetic, train_subset: 8}}\n")
    assert validate(nbdir)["datasets"] == {"small": {"dataset": "synthetic", "train_subset": 8}}
    write_params(nbdir, "datasets: {mnist_big: {dataset: imagenet}}\n")
    with pytest.raises(ParameterError, match="unknown dataset 'imagenet'"):
        validate(nbdir)
    missing = tmp_path / "missing"
    entry = f"{{dataset: cifar10, dataset_params: {{root: {missing}, source: root}}}}"
    write_params(nbdir, f"datasets: {{c10: {entry}}}\n")
    with pytest.raises(DatasetNotFoundError, match="'cifar10'"):
        validate(nbdir)


def test_entry_dataset_params_override_the_shared_ones():
    from saliency_lib.grid import run_grid

    grid = run_grid(
        datasets={"cluttered": {"dataset": "cluttered_fashion_mnist", "dataset_params": {"n": 50}}},
        training={"epochs": 1}, methods={"traditional": {}}, seeds=1,
        dataset_params={"n": 200, "canvas_size": 40},
    )  # fmt: skip
    (cfg,) = grid["cluttered"].values()
    assert cfg.dataset_params == {"n": 50, "canvas_size": 40}
