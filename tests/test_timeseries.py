"""Time series (SGT section 5.3): the benchmark generator, the box precision/recall metric, SGT
masking of (time, feature) cells, the time-series models, and the claims."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from saliency_lib.data import get_dataset
from saliency_lib.data.timeseries import (
    BENCHMARK_DATASETS,
    DATASET_NAMES,
    LAYOUTS,
    make_timeseries,
)
from saliency_lib.masking import mask
from saliency_lib.methods import get_method
from saliency_lib.metrics import box_mask
from saliency_lib.metrics.timeseries import (
    area,
    box_scores,
    permute_features,
    precision_recall,
    removal_sets,
)
from saliency_lib.models import create_model
from saliency_lib.studies import timeseries as ts
from saliency_lib.trainer import make_optimizer, train_step

SMALL = {"n_train": 40, "n_test": 20, "scaling": "none"}


# --- generator --------------------------------------------------------------------------------
def test_ten_benchmark_layouts_and_fig6_layouts_registered():
    assert len(BENCHMARK_DATASETS) == 10
    for name in list(DATASET_NAMES.values()):
        ds = get_dataset(name, "test", n_test=5, n_train=5)
        assert ds.x.shape == (5, 1, 50, 50) and ds.boxes.shape == (5, 4)


@pytest.mark.parametrize("layout", ["Middle", "SmallMiddle", "RareTime", "RareFeature"])
def test_fixed_boxes_match_the_benchmark(layout):
    lay = LAYOUTS[layout]
    ds = make_timeseries(layout, "train", **SMALL)
    f0, t0 = lay.feature_start, lay.time_start
    expected = [f0, t0, f0 + lay.feature_extent, t0 + lay.time_extent]
    assert (ds.boxes == torch.tensor(expected)).all()


@pytest.mark.parametrize(
    "layout", ["Moving_Middle", "Moving_SmallMiddle", "Moving_RareTime", "Moving_RareFeature"]
)
def test_moving_boxes_have_the_extent_and_move(layout):
    lay = LAYOUTS[layout]
    ds = make_timeseries(layout, "train", **{**SMALL, "n_train": 200})
    b = ds.boxes
    assert ((b[:, 2] - b[:, 0]) == lay.feature_extent).all()
    assert ((b[:, 3] - b[:, 1]) == lay.time_extent).all()
    assert (b[:, :2] >= 0).all() and (b[:, 2] <= 50).all() and (b[:, 3] <= 50).all()
    assert len(set(b[:, 1].tolist())) > 5 and len(set(b[:, 0].tolist())) > 5


def test_positional_layouts_carry_the_class_in_the_position():
    pt = make_timeseries("PositionalTime", "train", **{**SMALL, "n_train": 100})
    f0 = pt.boxes[:, 0]
    assert (f0[pt.y == 1] == 1).all() and (f0[pt.y == 0] == 29).all()
    pf = make_timeseries("PositionalFeature", "train", **{**SMALL, "n_train": 100})
    t0 = pf.boxes[:, 1]
    assert (t0[pf.y == 1] == 1).all() and (t0[pf.y == 0] == 29).all()


def test_fig6_boxes_are_early_middle_late():
    starts = [make_timeseries(n, "test", **SMALL).boxes[0, 1].item()
              for n in ("TimeEarly", "TimeMiddle", "TimeLate")]  # fmt: skip
    assert starts[0] < starts[1] < starts[2]


def test_label_shift_only_inside_the_box():
    ds = make_timeseries("Moving_Middle", "train", **{**SMALL, "n_train": 400})
    x = ds.x[:, 0].double()
    inside = box_mask(ds.boxes, 50, 50)
    pos, neg = ds.y == 1, ds.y == 0
    assert x[pos][inside[pos]].mean() == pytest.approx(1.0, abs=0.05)
    assert x[neg][inside[neg]].mean() == pytest.approx(-1.0, abs=0.05)
    for group in (pos, neg):
        outside = x[group][~inside[group]]
        assert outside.mean() == pytest.approx(0.0, abs=0.02)
        assert outside.std() == pytest.approx(1.0, abs=0.02)


def test_generator_is_deterministic_and_seeded():
    a = get_dataset("ts_rare_time", "train", seed=3, n_train=50)
    b = get_dataset("ts_rare_time", "train", seed=3, n_train=50)
    c = get_dataset("ts_rare_time", "train", seed=4, n_train=50)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.x, c.x)
    assert a.provenance["sha256"] == b.provenance["sha256"]
    test = get_dataset("ts_rare_time", "test", seed=3, n_train=50)
    assert not torch.equal(a.x[: len(test)], test.x)


def test_minmax_scaling_is_fitted_on_train():
    train = get_dataset("ts_middle", "train", n_train=200)
    assert train.x.amin(0).eq(0).all() and train.x.amax(0).eq(1).all()
    test = get_dataset("ts_middle", "test", n_train=200)
    raw_tr = make_timeseries("Middle", "train", n_train=200, scaling="none").x
    raw_te = make_timeseries("Middle", "test", n_train=200, scaling="none").x
    lo, hi = raw_tr.amin(0), raw_tr.amax(0)
    assert torch.allclose(test.x, (raw_te - lo) / (hi - lo), atol=1e-5)


def test_bad_shape_is_rejected_early():
    with pytest.raises(ValueError, match="time_steps"):
        get_dataset("ts_middle", "train", time_steps=40, features=50)


# --- metric -----------------------------------------------------------------------------------
def _box4():
    box = torch.zeros(1, 4, 4, dtype=torch.bool)
    box[0, :2, :2] = True
    return box


def test_removal_sets_reach_the_mass_share():
    s = torch.tensor([[4.0, 3.0, 2.0, 1.0]])
    sets = removal_sets(s, [0.1, 0.4, 0.5, 0.75, 0.95])  # cumulative 4, 7, 9, 10 of 10
    assert sets[0].sum(1).tolist() == [1, 1, 2, 3, 4]
    assert sets[0, 2].tolist() == [True, True, False, False]


def test_aup_aur_of_a_perfect_map_known_answer():
    box = _box4()
    maps = box.double()  # saliency 1 inside the box, 0 outside
    p, r = precision_recall(maps, box)
    assert torch.allclose(p, torch.ones(9, dtype=torch.float64))
    # 1 cell covers 25 % of the mass, 2 cells 50 %, 3 cells 75 %, 4 cells 100 %
    expected_r = [0.25, 0.25, 0.5, 0.5, 0.5, 0.75, 0.75, 1.0, 1.0]
    assert torch.allclose(r, torch.tensor(expected_r, dtype=torch.float64))
    assert area(p) == pytest.approx(0.8)
    assert area(r) == pytest.approx(0.1 * (sum(expected_r) - (0.25 + 1.0) / 2))


def test_weighted_precision_on_a_mixed_map():
    box = _box4()
    maps = torch.zeros(1, 4, 4, dtype=torch.float64)
    maps[0, 0, 0] = 1.0  # in the box, top
    maps[0, 3, 3] = 0.5  # outside, second
    p, r = precision_recall(maps, box, levels=[0.5, 0.9])
    # 50 %: only the top cell (1 of 1.5 = 67 %) -> P = 1, R = 1; 90 %: both -> P = 1 / 1.5
    assert p.tolist() == pytest.approx([1.0, 1 / 1.5])
    assert r.tolist() == pytest.approx([1.0, 1.0])


def test_random_baseline_of_a_feature_constant_map_gives_zero_diff():
    box = torch.zeros(3, 6, 6, dtype=torch.bool)
    box[:, 2:4, :] = True
    maps = torch.arange(6.0)[None, :, None].expand(3, 6, 6).clone()  # depends on time only
    scores = box_scores(maps, box, generator=torch.Generator().manual_seed(0))
    assert scores.diff_aup == pytest.approx(0.0) and scores.diff_aur == pytest.approx(0.0)
    perm = permute_features(maps, torch.Generator().manual_seed(1))
    assert torch.equal(perm, maps)


def test_box_map_beats_its_feature_permutation():
    ds = make_timeseries("RareFeature", "test", **SMALL)
    box = box_mask(ds.boxes, 50, 50)
    maps = box.double() + 0.01 * torch.rand(box.shape, generator=torch.Generator().manual_seed(0))
    scores = box_scores(maps, box, generator=torch.Generator().manual_seed(0))
    assert scores.diff_aup > 0.5 and scores.diff_aur > 0.1


# --- SGT masking of time-series cells ----------------------------------------------------------
def test_uniform_feature_fill_masks_single_cells_within_each_feature_range():
    ds = make_timeseries("Middle", "train", **SMALL)
    x = ds.x[:8]
    scores = torch.rand(8, 50, 50, generator=torch.Generator().manual_seed(0))
    k = 1250
    out = mask(x, scores, k, "bottom", "uniform_feature",
               generator=torch.Generator().manual_seed(0))  # fmt: skip
    changed = out != x
    assert changed.shape == x.shape
    assert (changed[:, 0].reshape(8, -1).sum(1) == k).all()  # single (time, feature) cells
    lo, hi = x.amin(2, keepdim=True), x.amax(2, keepdim=True)  # per sample, per feature
    assert (out >= lo - 1e-6).all() and (out <= hi + 1e-6).all()
    lowest = scores.reshape(8, -1).argsort(dim=1, stable=True)[:, :k]
    assert changed[:, 0].reshape(8, -1).gather(1, lowest).all()


def test_sgt_step_on_a_time_series_batch_uses_cells():
    ds = make_timeseries("Middle", "train", **SMALL)
    torch.manual_seed(0)
    model = create_model("lstm", num_classes=2, in_channels=1, image_size=50)
    method = get_method("sgt", k_fraction=0.5, fill="uniform_feature")
    method.setup(len(ds), 50 * 50, 2, "cpu")
    assert method.k == 1250
    opt = make_optimizer("adam", model.parameters(), 1e-3)
    before = [p.detach().clone() for p in model.parameters()]
    out = train_step(model, method, opt, ds.x[:16], ds.y[:16], torch.arange(16))
    assert torch.isfinite(out.loss) and out.logits.shape == (16, 2)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


# --- models -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name", ["lstm", "lstm_cell_attention", "tcn", "transformer", "lstm_mnist", "tcn_mnist"]
)
def test_model_output_shape_and_training_step(name):
    size = 28 if name.endswith("_mnist") else 50
    classes = 10 if name.endswith("_mnist") else 2
    torch.manual_seed(0)
    model = create_model(name, num_classes=classes, in_channels=1, image_size=size)
    x = torch.rand(6, 1, size, size)
    y = torch.arange(6) % classes
    assert model(x).shape == (6, classes)
    method = get_method("traditional")
    method.setup(6, size * size, classes, "cpu")
    opt = make_optimizer("adam", model.parameters(), 1e-3)
    before = [p.detach().clone() for p in model.parameters()]
    out = train_step(model, method, opt, x, y, torch.arange(6))
    assert torch.isfinite(out.loss)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_models_reject_images():
    with pytest.raises(ValueError, match="in_channels"):
        create_model("tcn", num_classes=2, in_channels=3, image_size=50)
    model = create_model("lstm", num_classes=2, in_channels=1, image_size=50)
    with pytest.raises(ValueError, match=r"\(B, 1, T, F\)"):
        model(torch.rand(2, 50, 50))


def test_cell_attention_is_causal():
    torch.manual_seed(0)
    model = create_model("lstm_cell_attention", num_classes=2, in_channels=1, image_size=50)
    seq = torch.rand(2, 50, 50)
    m1 = model.attended_inputs(seq)
    seq2 = seq.clone()
    seq2[:, 30:] += 1.0  # changing the future leaves earlier attended inputs unchanged
    m2 = model.attended_inputs(seq2)
    assert torch.allclose(m1[:, :30], m2[:, :30]) and not torch.allclose(m1[:, 30:], m2[:, 30:])


# --- captum support and claims ------------------------------------------------------------------
def test_unsupported_pairs_are_explicit():
    assert "nn.LSTM" in ts.unsupported_reason("lstm", "deeplift")
    assert ts.unsupported_reason("lstm_mnist", "deepshap") is not None
    assert ts.unsupported_reason("tcn", "deeplift") is None
    assert ts.unsupported_reason("lstm", "ig") is None


def _per_seed(tcn_ig_sgt: float):
    rows = []
    for seed in range(3):
        for arch in ("lstm", "tcn"):
            for sal in ("grad", "ig"):
                for meth, base in (("traditional", 0.0), ("sgt", 0.05)):
                    v = base + (0.1 if arch == "tcn" else 0.0) + 0.01 * seed
                    v += 0.003 * seed**2 if meth == "sgt" else 0.0  # paired differences vary
                    if (arch, sal, meth) == ("tcn", "ig", "sgt"):
                        v = tcn_ig_sgt
                    rows.append({"architecture": arch, "saliency": sal, "method": meth,
                                 "seed": seed, "diff_aup": v, "diff_aur": v})  # fmt: skip
    return pd.DataFrame(rows)


def test_tab2_claims_follow_the_numbers():
    claims = {c["id"]: c for c in ts.timeseries_claims("tab2", _per_seed(0.9))}
    best = claims["sgt_tab2_tcn_ig_best:diff_aup"]
    assert best["verdict"] == "holds" and len(best["per_seed"]) == 3
    assert claims["sgt_tab2_precision_recall_up:diff_aup_lstm"]["verdict"] == "holds"
    claims = {c["id"]: c for c in ts.timeseries_claims("tab2", _per_seed(-0.5))}
    assert claims["sgt_tab2_tcn_ig_best:diff_aur"]["verdict"] == "does not hold"
    assert all({"id", "claim", "verdict", "reason", "note"} <= set(c) for c in claims.values())


def test_fig6_claims_follow_the_numbers():
    dsets = ["ts_time_early", "ts_time_middle", "ts_time_late"]
    rows = []
    for seed in range(3):
        for i, ds in enumerate(dsets):
            rows.append({"dataset": ds, "method": "traditional", "seed": seed, "saliency": "grad",
                         "aup": 0.1 * i * (1 + 0.1 * seed), "aur": 0.1 * i * (1 + 0.1 * seed),
                         "skipped": None})  # fmt: skip
            rows.append({"dataset": ds, "method": "sgt", "seed": seed, "saliency": "grad",
                         "aup": 0.3, "aur": 0.3, "skipped": None})  # fmt: skip
    claims = {c["id"]: c for c in ts.timeseries_claims("fig6", pd.DataFrame(rows), datasets=dsets)}
    assert claims["sgt_fig6_trad_time_bias:aup"]["verdict"] == "holds"
    assert claims["sgt_fig6_sgt_no_time_bias:aur"]["verdict"] == "holds"
    assert claims["sgt_fig6_sgt_no_time_bias:aup"]["per_seed"][0] == pytest.approx(0.2)


def test_paper_table2_numbers_are_loaded():
    paper = ts.paper_table2()
    assert paper[("diff_aup", "tcn", "ig", "sgt")] == pytest.approx(0.291)
    assert paper[("diff_aur", "lstm", "grad", "traditional")] == pytest.approx(-0.017)
    assert len(paper) == 2 * 4 * 6 * 2
    assert not any(math.isnan(v) for v in paper.values())


def test_fig6_claims_leave_out_seeds_with_untrained_models():
    dsets = ["ts_time_early", "ts_time_late"]
    rows = [{"dataset": ds, "method": m, "seed": 0, "saliency": "grad", "aup": 0.1 * i,
             "aur": 0.1 * i, "skipped": None, "accuracy": 50.0 if i == 0 else 100.0}
            for i, ds in enumerate(dsets) for m in ("traditional", "sgt")]  # fmt: skip
    claims = ts.timeseries_claims("fig6", pd.DataFrame(rows), datasets=dsets, min_accuracy=90.0)
    assert all(c["verdict"] == "not testable here" for c in claims)
    assert "seeds whose every model reaches 90 % test accuracy = 0" in claims[0]["reason"]
    assert "ts_time_early traditional s0 50 %" in claims[0]["note"]


def test_time_bias_layouts_scale_with_the_sample_size():
    early = get_dataset("ts_time_early", "test", time_steps=20, features=20, n_train=10, n_test=4)
    late = get_dataset("ts_time_late", "test", time_steps=20, features=20, n_train=10, n_test=4)
    assert early.boxes[0].tolist() == [6, 0, 14, 4] and late.boxes[0].tolist() == [6, 16, 14, 20]


# --- tie-breaking and the random baseline -------------------------------------------------------
def _tied_map_with_two_boxes():
    """Every cell has saliency 1: the removal order is the tie order alone. Box = first time step
    (early) or last time step (late); 6 x 6 cells."""
    maps = torch.ones(1, 6, 6)
    early = torch.zeros(1, 6, 6, dtype=torch.bool)
    early[:, 0, :] = True
    late = torch.zeros(1, 6, 6, dtype=torch.bool)
    late[:, -1, :] = True
    return maps, early, late


def test_ties_first_and_last_favour_early_and_late_cells():
    maps, early, late = _tied_map_with_two_boxes()
    levels = [1 / 6]  # the first 6 of 36 cells
    p_first_early, _ = precision_recall(maps, early, levels, normalise=False, ties="first")
    p_last_late, _ = precision_recall(maps, late, levels, normalise=False, ties="last")
    p_last_early, _ = precision_recall(maps, early, levels, normalise=False, ties="last")
    assert p_first_early.item() == pytest.approx(1.0) and p_last_late.item() == pytest.approx(1.0)
    assert p_last_early.item() == pytest.approx(0.0)


def test_random_ties_are_neutral_in_time_and_seeded():
    maps, early, late = _tied_map_with_two_boxes()
    maps = maps.expand(200, 6, 6)
    early, late = early.expand(200, 6, 6), late.expand(200, 6, 6)
    levels = [0.5]

    def prec(box, seed):
        gen = torch.Generator().manual_seed(seed)
        return precision_recall(maps, box, levels, normalise=False, generator=gen)[0].item()

    # one random order for all samples: early and late boxes get 1/6 in expectation
    vals = [prec(early, s) for s in range(40)] + [prec(late, s) for s in range(40)]
    assert 0.1 < sum(vals[:40]) / 40 < 0.23 and 0.1 < sum(vals[40:]) / 40 < 0.23
    assert prec(early, 3) == prec(early, 3)
    with pytest.raises(ValueError, match="ties must be one of"):
        removal_sets(maps, levels, ties="earliest")


def test_ties_do_not_matter_without_equal_values():
    g = torch.Generator().manual_seed(0)
    maps = torch.rand(5, 8, 8, generator=g)
    box = torch.zeros(5, 8, 8, dtype=torch.bool)
    box[:, 2:5, 1:4] = True
    results = [precision_recall(maps, box, ties=t)[0] for t in ("first", "last", "random")]
    assert torch.equal(results[0], results[1]) and torch.equal(results[0], results[2])


def test_box_scores_baseline_maps_are_permuted_not_own():
    ds = make_timeseries("RareFeature", "test", **SMALL)
    box = box_mask(ds.boxes, 50, 50)
    good = box.double() + 0.01 * torch.rand(box.shape, generator=torch.Generator().manual_seed(0))
    flat = torch.arange(50.0)[None, :, None].expand_as(good).clone()  # feature permutation: itself
    own = box_scores(good, box, generator=torch.Generator().manual_seed(1))
    other = box_scores(good, box, generator=torch.Generator().manual_seed(1), baseline_maps=flat)
    assert other.aup == own.aup and other.random_aup != own.random_aup
    flat_alone = box_scores(flat, box, generator=torch.Generator().manual_seed(1))
    assert other.random_aup == pytest.approx(flat_alone.random_aup)


class _FakeRun:
    """The part of a stored run that evaluate_runs reads."""

    def __init__(self, model, config):
        self.model, self.config, self.best_test_acc = model, config, 100.0

    def best_model(self):
        return self.model.eval()


def _fake_runs(arch: str = "tcn"):
    from saliency_lib.config import RunConfig

    torch.manual_seed(0)
    cfg = RunConfig(dataset="ts_middle", dataset_params={"n_train": 8, "n_test": 6},
                    model=arch, optimizer="adam", lr=1e-3)  # fmt: skip
    model = create_model(arch, num_classes=2, in_channels=1, image_size=50)
    return {("ts_middle", arch, "traditional", 0): _FakeRun(model, cfg)}


def test_benchmark_random_baseline_is_one_permuted_map_per_run():
    runs = _fake_runs()
    sals = ["grad", "ig", "deeplift"]
    opts = {"ig": {"n_steps": 4}}
    bench = ts.evaluate_runs(runs, sals, opts, progress=False)
    assert bench["random_aup"].nunique() == 1 and bench["random_source"].nunique() == 1
    assert bench["random_source"].iloc[0] in sals
    own = ts.evaluate_runs(runs, sals, opts, progress=False, random_baseline="own")
    assert own["random_source"].tolist() == sals
    assert own["aup"].tolist() == bench["aup"].tolist()  # only the baseline differs
    again = ts.evaluate_runs(runs, sals, opts, progress=False)
    assert again["diff_aup"].tolist() == bench["diff_aup"].tolist()
    with pytest.raises(ValueError, match="random_baseline must be one of"):
        ts.evaluate_runs(runs, sals, opts, progress=False, random_baseline="shuffled")


# --- DeepLIFT completeness per reported (architecture, method) pair ------------------------------
def _scaled(name: str, size: int, classes: int):
    """A network whose outputs are not tiny (the benchmark TCN starts from N(0, 0.01) weights)."""
    torch.manual_seed(0)
    model = create_model(name, num_classes=classes, in_channels=1, image_size=size).eval()
    factor = 30.0 if name.startswith("tcn") else 3.0
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.mul_(factor)
    return model


@pytest.mark.parametrize(
    "name,size,classes",
    [("tcn", 50, 2), ("tcn_mnist", 28, 10), ("cnn2", 28, 10)],  # Table 2, Fig. 5, SGT Fig. 3
)
@pytest.mark.parametrize("method", ["deeplift", "deepshap"])
def test_deeplift_family_is_complete_on_reported_networks(name, size, classes, method):
    from saliency_lib.saliency import attribute

    model = _scaled(name, size, classes)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(4, 1, size, size, generator=g)
    y = torch.randint(classes, (4,), generator=g)
    kw = {"n_baselines": 3} if method == "deepshap" else {}
    attr = attribute(model, x, y, method, abs=False, output="logit",
                     generator=torch.Generator().manual_seed(7), **kw)  # fmt: skip
    g = torch.Generator().manual_seed(7)  # the baselines attribute drew
    if method == "deeplift":
        lo, hi = x.amin(dim=(2, 3), keepdim=True), x.amax(dim=(2, 3), keepdim=True)
        base = lo + (hi - lo) * torch.rand(x.shape, generator=g)
        ref = model(base).gather(1, y[:, None])[:, 0]
    else:
        base = x.amin() + (x.amax() - x.amin()) * torch.rand((3, 1, size, size), generator=g)
        ref = model(base)[:, y].mean(0)
    with torch.no_grad():
        diff = model(x).gather(1, y[:, None])[:, 0] - ref
    assert diff.abs().min() > 1e-2  # a real difference to explain
    torch.testing.assert_close(attr.sum(dim=(1, 2)), diff, rtol=1e-4, atol=1e-4 * diff.abs().max())


def test_captum_alone_loses_completeness_at_relu_then_maxpool():
    """Why the package registers DeepLIFT's rules itself (captum 0.9.0, its issue 1104): the
    TCN's last ReLU feeds the max-pool directly, and captum's hooks read the pool's gradient
    before its rule rewrites it. If this fails, captum fixed it and the override can go."""
    from captum.attr import DeepLift

    model = _scaled("tcn", 50, 2)
    g = torch.Generator().manual_seed(1)
    x, b = torch.rand(4, 1, 50, 50, generator=g), torch.rand(4, 1, 50, 50, generator=g)
    y = torch.tensor([0, 1, 0, 1])
    attr = DeepLift(model).attribute(x, baselines=b, target=y)
    with torch.no_grad():
        diff = model(x).gather(1, y[:, None])[:, 0] - model(b).gather(1, y[:, None])[:, 0]
    assert ((attr.sum(dim=(1, 2, 3)) - diff).abs().max() / diff.abs().mean()) > 0.1
    from saliency_lib.saliency import deeplift_completeness

    assert deeplift_completeness(model, x, y, b) < 1e-4


def test_deeplift_on_the_transformer_is_reported_incomplete_and_skipped():
    from saliency_lib.saliency import deeplift_completeness

    model = _scaled("transformer", 50, 2)
    g = torch.Generator().manual_seed(1)
    x, b = torch.rand(4, 1, 50, 50, generator=g), torch.rand(4, 1, 50, 50, generator=g)
    assert deeplift_completeness(model, x, torch.tensor([0, 1, 0, 1]), b) > ts.COMPLETENESS_TOL
    rows = ts.evaluate_runs(_fake_runs("transformer"), ["grad", "deeplift"], progress=False)
    dl = rows[rows["saliency"] == "deeplift"].iloc[0]
    assert "not complete" in dl["skipped"] and dl["completeness_error"] > ts.COMPLETENESS_TOL
    assert rows[rows["saliency"] == "grad"]["skipped"].isna().all()
    tcn = ts.evaluate_runs(_fake_runs("tcn"), ["deeplift"], progress=False)
    assert tcn["skipped"].isna().all() and tcn["completeness_error"].iloc[0] < 1e-4
