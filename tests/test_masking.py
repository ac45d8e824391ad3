import pytest
import torch

from saliency_lib.masking import mask, select_positions


def _changed_positions(x, xm):
    return (x != xm).any(dim=1)  # (B, H, W)


def test_bottom_k_masks_exactly_the_lowest_scores():
    torch.manual_seed(0)
    x = torch.randn(3, 2, 5, 5)
    scores = torch.randn(3, 5, 5)
    xm = mask(x, scores, 7, "bottom", "constant", value=99.0)
    changed = _changed_positions(x, xm)
    assert changed.sum(dim=(1, 2)).tolist() == [7, 7, 7]
    for i in range(3):
        lowest = scores[i].flatten().argsort()[:7]
        assert set(changed[i].flatten().nonzero().flatten().tolist()) == set(lowest.tolist())
    # every channel of a masked position is set
    assert (xm[changed[:, None].expand_as(x)] == 99.0).all()


def test_top_k_and_per_sample_k():
    scores = torch.arange(16.0).reshape(1, 4, 4).repeat(3, 1, 1)
    sel = select_positions(scores, torch.tensor([0, 3, 16]), "top")
    assert sel.sum(dim=(1, 2)).tolist() == [0, 3, 16]
    assert sel[1].flatten().nonzero().flatten().tolist() == [13, 14, 15]


def test_ties_are_broken_by_pixel_order():
    scores = torch.zeros(1, 3, 3)
    bottom = select_positions(scores, 4, "bottom").flatten().nonzero().flatten().tolist()
    top = select_positions(scores, 4, "top").flatten().nonzero().flatten().tolist()
    assert bottom == [0, 1, 2, 3] and top == [0, 1, 2, 3]


def test_k_is_clipped_and_validated():
    scores = torch.randn(2, 3, 3)
    assert select_positions(scores, 100, "bottom").all()
    assert not select_positions(scores, -5, "bottom").any()
    with pytest.raises(ValueError, match="which"):
        select_positions(scores, 1, "middle")
    with pytest.raises(ValueError, match="shape"):
        mask(torch.zeros(2, 1, 3, 3), torch.zeros(2, 4, 4), 1)


def test_uniform_fill_stays_in_each_sample_channel_range_and_is_fresh():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 8, 8) * torch.tensor([1.0, 5.0, 0.1]).reshape(1, 3, 1, 1)
    scores = torch.randn(4, 8, 8)
    g = torch.Generator().manual_seed(1)
    xm = mask(x, scores, 40, "bottom", "uniform", generator=g)
    sel = select_positions(scores, 40, "bottom")
    for i in range(4):
        for c in range(3):
            vals = xm[i, c][sel[i]]
            assert vals.min() >= x[i, c].min() and vals.max() <= x[i, c].max()
            assert vals.unique().numel() == vals.numel()  # a fresh draw per element
    # channels of one position get independent draws
    assert not torch.equal(xm[:, 0][sel], xm[:, 1][sel])


def test_mean_and_constant_fills():
    x = torch.randn(2, 3, 4, 4)
    scores = torch.randn(2, 4, 4)
    sel = select_positions(scores, 5, "top")
    xm = mask(x, scores, 5, "top", "mean")
    means = x.mean(dim=(2, 3))
    for i in range(2):
        for c in range(3):
            assert torch.allclose(xm[i, c][sel[i]], means[i, c].expand(5))
    xc = mask(x, scores, 5, "top", "constant", value=torch.tensor([1.0, 2.0, 3.0]))
    assert torch.equal(xc[:, 2][sel], torch.full((10,), 3.0))
    with pytest.raises(ValueError, match="value"):
        mask(x, scores, 5, "top", "constant")
    with pytest.raises(ValueError, match="fill"):
        mask(x, scores, 5, "top", "zeros")


def test_masked_input_is_detached():
    x = torch.randn(2, 1, 4, 4, requires_grad=True)
    xm = mask(x * 2, torch.randn(2, 4, 4), 3)
    assert not xm.requires_grad


def test_noisy_linear_single_pixel_is_neighbour_average():
    x = torch.arange(9.0).reshape(1, 1, 3, 3)
    scores = torch.zeros(1, 3, 3)
    scores[0, 1, 1] = 1.0
    xm = mask(x, scores, 1, "top", "noisy_linear", noise_std=0.0)
    direct = (1 + 3 + 5 + 7) / 6
    diagonal = (0 + 2 + 6 + 8) / 12
    assert xm[0, 0, 1, 1].item() == pytest.approx(direct + diagonal)
    assert torch.equal(xm[0, 0][scores[0] == 0], x[0, 0][scores[0] == 0])
