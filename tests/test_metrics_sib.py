"""SIB(x) on constructed saliency maps and boxes, including ties."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from saliency_lib.metrics import box_mask, model_sib, sib, sib_column, sib_medians


def test_column_names():
    names = [sib_column(f) for f in (0.005, 0.01, 0.02, 0.05, 0.1)]
    assert names == ["SIB(0.5)", "SIB(1)", "SIB(2)", "SIB(5)", "SIB(10)"]


def test_box_mask_is_max_exclusive_columns_then_rows():
    m = box_mask(torch.tensor([[1, 2, 3, 4]]), 5, 6)[0]  # x 1..2, y 2..3
    expected = torch.zeros(5, 6, dtype=torch.bool)
    expected[2:4, 1:3] = True
    assert torch.equal(m, expected)


def test_sib_exact_fractions_with_ties():
    # 4x4 images; fractions 12.5 %, 25 %, 50 % -> k = 2, 4, 8; 1 % -> k = 0 -> NaN.
    s = torch.zeros(4, 4, 4)
    boxes = torch.zeros(4, 4, dtype=torch.long)
    # image 0: all scores tied -> the top k are the first k pixels in row-major order;
    # box = row 0, columns 0-1 (positions 0, 1).
    s[0] = 1.0
    boxes[0] = torch.tensor([0, 0, 2, 1])
    # image 1: |score| grows with the position (negative scores: |.| is ranked);
    # box = rows 2-3, columns 2-3 = positions 10, 11, 14, 15.
    s[1] = -torch.arange(16.0).reshape(4, 4)
    boxes[1] = torch.tensor([2, 2, 4, 4])
    # image 2: no box -> excluded
    s[2] = torch.rand(4, 4)
    # image 3: position 5 highest, positions 3 and 9 tied (3 comes first), then zeros in pixel
    # order 0, 1, 2, 4, 6, ...; box = column 1, row 2 = position 9.
    s[3].view(-1)[5] = 2.0
    s[3].view(-1)[9] = 1.0
    s[3].view(-1)[3] = -1.0
    boxes[3] = torch.tensor([1, 2, 2, 3])
    has_box = torch.tensor([True, True, False, True])
    df = sib(s, boxes, fractions=(0.125, 0.25, 0.5, 0.01), has_box=has_box)
    assert list(df.columns) == ["SIB(12.5)", "SIB(25)", "SIB(50)", "SIB(1)"]
    assert df.index.tolist() == [0, 1, 3]
    assert df.attrs["n_excluded"] == 1 and df.attrs["n_images"] == 3
    assert df.attrs["k"] == [2, 4, 8, 0]
    expected = np.array(
        [
            [1.0, 2 / 4, 2 / 8],  # image 0
            [1.0, 2 / 4, 4 / 8],  # image 1: top 8 = 15..8 -> 15, 14, 11, 10 inside
            [0.0, 1 / 4, 1 / 8],  # image 3: top 2 = {5, 3}; top 4 adds 9 and 0
        ]
    )
    np.testing.assert_allclose(df.iloc[:, :3].to_numpy(), expected)
    assert df["SIB(1)"].isna().all()
    med = sib_medians(df)
    assert med["SIB(12.5)"] == 1.0 and med["SIB(25)"] == 0.5


def test_sib_matches_brute_force_loop():
    g = torch.Generator().manual_seed(0)
    n, h, w = 12, 9, 11
    s = torch.randint(-3, 4, (n, h, w), generator=g).float()  # heavy ties, signed
    x0 = torch.randint(0, w - 1, (n,), generator=g)
    y0 = torch.randint(0, h - 1, (n,), generator=g)
    x1 = (x0 + 1 + torch.randint(0, 4, (n,), generator=g)).clamp(max=w)
    y1 = (y0 + 1 + torch.randint(0, 4, (n,), generator=g)).clamp(max=h)
    boxes = torch.stack([x0, y0, x1, y1], 1)
    fractions = (0.01, 0.05, 0.1, 0.3, 1.0)
    df = sib(s, boxes, fractions)
    for i in range(n):
        flat = s[i].abs().flatten().tolist()
        order = sorted(range(h * w), key=lambda p: -flat[p])  # Python sort is stable
        bx0, by0, bx1, by1 = boxes[i].tolist()
        for f in fractions:
            k = int(np.floor(f * h * w + 0.5))
            inside = sum(bx0 <= p % w < bx1 and by0 <= p // w < by1 for p in order[:k])
            assert df.loc[i, sib_column(f)] == pytest.approx(inside / k)
    # all positions: SIB(100) is the box's share of the image
    area = (x1 - x0) * (y1 - y0)
    np.testing.assert_allclose(df["SIB(100)"], area.numpy() / (h * w))


def test_model_sib_uses_dataset_boxes():
    h = w = 10
    lin = nn.Linear(h * w, 2)
    with torch.no_grad():
        lin.weight.zero_()
        lin.weight[:, :] = 0.0
        grid = torch.zeros(h, w)
        grid[2:5, 3:7] = 1.0  # weights only inside rows 2-4, columns 3-6 (12 positions)
        lin.weight[1] = grid.flatten()
    model = nn.Sequential(nn.Flatten(), lin)
    x = torch.randn(5, 1, h, w)
    ds = SimpleNamespace(
        x=x, y=torch.tensor([0, 1, 0, 1, 1]), num_classes=2, background=0.0,
        boxes=torch.tensor([[3, 2, 7, 5]] * 5), has_box=torch.tensor([1, 1, 0, 1, 1]).bool(),
    )  # fmt: skip
    df = model_sib(model, ds, fractions=(0.05, 0.12, 0.24))
    assert df.index.tolist() == [0, 1, 3, 4] and df.attrs["n_excluded"] == 1
    np.testing.assert_allclose(df["SIB(5)"], 1.0)
    np.testing.assert_allclose(df["SIB(12)"], 1.0)
    np.testing.assert_allclose(df["SIB(24)"], 0.5)
