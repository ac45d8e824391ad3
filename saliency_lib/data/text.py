"""Text classification with human rationales (SGT section 5.2, Table 1): ERASER's datasets read
from their release format, GloVe's text vectors, and an offline analogue with planted evidence
(docs/methods.md §9).

**ERASER's format** (DeYoung et al. 2020; the public ``eraserbenchmark`` code reads it the same
way): a dataset folder holds ``train.jsonl``, ``val.jsonl``, ``test.jsonl`` and the documents,
either a ``docs/`` folder (one file per document, named by its ``docid``: one sentence per line,
tokens separated by spaces) or one ``docs.jsonl`` (``{"docid", "document"}``). Each jsonl line is
an annotation: ``annotation_id``, ``classification`` (the label), ``query`` (FEVER: the claim),
``evidences`` (groups of ``{"docid", "start_token", "end_token", ...}``, token spans of the
flattened document, end exclusive) and, where an annotation spans several documents (e-SNLI:
premise and hypothesis), ``docids``. Read by :func:`read_annotations` and :func:`read_documents`.

**The input sequence** of an annotation: its query's tokens and a separator (when ``use_query``;
FEVER and e-SNLI), then each of its documents (``docids`` in the given order; else the evidences'
documents in order of appearance; else the document named by ``annotation_id``), separated by
the separator. The human rationale is the union of all evidence spans. Query and separators are
not document tokens: the ERASER metrics never remove them (docs/methods.md §9).

**GloVe's text format** (:func:`read_glove`): one word per line followed by its vector's values,
separated by spaces. Tokens are looked up lower-cased (``lowercase``, for the uncased 6B/42B
vectors); a word GloVe lacks gets the mean vector of the vocabulary's known words, the separator
a fixed random vector (seed 0) of the same scale. The looked-up vectors are cached under the data
root (``eraser/.glove_cache/``), keyed by the GloVe file and the vocabulary.

**Tensor layout.** An item is the embedded sequence ``(1, L, D)``: rows are tokens, columns the
embedding dimensions (``image_size`` is ``D``), padded with all-zero rows to the split's longest
sequence ``L`` (no embedded token is all zero, so the models read each length from the input:
:func:`saliency_lib.masking.sequence_lengths`). Items are embedded on access (lazy) from the
dataset's :class:`TokenTable` (``dataset.tokens``; :func:`token_table`), which also holds the
rationale and document masks the metrics need.

**The offline analogue** (``eraser_synthetic``): written to disk in ERASER's format with its own
GloVe-format vector file, then read by the same code. A two-class task: documents of filler
words (Zipf-distributed over ``vocab_size`` words) with ``spans`` planted evidence spans of 1 to
``span_max`` words from the label's lexicon (``lexicon_size`` words per class), and with
probability ``distractor_prob`` one word of the other class's lexicon (not evidence). The
planted spans are the human rationale. Word vectors are N(0, 0.4^2) per dimension (about
GloVe's spread). Seeded (``generator_seed``), cached under the data root.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ._dataset import DatasetInfo, ImageDataset, sha256_arrays
from ._registry import DatasetSpec, register
from ._sources import Source, generated_source

__all__ = [
    "ERASER_DATASETS",
    "ERASER_URL",
    "GLOVE_URLS",
    "PAD",
    "SEP",
    "UNK",
    "Annotation",
    "Evidence",
    "TokenTable",
    "glove_path",
    "read_annotations",
    "read_documents",
    "read_glove",
    "token_table",
    "write_synthetic_eraser",
]

ERASER_URL = "https://www.eraserbenchmark.com/zipped/{folder}.tar.gz"
#: GloVe archives (Stanford NLP) by corpus name; the file inside is ``glove.<name>.<dim>d.txt``.
GLOVE_URLS = {
    "6B": "https://nlp.stanford.edu/data/glove.6B.zip",
    "42B": "https://nlp.stanford.edu/data/glove.42B.300d.zip",
    "840B": "https://nlp.stanford.edu/data/glove.840B.300d.zip",
}
PAD, UNK, SEP = "<pad>", "<unk>", "<sep>"  # vocabulary ids 0, 1, 2
SPLIT_FILES = ("train", "val", "test")


# --- ERASER's format ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Evidence:
    """A token span of a document (``end_token`` exclusive)."""

    docid: str
    start_token: int
    end_token: int


@dataclass(frozen=True)
class Annotation:
    """One ERASER instance: its label, query, evidence spans and documents."""

    annotation_id: str
    classification: str
    query: str
    evidences: tuple[Evidence, ...]
    docids: tuple[str, ...]


def read_annotations(path: str | os.PathLike) -> list[Annotation]:
    """The annotations of an ERASER ``<split>.jsonl`` (evidence groups flattened; ``docids`` as
    the file gives them, else the evidences' documents in order of appearance, else the
    ``annotation_id``). A malformed line is a ``ValueError`` naming the file and line."""
    path = Path(path)
    out = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                evidences = tuple(
                    Evidence(str(ev["docid"]), int(ev["start_token"]), int(ev["end_token"]))
                    for group in raw.get("evidences") or ()
                    for ev in group
                )
                docids = raw.get("docids") or list(dict.fromkeys(e.docid for e in evidences))
                out.append(
                    Annotation(
                        annotation_id=str(raw["annotation_id"]),
                        classification=str(raw["classification"]),
                        query=str(raw.get("query") or ""),
                        evidences=evidences,
                        docids=tuple(str(d) for d in docids) or (str(raw["annotation_id"]),),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(
                    f"{path}, line {number}: not an ERASER annotation ({exc!r}); each line needs "
                    "annotation_id, classification and evidences"
                ) from None
    return out


def read_documents(folder: str | os.PathLike, docids: Iterable[str]) -> dict[str, list[str]]:
    """``{docid: tokens}`` of the flattened documents (sentences joined) from ``folder/docs/``
    (one file per document) or ``folder/docs.jsonl``, as the ERASER code reads them: blank lines
    dropped, tokens split on single spaces, empty tokens dropped."""
    folder = Path(folder)
    wanted = sorted(set(docids))
    if (folder / "docs.jsonl").is_file():
        texts: dict[str, str] = {}
        need = set(wanted)
        with (folder / "docs.jsonl").open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    raw = json.loads(line)
                    if str(raw["docid"]) in need:
                        texts[str(raw["docid"])] = raw["document"]
        missing = [d for d in wanted if d not in texts]
        where = folder / "docs.jsonl"
    else:
        texts, missing = {}, []
        for d in wanted:
            file = folder / "docs" / d
            if file.is_file():
                texts[d] = file.read_text(encoding="utf-8")
            else:
                missing.append(d)
        where = folder / "docs"
    if missing:
        shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
        raise ValueError(f"{len(missing)} document(s) missing from {where}: {shown}")
    return {
        d: [
            t for line in texts[d].split("\n") if line.strip() for t in line.strip().split(" ") if t
        ]
        for d in wanted
    }


def read_glove(
    path: str | os.PathLike, words: Iterable[str], dim: int | None = None
) -> dict[str, np.ndarray]:
    """The vectors (float32) of ``words`` found in a GloVe text file (one word and its values per
    line). ``dim``: the expected dimension (checked on the first line); lines whose word holds a
    space (a few in the 840B file) are skipped. A wrong dimension is a ``ValueError``."""
    path = Path(path)
    need = set(words)
    found: dict[str, np.ndarray] = {}
    with path.open(encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            fields = line.rstrip("\n").rstrip(" ").split(" ")
            if number == 1:
                dim = len(fields) - 1 if dim is None else dim
                if len(fields) - 1 != dim:
                    raise ValueError(
                        f"{path}: vectors of {len(fields) - 1} values, expected {dim} "
                        "(set glove_dim to the file's dimension)"
                    )
            if len(fields) != dim + 1 or fields[0] not in need or fields[0] in found:
                continue
            found[fields[0]] = np.asarray(fields[1:], dtype=np.float32)
    return found


def glove_path(root: Path, kw: Mapping[str, Any]) -> Path:
    """The GloVe file: ``glove_file``, else ``<root>/glove/glove.<glove>.<glove_dim>d.txt``."""
    if kw.get("glove_file"):
        return Path(kw["glove_file"]).expanduser()
    return Path(root) / "glove" / f"glove.{kw['glove']}.{int(kw['glove_dim'])}d.txt"


# --- the token table and the dataset -----------------------------------------------------------
@dataclass(frozen=True)
class TokenTable:
    """A split's token sequences, flat: sequence ``j`` is ``ids[offsets[j]:offsets[j] +
    lengths[j]]``, with its human-rationale and document masks at the same places."""

    ids: torch.Tensor  # int32 (T,): vocabulary ids of all sequences, concatenated
    offsets: torch.Tensor  # int64 (N,)
    lengths: torch.Tensor  # int64 (N,)
    rationale: torch.Tensor  # bool (T,): inside a human evidence span
    document: torch.Tensor  # bool (T,): a document token (False: query and separators)
    vectors: torch.Tensor  # float32 (V, D); row 0 (padding) is zeros
    vocab: tuple[str, ...]
    annotation_ids: tuple[str, ...]
    classes: tuple[str, ...]

    @property
    def max_length(self) -> int:
        return int(self.lengths.max()) if len(self.lengths) else 1

    def sequence(self, j: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(ids, rationale, document) of sequence ``j`` (a source index)."""
        o, n = int(self.offsets[j]), int(self.lengths[j])
        return self.ids[o : o + n].long(), self.rationale[o : o + n], self.document[o : o + n]

    def embed(self, ids: torch.Tensor, length: int | None = None) -> torch.Tensor:
        """(1, length, D) embedded ``ids``, zero rows after them (``length``: default len(ids))."""
        n = len(ids) if length is None else int(length)
        x = torch.zeros((1, n, self.vectors.shape[1]), dtype=torch.float32)
        x[0, : len(ids)] = self.vectors[ids.long()]
        return x

    def words(self, j: int) -> list[str]:
        return [self.vocab[i] for i in self.sequence(j)[0].tolist()]


