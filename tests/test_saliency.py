import pytest
import torch
from captum.attr import Saliency

from saliency_lib.models import create_model
from saliency_lib.saliency import (
    LogSoftmaxHead,
    attribute,
    list_saliency_methods,
    training_saliency,
)


@pytest.fixture
def model_and_batch():
    torch.manual_seed(0)
    model = create_model("cnn2", num_classes=10, in_channels=3, image_size=12)
    x = torch.randn(4, 3, 12, 12)
    y = torch.tensor([0, 3, 5, 9])
    return model, x, y


@pytest.mark.parametrize("output", ["log_prob", "logit"])
def test_training_saliency_equals_captum_saliency(model_and_batch, output):
    model, x, y = model_and_batch
    model.train()
    ours = training_saliency(model, x, y, output=output)
    assert model.training  # state restored
    f = LogSoftmaxHead(model) if output == "log_prob" else model
    model.eval()
    ref = Saliency(f).attribute(x.clone(), target=y, abs=False).mean(dim=1)
    torch.testing.assert_close(ours, ref)
    assert ours.shape == (4, 12, 12) and (ours < 0).any()  # signed by default


def test_training_saliency_is_computed_in_eval_mode(model_and_batch):
    model, x, y = model_and_batch
    model.train()
    a = training_saliency(model, x, y)
    b = training_saliency(model, x, y)
    torch.testing.assert_close(a, b)  # dropout off: repeatable


def test_abs_option(model_and_batch):
    model, x, y = model_and_batch
    signed = attribute(model, x, y, "grad", abs=False)
    absolute = attribute(model, x, y, "grad", abs=True)
    assert (absolute >= 0).all() and (signed < 0).any()


@pytest.mark.parametrize("method", ["grad", "ig", "smoothgrad", "deeplift", "gradshap", "random"])
def test_every_method_returns_one_score_per_position(model_and_batch, method):
    model, x, y = model_and_batch
    g = torch.Generator().manual_seed(0)
    scores = attribute(model, x, y, method, generator=g, batch_size=3)
    assert scores.shape == (4, 12, 12) and torch.isfinite(scores).all()


def test_seeded_attributions_repeat(model_and_batch):
    model, x, y = model_and_batch
    for method in ("smoothgrad", "ig", "random"):
        a = attribute(model, x, y, method, generator=torch.Generator().manual_seed(3))
        b = attribute(model, x, y, method, generator=torch.Generator().manual_seed(3))
        torch.testing.assert_close(a, b)


def test_seeded_gradshap_ignores_and_keeps_the_global_random_state(model_and_batch):
    """captum's GradientSHAP draws from numpy's and torch's global RNGs: with a generator the
    attributions depend on its seed alone (not on what ran before), and the global states are
    as they were (the fig5 GradientSHAP shares had changed between two runs of one notebook)."""
    import numpy as np

    model, x, y = model_and_batch
    out = []
    for state in (1, 2):
        np.random.seed(state)
        torch.manual_seed(state)
        before = (np.random.get_state()[1].copy(), torch.get_rng_state())
        g = torch.Generator().manual_seed(3)
        out.append(attribute(model, x, y, "gradshap", generator=g, stdevs=0.1))
        assert (np.random.get_state()[1] == before[0]).all()
        assert torch.equal(torch.get_rng_state(), before[1])
    torch.testing.assert_close(out[0], out[1], rtol=0, atol=0)


def test_unknown_method_lists_choices(model_and_batch):
    model, x, y = model_and_batch
    assert "deeplift" in list_saliency_methods()
    with pytest.raises(KeyError, match="smoothgrad"):
        attribute(model, x, y, "lime")
