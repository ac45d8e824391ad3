"""The public API (saliency_lib/api.py): the same numbers as the package's own trainer, errors
that name the missing piece, time-series inputs, resuming, and a runnable Examples section in
every public entry point's docstring."""

from __future__ import annotations

import doctest
import inspect
import math

import pytest
import torch
from torch import nn

from saliency_lib import api
from saliency_lib.api import create_method
from saliency_lib.data import make_loader
from saliency_lib.data.synthetic import make_synthetic
from saliency_lib.methods import get_method
from saliency_lib.models import create_model
from saliency_lib.seeding import seed_everything
from saliency_lib.trainer import Precision, Trainer, evaluate_accuracy

EPOCHS = 4
DOCTEST_FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _data():
    train = make_synthetic("train", n=96, num_classes=4, image_size=8)
    test = make_synthetic("test", n=48, num_classes=4, image_size=8)
    return train, test


def _model(kind: str) -> nn.Module:
    if kind == "cnn2":  # dropout and the shared-prefix saliency path
        return create_model("cnn2", num_classes=4, in_channels=1, image_size=8)
    return nn.Sequential(  # BatchNorm: the masked pass moves its running statistics
        nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten(),
        nn.Linear(6 * 8 * 8, 4),
    )  # fmt: skip


def _with_trainer(kind, name, options, precision="fp32"):
    train, test = _data()
    seed_everything(0)
    model = _model(kind)
    method = get_method(name, **options)
    method.setup(len(train), 64, 4, "cpu")
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    trainer = Trainer(
        model, method, optimizer,
        make_loader(train, 32, shuffle=True, seed=0), make_loader(test, 64, shuffle=False),
        progress=False, precision=Precision(precision, "cpu"),
    )  # fmt: skip
    history = trainer.fit(EPOCHS)
    for entry in history:
        entry.pop("seconds")
    return history, model, method.per_sample_k()


def _with_api(kind, name, options, precision="fp32"):
    """The loop a user writes, over the same batches."""
    train, test = _data()
    seed_everything(0)
    model = _model(kind)
    method = create_method(name, num_train=len(train), precision=precision, **options)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    loader, test_loader = make_loader(train, 32, seed=0), make_loader(test, 64, shuffle=False)
    history = []
    for epoch in range(1, EPOCHS + 1):
        method.start_epoch()
        model.train()
        for x, y, idx in loader.batches(epoch):
            method.step(model, optimizer, x, y, idx)
        test_acc = evaluate_accuracy(model, test_loader.batches(0))
        history.append(method.end_epoch(test_acc=test_acc))
    return history, model, method.state.per_sample_k


CASES = [
    ("cnn2", "traditional", {}),
    ("cnn2", "sgt", {"k_fraction": 0.3}),
    ("cnn2", "smoot", {"alpha": 0.95, "mu": 20.0}),
    ("bn", "smoot", {"k_update": "eval"}),
    ("cnn2", "hlgm", {"patience": 1, "min_delta": 50.0, "episode_size": 2}),  # train_loss
    ("bn", "hlgm", {"patience": 1, "monitor": "test_acc", "min_delta": 50.0, "episode_size": 2}),
]


@pytest.mark.parametrize(("kind", "name", "options"), CASES, ids=lambda c: str(c))
def test_same_losses_and_updates_as_the_trainer(kind, name, options):
    ours, model_a, k_a = _with_api(kind, name, options)
    theirs, model_b, k_b = _with_trainer(kind, name, options)
    assert ours == theirs  # every epoch's loss, accuracies, phase and K statistics, exactly
    for (n, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values(), strict=True):
        assert torch.equal(a, b), n
    if name == "smoot":
        assert torch.equal(k_a, k_b)
        assert len(set(k_a.tolist())) > 1  # not vacuous: K moved apart per sample
    if name == "hlgm":
        assert [e["phase"] for e in ours] == ["traditional", "traditional", "regularize", "denoise"]