class TokenItemLoader:
    """``loader(j)`` -> the embedded sequence ``j`` (1, L, D), padded to the split's length."""

    def __init__(self, table: TokenTable):
        self.table = table
        self.length = table.max_length

    def __call__(self, j: int) -> torch.Tensor:
        return self.table.embed(self.table.sequence(j)[0], self.length)


def token_table(dataset) -> TokenTable:
    """The :class:`TokenTable` of a text dataset (``ValueError`` for any other dataset)."""
    table = getattr(dataset, "tokens", None)
    if not isinstance(table, TokenTable):
        raise ValueError(
            f"{getattr(dataset, 'name', dataset)!r} is not a text dataset (no token table); the "
            "ERASER metrics need one of: " + ", ".join((*ERASER_DATASETS, SYNTHETIC))
        )
    return table


def _lookup_vectors(
    vocab: Sequence[str], glove: Path, dim: int, cache_dir: Path
) -> tuple[torch.Tensor, int]:
    """(V, D) vectors of ``vocab`` (specials first) and the number of unknown words; the GloVe
    look-up is cached in ``cache_dir``."""
    stat = glove.stat()
    key = hashlib.sha256(
        json.dumps([str(glove.resolve()), stat.st_size, stat.st_mtime_ns, dim, list(vocab)])
        .encode()
    ).hexdigest()[:20]  # fmt: skip
    cache = cache_dir / f"{glove.stem}-{key}.pt"
    if cache.is_file():
        try:
            saved = torch.load(cache, weights_only=True)
            return saved["vectors"], int(saved["unknown"])
        except Exception:  # noqa: BLE001  (an unreadable cache is rebuilt)
            pass
    found = read_glove(glove, vocab[3:], dim)
    if not found:
        raise ValueError(f"{glove}: none of the dataset's {len(vocab) - 3} words has a vector")
    known = np.stack(list(found.values()))
    unk = known.mean(axis=0)
    sep = np.random.default_rng(0).normal(0.0, float(known.std()), dim).astype(np.float32)
    rows = [np.zeros(dim, np.float32), unk, sep]
    rows += [found.get(w, unk) for w in vocab[3:]]
    vectors = torch.from_numpy(np.stack(rows).astype(np.float32))
    unknown = sum(w not in found for w in vocab[3:])
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".tmp{os.getpid()}")
        torch.save({"vectors": vectors, "unknown": unknown}, tmp)
        os.replace(tmp, cache)
    except OSError:  # a read-only data root: no cache
        pass
    return vectors, unknown


