"""Text classifiers of SGT section 5.2 (Table 1): word embeddings into a bidirectional LSTM,
registered in ``create_model`` like ``cnn2`` (docs/methods.md §9).

The input is a batch of embedded token sequences ``(B, 1, L, D)`` (one channel; rows are tokens,
columns are embedding dimensions; :mod:`saliency_lib.data.text`), padded at the end with
all-zero rows: the model reads each sequence's length from its input
(:func:`saliency_lib.masking.sequence_lengths`) and runs the LSTM on the packed sequences, so
padding changes nothing. The input being the embeddings themselves (GloVe, frozen), the input
gradient is the gradient with respect to each word's embedding, as the SGT text sorts words by
it. ``image_size`` is the embedding dimension ``D`` (the feature axis, as for the time-series
models).

* ``bilstm``: hidden 128 per direction, the classifier reads the last hidden state of each
  direction (concatenated), dropout 0.2 before the linear layer (the paper profile).
* ``bilstm_small``: hidden 32 (the cpu analogue).
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from ..masking import sequence_lengths
from ._registry import MODELS

__all__ = ["BiLSTMClassifier"]


class BiLSTMClassifier(nn.Module):
    """Bidirectional LSTM over embedded tokens; the final hidden states of both directions (of
    the last layer) feed a linear layer. Returns logits."""

    def __init__(
        self,
        embedding_dim: int,
        num_classes: int,
        hidden: int = 128,
        layers: int = 1,
        dropout: float = 0.2,
    ):
        super().__init__()
        self.rnn = nn.LSTM(
            embedding_dim,
            hidden,
            num_layers=layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(2 * hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lengths = sequence_lengths(x)
        packed = pack_padded_sequence(
            x[:, 0], lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        # cuDNN's LSTM has no backward pass in eval mode; the input gradients of the saliency
        # methods are taken in eval mode, so cuDNN is off for them (same function)
        eval_grad = x.is_cuda and not self.training and torch.is_grad_enabled()
        ctx = torch.backends.cudnn.flags(enabled=False) if eval_grad else contextlib.nullcontext()
        with ctx:
            _, (h, _) = self.rnn(packed)
        return self.fc(self.drop(torch.cat([h[-2], h[-1]], dim=1)))


def _builder(hidden: int):
    def build(num_classes, in_channels, image_size, pretrained, **kwargs):
        if pretrained:
            raise ValueError("the text models have no pretrained weights (their input is GloVe)")
        if in_channels != 1:
            raise ValueError(f"text models take (B, 1, L, D) inputs, got in_channels={in_channels}")
        return BiLSTMClassifier(image_size, num_classes, hidden=hidden, **kwargs)

    return build


MODELS.register("bilstm")(_builder(128))
MODELS.register("bilstm_small")(_builder(32))
