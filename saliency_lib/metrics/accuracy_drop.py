"""Accuracy-drop curves and their AUC (docs/methods.md §4.1; SGT Fig. 3, SMOOT Fig. 3, Tab. II-III).

For every test image the positions are ranked once by |saliency| at the true label (stable
descending sort, so ties keep pixel order). For every level x (percent) the top
``k = round(x/100 * H*W)`` positions are replaced by a fill and the model's accuracy is measured.
The masks of all levels come from the ranks of that single sort (``rank < k``), so the only work
per level is building the masked batch and one forward pass; for ``grad`` the 0 % level reuses the
logits of the saliency pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..masking import check_fill, fill_values, noisy_linear_impute
from ..progress import track
from ._common import (
    as_levels,
    descending_ranks,
    eval_mode,
    fill_value,
    level_k,
    model_device,
    unpack_data,
)
from .scores import batch_scores


def auc(levels, accuracy=None) -> float:
    """Area under an accuracy-drop curve (docs/methods.md §4.1): trapezoid of accuracy % over the
    fraction ``level / 100``; for levels spanning 0-100 % the result lies in [0, 100].

    ``levels`` are percentages (e.g. 0, 10, ..., 100). A DataFrame with ``level`` and
    ``accuracy`` columns may be passed alone. Levels need not span 0-100 (the SGT reference code
    stops at 90 %): the area is then taken over the given range only, not rescaled.

    Examples
    --------
    >>> from saliency_lib.api import auc
    >>> auc([0, 50, 100], [90.0, 50.0, 10.0])  # (90 + 50) / 4 + (50 + 10) / 4
    50.0
    """
    if accuracy is None:
        if not isinstance(levels, pd.DataFrame):
            raise TypeError("auc(levels, accuracy) or auc(df) with 'level', 'accuracy' columns")
        levels, accuracy = levels["level"], levels["accuracy"]
    lv = np.asarray(levels, dtype=float)
    acc = np.asarray(accuracy, dtype=float)
    if lv.shape != acc.shape or lv.ndim != 1:
        raise ValueError("levels and accuracy must be 1-D and of equal length")
    order = np.argsort(lv, kind="stable")
    lv, acc = lv[order] / 100.0, acc[order]
    return float(np.sum((lv[1:] - lv[:-1]) * (acc[1:] + acc[:-1]) / 2.0))


def masked_batch(
    x: torch.Tensor,
    selected: torch.Tensor,
    fill: str,
    value=None,
    replacement: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    noise_std: float = 0.01,
) -> torch.Tensor:
    """``x`` with the positions of the boolean (B, H, W) ``selected`` replaced by ``fill``.

    Same fills and semantics as :func:`saliency_lib.masking.mask`; ``replacement`` (from
    :func:`saliency_lib.masking.fill_values`) may be passed to reuse a level-independent fill.
    """
    if fill == "noisy_linear":
        return noisy_linear_impute(x, selected, noise_std=noise_std, generator=generator)
    if replacement is None:
        replacement = fill_values(x, fill, value, generator)
    return torch.where(selected[:, None], replacement, x)


def iterate_level_outputs(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    levels: np.ndarray,
    method: str = "grad",
    fill: str = "constant",
    value=None,
    batch_size: int = 256,
    generator: torch.Generator | None = None,
    device=None,
    output: str = "log_prob",
    noise_std: float = 0.01,
    saliency_batch_size: int | None = None,
    progress: bool = True,
    **saliency_kwargs,
) -> Iterator[tuple[slice, torch.Tensor, torch.Tensor]]:
    """Yield ``(slice, y_batch, logits)`` per batch of images, ``logits`` of shape (L, B, classes):
    the model's outputs on the images with the top ``levels`` % positions (by |saliency| at the
    true label, computed once per image) replaced by ``fill``. Model in eval mode, no grad.
    ``progress``: a bar and lines over the batches (:mod:`saliency_lib.progress`)."""
    check_fill(fill)
    dev = model_device(model, device)
    h, w = x.shape[2:]
    ks = level_k(levels, h * w)
    starts = range(0, len(x), batch_size)
    what = f"{method} saliency, {len(levels)} levels"
    with eval_mode(model):
        for start in track(starts, what, unit="batch", progress=progress):
            sl = slice(start, start + batch_size)
            xb, yb = x[sl].to(dev), y[sl].to(dev)
            scores, clean = batch_scores(
                model, xb, yb, method, abs=True, output=output, generator=generator,
                saliency_batch_size=saliency_batch_size, **saliency_kwargs,
            )  # fmt: skip
            with torch.no_grad():
                ranks = descending_ranks(scores).reshape(len(xb), h, w)
                replacement = None
                if fill in ("constant", "mean"):  # level-independent: build once per batch
                    replacement = fill_values(xb, fill, value, generator)
                outs = []
                for k in ks:
                    if k == 0:
                        outs.append(clean if clean is not None else model(xb))
                        continue
                    xm = masked_batch(xb, ranks < k, fill, value, replacement, generator, noise_std)
                    outs.append(model(xm))
            yield sl, yb, torch.stack(outs)


def accuracy_drop_curve(
    model: nn.Module,
    data,
    method: str = "grad",
    levels: Iterable[float] = range(0, 101, 10),
    fill: str = "constant",
    value=None,
    batch_size: int = 256,
    generator: torch.Generator | None = None,
    device=None,
    output: str = "log_prob",
    noise_std: float = 0.01,
    saliency_batch_size: int | None = None,
    progress: bool = True,
    **saliency_kwargs,
) -> pd.DataFrame:
    """Accuracy (%) of ``model`` when the top ``level`` % positions by |saliency| are removed.

    ``data``: dataset (``.x``, ``.y``, ``.background``) or ``(x, y)`` pair. ``fill``:
    ``constant`` (IID; ``value`` defaults to the dataset's ``.background``, required for a tensor
    pair), ``mean`` (OOD, the sample's channel mean), ``noisy_linear`` (ROAD) or ``uniform``.
    ``method`` and ``saliency_kwargs`` go to :func:`saliency_lib.saliency.attribute`
    (``output`` selects log-softmax or logit differentiation). ``generator`` seeds ``random``
    saliency, baselines and noisy fills. ``batch_size`` images are processed together (one
    forward pass of ``batch_size`` inputs per level); ``saliency_batch_size`` bounds the
    attribution chunks (default: 32 for IG/SmoothGrad/GradientSHAP/DeepLIFT). ``progress``:
    a bar and lines over the batches (:mod:`saliency_lib.progress`).

    Returns a DataFrame with columns ``level`` (percent), ``accuracy`` (percent) and ``n``
    (images); ``df.attrs`` holds ``method``, ``fill``, ``auc`` and ``k`` (positions per level).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from saliency_lib.api import accuracy_drop_curve
    >>> _ = torch.manual_seed(0)
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    >>> x, y = torch.randn(20, 1, 4, 4), torch.randint(0, 2, (20,))
    >>> curve = accuracy_drop_curve(model, (x, y), levels=[0, 50, 100], value=0.0,
    ...                             progress=False)
    >>> curve["level"].tolist(), curve.attrs["k"]  # 0, 8 and 16 of the 16 positions removed
    ([0.0, 50.0, 100.0], [0, 8, 16])
    >>> 0.0 <= curve.attrs["auc"] <= 100.0
    True
    """
    x, y = unpack_data(data)
    lv = as_levels(levels)
    value = fill_value(data, fill, value)
    correct = torch.zeros(len(lv), dtype=torch.long)
    for _, yb, logits in iterate_level_outputs(
        model, x, y, lv, method, fill, value, batch_size, generator, device, output,
        noise_std, saliency_batch_size, progress, **saliency_kwargs,
    ):  # fmt: skip
        correct += (logits.argmax(-1) == yb[None]).sum(1).cpu()
    n = len(x)
    acc = (100.0 * correct.double() / max(n, 1)).numpy() if n else np.full(len(lv), np.nan)
    df = pd.DataFrame({"level": lv, "accuracy": acc, "n": n})
    df.attrs.update(
        method=method, fill=fill, auc=auc(lv, acc), k=level_k(lv, x.shape[2] * x.shape[3])
    )
    return df


def accuracy_drop_table(
    models: Mapping[str, nn.Module],
    data,
    methods: Iterable[str] = ("grad",),
    seed: int | None = 0,
    **kwargs,
) -> pd.DataFrame:
    """Curves for every (training method, saliency method): tidy DataFrame with columns
    ``training``, ``method``, ``level``, ``accuracy``, ``n``. ``models`` maps a training-method
    label to a model; ``kwargs`` go to :func:`accuracy_drop_curve`. Each curve gets a fresh
    generator seeded with ``seed`` (``None``: no generator)."""
    frames = []
    for training, model in models.items():
        for method in methods:
            gen = None if seed is None else torch.Generator().manual_seed(seed)
            df = accuracy_drop_curve(model, data, method=method, generator=gen, **kwargs)
            df.insert(0, "method", method)
            df.insert(0, "training", training)
            frames.append(df)
    return pd.concat(frames, ignore_index=True)


def auc_table(df: pd.DataFrame, by: Iterable[str] = ("training", "method")) -> pd.DataFrame:
    """AUC per group of a tidy accuracy-drop DataFrame (e.g. from :func:`accuracy_drop_table`).

    Several rows per level within a group (e.g. seeds) are averaged first."""
    by = [c for c in by if c in df.columns]
    rows = []
    groups = df.groupby(by, sort=False) if by else [((), df)]
    for key, g in groups:
        mean = g.groupby("level", as_index=False)["accuracy"].mean()
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key, strict=True)), "auc": auc(mean)})
    return pd.DataFrame(rows)


def accuracy(model: nn.Module, data, batch_size: int = 256, device=None) -> float:
    """Plain test accuracy (%) of ``model`` on ``data`` (eval mode, no grad).

    ``data``: a dataset (``.x``, ``.y``) or an ``(x, y)`` pair of tensors.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from saliency_lib.api import accuracy
    >>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 2, bias=False))
    >>> with torch.no_grad():
    ...     _ = model[1].weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0]]))
    >>> x = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [1.0, 0, 0, 0]]).reshape(3, 1, 2, 2)
    >>> accuracy(model, (x, torch.tensor([0, 1, 1])))  # the third is wrong
    66.66666666666667
    """
    x, y = unpack_data(data)
    dev = model_device(model, device)
    correct = 0
    with eval_mode(model), torch.no_grad():
        for start in range(0, len(x), batch_size):
            out = model(x[start : start + batch_size].to(dev))
            correct += int((out.argmax(1).cpu() == y[start : start + batch_size]).sum())
    return 100.0 * correct / len(x) if len(x) else float("nan")