def load_eraser_split(
    folder: Path,
    split_file: str,
    *,
    name: str,
    split: str,
    classes: Sequence[str],
    glove: Path,
    kw: Mapping[str, Any],
    cache_dir: Path,
    provenance: Mapping[str, Any],
) -> ImageDataset:
    """An ERASER split (``<folder>/<split_file>.jsonl`` and its documents) as a lazy dataset of
    embedded sequences with its :class:`TokenTable` (module docstring)."""
    annotations = read_annotations(folder / f"{split_file}.jsonl")
    if not annotations:
        raise ValueError(f"{folder / (split_file + '.jsonl')} holds no annotations")
    docs = read_documents(folder, (d for a in annotations for d in a.docids))
    lower = bool(kw["lowercase"])
    index = {c: i for i, c in enumerate(classes)}
    max_tokens = kw.get("max_tokens")
    sequences, rationales, documents, labels, truncated = [], [], [], [], 0
    for ann in annotations:
        if ann.classification not in index:
            raise ValueError(
                f"{folder}: annotation {ann.annotation_id!r} has label {ann.classification!r}; "
                f"{name} labels are {', '.join(classes)}"
            )
        words, rationale, document = [], [], []
        if kw["use_query"] and ann.query.strip():
            q = ann.query.split()
            words += q + [SEP]
            rationale += [False] * (len(q) + 1)
            document += [False] * (len(q) + 1)
        for n, docid in enumerate(ann.docids):
            tokens = docs[docid]
            marks = np.zeros(len(tokens), dtype=bool)
            for ev in ann.evidences:
                if ev.docid == docid:
                    if not 0 <= ev.start_token <= ev.end_token <= len(tokens):
                        raise ValueError(
                            f"{folder}: annotation {ann.annotation_id!r} has evidence tokens "
                            f"{ev.start_token}:{ev.end_token} outside document {docid!r} "
                            f"({len(tokens)} tokens)"
                        )
                    marks[ev.start_token : ev.end_token] = True
            if max_tokens is not None and len(tokens) > max_tokens:
                truncated += 1
                tokens, marks = tokens[:max_tokens], marks[:max_tokens]
            if n:
                words.append(SEP)
                rationale.append(False)
                document.append(False)
            words += tokens
            rationale += marks.tolist()
            document += [True] * len(tokens)
        if lower:
            words = [w if w == SEP else w.lower() for w in words]
        sequences.append(words)
        rationales.append(rationale)
        documents.append(document)
        labels.append(index[ann.classification])
    vocab = (PAD, UNK, SEP, *sorted({w for s in sequences for w in s} - {SEP}))
    word_id = {w: i for i, w in enumerate(vocab)}
    vectors, unknown = _lookup_vectors(vocab, glove, int(kw["glove_dim"]), cache_dir)
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)
    table = TokenTable(
        ids=torch.tensor([word_id[w] for s in sequences for w in s], dtype=torch.int32),
        offsets=torch.cumsum(lengths, 0) - lengths,
        lengths=lengths,
        rationale=torch.tensor([r for rs in rationales for r in rs], dtype=torch.bool),
        document=torch.tensor([d for ds in documents for d in ds], dtype=torch.bool),
        vectors=vectors,
        vocab=vocab,
        annotation_ids=tuple(a.annotation_id for a in annotations),
        classes=tuple(classes),
    )
    y = torch.tensor(labels, dtype=torch.int64)
    prov = {
        **provenance,
        "dataset": name,
        "split": split,
        "eraser_file": f"{split_file}.jsonl",
        "path": str(folder),
        "n": len(y),
        "n_full": len(y),
        "shape": [1, table.max_length, int(kw["glove_dim"])],
        "sha256": sha256_arrays(table.ids, table.lengths, table.rationale, y),
        "checksum_of": "the token ids, lengths, rationale mask and labels, in order",
        "glove": {"path": str(glove), "bytes": glove.stat().st_size},
        "vocabulary": len(vocab) - 3,
        "unknown_words": unknown,
        "tokens": int(lengths.sum()),
        "mean_length": float(lengths.double().mean()),
        "rationale_share": float(table.rationale.sum()) / max(int(table.document.sum()), 1),
        "use_query": bool(kw["use_query"]),
        "lowercase": lower,
        "truncated_documents": truncated,
        "max_tokens": max_tokens,
        "classes": list(classes),
        "subset": None,
    }
    return ImageDataset(
        name=name,
        split=split,
        item_loader=TokenItemLoader(table),
        y=y,
        num_classes=len(classes),
        in_channels=1,
        image_size=int(kw["glove_dim"]),
        mean=(0.0,),
        std=(1.0,),
        provenance=prov,
        attributes={"tokens": table, "classes": tuple(classes)},
    )


