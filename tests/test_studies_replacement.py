"""SGT Figs. 3-4 study helpers: the ROAR training function, ROAR / replacement curves over runs,
AUC tables and the claims computed from them (tiny synthetic problem: 8x8 images, 4 classes,
each class carried by its own 2x2 block of pixels)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

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


def test_auc_matrix_and_fig3_claims():
    curves = _curves(
        {
            ("traditional", 0, "grad"): [100, 60, 10],  # AUC 57.5
            ("traditional", 1, "grad"): [100, 80, 10],  # AUC 67.5 -> mean 62.5
            ("sgt", 0, "grad"): [100, 20, 10],  # AUC 37.5
            ("sgt", 1, "grad"): [100, 40, 10],  # AUC 47.5 -> mean 42.5
            ("traditional", 0, "random"): [100, 90, 10],
            ("traditional", 1, "random"): [100, 90, 10],  # AUC 72.5
            ("sgt", 0, "random"): [100, 94, 10],
            ("sgt", 1, "random"): [100, 94, 10],  # AUC 74.5
        }
    ).drop(columns="replacement")
    per_seed, matrix = auc_matrix(curves, rows="saliency")
    assert len(per_seed) == 8
    m = matrix.set_index("saliency")
    assert list(matrix.columns) == [
        "saliency",
        "traditional",
        "sgt",
        "n_seeds",
        "sgt - traditional",
    ]
    assert m.loc["grad", "traditional"] == pytest.approx(62.5)
    assert m.loc["grad", "sgt - traditional"] == pytest.approx(-20.0)
    assert m.loc["random", "n_seeds"] == 2
    claims = {c["id"]: c for c in sgt_fig3_claims(matrix, "mnist", per_seed)}
    assert claims["sgt_fig3_mnist_grad_auc"]["holds"] is True
    assert "per seed" in claims["sgt_fig3_mnist_grad_auc"]["detail"]
    assert claims["sgt_fig3_mnist_random_same"]["holds"] is True  # |2.0| <= 3
    assert claims["sgt_fig3_mnist_all_gradient_methods"]["holds"] is True
    strict = {c["id"]: c for c in sgt_fig3_claims(matrix, "mnist", random_tolerance=1.0)}
    assert strict["sgt_fig3_mnist_random_same"]["holds"] is False
    assert "sgt_fig3_mnist_beyond_random" not in strict
    gains = auc_gain_over(matrix)
    assert list(gains["saliency"]) == ["grad"]
    assert gains.loc[0, "traditional"] == pytest.approx(72.5 - 62.5)
    assert gains.loc[0, "sgt"] == pytest.approx(74.5 - 42.5)
    assert gains.loc[0, "sgt - traditional"] == pytest.approx(22.0)
    with_gains = {c["id"]: c for c in sgt_fig3_claims(matrix, "mnist", gains=gains)}
    assert with_gains["sgt_fig3_mnist_beyond_random"]["holds"] is True
    with pytest.raises(KeyError):
        auc_gain_over(matrix, baseline="uniform")


def test_fig4_claims_and_curve_gap():
    curves = _curves(
        {
            ("traditional", 0, "background"): [100, 50, 10],
            ("traditional", 0, "mean"): [100, 80, 40],  # gap (0 + 30 + 30) / 3 = 20
            ("traditional", 0, "roar"): [100, 52, 12],  # gap 4 / 3
            ("sgt", 0, "background"): [100, 30, 10],
            ("sgt", 0, "mean"): [100, 90, 50],
            ("sgt", 0, "roar"): [100, 40, 10],
        }
    ).drop(columns="saliency")
    assert curve_gap(
        curves, {"method": "traditional", "replacement": "background"},
        {"method": "traditional", "replacement": "mean"},
    ) == pytest.approx(20.0)  # fmt: skip
    with pytest.raises(KeyError):
        curve_gap(curves, {"method": "smoot"}, {"method": "sgt"})
    _, matrix = auc_matrix(curves, rows="replacement")
    claims = {c["id"]: c for c in sgt_fig4_claims(curves, matrix, "mnist")}
    assert claims["sgt_fig4_mnist_mean_differs_from_background"]["holds"] is True
    assert claims["sgt_fig4_mnist_roar_differs_from_background"]["holds"] is False
    assert claims["sgt_fig4_mnist_background_auc"]["holds"] is True
    assert claims["sgt_fig4_mnist_mean_auc"]["holds"] is False
    assert claims["sgt_fig4_mnist_roar_auc"]["holds"] is True


def test_claims_without_both_methods_are_not_run():
    curves = _curves({("traditional", 0, "grad"): [100, 50, 0]}).drop(columns="replacement")
    _, matrix = auc_matrix(curves, rows="saliency")
    (claim,) = sgt_fig3_claims(matrix, "mnist")
    assert claim["holds"] is None
    curves = _curves({("traditional", 0, "background"): [100, 50, 0]}).drop(columns="saliency")
    _, matrix = auc_matrix(curves, rows="replacement")
    (claim,) = sgt_fig4_claims(curves, matrix, "mnist")
    assert claim["holds"] is None


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
