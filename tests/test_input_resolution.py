"""Masking at the model's input resolution (docs/methods.md §3.6): CIFAR served at 224 x 224
(``image_size: 224``) makes HLGM's saliency and masking act on 224 x 224 positions of DeiT-tiny's
input, while the clean forward pass computes the same function as the model's own resize."""

import torch
import torch.nn.functional as F
from paper_standins import relax_cifar_md5, write_cifar10

from saliency_lib.data import dataset_info, get_dataset
from saliency_lib.methods import get_method
from saliency_lib.models import create_model


def _masked_input(method, model, x, y):
    """The input of the model's last call in ``method.loss`` (the masked pass)."""
    seen = []
    handle = model.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach()))
    try:
        method.loss(model, x, y, torch.arange(len(x)))
    finally:
        handle.remove()
    return seen[-1]


def test_hlgm_masks_positions_of_the_model_input_resolution(tmp_path, monkeypatch):
    relax_cifar_md5(monkeypatch)
    write_cifar10(tmp_path, per_batch=2, n_test=2)
    kw = dict(root=tmp_path, source="root", download=False)
    native = get_dataset("cifar10", "train", **kw)
    big = get_dataset("cifar10", "train", image_size=224, **kw)
    assert native.shape == (3, 32, 32) and native.in_memory
    assert big.shape == (3, 224, 224) and not big.in_memory and len(big) == len(native) == 10
    assert dataset_info("cifar10", image_size=224).image_size == 224
    assert any("resized on access" in note for note in big.provenance["notes"])

    torch.manual_seed(0)
    model = create_model("deit_tiny", num_classes=10, in_channels=3, image_size=224)
    model.eval()  # deterministic forward for the comparison below
    x32 = torch.stack([native[i][0] for i in range(2)])
    x224 = torch.stack([big[i][0] for i in range(2)])
    y = native.y[:2]
    # the data transform is the model's own resize: the clean function is unchanged
    assert torch.allclose(x224, F.interpolate(x32, size=(224, 224), mode="bilinear"))
    with torch.no_grad():
        assert torch.allclose(model(x224), model(x32), atol=1e-5)
    model.train()

    for x, size in ((x224, 224), (x32, 32)):
        hlgm = get_method("hlgm", k_top_start=0.2)
        hlgm.setup(num_train=2, num_positions=size * size, num_classes=10, device="cpu")
        hlgm.plateau_epoch = 0  # phase 2 from epoch 1: a regularize epoch masking the top 20 %
        assert hlgm.start_epoch(1) == "regularize"
        masked = _masked_input(hlgm, model, x, y)
        assert masked.shape[-2:] == (size, size)  # what the model receives
        changed = (masked != x).any(dim=1).flatten(1).sum(dim=1)
        assert changed.tolist() == [round(0.2 * size * size)] * 2  # 10,035 of 224 x 224 positions


def test_evaluation_helpers_read_lazy_sets(tmp_path, monkeypatch):
    """Lazy sets (Caltech-101, Pet, resized CIFAR) have no ``.x``: the evaluation helpers read
    their items (the paper dry run crashed here on Caltech-101)."""
    from saliency_lib.metrics._common import unpack_data
    from saliency_lib.studies.maps import first_images

    relax_cifar_md5(monkeypatch)
    write_cifar10(tmp_path, per_batch=2, n_test=3)
    test = get_dataset("cifar10", "test", root=tmp_path, source="root", image_size=64)
    assert test.x is None
    x, y = first_images(test, 2)
    assert (
        x.shape == (2, 3, 64, 64)
        and torch.equal(x[1], test[1][0])
        and y.tolist() == test.y[:2].tolist()
    )
    x, y = unpack_data(test)
    assert x.shape == (3, 3, 64, 64) and torch.equal(x[2], test[2][0])