# --- ERASER datasets: local folder or download ---------------------------------------------------
@dataclass(frozen=True)
class EraserSpec:
    """One ERASER dataset: its folder name, labels, title and whether its query is read."""

    folder: str
    classes: tuple[str, ...]
    title: str
    use_query: bool


ERASER_DATASETS: dict[str, EraserSpec] = {
    "eraser_movies": EraserSpec("movies", ("NEG", "POS"), "Movie Reviews", False),
    "eraser_fever": EraserSpec("fever", ("REFUTES", "SUPPORTS"), "FEVER", True),
    "eraser_esnli": EraserSpec("esnli", ("contradiction", "entailment", "neutral"), "e-SNLI", True),
}
_GLOVE_PARAMS = {"glove": "6B", "glove_dim": 300, "glove_file": None, "lowercase": True}


def _split_file(split: str, kw) -> str:
    return "train" if split == "train" else str(kw["test_split"])


def _eraser_missing(folder: Path, split: str, kw) -> list[Path]:
    need = [folder / f"{_split_file(split, kw)}.jsonl"]
    if not (folder / "docs.jsonl").is_file():
        need.append(folder / "docs")
    return [p for p in need if not p.exists()]


def _download(url: str, dest: Path, extract) -> None:
    """Download ``url`` to a temporary file next to ``dest`` and ``extract(file, dest)``."""
    dest.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest, suffix=".part")
    os.close(fd)
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
            shutil.copyfileobj(r, f)
        extract(Path(tmp), dest)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _extract_tar(file: Path, dest: Path) -> None:
    with tarfile.open(file) as tar:
        tar.extractall(dest, filter="data")


