"""Dry run of the ``paper`` profile: every paper notebook executes end to end on the CPU, with
the paper's parameters except the scale, through the runner's papermill path, the data loaders,
the models, the run store and the report, as a real run does.

* **Data:** stand-ins in each dataset's real on-disk format (``paper_standins.py``) under a
  temporary ``$SALIENCY_DATA``: CIFAR-10/100 pickles, MNIST and Fashion-MNIST IDX, Caltech-101
  folders, Oxford-IIIT Pet images with ``annotations/xmls``. The loaders find them exactly as
  they would find the real data (the paper params' ``source: torchvision`` finds the layout and
  does not download); BIRD in the Kaggle folders, ERASER's Movie Reviews, FEVER and e-SNLI in
  their release format and a GloVe text file, which the ERASER loaders find under the data root
  (no download either). Only torchvision's CIFAR MD5 check is relaxed (``SITECUSTOMIZE``).
* **Weights:** offline, the ImageNet weights of ResNet-18, VGG-16 (torchvision) and DeiT-tiny
  (timm) are replaced by randomly initialised ones placed in temporary torch-hub / Hugging Face
  caches, so the ``pretrained: true`` code path (ImageNet stem, new head) is the one a GPU run
  takes. Said in the test output and as a warning.
* **Scale only** (papermill parameters, no params file): 1 epoch, batch 2, 2 training images (one
  batch) and 4 test images per setting, 1 seed, 4 evaluation images, ROAR retrained for 1 epoch.
  HLGM: 3 epochs with patience 1, episodes of 2 and a plateau forced by a huge ``min_delta``, so
  that phase 1 ends after epoch 2 and a regularize epoch (top masking) and the continuation
  baseline from ``phase1.pt`` run (a denoise epoch is SGT's bottom masking, run by SGT).

The time-series notebooks (``sgt_fig5``, ``sgt_tab2``, ``sgt_fig6``) are not part of it.
Run: ``pytest tests/test_paper_dry_run.py`` (marked slow).
"""

from __future__ import annotations

import json
import os
import socket
import warnings
from pathlib import Path

import pytest
from paper_standins import write_all, write_sitecustomize

from saliency_lib.pipeline.jobs import NotebookJob, list_notebooks
from saliency_lib.pipeline.params import load_params, params_path, profile_status, validate_params
from saliency_lib.pipeline.runner import run_notebook

pytestmark = pytest.mark.slow

PROFILE = "paper"
REPO = Path(__file__).resolve().parents[1]
TIME_SERIES = ("sgt_fig5", "sgt_tab2", "sgt_fig6")
NOTEBOOKS = [n for n in list_notebooks() if not n.startswith(TIME_SERIES) and n != "summary"]
TRAIN_IMAGES, TEST_IMAGES, BATCH = 2, 4, 2
EVAL_IMAGES = 4  # every "how many images" parameter of the notebooks
SCALE_KEYS = (
    "eval_images", "n_images", "gradient_images", "sparsity_images", "k_null_images",
    "object_images", "sib_images", "scatter_images", "roar_train_images", "eval_docs",
)  # fmt: skip
WEIGHT_HOSTS = ("download.pytorch.org", "huggingface.co")


def _online(timeout: float = 3.0) -> bool:
    try:
        for host in WEIGHT_HOSTS:
            socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def _random_pretrained_caches(root: Path) -> dict[str, str]:
    """Random-initialised ResNet-18 and DeiT-tiny "ImageNet" weights where torchvision and timm
    look for downloaded ones; the environment that makes them use these caches offline."""
    import timm
    import torch
    from safetensors.torch import save_file
    from torchvision.models import ResNet18_Weights, VGG16_Weights, resnet18, vgg16

    torch_home, hf_home = root / "torch", root / "hf"
    checkpoints = torch_home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    torch.manual_seed(0)
    url = ResNet18_Weights.IMAGENET1K_V1.url
    torch.save(resnet18(weights=None).state_dict(), checkpoints / url.rsplit("/", 1)[1])
    url = VGG16_Weights.IMAGENET1K_V1.url
    torch.save(vgg16(weights=None).state_dict(), checkpoints / url.rsplit("/", 1)[1])
    deit = timm.create_model("deit_tiny_patch16_224", pretrained=False)
    repo = hf_home / "hub" / ("models--" + deit.pretrained_cfg["hf_hub_id"].replace("/", "--"))
    revision = "0" * 40
    (repo / "snapshots" / revision).mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    state = {k: v.contiguous() for k, v in deit.state_dict().items()}
    save_file(state, str(repo / "snapshots" / revision / "model.safetensors"))
    return {"TORCH_HOME": str(torch_home), "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1"}


