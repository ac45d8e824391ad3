"""HLGM studies: plateau captions, Table II / III builders and claims, object share, SIB of
several runs (in-memory and lazy sets)."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from saliency_lib import claims as claims_mod
from saliency_lib.data import ImageDataset
from saliency_lib.metrics import model_sib
from saliency_lib.studies import (
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
from saliency_lib.studies.hlgm import MIN_PHASE2_EPISODES, phase2_precondition, train_dip


def _run(phases, plateau, **method_params):
    history = [{"epoch": i + 1, "phase": p, "test_acc": 50.0} for i, p in enumerate(phases)]
    config = SimpleNamespace(method_params=method_params) if method_params else None
    return SimpleNamespace(history=history, plateau_epoch=plateau, config=config)


# ----------------------------------------------------------------------------- plateau
def test_plateau_info_and_caption():
    run = _run(["traditional"] * 3 + ["regularize"] * 2 + ["denoise"], 3)
    info = hlgm_plateau_info(run)
    assert info == {
        "plateau_epoch": 3, "reached": True, "epochs": 6, "phase2_epochs": 3,
        "episode_size": 5, "phase2_episodes": 0.6,  # the method's default episode size S_e = 5
        "phase_epochs": {"traditional": 3, "regularize": 2, "denoise": 1},
    }  # fmt: skip
    short = hlgm_plateau_info(_run(["traditional"] * 3 + ["regularize"] * 3, 3, episode_size=2))
    assert short["episode_size"] == 2 and short["phase2_episodes"] == 1.5
    assert hlgm_plateau_caption(run) == "phase-1 plateau at epoch 3; HLGM phase 2 in epochs 4-6"
    never = _run(["traditional"] * 4, None)
    assert hlgm_plateau_info(never)["phase2_epochs"] == 0
    assert hlgm_plateau_info(never)["phase2_episodes"] == 0
    assert hlgm_plateau_caption(never).startswith("NO phase-1 plateau within 4 epochs")
    last = _run(["traditional"] * 4, 4)
    assert "no HLGM (phase-2) epoch was run" in hlgm_plateau_caption(last)


# ----------------------------------------------------------------------------- Table II
def _per_seed(n_seeds=3):
    rows = []
    acc = {  # method: [(best, final) per seed]
        "sgt": [(80.0, 79.0), (82.0, 81.0), (81.0, 80.0)],
        "hlgm": [(84.0, 83.0), (86.0, 85.0), (85.5, 84.5)],
        "baseline": [(83.0, 82.0), (84.5, 83.5), (84.0, 83.0)],
    }
    for m, values in acc.items():
        for seed, (best, final) in enumerate(values[:n_seeds]):
            rows.append({"method": m, "seed": seed, "best_accuracy": best, "accuracy": final})
    return pd.DataFrame(rows)


def _plateaus(*episodes):
    """seed -> hlgm_plateau_info-like dict with the given phase-2 episodes."""
    return {s: {"phase2_episodes": e, "reached": True} for s, e in enumerate(episodes)}


def test_accuracy_table_orders_methods_and_adds_the_paper():
    t = hlgm_accuracy_table(_per_seed(), "cnn2_cifar10")
    assert t["method"].tolist() == ["baseline", "sgt", "hlgm"]
    assert t["seeds"].tolist() == [3, 3, 3]
    assert t["acc (paper)"].tolist() == ["74.13", "73.34", "74.72"]
    hlgm = t.set_index("method").loc["hlgm"]
    assert hlgm["best test acc (ours)"].startswith("85.17 [")
    assert hlgm["final test acc (ours)"].startswith("84.17 [")
    two = hlgm_accuracy_table(_per_seed(2), "cnn2_cifar10").set_index("method")
    assert two.loc["hlgm", "best test acc (ours)"] == "85.00 (seeds: 84.00, 86.00)"  # no interval
    assert two.loc["baseline", "final test acc (ours)"] == "82.75 (seeds: 82.00, 83.50)"
    one_seed = hlgm_accuracy_table(_per_seed().query("seed == 0"), "cnn2_fashion_mnist")
    assert one_seed["acc (paper)"].tolist() == ["-", "-", "-"]
    assert one_seed.set_index("method").loc["baseline", "best test acc (ours)"] == "83.00"


def test_accuracy_table_interval_is_clipped_to_100():
    ps = pd.DataFrame({"method": "hlgm", "seed": [0, 1, 2], "best_accuracy": [99.9, 100.0, 95.0],
                       "accuracy": [99.0, 99.5, 99.9]})  # fmt: skip
    cell = hlgm_accuracy_table(ps, "x", paper_key=None).loc[0, "best test acc (ours)"]
    assert cell.startswith("98.30 [") and cell.endswith(", 100.00]")


def _verdicts(records):
    return {r["id"]: r["verdict"] for r in records}


def test_accuracy_claims_on_the_final_epoch_with_the_best_beside():
    recs = hlgm_accuracy_claims(_per_seed(), "s", _plateaus(4, 6, 5), paper_key=None)
    assert _verdicts(recs) == {
        "hlgm_superior_accuracy:s vs baseline": "holds",
        "hlgm_superior_accuracy:s vs sgt": "holds",
        "hlgm_gain_range:s": "inconclusive",  # +1.33 [0.62, 2.05]: straddles the 1 point
        "hlgm_sgt_costs_accuracy:s": "holds",  # SGT 2.5-3 points below the baseline
    }
    base = recs[0]
    assert base["per_seed_a"] == [83.0, 85.0, 84.5] and base["per_seed_b"] == [82.0, 83.5, 83.0]
    assert base["mean_diff"] == pytest.approx((1.0 + 1.5 + 1.5) / 3)
    assert base["ci_low"] > 0 and base["resolvable"] > 0 and base["detectable"] > 0
    assert base["paper"] is None  # no paper row named
    assert base["preconditions"][0]["met"] is True
    assert base["preconditions"][0]["value"] == 4 and base["preconditions"][0]["minimum"] == 4
    # the best epoch (chosen on the test split) is the sensitivity reading beside it
    assert base["sensitivity"]["verdict"] == "holds"
    assert base["sensitivity"]["label"] == "best epoch (chosen on the test split)"
    assert base["sensitivity"]["mean_diff"] == pytest.approx((1.0 + 1.5 + 1.5) / 3)
    # no plateau information: no precondition, decided on the numbers alone
    assert _verdicts(hlgm_accuracy_claims(_per_seed(), "s"))["hlgm_superior_accuracy:s vs sgt"] == (
        "holds"
    )
    paper = hlgm_accuracy_claims(_per_seed(), "x", paper_key="cnn2_cifar10")
    assert [r["paper"] for r in paper] == [[74.72, 74.13], [74.72, 73.34], [74.72, 74.13],
                                           [73.34, 74.13]]  # fmt: skip


def test_final_and_best_epoch_can_disagree():
    ps = _per_seed()
    ps.loc[ps["method"] == "hlgm", "accuracy"] = [82.0, 83.5, 83.0]  # final = the baseline's
    rec = hlgm_accuracy_claims(ps, "s")[0]
    assert rec["verdict"] == "inconclusive" and rec["sensitivity"]["verdict"] == "holds"


def test_no_best_epoch_line_when_a_run_was_evaluated_at_its_final_epoch_only():
    """A run trained with ``test_eval: final_epoch`` has no best epoch (NaN): the claims that
    compare it leave the sensitivity line out, never fill it with the final value; the others
    keep theirs."""
    ps = _per_seed()
    ps.loc[ps["method"] == "sgt", "best_accuracy"] = float("nan")
    recs = {r["id"]: r for r in hlgm_accuracy_claims(ps, "s")}
    assert recs["hlgm_superior_accuracy:s vs sgt"]["sensitivity"] is None
    assert recs["hlgm_superior_accuracy:s vs sgt"]["verdict"] == "holds"  # the final epoch
    assert recs["hlgm_sgt_costs_accuracy:s"]["sensitivity"] is None
    assert recs["hlgm_superior_accuracy:s vs baseline"]["sensitivity"]["verdict"] == "holds"
    table = hlgm_accuracy_table(ps, "s", paper_key=None).set_index("method")
    assert table.loc["sgt", "best test acc (ours)"] == "n/a"
    assert table.loc["hlgm", "best test acc (ours)"].startswith("85.17 [")


def test_accuracy_claims_with_two_seeds_are_inconclusive():
    recs = hlgm_accuracy_claims(_per_seed(2), "s", _plateaus(5, 5))
    assert {r["verdict"] for r in recs} == {"inconclusive"}
    assert all("2 seed(s), 3 needed" in r["reason"] for r in recs)
    assert all(r["resolvable"] is None and r["ci_low"] is None for r in recs)


def test_accuracy_claims_not_testable_when_a_seed_barely_left_phase_1():
    # the numbers favour HLGM, but one seed ran fewer than 4 phase-2 episodes
    recs = hlgm_accuracy_claims(_per_seed(), "s", _plateaus(6, MIN_PHASE2_EPISODES - 0.4, 0))
    assert {r["verdict"] for r in recs} == {"not testable here"}
    assert all("precondition unmet" in r["reason"] for r in recs)
    assert all("phase-2 episodes over the seeds = 0" in r["reason"] for r in recs)
    assert recs[0]["preconditions"][0]["met"] is False


def test_accuracy_claims_ties_and_losses():
    tie = _per_seed().assign(accuracy=80.0)
    recs = hlgm_accuracy_claims(tie, "s", _plateaus(5, 5, 5))
    assert {r["verdict"] for r in recs} == {"inconclusive"}  # a tie is never "does not hold"
    assert all("identical in every seed" in r["reason"] for r in recs)
    worse = _per_seed().copy()
    worse.loc[worse["method"] == "hlgm", "accuracy"] = [70.0, 71.0, 70.5]
    verdicts = _verdicts(hlgm_accuracy_claims(worse, "s"))
    assert verdicts["hlgm_superior_accuracy:s vs baseline"] == "does not hold"
    assert verdicts["hlgm_gain_range:s"] == "does not hold"


def test_accuracy_claims_with_a_method_missing_are_not_run():
    recs = hlgm_accuracy_claims(_per_seed().query("method != 'sgt'"), "s")
    verdicts = _verdicts(recs)
    assert verdicts["hlgm_superior_accuracy:s vs baseline"] == "holds"
    assert verdicts["hlgm_superior_accuracy:s vs sgt"] == "not run"


def test_train_accuracy_dip_at_the_first_regularize_epoch():
    def run(seed, dip):
        phases = ["traditional"] * 3 + ["regularize", "denoise"]
        acc = [70.0, 80.0, 85.0 + seed, 85.0 + seed - dip, 86.0]
        history = [{"epoch": i + 1, "phase": p, "train_acc": a}
                   for i, (p, a) in enumerate(zip(phases, acc, strict=True))]  # fmt: skip
        return SimpleNamespace(history=history)

    assert train_dip(run(0, 4.0)) == (85.0, 81.0)
    assert train_dip(SimpleNamespace(history=[{"phase": "traditional", "train_acc": 1.0}])) is None
    runs = {("hlgm", s): run(s, d) for s, d in enumerate((4.0, 5.0, 3.5))}
    (rec,) = [r for r in hlgm_accuracy_claims(_per_seed(), "s", runs=runs)
              if r["claim_id"] == "hlgm_train_accuracy_dip"]  # fmt: skip
    assert rec["verdict"] == "holds" and rec["mean_diff"] == pytest.approx(-(4 + 5 + 3.5) / 3)
    flat = {("hlgm", s): run(s, d) for s, d in enumerate((0.5, -0.5, 0.1))}
    (rec,) = [r for r in hlgm_accuracy_claims(_per_seed(), "s", runs=flat)
              if r["claim_id"] == "hlgm_train_accuracy_dip"]  # fmt: skip
    assert rec["verdict"] == "inconclusive"


def test_phase2_precondition_takes_the_fewest_episodes():
    assert phase2_precondition(None) == [] and phase2_precondition({}) == []
    (pre,) = phase2_precondition(_plateaus(7, 4.0, 9))
    assert pre.value == 4.0 and pre.met
    (pre,) = phase2_precondition(_plateaus(7, 3.8))
    assert pre.value == 3.8 and not pre.met


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


def _sibs(seeds=(0, 1, 2)):
    """Per-image SIB of three models. SIB(1): hlgm above sgt above baseline by amounts that
    vary with the seed; SIB(5): hlgm ties with sgt in every seed, 0.1 above baseline."""
    values = {"baseline": ([0.2, 0.4, 0.6], [0.5, 0.5, 0.5], 0.0),
              "sgt": ([0.3, 0.5, 0.7], [0.6, 0.6, 0.6], 0.0),
              "hlgm": ([0.4, 0.6, 0.8], [0.6, 0.6, 0.6], 0.02)}  # fmt: skip
    return {
        (m, seed): pd.DataFrame({"SIB(1)": np.add(a, (0.1 + extra) * seed), "SIB(5)": b})
        for m, (a, b, extra) in values.items()
        for seed in seeds
    }


def test_sib_per_seed_and_table():
    ps = sib_per_seed(_sibs())
    assert len(ps) == 3 * 3 * 2
    row = ps.query("method == 'hlgm' and seed == 1 and fraction == 'SIB(1)'").iloc[0]
    assert row["median"] == pytest.approx(0.72) and row["mean"] == pytest.approx(0.72)
    assert row["images"] == 3
    t = hlgm_sib_table(ps)
    assert t["SIB"].tolist() == ["median SIB(1)", "median SIB(5)"]
    assert t["seeds"].tolist() == [3, 3]
    assert t.loc[0, "baseline (paper)"] == "0.55" and t.loc[1, "hlgm (paper)"] == "0.50"
    assert t.loc[0, "hlgm (ours)"].startswith("0.72 [")
    two = hlgm_sib_table(sib_per_seed(_sibs((0, 1))))
    assert two.loc[0, "hlgm (ours)"] == "0.66 (seeds: 0.60, 0.72)"


def test_sib_claims_carry_the_papers_numbers():
    recs = {r["id"]: r for r in hlgm_sib_claims(sib_per_seed(_sibs()), "oxford_pet")}
    rec = recs["hlgm_sib_median:oxford_pet, SIB(1) vs sgt"]
    assert rec["paper"] == [0.59, 0.57] and rec["paper_effect"] == pytest.approx(0.02)


def test_sib_claims_verdicts():
    sibs = _sibs()
    ps = sib_per_seed(sibs)
    recs = hlgm_sib_claims(ps, "toy", plateaus=_plateaus(5, 5, 5), sibs=sibs)
    verdicts = _verdicts(recs)
    for stat in ("median", "mean"):
        assert verdicts[f"hlgm_sib_{stat}:toy, SIB(1) vs baseline"] == "holds"
        assert verdicts[f"hlgm_sib_{stat}:toy, SIB(1) vs sgt"] == "holds"  # +0.10, +0.12, +0.14
        # +0.1 on every image of every seed: the per-image values decide (no seed spread)
        rec = next(r for r in recs if r["id"] == f"hlgm_sib_{stat}:toy, SIB(5) vs baseline")
        assert rec["verdict"] == "holds" and rec["interval"] == "bootstrap"
        assert "per-image values within the seeds" in rec["reason"]
        assert verdicts[f"hlgm_sib_{stat}:toy, SIB(5) vs sgt"] == "inconclusive"  # a tie
    # Fig. 8 right: HLGM higher on every image where they differ (a constant share of 1 is
    # decided on the images); against SGT on SIB(5) no image differs
    assert verdicts["hlgm_sib_majority:toy, SIB(1) vs baseline"] == "holds"
    maj = next(r for r in recs if r["id"] == "hlgm_sib_majority:toy, SIB(1) vs sgt")
    assert maj["per_seed_a"] == [1.0, 1.0, 1.0] and maj["verdict"] == "holds"
    assert verdicts["hlgm_sib_majority:toy, SIB(5) vs sgt"] == "inconclusive"
    sgt1 = next(r for r in recs if r["id"] == "hlgm_sib_median:toy, SIB(1) vs sgt")
    assert sgt1["per_seed_a"] == pytest.approx([0.6, 0.72, 0.84])
    assert sgt1["mean_diff"] == pytest.approx(0.12) and sgt1["interval"] == "t"
    assert sgt1["paper_item"] == "HLGM Table III" and sgt1["compared"] == "hlgm vs sgt"
    # without per-image values a constant difference says what would decide it
    bare = {r["id"]: r for r in hlgm_sib_claims(ps, "toy")}
    assert (
        "per-image values would decide" in bare["hlgm_sib_median:toy, SIB(5) vs baseline"]["reason"]
    )
    assert not any(r["claim_id"] == "hlgm_sib_majority" for r in bare.values())
    # the mean is recorded only for the box-plot columns
    only5 = hlgm_sib_claims(ps, "toy", sibs=sibs, box_columns=("SIB(5)",))
    assert {r["id"] for r in only5 if r["claim_id"] == "hlgm_sib_mean"} == {
        "hlgm_sib_mean:toy, SIB(5) vs baseline",
        "hlgm_sib_mean:toy, SIB(5) vs sgt",
    }
    two = hlgm_sib_claims(sib_per_seed(_sibs((0, 1))), "toy")
    assert {r["verdict"] for r in two} == {"inconclusive"}
    stuck = hlgm_sib_claims(ps, "toy", plateaus=_plateaus(5, 0, 5), sibs=sibs)
    assert {r["verdict"] for r in stuck} == {"not testable here"}


# ----------------------------------------------------------------------------- runs
def test_baseline_of_an_hlgm_run_that_never_left_phase_1(store):
    """The continuation of an HLGM run without a plateau has no epoch left to run: it loads,
    equals the HLGM run, and the caption and claims say so."""
    from saliency_lib.studies import run_grid, train_all

    training = {"model": "cnn2", "epochs": 2, "batch_size": 64, "lr": 1.0, "progress": False,
                "device": "cpu"}  # fmt: skip
    methods = {"hlgm": {"patience": 5, "monitor": "test_acc"}}
    grid = run_grid(datasets="synthetic", training=training, methods=methods, seeds=1,
                    dataset_params={"n": 128, "num_classes": 4, "image_size": 8})  # fmt: skip
    configs = grid["synthetic"]
    runs = train_all(configs, store=store)
    hlgm, base = runs[("hlgm", 0)], runs[("baseline", 0)]
    assert hlgm.plateau_epoch is None and base.history == hlgm.history
    pairs = zip(hlgm.model.state_dict().values(), base.model.state_dict().values(), strict=True)
    for a, b in pairs:
        assert torch.equal(a, b)
    assert hlgm_plateau_caption(hlgm).startswith("NO phase-1 plateau within 2 epochs")


def _shares():
    """object_share rows with a seed column: 3 seeds, 2 images. Top 5 %: hlgm above both
    others by a seed-dependent amount; top 10 %: hlgm ties with sgt in every seed."""
    rows = []
    for seed in (0, 1, 2):
        per_model = {  # fraction: method: shares of the two images
            0.05: {"baseline": [0.4, 0.5], "sgt": [0.5, 0.5], "hlgm": [0.7, 0.6 + 0.05 * seed]},
            0.1: {"baseline": [0.3, 0.3 + 0.01 * seed], "sgt": [0.6, 0.6], "hlgm": [0.6, 0.6]},
        }
        for frac, models in per_model.items():
            for m, vals in models.items():
                for image, v in enumerate(vals):
                    rows.append({"method": m, "image": image, "fraction": frac, "share": v,
                                 "seed": seed})  # fmt: skip
    return pd.DataFrame(rows)


def test_object_share_claims_paired_by_seed():
    recs = object_share_claims(_shares(), "toy", plateaus=_plateaus(4, 4, 4))
    assert _verdicts(recs) == {
        "hlgm_object_share:toy, top 5 % vs baseline": "holds",
        "hlgm_object_share:toy, top 5 % vs sgt": "holds",
        "hlgm_object_share:toy, top 10 % vs baseline": "holds",
        "hlgm_object_share:toy, top 10 % vs sgt": "inconclusive",  # a tie
    }
    # one value per seed: the mean over that seed's images
    assert recs[1]["per_seed_a"] == pytest.approx([0.65, 0.675, 0.7])
    assert recs[1]["per_seed_b"] == pytest.approx([0.5, 0.5, 0.5])
    assert "identical in every seed" in recs[3]["reason"]
    two = object_share_claims(_shares().query("seed < 2"), "toy")
    assert {r["verdict"] for r in two} == {"inconclusive"}
    assert all(r["n"] == 2 for r in two)
    stuck = object_share_claims(_shares(), "toy", plateaus=_plateaus(4, 3, 4))
    assert {r["verdict"] for r in stuck} == {"not testable here"}


def test_box_area_share():
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
    rec = hlgm_accuracy_claims(_per_seed(), "cnn2_cifar10", _plateaus(5, 5, 5))[0]
    assert rec["sensitivity"]
    line = claim_line(rec)
    assert line == claims_mod.record_line(rec)
    assert line.startswith("[holds] HLGM Table II (cnn2_cifar10): ")
    assert "(hlgm vs baseline)" in line and f"resolves {rec['resolvable']:.3g}" in line
    assert line.endswith("| best epoch (chosen on the test split): holds")
    two = claim_line(hlgm_accuracy_claims(_per_seed(2), "s")[0])
    assert two.startswith("[inconclusive] HLGM Table II (s): ") and "resolves" not in two
    not_run = claim_line(claims_mod.not_run("hlgm_superior_accuracy", "s"))
    assert not_run.startswith("[not run] HLGM Table II (s): ") and not_run.endswith("-- not run")
