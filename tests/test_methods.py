import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from saliency_lib.methods import (
    get_method,
    hlgm_schedule,
    list_methods,
    phase2_schedule,
    smoot_k_step,
)
from saliency_lib.methods.base import kl_clean_to_masked, masked_forward
from saliency_lib.saliency import training_saliency


def _tiny_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 3))


def _batch():
    g = torch.Generator().manual_seed(1)
    return torch.randn(4, 1, 4, 4, generator=g), torch.tensor([0, 1, 2, 1])


def test_registry():
    assert list_methods() == ["hlgm", "sgt", "sgt_tokens", "smoot", "traditional"]
    with pytest.raises(KeyError, match="valid options"):
        get_method("smoot", mu_typo=3)
    with pytest.raises(TypeError, match="alpha"):
        get_method("smoot", alpha="high")
    with pytest.raises(ValueError, match="saliency_mode"):
        get_method("sgt", saliency_mode="fast")


def test_kl_direction_is_clean_to_masked():
    clean = torch.tensor([[2.0, 0.0, -1.0]])
    masked = torch.tensor([[0.0, 1.0, 0.0]])
    p, q = F.softmax(clean, 1), F.softmax(masked, 1)
    expected = (p * (p.log() - q.log())).sum()
    reverse = (q * (q.log() - p.log())).sum()
    assert kl_clean_to_masked(clean, masked).item() == pytest.approx(expected.item(), rel=1e-6)
    assert abs(expected - reverse) > 1e-3  # the direction matters on this example


def test_sgt_loss_matches_hand_computation():
    model = _tiny_model()
    x, y = _batch()
    method = get_method("sgt", k_fraction=0.25)
    method.setup(num_train=4, num_positions=16, num_classes=3, device="cpu")
    assert method.k == 4
    torch.manual_seed(5)
    out = method.loss(model, x, y, torch.arange(4))
    # By hand: saliency of log_softmax at the true label, bottom 4 positions, uniform fill.
    torch.manual_seed(5)
    s = training_saliency(model, x, y)
    order = s.flatten(1).sort(dim=1, stable=True).indices[:, :4]
    lo, hi = x.amin(dim=(2, 3), keepdim=True), x.amax(dim=(2, 3), keepdim=True)
    fill = lo + (hi - lo) * torch.rand(x.shape)
    xm = x.clone().flatten(1)
    xm.scatter_(1, order, fill.flatten(1).gather(1, order))
    xm = xm.reshape_as(x)
    clean, masked = model(x), model(xm)
    p, q = F.softmax(clean, 1), F.softmax(masked, 1)
    kl = (p * (p.log() - q.log())).sum(1).mean()
    expected = F.cross_entropy(clean, y) + kl
    assert out.loss.item() == pytest.approx(expected.item(), rel=1e-5)
    torch.testing.assert_close(out.logits, clean)


def test_sgt_gradients_flow_through_both_passes():
    model = _tiny_model()
    x, y = _batch()
    method = get_method("sgt", lambda_kl=1.0)
    method.setup(4, 16, 3, "cpu")
    pair = masked_forward(model, x, y, 8, "bottom", method.cfg)
    assert pair.clean_logits.requires_grad and pair.masked_logits.requires_grad


def test_shared_prefix_gives_the_same_numbers_as_a_separate_eval_pass():
    from saliency_lib.models import create_model

    model = create_model("cnn2", num_classes=3, in_channels=1, image_size=8).train()
    x = torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    results = []
    for share in (True, False):
        method = get_method("sgt", share_prefix=share)
        method.setup(6, 64, 3, "cpu")
        torch.manual_seed(3)
        out = method.loss(model, x, y, torch.arange(6))
        grads = torch.autograd.grad(out.loss, list(model.parameters()))
        results.append((out.loss.detach(), grads))
    torch.testing.assert_close(results[0][0], results[1][0], rtol=0, atol=1e-6)
    for a, b in zip(results[0][1], results[1][1], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_fused_mode_uses_the_train_mode_pass():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))  # no dropout: fused == eval
    x, y = _batch()
    a = get_method("sgt", saliency_mode="fused")
    b = get_method("sgt", saliency_mode="eval")
    for m in (a, b):
        m.setup(4, 16, 3, "cpu")
    torch.manual_seed(1)
    la = a.loss(model, x, y, torch.arange(4)).loss
    torch.manual_seed(1)
    lb = b.loss(model, x, y, torch.arange(4)).loss
    assert la.item() == pytest.approx(lb.item(), rel=1e-6)


