"""SMOOT studies: Fig. 3 and Tables II-III claims with their preconditions (K spread by design
and measured, trained model) and random-ranking controls, Fig. 2 map claims paired by seed, and
the K null table / sparsity per run on a tiny synthetic problem."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from saliency_lib.config import RunConfig
from saliency_lib.data import get_dataset
from saliency_lib.metrics import gini_index, k_null_spread
from saliency_lib.runs import build_model
from saliency_lib.studies import (
    k_null_table,
    k_spread_by_design,
    k_spread_preconditions,
    map_claims,
    null_spreads,
    smoot_claims,
    sparsity_per_seed,
    trained_precondition,
)
from saliency_lib.studies.maps import saliency_maps
from saliency_lib.studies.smoot import paper_k_spread

# Per method: final accuracy, best accuracy, Grad AUC, random-ranking AUC, (k_min, k_max) per
# seed. SGT and SMOOT drop faster than traditional, and beyond their random rankings; SMOOT's K
# spread 190 positions (Fashion-MNIST's paper spread: 353, so 176.5 needed).
ROWS = {
    "traditional": ([90.0, 90.5, 89.8], [40.0, 41.0, 40.5], [70.0, 71.0, 70.2], (0, 0)),
    "sgt": ([89.5, 90.2, 89.6], [38.0, 39.2, 38.1], [70.1, 70.8, 70.3], (392, 392)),
    "smoot": ([90.4, 90.9, 90.3], [35.0, 36.0, 35.5], [70.0, 70.9, 70.1], (210, 400)),
}


def _tables(seeds=(0, 1, 2), rows=ROWS):
    per_seed, auc = [], []
    for m, (acc, grad, rnd, (k_min, k_max)) in rows.items():
        for s in seeds:
            k = {"k_min": k_min, "k_median": (k_min + k_max) / 2, "k_max": k_max}
            per_seed.append({"method": m, "seed": s, "accuracy": acc[s],
                             "best_accuracy": acc[s] + 0.5, "auc": grad[s], **k})  # fmt: skip
            auc += [{"saliency": "grad", "method": m, "seed": s, "auc": grad[s]},
                    {"saliency": "random", "method": m, "seed": s, "auc": rnd[s]}]  # fmt: skip
    return pd.DataFrame(per_seed), pd.DataFrame(auc)


def _by_id(records):
    return {r["id"]: r for r in records}


def test_paper_k_spread():
    assert paper_k_spread("mnist") == 310.0 and paper_k_spread("fashion_mnist") == 353.0
    assert paper_k_spread("cifar10") is None


def test_k_spread_by_design_from_the_parameters():
    # 784 positions, K from 392 within [156.8, 627.2]: mu = 10 for 4 epochs moves 40 each way
    assert k_spread_by_design({"mu": 10.0}, 4, 784) == pytest.approx(80.0)
    assert k_spread_by_design({"mu": 10.0}, 40, 784) == pytest.approx(627.2 - 156.8)
    assert k_spread_by_design({"mu": 10.0, "mu_unit": "per_784"}, 4, 1568) == pytest.approx(160.0)


def test_smoot_claims_with_controls_and_sensitivity():
    per_seed, auc = _tables()
    recs = _by_id(smoot_claims(per_seed, auc, "fashion_mnist", "fashion_mnist",
                               min_accuracy=85.0, k_by_design=470.0,
                               null_spread={0: 20.0, 1: 25.0, 2: 22.0}))  # fmt: skip
    assert list(recs) == [
        "sgt_auc_below_traditional:fashion_mnist, grad",
        "sgt_accuracy_kept:fashion_mnist",
        "smoot_auc_below_sgt:fashion_mnist, grad",
        "smoot_steeper_drop_any_method:fashion_mnist, grad vs sgt",
        "smoot_superior_accuracy:fashion_mnist vs sgt",
        "smoot_steeper_drop_any_method:fashion_mnist, grad vs traditional",
        "smoot_superior_accuracy:fashion_mnist vs traditional",
        "smoot_k_dynamic:fashion_mnist",
    ]
    sgt = recs["sgt_auc_below_traditional:fashion_mnist, grad"]
    assert sgt["verdict"] == "holds" and sgt["paper"] == [39.91, 40.79]
    assert sgt["control"]["verdict"] == "holds"  # the drop is beyond the random-ranking drop
    smoot = recs["smoot_auc_below_sgt:fashion_mnist, grad"]
    assert smoot["verdict"] == "holds"
    assert [p["by_design"] for p in smoot["preconditions"]] == [False, True, False]
    acc = recs["smoot_superior_accuracy:fashion_mnist vs traditional"]
    assert acc["verdict"] == "holds" and acc["paper"] == [93.65, 93.6]
    assert acc["sensitivity"]["label"].startswith("best epoch")
    assert recs["smoot_k_dynamic:fashion_mnist"]["verdict"] == "holds"
    assert recs["smoot_k_dynamic:fashion_mnist"]["per_seed_b"] == [20.0, 25.0, 22.0]


def test_k_spread_unmet_measured_or_by_design_makes_smoot_not_testable():
    rows = {**ROWS, "smoot": (*ROWS["smoot"][:3], (380, 401))}  # spread 21
    per_seed, auc = _tables(rows=rows)
    recs = _by_id(smoot_claims(per_seed, auc, "fashion_mnist", "fashion_mnist"))
    smoot = recs["smoot_auc_below_sgt:fashion_mnist, grad"]
    assert smoot["verdict"] == "not testable here" and not smoot["by_design"]
    assert "smallest smoot K spread over the seeds (paper: 353) = 21 positions" in smoot["reason"]
    assert recs["sgt_auc_below_traditional:fashion_mnist, grad"]["verdict"] == "holds"
    # by design: a setting whose parameters cannot spread K far enough, whatever was measured
    per_seed, auc = _tables()
    recs = _by_id(smoot_claims(per_seed, auc, "fashion_mnist", "fashion_mnist", k_by_design=80.0))
    smoot = recs["smoot_auc_below_sgt:fashion_mnist, grad"]
    assert smoot["verdict"] == "not testable here" and smoot["by_design"]
    assert "by design (from the parameters, before training)" in smoot["reason"]


def test_k_spread_uses_the_smallest_spread_over_seeds():
    ps, _ = _tables()
    ps.loc[(ps["method"] == "smoot") & (ps["seed"] == 2), "k_max"] = 300  # spread 90
    (pre,) = k_spread_preconditions(ps, "fashion_mnist")
    assert pre.value == 90.0 and not pre.met
    assert k_spread_preconditions(ps, "cifar10") == []  # no paper spread: no precondition
    assert k_spread_preconditions(ps, "mnist", label="absent") == []


def test_no_paper_spread_decides_on_the_numbers():
    per_seed, auc = _tables()
    recs = _by_id(smoot_claims(per_seed, auc, "synthetic", "synthetic"))
    rec = recs["smoot_auc_below_sgt:synthetic, grad"]
    assert rec["verdict"] == "holds" and rec["preconditions"] == [] and rec["paper"] is None


def test_untrained_traditional_makes_claims_not_testable():
    per_seed, auc = _tables()
    (pre,) = trained_precondition(per_seed, 95.0)
    assert pre.value == pytest.approx(90.1) and not pre.met
    assert trained_precondition(per_seed, None) == []
    recs = smoot_claims(per_seed, auc, "fashion_mnist", "fashion_mnist", min_accuracy=95.0)
    assert {r["verdict"] for r in recs if r["claim_id"] != "smoot_k_dynamic"} == {
        "not testable here"
    }
    want = "traditional test accuracy (mean over seeds) = 90.10 % (needs >= 95 %)"
    assert all(want in r["reason"] for r in recs)


def test_two_seeds_are_never_decided_and_missing_methods_give_no_records():
    per_seed, auc = _tables(seeds=(0, 1))
    assert {r["verdict"] for r in smoot_claims(per_seed, auc, "mnist", "mnist")} == {"inconclusive"}
    per_seed, auc = _tables()
    keep = per_seed["method"].isin(["smoot", "traditional"])
    recs = smoot_claims(per_seed[keep], auc[auc["method"].isin(["smoot", "traditional"])],
                        "mnist", "mnist")  # fmt: skip
    assert [r["claim_id"] for r in recs] == ["smoot_steeper_drop_any_method",
                                            "smoot_superior_accuracy"]  # fmt: skip


def test_map_claims_paired_by_seed():
    maps = {"traditional": {0: (0.30, 0.60), 1: (0.35, 0.62), 2: (0.32, 0.61)},
            "sgt": {2: (0.41, 0.71), 0: (0.40, 0.70), 1: (0.46, 0.74)},  # rows out of seed order
            "smoot": {0: (0.50, 0.80), 1: (0.20, 0.81)}}  # fmt: skip
    ms = pd.DataFrame([{"method": m, "seed": s, "gini": g, "top 10% on object": o}
                       for m, v in maps.items() for s, (g, o) in v.items()])  # fmt: skip
    per_seed, _ = _tables()
    recs = _by_id(map_claims(ms, per_seed, "mnist", "mnist"))
    sgt = recs["sgt_sparser_maps:mnist"]
    assert sgt["verdict"] == "holds"
    assert sgt["per_seed_a"] == [0.40, 0.46, 0.41] and sgt["per_seed_b"] == [0.30, 0.35, 0.32]
    assert recs["sgt_maps_on_object:mnist"]["verdict"] == "holds"
    smoot = recs["smoot_maps_on_object:mnist vs sgt"]
    assert smoot["verdict"] == "inconclusive" and smoot["n"] == 2  # only seeds 0 and 1
    assert "smoot_maps_on_object:mnist vs traditional" in recs
    assert (
        map_claims(ms[ms["method"] != "traditional"], per_seed, "mnist", "mnist")[0]["claim_id"]
        == "smoot_maps_on_object"
    )


def test_k_null_spread_is_a_clipped_random_walk():
    # all steps -1: every walk moves down by one per epoch, no spread at all
    assert k_null_spread([-1, -1], 100, 10, 50, 20, 80) == 0.0
    # steps of -10 or +10 for 100 epochs: the walks reach both bounds
    assert k_null_spread([-10, 10], 500, 100, 50, 20, 80) == 60.0
    a = k_null_spread([-1, 0, 1], 200, 40, 50, 0, 100, seed=3)
    assert a == k_null_spread([-1, 0, 1], 200, 40, 50, 0, 100, seed=3) and 0 < a <= 80


# ----------------------------------------------------------------------------- on tiny runs
def _smoot_run(seed=0, epochs=3, **method_params):
    cfg = RunConfig.from_dict({"dataset": "synthetic", "method": "smoot", "seed": seed,
                               "epochs": epochs, "method_params": method_params,
                               "device": "cpu", "progress": False})  # fmt: skip
    torch.manual_seed(seed)
    model = build_model(cfg, {"num_classes": 4, "in_channels": 1, "image_size": 8}).eval()
    g = torch.Generator().manual_seed(seed)
    k_history = torch.randint(20, 45, (epochs, 512), generator=g)  # 8x8 = 64 positions
    history = [{"epoch": e + 1, "seconds": 1.0} for e in range(epochs)]
    return SimpleNamespace(config=cfg, model=model, history=history, k_history=k_history)


def test_k_null_table_on_a_tiny_run():
    run = _smoot_run(mu=2.0)
    trad = SimpleNamespace(config=RunConfig.from_dict({"dataset": "synthetic"}), model=run.model,
                           history=run.history, k_history=None)  # fmt: skip
    t = k_null_table({("smoot", 0): run, ("traditional", 0): trad}, n_images=64)
    assert len(t) == 1  # only SMOOT runs
    row = t.iloc[0]
    final = run.k_history[-1].double().numpy()
    assert row["method"] == "smoot" and row["seed"] == 0 and row["mu"] == 2.0
    assert row["k_init"] == 32 and row["epochs"] == 3  # 50 % of 64 positions
    assert row["k_min"] == int(final.min()) and row["k_max"] == int(final.max())
    assert row["k_median"] == pytest.approx(np.median(final))
    assert row["observed mean change / epoch"] == pytest.approx((final.mean() - 32) / 3)
    assert row["null images"] == 64
    assert 0 <= row["null K spread over the epochs"] <= 64 * 0.6  # within [K_min, K_max]
    assert null_spreads(t) == {0: row["null K spread over the epochs"]}
    assert row["null mean step / epoch (eval mode)"] == 0.0  # no dropout: no step at all
    shares = row[["null share of negative steps", "null share of zero steps"]]
    assert ((shares >= 0) & (shares <= 1)).all()
    again = k_null_table({("smoot", 0): run}, n_images=64)
    pd.testing.assert_frame_equal(t.reset_index(drop=True), again)  # seeded null measurement


def test_sparsity_per_seed_on_tiny_models():
    data = get_dataset("synthetic", "test", n=32)
    runs = {("traditional", 0): _smoot_run(0), ("sgt", 0): _smoot_run(1)}
    t = sparsity_per_seed(runs, data, n_images=16, background=data.background)
    assert t[["method", "seed", "images"]].values.tolist() == [["traditional", 0, 16],
                                                               ["sgt", 0, 16]]  # fmt: skip
    assert set(t.columns) >= {"gini", "top 10% share", "top 10% on object"}
    maps = saliency_maps({"sgt": runs[("sgt", 0)].model}, data.x[:16], data.y[:16])["sgt"]
    assert t.loc[1, "gini"] == pytest.approx(float(np.nanmean(gini_index(maps))))
    assert t["gini"].between(0, 1).all() and t["top 10% share"].between(0.1, 1).all()
    assert "top 10% on object" not in sparsity_per_seed(runs, data, n_images=4).columns
