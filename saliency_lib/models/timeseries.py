"""Time-series classifiers of the benchmark (Ismail et al. 2020; SGT section 5.3), registered in
``create_model`` like ``cnn2``.

Every model takes the package's time-series layout ``(B, 1, T, F)`` (one channel; rows are time,
columns are features; see :mod:`saliency_lib.data.timeseries`), reads ``x[:, 0]`` as
``(batch, time, feature)`` and returns logits (the benchmark code returned softmax
probabilities; the package's losses and saliency work on logits). ``image_size`` is both ``T``
and ``F``.

Sizes (the public benchmark code): ``lstm`` hidden 5; ``lstm_cell_attention`` hidden 5, r = 10
attention hops, d_a = 50; ``tcn`` channels [5, 5, T] (hidden 5, 3 levels, the last of width
``T``: ``[hidden] * (levels - 1) + [T]``), kernel 4, max-pool over time; ``transformer`` d = F,
6 layers, 5 heads, feed-forward 400. Dropout 0.1. The ``*_mnist`` variants use the benchmark's
MNIST-experiment sizes (hidden 25; TCN 8 levels of 25, kernel 7; 4 heads; dropout 0.05).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from ._registry import MODELS


def _sequence(x: torch.Tensor) -> torch.Tensor:
    if x.dim() != 4 or x.shape[1] != 1:
        raise ValueError(
            "time-series models take (B, 1, T, F) inputs (time as image rows), "
            f"got {tuple(x.shape)}"
        )
    return x[:, 0]


class LSTMClassifier(nn.Module):
    """One-layer LSTM; the last time step's hidden state feeds a linear layer (benchmark LSTM)."""

    def __init__(self, features: int, num_classes: int, hidden: int = 5, dropout: float = 0.1):
        super().__init__()
        self.drop = nn.Dropout(dropout)
        self.rnn = nn.LSTM(features, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.drop(_sequence(x)))
        return self.fc(self.drop(out[:, -1]))


class InputCellAttentionLSTM(nn.Module):
    """LSTM with input-cell attention (Ismail et al. 2019): at step ``t`` the cell's input is
    ``M_t = (1/r) sum_j A_t[j]^T X_{1..t}`` with ``A_t = softmax_time(W2 tanh(W1 X_{1..t}))``
    (r attention hops over the steps so far), instead of ``x_t``.

    The gates ``M_t W + h_{t-1} U + b`` are exactly an LSTM cell on the sequence ``M``, so ``M``
    is computed for all steps at once (a causal softmax over time) and fed to ``nn.LSTM``: the
    benchmark's per-step loop, vectorised.
    """

    def __init__(
        self,
        features: int,
        num_classes: int,
        hidden: int = 5,
        r: int = 10,
        d_a: int = 50,
        dropout: float = 0.1,
    ):
        super().__init__()
        self.r = r
        self.drop = nn.Dropout(dropout)
        self.linear_first = nn.Linear(features, d_a)
        self.linear_second = nn.Linear(d_a, r)
        self.rnn = nn.LSTM(features, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, num_classes)

    def attended_inputs(self, seq: torch.Tensor) -> torch.Tensor:
        """(B, T, F) -> M (B, T, F), ``M_t`` attending over steps ``1..t``."""
        t = seq.shape[1]
        scores = self.linear_second(torch.tanh(self.linear_first(seq)))  # (B, T, r)
        causal = torch.ones(t, t, dtype=torch.bool, device=seq.device).tril()  # [t, s]: s <= t
        s = scores.unsqueeze(1).expand(-1, t, -1, -1)  # (B, t, s, r)
        s = s.masked_fill(~causal[None, :, :, None], float("-inf"))
        weights = torch.softmax(s, dim=2).mean(dim=3)  # (B, t, s): mean over the r hops
        return weights @ seq

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq = self.drop(_sequence(x))
        out, _ = self.rnn(self.attended_inputs(seq))
        return self.fc(self.drop(out[:, -1]))


