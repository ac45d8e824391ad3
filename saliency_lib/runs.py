"""Run store: content-addressed training runs with atomic per-epoch checkpoints and exact resume.

A run lives in ``<store>/<run_id>/`` where ``run_id = <method>-<dataset>-<model>-s<seed>-<hash>``
(:attr:`RunConfig.run_id`). Files:

* ``last.pt``   state after the latest epoch (model, optimiser, method state, every random
  generator's state, history, the epoch ``best.pt`` holds);
* ``best.pt``   model weights at the best test accuracy so far (as the SGT reference code keeps);
* method snapshots: extra full states a method asks for (``snapshot_epochs``), e.g. HLGM's
  ``phase1.pt`` at its plateau epoch, which the traditional continuation baseline starts from;
* ``run.json``  config, history, provenance and ``"status": "complete"`` once finished;
* ``lock``      the OS lock a trainer holds (a second trainer of the run waits, then loads).

Crash safety. Every file is written to a per-process temporary and renamed over the old one
(:func:`saliency_lib._fileio.atomic_write`). At the end of an epoch ``best.pt`` and the snapshots
are written *before* ``last.pt``, the commit point, and ``run.json`` is marked complete last: a
kill at any moment leaves either the previous epoch's state (the epoch is trained again, with the
same numbers) or the new one. On resume the companions are checked against ``last.pt`` and
rebuilt from it when they belong to its epoch. A continuation (``continue_from``) starts where
the source run's ``run.json`` says (the source method's ``continuation_start``), never where a
file happens to exist. A damaged or missing file gives one :class:`RunStoreError` naming the file
and the fix; a damaged ``run.json`` is rebuilt from ``last.pt``.

Checkpoints hold only tensors and plain containers and are read with ``weights_only=True``.
"""

from __future__ import annotations

import io
import json
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ._fileio import (
    FolderLock,
    StoreError,
    atomic_write,
    atomic_write_json,
    first_line,
    os_error,
    remove_stale_temporaries,
)
from ._project import run_store_root
from .config import RunConfig
from .methods import get_method
from .methods.hlgm import hlgm_continuation
from .models import create_model
from .seeding import get_device, get_rng_state, seed_everything, set_rng_state
from .trainer import Precision, Trainer, make_optimizer, stop_reached

__all__ = [
    "Run",
    "RunStoreError",
    "default_store",
    "hlgm_continuation",
    "is_complete",
    "load_run",
    "run_path",
    "train_or_load",
]

RECORD, LAST, BEST, LOCK = "run.json", "last.pt", "best.pt", "lock"
RunStoreError = StoreError  # a run-store file cannot be read or written; the message says the fix


def default_store() -> Path:
    """``$SALIENCY_RUN_STORE`` if set, else ``runs/`` in the project's outputs folder (found from
    the working directory: :func:`saliency_lib._project.run_store_root`)."""
    return run_store_root()


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

    @property
    def best_epoch(self) -> int:
        """The first epoch with the best test accuracy."""
        return _best_epoch(self.history)

    def best_model(self) -> nn.Module:
        """The model at its best test-accuracy epoch (``best.pt``; checked to hold that epoch)."""
        file = self.path / BEST
        fix = f"delete the folder {self.path} to retrain this run"
        if self.config.continue_from and not file.exists():
            raise RunStoreError(
                f"no {file}: the best epoch {self.best_epoch} of this continuation is inherited "
                f"from run {self.config.continue_from}, whose weights at that epoch were not kept "
                "(only its phase-1 end state is); use run.model (the final weights)"
            )
        state = _load_checkpoint(file, fix, ("epoch", "model"))
        if int(state["epoch"]) != self.best_epoch:
            raise RunStoreError(
                f"{file} holds epoch {state['epoch']}, not the best epoch {self.best_epoch} of "
                f"the run's history (its weights were not kept); {fix}"
            )
        model = build_model(self.config, self.shape_info)
        _load_weights(model, state, file, fix)
        return model.to(next(self.model.parameters()).device).eval()


def _best_epoch(history: list[dict]) -> int:
    best = max(h["test_acc"] for h in history)
    return next(h["epoch"] for h in history if h["test_acc"] == best)


