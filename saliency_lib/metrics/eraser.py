"""ERASER's faithfulness and agreement metrics for token saliency (SGT section 5.2, eqs. 5-6,
Table 1; DeYoung et al. 2020; docs/methods.md §9).

For a document ``x`` with predicted class ``j`` (probabilities ``p``) and its top-``k`` % tokens by
saliency ``r_k`` (document tokens only: a query and separators are never removed):

* comprehensiveness ``p_j(x) - p_j(x without r_k)`` (SGT eq. 5; higher = better),
* sufficiency ``p_j(x) - p_j(r_k only)`` (SGT eq. 6; lower = better),

each averaged over the bins ``k`` in 1, 5, 10, 20, 50 % and over documents: the AOPC as the
ERASER code computes it (``_instances_aopc``: the mean over instances and bins, no ``k = 0``
term). Removing means deleting the tokens (the sequence gets shorter), as ERASER's "x_i \\ r_i".
The number of tokens of bin ``k`` is ``max(1, round_half_up(k * n))`` of the ``n`` document
tokens.

Agreement with the human rationale, as ERASER scores it: the soft scores' AUPRC (per document,
sklearn's precision-recall curve and ``auc``, averaged), and the hard rationale (the top
``rationale_fraction`` of each document's tokens, by default the mean human rationale share of
the evaluated documents: ERASER discretises soft scores at the dataset's average rationale
length) scored by token F1 (instance macro) and IOU F1 (spans = maximal runs of selected tokens;
a predicted span matches when its best IOU with a human span is at least 0.5; precision and
recall averaged over documents, then their F1: ERASER's ``partial_match_score`` macro).

Saliency per token (:func:`token_attributions`): each embedding value's attribution (the
package's evaluation methods, :func:`saliency_lib.saliency.attribute`) reduced over the embedding
dimensions by a sum, as captum's text tutorials do. Attribution methods whose values are
contributions that add up to the output (:data:`CONTRIBUTION_METHODS`: Integrated Gradients,
DeepLIFT, GradientSHAP, DeepSHAP) are summed signed: the token's contribution to the predicted
class, so the top tokens are those that support it. Gradient-type methods (Gradient, SmoothGrad)
measure sensitivity, whose sign per dimension says nothing about the word: their absolute
values are summed (captum's ``Saliency`` default, ``abs=True``). ``random`` draws uniform scores.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ..data.text import token_table
from ..progress import track
from ..saliency import attribute
from ._common import eval_mode, model_device

__all__ = [
    "CONTRIBUTION_METHODS",
    "DEFAULT_BINS",
    "IOU_THRESHOLD",
    "auprc",
    "eraser_scores",
    "eraser_summary",
    "removal_counts",
    "spans",
    "span_matches",
    "token_attributions",
    "token_prf",
]

DEFAULT_BINS = (0.01, 0.05, 0.1, 0.2, 0.5)
#: Methods whose attributions are additive contributions: summed signed over the embedding.
CONTRIBUTION_METHODS = ("ig", "deeplift", "gradshap", "deepshap")
IOU_THRESHOLD = 0.5


def removal_counts(n: int, bins: Iterable[float]) -> list[int]:
    """Tokens in each bin: ``max(1, floor(k * n + 1/2))``, at most ``n``."""
    return [min(n, max(1, math.floor(float(k) * n + 0.5))) for k in bins]


def spans(selected: Sequence[bool]) -> list[tuple[int, int]]:
    """The maximal runs of True as ``(start, end)`` token spans (end exclusive)."""
    out, start = [], None
    for i, s in enumerate(list(selected) + [False]):
        if s and start is None:
            start = i
        elif not s and start is not None:
            out.append((start, i))
            start = None
    return out


def span_matches(pred: Sequence[tuple[int, int]], truth: Sequence[tuple[int, int]],
                 threshold: float = IOU_THRESHOLD) -> int:  # fmt: skip
    """Predicted spans whose best IOU with a human span is at least ``threshold`` (ERASER)."""
    tp = 0
    for ps, pe in pred:
        best = 0.0
        for ts, te in truth:
            inter = max(0, min(pe, te) - max(ps, ts))
            union = (pe - ps) + (te - ts) - inter
            best = max(best, inter / union if union else 0.0)
        tp += best >= threshold
    return tp


def token_prf(pred: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    """Token precision, recall and F1 of one document (0 where undefined, as ERASER)."""
    hit = float(np.sum(pred & truth))
    p = hit / pred.sum() if pred.sum() else 0.0
    r = hit / truth.sum() if truth.sum() else 0.0
    return p, r, (2 * p * r / (p + r) if p and r else 0.0)


def auprc(scores: np.ndarray, truth: np.ndarray) -> float:
    """Area under the precision-recall curve of one document (sklearn, as ERASER's
    ``_auprc``); NaN when the document has no rationale token or only rationale tokens."""
    from sklearn.metrics import auc, precision_recall_curve

    if truth.all() or not truth.any():
        return float("nan")
    precision, recall, _ = precision_recall_curve(truth.astype(int), scores)
    return float(auc(recall, precision))


def token_attributions(
    model: nn.Module,
    x: torch.Tensor,
    target: torch.Tensor,
    method: str,
    generator: torch.Generator | None = None,
    **kwargs,
) -> torch.Tensor:
    """(B, L) token scores of ``method`` for sequences ``x`` (B, 1, L, D) of equal length (no
    padding): the attribution summed over the embedding, signed for
    :data:`CONTRIBUTION_METHODS`, of absolute values otherwise (module docstring)."""
    if method == "random":
        return torch.rand(x.shape[:1] + x.shape[2:3], generator=generator).to(x.device)
    signed = method in CONTRIBUTION_METHODS
    attr = attribute(model, x, target, method, abs=not signed, generator=generator, **kwargs)
    return attr.sum(dim=-1)


def _probabilities(model: nn.Module, rows: list[torch.Tensor], device) -> torch.Tensor:
    """Softmax outputs of a batch of (n_i, D) sequences, zero-padded at the end."""
    length = max(len(r) for r in rows)
    x = torch.zeros((len(rows), 1, length, rows[0].shape[1]), device=device)
    for i, r in enumerate(rows):
        x[i, 0, : len(r)] = r
    with torch.no_grad():
        return F.softmax(model(x).float(), dim=1)


def eraser_scores(
    model: nn.Module,
    data,
    saliency_methods: Sequence[str] = ("grad", "ig", "smoothgrad", "random"),
    options: Mapping[str, Mapping[str, Any]] | None = None,
    bins: Sequence[float] = DEFAULT_BINS,
    indices: Sequence[int] | None = None,
    rationale_fraction: float | None = None,
    batch_size: int = 64,
    seed: int = 0,
    device=None,
    progress: bool = True,
) -> pd.DataFrame:
    """One row per (document, saliency method) of a text dataset (:mod:`saliency_lib.data.text`):
    ``index`` (position in ``data``), ``annotation_id``, ``label``, ``pred``, ``prob`` (p_j of the
    full document), ``saliency``, ``comprehensiveness`` and ``sufficiency`` (AOPC over ``bins``;
    per bin in ``comprehensiveness_<k>``, ``sufficiency_<k>``), ``token_p/r/f1``, the span counts
    for IOU F1 (``pred_spans``, ``true_spans``, ``matched_spans``) and ``auprc`` (module
    docstring). ``indices``: the documents (default all); ``options``: saliency method ->
    keyword arguments (e.g. ``{"ig": {"n_steps": 20, "baseline": "zeros"}}``)."""
    table = token_table(data)
    device = model_device(model, device)
    options = dict(options or {})
    positions = list(range(len(data))) if indices is None else [int(i) for i in indices]
    items = []
    for i in positions:
        j = int(data.source_indices[i])
        ids, rationale, document = table.sequence(j)
        items.append((i, j, ids, rationale.numpy(), document.numpy()))
    if rationale_fraction is None:
        shares = [r[d].mean() for _, _, _, r, d in items if d.any()]
        rationale_fraction = float(np.mean(shares)) if shares else 0.1
    by_length: dict[int, list] = defaultdict(list)
    for item in items:
        by_length[len(item[2])].append(item)
    chunks = [
        group[s : s + batch_size]
        for _, group in sorted(by_length.items())
        for s in range(0, len(group), batch_size)
    ]
    g = torch.Generator().manual_seed(int(seed))
    rows = []
    with eval_mode(model):
        for chunk in track(chunks, "ERASER metrics", unit="batch", progress=progress):
            x = torch.cat([table.embed(it[2]) for it in chunk])[:, None].to(device)
            with torch.no_grad():
                probs = F.softmax(model(x).float(), dim=1)
            pred = probs.argmax(dim=1)
            for method in saliency_methods:
                scores = token_attributions(
                    model, x, pred, method, generator=g, **options.get(method, {})
                ).detach().cpu().double()  # fmt: skip
                rows += _chunk_rows(model, x, chunk, probs, pred, scores, method, bins,
                                    rationale_fraction, data, device)  # fmt: skip
    return pd.DataFrame(rows)


def _chunk_rows(model, x, chunk, probs, pred, scores, method, bins, fraction, data, device):
    """The rows of one batch of equal-length documents for one saliency method."""
    perturbed, meta = [], []
    for b, (i, _j, _ids, rationale, document) in enumerate(chunk):
        doc_pos = np.flatnonzero(document)
        s = scores[b].numpy()
        order = doc_pos[np.argsort(-s[doc_pos], kind="stable")]  # ties in token order
        for k in removal_counts(len(doc_pos), bins):
            top = np.zeros(len(document), dtype=bool)
            top[order[:k]] = True
            perturbed.append(x[b, 0][torch.from_numpy(~top).to(device)])  # comprehensiveness
            keep = top | ~document
            perturbed.append(x[b, 0][torch.from_numpy(keep).to(device)])  # sufficiency
        meta.append((b, i, rationale, document, order, s))
    out = _probabilities(model, perturbed, device).cpu()
    rows, nb = [], len(bins)
    for m, (b, i, rationale, document, order, s) in enumerate(meta):
        j = int(pred[b])
        p = float(probs[b, j])
        block = out[m * 2 * nb : (m + 1) * 2 * nb, j].double().numpy()
        comp, suff = p - block[0::2], p - block[1::2]
        truth = rationale[document]
        n_doc = int(document.sum())
        k = min(n_doc, max(1, math.floor(fraction * n_doc + 0.5)))
        hard = np.zeros(len(document), dtype=bool)
        hard[order[:k]] = True
        hard_doc = hard[document]
        tp, tr, tf = token_prf(hard_doc, truth)
        pred_spans, true_spans = spans(hard_doc), spans(truth)
        row = {
            "index": i,
            "annotation_id": data.tokens.annotation_ids[int(data.source_indices[i])],
            "label": int(data.y[i]),
            "pred": j,
            "prob": p,
            "saliency": method,
            "doc_tokens": n_doc,
            "comprehensiveness": float(comp.mean()),
            "sufficiency": float(suff.mean()),
            **{f"comprehensiveness_{kb:g}": float(c) for kb, c in zip(bins, comp, strict=True)},
            **{f"sufficiency_{kb:g}": float(v) for kb, v in zip(bins, suff, strict=True)},
            "token_p": tp,
            "token_r": tr,
            "token_f1": tf,
            "pred_spans": len(pred_spans),
            "true_spans": len(true_spans),
            "matched_spans": span_matches(pred_spans, true_spans),
            "auprc": auprc(s[document], truth),
        }
        rows.append(row)
    return rows


def eraser_summary(rows: pd.DataFrame, by: Sequence[str] = ("saliency",)) -> pd.DataFrame:
    """Dataset-level numbers per group of :func:`eraser_scores` rows: accuracy (%), AOPC
    comprehensiveness and sufficiency (means over documents), token F1 (instance macro), IOU F1
    (ERASER's macro: F1 of the mean span precision and mean span recall) and AUPRC (mean over
    documents where it is defined), with the document count."""
    out = []
    for key, g in rows.groupby(list(by), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        with_pred = g[g.pred_spans > 0]
        with_truth = g[g.true_spans > 0]
        p = _mean_ratio(with_pred.matched_spans, with_pred.pred_spans)
        r = _mean_ratio(with_truth.matched_spans, with_truth.true_spans)
        out.append(
            {
                **dict(zip(by, key, strict=True)),
                "documents": len(g),
                "accuracy": 100.0 * float((g.pred == g.label).mean()),
                "comprehensiveness": float(g.comprehensiveness.mean()),
                "sufficiency": float(g.sufficiency.mean()),
                "token_f1": float(g.token_f1.mean()),
                "iou_f1": 2 * p * r / (p + r) if p and r else 0.0,
                "auprc": float(g.auprc.mean()),
            }
        )
    return pd.DataFrame(out)


def _mean_ratio(num: pd.Series, den: pd.Series) -> float:
    return float((num / den).mean()) if len(den) else 0.0
