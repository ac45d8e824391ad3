import json

import pytest
import torch

from saliency_lib.config import RunConfig
from saliency_lib.runs import hlgm_continuation, is_complete, train_or_load

SYNTH = {"n": 256, "num_classes": 4, "image_size": 8}
HLGM_FAST = {"patience": 1, "episode_size": 2, "monitor": "test_acc"}


def _config(method, **kw):
    base = dict(
        method=method,
        dataset="synthetic",
        dataset_params=SYNTH,
        model="cnn2",
        epochs=3,
        batch_size=32,
        lr=1.0,
        seed=0,
        progress=False,
        device="cpu",
    )
    base.update(kw)
    return RunConfig(**base)


def _weights(run):
    return {k: v.clone() for k, v in run.model.state_dict().items()}


@pytest.mark.parametrize(
    "method,params",
    [
        ("traditional", {}),
        ("sgt", {}),
        ("smoot", {"alpha": 0.95}),
        ("hlgm", HLGM_FAST),
    ],
)
def test_resume_gives_identical_weights_and_history(store, tmp_path, method, params):
    cfg = _config(method, method_params=params, epochs=4)
    full = train_or_load(cfg, store=tmp_path / "a")
    assert train_or_load(cfg, store=tmp_path / "b", stop_after=2) is None
    assert not is_complete(cfg, tmp_path / "b")
    resumed = train_or_load(cfg, store=tmp_path / "b")
    for key, value in _weights(full).items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    strip = [{k: v for k, v in h.items() if k != "seconds"} for h in full.history]
    assert strip == [{k: v for k, v in h.items() if k != "seconds"} for h in resumed.history]
    if method == "smoot":
        assert torch.equal(full.k_history, resumed.k_history)
        assert full.k_history.shape == (4, SYNTH["n"])


def test_completed_run_is_loaded_not_retrained(store):
    cfg = _config("traditional", epochs=1)
    first = train_or_load(cfg, store=store)
    mtime = (store / cfg.run_id / "last.pt").stat().st_mtime_ns
    second = train_or_load(cfg, store=store)
    assert (store / cfg.run_id / "last.pt").stat().st_mtime_ns == mtime
    assert second.history == json.loads(json.dumps(first.history))
    assert (store / cfg.run_id / "best.pt").exists()
    assert second.best_model()(torch.zeros(1, 1, 8, 8)).shape == (1, 4)


def test_same_seed_same_numbers_different_seed_differs(tmp_path):
    a = train_or_load(_config("sgt", epochs=1), store=tmp_path / "a")
    b = train_or_load(_config("sgt", epochs=1), store=tmp_path / "b")
    c = train_or_load(_config("sgt", epochs=1, seed=1), store=tmp_path / "c")
    assert a.history[0]["train_loss"] == b.history[0]["train_loss"]
    assert a.history[0]["train_loss"] != c.history[0]["train_loss"]


@pytest.mark.parametrize("method", ["traditional", "sgt", "smoot", "hlgm"])
def test_each_method_learns_a_synthetic_task(store, method):
    params = {"patience": 1, "monitor": "test_acc"} if method == "hlgm" else {}
    run = train_or_load(_config(method, method_params=params, epochs=6), store=store)
    assert run.final_test_acc > 80.0  # chance is 25 %
    assert [h["epoch"] for h in run.history] == list(range(1, 7))


def test_history_records_phase_and_k(store):
    cfg = _config("hlgm", method_params=HLGM_FAST, epochs=6)
    run = train_or_load(cfg, store=store)
    phases = [h["phase"] for h in run.history]
    assert phases[0] == "traditional" and "regularize" in phases and "denoise" in phases
    assert run.plateau_epoch is not None and (store / cfg.run_id / "phase1.pt").exists()
    reg = [h for h in run.history if h["phase"] == "regularize"]
    assert reg[0]["k_max"] == round(0.2 * 64)
    sgt = train_or_load(_config("sgt", epochs=1), store=store)
    assert sgt.history[0]["k_min"] == sgt.history[0]["k_max"] == 32


def test_hlgm_continuation_starts_from_phase1_checkpoint(store):
    cfg = _config("hlgm", method_params=HLGM_FAST, epochs=6)
    hlgm = train_or_load(cfg, store=store)
    cont = train_or_load(hlgm_continuation(cfg), store=store)
    p = hlgm.plateau_epoch
    assert cont.history[:p] == hlgm.history[:p]
    assert all(h["phase"] == "traditional" for h in cont.history)
    assert len(cont.history) == cfg.epochs
    assert cont.history[p]["test_acc"] != hlgm.history[p]["test_acc"] or p == cfg.epochs


def test_continuation_needs_the_hlgm_run(store):
    cfg = _config("hlgm", method_params={"patience": 1})
    with pytest.raises(FileNotFoundError, match="train the HLGM run first"):
        train_or_load(hlgm_continuation(cfg), store=store)


