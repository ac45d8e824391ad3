"""Saliency-guided training inside a PyTorch Lightning ``LightningModule``, with
:mod:`saliency_lib.api` (``pip install saliency-lib[lightning]``).

Lightning runs the loop and the backward pass, so the module asks the method for the loss only
(``GuidedTraining.loss``), tells it the epoch boundaries from Lightning's hooks, hands it the
validation accuracy (HLGM with ``monitor="test_acc"`` ends its phase 1 on it) and keeps the
method's state (SMOOT's ``K``, HLGM's plateau search) in Lightning's checkpoints. SMOOT needs
each sample's index: the training set yields ``(x, y, index)``.

Usage (``tests/test_api_lightning.py`` runs it and checks it against a plain loop)::

    module = SaliencyGuidedModule(model, "smoot", num_train=len(train_set), alpha=0.95)
    pl.Trainer(max_epochs=10).fit(module, train_loader, val_loader)
    module.method.state.per_sample_k  # SMOOT's K after training
    module.history                    # one entry per epoch: loss, accuracies, phase, K
"""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from torch import nn

from saliency_lib.api import create_method


class SaliencyGuidedModule(pl.LightningModule):
    """``model`` trained by a saliency-guided ``method`` (``create_method``'s name and options)
    with Adam at ``lr``."""

    def __init__(self, model: nn.Module, method: str = "sgt", lr: float = 1e-3, **options):
        super().__init__()
        self.model = model
        self.method = create_method(method, **options)
        self.lr = lr
        self.history: list[dict] = []
        self.val_acc: float | None = None

    def forward(self, x):
        return self.model(x)

    def configure_optimizers(self):
        return torch.optim.Adam(self.model.parameters(), lr=self.lr)

    # ------------------------------------------------------------------ training
    def on_train_epoch_start(self):
        self.method.start_epoch(self.current_epoch + 1)

    def training_step(self, batch, batch_idx):
        x, y, idx = batch  # idx: the samples' indices in the training set (SMOOT)
        out = self.method.loss(self.model, x, y, idx)
        self.log("train_loss", out.loss.detach(), on_step=False, on_epoch=True)
        return out.loss  # Lightning runs the backward pass and the optimiser step

    def on_train_epoch_end(self):
        # runs after this epoch's validation: val_acc is this epoch's held-out accuracy
        entry = self.method.end_epoch(test_acc=self.val_acc)
        self.history.append(entry)
        self.log_dict({"k_median": float(entry["k_median"]), "val_acc": entry["test_acc"]})

    # ------------------------------------------------------------------ validation
    def on_validation_epoch_start(self):
        self._correct, self._seen = 0, 0

    def validation_step(self, batch, batch_idx):
        x, y = batch[0], batch[1]
        self._correct += int((self.model(x).argmax(1) == y).sum())
        self._seen += len(y)

    def on_validation_epoch_end(self):
        self.val_acc = 100.0 * self._correct / max(self._seen, 1)

    # ------------------------------------------------------------------ checkpoints
    def on_save_checkpoint(self, checkpoint):
        checkpoint["saliency_guided"] = self.method.state_dict()

    def on_load_checkpoint(self, checkpoint):
        self.method.load_state_dict(checkpoint["saliency_guided"])