def _glove_extractor(member: str):
    def extract(file: Path, dest: Path) -> None:
        with zipfile.ZipFile(file) as z:
            z.extract(member, dest)

    return extract


def _register_eraser(name: str, spec: EraserSpec) -> None:
    def folder_of(root: Path) -> Path:
        return Path(root) / "eraser" / spec.folder

    def locate(root: Path, split: str, kw) -> Path | None:
        folder = folder_of(root)
        ok = not _eraser_missing(folder, split, kw) and glove_path(root, kw).is_file()
        return folder if ok else None

    def describe(root: Path, split: str, kw) -> str:
        missing = _eraser_missing(folder_of(root), split, kw)
        if not glove_path(root, kw).is_file():
            missing.append(glove_path(root, kw))
        return "missing " + ", ".join(str(p) for p in missing)

    def make_load(source: str):
        def load(root: Path, split: str, download: bool, kw) -> ImageDataset:
            folder, glove = folder_of(root), glove_path(root, kw)
            if download and _eraser_missing(folder, split, kw):
                _download(ERASER_URL.format(folder=spec.folder), folder.parent, _extract_tar)
            if download and not glove.is_file():
                url = GLOVE_URLS.get(str(kw["glove"]))
                if url is None or kw.get("glove_file"):
                    raise ValueError(f"no download for GloVe file {glove}; place it there")
                _download(url, glove.parent, _glove_extractor(glove.name))
            return load_eraser_split(
                folder,
                _split_file(split, kw),
                name=name,
                split=split,
                classes=spec.classes,
                glove=glove,
                kw=kw,
                cache_dir=Path(root) / "eraser" / ".glove_cache",
                provenance={"source": source, "downloaded": bool(download)},
            )

        return load

    url = ERASER_URL.format(folder=spec.folder)
    sources = {
        "root": Source(
            name="root",
            locate=locate,
            describe=describe,
            load=make_load("root"),
            fix=f"place ERASER's {spec.folder} release (train/val/test.jsonl and docs/ or "
            f"docs.jsonl) in {{root}}/eraser/{spec.folder}/ and the GloVe text file in "
            "{root}/glove/ (or pass glove_file=)",
        ),
        "download": Source(
            name="download",
            locate=locate,
            describe=describe,
            load=make_load("download"),
            fix=f"run with network access and download=True (or None): {url} and GloVe "
            "(nlp.stanford.edu) are downloaded into {root}",
            downloads=True,
            url=url,
        ),
    }

    def info(glove_dim: int = 300, **kw) -> DatasetInfo:
        return DatasetInfo(
            name=name,
            num_classes=len(spec.classes),
            in_channels=1,
            image_size=int(glove_dim),
            mean=(0.0,),
            std=(1.0,),
            in_memory=False,
            sources=("root", "download"),
            auto_order=("root", "download"),
            notes="ERASER release + GloVe; items (1, tokens, glove_dim), embedded on access",
            title=spec.title,
            classes=spec.classes,
        )

    register(
        DatasetSpec(
            name=name,
            info=info,
            sources=sources,
            auto_order=("root", "download"),
            params={
                **_GLOVE_PARAMS,
                "use_query": spec.use_query,
                "max_tokens": None,
                "test_split": "test",
            },  # fmt: skip
            description=f"ERASER {spec.title}: GloVe-embedded token sequences with human "
            "rationales (SGT Table 1)",
        )
    )


