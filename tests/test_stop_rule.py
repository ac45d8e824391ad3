"""The stopping rule (``RunConfig.stop_at_acc``; the time-series benchmark stops at 99 % train or
test accuracy): a run stops after the first epoch that meets it, keeps its run id when unset,
and a resumed run does not train past the epoch that met it."""

from __future__ import annotations

import pytest

from saliency_lib.config import RunConfig
from saliency_lib.runs import train_or_load
from saliency_lib.trainer import stop_reached


def _cfg(**kw) -> RunConfig:
    # the TCN learns the Middle box in one or two epochs
    base = dict(dataset="ts_middle", dataset_params={"n_train": 200, "n_test": 50}, model="tcn",
                epochs=6, batch_size=25, optimizer="adam", lr=1e-2, progress=False)  # fmt: skip
    return RunConfig(**{**base, **kw})


def test_stop_reached_reads_train_or_test_accuracy():
    assert not stop_reached({"train_acc": 100.0, "test_acc": 100.0}, None)
    assert stop_reached({"train_acc": 99.0, "test_acc": 50.0}, 99.0)
    assert stop_reached({"train_acc": 50.0, "test_acc": 99.5}, 99.0)
    assert not stop_reached({"train_acc": 98.9, "test_acc": 98.0}, 99.0)


def test_unset_rule_keeps_the_run_id_and_bad_values_are_rejected():
    assert _cfg().run_id == _cfg(stop_at_acc=None).run_id != _cfg(stop_at_acc=99.0).run_id
    assert "stop_at_acc" not in _cfg().identity()
    with pytest.raises(ValueError, match="stop_at_acc must be in"):
        _cfg(stop_at_acc=120.0)


def test_run_stops_at_the_first_epoch_meeting_the_rule(store):
    full = train_or_load(_cfg(), store=store)
    first = next(h["epoch"] for h in full.history if stop_reached(h, 90.0))
    assert first < 6, "the TCN should learn the Middle box within 6 epochs"
    run = train_or_load(_cfg(stop_at_acc=90.0), store=store)
    assert [h["epoch"] for h in run.history] == list(range(1, first + 1))
    assert [h["test_acc"] for h in run.history] == [h["test_acc"] for h in full.history[:first]]
    assert run.best_model() is not None  # best.pt holds the best epoch


def test_resume_after_the_stopping_epoch_trains_no_further(store, tmp_path):
    cfg = _cfg(stop_at_acc=90.0)
    whole = train_or_load(cfg, store=tmp_path / "whole")
    stop = len(whole.history)
    # killed after the stopping epoch's checkpoint, before the run was marked complete
    assert train_or_load(cfg, store=store, stop_after=stop) is None
    resumed = train_or_load(cfg, store=store)
    assert len(resumed.history) == stop
    assert resumed.history[-1]["test_acc"] == whole.history[-1]["test_acc"]
