"""One reader of the experiment grid (saliency_lib.grid).

The must-show check: for every profile and notebook, the run ids the notebook trains (the grid
function on its parameters) are the ones ``plan`` lists and ``validate`` checks; and every
notebook builds its runs with that function, from its own parameters, and trains nothing else.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from saliency_lib._project import project_layout
from saliency_lib.config import RunConfig
from saliency_lib.grid import (
    GRID_PARAMETERS,
    HLGM_BASELINE,
    grid_run_ids,
    notebook_grid,
    run_grid,
)
from saliency_lib.methods import HLGMConfig, NoOptions, SGTConfig
from saliency_lib.pipeline.params import (
    RESERVED_KEYS,
    ParameterError,
    list_profiles,
    load_params,
    notebook_parameters,
    validate_params,
)
from saliency_lib.pipeline.plan import plan
from saliency_lib.pipeline.runner import list_notebooks, prepare_jobs

LAYOUT = project_layout(Path(__file__).resolve().parents[1])  # this repository
NOTEBOOKS_DIR = LAYOUT.notebooks

PROFILES = list_profiles()
NOTEBOOKS = list_notebooks()


def _effective(name: str, profile: str) -> dict:
    """The notebook's defaults with the profile's values: what papermill runs it with."""
    params = notebook_parameters(NOTEBOOKS_DIR / f"{name}.ipynb")
    params.update({k: v for k, v in load_params(name, profile).items() if k not in RESERVED_KEYS})
    return params


# --------------------------------------------------------------------------- the must-show


@pytest.mark.parametrize("profile", PROFILES)
def test_notebook_plan_and_validate_see_the_same_runs(profile, tmp_path):
    jobs = prepare_jobs(profile, check_data=False)  # what `validate` checks
    planned = plan(profile, store=tmp_path / "runs", check_data=False)  # what `plan` lists
    assert [j.name for j in jobs] == NOTEBOOKS
    assert planned.notebooks == [j.name for j in jobs if j.enabled]
    training_notebooks = 0
    for job in jobs:
        trained = grid_run_ids(notebook_grid(_effective(job.name, profile)))  # the notebook
        assert len(trained) == len(set(trained)), f"{job.name}: a run id twice in its grid"
        assert grid_run_ids(job.grid) == trained, f"{profile}/{job.name}: validate differs"
        listed = [r.run_id for r in planned if job.name in r.notebooks]
        expected = sorted(trained) if job.enabled else []
        assert sorted(listed) == expected, f"{profile}/{job.name}: plan differs"
        training_notebooks += bool(trained)
    assert training_notebooks >= 8  # not vacuous: the training notebooks have grids
    assert {r.run_id for r in planned} == {
        i for j in jobs if j.enabled for i in grid_run_ids(j.grid)
    }


def _source(name: str) -> ast.Module:
    return ast.parse(Path(NOTEBOOKS_DIR / f"{name}.py").read_text(encoding="utf-8"))


def _targets(stmt: ast.stmt) -> list[ast.expr]:
    """What a top-level statement assigns: ``x = ...`` and the parameters cell's ``x: T = ...``."""
    if isinstance(stmt, ast.Assign):
        return stmt.targets
    return [stmt.target] if isinstance(stmt, ast.AnnAssign) else []


def _call_name(node: ast.Call) -> str | None:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