def _save(obj: Any, file: Path) -> None:
    """``torch.save`` into memory, then one atomic write (so a full disk is a clean OSError)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write(file, buf.getbuffer())


def _load_checkpoint(file: Path, fix: str, keys: tuple[str, ...] = ("epoch",)) -> dict[str, Any]:
    """``torch.load(weights_only=True)`` of a run-store checkpoint; any failure (missing,
    truncated, garbage, not a checkpoint) is one :class:`RunStoreError` naming ``file`` and
    ``fix``."""
    try:
        with warnings.catch_warnings():  # a garbage file's "pickle protocol 216" warning
            warnings.simplefilter("ignore")
            state = torch.load(file, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise RunStoreError(f"{file} is missing; {fix}") from None
    except Exception as e:  # noqa: BLE001  (PytorchStreamReader, EOFError, UnpicklingError, ...)
        raise RunStoreError(f"{file} cannot be read ({first_line(e)}); {fix}") from None
    missing = [k for k in keys if not isinstance(state, dict) or k not in state]
    if missing:
        raise RunStoreError(f"{file} is not a run checkpoint (no {', '.join(missing)}); {fix}")
    return state


def _load_weights(model: nn.Module, state: dict, file: Path, fix: str) -> None:
    try:
        model.load_state_dict(state["model"])
    except Exception as e:  # noqa: BLE001  (a checkpoint of another model)
        msg = f"{file} does not fit this run's model ({first_line(e)}); {fix}"
        raise RunStoreError(msg) from None


def _checkpoint_epoch(file: Path) -> int | None:
    """The epoch a checkpoint holds (``None``: missing or unreadable)."""
    try:
        return int(_load_checkpoint(file, "")["epoch"])
    except (RunStoreError, TypeError, ValueError):
        return None


def _read_record(path: Path) -> dict[str, Any] | None:
    """``<run>/run.json`` (``None`` if there is none); a damaged one is a RunStoreError."""
    file = path / RECORD
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise os_error(e, file, "read") from None
    try:
        record = json.loads(data.decode("utf-8"))
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError
        record = e
    if not isinstance(record, dict) or not isinstance(record.get("status"), str):
        what = first_line(record) if isinstance(record, Exception) else "not a run record"
        raise RunStoreError(
            f"{file} is damaged ({what}); delete it: train_or_load(config) rebuilds it from "
            f"{path / LAST}"
        )
    return record


def _complete_record(path: Path, warn: bool = False) -> dict[str, Any] | None:
    """The run's record if it says complete; ``None`` if absent, running or damaged (a damaged
    one is rebuilt by :func:`train_or_load`; ``warn`` says so on stderr)."""
    try:
        record = _read_record(path)
    except RunStoreError as e:
        if warn:
            print(f"warning: {e}; rebuilding it now", file=sys.stderr)
        return None
    return record if record is not None and record["status"] == "complete" else None


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
    """Whether the store holds ``config``'s run complete (a damaged ``run.json`` counts as not
    complete: :func:`train_or_load` rebuilds it)."""
    return _complete_record(run_path(config, store)) is not None


def train_or_load(
    config: RunConfig,
    store: str | Path | None = None,
    progress: bool | None = None,
    stop_after: int | None = None,
) -> Run | None:
    """Return the finished run for ``config``, training (or resuming) it first if needed.

    ``stop_after``: stop once this epoch is checkpointed and return ``None`` (time-boxed jobs,
    interruption tests); a later call resumes from ``last.pt`` with identical results. Training
    holds the run's lock: a second process training the same run waits, then loads the result
    (or resumes, if the first one stopped early).
    """
    path = run_path(config, store)
    progress = config.progress if progress is None else progress
    train_ds, test_ds = load_splits(config)  # fails fast on a missing dataset
    shape_info = {
        "num_classes": train_ds.num_classes,
        "in_channels": train_ds.in_channels,
        "image_size": train_ds.image_size,
    }
    if _complete_record(path) is not None:  # complete runs are read without the lock
        return load_run(config, store, shape_info)
    with FolderLock(path, LOCK, f"run {config.run_id}").acquire(wait=True):
        remove_stale_temporaries(path)  # left by a killed writer
        if _complete_record(path, warn=True) is not None:  # finished by the one we waited for
            return load_run(config, store, shape_info)
        with torch_threads(config.threads):
            return _train(config, path, store, shape_info, progress, stop_after)


@contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """torch's CPU thread count set to ``threads`` inside the block (``None``: unchanged).
    The count changes float rounding, so a run with ``RunConfig.threads`` trains with exactly
    that many threads in a notebook, a ``reproduce`` worker or a cluster job alike."""
    if threads is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _train(config, path, store, shape_info, progress, stop_after) -> Run | None:
    from .data import make_loader

    train_ds, test_ds = load_splits(config)
    device = get_device(config.device)
    seed_everything(config.seed)
    model = build_model(config, shape_info).to(device)
    method = get_method(config.method, config.method_params)
    method.setup(len(train_ds), train_ds.image_size**2, train_ds.num_classes, device)
    optimizer = make_optimizer(
        config.optimizer, model.parameters(), config.lr, config.momentum, config.weight_decay
    )
    on_device = config.data_on_device
    train_loader = make_loader(
        train_ds, config.batch_size, shuffle=True, seed=config.seed, device=device,
        on_device=on_device,
    )  # fmt: skip
    test_loader = make_loader(
        test_ds, config.eval_batch_size, shuffle=False, device=device, on_device=on_device
    )
    precision = Precision(config.precision, device)

    history: list[dict] = []
    k_history: list[torch.Tensor] = []
    start = 1
    best_kept: int | None = None  # the epoch whose weights best.pt holds
    source: Path | None = None  # a continuation's starting checkpoint
    last = path / LAST
    if last.exists():
        fix = f"delete {last} to retrain this run from epoch 1"
        state = _load_checkpoint(last, fix, ("epoch", "model", "optimizer", "method", "rng"))
        _load_weights(model, state, last, fix)
        optimizer.load_state_dict(state["optimizer"])
        method.load_state_dict(state["method"])
        k_history = list(state["k_history"])
        set_rng_state(state["rng"])
        precision.load_state_dict(state.get("precision", {}))
        history = list(state["history"])
        start = int(state["epoch"]) + 1
        best_kept = state.get("best_epoch", _best_epoch(history) if history else None)
        _check_companions(path, method, int(state["epoch"]), best_kept, model)
    else:
        if config.continue_from:
            source, state = _continuation_state(config, store)
            _load_weights(model, state, source, f"delete the folder {source.parent} to retrain it")
            optimizer.load_state_dict(state["optimizer"])
            set_rng_state(state["rng"])
            precision.load_state_dict(state.get("precision", {}))
            history = list(state["history"])
            start = int(state["epoch"]) + 1
            best_kept = _inherit_best(source, history, model, path)
        atomic_write_json(
            path / RECORD,
            {"run_id": config.run_id, "config": config.to_dict(), "status": "running"},
        )

    best_acc = max((h["test_acc"] for h in history), default=-1.0)

    def checkpoint(entry: dict) -> None:
        # best.pt and snapshots first, last.pt (the commit point) after them
        nonlocal best_acc, best_kept
        history.append(entry)
        k = method.per_sample_k()
        if k is not None:
            k_history.append(k)
        epoch = entry["epoch"]
        if entry["test_acc"] > best_acc:
            best_acc, best_kept = entry["test_acc"], epoch
            _save({"epoch": epoch, "model": model.state_dict()}, path / BEST)
        state = {
            "epoch": epoch,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "method": method.state_dict(),
            "rng": get_rng_state(),
            "history": history,
            "k_history": k_history,
            "best_epoch": best_kept,
        }
        if precision.state_dict():  # fp16: the GradScaler's scale, for an identical resume
            state["precision"] = precision.state_dict()
        buf = io.BytesIO()
        torch.save(state, buf)
        for name, at in _snapshots(method).items():
            if at == epoch:
                atomic_write(path / name, buf.getbuffer())
        atomic_write(last, buf.getbuffer())
        if stop_after is not None and epoch >= stop_after:
            raise _Stop

    trainer = Trainer(
        model, method, optimizer, train_loader, test_loader, progress=progress, precision=precision
    )
    # a run resumed after the epoch that met its stopping rule trains no further
    end = start - 1 if history and stop_reached(history[-1], config.stop_at_acc) else config.epochs
    try:
        trainer.fit(end, start_epoch=start, on_epoch_end=checkpoint, stop_at_acc=config.stop_at_acc)
    except _Stop:
        return None
    if not last.exists():  # a continuation with no epochs left: its last state is the source's
        atomic_write(last, source.read_bytes())
    meta = {
        "run_id": config.run_id,
        "config": config.to_dict(),
        "status": "complete",
        "history": history,
        "best_epoch": _best_epoch(history),
        "plateau_epoch": getattr(method, "switched_at_epoch", None),
        "provenance": {"train": train_ds.provenance, "test": test_ds.provenance},
        "shape_info": shape_info,
    }
    atomic_write_json(path / RECORD, meta)
    return load_run(config, store, shape_info, model=model)


class _Stop(Exception):
    """Internal: raised by the checkpoint hook when ``stop_after`` is reached."""


def _snapshots(method) -> dict[str, int]:
    """Extra checkpoints the method asks for: ``{file name: epoch}`` (HLGM: ``phase1.pt``)."""
    fn = getattr(method, "snapshot_epochs", None)
    return dict(fn()) if fn is not None else {}


def _check_companions(path: Path, method, epoch: int, best_kept, model: nn.Module) -> None:
    """On resume from ``last.pt`` at ``epoch``: ``best.pt`` and the method's snapshots must hold
    the epochs ``last.pt`` says (or, for ``best.pt``, a later epoch a kill interrupted, which is
    trained again); rebuilt from ``last.pt`` when they belong to its epoch, else an error."""
    fix = f"delete {path / LAST} to retrain this run from epoch 1"
    if best_kept is not None:
        held = _checkpoint_epoch(path / BEST)
        if held != best_kept and (held is None or held < epoch):
            if best_kept != epoch:
                raise RunStoreError(
                    f"{path / BEST} is missing, damaged or stale (epoch {held}); it should hold "
                    f"epoch {best_kept}, which cannot be rebuilt; {fix}"
                )
            _save({"epoch": epoch, "model": model.state_dict()}, path / BEST)
    for name, at in _snapshots(method).items():
        if _checkpoint_epoch(path / name) != at:
            if at != epoch:
                raise RunStoreError(
                    f"{path / name} is missing or damaged; it should hold epoch {at}, which "
                    f"cannot be rebuilt; {fix}"
                )
            atomic_write(path / name, (path / LAST).read_bytes())


def _continuation_state(config: RunConfig, store) -> tuple[Path, dict[str, Any]]:
    """Where a continuation starts: the checkpoint the source run's method names from the
    source's complete ``run.json`` (HLGM: ``phase1.pt`` at the recorded plateau epoch)."""
    src = Path(store or default_store()) / config.continue_from
    fix = f"delete the folder {src} to retrain run {config.continue_from}"
    record = _read_record(src)
    if record is None or record["status"] != "complete":
        raise FileNotFoundError(
            f"run {config.continue_from!r} is not complete in {src}; "
            "train the HLGM run first (train_or_load(hlgm_config))"
        )
    src_config = RunConfig.from_dict(record["config"])
    src_method = get_method(src_config.method, src_config.method_params)
    start_of = getattr(src_method, "continuation_start", None)
    if start_of is None:
        raise ValueError(f"run {config.continue_from!r} ({src_config.method}) has no continuation")
    name, epoch = start_of(record)
    file = src / name
    state = _load_checkpoint(file, fix, ("epoch", "model", "optimizer", "rng", "history"))
    if int(state["epoch"]) != epoch or len(state["history"]) != epoch:
        raise RunStoreError(
            f"{file} holds epoch {state['epoch']}, but {src / RECORD} says the continuation "
            f"starts at epoch {epoch}; {fix}"
        )
    return file, state


