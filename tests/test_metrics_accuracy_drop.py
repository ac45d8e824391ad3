"""Accuracy-drop curves, AUC and ROAR on problems with known answers."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from saliency_lib.masking import mask, select_positions
from saliency_lib.metrics import (
    accuracy,
    accuracy_drop_curve,
    accuracy_drop_table,
    auc,
    auc_table,
    roar,
    saliency_scores,
)
from saliency_lib.metrics._common import descending_ranks, positions_for_fraction
from saliency_lib.models import create_model
from saliency_lib.saliency import attribute

H = W = 8
# 16 informative positions (25 % of 64), scattered and not in pixel order.
INFORMATIVE = torch.tensor([3, 9, 10, 17, 22, 27, 30, 33, 36, 41, 44, 50, 53, 58, 61, 63])
P = len(INFORMATIVE)


def synthetic(n=200, prior0=0.3, seed=0):
    """Label carried only by the informative pixels (+1 for class 1, -1 for class 0); the other
    pixels are uniform noise that no model below looks at."""
    g = torch.Generator().manual_seed(seed)
    y = (torch.arange(n) >= round(prior0 * n)).long()
    y = y[torch.randperm(n, generator=g)]
    x = torch.rand(n, 1, H * W, generator=g) - 0.5
    x[:, 0, INFORMATIVE] = (2.0 * y - 1.0)[:, None]
    return x.reshape(n, 1, H, W), y


def linear_model():
    """Logit 1 - logit 0 = 0.2 * (sum of the informative pixels) - 1e-3: weights are non-zero
    only on the informative pixels, so |gradient| ranks them first; with all of them gone (set to
    the fill 0) the bias makes every prediction class 0."""
    lin = nn.Linear(H * W, 2)
    with torch.no_grad():
        lin.weight.zero_()
        lin.weight[1, INFORMATIVE] = 0.1
        lin.weight[0, INFORMATIVE] = -0.1
        lin.bias.copy_(torch.tensor([1e-3, 0.0]))
    return nn.Sequential(nn.Flatten(), lin)


# ----------------------------------------------------------------------------- AUC
def test_auc_of_hand_made_curves():
    levels = list(range(0, 101, 10))
    assert auc(levels, [100.0] * 11) == pytest.approx(100.0)
    assert auc(levels, [100.0 - lv for lv in levels]) == pytest.approx(50.0)
    assert auc([0, 100], [0, 0]) == 0.0
    # step: 100 until 50 %, then 0 -> trapezoid gives 50 + half of the 10 % ramp
    step = [100.0 if lv <= 50 else 0.0 for lv in levels]
    assert auc(levels, step) == pytest.approx(55.0)
    # unsorted levels and a DataFrame argument
    import pandas as pd

    df = pd.DataFrame({"level": [100, 0, 50], "accuracy": [0.0, 100.0, 50.0]})
    assert auc(df) == pytest.approx(50.0)
    # the SGT reference range 0-90 %: area over the given range only
    assert auc(range(0, 91, 10), [100.0] * 10) == pytest.approx(90.0)


def test_positions_round():
    assert positions_for_fraction(0.1, 784) == 78
    assert positions_for_fraction(0.5, 784) == 392
    assert positions_for_fraction(0.35, 100) == 35
    assert positions_for_fraction(0.125, 4) == 1  # 0.5 rounds up


# ----------------------------------------------------------------------------- ranking
def test_single_sort_ranks_equal_select_positions_with_ties():
    g = torch.Generator().manual_seed(1)
    scores = torch.randint(0, 4, (5, 6, 7), generator=g).float()  # many ties
    ranks = descending_ranks(scores).reshape(5, 6, 7)
    for k in range(0, 43):
        assert torch.equal(ranks < k, select_positions(scores, k, "top"))


def test_grad_fast_path_equals_attribute():
    torch.manual_seed(0)
    model = create_model("cnn2", 3, 1, 10).eval()
    x = torch.randn(6, 1, 10, 10)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    for output in ("log_prob", "logit"):
        fast = saliency_scores(model, (x, y), "grad", output=output)
        ref = attribute(model, x, y, "grad", abs=True, output=output)
        torch.testing.assert_close(fast, ref)


# ----------------------------------------------------------------------------- curves
def test_accuracy_drop_known_informative_pixels():
    x, y = synthetic()
    model = linear_model()
    prior0 = 100.0 * float((y == 0).float().mean())
    levels = [0, 10, 12.5, 20, 23.4375, 25, 30, 50, 100]  # 25 % = the 16 informative pixels
    df = accuracy_drop_curve(model, (x, y), "grad", levels, fill="constant", value=0.0)
    assert list(df.columns) == ["level", "accuracy", "n"]
    assert (df["n"] == len(x)).all()
    acc = dict(zip(df["level"], df["accuracy"], strict=True))
    for lv in (0, 10, 12.5, 20, 23.4375):  # k = 0, 6, 8, 13, 15 < 16: label still present
        assert acc[lv] == 100.0
    for lv in (25, 30, 50, 100):  # k >= 16: every informative pixel is gone
        assert acc[lv] == pytest.approx(prior0)
    assert df.attrs["k"] == [0, 6, 8, 13, 15, 16, 19, 32, 64]
    assert df.attrs["auc"] == pytest.approx(auc(df["level"], df["accuracy"]))


def test_accuracy_drop_uses_dataset_background_and_requires_value_for_pairs():
    x, y = synthetic(n=50)
    ds = SimpleNamespace(x=x, y=y, num_classes=2, background=0.0)
    df = accuracy_drop_curve(linear_model(), ds, levels=[0, 25])
    assert df["accuracy"].tolist()[0] == 100.0
    assert df["accuracy"].tolist()[1] < 100.0
    with pytest.raises(ValueError, match="value"):
        accuracy_drop_curve(linear_model(), (x, y), levels=[0, 25])
    with pytest.raises(ValueError, match="fill"):
        accuracy_drop_curve(linear_model(), ds, levels=[0, 25], fill="bogus")


def _reference_curve(model, x, y, scores, levels, fill, value, generator=None):
    """Brute force: masking.mask per level (its own sort), then the model's accuracy."""
    out = []
    for lv in levels:
        k = positions_for_fraction(lv / 100, x.shape[2] * x.shape[3])
        xm = mask(x, scores, k, "top", fill=fill, value=value, generator=generator)
        with torch.no_grad():
            out.append(100.0 * float((model(xm).argmax(1) == y).float().mean()))
    return out