@pytest.fixture(scope="module")
def dry_env(tmp_path_factory):
    """Stand-in data, weights, run store and output root; the kernels inherit the environment."""
    root = tmp_path_factory.mktemp("paper_dry_run")
    env = {
        "SALIENCY_DATA": str(write_all(root / "data")),
        "SALIENCY_RUN_STORE": str(root / "runs"),
        "SALIENCY_OUTPUT_ROOT": str(root / "outputs"),
        "PYTHONPATH": os.pathsep.join(
            [str(write_sitecustomize(root / "site")), str(REPO), os.environ.get("PYTHONPATH", "")]
        ),
        "MPLBACKEND": "Agg",
    }
    online = _online()
    if not online:
        env.update(_random_pretrained_caches(root / "weights"))
        note = (
            "paper dry run offline: ImageNet weights of resnet18, vgg16 and deit_tiny replaced by "
            "random ones (pretrained code path kept)"
        )
        print(note)
        warnings.warn(note, stacklevel=1)
    import saliency_lib.runs as runs

    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        runs._cached_split.cache_clear()
        yield {"root": root, "online": online}


def _scaled(entry: dict, epochs: int) -> dict:
    """A dataset entry at the dry run's scale; an entry's own epochs and batch size (a setting
    trained longer than the others) are scaled too."""
    out = {**entry, "train_subset": TRAIN_IMAGES, "test_subset": TEST_IMAGES}
    if "epochs" in entry:
        out["epochs"] = epochs
    if "batch_size" in entry:
        out["batch_size"] = BATCH
    return out


def dry_run_overrides(name: str, params: dict, defaults: dict) -> dict:
    """The scale overrides of notebook ``name`` (papermill parameters); everything else stays
    as in ``params/paper/<name>.yaml``."""
    out: dict = {}
    methods = params.get("methods", defaults.get("methods")) or {}
    hlgm = any((cfg or {}).get("method", label) == "hlgm" for label, cfg in dict(methods).items())
    datasets = params.get("datasets", defaults.get("datasets"))
    if datasets is not None:
        if isinstance(datasets, str):
            datasets = [datasets]
        items = datasets.items() if isinstance(datasets, dict) else ((d, {}) for d in datasets)
        epochs = 3 if hlgm else 1
        out["datasets"] = {label: _scaled(dict(entry or {}), epochs) for label, entry in items}
    if "training" in defaults:
        training = dict(params.get("training", defaults["training"]))
        training.update(epochs=3 if hlgm else 1, batch_size=BATCH)
        out["training"] = training
    # a notebook with its training settings at the top level (own_training_loop)
    if "epochs" in defaults and "training" not in defaults:
        out["epochs"] = 3 if hlgm else 1
    if hlgm:
        out["methods"] = {
            label: (
                {**cfg, "patience": 1, "episode_size": 2, "min_delta": 1e9}
                if (cfg or {}).get("method", label) == "hlgm"
                else cfg
            )
            for label, cfg in methods.items()
        }
    if "seeds" in defaults:
        out["seeds"] = 1
    for key in SCALE_KEYS:
        if key in defaults:
            out[key] = EVAL_IMAGES if key != "roar_train_images" else TRAIN_IMAGES
    if "roar_epochs" in defaults:
        out["roar_epochs"] = 1
    return out


def _run(name: str, env: dict):
    from saliency_lib.pipeline.params import notebook_parameters

    nb_path = REPO / "notebooks" / f"{name}.ipynb"
    raw = load_params(name, PROFILE)
    enabled, reason = profile_status(raw, str(params_path(name, PROFILE)))
    overrides = dry_run_overrides(name, raw, notebook_parameters(nb_path))
    values = validate_params(name, PROFILE, raw, overrides=overrides, check_network=False)
    job = NotebookJob(name, nb_path, params_path(name, PROFILE), values, enabled, reason)
    profile_dir = env["root"] / "outputs" / PROFILE
    profile_dir.mkdir(parents=True, exist_ok=True)
    return run_notebook(job, PROFILE, profile_dir), values


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_paper_notebook_dry_run(name, dry_env):
    result, values = _run(name, dry_env)
    assert result.status == "complete", f"{name} failed in the paper dry run:\n{result.error}"
    metrics = json.loads((result.output_dir / "metrics.json").read_text())
    assert metrics["profile"] == PROFILE
    for suffix in (".ipynb", ".html"):
        assert (result.output_dir / f"{name}{suffix}").is_file()
    _check_run_store()


def _check_run_store() -> None:
    """Every run read the stand-ins through a loader (no download, no other data); every HLGM
    run reached phase 2; the HLGM DeiT rows trained at 224 x 224 (image_size: 224)."""
    data_root = Path(os.environ["SALIENCY_DATA"]).resolve()
    for path in Path(os.environ["SALIENCY_RUN_STORE"]).glob("*/run.json"):
        record = json.loads(path.read_text())
        for split in ("train", "test"):
            prov = record["provenance"][split]
            assert Path(prov["path"]).resolve().is_relative_to(data_root), (path, prov["path"])
            assert prov["downloaded"] is False
        config = record["config"]
        if config["method"] == "hlgm":
            assert record["plateau_epoch"] is not None, f"{path}: phase 1 never ended"
            if config["model"] == "deit_tiny":
                assert record["shape_info"]["image_size"] == 224


def test_paper_report(dry_env):
    """The summary notebook builds REPORT.md from what the notebooks above wrote."""
    result, _ = _run("summary", dry_env)
    assert result.status == "complete", result.error
    report = dry_env["root"] / "outputs" / PROFILE / "REPORT.md"
    text = report.read_text()
    for name in NOTEBOOKS:
        assert name in text, f"REPORT.md does not mention {name}"