def _inherit_best(source: Path, history: list[dict], model: nn.Module, path: Path) -> int | None:
    """A continuation's ``best.pt`` for its inherited epochs: the source's when it holds the best
    of them, else the starting weights when that is the best epoch, else none kept yet."""
    if not history:
        return None
    best = _best_epoch(history)
    src_best = source.parent / BEST
    if _checkpoint_epoch(src_best) == best:
        atomic_write(path / BEST, src_best.read_bytes())
        return best
    if best == history[-1]["epoch"]:
        _save({"epoch": best, "model": model.state_dict()}, path / BEST)
        return best
    return None


def load_run(
    config: RunConfig,
    store: str | Path | None = None,
    shape_info: dict | None = None,
    model: nn.Module | None = None,
) -> Run:
    """Load a complete run from the store (weights from ``last.pt``, ``weights_only=True``)."""
    path = run_path(config, store)
    meta = _read_record(path)
    if meta is None or meta.get("status") != "complete":
        raise RuntimeError(f"run {config.run_id} is not complete; call train_or_load(config)")
    last = path / LAST
    fix = f"delete the folder {path} to retrain this run"
    state = _load_checkpoint(last, fix, ("epoch", "model", "k_history"))
    if int(state["epoch"]) != meta["history"][-1]["epoch"]:
        raise RunStoreError(
            f"{last} holds epoch {state['epoch']}, but {path / RECORD} ends at epoch "
            f"{meta['history'][-1]['epoch']}; {fix}"
        )
    if model is None:
        model = build_model(config, shape_info or meta["shape_info"])
        _load_weights(model, state, last, fix)
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