for _name, _spec in ERASER_DATASETS.items():
    _register_eraser(_name, _spec)


# --- the offline analogue ---------------------------------------------------------------------
SYNTHETIC = "eraser_synthetic"
#: Bump when the construction changes, so old caches are not reused.
SYNTHETIC_VERSION = 1
SYNTHETIC_PARAMS = {
    "n_train": 2000,
    "n_val": 200,
    "n_test": 500,
    "min_length": 24,
    "max_length": 48,
    "vocab_size": 500,
    "lexicon_size": 20,
    "spans": 2,
    "span_max": 2,
    "distractor_prob": 0.5,
    "embedding_dim": 50,
    "generator_seed": 0,
}
SYNTHETIC_CLASSES = ("NEG", "POS")


def _synthetic_docs(rng: np.random.Generator, n: int, p: Mapping[str, Any], prefix: str):
    """``n`` (annotation, document tokens) pairs of the analogue (module docstring)."""
    filler = np.array([f"w{i:04d}" for i in range(p["vocab_size"])])
    zipf = 1.0 / np.arange(1, p["vocab_size"] + 1)
    zipf /= zipf.sum()
    lexicon = [[f"{c.lower()}{i:02d}" for i in range(p["lexicon_size"])] for c in SYNTHETIC_CLASSES]
    out = []
    for i in range(n):
        label = int(rng.integers(2))
        length = int(rng.integers(p["min_length"], p["max_length"] + 1))
        tokens = [str(w) for w in rng.choice(filler, size=length, p=zipf)]
        # the pieces (evidence spans, then the distractor) in random order, at least one filler
        # word apart: the slack is spread over the gaps by sorted uniform cuts
        widths = [int(rng.integers(1, p["span_max"] + 1)) for _ in range(p["spans"])]
        pieces = widths + ([1] if rng.random() < p["distractor_prob"] else [])
        slack = length - sum(pieces) - (len(pieces) - 1)
        if slack < 0:
            raise ValueError("min_length is too short for the planted spans")
        cuts = np.sort(rng.integers(0, slack + 1, size=len(pieces)))
        evidences, placed = [], 0  # placed: width of the pieces already placed
        for n, (k, cut) in enumerate(zip(rng.permutation(len(pieces)), cuts, strict=True)):
            start = int(cut) + placed + n
            placed += pieces[k]
            if k < len(widths):
                words = [str(w) for w in rng.choice(lexicon[label], size=widths[k])]
                tokens[start : start + widths[k]] = words
                evidences.append([{"docid": f"{prefix}{i:05d}", "start_token": start,
                                   "end_token": start + widths[k], "text": " ".join(words),
                                   "start_sentence": -1, "end_sentence": -1}])  # fmt: skip
            else:
                tokens[start] = str(rng.choice(lexicon[1 - label]))
        docid = f"{prefix}{i:05d}"
        ann = {"annotation_id": docid, "classification": SYNTHETIC_CLASSES[label],
               "query": "What is the class of this document?", "query_type": None,
               "docids": None, "evidences": evidences}  # fmt: skip
        out.append((ann, tokens))
    return out