def test_config_validation_names_the_key():
    with pytest.raises(KeyError, match="epoch"):
        RunConfig.from_dict({"epoch": 3})
    with pytest.raises(TypeError, match="epochs"):
        RunConfig(epochs="3")
    with pytest.raises(ValueError, match="optimizer"):
        RunConfig(optimizer="rmsprop")
    assert RunConfig(lr=1).lr == 1  # an int is a valid float
    assert _config("sgt").run_id != _config("sgt", seed=1).run_id
    assert _config("sgt").run_id == _config("sgt", device="cuda", progress=True).run_id


def test_run_id_does_not_depend_on_spelling_out_defaults():
    assert _config("sgt").run_id == _config("sgt", method_params={"k_fraction": 0.5}).run_id
    assert _config("sgt").run_id != _config("sgt", method_params={"k_fraction": 0.4}).run_id


def test_checkpoint_keeps_every_random_generator(store):
    """last.pt holds torch's CPU state, each CUDA device's (none here), NumPy's and Python's;
    restoring it repeats all four streams. A bare tensor (older checkpoints) still restores."""
    import random

    import numpy as np

    from saliency_lib.seeding import set_rng_state

    cfg = _config("traditional", epochs=1)
    train_or_load(cfg, store=store)
    state = torch.load(store / cfg.run_id / "last.pt", weights_only=True)
    rng = state["rng"]
    assert set(rng) == {"torch", "cuda", "numpy", "python"}
    assert len(rng["cuda"]) == (torch.cuda.device_count() if torch.cuda.is_initialized() else 0)
    set_rng_state(rng)
    first = (torch.rand(2), np.random.rand(2), random.random())
    set_rng_state(rng)
    assert torch.equal(first[0], torch.rand(2))
    assert (first[1] == np.random.rand(2)).all() and first[2] == random.random()
    set_rng_state(rng["torch"])
    assert torch.equal(first[0], torch.rand(2))


def test_cuda_generators_saved_and_restored_when_cuda_is_used(monkeypatch):
    """Without a GPU: the CUDA calls are faked to check the wiring (saved when CUDA is in use,
    restored per device, a warning when the devices are gone)."""
    from saliency_lib import seeding

    fake = [torch.tensor([1, 2], dtype=torch.uint8), torch.tensor([3], dtype=torch.uint8)]
    restored = {}
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: fake)
    state = seeding.get_rng_state()
    assert state["cuda"] is fake
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda s, i: restored.__setitem__(i, s))
    seeding.set_rng_state(state)
    assert restored == {0: fake[0], 1: fake[1]}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="2 CUDA device"):
        seeding.set_rng_state(state)


def test_final_epoch_evaluation_trains_the_same_run_without_a_best_epoch(tmp_path):
    """``test_eval="final_epoch"``: the same weights, losses and final accuracy as evaluating
    after every epoch (evaluation takes no random numbers on in-memory data), a ``None`` test
    accuracy for the other epochs, and no best epoch, best accuracy or best.pt (never the final
    value in their place); the default keeps every existing run id."""
    every = _config("sgt", epochs=3)
    final = every.replace(test_eval="final_epoch")
    assert final.run_id != every.run_id
    assert "test_eval" not in every.identity()  # default: the run ids stored before it
    a = train_or_load(every, store=tmp_path / "a")
    b = train_or_load(final, store=tmp_path / "b")
    for key, value in _weights(a).items():
        assert torch.equal(value, b.model.state_dict()[key]), key
    assert [h["train_loss"] for h in a.history] == [h["train_loss"] for h in b.history]
    assert [h["test_acc"] for h in b.history[:-1]] == [None, None]
    assert b.final_test_acc == a.final_test_acc
    assert a.per_epoch_test_acc and not b.per_epoch_test_acc
    assert b.best_epoch is None and b.best_test_acc != b.best_test_acc  # NaN
    assert not (tmp_path / "b" / final.run_id / "best.pt").exists()
    assert (
        json.loads((tmp_path / "b" / final.run_id / "run.json").read_text())["best_epoch"] is None
    )
    with pytest.raises(RuntimeError, match="final epoch only.*use run.model"):
        b.best_model()
    one = train_or_load(final.replace(epochs=1), store=tmp_path / "d")  # final = only epoch
    assert one.best_epoch is None and one.best_test_acc != one.best_test_acc
    # resumed after an interruption: the same history
    assert train_or_load(final, store=tmp_path / "c", stop_after=1) is None
    resumed = train_or_load(final, store=tmp_path / "c")
    assert [h["test_acc"] for h in resumed.history] == [h["test_acc"] for h in b.history]


def test_final_epoch_evaluation_refuses_a_method_that_monitors_the_test_accuracy():
    with pytest.raises(ValueError, match="monitors the test accuracy.*every_epoch"):
        _config("hlgm", method_params=HLGM_FAST, test_eval="final_epoch")
    with pytest.raises(ValueError, match="test_eval"):
        _config("sgt", test_eval="never")
    _config("hlgm", method_params={"monitor": "train_loss"}, test_eval="final_epoch")
