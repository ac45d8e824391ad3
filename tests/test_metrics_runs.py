"""Motivation class split, K statistics, gradient distributions and seed statistics."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from saliency_lib.metrics import (
    classify_curves,
    gradient_distribution,
    k_statistics,
    k_table,
    motivation_curves,
    paired_comparison,
    scale_per_sample,
    seed_summary,
    seed_table,
)

# ----------------------------------------------------------------------------- motivation
LEVELS = [0, 25, 50, 75, 100]
CURVES = np.array(
    [
        [0.9, 0.8, 0.5, 0.2, 0.1],  # class I, peak 25 (first maximum over x > 0)
        [0.5, 0.505, 0.52, 0.3, 0.1],  # class II (gain 0.02), peak exactly at 50 -> "after"
        [0.5, 0.6, 0.4, 0.6, 0.2],  # class II, peak 25 (first of two equal maxima) -> before
        [0.25, 0.2578125, 0.2, 0.1, 0.0],  # gain exactly epsilon -> class I (strict ">")
        [0.2, 0.1, 0.1, 0.3, 0.5],  # class II, peak 100 -> after
    ]
)


def test_classify_curves_crafted():
    df = classify_curves(CURVES, LEVELS, epsilon=0.0078125)
    assert df["class"].tolist() == ["I", "II", "II", "I", "II"]
    assert df["peak_level"].tolist() == [25, 50, 25, 25, 100]
    assert df["peak"].tolist() == ["before", "after", "before", "before", "after"]
    np.testing.assert_allclose(df["gain"], [-0.1, 0.02, 0.1, 0.0078125, 0.3])
    # a larger epsilon moves the 0.02-gain image to class I
    assert classify_curves(CURVES, LEVELS, epsilon=0.05)["class"].tolist() == [
        "I", "I", "II", "I", "II"
    ]  # fmt: skip
    with pytest.raises(ValueError):
        classify_curves(CURVES[:, 1:], LEVELS[1:])


def test_motivation_curves_on_a_model():
    # logit_1 - logit_0 = a - b for pixels a (position 0) and b (position 1): both have the
    # same |gradient| (the tie is broken in pixel order, so a goes first), positions 2 and 3
    # have zero gradient. Every curve is known exactly.
    lin = nn.Linear(4, 2, bias=False)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.0, 0.0, 0, 0], [1.0, -1.0, 0, 0]]))
    model = nn.Sequential(nn.Flatten(), lin)
    x = torch.tensor([[1.0, -1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]]).reshape(2, 1, 2, 2)
    y = torch.tensor([1, 1])
    res = motivation_curves(model, (x, y), levels=[0, 25, 50, 100], value=0.0)
    sig = torch.sigmoid
    # image 0: logit diff 2 -> (pixel 0 removed) -1 ... -> 0 -> 0
    np.testing.assert_allclose(res.probs[0], [sig(torch.tensor(2.0)), sig(torch.tensor(1.0)),
                                              0.5, 0.5], rtol=1e-6)  # fmt: skip
    # image 1: diff 0 -> removing pixel 0 gives -1 -> both removed 0
    np.testing.assert_allclose(res.probs[1], [0.5, sig(torch.tensor(-1.0)), 0.5, 0.5],
                               rtol=1e-6)  # fmt: skip
    assert res.classes["class"].tolist() == ["I", "I"]
    assert res.summary["n"] == 2 and res.summary["share_class_ii"] == 0.0
    curves = res.curves
    assert list(curves.columns) == ["image", "level", "prob", "class", "peak"]
    assert len(curves) == 8
    assert set(res.mean_curves()["group"]) == {"class I"}


def test_motivation_summary_counts():
    from saliency_lib.metrics import summarize_classes

    s = summarize_classes(classify_curves(CURVES, LEVELS, epsilon=0.0078125))
    assert s["n"] == 5 and s["n_class_ii"] == 3 and s["share_class_ii"] == pytest.approx(0.6)
    assert s["n_class_ii_peak_before_50"] == 1 and s["n_class_ii_peak_after_50"] == 2


# ----------------------------------------------------------------------------- K statistics
def _history(method, ks, phase="traditional"):
    return [
        {"epoch": e + 1, "train_loss": 1.0, "train_acc": 50.0, "test_acc": 50.0, "phase": phase,
         "k_min": k[0], "k_median": k[1], "k_max": k[2], "seconds": 1.0}
        for e, k in enumerate(ks)
    ]  # fmt: skip


def test_k_statistics_smoot_from_k_history():
    kh = torch.tensor([[392, 392, 392, 392, 392], [300, 500, 388, 234, 544],
                       [234, 388, 544, 390, 300]], dtype=torch.int64)  # fmt: skip
    run = SimpleNamespace(
        history=_history("smoot", [(392, 392, 392), (234, 388, 544), (234, 388, 544)], "smoot"),
        k_history=kh, config=SimpleNamespace(method="smoot"),
    )  # fmt: skip
    st = k_statistics(run)
    assert (st.min, st.median, st.max) == (234, 388, 544)
    assert st.source == "k_history" and st.method == "smoot"
    t = st.trajectory
    assert t["epoch"].tolist() == [1, 2, 3]
    assert t["median"].tolist() == [392, 388, 388]
    assert t["min"].tolist() == [392, 234, 234] and t["max"].tolist() == [392, 544, 544]
    assert t["q25"].tolist() == [392, 300, 300] and t["q75"].tolist() == [392, 500, 390]
    np.testing.assert_array_equal(st.final, kh[-1].numpy())
    # even count: numpy median (mean of the two middle values)
    run.k_history = torch.tensor([[1, 2, 3, 10]])
    assert k_statistics(run).median == 2.5


def test_k_statistics_sgt_traditional_and_hlgm():
    sgt = SimpleNamespace(history=_history("sgt", [(392,) * 3] * 4, "sgt"), k_history=None,
                          config=SimpleNamespace(method="sgt"))  # fmt: skip
    assert k_statistics(sgt).as_dict() == {"min": 392, "median": 392, "max": 392}
    assert k_statistics(sgt).source == "history"
    trad = SimpleNamespace(history=_history("traditional", [(0, 0, 0)] * 2), k_history=None,
                           config=SimpleNamespace(method="traditional"))  # fmt: skip
    assert k_statistics(trad).as_dict() == {"min": 0, "median": 0, "max": 0}
    bare = SimpleNamespace(history=[{"epoch": 1, "test_acc": 1.0}], k_history=None,
                           config=SimpleNamespace(method="traditional"))  # fmt: skip
    assert k_statistics(bare).as_dict() == {"min": 0, "median": 0, "max": 0}
    hlgm = SimpleNamespace(history=_history("hlgm", [(0, 0, 0), (157, 157, 157),
                                                     (392, 392, 392)]),
                           k_history=None, config=SimpleNamespace(method="hlgm"))  # fmt: skip
    st = k_statistics(hlgm)
    assert st.median == 392 and st.trajectory["median"].tolist() == [0, 157, 392]
    with pytest.raises(ValueError):
        k_statistics(SimpleNamespace(history=[{"epoch": 1}], k_history=None,
                                     config=SimpleNamespace(method="smoot")))  # fmt: skip
    table = k_table({"Traditional": trad, "SGT": sgt})
    assert table.loc["SGT", "median"] == 392 and table.loc["Traditional", "max"] == 0


# ----------------------------------------------------------------------------- gradients
def test_gradient_distribution_scaled_per_sample():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(36, 3))
    x = torch.randn(10, 1, 6, 6)
    y = torch.randint(0, 3, (10,))
    df = gradient_distribution(model, (x, y), n=4, label="SGT")
    assert len(df) == 4 * 36
    assert set(df.columns) == {"sample", "target", "position", "value", "label"}
    assert (df["label"] == "SGT").all() and df["sample"].unique().tolist() == [0, 1, 2, 3]
    assert df["value"].between(-1, 1).all()
    assert np.allclose(df.groupby("sample")["value"].agg(lambda v: v.abs().max()), 1.0)
    assert (df["value"] < 0).any()  # signed by default
    df2 = gradient_distribution(model, (x, y), indices=[7, 2])
    assert df2["sample"].unique().tolist() == [7, 2]
    z = scale_per_sample(torch.zeros(2, 3, 3))
    assert torch.equal(z, torch.zeros(2, 3, 3, dtype=torch.float64))


# ----------------------------------------------------------------------------- seeds
def test_seed_summary_against_scipy():
    v = [93.6, 93.35, 93.65, 92.9, 94.1]
    s = seed_summary(v)
    lo, hi = stats.t.interval(0.95, len(v) - 1, loc=np.mean(v), scale=stats.sem(v))
    assert s["n"] == 5 and s["mean"] == pytest.approx(np.mean(v))
    assert s["std"] == pytest.approx(np.std(v, ddof=1))
    assert (s["ci_low"], s["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    one = seed_summary([5.0])
    assert one["mean"] == 5.0 and one["n"] == 1 and np.isnan(one["std"])
    assert np.isnan(one["ci_low"])
    # known numbers: 1, 2, 3, 4 -> std 1.2910, t(0.975, 3) = 3.18245
    s = seed_summary([1, 2, 3, 4])
    assert s["half_width"] == pytest.approx(3.182446305 * 1.290994449 / 2, rel=1e-8)


def test_paired_comparison_against_scipy():
    a = np.array([99.40, 99.35, 99.42, 99.30])
    b = np.array([99.10, 99.20, 99.25, 99.05])
    r = paired_comparison(a, b)
    d = a - b
    lo, hi = stats.t.interval(0.95, 3, loc=d.mean(), scale=stats.sem(d))
    assert r["mean_diff"] == pytest.approx(d.mean()) and r["n"] == 4
    assert (r["ci_low"], r["ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert r["p_value"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
    single = paired_comparison([1.0], [0.5])
    assert single["mean_diff"] == 0.5 and np.isnan(single["p_value"]) and single["n"] == 1
    with pytest.raises(ValueError):
        paired_comparison([1, 2], [1])


def test_seed_table():
    import pandas as pd

    df = pd.DataFrame({"method": ["a"] * 3 + ["b"] * 2, "acc": [1.0, 2.0, 3.0, 5.0, 7.0]})
    t = seed_table(df, "acc", ["method"])
    assert t["mean"].tolist() == [2.0, 6.0] and t["n"].tolist() == [3, 2]


def test_gini_index_extremes_and_scale_invariance():
    from saliency_lib.metrics import gini_index

    n = 16
    uniform = torch.ones(1, 4, 4)
    one_hot = torch.zeros(1, 4, 4)
    one_hot[0, 2, 1] = -5.0  # |saliency|: the sign does not matter
    g = gini_index(torch.cat([uniform, one_hot, torch.zeros(1, 4, 4)]))
    assert g[0] == pytest.approx(0.0, abs=1e-12)
    assert g[1] == pytest.approx(1 - 1 / n)
    assert np.isnan(g[2])
    r = torch.rand(3, 5, 5, generator=torch.Generator().manual_seed(0))
    assert np.allclose(gini_index(r), gini_index(7 * r))
    # a map with mass moved toward fewer positions is sparser
    spread, peaked = torch.tensor([[1.0, 1, 1, 1]]), torch.tensor([[0.1, 0.1, 0.1, 3.7]])
    assert gini_index(peaked)[0] > gini_index(spread)[0]


def test_seed_summary_needs_three_seeds_and_clips_to_range():
    two = seed_summary([99.0, 100.0], bounds=(0, 100))
    assert np.isnan(two["ci_low"]) and two["values"] == [99.0, 100.0]
    three = seed_summary([99.0, 100.0, 100.0], bounds=(0, 100))
    assert three["ci_high"] == 100.0 and three["ci_low"] < 99.0
