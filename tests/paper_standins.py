"""Stand-in data in each paper dataset's real on-disk format (torchvision's layouts), for the
paper dry run and loader tests: CIFAR-10/100 python pickles, MNIST and Fashion-MNIST IDX files,
Caltech-101 category folders of JPEGs, Oxford-IIIT Pet JPEGs with
``annotations/{trainval,test}.txt`` and VOC head boxes in ``annotations/xmls``, BIRD (Kaggle
bird species: ``bird/{train,valid,test}/<CLASS>/*.jpg``), ERASER's Movie Reviews and FEVER
(``docs/`` folders) and e-SNLI (``docs.jsonl``, premise and hypothesis documents) with
``{train,val,test}.jsonl`` annotations, and a GloVe text file (``glove/glove.6B.300d.txt``) of
their words. Pixels are seeded noise with a class-dependent bright square, so the sets are
learnable but mean nothing; the texts are seeded filler words with class words as evidence.

torchvision checks the CIFAR files' MD5 sums against the published archives, which stand-ins
cannot match: :func:`relax_cifar_md5` (this process) and :data:`SITECUSTOMIZE` (a kernel started
with its folder on ``PYTHONPATH``) replace that one check by a file-existence check. Nothing else
of the loaders is changed.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

SITECUSTOMIZE = '''\
"""Paper dry run (tests/paper_standins.py): CIFAR stand-ins cannot match torchvision's MD5 sums;
check that the files exist instead. Nothing else is changed."""
import os

import torchvision.datasets.cifar as _cifar

_cifar.check_integrity = lambda fpath, md5=None: os.path.isfile(fpath)
'''


def relax_cifar_md5(monkeypatch) -> None:
    """In this process: torchvision's CIFAR loaders accept files whose MD5 differs."""
    import os

    import torchvision.datasets.cifar as cifar

    monkeypatch.setattr(cifar, "check_integrity", lambda fpath, md5=None: os.path.isfile(fpath))


