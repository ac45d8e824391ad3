import subprocess
import sys

import pytest
import torch

from saliency_lib.models import count_parameters, create_model, list_models

# (in_channels, image_size) of each dataset's images.
SHAPES = {
    "mnist": (1, 28),
    "fashion_mnist": (1, 28),
    "cluttered_fashion_mnist": (1, 56),
    "cifar10": (3, 32),
    "caltech101": (3, 224),
}


def test_cnn2_matches_reference_parameter_count():
    assert count_parameters(create_model("cnn2", num_classes=10)) == 1_199_882


def test_registry_lists_models_and_rejects_unknown():
    assert {"cnn2", "resnet18", "deit_tiny"} <= set(list_models())
    with pytest.raises(KeyError, match="cnn2"):
        create_model("cnn3", num_classes=10)


@pytest.mark.parametrize("name", ["cnn2", "resnet18", "deit_tiny"])
@pytest.mark.parametrize("dataset", sorted(SHAPES))
def test_forward_shapes(name, dataset):
    c, s = SHAPES[dataset]
    model = create_model(name, num_classes=7, in_channels=c, image_size=s).eval()
    with torch.no_grad():
        out = model(torch.randn(2, c, s, s))
    assert out.shape == (2, 7)


def test_resnet18_relus_are_not_reused():
    model = create_model("resnet18", num_classes=10, in_channels=1, image_size=28)
    relus = [m for m in model.modules() if isinstance(m, torch.nn.ReLU)]
    assert len(relus) == len({id(m) for m in relus}) == 1 + 2 * 8
    assert not any(m.inplace for m in relus)


def test_captum_deeplift_runs_on_resnet18():
    from captum.attr import DeepLift

    torch.manual_seed(0)
    model = create_model("resnet18", num_classes=10, in_channels=3, image_size=32).eval()
    x = torch.randn(3, 3, 32, 32)
    attr, delta = DeepLift(model).attribute(
        x, baselines=torch.zeros_like(x), target=1, return_convergence_delta=True
    )
    assert attr.shape == x.shape
    # Completeness holds (up to float error) only when every ReLU is its own module.
    out = model(x)[:, 1] - model(torch.zeros_like(x))[:, 1]
    torch.testing.assert_close(attr.sum(dim=(1, 2, 3)), out.detach(), rtol=1e-3, atol=1e-3)
    assert delta.abs().max() < 1e-3


def test_pretrained_offline_error_is_clear():
    # torchvision tries the download and fails at once without network.
    try:
        create_model("resnet18", num_classes=10, in_channels=3, image_size=224, pretrained=True)
    except RuntimeError as err:
        assert "network" in str(err) and "pretrained=False" in str(err)
    # (with network or a filled cache the weights simply load, which is fine too)


def test_deit_pretrained_offline_error_is_clear():
    code = (
        "from saliency_lib.models import create_model\n"
        "try:\n"
        "    create_model('deit_tiny', 10, 3, 224, pretrained=True)\n"
        "except RuntimeError as e:\n"
        "    print('ERR', e)\n"
    )
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if "ERR" in out.stdout:
        assert "pretrained=False" in out.stdout


def test_cnn2_rejects_pretrained():
    with pytest.raises(ValueError, match="pretrained"):
        create_model("cnn2", num_classes=10, pretrained=True)
