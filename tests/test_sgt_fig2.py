"""SGT Fig. 2 (B)(C): the BIRD reader on the Kaggle folder layout, VGG-16 with separate
non-inplace ReLUs, and the per-feature gradient means and their box-plot quantities on
hand-computed cases (docs/methods.md §10)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from paper_standins import write_bird
from torch import nn

from saliency_lib.data import DatasetNotFoundError, get_dataset
from saliency_lib.metrics.gradient_means import (
    feature_gradient_means,
    gradient_mean_stats,
    scale_to_max,
)
from saliency_lib.models import create_model
from saliency_lib.studies.sgt_fig2 import correctly_classified, fig2c_claims


@pytest.fixture(scope="module")
def bird_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("bird")
    write_bird(root, classes=3, per_class=2, size=32)
    return root


def test_bird_reads_split_class_image_folders(bird_root):
    train = get_dataset("bird", "train", root=bird_root, image_size=32)
    test = get_dataset("bird", "test", root=bird_root, image_size=32, normalise="none")
    assert len(train) == 6 and train.num_classes == 3
    assert train.classes == ("BIRD SPECIES 0", "BIRD SPECIES 1", "BIRD SPECIES 2")
    assert train.y.tolist() == [0, 0, 1, 1, 2, 2]
    x = test[0][0]
    assert x.shape == (3, 32, 32) and 0 <= float(x.min()) and float(x.max()) <= 1  # pixels / 255
    valid = get_dataset("bird", "test", root=bird_root, image_size=32, test_split="valid")
    assert valid.provenance["path"].endswith("valid")


def test_bird_class_missing_from_train_and_missing_folder_are_errors(bird_root, tmp_path):
    import shutil

    shutil.copytree(bird_root / "bird", tmp_path / "bird")
    (tmp_path / "bird" / "test" / "NEW BIRD").mkdir()
    with pytest.raises(DatasetNotFoundError, match="class not in"):
        get_dataset("bird", "test", root=tmp_path, image_size=32)
    with pytest.raises(DatasetNotFoundError, match="gpiosenka"):
        get_dataset("bird", "train", root=tmp_path / "nothing")


def test_vgg16_relus_are_separate_and_not_inplace():
    net = create_model("vgg16", num_classes=5, in_channels=3, image_size=32)
    relus = [m for m in net.modules() if isinstance(m, nn.ReLU)]
    assert len(relus) == 15 and len({id(m) for m in relus}) == 15
    assert not any(m.inplace for m in relus)
    assert net.classifier[0].out_features == 4048  # the SGT BIRD head
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 5)


class _Linear(nn.Module):
    def __init__(self, weight):
        super().__init__()
        self.w = nn.Parameter(weight)

    def forward(self, x):
        return x.flatten(1) @ self.w.T


def test_gradient_means_are_the_mean_input_gradient_at_the_label():
    torch.manual_seed(0)
    w = torch.randn(3, 4)
    x = torch.randn(5, 1, 2, 2)
    y = torch.tensor([0, 2, 2, 1, 0])
    data = type("D", (), {"x": x, "y": y, "__len__": lambda self: 5})()
    means = feature_gradient_means(_Linear(w), data, batch_size=2, output="logit",
                                   progress=False)  # fmt: skip
    torch.testing.assert_close(means, w[y].mean(0).reshape(1, 2, 2))


def test_box_plot_quantities_by_hand():
    v = np.array([-0.04, -0.03, -0.02, -0.01, 0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 1.0, -0.5])
    s = gradient_mean_stats(v * 3.0)  # scale-free: divided by the largest |mean|
    q1, q3 = np.percentile(v, [25, 75])
    iqr = q3 - q1
    assert s["iqr"] == pytest.approx(iqr)
    outliers = v[(v < q1 - 1.5 * iqr) | (v > q3 + 1.5 * iqr)]
    assert sorted(outliers) == [-0.5, 1.0]
    assert s["outliers"] == pytest.approx(len(outliers) / len(v))
    assert s["separation"] == pytest.approx(np.median(np.abs(outliers - v.mean())) / iqr)
    assert np.abs(scale_to_max([2.0, -4.0])).max() == 1.0
    assert np.isnan(gradient_mean_stats(np.zeros(5))["separation"])  # no spread, no outliers


def test_correctly_classified_and_claims_pair_by_seed():
    import pandas as pd

    x = torch.randn(6, 1, 2, 2)
    y = torch.tensor([0, 1, 0, 1, 0, 1])
    data = type("D", (), {"y": y, "__len__": lambda self: 6,
                          "__getitem__": lambda self, i: (x[i], int(y[i]), i)})()  # fmt: skip

    class Fixed(nn.Module):
        def __init__(self, preds):
            super().__init__()
            self.p = nn.Parameter(torch.zeros(()))
            self.preds = preds

        def forward(self, xb):  # predictions by position, ignoring the input
            n = len(xb)
            return nn.functional.one_hot(self.preds[:n], 2).float() + 0 * self.p

    a = Fixed(torch.tensor([0, 1, 1, 1, 0, 1]))
    b = Fixed(torch.tensor([0, 0, 0, 1, 0, 1]))
    assert correctly_classified({"a": a, "b": b}, data, n=2) == [0, 3]
    per_seed = pd.DataFrame({
        "method": ["traditional"] * 3 + ["sgt"] * 3, "seed": [0, 1, 2] * 2,
        "accuracy": [90.0] * 6, "iqr": [0.3, 0.31, 0.29, 0.1, 0.12, 0.09],
        "separation": [2.0, 2.1, 1.9, 5.0, 4.0, 6.0],
    })  # fmt: skip
    conc, sep = fig2c_claims(per_seed, "mnist", min_accuracy=95.0)
    assert conc["verdict"] == sep["verdict"] == "not testable here"  # 90 % < 95 %
    conc, sep = fig2c_claims(per_seed, "mnist", min_accuracy=80.0)
    assert conc["verdict"] == "holds" and sep["verdict"] == "holds"
    assert conc["per_seed_a"] == [0.1, 0.12, 0.09]