def test_smoot_step_floor_semantics_and_ranking():
    clean = torch.log(torch.tensor([[0.6, 0.3, 0.1], [0.5, 0.4, 0.1]]))
    masked = torch.log(torch.tensor([[0.5, 0.4, 0.1], [0.5005, 0.3995, 0.1]]))
    # sample 0: d1 = -0.1, d2 = mean(0.1, 0.0) = 0.05 -> d = 0.7*-0.1 + 0.3*0.05 = -0.055
    # sample 1: d1 = 0.0005, d2 = mean(-0.0005, 0) = -0.00025 -> d = 0.00035 - 0.000075 > 0
    step = smoot_k_step(clean, masked, n_top=3, alpha=0.7, mu=10)
    assert step.tolist() == [math.floor(10 * -0.055), 0]
    assert step[0].item() == -1  # a small negative step is -1 (mathematical floor)
    tiny_negative = smoot_k_step(
        clean[1:], torch.log(torch.tensor([[0.4999, 0.4001, 0.1]])), 2, 1.0, 10
    )
    assert tiny_negative.item() == -1
    # "clean" ranks both by p; "independent" sorts q on its own
    swapped = torch.log(torch.tensor([[0.25, 0.625, 0.125]]))
    # clean ranking: q[c1] - p[c1] = 0.25 - 0.6 = -0.35 -> floor(-3.5) = -4
    assert smoot_k_step(clean[:1], swapped, 1, 1.0, 10).item() == -4
    # independent: max(q) - max(p) = 0.625 - 0.6 = 0.025 -> floor(0.25) = 0
    assert smoot_k_step(clean[:1], swapped, 1, 1.0, 10, rank="independent").item() == 0


def test_smoot_updates_k_by_dataset_index_with_clipping():
    method = get_method("smoot", n_top=2, alpha=1.0, mu=1000)
    method.setup(num_train=6, num_positions=100, num_classes=3, device="cpu")
    assert (method.K == 50).all() and method.k_min == 20 and method.k_max == 80
    clean = torch.log(torch.tensor([[0.8, 0.1, 0.1], [0.8, 0.1, 0.1]]))
    masked = torch.log(torch.tensor([[0.8125, 0.0875, 0.1], [0.3, 0.6, 0.1]]))
    idx = torch.tensor([4, 1])  # a shuffled batch: K must follow the dataset index
    method.update_k(idx, clean, masked)
    # index 4: d = 0.0125 -> +12; index 1: d = -0.5 -> -500, clipped to K_min
    assert method.K.tolist() == [50, 20, 50, 50, 62, 50]
    # swapped roles: index 4 d = -0.0125 -> floor(-12.5) = -13; index 1 ranks by the new
    # clean top class (1): d = 0.1 - 0.6 -> stays at K_min
    method.update_k(idx, masked, clean)
    assert method.K.tolist() == [50, 20, 50, 50, 49, 50]
    assert method.k_stats() == (20, 50.0, 50)
    method.update_k(torch.tensor([3]), torch.log(torch.tensor([[0.2, 0.7, 0.1]])),
                    torch.log(torch.tensor([[0.1, 0.8, 0.1]])))  # fmt: skip
    assert method.K[3].item() == 80  # +100, clipped to K_max
    other = get_method("smoot", n_top=2, alpha=1.0, mu=1000)
    other.setup(6, 100, 3, "cpu")
    other.load_state_dict(method.state_dict())
    assert torch.equal(other.K, method.K)


def test_smoot_loss_uses_and_updates_only_the_batch_indices():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    x, y = _batch()
    method = get_method("smoot")
    method.setup(num_train=10, num_positions=16, num_classes=3, device="cpu")
    before = method.K.clone()
    idx = torch.tensor([7, 2, 9, 0])
    out = method.loss(model, x, y, idx)
    assert torch.isfinite(out.loss)
    untouched = torch.ones(10, dtype=torch.bool)
    untouched[idx] = False
    assert torch.equal(method.K[untouched], before[untouched])
    assert method.per_sample_k().shape == (10,)


def test_hlgm_schedule_exact():
    sched = hlgm_schedule(plateau_epoch=3, total_epochs=30)
    phases = [p for p, _ in sched]
    ks = [k for _, k in sched]
    R, D, T = "regularize", "denoise", "traditional"
    assert phases == [T] * 3 + [R, R, R, R, D] + [R, R, R, D, D] + [R, R, D, D, D] + [
        R, D, D, D, D] + [D] * 7  # fmt: skip
    regs = [k for p, k in sched if p == R]
    assert regs == pytest.approx([0.20, 0.18, 0.16, 0.14, 0.12, 0.10, 0.08, 0.06, 0.04, 0.02])
    assert all(k == 0.5 for p, k in sched if p == D) and ks[:3] == [0.0] * 3
    first = phase2_schedule(4, decrement_first=True)
    assert [k for _, k in first] == pytest.approx([0.18, 0.16, 0.14, 0.12])