def write_sitecustomize(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return folder


def _images(n: int, channels: int, size: int, labels: np.ndarray, num_classes: int, seed: int):
    """uint8 (n, C, size, size): noise plus a bright square whose place depends on the class."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 90, (n, channels, size, size), dtype=np.uint8)
    cells = int(np.ceil(np.sqrt(num_classes)))
    step = max(size // cells, 1)
    side = max(step // 2, 2)
    for i, y in enumerate(labels):
        r, c = divmod(int(y), cells)
        top, left = min(r * step, size - side), min(c * step, size - side)
        x[i, :, top : top + side, left : left + side] = 230
    return x


def _labels(n: int, num_classes: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.permutation(np.arange(n) % num_classes).astype(np.int64)


def _pickle(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def write_cifar10(root: Path, per_batch: int = 10, n_test: int = 20) -> Path:
    """``<root>/cifar-10-batches-py/`` with data_batch_1..5, test_batch and batches.meta."""
    base = Path(root) / "cifar-10-batches-py"
    files = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for seed, name in enumerate(files):
        n = n_test if name == "test_batch" else per_batch
        y = _labels(n, 10, seed)
        x = _images(n, 3, 32, y, 10, 100 + seed)
        names = [f"{i}.png" for i in range(n)]
        _pickle(base / name, {"batch_label": name, "labels": y.tolist(),
                              "data": x.reshape(n, -1), "filenames": names})  # fmt: skip
    _pickle(base / "batches.meta", {"label_names": [f"class{i}" for i in range(10)],
                                    "num_cases_per_batch": per_batch, "num_vis": 3072})  # fmt: skip
    return base


def write_cifar100(root: Path, n_train: int = 200, n_test: int = 100) -> Path:
    """``<root>/cifar-100-python/`` with train, test and meta (fine and coarse labels)."""
    base = Path(root) / "cifar-100-python"
    for seed, (name, n) in enumerate((("train", n_train), ("test", n_test))):
        y = _labels(n, 100, 10 + seed)
        x = _images(n, 3, 32, y, 100, 200 + seed)
        _pickle(base / name, {"filenames": [f"{i}.png" for i in range(n)], "batch_label": name,
                              "fine_labels": y.tolist(), "coarse_labels": (y // 5).tolist(),
                              "data": x.reshape(n, -1)})  # fmt: skip
    _pickle(base / "meta", {"fine_label_names": [f"fine{i}" for i in range(100)],
                            "coarse_label_names": [f"coarse{i}" for i in range(20)]})  # fmt: skip
    return base


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, dtype=">i4").tobytes()
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def write_mnist(root: Path, folder: str = "MNIST", n_train: int = 60, n_test: int = 20) -> Path:
    """``<root>/<folder>/raw/`` with the four uncompressed IDX files (``folder``: ``MNIST`` or
    ``FashionMNIST``)."""
    raw = Path(root) / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for seed, (prefix, n) in enumerate((("train", n_train), ("t10k", n_test))):
        y = _labels(n, 10, 20 + seed)
        x = _images(n, 1, 28, y, 10, 300 + seed)[:, 0]
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", x)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", y)
    return raw


def _jpeg(path: Path, pixels: np.ndarray) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels.transpose(1, 2, 0)).save(path, quality=90)


def write_caltech101(root: Path, num_classes: int = 101, per_class: int = 2) -> Path:
    """``<root>/caltech101/101_ObjectCategories/<category>/image_XXXX.jpg`` (plus the
    ``BACKGROUND_Google`` folder torchvision drops), images of varied sizes, a few grayscale."""
    base = Path(root) / "caltech101" / "101_ObjectCategories"
    rng = np.random.default_rng(5)
    _jpeg(
        base / "BACKGROUND_Google" / "image_0001.jpg", rng.integers(0, 255, (3, 30, 40), np.uint8)
    )
    for c in range(num_classes):
        for k in range(1, per_class + 1):
            h, w = int(rng.integers(28, 60)), int(rng.integers(28, 60))
            x = _images(1, 3, max(h, w), np.array([c]), num_classes, 1000 * c + k)[0, :, :h, :w]
            if (c + k) % 17 == 0:  # Caltech-101 has grayscale JPEGs
                from PIL import Image

                path = base / f"cat{c:03d}" / f"image_{k:04d}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.fromarray(x[0]).save(path)
                continue
            _jpeg(base / f"cat{c:03d}" / f"image_{k:04d}.jpg", np.ascontiguousarray(x))
    return base


def write_oxford_pet(root: Path, per_breed_train: int = 2, per_breed_test: int = 1) -> Path:
    """``<root>/oxford-iiit-pet/`` with ``images/*.jpg``, ``annotations/{trainval,test}.txt``
    (``stem class species breed``, 1-based) and VOC head boxes ``annotations/xmls/<stem>.xml``
    for the trainval images only, as the real set (one trainval image left without a box)."""
    base = Path(root) / "oxford-iiit-pet"
    ann = base / "annotations"
    (ann / "xmls").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    lines = {"trainval": [], "test": []}
    k = 0
    for breed in range(37):
        name = f"Breed{breed:02d}" if breed < 12 else f"breed{breed:02d}"  # cats capitalised
        species = 1 if breed < 12 else 2
        for split, n in (("trainval", per_breed_train), ("test", per_breed_test)):
            for _ in range(n):
                k += 1
                stem = f"{name}_{k}"
                h, w = int(rng.integers(40, 80)), int(rng.integers(40, 80))
                x = _images(1, 3, max(h, w), np.array([breed]), 37, k)[0, :, :h, :w]
                _jpeg(base / "images" / f"{stem}.jpg", np.ascontiguousarray(x))
                lines[split].append(f"{stem} {breed + 1} {species} {breed % 12 + 1}")
                if split == "trainval" and k != 1:
                    x0, y0 = int(rng.integers(1, w // 2)), int(rng.integers(1, h // 2))
                    x1, y1 = int(rng.integers(x0 + 5, w)), int(rng.integers(y0 + 5, h))
                    (ann / "xmls" / f"{stem}.xml").write_text(
                        f"<annotation><filename>{stem}.jpg</filename><size><width>{w}</width>"
                        f"<height>{h}</height><depth>3</depth></size><object><name>"
                        f"{'cat' if species == 1 else 'dog'}</name><bndbox><xmin>{x0}</xmin>"
                        f"<ymin>{y0}</ymin><xmax>{x1}</xmax><ymax>{y1}</ymax></bndbox></object>"
                        "</annotation>"
                    )
    for split, rows in lines.items():
        (ann / f"{split}.txt").write_text("\n".join(rows) + "\n")
    return base


def write_bird(root: Path, classes: int = 3, per_class: int = 2, size: int = 224) -> Path:
    """``<root>/bird/{train,valid,test}/<CLASS NAME>/<n>.jpg`` (the Kaggle set's layout: upper-case
    class folders with spaces, 224 x 224 RGB JPEGs)."""
    base = Path(root) / "bird"
    names = [f"BIRD SPECIES {c}" for c in range(classes)]
    for s, split in enumerate(("train", "valid", "test")):
        for c, name in enumerate(names):
            for k in range(1, per_class + 1):
                x = _images(1, 3, size, np.array([c]), classes, 5000 + 100 * s + 10 * c + k)[0]
                _jpeg(base / split / name / f"{k}.jpg", x)
    return base


_WORDS = (
    "the a film plot actor scene story was is and of it this that with but very "
    "river city born known album band released season player team"
).split()
_CLASS_WORDS = {
    "NEG": ("awful", "boring", "dull"),
    "POS": ("great", "superb", "moving"),
    "REFUTES": ("never", "not", "false"),
    "SUPPORTS": ("indeed", "also", "true"),
    "contradiction": ("nobody", "asleep", "never"),
    "entailment": ("someone", "outdoors", "person"),
    "neutral": ("maybe", "tall", "friends"),
}


def _sentence(rng, n: int) -> list[str]:
    return [str(w) for w in rng.choice(_WORDS, size=n)]


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))


def _evidence(docid: str, tokens: list[str], start: int, n: int) -> dict:
    return {"docid": docid, "start_token": start, "end_token": start + n, "start_sentence": 0,
            "end_sentence": 1, "text": " ".join(tokens[start : start + n])}  # fmt: skip


def write_eraser(root: Path, n_train: int = 8, n_val: int = 4, n_test: int = 6) -> Path:
    """``<root>/eraser/{movies,fever,esnli}/`` in ERASER's release format: Movie Reviews and FEVER
    with a ``docs/`` folder (one file per document, one sentence per line), e-SNLI with
    ``docs.jsonl`` and two documents per annotation (``docids``: premise, hypothesis);
    ``{train,val,test}.jsonl`` annotations with token-span evidences, queries as the releases
    have them (Movies: the same question; FEVER: the claim)."""
    import json

    base = Path(root) / "eraser"
    rng = np.random.default_rng(11)
    sizes = {"train": n_train, "val": n_val, "test": n_test}
    for name, labels in (("movies", ("NEG", "POS")), ("fever", ("REFUTES", "SUPPORTS")),
                         ("esnli", ("contradiction", "entailment", "neutral"))):  # fmt: skip
        folder = base / name
        docs_jsonl = []
        for split, n in sizes.items():
            rows = []
            for i in range(n):
                label = labels[i % len(labels)]
                cue = [str(w) for w in rng.choice(_CLASS_WORDS[label], size=2)]
                if name == "esnli":
                    aid = f"{split}{i}.jpg#0r1{label[0]}"
                    premise = _sentence(rng, 8)
                    hypothesis = _sentence(rng, 3) + cue + _sentence(rng, 2)
                    docs_jsonl += [{"docid": f"{aid}_premise", "document": " ".join(premise)},
                                   {"docid": f"{aid}_hypothesis",
                                    "document": " ".join(hypothesis)}]  # fmt: skip
                    rows.append({"annotation_id": aid, "classification": label,
                                 "docids": [f"{aid}_premise", f"{aid}_hypothesis"],
                                 "evidences": [[_evidence(f"{aid}_hypothesis", hypothesis, 3, 2)],
                                               [_evidence(f"{aid}_premise", premise, 1, 1)]],
                                 "query": "What is the relationship between the premise and "
                                 "hypothesis?", "query_type": None})  # fmt: skip
                    continue
                docid = f"{label.lower()}R_{split}{i:03d}.txt" if name == "movies" else (
                    f"Page_{split}_{i}")  # fmt: skip
                first, second = _sentence(rng, 9) + cue, _sentence(rng, 12)
                tokens = first + second
                (folder / "docs").mkdir(parents=True, exist_ok=True)
                (folder / "docs" / docid).write_text(" ".join(first) + "\n" + " ".join(second))
                query = ("What is the sentiment of this review?" if name == "movies"
                         else f"The {_WORDS[i % len(_WORDS)]} is {cue[0]} known .")  # fmt: skip
                rows.append({"annotation_id": docid if name == "movies" else str(1000 + i),
                             "classification": label, "docids": None,
                             "evidences": [[_evidence(docid, tokens, 9, 2)]],
                             "query": query, "query_type": None})  # fmt: skip
            _write_jsonl(folder / f"{split}.jsonl", rows)
        if docs_jsonl:
            (folder / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs_jsonl))
    return base


def write_glove(root: Path, dim: int = 300, name: str = "6B") -> Path:
    """``<root>/glove/glove.<name>.<dim>d.txt``: a seeded vector for every stand-in word (GloVe's
    text format: the word, then its values, separated by spaces)."""
    path = Path(root) / "glove" / f"glove.{name}.{dim}d.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    words = sorted(set(_WORDS) | {w for ws in _CLASS_WORDS.values() for w in ws} | {
        "what", "is", "sentiment", "of", "this", "review?", "relationship", "between",
        "premise", "and", "hypothesis?", "known", "."})  # fmt: skip
    rng = np.random.default_rng(13)
    lines = [w + " " + " ".join(f"{v:.5f}" for v in rng.normal(0, 0.4, dim)) for w in words]
    path.write_text("\n".join(lines) + "\n")
    return path


def write_all(root: Path) -> Path:
    """Every paper dataset's stand-in under ``root`` (the ``$SALIENCY_DATA`` layout)."""
    root = Path(root)
    write_bird(root)
    write_eraser(root)
    write_glove(root)
    write_cifar10(root)
    write_cifar100(root)
    write_mnist(root, "MNIST")
    write_mnist(root, "FashionMNIST")
    write_caltech101(root)
    write_oxford_pet(root)
    return root