def test_same_as_the_trainer_under_bf16_autocast():
    options = {"k_fraction": 0.5}
    ours, model_a, _ = _with_api("cnn2", "sgt", options, precision="bf16")
    theirs, model_b, _ = _with_trainer("cnn2", "sgt", options, precision="bf16")
    fp32, _, _ = _with_api("cnn2", "sgt", options)
    assert ours == theirs
    pairs = zip(model_a.parameters(), model_b.parameters(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
    assert [e["train_loss"] for e in ours] != [e["train_loss"] for e in fp32]  # autocast acted


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_loss_for_an_own_backward_pass_equals_step(precision):
    """``loss()`` + the caller's backward and optimiser step (under the caller's own autocast)
    gives the same weights as ``step`` (e.g. PyTorch Lightning runs the backward pass itself)."""
    train, _ = _data()
    weights = []
    for use_step in (True, False):
        seed_everything(0)
        model = _model("cnn2")
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        method = create_method("smoot", num_train=len(train), precision=precision)
        for x, y, idx in make_loader(train, 32, seed=0).batches(1):
            if use_step:
                method.step(model, optimizer, x, y, idx)
            else:
                optimizer.zero_grad()
                with torch.autocast("cpu", torch.bfloat16, enabled=precision == "bf16"):
                    out = method.loss(model, x, y, idx)
                out.loss.backward()
                optimizer.step()
        weights.append([p.detach().clone() for p in model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*weights, strict=True))


def test_time_series_inputs():
    """(B, 1, T, F) batches through a package LSTM: SMOOT's K counts the T x F cells."""
    seed_everything(0)
    model = create_model("lstm", num_classes=2, in_channels=1, image_size=10)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, y = torch.randn(16, 1, 10, 10), torch.randint(0, 2, (16,))
    method = create_method("smoot", num_train=16, fill="uniform_feature", mu=30.0)
    method.start_epoch()
    for _ in range(3):
        out = method.step(model, optimizer, x, y, torch.arange(16))
    entry = method.end_epoch()
    assert method.state.num_positions == 100
    assert math.isfinite(entry["train_loss"]) and out.logits.shape == (16, 2)
    assert 20 <= entry["k_min"] <= entry["k_max"] <= 80  # K_min 20 %, K_max 80 % of 100 cells


def test_resume_from_state_dict_gives_the_same_run():
    train, _ = _data()

    def run(split_after: int | None):
        seed_everything(0)
        model = _model("cnn2")
        optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
        method = create_method("hlgm", patience=1, min_delta=50.0, episode_size=2)
        loader = make_loader(train, 32, seed=0)
        for epoch in range(1, EPOCHS + 1):
            if epoch == split_after:
                saved = method.state_dict()
                method = create_method("hlgm", patience=1, min_delta=50.0, episode_size=2)
                method.load_state_dict(saved)
            method.start_epoch()
            model.train()
            for x, y, idx in loader.batches(epoch):
                method.step(model, optimizer, x, y, idx)
            method.end_epoch()
        return method.state, [p.detach() for p in model.parameters()]

    straight, w1 = run(None)
    resumed, w2 = run(3)  # after the plateau, before the first phase-2 epoch
    assert straight == resumed and straight.phase == "denoise"
    assert all(torch.equal(a, b) for a, b in zip(w1, w2, strict=True))


def test_state_dict_refuses_another_method_or_size():
    state = create_method("smoot", num_train=8).state_dict()
    with pytest.raises(ValueError, match="num_train=8, not 9"):
        create_method("smoot", num_train=9).load_state_dict(state)
    with pytest.raises(ValueError, match="method 'smoot', not 'sgt'"):
        create_method("sgt").load_state_dict(state)
    with pytest.raises(ValueError, match="other smoot options"):
        create_method("smoot", num_train=8, alpha=0.9).load_state_dict(state)


# ----------------------------------------------------------------------------- errors
X, Y = torch.randn(4, 1, 6, 6), torch.tensor([0, 1, 0, 1])
LINEAR = nn.Sequential(nn.Flatten(), nn.Linear(36, 2))


@pytest.mark.parametrize(
    ("build", "call", "message"),
    [
        (lambda: create_method("smoot"), None, "needs num_train="),
        (lambda: create_method("smoot", num_train=0), None, "num_train must be a positive int"),
        (lambda: create_method("sgd"), None, "unknown training method 'sgd'; choose one of"),
        (lambda: create_method("sgt", k=3), None, "valid options are: .*k_fraction"),
        (lambda: create_method("sgt", precision="fp64"), None, "precision must be one of"),
        (lambda: create_method("smoot", num_train=8),
         lambda m: m.loss(LINEAR, X, Y), "SMOOT needs idx="),
        (lambda: create_method("smoot", num_train=8),
         lambda m: m.loss(LINEAR, X, Y, torch.tensor([0, 1, 2, 8])), "idx holds 8, outside 0 .. 7"),
        (lambda: create_method("smoot", num_train=8),
         lambda m: m.loss(LINEAR, X, Y, torch.tensor([-1, 1, 2, 3])), "idx holds -1"),
        (lambda: create_method("smoot", num_train=8),
         lambda m: m.loss(LINEAR, X, Y, torch.arange(3)), r"idx must be \(4,\) integer"),
        (lambda: create_method("hlgm"), lambda m: m.loss(LINEAR, X, Y), "call start_epoch()"),
        (lambda: create_method("hlgm", monitor="test_acc"),
         lambda m: (m.start_epoch(), m.step(LINEAR, torch.optim.SGD(LINEAR.parameters()), X, Y),
                    m.end_epoch()), "pass end_epoch\\(test_acc="),
        (lambda: create_method("hlgm"), lambda m: (m.start_epoch(), m.end_epoch()),
         "saw no batch"),
        (lambda: create_method("sgt"), lambda m: m.end_epoch(), "no epoch is open"),
        (lambda: create_method("sgt"), lambda m: m.loss(LINEAR, X[0], Y), r"x must be a float .*"
         r"\(B, C, H, W\).*time series as \(B, 1, T, F\).*got torch.float32 \(1, 6, 6\)"),
        (lambda: create_method("sgt"), lambda m: m.loss(LINEAR, X.long(), Y), "got torch.int64"),
        (lambda: create_method("sgt"), lambda m: m.loss(LINEAR, X, Y[:3]), r"y must be \(4,\)"),
        (lambda: create_method("sgt"), lambda m: (m.loss(LINEAR, X, Y), m.loss(
            nn.Sequential(nn.Flatten(), nn.Linear(30, 2)), X[..., :5], Y)),
         "set up for 36 positions"),
        (lambda: create_method("sgt"), lambda m: m.loss(lambda x: x, X, Y), "must be a torch.nn"),
    ],
)  # fmt: skip
def test_errors_name_the_missing_piece(build, call, message):
    with pytest.raises((ValueError, KeyError, RuntimeError, TypeError), match=message):
        method = build()
        call(method)


class _Detached(nn.Module):
    """A model whose output has no gradient with respect to its input."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(36, 2)

    def forward(self, x):
        return self.fc(x.detach().flatten(1))


@pytest.mark.parametrize("name", ["sgt", "hlgm"])
def test_a_model_without_input_gradient_fails_at_the_first_batch(name):
    """Checked on the first batch, so HLGM fails before phase 1, not at its phase 2."""
    method = create_method(name)
    method.start_epoch()
    with pytest.raises(ValueError, match="no gradient with respect to its input"):
        method.step(_Detached(), torch.optim.SGD(_Detached().parameters()), X, Y)
    trad = create_method("traditional")  # needs no input gradient
    assert trad.loss(_Detached(), X, Y).loss.isfinite()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_batches_with_cpu_indices_and_fp16():
    seed_everything(0)
    model = _model("bn").cuda()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    method = create_method("smoot", num_train=96, precision="fp16")
    train, _ = _data()
    for x, y, idx in make_loader(train, 32, seed=0).batches(1):
        method.step(model, optimizer, x.cuda(), y.cuda(), idx)  # idx stays on the CPU
    assert method.method.K.device.type == "cuda"
    assert method.state.per_sample_k.device.type == "cpu"


# ----------------------------------------------------------------------------- doctests
#: every public entry point of the API: its own docstring must carry runnable examples
ENTRY_POINTS = {name: getattr(api, name) for name in api.__all__}
METHODS = {
    f"GuidedTraining.{name}": getattr(api.GuidedTraining, name)
    for name in ("start_epoch", "end_epoch", "loss", "step", "state_dict")
}


def test_the_public_face_is_what_the_reference_lists():
    assert sorted(api.__all__) == sorted(
        ["create_method", "list_methods", "method_options", "GuidedTraining", "MethodState",
         "accuracy", "attribute", "accuracy_drop_curve", "auc"]
    )  # fmt: skip


@pytest.mark.parametrize("name", sorted({**ENTRY_POINTS, **METHODS, "module": api}))
def test_examples_run_as_doctests(name):
    obj = {**ENTRY_POINTS, **METHODS, "module": api}[name]
    doc = inspect.getdoc(obj) or ""
    assert "\nExamples\n--------\n" in doc, f"{name}: no 'Examples' section in its docstring"
    finder = doctest.DocTestFinder(recurse=False)
    tests = [t for t in finder.find(obj, name, globs={}) if t.examples]
    assert tests, f"{name}: its Examples section has no runnable example"
    runner = doctest.DocTestRunner(optionflags=DOCTEST_FLAGS)
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"


def test_a_failing_example_is_reported():
    """The doctest check above is not vacuous."""

    def bad():
        """Examples
        --------
        >>> 1 + 1
        3
        """

    test = doctest.DocTestFinder().find(bad, "bad", globs={})[0]
    runner = doctest.DocTestRunner(optionflags=DOCTEST_FLAGS)
    runner.run(test, out=lambda _: None)
    assert runner.summarize(verbose=False).failed == 1