MUTATORS = ("update", "pop", "setdefault", "clear", "append", "extend", "insert", "popitem")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_trains_its_grid_and_nothing_else(name):
    """The notebook's runs are ``run_grid(<its grid parameters, unchanged>)``; it trains them
    with ``train_all`` on the grid's settings, and builds no other run configuration."""
    tree = _source(name)
    params = notebook_parameters(NOTEBOOKS_DIR / f"{name}.ipynb")
    grid_params = [k for k in GRID_PARAMETERS if k in params]
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    by_name: dict[str, list[ast.Call]] = {}
    for c in calls:
        by_name.setdefault(_call_name(c), []).append(c)
    for banned in ("train_or_load", "make_configs", "RunConfig", "from_dict", "replace"):
        assert banned not in by_name, f"{name} builds or trains runs itself ({banned})"
    if "methods" not in params or "training" not in params:
        assert "run_grid" not in by_name and "train_all" not in by_name
        return
    (grid_call,) = by_name.get("run_grid", [None])
    assert grid_call is not None and not grid_call.args
    passed = {kw.arg: kw.value for kw in grid_call.keywords}
    assert sorted(passed) == sorted(grid_params), f"{name}: run_grid must get {grid_params}"
    for key, value in passed.items():
        assert isinstance(value, ast.Name) and value.id == key, f"{name}: {key}= is not {key}"
    # the grid parameters are assigned once (the parameters cell) and never changed
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign | ast.For):
            targets = [node.target]
        for t in targets:
            for sub in ast.walk(t):
                if isinstance(sub, ast.Name) and sub.id in grid_params:
                    assert (
                        sum(
                            any(isinstance(x, ast.Name) and x.id == sub.id for x in _targets(s))
                            for s in tree.body
                        )
                        == 1
                    ), f"{name} reassigns {sub.id}"
                    assert node in tree.body, f"{name} assigns {sub.id} inside a block"
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
            base = node.value
            assert not (isinstance(base, ast.Name) and base.id in grid_params), (
                f"{name} changes {base.id}"
            )
    for c in calls:
        f = c.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            assert not (f.value.id in grid_params and f.attr in MUTATORS), (
                f"{name} changes {f.value.id} with .{f.attr}()"
            )
    # train_all gets a setting of the grid: the loop variable of `for ..., x in grid.items()`
    grid_var = next(
        t.id
        for node in tree.body
        if isinstance(node, ast.Assign) and node.value is grid_call
        for t in node.targets
    )
    loop_vars = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.For)
            and isinstance(node.iter, ast.Call)
            and isinstance(node.iter.func, ast.Attribute)
            and node.iter.func.attr == "items"
            and isinstance(node.iter.func.value, ast.Name)
            and node.iter.func.value.id == grid_var
            and isinstance(node.target, ast.Tuple)
        ):
            loop_vars.add(node.target.elts[1].id)
    assert by_name.get("train_all"), f"{name} trains nothing"
    for c in by_name["train_all"]:
        (arg,) = c.args
        assert isinstance(arg, ast.Name) and arg.id in loop_vars, (
            f"{name}: train_all must get a setting of the grid ({grid_var}.items())"
        )


def test_validate_builds_the_grid_and_names_a_bad_method_option():
    with pytest.raises(ParameterError, match=r"methods.sgt.k_frac: unknown option.*valid keys"):
        validate_params(
            "smoot_fig2_sgt_fig2_saliency_maps",
            "smoke",
            {"methods": {"sgt": {"k_frac": 0.5}}},
            check_data=False,
        )
    with pytest.raises(ParameterError, match="unknown training method 'sgtt'"):
        validate_params(
            "smoot_fig2_sgt_fig2_saliency_maps",
            "smoke",
            {"methods": {"x": {"method": "sgtt"}}},
            check_data=False,
        )


# --------------------------------------------------------------------------- the grid itself


def test_entries_labels_seeds_and_dataset_params():
    grid = run_grid(
        datasets={
            "small": {"dataset": "synthetic", "train_subset": 8, "seeds": [3]},
            "synthetic": {"dataset_params": {"n": 50}},
        },
        dataset_params={"n": 200, "image_size": 8},
        training={"epochs": 1},
        methods={"traditional": {}, "half": {"method": "sgt", "k_fraction": 0.5}},
        seeds=2,
    )
    assert list(grid) == ["small", "synthetic"]
    assert list(grid["small"]) == [("traditional", 3), ("half", 3)]
    assert list(grid["synthetic"]) == [(m, s) for m in ("traditional", "half") for s in (0, 1)]
    small = grid["small"][("half", 3)]
    assert (small.dataset, small.train_subset, small.method, small.seed) == (
        "synthetic",
        8,
        "sgt",
        3,
    )
    assert small.dataset_params == {"n": 200, "image_size": 8}
    assert grid["synthetic"][("traditional", 0)].dataset_params == {"n": 50, "image_size": 8}
    assert grid["synthetic"][("traditional", 0)].train_subset is None
    # the other forms of datasets, and dataset
    assert list(run_grid(datasets="mnist", training={}, methods={"traditional": {}})) == ["mnist"]
    two = run_grid(datasets=["mnist", "synthetic"], training={}, methods={"traditional": {}})
    assert list(two) == ["mnist", "synthetic"]
    assert list(run_grid(dataset="mnist", training={}, methods={"sgt": {}})) == ["mnist"]