def write_synthetic_eraser(folder: str | os.PathLike, **params) -> Path:
    """Write the analogue in ERASER's format to ``folder/synthetic/`` (``docs/``, ``train``,
    ``val``, ``test.jsonl``) with its vectors in ``folder/glove.synthetic.<dim>d.txt``; returns
    ``folder``. ``params``: :data:`SYNTHETIC_PARAMS` (module docstring)."""
    p = {**SYNTHETIC_PARAMS, **params}
    folder = Path(folder)
    data = folder / "synthetic"
    (data / "docs").mkdir(parents=True, exist_ok=True)
    seed = int(p["generator_seed"])
    for code, split in enumerate(SPLIT_FILES):
        rng = np.random.default_rng([seed, SYNTHETIC_VERSION, code])
        pairs = _synthetic_docs(rng, int(p[f"n_{split}"]), p, f"{split}_")
        with (data / f"{split}.jsonl").open("w", encoding="utf-8") as f:
            for ann, tokens in pairs:
                f.write(json.dumps(ann, sort_keys=True) + "\n")
                lines = [" ".join(tokens[s : s + 12]) for s in range(0, len(tokens), 12)]
                (data / "docs" / ann["annotation_id"]).write_text("\n".join(lines) + "\n")
    rng = np.random.default_rng([seed, SYNTHETIC_VERSION, 99])
    words = [f"w{i:04d}" for i in range(p["vocab_size"])] + [
        f"{c.lower()}{i:02d}" for c in SYNTHETIC_CLASSES for i in range(p["lexicon_size"])
    ]
    dim = int(p["embedding_dim"])
    vectors = rng.normal(0.0, 0.4, (len(words), dim))
    with (folder / f"glove.synthetic.{dim}d.txt").open("w", encoding="utf-8") as f:
        for w, v in zip(words, vectors, strict=True):
            f.write(w + " " + " ".join(f"{x:.5f}" for x in v) + "\n")
    return folder


def _synthetic_key(kw) -> dict:
    return {"version": SYNTHETIC_VERSION, **{k: kw[k] for k in SYNTHETIC_PARAMS}}


def _synthetic_folder(root: Path, kw) -> Path:
    params = _synthetic_key(kw)
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return Path(root) / SYNTHETIC / f"seed{params['generator_seed']}-{key}"


def _synthetic_load(root: Path, split: str, download: bool, kw) -> ImageDataset:
    folder = _synthetic_folder(root, kw)
    written = False
    if not (folder / "synthetic" / "test.jsonl").is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
        try:
            write_synthetic_eraser(tmp, **{k: kw[k] for k in SYNTHETIC_PARAMS})
            try:
                os.replace(tmp, folder)
                written = True
            except OSError:  # another process wrote it first
                pass
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    glove = folder / f"glove.synthetic.{int(kw['embedding_dim'])}d.txt"
    return load_eraser_split(
        folder / "synthetic",
        _split_file(split, kw),
        name=SYNTHETIC,
        split=split,
        classes=SYNTHETIC_CLASSES,
        glove=glove,
        kw={
            **kw,
            "glove_dim": int(kw["embedding_dim"]),
            "lowercase": False,
            "max_tokens": None,
        },  # fmt: skip
        cache_dir=folder / ".glove_cache",
        provenance={
            "source": "generated",
            "downloaded": False,
            "analogue": "offline analogue of ERASER Movie Reviews with planted evidence "
            "(not real text)",
            "generator": _synthetic_key(kw),
            "written_now": written,
        },
    )


register(
    DatasetSpec(
        name=SYNTHETIC,
        info=lambda embedding_dim=50, **kw: DatasetInfo(
            name=SYNTHETIC,
            num_classes=2,
            in_channels=1,
            image_size=int(embedding_dim),
            mean=(0.0,),
            std=(1.0,),
            in_memory=False,
            sources=("generated",),
            auto_order=("generated",),
            sizes={},
            notes="offline analogue of ERASER Movie Reviews: planted evidence words, written "
            "in ERASER's format and read by the same code",
            title="ERASER analogue (synthetic)",
            classes=SYNTHETIC_CLASSES,
        ),
        sources={
            "generated": generated_source(
                _synthetic_load, describe="written in ERASER's format under the data root"
            )
        },
        auto_order=("generated",),
        params={**SYNTHETIC_PARAMS, "use_query": False, "test_split": "test"},
        description="offline analogue of an ERASER task with planted evidence (SGT Table 1)",
    )
)
