"""docs/api/lightning_example.py: the API inside a PyTorch Lightning ``LightningModule`` gives the
numbers of a plain loop over the same batches, sees this epoch's validation accuracy, and keeps
the method's state in Lightning's checkpoints."""

from __future__ import annotations

import importlib.util
import logging
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler, TensorDataset

from saliency_lib.api import accuracy, create_method
from saliency_lib.data import epoch_permutation
from saliency_lib.data.synthetic import make_synthetic

pl = pytest.importorskip("pytorch_lightning", reason="the lightning extra (test extra)")

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "api" / "lightning_example.py"
EPOCHS = 4
OPTIONS = {
    "smoot": {"num_train": 96, "alpha": 0.95, "mu": 20.0},
    "hlgm": {"patience": 1, "monitor": "test_acc", "min_delta": 50.0, "episode_size": 2},
}


def _example():
    spec = importlib.util.spec_from_file_location("lightning_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _data():
    train = make_synthetic("train", n=96, num_classes=4, image_size=8)
    test = make_synthetic("test", n=48, num_classes=4, image_size=8)
    train_set = TensorDataset(train.x, train.y, torch.arange(len(train.y)))
    return train_set, (test.x, test.y)


def _model():
    return nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten(),
        nn.Linear(6 * 8 * 8, 4),
    )  # fmt: skip


class EpochOrder(Sampler):
    """A shuffle fixed by the epoch (Lightning calls ``set_epoch``), however often the loader is
    iterated: Lightning also iterates it once to check that it can."""

    def __init__(self, n: int):
        self.n, self.epoch = n, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self):
        return iter(epoch_permutation(self.n, 0, self.epoch).tolist())

    def __len__(self) -> int:
        return self.n


@pytest.fixture(autouse=True)
def _deterministic_flag_restored():
    """``Trainer(deterministic=True)`` turns on ``torch.use_deterministic_algorithms`` for the
    whole process; put it back, or later tests (DeepLIFT's max-unpool) fail in its mode."""
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    yield
    torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


def _loader(dataset, batch_size=32, sampler=None):
    # an own generator: iterating a loader then draws nothing from torch's global generator,
    # which the masking's random fills use
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler,
                      generator=torch.Generator().manual_seed(0))  # fmt: skip


def _with_lightning(name, tmp_path):
    train_set, (xt, yt) = _data()
    torch.manual_seed(0)
    module = _example().SaliencyGuidedModule(_model(), name, lr=1e-2, **OPTIONS[name])
    trainer = pl.Trainer(
        max_epochs=EPOCHS, accelerator="cpu", devices=1, logger=False, enable_progress_bar=False,
        enable_model_summary=False, num_sanity_val_steps=0, default_root_dir=tmp_path,
        deterministic=True,
    )  # fmt: skip
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's advice on workers and log intervals
        trainer.fit(
            module,
            _loader(train_set, sampler=EpochOrder(len(train_set))),
            _loader(TensorDataset(xt, yt), batch_size=64),
        )
    return module, trainer


def _with_a_plain_loop(name):
    train_set, test = _data()
    torch.manual_seed(0)
    model = _model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    method = create_method(name, **OPTIONS[name])
    order = EpochOrder(len(train_set))
    loader, history = _loader(train_set, sampler=order), []
    for epoch in range(EPOCHS):
        order.set_epoch(epoch)
        method.start_epoch()
        model.train()
        for x, y, idx in loader:
            optimizer.zero_grad()
            method.loss(model, x, y, idx).loss.backward()
            optimizer.step()
        history.append(method.end_epoch(test_acc=accuracy(model, test)))
    return model, method, history


@pytest.mark.parametrize("name", ["smoot", "hlgm"])
def test_lightning_module_matches_a_plain_loop(name, tmp_path):
    module, trainer = _with_lightning(name, tmp_path)
    model, method, history = _with_a_plain_loop(name)
    assert module.history == history  # losses, this epoch's validation accuracy, phase, K
    for a, b in zip(module.model.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)
    if name == "hlgm":
        assert [e["phase"] for e in history] == ["traditional", "traditional", "regularize",
                                                 "denoise"]  # fmt: skip
    else:
        assert torch.equal(module.method.state.per_sample_k, method.state.per_sample_k)
        assert len(set(method.state.per_sample_k.tolist())) > 1

    # the method's state travels in Lightning's checkpoint
    path = tmp_path / "last.ckpt"
    trainer.save_checkpoint(path)
    fresh = _example().SaliencyGuidedModule(_model(), name, lr=1e-2, **OPTIONS[name])
    fresh.on_load_checkpoint(torch.load(path, weights_only=False))
    assert fresh.method.state == module.method.state