def test_method_options_become_the_typed_config_once(monkeypatch):
    import saliency_lib.grid as grid_module

    calls = []
    real = grid_module.method_config

    def counting(name, options=None):
        calls.append(name)
        return real(name, options)

    monkeypatch.setattr(grid_module, "method_config", counting)
    grid = run_grid(
        datasets=["mnist", "fashion_mnist"],
        training={},
        methods={"traditional": {}, "sgt": {"k_fraction": 0.25}},
        seeds=3,
    )
    assert calls == ["traditional", "sgt"]  # once per label, not per run
    sgt = [cfg.method_params for s in grid.values() for (m, _), cfg in s.items() if m == "sgt"]
    assert len(sgt) == 6 and all(p is sgt[0] for p in sgt)
    assert isinstance(sgt[0], SGTConfig) and sgt[0].k_fraction == 0.25
    assert isinstance(grid["mnist"][("traditional", 0)].method_params, NoOptions)
    # the plain-data form round-trips to the same run
    cfg = grid["mnist"][("sgt", 1)]
    again = RunConfig.from_dict(cfg.to_dict())
    assert again == cfg and again.run_id == cfg.run_id
    assert cfg.to_dict()["method_params"]["k_fraction"] == 0.25


def test_hlgm_runs_come_with_their_baseline_after_them():
    grid = run_grid(
        datasets="fashion_mnist",
        training={"epochs": 3},
        methods={"sgt": {}, "hlgm": {"patience": 2}},
        seeds=2,
    )["fashion_mnist"]
    keys = list(grid)
    assert keys == [("sgt", 0), ("sgt", 1), ("hlgm", 0), ("hlgm", 1), (HLGM_BASELINE, 0),
                    (HLGM_BASELINE, 1)]  # fmt: skip
    for seed in (0, 1):
        base, hlgm = grid[(HLGM_BASELINE, seed)], grid[("hlgm", seed)]
        assert isinstance(hlgm.method_params, HLGMConfig) and hlgm.method_params.patience == 2
        assert base.method == "traditional" and base.continue_from == hlgm.run_id
    without = run_grid(datasets="fashion_mnist", training={}, methods={"hlgm": {}},
                       hlgm_baselines=False)  # fmt: skip
    assert list(without["fashion_mnist"]) == [("hlgm", 0)]


def test_a_methods_entry_sets_run_fields_of_its_own_runs():
    """``methods: {label: {training: {...}}}``: RunConfig fields for that label's runs only, over
    ``training`` and the dataset entry's; the other labels' runs (and their ids) unchanged."""
    methods = {
        "traditional": {"training": {"test_eval": "final_epoch"}},
        "sgt": {"k_fraction": 0.5},
    }
    grid = run_grid(datasets={"fashion_mnist": {"epochs": 3}}, training={"epochs": 2},
                    methods=methods, seeds=1)["fashion_mnist"]  # fmt: skip
    trad, sgt = grid[("traditional", 0)], grid[("sgt", 0)]
    assert trad.test_eval == "final_epoch" and trad.epochs == 3
    assert sgt.test_eval == "every_epoch"
    plain = run_grid(
        datasets={"fashion_mnist": {"epochs": 3}},
        training={"epochs": 2},
        methods={"traditional": {}, "sgt": {"k_fraction": 0.5}},
    )["fashion_mnist"]
    assert sgt.run_id == plain[("sgt", 0)].run_id
    assert trad.run_id != plain[("traditional", 0)].run_id
    assert trad.replace(test_eval="every_epoch").run_id == plain[("traditional", 0)].run_id
    with pytest.raises(ParameterError, match=r"methods.traditional.training.test_evl: unknown"):
        validate_params("smoot_fig2_sgt_fig2_saliency_maps", "smoke",
                        {"methods": {"traditional": {"training": {"test_evl": "x"}}}},
                        check_data=False)  # fmt: skip
    with pytest.raises(ParameterError, match=r"methods.traditional.training.epochs: must be"):
        validate_params("smoot_fig2_sgt_fig2_saliency_maps", "smoke",
                        {"methods": {"traditional": {"training": {"epochs": 0}}}},
                        check_data=False)  # fmt: skip


