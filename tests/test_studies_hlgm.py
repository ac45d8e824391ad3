"""HLGM studies: plateau captions, Table II / III builders and claims, object share, SIB of
several runs (in-memory and lazy sets)."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from saliency_lib.data.dataset import ImageDataset
from saliency_lib.metrics import model_sib
from saliency_lib.studies import (
    beats_claim,
    box_area_share,
    claim_line,
    dataset_images,
    hlgm_accuracy_claims,
    hlgm_accuracy_table,
    hlgm_plateau_caption,
    hlgm_plateau_info,
    hlgm_sib_claims,
    hlgm_sib_table,
    object_share,
    object_share_claims,
    object_share_table,
    sib_by_run,
    sib_per_seed,
    top_share_in_mask,
)


def _run(phases, plateau):
    history = [{"epoch": i + 1, "phase": p, "test_acc": 50.0} for i, p in enumerate(phases)]
    return SimpleNamespace(history=history, plateau_epoch=plateau)


# ----------------------------------------------------------------------------- plateau
def test_plateau_info_and_caption():
    run = _run(["traditional"] * 3 + ["regularize"] * 2 + ["denoise"], 3)
    info = hlgm_plateau_info(run)
    assert info == {
        "plateau_epoch": 3, "reached": True, "epochs": 6, "phase2_epochs": 3,
        "phase_epochs": {"traditional": 3, "regularize": 2, "denoise": 1},
    }  # fmt: skip
    assert hlgm_plateau_caption(run) == "phase-1 plateau at epoch 3; HLGM phase 2 in epochs 4-6"
    never = _run(["traditional"] * 4, None)
    assert hlgm_plateau_info(never)["phase2_epochs"] == 0
    assert hlgm_plateau_caption(never).startswith("NO phase-1 plateau within 4 epochs")
    last = _run(["traditional"] * 4, 4)
    assert "no HLGM (phase-2) epoch was run" in hlgm_plateau_caption(last)


# ----------------------------------------------------------------------------- Table II
def _per_seed():
    rows = []
    acc = {  # method: [(best, final) per seed]
        "sgt": [(80.0, 79.0), (82.0, 81.0)],
        "hlgm": [(83.0, 80.0), (85.0, 80.5)],
        "baseline": [(82.0, 81.0), (82.0, 81.0)],
    }
    for m, values in acc.items():
        for seed, (best, final) in enumerate(values):
            rows.append({"method": m, "seed": seed, "best_accuracy": best, "accuracy": final})
    return pd.DataFrame(rows)


def test_accuracy_table_orders_methods_and_adds_the_paper():
    t = hlgm_accuracy_table(_per_seed(), "cnn2_cifar10")
    assert t["method"].tolist() == ["baseline", "sgt", "hlgm"]
    assert t["seeds"].tolist() == [2, 2, 2]
    assert t["acc (paper)"].tolist() == ["74.13", "73.34", "74.72"]
    hlgm = t.set_index("method").loc["hlgm"]
    assert hlgm["best test acc (ours)"].startswith("84.00 [")
    assert hlgm["final test acc (ours)"].startswith("80.25 [")
    one_seed = hlgm_accuracy_table(_per_seed().query("seed == 0"), "cnn2_fashion_mnist")
    assert one_seed["acc (paper)"].tolist() == ["-", "-", "-"]
    assert one_seed.set_index("method").loc["baseline", "best test acc (ours)"] == "82.00"


def test_beats_claim_means_seeds_ties_and_missing():
    ps = _per_seed()
    c = beats_claim(ps, "best_accuracy", "hlgm", "baseline", "x", "HLGM beats")
    assert c["holds"] is True and "hlgm 84.00 vs baseline 82.00 (+2.00)" in c["detail"]
    assert "higher in 2/2 seed(s)" in c["detail"] and "paired 95 % interval" in c["detail"]
    c = beats_claim(ps, "accuracy", "hlgm", "baseline", "x", "HLGM beats")
    assert c["holds"] is False  # 80.25 < 81
    tie = ps.assign(accuracy=1.0)
    assert beats_claim(tie, "accuracy", "hlgm", "sgt", "x", "")["holds"] is False
    assert (
        beats_claim(ps.query("method != 'sgt'"), "accuracy", "hlgm", "sgt", "x", "")["holds"]
        is None
    )


def test_accuracy_claims_ids_and_stuck_note():
    plateaus = {0: {"phase2_epochs": 0}, 1: {"phase2_epochs": 3}}
    claims = hlgm_accuracy_claims(_per_seed(), "s", plateaus)
    assert [c["id"] for c in claims] == [
        "hlgm_beats_baseline_best_s", "hlgm_beats_baseline_final_s",
        "hlgm_beats_sgt_best_s", "hlgm_beats_sgt_final_s",
    ]  # fmt: skip
    assert [c["holds"] for c in claims] == [True, False, True, True]
    assert all("seed(s) [0] never reached phase 2" in c["detail"] for c in claims)


# ----------------------------------------------------------------------------- object share
def test_top_share_in_mask_with_ties():
    s = torch.zeros(2, 2, 2)
    s[0] = torch.tensor([[3.0, -4.0], [1.0, 2.0]])  # |s| order: 1, 0, 3, 2
    s[1] = 1.0  # all tied: pixel order 0, 1, 2, 3
    mask = torch.tensor([[[True, False], [False, False]], [[False, True], [True, True]]])
    np.testing.assert_allclose(top_share_in_mask(s, mask, 0.5), [0.5, 0.5])
    np.testing.assert_allclose(top_share_in_mask(s, mask, 0.25), [0.0, 0.0])
    np.testing.assert_allclose(top_share_in_mask(s, mask, 1.0), [0.25, 0.75])
    assert torch.isnan(top_share_in_mask(s, mask, 0.01)).all()  # k = 0


def test_object_share_uses_the_background():
    bg = -0.5
    x = torch.full((1, 1, 2, 2), bg)
    x[0, 0, 0, 0] = 1.0  # the object is position 0
    maps = {"hlgm": torch.tensor([[[5.0, 1.0], [0.0, 0.0]]]),
            "baseline": torch.tensor([[[1.0, 5.0], [0.0, 0.0]]])}  # fmt: skip
    shares = object_share(maps, x, bg, fractions=[0.25])
    assert shares.set_index("method")["share"].to_dict() == {"hlgm": 1.0, "baseline": 0.0}
    assert shares.attrs["object_share_of_image"] == 0.25
    t = object_share_table(shares)
    assert t["method"].tolist() == ["baseline", "hlgm"] and t["top (%)"].tolist() == [25.0, 25.0]


# ----------------------------------------------------------------------------- SIB
def _box_dataset(lazy: bool, has_box=None):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 1, 6, 6, generator=g)
    boxes = torch.tensor([[0, 0, 3, 3], [2, 2, 6, 6], [0, 3, 6, 6], [1, 1, 2, 5], [0, 0, 6, 6]])
    common = dict(name="toy", split="test", y=torch.tensor([0, 1, 0, 1, 1]), num_classes=2,
                  in_channels=1, image_size=6, mean=(0.0,), std=(1.0,), provenance={},
                  boxes=boxes, has_box=has_box)  # fmt: skip
    if lazy:
        return ImageDataset(item_loader=lambda i: x[i], **common)
    return ImageDataset(x=x, **common)


def _models():
    torch.manual_seed(0)
    return {
        (m, 0): SimpleNamespace(model=nn.Sequential(nn.Flatten(), nn.Linear(36, 2)).eval())
        for m in ("baseline", "sgt", "hlgm")
    }


def test_sib_by_run_matches_model_sib_and_reads_lazy_sets():
    has_box = torch.tensor([True, True, False, True, True])
    runs = _models()
    fractions = [0.05, 0.1, 0.5]
    mem = sib_by_run(runs, _box_dataset(False, has_box), fractions, batch_size=2)
    lazy = sib_by_run(runs, _box_dataset(True, has_box), fractions, batch_size=3)
    for key, run in runs.items():
        ref = model_sib(run.model, _box_dataset(False, has_box), fractions=fractions)
        pd.testing.assert_frame_equal(mem[key], ref)
        pd.testing.assert_frame_equal(lazy[key], ref)
        assert mem[key].attrs["n_excluded"] == 1 and mem[key].attrs["k"] == [2, 4, 18]
    with pytest.raises(ValueError, match="has a box"):
        sib_by_run(runs, _box_dataset(False, torch.zeros(5, dtype=torch.bool)))


def _sibs():
    # two seeds; SIB(1): hlgm highest; SIB(5): hlgm ties with sgt
    values = {"baseline": ([0.2, 0.4, 0.6], [0.5, 0.5, 0.5]),
              "sgt": ([0.3, 0.5, 0.7], [0.6, 0.6, 0.6]),
              "hlgm": ([0.4, 0.6, 0.8], [0.6, 0.6, 0.6])}  # fmt: skip
    return {
        (m, seed): pd.DataFrame({"SIB(1)": np.add(a, 0.1 * seed), "SIB(5)": b})
        for m, (a, b) in values.items()
        for seed in (0, 1)
    }


def test_sib_per_seed_table_and_claims():
    ps = sib_per_seed(_sibs())
    assert len(ps) == 12
    row = ps.query("method == 'hlgm' and seed == 1 and fraction == 'SIB(1)'").iloc[0]
    assert row["median"] == pytest.approx(0.7) and row["mean"] == pytest.approx(0.7)
    t = hlgm_sib_table(ps)
    assert t["SIB"].tolist() == ["median SIB(1)", "median SIB(5)"]
    assert t.loc[0, "baseline (paper)"] == "0.55" and t.loc[1, "hlgm (paper)"] == "0.50"
    assert t.loc[0, "hlgm (ours)"].startswith("0.65 [")
    claims = hlgm_sib_claims(ps, "toy")
    assert [c["id"] for c in claims] == [
        "hlgm_highest_median_sib1_toy", "hlgm_highest_median_sib5_toy",
        "hlgm_highest_median_sib_all_toy",
    ]  # fmt: skip
    assert [c["holds"] for c in claims] == [True, False, False]
    assert "tie with sgt" in claims[1]["detail"]
    assert claims[0]["detail"].endswith("; hlgm - sgt = +0.1000")


# ----------------------------------------------------------------------------- runs
def test_baseline_of_an_hlgm_run_that_never_left_phase_1(store):
    """The continuation of an HLGM run without a plateau has no epoch left to run: it loads,
    equals the HLGM run, and the caption and claims say so."""
    from saliency_lib.studies import setting_configs, train_all, with_hlgm_baselines

    training = {"model": "cnn2", "epochs": 2, "batch_size": 64, "lr": 1.0, "progress": False,
                "device": "cpu"}  # fmt: skip
    methods = {"hlgm": {"patience": 5, "monitor": "test_acc"}}
    configs = with_hlgm_baselines(
        setting_configs(
            "synthetic", {}, training, methods, 1, {"n": 128, "num_classes": 4, "image_size": 8}
        )  # fmt: skip
    )
    runs = train_all(configs, store=store)
    hlgm, base = runs[("hlgm", 0)], runs[("baseline", 0)]
    assert hlgm.plateau_epoch is None and base.history == hlgm.history
    pairs = zip(hlgm.model.state_dict().values(), base.model.state_dict().values(), strict=True)
    for a, b in pairs:
        assert torch.equal(a, b)
    assert hlgm_plateau_caption(hlgm).startswith("NO phase-1 plateau within 2 epochs")


def test_object_share_claims_and_box_area_share():
    t = pd.DataFrame({"top (%)": [5.0, 5.0, 5.0, 10.0, 10.0, 10.0],
                      "method": ["baseline", "sgt", "hlgm"] * 2,
                      "mean share": [0.5, 0.6, 0.7, 0.8, 0.9, 0.9],
                      "median share": [0.0] * 6, "images": [10] * 6})  # fmt: skip
    claims = object_share_claims(t, "toy")
    assert [c["id"] for c in claims] == [
        "hlgm_gradients_on_object_top5_toy", "hlgm_gradients_on_object_top10_toy"
    ]  # fmt: skip
    assert [c["holds"] for c in claims] == [True, False]  # a tie does not hold
    assert claims[0]["detail"].endswith("; hlgm - sgt = +0.1000")
    assert claims[1]["detail"].endswith("; hlgm - sgt = +0.0000")
    ds = _box_dataset(False, torch.tensor([True, True, False, True, True]))
    share = box_area_share(ds)
    assert share.index.tolist() == [0, 1, 3, 4]
    np.testing.assert_allclose(share.values, [9 / 36, 16 / 36, 4 / 36, 1.0])


def test_dataset_images_reads_lazy_sets():
    mem, lazy = _box_dataset(False), _box_dataset(True)
    x, y = dataset_images(lazy, 3)
    assert torch.equal(x, mem.x[:3]) and y.tolist() == [0, 1, 0]
    assert len(dataset_images(mem)[0]) == 5 and len(dataset_images(mem, 50)[0]) == 5


def test_claim_line():
    assert claim_line({"claim": "a", "holds": True, "detail": "d"}) == "[holds] a: d"
    assert claim_line({"claim": "a", "holds": False, "detail": "d"}) == "[does not hold] a: d"
    assert claim_line({"claim": "a", "holds": None, "detail": "d"}) == "[not run] a: d"