def test_hlgm_patience_switches_phase_and_follows_schedule():
    method = get_method("hlgm", patience=2, monitor="train_loss")
    method.setup(10, 100, 3, "cpu")
    losses = [1.0, 0.5, 0.6, 0.55]  # best at epoch 2, no improvement at 3 and 4 -> plateau at 4
    phases, ks = [], []
    for epoch in range(1, 11):
        phases.append(method.start_epoch(epoch))
        ks.append(method.k)
        loss = losses[epoch - 1] if epoch <= len(losses) else 0.1
        method.end_epoch(epoch, {"train_loss": loss, "test_acc": 0.0})
    assert method.plateau_epoch == 4
    expected = hlgm_schedule(4, 10)
    assert phases == [p for p, _ in expected]
    assert ks == [round(k * 100) for _, k in expected]


def test_hlgm_monitor_test_acc():
    method = get_method("hlgm", patience=1, monitor="test_acc")
    method.setup(10, 100, 3, "cpu")
    for epoch, acc in enumerate([50.0, 60.0, 59.0], start=1):
        method.start_epoch(epoch)
        method.end_epoch(epoch, {"train_loss": 0.0, "test_acc": acc})
    assert method.plateau_epoch == 3


def test_train_step_gives_the_gradients_of_a_plain_backward():
    """train_step differentiates only the parameters (not the saliency input): same numbers."""
    from saliency_lib.models import create_model
    from saliency_lib.trainer import make_optimizer, train_step

    x = torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    grads = []
    for use_train_step in (True, False):
        torch.manual_seed(0)
        model = create_model("cnn2", num_classes=3, in_channels=1, image_size=8)
        method = get_method("sgt")
        method.setup(6, 64, 3, "cpu")
        opt = make_optimizer("sgd", model.parameters(), lr=0.0)
        torch.manual_seed(3)
        if use_train_step:
            train_step(model, method, opt, x, y, torch.arange(6))
        else:
            method.loss(model, x, y, torch.arange(6)).loss.backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_channels_last_model_computes_the_same_function():
    """RunConfig.channels_last (the default) changes the memory layout, not the model."""
    from saliency_lib.models import create_model

    torch.manual_seed(0)
    model = create_model("cnn2", num_classes=3, in_channels=1, image_size=12).eval()
    nhwc = create_model("cnn2", num_classes=3, in_channels=1, image_size=12)
    nhwc.load_state_dict(model.state_dict())
    nhwc = nhwc.to(memory_format=torch.channels_last).eval()
    assert nhwc.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.randn(5, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 0, 1])
    torch.testing.assert_close(nhwc(x), model(x), rtol=1e-5, atol=1e-5)
    s_nchw = training_saliency(model, x, y)
    s_nhwc = training_saliency(nhwc, x, y)
    torch.testing.assert_close(s_nhwc, s_nchw, rtol=1e-4, atol=1e-6)


def _dropout_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(32, 3))  # fmt: skip


def test_smoot_eval_k_update_is_exactly_zero_under_the_null():
    """Nothing masked (k = 0): the dropout-free K step is exactly 0; the paper's train-mode
    step (two passes, two dropout masks) is not."""
    model = _dropout_model()
    x, y = _batch()
    idx = torch.arange(4)
    drift = {}
    for k_update in ("eval", "train"):
        method = get_method("smoot", k_update=k_update, k_init_fraction=0.0, k_min_fraction=0.0,
                            mu=1000)  # fmt: skip
        method.setup(num_train=4, num_positions=16, num_classes=3, device="cpu")
        model.train()
        torch.manual_seed(3)
        for _ in range(5):
            method.loss(model, x, y, idx)
        drift[k_update] = method.K.clone()
        assert model.training  # the eval passes restore the mode
    assert (drift["eval"] == 0).all()
    assert (drift["train"] != 0).any()
    with pytest.raises(ValueError, match="k_update"):
        get_method("smoot", k_update="both")


def test_k_null_drift_measures_dropout_noise():
    from saliency_lib.metrics import k_null_drift

    model = _dropout_model()
    x = torch.randn(64, 1, 4, 4, generator=torch.Generator().manual_seed(2))
    data = (x, torch.zeros(64, dtype=torch.long))
    noisy = k_null_drift(model, data, n_top=3, alpha=0.95, mu=10, k_update="train", seed=1)
    assert noisy["n"] == 64 and noisy["share_zero"] < 1
    assert math.isclose(noisy["share_negative"] + noisy["share_zero"] + noisy["share_positive"], 1)
    assert noisy == k_null_drift(model, data, n_top=3, alpha=0.95, mu=10, seed=1)  # seeded
    clean = k_null_drift(model, data, n_top=3, alpha=0.95, mu=10, k_update="eval")
    assert clean["mean_step"] == 0 and clean["share_zero"] == 1
    assert model.training  # mode restored
