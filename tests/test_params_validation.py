"""What people get wrong in a params file or a ``--set``, against the repository's notebooks:
each error names the file (or ``--set``), the dotted key and what is valid."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
import yaml

from saliency_lib.__main__ import main
from saliency_lib._project import project_layout
from saliency_lib.pipeline.jobs import prepare_jobs
from saliency_lib.pipeline.params import (
    ParameterError,
    apply_sets,
    parse_annotations,
    parse_sets,
    validate_params,
)

LAYOUT = project_layout(Path(__file__).resolve().parents[1])  # this repository
SMOOT = "smoot_tab2_tab3_fig3_accuracy_drop"
SIB = "hlgm_fig7_8_tab3_sib"
SGT3 = "sgt_fig3_accuracy_drop_saliency_methods"
TS = "sgt_tab2_timeseries_benchmark"


@pytest.fixture
def params_dir(tmp_path):
    """A copy of the repository's params/ to spoil."""
    dest = tmp_path / "params"
    shutil.copytree(LAYOUT.params, dest)
    return dest


def edit(params_dir: Path, name: str, change, profile="cpu") -> Path:
    """Apply ``change(mapping)`` to ``params/<profile>/<name>.yaml`` (or write it if a str)."""
    path = params_dir / profile / f"{name}.yaml"
    if isinstance(change, str):
        path.write_text(change)
    else:
        data = yaml.safe_load(path.read_text())
        change(data)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def check(params_dir: Path, name: str, profile="cpu", **kw):
    return validate_params(
        name,
        profile,
        notebooks_dir=LAYOUT.notebooks,
        params_dir=params_dir,
        check_data=False,
        **kw,
    )


def _set(*path_value):
    *path, value = path_value

    def change(data):
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value

    return change