def test_a_dataset_entry_sets_run_fields_of_one_label_on_that_entry_only():
    """``datasets: {name: {method_training: {label: {...}}}}``: fields for that label's runs of
    that entry, over everything else; the label's runs on other entries and the other labels'
    runs keep their ids (how sgt_fig2bc reuses the SMOOT notebooks' traditional runs)."""
    methods = {"traditional": {"training": {"epochs": 5}}, "sgt": {"k_fraction": 0.5}}
    per_method = {"traditional": {"test_eval": "final_epoch", "epochs": 6}}
    grid = run_grid(
        datasets={"fashion_mnist": {"epochs": 3, "method_training": per_method}, "mnist": {}},
        training={"epochs": 2}, methods=methods, seeds=1,
    )  # fmt: skip
    plain = run_grid(datasets={"fashion_mnist": {"epochs": 3}, "mnist": {}},
                     training={"epochs": 2}, methods=methods, seeds=1)  # fmt: skip
    trad = grid["fashion_mnist"][("traditional", 0)]
    assert (trad.test_eval, trad.epochs) == ("final_epoch", 6)  # over the methods entry's 5
    assert (
        trad.run_id
        == plain["fashion_mnist"][("traditional", 0)]
        .replace(test_eval="final_epoch", epochs=6)
        .run_id
    )
    for setting, key in [("fashion_mnist", ("sgt", 0)), ("mnist", ("traditional", 0))]:
        assert grid[setting][key].run_id == plain[setting][key].run_id
    with pytest.raises(KeyError, match=r"method_training names method label\(s\) 'smoot'"):
        run_grid(datasets={"mnist": {"method_training": {"smoot": {}}}}, training={},
                 methods=methods)  # fmt: skip
    with pytest.raises(TypeError, match=r"'method_training' must be a mapping"):
        run_grid(datasets={"mnist": {"method_training": {"sgt": 3}}}, training={},
                 methods=methods)  # fmt: skip
    bad = {"mnist": {"method_training": {"traditional": {"test_evl": "x"}}}}
    with pytest.raises(
        ParameterError, match=r"datasets.mnist.method_training.traditional.test_evl: unknown"
    ):
        validate_params("sgt_fig3_accuracy_drop_saliency_methods", "smoke", {"datasets": bad},
                        check_data=False)  # fmt: skip
    bad = {"mnist": {"method_training": {"traditional": {"epochs": 0}}}}
    with pytest.raises(ParameterError, match=r"method_training.traditional.epochs: must be"):
        validate_params("sgt_fig3_accuracy_drop_saliency_methods", "smoke", {"datasets": bad},
                        check_data=False)  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"methods": {"sgt": {"k_frac": 1}}}, r"methods entry 'sgt'.*k_frac"),
        ({"methods": {"sgt": {"training": [1]}}}, r"methods entry 'sgt'.*'training' must be"),
        ({"methods": {"sgt": {"k_fraction": "half"}}}, r"methods entry 'sgt'.*k_fraction"),
        ({"methods": {}}, "non-empty mapping"),
        ({"seeds": "3"}, "seeds must be"),
        ({"datasets": {"a": {"dataset": 3}}}, "'dataset' must be a name"),
        ({"datasets": {"a": {"dataset_params": [1]}}}, "'dataset_params' must be a mapping"),
        ({"datasets": [1, 2]}, "dataset names"),
        ({"training": {"epochz": 3}}, "epochz"),
    ],
)
def test_bad_grid_parameters_name_the_problem(kwargs, match):
    args = {"datasets": "mnist", "training": {}, "methods": {"sgt": {}}, **kwargs}
    with pytest.raises((KeyError, TypeError, ValueError), match=match):
        run_grid(**args)


def test_a_notebook_without_methods_trains_no_grid():
    assert notebook_grid({"profile": "cpu", "output_dir": None}) == {}


def test_architectures_train_every_dataset_with_each_model():
    """``architectures`` (the time-series notebooks' axis): one setting per (dataset, model),
    the model's overrides over ``training``; the same runs as one dataset grid per model."""
    from saliency_lib.studies import make_configs

    training = {"epochs": 5, "batch_size": 32}
    methods = {"traditional": {}, "sgt": {"k_fraction": 0.5}}
    archs = {"cnn2": {"epochs": 2}, "resnet18": {}}
    grid = run_grid(datasets=["mnist", "synthetic"], architectures=archs, training=training,
                    methods=methods, seeds=2)  # fmt: skip
    assert list(grid) == [("mnist", "cnn2"), ("mnist", "resnet18"), ("synthetic", "cnn2"),
                          ("synthetic", "resnet18")]  # fmt: skip
    for (ds, model), configs in grid.items():
        alone = make_configs(ds, {**training, **archs[model], "model": model}, methods, 2)
        assert {k: c.run_id for k, c in configs.items()} == {k: c.run_id for k, c in alone.items()}
    assert grid[("mnist", "cnn2")][("sgt", 1)].epochs == 2
    assert grid[("mnist", "resnet18")][("sgt", 1)].epochs == 5
    assert list(run_grid(datasets="mnist", architectures=["cnn2"], training={},
                         methods={"sgt": {}})) == [("mnist", "cnn2")]  # fmt: skip
    with pytest.raises(TypeError, match="architectures must be"):
        run_grid(datasets="mnist", architectures="cnn2", training={}, methods={"sgt": {}})
