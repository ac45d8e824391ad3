"""Claims of the papers and their verdicts: the notebooks measure, this package decides.

    from saliency_lib import claims
    control = claims.evaluate("drop_beyond_random", gain_smoot, gain_sgt, "fashion_mnist")
    record = claims.evaluate("smoot_auc_below_sgt", a=auc_smoot, b=auc_sgt,
                             setting="fashion_mnist", preconditions=[k_spread], control=control)
    exp.record_claims([record])          # REPORT.md shows every record

``a`` and ``b`` are per-seed values paired by seed. The catalogue (:mod:`.catalogue`) holds every
claim as data; the rules (:mod:`.verdicts`) give one of four verdicts with its reason, the
smallest difference the design resolves and the smallest effect it detects with 80 % power;
:mod:`.summary` resolves conjunctions, adjusts for multiplicity and builds the per-paper summary
(docs/methods.md §8).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import yaml

from .catalogue import CLAIMS, Claim, get_claim, paper_claims, paper_numbers, register_claim
from .verdicts import (
    MIN_SEEDS,
    Decision,
    Precondition,
    Verdict,
    boundary,
    combine,
    decide,
    detectable_effect,
    holm,
)

__all__ = [
    "CLAIMS",
    "Claim",
    "Decision",
    "MIN_SEEDS",
    "Precondition",
    "Verdict",
    "boundary",
    "changes",
    "combine",
    "decide",
    "detectable_effect",
    "evaluate",
    "get_claim",
    "holm",
    "not_run",
    "not_testable",
    "paired",
    "paper_claims",
    "paper_numbers",
    "record_line",
    "register_claim",
]

#: what a companion record (a control or a sensitivity reading) keeps when attached to a record
_COMPANION_KEYS = ("claim_id", "claim", "setting", "verdict", "reason", "mean_diff", "ci_low",
                   "ci_high", "resolvable", "n", "unit")  # fmt: skip


def _companion(record: Mapping | None, label: str) -> dict | None:
    if record is None:
        return None
    return {"label": label, **{k: record.get(k) for k in _COMPANION_KEYS}}


def _record(
    claim: Claim,
    setting: str,
    decision: Decision,
    note: str = "",
    paper_key: str | None = None,
    versus: str | None = None,
    control: Mapping | None = None,
    sensitivity: Mapping | None = None,
    sensitivity_label: str = "",
) -> dict:
    b = versus or claim.b
    key = setting if paper_key is None else paper_key
    paper = claim.paper.get(f"{key} vs {b}", claim.paper.get(key)) if key is not None else None
    bound, _ = boundary(claim.direction, claim.margin)
    return {
        "id": f"{claim.id}:{setting}" + (f" vs {versus}" if versus else ""),
        "claim_id": claim.id,
        "kind": claim.kind,
        "source": claim.source,
        "part_of": claim.part_of,
        "setting": setting,
        "paper_item": claim.paper_item,
        "location": claim.location,
        "claim": claim.quote,
        "reading": claim.reading,
        "quantity": claim.quantity,
        "a": claim.a,
        "b": b,
        "compared": f"{claim.a} vs {b}",
        "direction": claim.direction,
        "margin": claim.margin,
        "boundary": bound,
        "unit": claim.unit.strip(),
        "rule": claim.rule,
        "paper_setting": claim.paper_setting,
        "paper": list(paper) if paper else None,
        "paper_effect": (paper[0] - paper[1]) if paper and claim.b != "paper" else None,
        "note": note,
        "control": _companion(control, "control"),
        "sensitivity": _companion(sensitivity, sensitivity_label or "sensitivity"),
        **decision.to_dict(),
    }


def evaluate(
    claim_id: str,
    a: Iterable[float],
    b: Iterable[float],
    setting: str = "",
    preconditions: Iterable[Precondition] = (),
    note: str = "",
    on_paper_data: bool = False,
    min_seeds: int = MIN_SEEDS,
    margin: float | None = None,
    paper_key: str | None = None,
    versus: str | None = None,
    units: Sequence[tuple[Sequence[float], Sequence[float]]] | None = None,
    statistic: Callable = np.median,
    control: Mapping | None = None,
    sensitivity: Mapping | None = None,
    sensitivity_label: str = "",
) -> dict:
    """Decide claim ``claim_id`` on per-seed values ``a`` and ``b`` (paired by seed) measured in
    ``setting`` (e.g. the dataset); returns the record a notebook stores and the report shows.

    ``versus`` names the compared arm when the claim has several (``b="sgt | traditional"``).
    ``margin`` replaces the claim's margin (a profile's choice). ``paper_key`` names the paper's
    numbers to show when ``setting`` is more specific (default: ``setting``). ``units`` and
    ``statistic``: per-image values behind each seed's value, used when the seed differences
    have no spread (:func:`~saliency_lib.claims.verdicts.decide`). ``control``: the record of a
    control that qualifies this verdict (e.g. :data:`drop_beyond_random`); ``sensitivity``: the
    record of the same claim under the other reading of a rule (e.g. the best epoch instead of
    the final one), labelled ``sensitivity_label``; both are shown in the same row."""
    claim = get_claim(claim_id)
    if margin is not None:
        claim = dataclasses.replace(claim, margin=float(margin))
    extra = dict(versus=versus, control=control, sensitivity=sensitivity,
                 sensitivity_label=sensitivity_label)  # fmt: skip
    if claim.needs_paper_data and not on_paper_data:
        vals = list(a)
        shown = ", ".join(f"{v:.3g}" for v in vals)
        decision = Decision(
            Verdict.NOT_TESTABLE,
            f"by design: the paper's number is for {claim.paper_setting}; measured here "
            f"({setting}): {shown}",
            n=len(vals), per_seed_a=[float(v) for v in vals], by_design=True,
        )  # fmt: skip
        return _record(claim, setting, decision, note, paper_key, **extra)
    decision = decide(a, b, claim.direction, claim.margin, preconditions, min_seeds,
                      unit=claim.unit, units=units, statistic=statistic)  # fmt: skip
    return _record(claim, setting, decision, note, paper_key, **extra)


def not_run(claim_id: str, setting: str = "", reason: str = "not run",
            versus: str | None = None) -> dict:  # fmt: skip
    """The record of a claim whose runs are missing (a notebook not executed in this profile)."""
    claim = get_claim(claim_id)
    if claim.needs and reason == "not run":
        reason = f"needs {claim.needs}"
    return _record(claim, setting, Decision(Verdict.NOT_RUN, reason), versus=versus)


def not_testable(
    claim_id: str, setting: str = "", reason: str = "", versus: str | None = None
) -> dict:
    """The record of a claim that this setting cannot test by design (e.g. a picture with no
    measure the paper gives, on data without the annotation a measure would need)."""
    decision = Decision(Verdict.NOT_TESTABLE, f"by design: {reason}", by_design=True)
    return _record(get_claim(claim_id), setting, decision, versus=versus)


def paired(
    table, value: str, a: str, b: str, by: str = "method", key: str = "seed"
) -> tuple[list[float], list[float]]:
    """Per-seed values of column ``value`` for arms ``a`` and ``b`` of a tidy table (rows =
    seeds), on the seeds both have, in seed order."""
    va = table[table[by] == a].set_index(key)[value]
    vb = table[table[by] == b].set_index(key)[value]
    seeds = sorted(set(va.index) & set(vb.index))
    return [float(va.loc[s]) for s in seeds], [float(vb.loc[s]) for s in seeds]


def record_line(record: Mapping) -> str:
    """``[verdict] paper item (setting): claim -- reason`` for printing in a notebook."""
    where = f" ({record['setting']})" if record.get("setting") else ""
    res = record.get("resolvable")
    resolves = (
        ""
        if res is None or (isinstance(res, float) and math.isnan(res))
        else (f"; resolves {res:.3g}")
    )
    line = (f"[{record['verdict']}] {record['paper_item']}{where}: {record['claim']} "
            f"({record['compared']}) -- {record['reason']}{resolves}")  # fmt: skip
    for companion in (record.get("control"), record.get("sensitivity")):
        if companion:
            line += f" | {companion['label']}: {companion['verdict']}"
    return line


def changes() -> list[dict]:
    """Thresholds, settings and rules changed after results had been seen (``changes.yaml``):
    each ``{"date", "what", "old", "new", "why"}``, oldest first. The report prints them."""
    return yaml.safe_load(Path(__file__).with_name("changes.yaml").read_text()) or []
