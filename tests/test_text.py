"""SGT Table 1 (language): ERASER and GloVe readers on small files in their real formats, the
token masking of SGT for words, the BiLSTM, and ERASER's comprehensiveness / sufficiency (AOPC)
and rationale agreement on hand-computed cases (docs/methods.md §9)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from paper_standins import write_eraser, write_glove
from torch import nn

from saliency_lib.config import RunConfig
from saliency_lib.data import DatasetNotFoundError, check_available, get_dataset
from saliency_lib.data.text import (
    SEP,
    read_annotations,
    read_documents,
    read_glove,
    token_table,
    write_synthetic_eraser,
)
from saliency_lib.masking import mask_tokens, select_tokens, sequence_lengths
from saliency_lib.methods import get_method, method_config
from saliency_lib.methods.sgt_tokens import token_k
from saliency_lib.metrics.eraser import (
    eraser_scores,
    eraser_summary,
    removal_counts,
    span_matches,
    spans,
    token_prf,
)
from saliency_lib.models import create_model
from saliency_lib.runs import train_or_load


# --------------------------------------------------------------------------- readers
def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_annotations_flatten_evidence_groups_and_name_their_documents(tmp_path):
    rows = [
        {"annotation_id": "a1", "classification": "POS", "query": "q", "docids": None,
         "evidences": [[{"docid": "d1", "start_token": 2, "end_token": 4, "text": "x y"}],
                       [{"docid": "d1", "start_token": 7, "end_token": 8, "text": "z"}]]},
        {"annotation_id": "a2", "classification": "entailment", "query": "",
         "docids": ["a2_premise", "a2_hypothesis"],
         "evidences": [[{"docid": "a2_hypothesis", "start_token": 0, "end_token": 1}]]},
        {"annotation_id": "d3", "classification": "NEG", "evidences": []},
    ]  # fmt: skip
    path = _write(tmp_path / "train.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    a1, a2, a3 = read_annotations(path)
    assert [(e.start_token, e.end_token) for e in a1.evidences] == [(2, 4), (7, 8)]
    assert a1.docids == ("d1",)
    assert a2.docids == ("a2_premise", "a2_hypothesis")  # the file's order
    assert a3.docids == ("d3",) and a3.query == ""  # no evidence: the annotation's own document


def test_annotation_without_label_names_file_and_line(tmp_path):
    path = _write(tmp_path / "val.jsonl", '{"annotation_id": "a", "evidences": []}\n')
    with pytest.raises(ValueError, match=r"val.jsonl, line 1"):
        read_annotations(path)


def test_documents_from_docs_folder_and_from_docs_jsonl_read_alike(tmp_path):
    text = "first  sentence here\n\nsecond one\n"
    _write(tmp_path / "a" / "docs" / "d.txt", text)
    _write(tmp_path / "b" / "docs.jsonl", json.dumps({"docid": "d.txt", "document": text}) + "\n")
    expected = {"d.txt": ["first", "sentence", "here", "second", "one"]}
    assert read_documents(tmp_path / "a", ["d.txt"]) == expected
    assert read_documents(tmp_path / "b", ["d.txt"]) == expected
    with pytest.raises(ValueError, match="missing"):
        read_documents(tmp_path / "a", ["other.txt"])


def test_glove_reader_takes_the_asked_words_and_checks_the_dimension(tmp_path):
    path = _write(
        tmp_path / "g.txt",
        "the 0.1 0.2 0.3\nfilm -1 0 1.5\n. . . 1 2 3\nunused 9 9 9\n",
    )
    found = read_glove(path, ["film", "the", "absent"], dim=3)
    assert set(found) == {"the", "film"}
    np.testing.assert_allclose(found["film"], [-1.0, 0.0, 1.5])
    assert read_glove(path, ["."]) == {}  # a line whose word holds spaces is skipped
    with pytest.raises(ValueError, match="expected 300"):
        read_glove(path, ["the"], dim=300)


# --------------------------------------------------------------------------- datasets
@pytest.fixture(scope="module")
def standins(tmp_path_factory):
    root = tmp_path_factory.mktemp("text_data")
    write_eraser(root)
    write_glove(root)
    return root


def test_movies_sequence_rationale_and_embedding(standins):
    ds = get_dataset("eraser_movies", "test", root=standins)
    table = token_table(ds)
    assert ds.num_classes == 2 and ds.in_channels == 1 and ds.image_size == 300
    rows = read_annotations(standins / "eraser" / "movies" / "test.jsonl")
    docs = read_documents(standins / "eraser" / "movies", [rows[0].docids[0]])
    words = [w.lower() for w in docs[rows[0].docids[0]]]
    assert table.words(0) == words  # no query for Movies, lower-cased tokens
    ids, rationale, document = table.sequence(0)
    ev = rows[0].evidences[0]
    assert rationale.nonzero().flatten().tolist() == list(range(ev.start_token, ev.end_token))
    assert document.all()
    x, y, _ = ds[0]
    assert x.shape == (1, table.max_length, 300)
    assert int(sequence_lengths(x[None])) == len(words)
    assert torch.equal(x[0, : len(words)], table.vectors[ids])
    assert y == ("NEG", "POS").index(rows[0].classification)
    assert ds.provenance["downloaded"] is False and ds.provenance["source"] == "root"


def test_fever_reads_the_claim_before_the_document(standins):
    ds = get_dataset("eraser_fever", "train", root=standins)
    table = token_table(ds)
    row = read_annotations(standins / "eraser" / "fever" / "train.jsonl")[0]
    words = table.words(0)
    query = row.query.lower().split()
    assert words[: len(query) + 1] == [*query, SEP]
    _, rationale, document = table.sequence(0)
    assert not document[: len(query) + 1].any() and document[len(query) + 1 :].all()
    start = len(query) + 1 + row.evidences[0].start_token
    assert rationale.nonzero().flatten().tolist() == [start, start + 1]


def test_esnli_joins_premise_and_hypothesis_with_the_separator(standins):
    ds = get_dataset("eraser_esnli", "test", root=standins)
    assert ds.num_classes == 3
    table = token_table(ds)
    words = table.words(0)
    _, rationale, document = table.sequence(0)
    sep = [i for i, w in enumerate(words) if w == SEP]
    q = len(read_annotations(standins / "eraser" / "esnli" / "test.jsonl")[0].query.split())
    assert sep == [q, q + 1 + 8]  # after the query, between premise (8 tokens) and hypothesis
    assert not document[sep].any()
    # one evidence span in each document (premise token 1, hypothesis tokens 3-4)
    assert rationale.nonzero().flatten().tolist() == [q + 2, sep[1] + 4, sep[1] + 5]


def test_missing_eraser_data_is_one_clear_error(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="eraser/movies"):
        check_available("eraser_movies", root=tmp_path, download=False)


def test_evidence_outside_the_document_is_rejected(standins, tmp_path):
    import shutil

    shutil.copytree(standins, tmp_path / "d")
    path = tmp_path / "d" / "eraser" / "movies" / "test.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[0]["evidences"][0][0]["end_token"] = 999
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(DatasetNotFoundError, match="outside document"):
        get_dataset("eraser_movies", "test", root=tmp_path / "d")


def test_synthetic_analogue_is_seeded_and_its_rationale_is_the_planted_words(tmp_path):
    kw = {"n_train": 20, "n_val": 4, "n_test": 10}
    a = get_dataset("eraser_synthetic", "test", root=tmp_path / "a", **kw)
    b = get_dataset("eraser_synthetic", "test", root=tmp_path / "b", **kw)
    c = get_dataset("eraser_synthetic", "test", root=tmp_path / "c", generator_seed=1, **kw)
    assert a.provenance["sha256"] == b.provenance["sha256"] != c.provenance["sha256"]
    table = token_table(a)
    for j in range(len(a)):
        words, (_, rationale, _) = table.words(j), table.sequence(j)
        label = ("neg", "pos")[int(a.y[j])]
        planted = [w for w, r in zip(words, rationale.tolist(), strict=True) if r]
        assert planted and all(w.startswith(label) for w in planted)
        other = [w for w, r in zip(words, rationale.tolist(), strict=True)
                 if not r and not w.startswith("w")]  # fmt: skip
        assert len(other) <= 1  # at most one distractor word, never evidence
    assert (tmp_path / "x").exists() is False
    write_synthetic_eraser(tmp_path / "x", **kw)  # the files the loader reads: ERASER's format
    assert (tmp_path / "x" / "synthetic" / "docs").is_dir()
    assert (tmp_path / "x" / "glove.synthetic.50d.txt").is_file()


# --------------------------------------------------------------------------- masking, model
def test_select_tokens_never_selects_padding():
    scores = torch.tensor([[5.0, 1.0, 3.0, -9.0, -9.0], [1.0, 2.0, 3.0, 4.0, 5.0]])
    lengths = torch.tensor([3, 5])
    sel = select_tokens(scores, lengths, torch.tensor([2, 2]), "bottom")
    assert sel.tolist() == [[False, True, True, False, False], [True, True, False, False, False]]
    top = select_tokens(scores, lengths, 10, "top")  # k above the length: every real token
    assert top.tolist() == [[True, True, True, False, False], [True] * 5]


def test_previous_salient_word_replaces_a_masked_word():
    x = torch.arange(1.0, 7.0).reshape(1, 1, 6, 1).repeat(1, 1, 1, 2)
    x[0, 0, 5] = 0  # padding
    sel = torch.tensor([[True, False, True, True, False, False]])
    out = mask_tokens(x, sel, "previous")
    # token 0 has no kept word before it: the first kept word (1) after it; 2, 3 take word 1; 4
    # is kept; the padding stays zero
    assert out[0, 0, :, 0].tolist() == [2.0, 2.0, 2.0, 2.0, 5.0, 0.0]
    assert torch.equal(out[0, 0, :, 0], out[0, 0, :, 1])
    uni = mask_tokens(x, sel, "uniform", generator=torch.Generator().manual_seed(0))
    assert torch.equal(uni[0, 0, ~sel[0]], x[0, 0, ~sel[0]])
    assert uni.min() >= 0 and uni.max() <= 6


def test_k_is_floor_of_the_share_and_keeps_a_word():
    assert token_k(0.5, torch.tensor([1, 2, 5, 9])).tolist() == [0, 1, 2, 4]
    assert token_k(1.0, torch.tensor([3])).tolist() == [2]


def test_bilstm_ignores_zero_padding():
    torch.manual_seed(0)
    model = create_model("bilstm_small", num_classes=2, in_channels=1, image_size=8).eval()
    x = torch.randn(2, 1, 5, 8)
    padded = torch.cat([x, torch.zeros(2, 1, 3, 8)], dim=2)
    padded[1, 0, 3:] = 0  # the second sequence is shorter
    short = x[1:, :, :3]
    out = model(padded)
    torch.testing.assert_close(out[0], model(x[:1])[0])
    torch.testing.assert_close(out[1], model(short)[0])


def test_sgt_tokens_options_and_a_training_run(tmp_path):
    assert method_config("sgt_tokens", {}).fill == "previous"
    with pytest.raises(ValueError, match="fill"):
        method_config("sgt_tokens", {"fill": "constant"})
    with pytest.raises(KeyError, match="k_fraction"):
        get_method("sgt_tokens", k=0.5)
    data = {"n_train": 32, "n_val": 4, "n_test": 8, "root": str(tmp_path / "data")}
    cfg = RunConfig(method="sgt_tokens", dataset="eraser_synthetic", model="bilstm_small",
                    dataset_params=data, epochs=1, batch_size=16, optimizer="adam", lr=0.005,
                    progress=False)  # fmt: skip
    run = train_or_load(cfg, store=tmp_path / "runs")
    hist = run.history[0]
    # 50 % of the default 24-48 word documents: k between 12 and 24
    assert 12 <= hist["k_min"] <= hist["k_max"] <= 24


# --------------------------------------------------------------------------- ERASER metrics
def test_removal_counts_spans_and_token_scores():
    assert removal_counts(10, (0.01, 0.05, 0.1, 0.2, 0.5)) == [1, 1, 1, 2, 5]
    assert removal_counts(30, (0.05, 0.5)) == [2, 15]  # 1.5 rounds up
    assert spans([0, 1, 1, 0, 1]) == [(1, 3), (4, 5)]
    # IOU of (1, 3) with (1, 4) is 2/3 >= 0.5; (4, 5) with (5, 9) is 0
    assert span_matches([(1, 3), (4, 5)], [(1, 4), (5, 9)]) == 1
    p, r, f = token_prf(np.array([1, 1, 0, 0], bool), np.array([0, 1, 1, 0], bool))
    assert (p, r, f) == (0.5, 0.5, 0.5)


class _SumModel(nn.Module):
    """logits [0, sum of every token's first value]: p_1 = sigmoid(s); padding adds nothing,
    and every token has the same input gradient (so ties: the first tokens rank first)."""

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(()))

    def forward(self, x):
        s = x[:, 0, :, 0].sum(dim=1) + 0 * self.dummy
        return torch.stack([torch.zeros_like(s), s], dim=1)


def test_comprehensiveness_and_sufficiency_by_hand(tmp_path):
    values = [0.8, -0.3, 0.5, 0.2, -0.1, 0.4, 0.3, -0.2, 0.6, 0.1]
    words = [f"w{i}" for i in range(10)]
    folder = tmp_path / "eraser" / "movies"
    _write(folder / "docs" / "d.txt", " ".join(words[:4]) + "\n" + " ".join(words[4:]) + "\n")
    ann = {"annotation_id": "d.txt", "classification": "POS", "query": "q", "docids": None,
           "evidences": [[{"docid": "d.txt", "start_token": 1, "end_token": 3}]]}  # fmt: skip
    for split in ("train", "test"):
        _write(folder / f"{split}.jsonl", json.dumps(ann) + "\n")
    _write(tmp_path / "glove" / "glove.6B.2d.txt",
           "".join(f"{w} {v} 1.0\n" for w, v in zip(words, values, strict=True)))  # fmt: skip
    ds = get_dataset("eraser_movies", "test", root=tmp_path, glove_dim=2)
    bins = (0.1, 0.2, 0.5)
    rows = eraser_scores(_SumModel(), ds, ["grad"], bins=bins, rationale_fraction=0.2,
                         progress=False)  # fmt: skip

    def p1(vals):
        return 1 / (1 + math.exp(-sum(vals)))

    full = p1(values)  # 2.3 > 0: class 1 predicted
    comp = [full - p1(values[k:]) for k in (1, 2, 5)]  # the first k tokens removed
    suff = [full - p1(values[:k]) for k in (1, 2, 5)]  # only the first k kept
    row = rows.iloc[0]
    assert row["pred"] == 1
    assert row["prob"] == pytest.approx(full, abs=1e-6)
    for k, c, s in zip(bins, comp, suff, strict=True):
        assert row[f"comprehensiveness_{k:g}"] == pytest.approx(c, abs=1e-6)  # float32 model
        assert row[f"sufficiency_{k:g}"] == pytest.approx(s, abs=1e-6)
    assert row["comprehensiveness"] == pytest.approx(np.mean(comp), abs=1e-6)
    assert row["sufficiency"] == pytest.approx(np.mean(suff), abs=1e-6)
    # hard rationale: the top 20 % = tokens 0, 1; human tokens 1, 2: P = R = F1 = 1/2
    assert (row["token_p"], row["token_r"], row["token_f1"]) == (0.5, 0.5, 0.5)
    assert (row["pred_spans"], row["true_spans"], row["matched_spans"]) == (1, 1, 0)  # IOU 1/3


def test_summary_iou_f1_is_erasers_macro():
    import pandas as pd

    rows = pd.DataFrame({
        "saliency": ["g", "g"], "pred": [1, 0], "label": [1, 1],
        "comprehensiveness": [0.2, 0.4], "sufficiency": [0.1, 0.3], "token_f1": [0.5, 0.0],
        "pred_spans": [2, 1], "true_spans": [1, 2], "matched_spans": [1, 1],
        "auprc": [0.5, float("nan")],
    })  # fmt: skip
    s = eraser_summary(rows).iloc[0]
    p, r = (1 / 2 + 1 / 1) / 2, (1 / 1 + 1 / 2) / 2
    assert s["iou_f1"] == pytest.approx(2 * p * r / (p + r))
    assert s["accuracy"] == 50.0 and s["comprehensiveness"] == pytest.approx(0.3)
    assert s["auprc"] == 0.5  # documents where it is undefined are left out
