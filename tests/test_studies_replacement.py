"""SGT Figs. 3-4 study helpers: the ROAR training function, ROAR / replacement curves over runs,
AUC tables and the claims computed from them (tiny synthetic problem: 8x8 images, 4 classes,
each class carried by its own 2x2 block of pixels)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from saliency_lib.claims import Precondition
from saliency_lib.config import RunConfig
from saliency_lib.data import get_dataset
from saliency_lib.metrics import accuracy, roar
from saliency_lib.runs import Run
from saliency_lib.studies import (
    auc_gain_over,
    auc_matrix,
    curve_gap,
    replacement_curves,
    roar_curves,
    roar_train_fn,
    saliency_method_curves,
    sgt_fig3_claims,
    sgt_fig4_claims,
)


@pytest.fixture(scope="module")
def data():
    return get_dataset("synthetic", "train"), get_dataset("synthetic", "test", n=128)


def _config(**kw):
    return RunConfig.from_dict(
        {"dataset": "synthetic", "epochs": 2, "batch_size": 64, "seed": 0, "progress": False, **kw}
    )


def _weights(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


@pytest.fixture(scope="module")
def trained(data):
    """A model trained by the ROAR training function on the unmasked training set."""
    train, _ = data
    return roar_train_fn(_config(), num_classes=4)(train.x, train.y)


def test_roar_train_fn_learns_and_is_seeded(data, trained):
    train, test = data
    model = trained
    assert not model.training
    assert accuracy(model, test) > 75.0  # chance is 25 %
    assert [h["epoch"] for h in model.roar_history] == [1, 2]
    assert "test_acc" not in model.roar_history[0]  # no held-out set during ROAR training
    again = roar_train_fn(_config(), num_classes=4)(train.x, train.y)
    assert torch.equal(_weights(model), _weights(again))
    other_seed = roar_train_fn(_config(seed=1, epochs=1), num_classes=4)(train.x, train.y)
    first_epoch = roar_train_fn(_config(epochs=1), num_classes=4)(train.x, train.y)
    assert not torch.equal(_weights(first_epoch), _weights(other_seed))


def test_roar_train_fn_infers_classes_and_checks_inputs(data):
    train, _ = data
    model = roar_train_fn(_config(epochs=1))(train.x[:64], train.y[:64])
    assert model(train.x[:2]).shape == (2, 4)  # max(y) + 1 classes
    with pytest.raises(ValueError):
        roar_train_fn(_config())(train.x[0], train.y[:1])


def test_roar_train_fn_cache(data):
    train, _ = data
    cache = {}
    fn = roar_train_fn(_config(epochs=1), num_classes=4, cache=cache)
    first = fn(train.x, train.y)
    assert fn(train.x.clone(), train.y.clone()) is first  # same content, same model
    assert len(cache) == 1
    changed = train.x.clone()
    changed[0, 0, 0, 0] += 1.0
    assert fn(changed, train.y) is not first
    # another configuration never reuses a cached model
    assert roar_train_fn(_config(epochs=1, lr=0.5), num_classes=4, cache=cache)(
        train.x, train.y
    ) is not first  # fmt: skip
    assert len(cache) == 3


def test_roar_with_train_fn_removes_the_information(data, trained):
    train, test = data
    fn = roar_train_fn(_config(), num_classes=4)
    curve = roar(fn, train, test, levels=[0, 100], fill="mean", reference_model=trained)
    acc = dict(zip(curve["level"], curve["accuracy"], strict=True))
    assert acc[0.0] > 75.0
    assert acc[100.0] < 45.0  # every pixel replaced by the image mean: about chance


def _runs(data, trained, store_path: Path):
    """Two 'runs' (a trained and an untrained reference model) without the run store."""
    train, _ = data
    untrained = roar_train_fn(_config(epochs=1, lr=1e-6), num_classes=4)(train.x[:8], train.y[:8])
    runs = {}
    for label, model in (("traditional", trained), ("sgt", untrained)):
        cfg = _config(method=label, method_params={"k_fraction": 0.5} if label == "sgt" else {})
        runs[(label, 0)] = Run(cfg.run_id, cfg, model, history=[], path=store_path)
    return runs


def test_roar_curves_share_the_unmasked_level(data, trained, tmp_path):
    train, test = data
    runs = _runs(data, trained, tmp_path)
    cache = {}
    small = train.take(torch.arange(256))
    df = roar_curves(runs, small, test, levels=[0, 50], retrain={"epochs": 1}, cache=cache)
    assert set(df.columns) >= {"method", "seed", "saliency", "level", "accuracy", "replacement"}
    assert (df["replacement"] == "roar").all() and len(df) == 4
    # the 0 % level retrains on the same unmasked data for both reference models: one training
    assert len(cache) == 3
    at0 = df[df["level"] == 0].set_index("method")["accuracy"]
    assert at0["traditional"] == at0["sgt"]
    assert (df["retrain_loss"] > 0).all()


def test_replacement_and_saliency_method_curves(data, trained, tmp_path):
    _, test = data
    runs = _runs(data, trained, tmp_path)
    rep = replacement_curves(runs, test, levels=[0, 50, 100])
    assert set(rep["replacement"]) == {"background", "mean"}
    assert len(rep) == 2 * 2 * 3
    with pytest.raises(ValueError):
        replacement_curves(runs, test, levels=[0, 100], replacements=["roar"])
    sal = saliency_method_curves(
        runs, test, levels=[0, 100], saliency_methods=["grad", "ig"], options={"ig": {"n_steps": 4}}
    )
    assert list(dict.fromkeys(sal["saliency"])) == ["grad", "ig"]
    with pytest.raises(ValueError):
        saliency_method_curves(runs, test, saliency_methods=["grad"], options={"ig": {}})


def _curves(rows):
    """Tidy curves from {(method, seed, key): [acc at 0, 50, 100]}."""
    out = []
    for (method, seed, key), accs in rows.items():
        for level, acc in zip([0, 50, 100], accs, strict=True):
            out.append({"method": method, "seed": seed, "saliency": key, "replacement": key,
                        "level": level, "accuracy": acc})  # fmt: skip
    return pd.DataFrame(out)


def _auc(a50):
    """AUC of the curve [100, a50, 10] over levels 0, 50, 100 (trapezoid, in %)."""
    return 0.25 * 100 + 0.5 * a50 + 0.25 * 10


def _fig3_curves(seeds=(0, 1, 2), random_sgt=(92, 91, 93)):
    """SGT's grad curve drops faster than traditional's in every seed (by 19-21 AUC points);
    the random curves of both models nearly coincide (sgt 0.5-1.5 points higher)."""
    a50 = {
        ("traditional", "grad"): (60, 80, 70),
        ("sgt", "grad"): (20, 42, 28),
        ("traditional", "random"): (90, 90, 90),
        ("sgt", "random"): random_sgt,
    }
    return _curves({
        (m, seed, sal): [100, v[seed], 10] for (m, sal), v in a50.items() for seed in seeds
    }).drop(columns="replacement")  # fmt: skip


def _by_id(records):
    return {r["id"]: r for r in records}


def test_auc_matrix_and_gain_over_random():
    per_seed, matrix = auc_matrix(_fig3_curves(), rows="saliency")
    assert len(per_seed) == 12
    m = matrix.set_index("saliency")
    assert list(matrix.columns) == ["saliency", "traditional", "sgt", "n_seeds",
                                    "sgt - traditional"]  # fmt: skip
    assert m.loc["grad", "traditional"] == pytest.approx(_auc(70))
    assert m.loc["grad", "sgt"] == pytest.approx(_auc(30))
    assert m.loc["grad", "sgt - traditional"] == pytest.approx(-20.0)
    assert m.loc["random", "n_seeds"] == 3
    gains = auc_gain_over(matrix)
    assert list(gains["saliency"]) == ["grad"]
    assert gains.loc[0, "traditional"] == pytest.approx(_auc(90) - _auc(70))
    assert gains.loc[0, "sgt"] == pytest.approx(_auc(92) - _auc(30))
    assert gains.loc[0, "sgt - traditional"] == pytest.approx(21.0)
    with pytest.raises(KeyError):
        auc_gain_over(matrix, baseline="uniform")


def test_fig3_claims_hold_with_three_seeds_and_carry_the_random_control():
    per_seed, _ = auc_matrix(_fig3_curves(), rows="saliency")
    claims = _by_id(sgt_fig3_claims(per_seed, "mnist"))
    assert list(claims) == ["sgt_fig3_steeper_drop:mnist, grad"]  # random is the control
    drop = claims["sgt_fig3_steeper_drop:mnist, grad"]
    assert drop["verdict"] == "holds"
    assert drop["per_seed_a"] == [_auc(20), _auc(42), _auc(28)]
    assert drop["per_seed_b"] == [_auc(60), _auc(80), _auc(70)]
    assert drop["mean_diff"] == pytest.approx(-20.0) and drop["ci_high"] < 0
    control = drop["control"]
    assert control["claim_id"] == "drop_beyond_random" and control["verdict"] == "holds"
    # gain = AUC(random) - AUC(grad), per seed and model, SGT minus traditional
    gains = [(_auc(r) - _auc(g)) - (_auc(90) - _auc(t))
             for r, g, t in zip((92, 91, 93), (20, 42, 28), (60, 80, 70), strict=True)]  # fmt: skip
    assert control["mean_diff"] == pytest.approx(np.mean(gains)) == pytest.approx(21.0)


def test_fig3_control_does_not_hold_when_sgt_is_only_more_fragile():
    """SGT's random curve drops as much faster as its saliency curve: the claim holds, its
    control says the advantage is fragility to any removal."""
    per_seed, _ = auc_matrix(_fig3_curves(random_sgt=(50, 72, 58)), rows="saliency")
    (drop,) = sgt_fig3_claims(per_seed, "mnist")
    assert drop["verdict"] == "holds" and drop["control"]["verdict"] == "inconclusive"
    per_seed, _ = auc_matrix(_fig3_curves(random_sgt=(40, 44, 40)), rows="saliency")
    (drop,) = sgt_fig3_claims(per_seed, "mnist")
    assert drop["control"]["verdict"] == "does not hold"


def test_fig3_claims_two_seeds_inconclusive_and_preconditions():
    per_seed, _ = auc_matrix(_fig3_curves(seeds=(0, 1)), rows="saliency")
    recs = sgt_fig3_claims(per_seed, "mnist")
    assert len(recs) == 1 and recs[0]["verdict"] == "inconclusive"
    assert "3 needed" in recs[0]["reason"] and "3 needed" in recs[0]["control"]["reason"]
    per_seed, _ = auc_matrix(_fig3_curves(), rows="saliency")
    untrained = [Precondition("traditional test accuracy", 40.0, minimum=95.0, unit=" %")]
    (rec,) = sgt_fig3_claims(per_seed, "mnist", preconditions=untrained)
    assert rec["verdict"] == "not testable here"
    assert rec["control"]["verdict"] == "not testable here"


def test_fig3_claims_without_random_ranking():
    curves = _fig3_curves()
    per_seed, _ = auc_matrix(curves[curves["saliency"] == "grad"], rows="saliency")
    recs = sgt_fig3_claims(per_seed, "mnist")
    assert [r["id"] for r in recs] == ["sgt_fig3_steeper_drop:mnist, grad"]
    assert recs[0]["control"] is None


def _fig4_curves(seeds=(0, 1, 2)):
    """Traditional: the mean curve lies about 20 points from the background curve, the ROAR
    curve about 1.3 (under the 5-point tolerance). SGT drops faster than traditional under
    background and ROAR replacement, slower under mean replacement."""
    a = {  # (method, replacement): accuracy at [0, 50, 100] per seed
        ("traditional", "background"): [[100, 50, 10], [100, 52, 10], [100, 48, 10]],
        ("traditional", "mean"): [[100, 80, 40], [100, 83, 40], [100, 79, 40]],
        ("traditional", "roar"): [[100, 52, 12], [100, 53, 12], [100, 49, 12]],
        ("sgt", "background"): [[100, 30, 10], [100, 31, 10], [100, 27, 10]],
        ("sgt", "mean"): [[100, 90, 50], [100, 92, 50], [100, 91, 50]],
        ("sgt", "roar"): [[100, 40, 10], [100, 42, 10], [100, 36, 10]],
    }
    return _curves({
        (m, seed, rep): v[seed] for (m, rep), v in a.items() for seed in seeds
    }).drop(columns="saliency")  # fmt: skip


def test_fig4_claims_and_curve_gap():
    curves = _fig4_curves()
    assert curve_gap(
        curves, {"method": "traditional", "replacement": "background", "seed": 0},
        {"method": "traditional", "replacement": "mean", "seed": 0},
    ) == pytest.approx(20.0)  # fmt: skip
    with pytest.raises(KeyError):
        curve_gap(curves, {"method": "smoot"}, {"method": "sgt"})
    per_seed, _ = auc_matrix(curves, rows="replacement")
    claims = _by_id(sgt_fig4_claims(curves, "mnist", per_seed))
    assert {k: c["verdict"] for k, c in claims.items()} == {
        "sgt_fig4_replacements_differ:mnist, mean vs background (tolerance 5 pts)": "holds",
        "sgt_fig4_replacements_differ:mnist, roar vs background (tolerance 5 pts)":
            "does not hold",
        "sgt_fig4_faster_drop:mnist, background": "holds",
        "sgt_fig4_faster_drop:mnist, mean": "does not hold",
        "sgt_fig4_faster_drop:mnist, roar": "holds",
    }  # fmt: skip
    mean_gap = claims["sgt_fig4_replacements_differ:mnist, mean vs background (tolerance 5 pts)"]
    assert mean_gap["per_seed_a"] == pytest.approx([30.0, 30.5, 30.5])  # levels above 0
    assert mean_gap["per_seed_b"] == [5.0, 5.0, 5.0]
    loose = _by_id(sgt_fig4_claims(curves, "mnist", per_seed, similar_tolerance=0.5))
    assert loose["sgt_fig4_replacements_differ:mnist, roar vs background (tolerance 0.5 pts)"][
        "verdict"] == "holds"  # fmt: skip


def test_fig4_gap_compares_drops_from_each_curves_own_start():
    """ROAR's retrained models start lower: a ROAR curve that drops exactly as the background
    curve but starts 15 points lower is similar (relative), not 15 points apart (absolute)."""
    curves = _fig4_curves()
    roar = (curves["replacement"] == "roar") & (curves["method"] == "traditional")
    bg = curves[(curves["replacement"] == "background") & (curves["method"] == "traditional")]
    curves.loc[roar, "accuracy"] = bg["accuracy"].to_numpy() - 15.0
    sel = [{"method": "traditional", "replacement": r, "seed": 0} for r in ("background", "roar")]
    assert curve_gap(curves, *sel) == pytest.approx(15.0)
    assert curve_gap(curves, *sel, relative=True) == pytest.approx(0.0)
    per_seed, _ = auc_matrix(curves, rows="replacement")
    claims = _by_id(sgt_fig4_claims(curves, "mnist", per_seed))
    rec = claims["sgt_fig4_replacements_differ:mnist, roar vs background (tolerance 5 pts)"]
    assert rec["verdict"] == "inconclusive" and rec["per_seed_a"] == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError, match="level 0"):
        curve_gap(curves[curves["level"] > 0], *sel, relative=True)


def test_fig4_claims_two_seeds_and_preconditions():
    curves = _fig4_curves(seeds=(0, 1))
    per_seed, _ = auc_matrix(curves, rows="replacement")
    recs = sgt_fig4_claims(curves, "mnist", per_seed)
    assert len(recs) == 5 and {r["verdict"] for r in recs} == {"inconclusive"}
    curves = _fig4_curves()
    per_seed, _ = auc_matrix(curves, rows="replacement")
    pre = [Precondition("traditional test accuracy", 40.0, minimum=95.0)]
    recs = sgt_fig4_claims(curves, "mnist", per_seed, preconditions=pre)
    assert [(r["claim_id"], r["verdict"]) for r in recs] == [
        ("sgt_fig4_replacements_differ", "holds"),  # the paper's claim needs no precondition
        ("sgt_fig4_replacements_differ", "does not hold"),
        ("sgt_fig4_faster_drop", "not testable here"),
        ("sgt_fig4_faster_drop", "not testable here"),
        ("sgt_fig4_faster_drop", "not testable here"),
    ]


def test_claims_without_both_methods_are_not_run():
    curves = _curves({("traditional", 0, "grad"): [100, 50, 0]}).drop(columns="replacement")
    per_seed, _ = auc_matrix(curves, rows="saliency")
    (claim,) = sgt_fig3_claims(per_seed, "mnist")
    assert claim["verdict"] == "not run" and claim["claim_id"] == "sgt_fig3_steeper_drop"
    assert "needs training methods 'sgt' and 'traditional'" in claim["reason"]
    curves = _curves({("traditional", 0, "background"): [100, 50, 0]}).drop(columns="saliency")
    per_seed, _ = auc_matrix(curves, rows="replacement")
    (claim,) = sgt_fig4_claims(curves, "mnist", per_seed)
    assert claim["verdict"] == "not run" and claim["claim_id"] == "sgt_fig4_faster_drop"


def test_saliency_method_curves_repeat_exactly(data, trained, tmp_path):
    """GradientSHAP draws from NumPy's global RNG inside captum: the curves still repeat."""
    _, test = data
    runs = _runs(data, trained, tmp_path)
    kw = dict(levels=[0, 25, 50], saliency_methods=["gradshap", "smoothgrad"],
              options={"gradshap": {"n_samples": 2, "n_baselines": 3}})  # fmt: skip
    first = saliency_method_curves(runs, test, **kw)
    np.random.rand(3)  # move the global RNGs on
    torch.rand(3)
    pd.testing.assert_frame_equal(first, saliency_method_curves(runs, test, **kw))
