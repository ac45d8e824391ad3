"""Run store: content-addressed training runs with atomic per-epoch checkpoints and exact resume.

A run lives in ``<store>/<run_id>/`` where ``run_id = <method>-<dataset>-<model>-s<seed>-<hash>``
(:attr:`RunConfig.run_id`). Files:

* ``last.pt``   state after the latest epoch (model, optimiser, method state, RNG, history);
* ``best.pt``   model weights at the best test accuracy so far (as the SGT reference code keeps);
* ``phase1.pt`` HLGM only: the state at the end of phase 1, which the traditional continuation
  baseline starts from (docs/methods.md §3.6);
* ``run.json``  config, history, provenance and ``"status": "complete"`` once finished.

Checkpoints hold only tensors and plain containers and are read with ``weights_only=True``.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .config import RunConfig
from .methods import get_method
from .models import create_model
from .seeding import get_device, seed_everything
from .trainer import Trainer, make_optimizer

DEFAULT_STORE = Path(__file__).resolve().parents[1] / "outputs" / "runs"


def default_store() -> Path:
    """``$SALIENCY_RUN_STORE`` if set, else ``outputs/runs`` of this repository."""
    return Path(os.environ.get("SALIENCY_RUN_STORE", DEFAULT_STORE))


@dataclass
class Run:
    """A finished (or loaded) training run."""

    run_id: str
    config: RunConfig
    model: nn.Module
    history: list[dict[str, Any]]
    path: Path
    k_history: torch.Tensor | None = None  # SMOOT: (epochs, N_train) K at the end of each epoch
    provenance: dict[str, Any] = field(default_factory=dict)
    plateau_epoch: int | None = None  # HLGM: last phase-1 epoch
    shape_info: dict[str, int] = field(default_factory=dict)  # num_classes, in_channels, size

    def history_frame(self):
        import pandas as pd

        return pd.DataFrame(self.history)

    @property
    def final_test_acc(self) -> float:
        return self.history[-1]["test_acc"]

    @property
    def best_test_acc(self) -> float:
        return max(h["test_acc"] for h in self.history)

    def best_model(self) -> nn.Module:
        """The model at its best test-accuracy epoch (``best.pt``)."""
        model = build_model(self.config, self.shape_info)
        state = torch.load(self.path / "best.pt", map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        return model.to(next(self.model.parameters()).device).eval()


def _atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _atomic_write_json(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=str))
    os.replace(tmp, path)


def _load(path: Path) -> dict[str, Any]:
    return torch.load(path, map_location="cpu", weights_only=True)


@lru_cache(maxsize=4)
def _cached_split(name: str, split: str, subset, seed: int, params_json: str):
    from .data import get_dataset

    return get_dataset(name, split, subset=subset, seed=seed, **json.loads(params_json))


def load_splits(config: RunConfig):
    """(train, test) datasets of a run configuration (cached per process)."""
    params = json.dumps(config.dataset_params, sort_keys=True)
    train = _cached_split(config.dataset, "train", config.train_subset, config.data_seed, params)
    test = _cached_split(config.dataset, "test", config.test_subset, config.data_seed, params)
    return train, test


def build_model(config: RunConfig, shape_info: dict[str, int]) -> nn.Module:
    model = create_model(
        config.model,
        num_classes=shape_info["num_classes"],
        in_channels=shape_info["in_channels"],
        image_size=shape_info["image_size"],
        pretrained=config.pretrained,
    )
    if config.channels_last:  # the same function; oneDNN's NHWC kernels are faster on CPU
        model = model.to(memory_format=torch.channels_last)
    return model


def run_path(config: RunConfig, store: str | Path | None = None) -> Path:
    return Path(store or default_store()) / config.run_id


def is_complete(config: RunConfig, store: str | Path | None = None) -> bool:
    meta = run_path(config, store) / "run.json"
    return meta.exists() and json.loads(meta.read_text()).get("status") == "complete"


def hlgm_continuation(hlgm_config: RunConfig) -> RunConfig:
    """The HLGM comparison baseline: traditional training continued from the HLGM run's phase-1
    checkpoint for the same total epochs (docs/methods.md §3.6)."""
    if hlgm_config.method != "hlgm":
        raise ValueError(f"hlgm_continuation needs an hlgm config, got {hlgm_config.method!r}")
    return hlgm_config.replace(
        method="traditional", method_params={}, continue_from=hlgm_config.run_id
    )


def train_or_load(
    config: RunConfig,
    store: str | Path | None = None,
    progress: bool | None = None,
    stop_after: int | None = None,
) -> Run | None:
    """Return the finished run for ``config``, training (or resuming) it first if needed.

    ``stop_after``: stop once this epoch is checkpointed and return ``None`` (time-boxed jobs,
    interruption tests); a later call resumes from ``last.pt`` with identical results.
    """
    path = run_path(config, store)
    progress = config.progress if progress is None else progress
    device = get_device(config.device)
    train_ds, test_ds = load_splits(config)  # fails fast on a missing dataset
    shape_info = {
        "num_classes": train_ds.num_classes,
        "in_channels": train_ds.in_channels,
        "image_size": train_ds.image_size,
    }
    if is_complete(config, store):
        return load_run(config, store, shape_info)

    from .data import make_loader

    seed_everything(config.seed)
    model = build_model(config, shape_info).to(device)
    method = get_method(config.method, **config.method_params)
    method.setup(len(train_ds), train_ds.image_size**2, train_ds.num_classes, device)
    optimizer = make_optimizer(
        config.optimizer, model.parameters(), config.lr, config.momentum, config.weight_decay
    )
    train_loader = make_loader(
        train_ds, config.batch_size, shuffle=True, seed=config.seed, device=device
    )
    test_loader = make_loader(test_ds, config.eval_batch_size, shuffle=False, device=device)

    history: list[dict] = []
    k_history: list[torch.Tensor] = []
    start = 1
    path.mkdir(parents=True, exist_ok=True)
    resume_from = path / "last.pt"
    if not resume_from.exists() and config.continue_from:
        resume_from = _continuation_source(config, store)
    if resume_from.exists():
        state = _load(resume_from)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if resume_from.parent == path:  # our own checkpoint: method state belongs to us
            method.load_state_dict(state["method"])
            k_history = list(state["k_history"])
        torch.set_rng_state(state["rng"])
        history = list(state["history"])
        start = state["epoch"] + 1
    else:
        _atomic_write_json(
            {"run_id": config.run_id, "config": config.to_dict(), "status": "running"},
            path / "run.json",
        )

    best_acc = max((h["test_acc"] for h in history), default=-1.0)

    def checkpoint(entry: dict) -> None:
        nonlocal best_acc
        history.append(entry)
        k = method.per_sample_k()
        if k is not None:
            k_history.append(k)
        state = {
            "epoch": entry["epoch"],
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "method": method.state_dict(),
            "rng": torch.get_rng_state(),
            "history": history,
            "k_history": k_history,
        }
        _atomic_save(state, path / "last.pt")
        if entry["test_acc"] > best_acc:
            best_acc = entry["test_acc"]
            _atomic_save({"epoch": entry["epoch"], "model": model.state_dict()}, path / "best.pt")
        if getattr(method, "switched_at_epoch", None) == entry["epoch"]:
            shutil.copyfile(path / "last.pt", path / "phase1.pt")
        if stop_after is not None and entry["epoch"] >= stop_after:
            raise _Stop

    trainer = Trainer(model, method, optimizer, train_loader, test_loader, progress=progress)
    try:
        trainer.fit(config.epochs, start_epoch=start, on_epoch_end=checkpoint)
    except _Stop:
        return None
    if not (path / "best.pt").exists():  # a continuation that had no epochs left to run
        _atomic_save({"epoch": history[-1]["epoch"], "model": model.state_dict()}, path / "best.pt")
    if not (path / "last.pt").exists():  # ditto: its last state is the source's (load_run)
        shutil.copyfile(resume_from, path / "last.pt")
    meta = {
        "run_id": config.run_id,
        "config": config.to_dict(),
        "status": "complete",
        "history": history,
        "plateau_epoch": getattr(method, "switched_at_epoch", None),
        "provenance": {"train": train_ds.provenance, "test": test_ds.provenance},
        "shape_info": shape_info,
    }
    _atomic_write_json(meta, path / "run.json")
    return load_run(config, store, shape_info, model=model)


class _Stop(Exception):
    """Internal: raised by the checkpoint hook when ``stop_after`` is reached."""


def _continuation_source(config: RunConfig, store) -> Path:
    source = Path(store or default_store()) / config.continue_from
    if (source / "phase1.pt").exists():
        return source / "phase1.pt"
    meta = source / "run.json"
    if meta.exists() and json.loads(meta.read_text()).get("status") == "complete":
        return source / "last.pt"  # HLGM never left phase 1: nothing left to continue
    raise FileNotFoundError(
        f"run {config.continue_from!r} has no phase-1 checkpoint in {source}; "
        "train the HLGM run first (train_or_load(hlgm_config))"
    )


def load_run(
    config: RunConfig,
    store: str | Path | None = None,
    shape_info: dict | None = None,
    model: nn.Module | None = None,
) -> Run:
    """Load a complete run from the store (weights from ``last.pt``, ``weights_only=True``)."""
    path = run_path(config, store)
    meta = json.loads((path / "run.json").read_text())
    if meta.get("status") != "complete":
        raise RuntimeError(f"run {config.run_id} is not complete; call train_or_load(config)")
    state = _load(path / "last.pt")
    if model is None:
        model = build_model(config, shape_info or meta["shape_info"])
        model.load_state_dict(state["model"])
        model.to(get_device(config.device))
    model.eval()
    k_hist = state["k_history"]
    return Run(
        run_id=config.run_id,
        config=config,
        model=model,
        history=meta["history"],
        path=path,
        k_history=torch.stack(k_hist) if len(k_hist) else None,
        provenance=meta["provenance"],
        plateau_epoch=meta.get("plateau_epoch"),
        shape_info=meta["shape_info"],
    )