# (case, notebook, change, [substrings of the message besides the file])
BAD = [
    ("epochz", SMOOT, _set("training", "epochz", 2),
     ["training.epochz: unknown RunConfig field; valid keys:", "epochs"]),
    ('epochs: "2"', SMOOT, _set("training", "epochs", "2"),
     ["training.epochs: must be int, got '2' (str)"]),
    ("alpha: high", SMOOT, _set("methods", "smoot", "alpha", "high"),
     ["methods.smoot.alpha: must be float", "got 'high'"]),
    ("seeds: -1", SMOOT, _set("seeds", -1), ["seeds: must be in [1, 100], got -1"]),
    ("seeds: [0, 1]", SMOOT, _set("seeds", [0, 1]), ["seeds: must be int, got [0, 1]"]),
    ("entry seeds: [0, -1]", SMOOT, _set("datasets", "mnist", "seeds", [0, -1]),
     ["datasets.mnist.seeds: must be >= 0, got [0, -1]"]),
    ("lr: 1e-3", SMOOT, _set("training", "lr", "1e-3"),
     ["training.lr: must be float", "YAML reads 1e-3 as a string, write 0.001"]),
    ("model: cnn3", SMOOT, _set("training", "model", "cnn3"),
     ["training.model: unknown model 'cnn3'; choose one of: ", "cnn2, deit_tiny"]),
    ("dataset entry model", SMOOT, _set("datasets", "mnist", "model", "cnn3"),
     ["datasets.mnist.model: unknown model 'cnn3'"]),
    ("unknown saliency method", SGT3, _set("saliency_methods", ["grad", "gradcam"]),
     ["saliency_methods: unknown saliency method 'gradcam'; choose one of: deeplift"]),
    ("unknown saliency option", SGT3, _set("saliency_options", "ig", "steps", 8),
     ["saliency_options.ig.steps: unknown option; valid keys:", "n_steps"]),
    ("unknown training method", SMOOT, _set("methods", "sgtt", {}),
     ["methods.sgtt: unknown training method 'sgtt'; choose one of: ",
      "hlgm, sgt, sgt_tokens, smoot, traditional"]),
    ("unknown method option", SMOOT, _set("methods", "smoot", "alpah", 0.9),
     ["methods.smoot.alpah: unknown option of method 'smoot'; valid keys:", "alpha"]),
    ("k_fraction: 1.5", SMOOT, _set("methods", "sgt", "k_fraction", 1.5),
     ["methods.sgt.k_fraction: must be in [0, 1], got 1.5"]),
    ("fractions: [0.01, 1.5]", SIB, _set("fractions", [0.01, 1.5]),
     ["fractions: must be in [0, 1], got [0.01, 1.5]"]),
    ("level 120", SMOOT, _set("levels", [0, 50, 120]), ["levels: must be in [0, 100]"]),
    ("levels: 50", SMOOT, _set("levels", 50), ["levels: must be list[int], got 50"]),
    ("lr: 0", SMOOT, _set("training", "lr", 0), ["training.lr: must be > 0, got 0"]),
    ("batch_size: -5", TS, _set("architectures", "tcn", "batch_size", -5),
     ["architectures.tcn.batch_size: must be in [1, 65536], got -5"]),
    ("unknown architecture", TS, _set("architectures", "gru", {}),
     ["architectures.gru: unknown model 'gru'"]),
    ("train_subset: 0", SMOOT, _set("datasets", "fashion_mnist", "train_subset", 0),
     ["datasets.fashion_mnist.train_subset: must be >= 1, got 0"]),
    ("eval_images: 0", SMOOT, _set("eval_images", 0), ["eval_images: must be >= 1, got 0"]),
    ("optimizer", SMOOT, _set("training", "optimizer", "rmsprop"),
     ["training.optimizer: unknown optimizer 'rmsprop'; choose one of: adadelta, sgd, adam"]),
    ("min_accuracy over 100", SMOOT, _set("min_accuracy", "mnist", 195.0),
     ["min_accuracy.mnist: must be in [0, 100]"]),
    ("unknown parameter", SMOOT, _set("epochs", 2),
     ["epochs: unknown parameter of notebook", "valid keys:", "training"]),
    ("unknown dataset", SMOOT, _set("datasets", "imagenet", {}),
     ["datasets: unknown dataset 'imagenet'; choose one of: ", "caltech101, cifar10"]),
    ("wrong profile", SMOOT, _set("profile", "paper"),
     ["profile: 'paper' is not the profile of this file's folder params/cpu/",
      "write `profile: cpu`"]),
    ("YAML syntax error", SMOOT, "profile: cpu\ntraining: {model: cnn2, epochs: 2\nseeds: 3\n",
     ["line 3, column", "not valid YAML"]),
    # issue 22: non-finite numbers, limits, incomplete files
    ("lr: .inf", SMOOT, _set("training", "lr", math.inf),
     ["training.lr: must be a finite number, got inf"]),
    ("lambda_kl: .nan", SMOOT, _set("methods", "sgt", "lambda_kl", math.nan),
     ["methods.sgt.lambda_kl: must be a finite number, got nan"]),
    ("a nan in a list", SIB, _set("fractions", [0.1, math.nan]),
     ["fractions[1]: must be a finite number, got nan"]),
    ("epochs: 10**9", SMOOT, _set("training", "epochs", 10**9),
     ["training.epochs: must be in [1, 10000], got 1000000000"]),
    ("batch_size: 10**9", SMOOT, _set("training", "batch_size", 10**9),
     ["training.batch_size: must be in [1, 65536], got 1000000000"]),
    ("seeds: 100000", SMOOT, _set("seeds", 100000), ["seeds: must be in [1, 100], got 100000"]),
    ("train_subset: 10**12", SMOOT, _set("datasets", "fashion_mnist", "train_subset", 10**12),
     ["train_subset: 1000000000000 images, but fashion_mnist has at most 60000 train images"]),
    ("device: cuda:7", SMOOT, _set("training", "device", "cuda:7"),
     ["training.device: 'cuda:7' does not exist on this machine"]),
    ("empty file", SMOOT, "", ["is empty (or only comments)", "start it with `profile: cpu`"]),
    ("comment-only file", SMOOT, "# the SMOOT tables\n# more\n", ["is empty (or only comments)"]),
    ("truncated file", SMOOT, "profile: cpu\ndatasets:\n  fashion_mnist: {train_subset: 25000}\n",
     ["does not set dataset_params, training, methods, seeds",
      "`from_notebook: [dataset_params, training, methods, seeds"]),
    ("no profile", SMOOT, lambda data: data.pop("profile"), ["add `profile: cpu`"]),
]  # fmt: skip


@pytest.mark.parametrize("case, name, change, parts", BAD, ids=[b[0] for b in BAD])
def test_bad_parameter_names_file_key_and_choices(params_dir, case, name, change, parts):
    edit(params_dir, name, change)
    with pytest.raises(ParameterError) as err:
        check(params_dir, name)
    msg = str(err.value)
    assert f"cpu/{name}.yaml" in msg, msg
    for part in parts:
        assert part in msg, msg


