"""Every plot helper renders to PNG (and PDF) files."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from saliency_lib import plots  # noqa: E402
from saliency_lib.metrics import MotivationResult, classify_curves, sib  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _check(fig, tmp_path, name, formats=("png",)):
    """Render ``fig`` (PNG at a low dpi to keep the tests fast; PDF where asked)."""
    paths = plots.save_figure(fig, tmp_path / "sub" / name, formats=formats, dpi=40)
    assert [p.suffix for p in paths] == [f".{f}" for f in formats]
    for p in paths:
        assert p.exists() and p.stat().st_size > 0
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_figure_default_formats(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    paths = plots.save_figure(fig, tmp_path / "a" / "fig")
    assert [p.name for p in paths] == ["fig.png", "fig.pdf"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_accuracy_drop_plot(tmp_path):
    levels = np.arange(0, 101, 10)
    rows = []
    for training, slope in (("Traditional", 0.6), ("SGT", 0.8)):
        for method in ("grad", "ig"):
            for seed in (0, 1):
                acc = np.clip(100 - slope * levels + seed, 0, 100)
                rows += [
                    dict(training=training, method=method, seed=seed, level=lv, accuracy=a)
                    for lv, a in zip(levels, acc, strict=True)
                ]
    df = pd.DataFrame(rows)
    fig = plots.plot_accuracy_drop(df, hue="training", col="method", title="drop")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("AUC" in t for t in labels)
    _check(fig, tmp_path, "drop_panels", formats=("png", "pdf"))
    one = df[(df.training == "SGT") & (df.seed == 0)]
    _check(plots.plot_accuracy_drop(one, hue="method"), tmp_path, "drop_methods")


def test_saliency_grid(tmp_path):
    g = torch.Generator().manual_seed(0)
    images = torch.randn(4, 3, 8, 8, generator=g)
    maps = {"Traditional": torch.randn(4, 8, 8, generator=g), "SMOOT": torch.zeros(4, 8, 8)}
    fig = plots.plot_saliency_grid(images, maps, titles=list("abcd"))
    assert len(fig.axes) == 3 * 4
    _check(fig, tmp_path, "grid")
    _check(plots.plot_saliency_grid(images[:, :1], maps, abs=False, cmap="bwr"), tmp_path, "g1")


def test_gradient_distribution_plots(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"sample": np.repeat(np.arange(4), 50).tolist() * 2,
                       "value": rng.uniform(-1, 1, 400),
                       "label": ["Traditional"] * 200 + ["SGT"] * 200})  # fmt: skip
    for kind in ("box", "violin", "hist"):
        _check(plots.plot_gradient_distribution(df, kind=kind), tmp_path, f"grad_{kind}")
    _check(plots.plot_gradient_distribution(df, x="sample", hue="label"), tmp_path, "per_sample")
    with pytest.raises(ValueError):
        plots.plot_gradient_distribution(df, kind="pie")


def test_hlgm_plot(tmp_path):
    phases = ["traditional"] * 4 + ["regularize"] * 4 + ["denoise"] + ["regularize"] * 3
    phases += ["denoise"] * 2
    hist = [dict(epoch=e + 1, train_acc=50 + 2 * e, test_acc=48 + e, phase=p)
            for e, p in enumerate(phases)]  # fmt: skip
    base = [dict(epoch=e + 1, train_acc=50 + 2 * e, test_acc=48 + 0.8 * e, phase="traditional")
            for e in range(len(phases))]  # fmt: skip
    fig = plots.plot_hlgm_accuracy(hist, base, title="HLGM")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert {"traditional", "regularize", "denoise"} <= set(labels)
    _check(fig, tmp_path, "hlgm")


def test_sib_plots(tmp_path):
    g = torch.Generator().manual_seed(0)
    boxes = torch.tensor([[2, 2, 9, 9]] * 150)
    frames = {
        name: sib(torch.rand(150, 12, 12, generator=g), boxes, has_box=torch.arange(150) != 3)
        for name in ("Baseline", "SGT", "HLGM")
    }
    _check(plots.plot_sib_boxplots(frames), tmp_path, "sib_box")
    fig = plots.plot_sib_scatter(frames, "SIB(5)", n=120)
    assert len(fig.axes[0].collections[0].get_offsets()) == 120
    _check(fig, tmp_path, "sib_scatter")


def test_motivation_plot(tmp_path):
    levels = np.arange(0, 101, 25)
    curves = np.array([[0.9, 0.8, 0.5, 0.2, 0.1], [0.5, 0.6, 0.4, 0.3, 0.2],
                       [0.2, 0.1, 0.1, 0.3, 0.5]])  # fmt: skip
    classes = classify_curves(curves, levels)
    res = MotivationResult(levels, curves, classes, {})
    _check(plots.plot_motivation(res, title="motivation"), tmp_path, "motivation")
    _check(plots.plot_motivation(res.curves), tmp_path, "motivation_df")


def test_figures_speak_in_words():
    """Class names in saliency-map titles, dataset titles, and method / saliency ids in words in
    legends and panel titles (a user's own label is shown as it is)."""
    import pandas as pd
    import torch

    from saliency_lib import plots, studies

    names = studies.class_titles("fashion_mnist", torch.tensor([0, 9]))
    assert names == ["T-shirt/top", "ankle boot"]
    assert studies.class_titles("cifar10", [3]) == ["cat"]
    assert studies.class_titles("synthetic", [2]) == ["2"]  # no names: the label
    assert studies.dataset_title("cluttered_fashion_mnist") == "cluttered Fashion-MNIST"
    curves = pd.DataFrame({"level": [0, 50, 0, 50], "accuracy": [90, 40, 90, 60],
                           "method": ["sgt", "sgt", "my_method", "my_method"],
                           "saliency": ["ig"] * 4})  # fmt: skip
    fig = plots.plot_accuracy_drop(curves, hue="method", col="saliency")
    ax = fig.axes[0]
    assert ax.get_title() == "Integrated Gradients"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("SGT (AUC") and legend[1].startswith("my_method (AUC")
