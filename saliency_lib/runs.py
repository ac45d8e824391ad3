"""Run store: content-addressed training runs with atomic per-epoch checkpoints and exact resume.

A run lives in ``<store>/<run_id>/`` where ``run_id = <method>-<dataset>-<model>-s<seed>-<hash>``
(:attr:`RunConfig.run_id`). Files:

* ``last.pt``   state after the latest epoch (model, optimiser, method state, every random
  generator's state, history, the epoch ``best.pt`` holds);
* ``best.pt``   model weights at the best test accuracy so far (as the SGT reference code keeps);
* ``<label>.pt`` the snapshots a method asks for (:meth:`TrainingMethod.snapshots`), e.g. HLGM's
  ``phase1.pt`` at its plateau epoch, which the traditional continuation baseline starts from;
* ``run.json``  config, history, provenance, what the method records
  (:meth:`TrainingMethod.record`, e.g. HLGM's ``plateau_epoch``) and ``"status": "complete"``
  once finished;
* ``lock``      the OS lock a trainer holds (a second trainer of the run waits, then loads).

Crash safety. Every file is written to a per-process temporary and renamed over the old one
(:func:`saliency_lib._fileio.atomic_write`). At the end of an epoch ``best.pt`` and the snapshots
are written *before* ``last.pt``, the commit point, and ``run.json`` is marked complete last: a
kill at any moment leaves either the previous epoch's state (the epoch is trained again, with the
same numbers) or the new one. On resume the companions are checked against ``last.pt`` and
rebuilt from it when they belong to its epoch. A continuation (``continue_from``) starts where
the source run's ``run.json`` says (:meth:`TrainingMethod.continuation_start` of the source's
method), never where a file happens to exist. A damaged or missing file gives one
:class:`RunStoreError` naming the file and the fix; a damaged ``run.json`` is rebuilt from
``last.pt``.

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

import pandas as pd
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
from .config import RunConfig, hlgm_continuation
from .data import get_dataset, make_loader
from .methods import TrainingMethod, get_method
from .models import create_model
from .seeding import get_device, get_rng_state, seed_everything, set_rng_state
from .trainer import Precision, Trainer, TrainingDiverged, make_optimizer, stop_reached

__all__ = [
    "Run",
    "RunStoreError",
    "check_store",
    "checkpointed_epoch",
    "default_store",
    "hlgm_continuation",
    "is_complete",
    "load_run",
    "run_path",
    "train_or_load",
]

RECORD, LAST, BEST, LOCK = "run.json", "last.pt", "best.pt", "lock"
#: The run store's own keys of ``run.json``; every other key is what the method recorded.
RECORD_KEYS = ("run_id", "config", "status", "history", "best_epoch", "provenance", "shape_info")
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
    record: dict[str, Any] = field(default_factory=dict)  # what the method recorded
    shape_info: dict[str, int] = field(default_factory=dict)  # num_classes, in_channels, size

    @property
    def plateau_epoch(self) -> int | None:
        """HLGM: the last phase-1 epoch, from the method's record (``None`` for other methods
        and for an HLGM run that never left phase 1)."""
        return self.record.get("plateau_epoch")

    def history_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.history)

    @property
    def final_test_acc(self) -> float:
        return self.history[-1]["test_acc"]

    @property
    def per_epoch_test_acc(self) -> bool:
        """Whether the run evaluates its test split after every epoch (``RunConfig.test_eval``;
        with ``final_epoch`` it has no best epoch, even when it trained a single epoch)."""
        return self.config.test_eval == "every_epoch"

    @property
    def best_test_acc(self) -> float:
        """The best test accuracy over the epochs; NaN when only the final epoch was evaluated
        (there is no best epoch then, and the final value is not one)."""
        if not self.per_epoch_test_acc:
            return float("nan")
        return max(h["test_acc"] for h in self.history)

    @property
    def best_epoch(self) -> int | None:
        """The first epoch with the best test accuracy (``None``: final epoch evaluated only)."""
        return _best_epoch(self.history) if self.per_epoch_test_acc else None

    def best_model(self) -> nn.Module:
        """The model at its best test-accuracy epoch (``best.pt``; checked to hold that epoch)."""
        file = self.path / BEST
        fix = f"delete the folder {self.path} to retrain this run"
        if not self.per_epoch_test_acc:
            raise RunStoreError(
                f"run {self.run_id} evaluated its test split at the final epoch only "
                "(test_eval: final_epoch), so it has no best epoch; use run.model (the final "
                "weights) or train it with test_eval: every_epoch"
            )
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


def _best_epoch(history: list[dict]) -> int | None:
    """The first epoch with the best test accuracy among the evaluated ones (``None``: none)."""
    tested = [h for h in history if h.get("test_acc") is not None]
    if not tested:
        return None
    best = max(h["test_acc"] for h in tested)
    return next(h["epoch"] for h in tested if h["test_acc"] == best)


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
        problem = first_line(e)
    else:
        problem = record_problem(record)
    if problem:
        raise RunStoreError(
            f"{file} is damaged ({problem}); delete it: train_or_load(config) rebuilds it from "
            f"{path / LAST}"
        )
    return record


#: The schema of ``run.json``: the keys every record has, and those of a complete one.
RECORD_SCHEMA = {"run_id": str, "config": dict, "status": str}
COMPLETE_SCHEMA = {
    "history": list, "best_epoch": int, "provenance": dict, "shape_info": dict,
}  # fmt: skip
#: ... except that a run evaluated at its final epoch only (``test_eval: final_epoch``) has
#: ``best_epoch`` None and ``test_acc`` None before its last epoch.
SHAPE_KEYS = ("num_classes", "in_channels", "image_size")


def record_problem(record: Any) -> str | None:
    """What is wrong with a ``run.json`` record (``None``: it fits :data:`RECORD_SCHEMA`, and a
    complete one :data:`COMPLETE_SCHEMA` with a non-empty history of epochs)."""
    if not isinstance(record, dict):
        return f"not a run record but {type(record).__name__}"
    schema = dict(RECORD_SCHEMA)
    if record.get("status") == "complete":
        schema.update(COMPLETE_SCHEMA)
    elif record.get("status") != "running":
        return f"status {record.get('status')!r} is neither 'running' nor 'complete'"
    final_only = (
        isinstance(record.get("config"), dict)
        and record["config"].get("test_eval") == "final_epoch"
    )
    for key, kind in schema.items():
        if key == "best_epoch" and final_only and record.get(key) is None:
            continue
        if not isinstance(record.get(key), kind) or isinstance(record.get(key), bool):
            return f"{key!r} is missing or not a {kind.__name__}"
    if record["status"] != "complete":
        return None
    history = record["history"]
    if not history:
        return "its history is empty"
    for i, h in enumerate(history):
        untested = final_only and i < len(history) - 1 and isinstance(h, dict)
        if not (isinstance(h, dict) and isinstance(h.get("epoch"), int)
                and (isinstance(h.get("test_acc"), int | float)
                     or (untested and h.get("test_acc") is None))):  # fmt: skip
            return f"a history entry without an epoch and a test accuracy: {h!r}"[:120]
    missing = [k for k in SHAPE_KEYS if not isinstance(record["shape_info"].get(k), int)]
    return f"shape_info has no {', '.join(missing)}" if missing else None


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


def check_store(store: str | Path | None = None) -> Path:
    """The run store folder (created later as needed); a :class:`RunStoreError` line when the
    path is a file, before any work."""
    root = Path(store or default_store())
    if root.exists() and not root.is_dir():
        raise RunStoreError(
            f"the run store {root} is a file, not a folder; move the file away or point "
            "$SALIENCY_RUN_STORE (or --store) to a folder"
        )
    return root


def checkpointed_epoch(config: RunConfig, store: str | Path | None = None) -> int:
    """The last epoch an unfinished run checkpointed (``last.pt``); 0 when there is none or it
    cannot be read (:func:`train_or_load` then says why)."""
    return _checkpoint_epoch(run_path(config, store) / LAST) or 0


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
    path = check_store(store) / config.run_id
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
    """Train run ``config`` into ``path`` (the caller holds its lock): the objects, their state
    (resumed from ``last.pt``, else a continuation's start or epoch 1), one epoch after another
    with a checkpoint after each (:class:`_Checkpoint`), then the complete record
    (:func:`_finish`). ``None`` when ``stop_after`` stopped it early."""
    t = _setup(config, path, shape_info)
    if (path / LAST).exists():
        _resume(t)
    else:
        _start(t, store)
    trainer = Trainer(
        t.model, t.method, t.optimizer, t.train_loader, t.test_loader, progress=progress,
        precision=t.precision, test_eval=config.test_eval,
    )  # fmt: skip
    # a run resumed after the epoch that met its stopping rule trains no further
    done = t.history and stop_reached(t.history[-1], config.stop_at_acc)
    end = t.start - 1 if done else config.epochs
    try:
        trainer.fit(end, start_epoch=t.start, on_epoch_end=_Checkpoint(t, stop_after),
                    stop_at_acc=config.stop_at_acc)  # fmt: skip
    except _Stop:
        return None
    except TrainingDiverged as e:
        raise TrainingDiverged(
            f"run {config.run_id}: {e} (likely cause: a learning rate too large for this "
            f"optimizer, lr={config.lr}, or a non-finite option); the run is not marked "
            f"complete; change the parameters (another run id) or delete {path}",
            e.epoch,
            e.loss,
        ) from None
    return _finish(t, store, shape_info)


@dataclass
class _Training:
    """One training of a run: its objects (:func:`_setup`) and where it stands."""

    config: RunConfig
    path: Path
    model: nn.Module
    method: TrainingMethod
    optimizer: torch.optim.Optimizer
    precision: Precision
    train_loader: Any
    test_loader: Any
    provenance: dict[str, Any]
    history: list[dict[str, Any]] = field(default_factory=list)
    k_history: list[torch.Tensor] = field(default_factory=list)
    start: int = 1  # the first epoch to train
    best_kept: int | None = None  # the epoch whose weights best.pt holds
    source: Path | None = None  # a continuation's starting checkpoint

    def restore(self, state: dict[str, Any], file: Path, fix: str) -> None:
        """Weights, optimiser, random generators, precision and history from checkpoint
        ``state`` (read from ``file``); training goes on after its epoch."""
        _load_weights(self.model, state, file, fix)
        self.optimizer.load_state_dict(state["optimizer"])
        set_rng_state(state["rng"])
        self.precision.load_state_dict(state.get("precision", {}))
        self.history = list(state["history"])
        self.start = int(state["epoch"]) + 1


def _setup(config: RunConfig, path: Path, shape_info: dict[str, int]) -> _Training:
    """The seeded objects of a fresh training: model, method, optimiser, loaders, precision."""
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
    provenance = {"train": train_ds.provenance, "test": test_ds.provenance}
    return _Training(
        config, path, model, method, optimizer, Precision(config.precision, device),
        train_loader, test_loader, provenance,
    )  # fmt: skip


def _resume(t: _Training) -> None:
    """Go on from ``last.pt``: the whole state of its epoch (the method's and SMOOT's K history
    included), its companions checked (:func:`_check_companions`)."""
    last = t.path / LAST
    fix = f"delete {last} to retrain this run from epoch 1"
    state = _load_checkpoint(last, fix, ("epoch", "model", "optimizer", "method", "rng"))
    t.restore(state, last, fix)
    t.method.load_state_dict(state["method"])
    t.k_history = list(state["k_history"])
    t.best_kept = state.get("best_epoch", _best_epoch(t.history) if t.history else None)
    _check_companions(t.path, t.method, int(state["epoch"]), t.best_kept, t.model)


def _start(t: _Training, store) -> None:
    """A run with no checkpoint yet: from epoch 1, or for a continuation from the state its
    source run's method names (:func:`_continuation_state`); ``run.json`` says "running"."""
    config = t.config
    if config.continue_from:
        t.source, state = _continuation_state(config, store)
        t.restore(state, t.source, f"delete the folder {t.source.parent} to retrain it")
        t.best_kept = _inherit_best(t.source, t.history, t.model, t.path)
    record = {"run_id": config.run_id, "config": config.to_dict(), "status": "running"}
    atomic_write_json(t.path / RECORD, record)


class _Checkpoint:
    """The end of every epoch (``Trainer.fit``'s ``on_epoch_end``): the history entry kept, then
    ``best.pt`` when the test accuracy improved and the method's snapshots of this epoch, then
    ``last.pt``, the commit point, after them; :class:`_Stop` once ``stop_after`` is reached."""

    def __init__(self, t: _Training, stop_after: int | None):
        self.t = t
        self.stop_after = stop_after
        self.best_acc = max(
            (h["test_acc"] for h in t.history if h.get("test_acc") is not None), default=-1.0
        )
        # best.pt only when every epoch is evaluated (test_eval: final_epoch has no best epoch)
        self.keep_best = t.config.test_eval == "every_epoch"

    def __call__(self, entry: dict[str, Any]) -> None:
        t = self.t
        t.history.append(entry)
        k = t.method.per_sample_k()
        if k is not None:
            t.k_history.append(k)
        epoch = entry["epoch"]
        if self.keep_best and entry["test_acc"] > self.best_acc:
            self.best_acc, t.best_kept = entry["test_acc"], epoch
            _save({"epoch": epoch, "model": t.model.state_dict()}, t.path / BEST)
        state = {
            "epoch": epoch,
            "model": t.model.state_dict(),
            "optimizer": t.optimizer.state_dict(),
            "method": t.method.state_dict(),
            "rng": get_rng_state(),
            "history": t.history,
            "k_history": t.k_history,
            "best_epoch": t.best_kept,
        }
        if t.precision.state_dict():  # fp16: the GradScaler's scale, for an identical resume
            state["precision"] = t.precision.state_dict()
        buf = io.BytesIO()
        torch.save(state, buf)
        for label, at in t.method.snapshots().items():
            if at == epoch:
                atomic_write(t.path / snapshot_file(label), buf.getbuffer())
        atomic_write(t.path / LAST, buf.getbuffer())
        if self.stop_after is not None and epoch >= self.stop_after:
            raise _Stop


def _finish(t: _Training, store, shape_info: dict[str, int]) -> Run:
    """Mark the run complete: ``run.json`` with the history, the best epoch, the method's
    record and the data's provenance, written last."""
    last = t.path / LAST
    if not last.exists():  # a continuation with no epochs left: its last state is the source's
        atomic_write(last, t.source.read_bytes())
    record = t.method.record()
    clash = sorted(set(record) & set(RECORD_KEYS))
    if clash:
        raise ValueError(f"training method {t.method.name!r} records the run store's keys {clash}")
    meta = {
        "run_id": t.config.run_id,
        "config": t.config.to_dict(),
        "status": "complete",
        "history": t.history,
        "best_epoch": _best_epoch(t.history) if t.config.test_eval == "every_epoch" else None,
        **record,
        "provenance": t.provenance,
        "shape_info": shape_info,
    }
    atomic_write_json(t.path / RECORD, meta)
    return load_run(t.config, store, shape_info, model=t.model)


class _Stop(Exception):
    """Internal: raised by the checkpoint hook when ``stop_after`` is reached."""


def snapshot_file(label: str) -> str:
    """The file of a method's snapshot ``label`` in a run's folder (HLGM: ``phase1.pt``)."""
    return f"{label}.pt"


def method_record(record: dict[str, Any]) -> dict[str, Any]:
    """What the method recorded in a run's ``run.json`` (every key but the store's own)."""
    return {k: v for k, v in record.items() if k not in RECORD_KEYS}


def _check_companions(
    path: Path, method: TrainingMethod, epoch: int, best_kept: int | None, model: nn.Module
) -> None:
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
    for label, at in method.snapshots().items():
        file = path / snapshot_file(label)
        if _checkpoint_epoch(file) != at:
            if at != epoch:
                raise RunStoreError(
                    f"{file} is missing or damaged; it should hold epoch {at}, which "
                    f"cannot be rebuilt; {fix}"
                )
            atomic_write(file, (path / LAST).read_bytes())


def _continuation_state(config: RunConfig, store) -> tuple[Path, dict[str, Any]]:
    """Where a continuation starts: the checkpoint the source run's method names
    (:meth:`TrainingMethod.continuation_start`) from what it recorded in the source's complete
    ``run.json`` (HLGM: ``phase1.pt`` at the recorded plateau epoch)."""
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
    start = src_method.continuation_start(method_record(record), record["history"][-1]["epoch"])
    if start is None:
        raise ValueError(f"run {config.continue_from!r} ({src_config.method}) has no continuation")
    epoch = start.epoch
    file = src / (LAST if start.snapshot is None else snapshot_file(start.snapshot))
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
        record=method_record(meta),
        shape_info=meta["shape_info"],
    )