class _TemporalBlock(nn.Module):
    """Two causal dilated convolutions with weight norm, ReLU, dropout and a residual (Bai et al.
    2018). Every ReLU is its own module, used once (captum DeepLIFT needs that)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.pad = (kernel - 1) * dilation
        self.conv1 = weight_norm(
            nn.Conv1d(c_in, c_out, kernel, padding=self.pad, dilation=dilation)
        )
        self.conv2 = weight_norm(
            nn.Conv1d(c_out, c_out, kernel, padding=self.pad, dilation=dilation)
        )
        self.relu1, self.relu2, self.relu = nn.ReLU(), nn.ReLU(), nn.ReLU()
        self.drop1, self.drop2 = nn.Dropout(dropout), nn.Dropout(dropout)
        self.downsample = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else None
        for conv in (self.conv1, self.conv2, self.downsample):
            if conv is not None:
                nn.init.normal_(conv.weight, 0.0, 0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.drop1(self.relu1(self.conv1(x)[..., : -self.pad]))
        out = self.drop2(self.relu2(self.conv2(out)[..., : -self.pad]))
        res = x if self.downsample is None else self.downsample(x)
        return self.relu(out + res)


class TCN(nn.Module):
    """Temporal convolutional network: blocks with dilation 2^i, max over time, linear.

    The max over time is an ``nn.MaxPool1d(time_steps)`` module, as the benchmark (and captum's
    DeepLIFT has a max-pool rule for that module)."""

    def __init__(
        self,
        features: int,
        num_classes: int,
        channels: list[int],
        kernel: int = 4,
        dropout: float = 0.1,
        time_steps: int | None = None,
    ):
        super().__init__()
        blocks, c_in = [], features
        for i, c_out in enumerate(channels):
            blocks.append(_TemporalBlock(c_in, c_out, kernel, 2**i, dropout))
            c_in = c_out
        self.network = nn.Sequential(*blocks)
        self.pool = nn.MaxPool1d(time_steps or features)
        self.fc = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.network(_sequence(x).transpose(1, 2))  # (B, C, T)
        return self.fc(self.pool(h).squeeze(-1))


class _EncoderLayer(nn.Module):
    """Pre-norm encoder layer of the benchmark Transformer (attention, then feed-forward)."""

    def __init__(self, d: int, heads: int, d_ff: int, dropout: float):
        super().__init__()
        if d % heads:
            raise ValueError(f"transformer width {d} is not divisible by {heads} heads")
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.out = (nn.Linear(d, d) for _ in range(4))
        self.ff1, self.ff2 = nn.Linear(d, d_ff), nn.Linear(d_ff, d)
        self.relu = nn.ReLU()
        self.drop_attn, self.drop1 = nn.Dropout(dropout), nn.Dropout(dropout)
        self.drop_ff, self.drop2 = nn.Dropout(dropout), nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h = self.norm1(x)

        def split(z):
            return z.view(b, t, self.heads, d // self.heads).transpose(1, 2)

        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        att = self.drop_attn(
            torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(d // self.heads), -1)
        )
        a = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.drop1(self.out(a))
        x = x + self.drop2(self.ff2(self.drop_ff(self.relu(self.ff1(self.norm2(x))))))
        return x


class TransformerClassifier(nn.Module):
    """Sinusoidal positions, ``layers`` encoder layers, a final norm, max over time, linear."""

    def __init__(
        self,
        features: int,
        time_steps: int,
        num_classes: int,
        layers: int = 6,
        heads: int = 5,
        d_ff: int = 400,
        dropout: float = 0.1,
    ):
        super().__init__()
        pos = torch.arange(time_steps, dtype=torch.float32)[:, None]
        div = torch.exp(
            torch.arange(0, features, 2, dtype=torch.float32) * (-math.log(1e4) / features)
        )
        pe = torch.zeros(time_steps, features)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div[: features // 2])
        self.register_buffer("pe", pe)
        self.scale = math.sqrt(features)
        self.drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList(
            _EncoderLayer(features, heads, d_ff, dropout) for _ in range(layers)
        )
        self.norm = nn.LayerNorm(features)
        self.fc = nn.Linear(features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq = _sequence(x)
        h = self.drop(seq * self.scale + self.pe[: seq.shape[1]])
        for layer in self.layers:
            h = layer(h)
        return self.fc(self.norm(h).amax(dim=1))


def _no_pretrained(name: str, pretrained: bool, in_channels: int) -> None:
    if pretrained:
        raise ValueError(f"{name} has no pretrained weights; use pretrained=False")
    if in_channels != 1:
        raise ValueError(f"{name} takes (B, 1, T, F) time series; got in_channels={in_channels}")


def _register(name: str, build, doc: str) -> None:
    def factory(num_classes, in_channels, image_size, pretrained, **kwargs):
        _no_pretrained(name, pretrained, in_channels)
        return build(image_size, num_classes, **kwargs)

    factory.__doc__ = doc
    MODELS.register(name)(factory)


_register(
    "lstm",
    lambda s, c, **kw: LSTMClassifier(s, c, **{"hidden": 5, **kw}),
    "benchmark LSTM, hidden 5",
)
_register(
    "lstm_cell_attention",
    lambda s, c, **kw: InputCellAttentionLSTM(s, c, **{"hidden": 5, "r": 10, "d_a": 50, **kw}),
    "benchmark LSTM with input-cell attention, hidden 5, r 10, d_a 50",
)
_register(
    "tcn",
    lambda s, c, **kw: TCN(s, c, **{"channels": [5, 5, s], "kernel": 4, "time_steps": s, **kw}),
    "benchmark TCN, channels [5, 5, T], kernel 4",
)
_register(
    "transformer",
    lambda s, c, **kw: TransformerClassifier(s, s, c, **{"layers": 6, "heads": 5, **kw}),
    "benchmark Transformer, d = F, 6 layers, 5 heads",
)
_register(
    "lstm_mnist",
    lambda s, c, **kw: LSTMClassifier(s, c, **{"hidden": 25, "dropout": 0.05, **kw}),
    "MNIST-experiment LSTM, hidden 25",
)
_register(
    "lstm_cell_attention_mnist",
    lambda s, c, **kw: InputCellAttentionLSTM(
        s, c, **{"hidden": 25, "r": s, "d_a": 30, "dropout": 0.05, **kw}
    ),
    "MNIST-experiment LSTM with input-cell attention, hidden 25, r = T, d_a 30",
)
_register(
    "tcn_mnist",
    lambda s, c, **kw: TCN(
        s, c, **{"channels": [25] * 8, "kernel": 7, "dropout": 0.05, "time_steps": s, **kw}
    ),
    "MNIST-experiment TCN, 8 levels of 25 channels, kernel 7",
)
_register(
    "transformer_mnist",
    lambda s, c, **kw: TransformerClassifier(
        s, s, c, **{"layers": 6, "heads": 4, "dropout": 0.05, **kw}
    ),
    "MNIST-experiment Transformer, d = F, 6 layers, 4 heads",
)

#: The architecture families of SGT Table 2, in its row order.
ARCHITECTURES = ("lstm", "lstm_cell_attention", "tcn", "transformer")
