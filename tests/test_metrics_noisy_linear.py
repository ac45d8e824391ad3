"""ROAD noisy linear imputation (masking.noisy_linear_impute): the neighbour-mean equations."""

import numpy as np
import pytest
import torch

from saliency_lib.masking import mask, noisy_linear_impute

DIRECT = [(-1, 0), (1, 0), (0, -1), (0, 1)]
DIAGONAL = [(-1, -1), (-1, 1), (1, -1), (1, 1)]


def neighbour_mean(img: np.ndarray, r: int, c: int) -> np.ndarray:
    """Weighted mean of the in-image neighbours of (r, c): 1/6 direct, 1/12 diagonal,
    renormalised over the neighbours that exist. ``img`` is (C, H, W)."""
    _, h, w = img.shape
    total, acc = 0.0, np.zeros(img.shape[0])
    for offsets, wt in ((DIRECT, 1 / 6), (DIAGONAL, 1 / 12)):
        for dr, dc in offsets:
            if 0 <= r + dr < h and 0 <= c + dc < w:
                total += wt
                acc += wt * img[:, r + dr, c + dc]
    return acc / total


def test_hand_solved_cases():
    # 1x4 row [a, ?, ?, d]: x1 = (a + x2) / 2, x2 = (x1 + d) / 2
    a, d = 3.0, 9.0
    x = torch.tensor([a, 0.0, 0.0, d]).reshape(1, 1, 1, 4)
    sel = torch.tensor([False, True, True, False]).reshape(1, 1, 4)
    out = noisy_linear_impute(x, sel, noise_std=0.0)
    torch.testing.assert_close(
        out.flatten(), torch.tensor([a, (2 * a + d) / 3, (a + 2 * d) / 3, d])
    )
    # 2x2, top-left corner removed: neighbours right (1/6), below (1/6), diagonal (1/12)
    x = torch.tensor([[0.0, 2.0], [4.0, 7.0]]).reshape(1, 1, 2, 2)
    sel = torch.tensor([[True, False], [False, False]])[None]
    out = noisy_linear_impute(x, sel, noise_std=0.0)
    assert out[0, 0, 0, 0].item() == pytest.approx((2 * 2.0 + 2 * 4.0 + 7.0) / 5)
    # one pixel inside a 3x3 image: the full stencil
    x = torch.arange(9.0).reshape(1, 1, 3, 3)
    sel = torch.zeros(1, 3, 3, dtype=torch.bool)
    sel[0, 1, 1] = True
    out = noisy_linear_impute(x, sel, noise_std=0.0)
    expected = (1 + 3 + 5 + 7) / 6 + (0 + 2 + 6 + 8) / 12
    assert out[0, 0, 1, 1].item() == pytest.approx(expected)


def test_equations_hold_on_random_images():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 9, 7, generator=g)
    sel = torch.rand(4, 9, 7, generator=g) < torch.tensor([0.1, 0.5, 0.9, 0.0])[:, None, None]
    out = noisy_linear_impute(x, sel, noise_std=0.0).double().numpy()
    xs, ss = x.numpy(), sel.numpy()
    assert np.array_equal(out[~ss[:, None].repeat(3, 1)], xs[~ss[:, None].repeat(3, 1)])
    for i in range(4):
        for r, c in zip(*np.nonzero(ss[i]), strict=True):
            np.testing.assert_allclose(out[i, :, r, c], neighbour_mean(out[i], r, c), atol=1e-5)


def test_noise_and_fully_masked_image():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 1, 5, 5, generator=g)
    sel = torch.zeros(2, 5, 5, dtype=torch.bool)
    sel[0, 1:3, 2:4] = True
    sel[1] = True  # nothing to interpolate from: zeros plus noise
    clean = noisy_linear_impute(x, sel, noise_std=0.0)
    noisy = noisy_linear_impute(x, sel, noise_std=0.5, generator=torch.Generator().manual_seed(7))
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(7)) * 0.5
    expected = torch.where(sel[:, None], clean + noise, x)
    torch.testing.assert_close(noisy, expected)
    assert torch.equal(clean[1], torch.zeros(1, 5, 5))
    # through mask(): top-k selection with the noisy_linear fill
    scores = torch.rand(2, 5, 5, generator=g)
    out = mask(x, scores, 3, "top", fill="noisy_linear", noise_std=0.0)
    changed = (out != x)[:, 0]
    assert changed.sum(dim=(1, 2)).tolist() == [3, 3]