def test_validate_command_prints_the_message_and_exits_2(params_dir, capsys):
    edit(params_dir, SMOOT, _set("training", "epochs", "2"))
    args = ["validate", "--profile", "cpu", "--only", SMOOT, "--no-data-check"]
    dirs = ["--params-dir", str(params_dir), "--notebooks-dir", str(LAYOUT.notebooks)]
    assert main([*args, *dirs]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "training.epochs: must be int, got '2'" in err
    assert f"cpu/{SMOOT}.yaml" in err


def test_annotations_decide_the_type_over_the_default():
    hints = parse_annotations("from typing import Optional\nn: Optional[int] = None\nx = 1\n")
    assert set(hints) == {"n"}
    with pytest.raises(ParameterError, match="cannot read the annotation 'Tensor'"):
        parse_annotations("t: Tensor = None\n")


# --------------------------------------------------------------------------- --set


def test_parse_sets_reads_values_as_yaml():
    assert parse_sets(
        ["training.epochs=2", "lr=1e-3", "eval_images=null", "levels=[0, 50]", "saliency=grad",
         "seeds=1", "seeds=2"]
    ) == {
        "training.epochs": 2, "lr": 1e-3, "eval_images": None, "levels": [0, 50],
        "saliency": "grad", "seeds": 2,
    }  # fmt: skip
    for bad in ("epochs", "=2", "training..epochs=2"):
        with pytest.raises(ParameterError, match="write KEY=VALUE"):
            parse_sets([bad])


def test_apply_sets_merges_into_the_files_mapping_or_the_default():
    file = {"training": {"model": "cnn2", "epochs": 4}}
    defaults = {"training": {"epochs": 100}, "methods": {"sgt": {"k_fraction": 0.5}}}
    out = apply_sets(file, defaults, {"training.epochs": 2, "methods.sgt.lambda_kl": 0.5})
    assert out == {
        "training": {"model": "cnn2", "epochs": 2},
        "methods": {"sgt": {"k_fraction": 0.5, "lambda_kl": 0.5}},
    }
    assert file == {"training": {"model": "cnn2", "epochs": 4}}  # not modified
    assert defaults["methods"] == {"sgt": {"k_fraction": 0.5}}
    with pytest.raises(ParameterError, match="--set training.epochs.x: training.epochs is not a"):
        apply_sets(file, defaults, {"training.epochs.x": 1})


def test_set_values_are_validated_like_file_values(params_dir):
    values = check(params_dir, SMOOT, sets={"training.epochs": 2, "seeds": 1})
    assert values["training"] == {
        "model": "cnn2", "epochs": 2, "batch_size": 256, "optimizer": "adadelta", "lr": 1.0,
        "threads": 1,
    }  # fmt: skip
    assert values["seeds"] == 1
    with pytest.raises(ParameterError) as err:
        check(params_dir, SMOOT, sets={"training.epochs": "two"})
    assert "--set training.epochs: training.epochs: must be int, got 'two'" in str(err.value)
    with pytest.raises(ParameterError, match=r"--set methods\.sgt\.k_fraction: methods\.sgt\.k_fr"):
        check(params_dir, SMOOT, sets={"methods.sgt.k_fraction": 2})
    with pytest.raises(ParameterError, match="--set epochz: epochz: unknown parameter"):
        check(params_dir, SMOOT, sets={"epochz": 2})


def test_set_applies_to_the_selected_notebooks_that_have_the_key(params_dir):
    kw = dict(notebooks_dir=LAYOUT.notebooks, params_dir=params_dir, check_data=False)
    jobs = prepare_jobs("cpu", ["smoot_tab2", "summary"], sets={"training.epochs": 1}, **kw)
    by_name = {j.name: j for j in jobs}
    assert by_name[SMOOT].parameters["training"]["epochs"] == 1
    assert "training" not in by_name["summary"].parameters
    # the runs trained follow: every run of the grid has 1 epoch, except the dataset entries'
    # own epochs (the cpu file sets them per dataset), which a --set of training does not touch
    epochs = {cfg.dataset: cfg.epochs for c in by_name[SMOOT].grid.values() for cfg in c.values()}
    assert epochs == {"fashion_mnist": 40}
    jobs = prepare_jobs("cpu", ["smoot_tab2"], sets={"datasets.fashion_mnist.epochs": 1}, **kw)
    epochs = {cfg.dataset: cfg.epochs for c in jobs[0].grid.values() for cfg in c.values()}
    assert epochs == {"fashion_mnist": 1}
    with pytest.raises(ParameterError, match="--set levels: no selected notebook"):
        prepare_jobs("cpu", ["summary"], sets={"levels": [0, 100]}, **kw)


def test_cli_set_and_no_short_p(params_dir, capsys):
    dirs = ["--params-dir", str(params_dir), "--notebooks-dir", str(LAYOUT.notebooks)]
    base = ["validate", "--profile", "cpu", "--only", SMOOT, "--no-data-check", *dirs]
    assert main([*base, "--set", "training.epochs=2", "--set", "seeds=1"]) == 0
    assert main([*base, "--set", "training.epochs=-2"]) == 2
    err = capsys.readouterr().err
    assert "--set training.epochs: training.epochs: must be in [1, 10000]" in err
    with pytest.raises(SystemExit) as exit_:  # -p is papermill's "parameter", not ours
        main(["validate", "-p", "cpu"])
    assert exit_.value.code == 2