@pytest.mark.parametrize("fill", ["constant", "mean"])
@pytest.mark.parametrize("method", ["grad", "ig"])
def test_accuracy_drop_matches_brute_force(method, fill):
    torch.manual_seed(0)
    model = create_model("cnn2", 3, 3, 8).eval()
    x = torch.randn(20, 3, 8, 8)
    with torch.no_grad():
        y = model(x).argmax(1)  # 100 % at level 0
    y[:5] = (y[:5] + 1) % 3
    value = torch.tensor([-0.4, 0.0, 0.3])  # per-channel background
    levels = range(0, 101, 20)
    kw = {"n_steps": 4} if method == "ig" else {}
    gen = torch.Generator().manual_seed(3)
    df = accuracy_drop_curve(
        model, (x, y), method, levels, fill=fill, value=value, batch_size=7,
        generator=gen, **kw,
    )  # fmt: skip
    gen = torch.Generator().manual_seed(3)
    scores = attribute(model, x, y, method, abs=True, generator=gen, batch_size=7, **kw)
    ref = _reference_curve(model, x, y, scores, levels, fill, value)
    np.testing.assert_allclose(df["accuracy"], ref)
    assert df["accuracy"].iloc[0] == pytest.approx(accuracy(model, (x, y)))


def test_accuracy_drop_other_fills_and_random_method():
    x, y = synthetic(n=40)
    model = linear_model()
    gen = torch.Generator().manual_seed(0)
    nl = accuracy_drop_curve(model, (x, y), levels=[0, 50, 100], fill="noisy_linear",
                             generator=gen)  # fmt: skip
    assert nl["accuracy"].iloc[0] == 100.0 and nl["accuracy"].notna().all()
    r1 = accuracy_drop_curve(model, (x, y), "random", [0, 30, 60], value=0.0,
                             generator=torch.Generator().manual_seed(5))  # fmt: skip
    r2 = accuracy_drop_curve(model, (x, y), "random", [0, 30, 60], value=0.0,
                             generator=torch.Generator().manual_seed(5))  # fmt: skip
    assert r1["accuracy"].tolist() == r2["accuracy"].tolist()
    assert model.training  # state restored (nn.Module default is train mode)


def test_accuracy_drop_table_and_auc_table():
    x, y = synthetic(n=40)
    models = {"a": linear_model(), "b": linear_model()}
    df = accuracy_drop_table(models, (x, y), methods=("grad", "random"), levels=[0, 50, 100],
                             value=0.0)  # fmt: skip
    assert set(df.columns) == {"training", "method", "level", "accuracy", "n"}
    assert len(df) == 2 * 2 * 3
    table = auc_table(df)
    assert len(table) == 4 and table["auc"].between(0, 100).all()


# ----------------------------------------------------------------------------- ROAR
class ClassMeans(nn.Module):
    """Nearest class mean: logit_c = -||x - mu_c||^2 (ties -> class 0 by argmax)."""

    def __init__(self, means):
        super().__init__()
        self.register_buffer("means", means)

    def forward(self, x):
        d = x.flatten(1)[:, None, :] - self.means[None]
        return -(d**2).sum(-1)


def test_roar_retrains_per_level():
    g = torch.Generator().manual_seed(0)

    def make(n):
        y = torch.randint(0, 2, (n,), generator=g)
        x = torch.zeros(n, 1, H * W)  # non-informative pixels constant: zero mean difference
        x[:, 0, INFORMATIVE] = (2.0 * y - 1.0)[:, None]
        return x.reshape(n, 1, H, W), y

    train, test = make(60), make(40)
    calls = []

    def train_fn(x_train, y_train):
        calls.append(len(x_train))
        flat = x_train.flatten(1)
        return ClassMeans(torch.stack([flat[y_train == c].mean(0) for c in (0, 1)]))

    prior0 = 100.0 * float((test[1] == 0).float().mean())
    levels = [0, 12.5, 25, 50]
    df = roar(train_fn, train, test, levels, fill="constant", value=0.0)
    assert df["level"].tolist() == levels
    assert df["accuracy"].tolist()[:2] == [100.0, 100.0]  # 8 informative pixels remain
    assert df["accuracy"].tolist()[2:] == pytest.approx([prior0, prior0])
    assert (df["n"] == 40).all()
    assert len(calls) == 1 + 3  # reference (also the 0 % model) + one per level with k > 0
    # mean fill (SGT's ROAR default): the image mean leaks the label, accuracy stays high
    df_mean = roar(train_fn, train, test, [0, 25], fill="mean")
    assert df_mean["accuracy"].iloc[1] == 100.0
