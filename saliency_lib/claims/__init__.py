"""Claims of the papers and their verdicts: the notebooks measure, this package decides.

    from saliency_lib import claims
    record = claims.evaluate("smoot_auc_below_sgt", a=auc_smoot, b=auc_sgt,
                             setting="fashion_mnist", preconditions=[k_spread])
    exp.record_claims([record])          # REPORT.md shows every record

``a`` and ``b`` are per-seed values paired by seed. The catalogue (:mod:`.catalogue`) holds every
claim as data; the rules (:mod:`.verdicts`) give one of four verdicts with its reason and the
smallest difference the design resolves (docs/methods.md, "Claims and verdicts").
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping

from .catalogue import CLAIMS, Claim, get_claim, register_claim
from .verdicts import MIN_SEEDS, Decision, Precondition, Verdict, combine, decide

__all__ = [
    "CLAIMS",
    "Claim",
    "Decision",
    "MIN_SEEDS",
    "Precondition",
    "Verdict",
    "combine",
    "decide",
    "evaluate",
    "get_claim",
    "not_run",
    "paired",
    "record_line",
    "register_claim",
]


def _record(
    claim: Claim, setting: str, decision: Decision, note: str, paper_key: str | None = None
) -> dict:
    paper = claim.paper.get(setting if paper_key is None else paper_key)
    return {
        "id": f"{claim.id}:{setting}" if setting else claim.id,
        "claim_id": claim.id,
        "setting": setting,
        "paper_item": claim.paper_item,
        "claim": claim.quote,
        "quantity": claim.quantity,
        "compared": f"{claim.a} vs {claim.b}",
        "rule": claim.rule,
        "paper_setting": claim.paper_setting,
        "paper": list(paper) if paper else None,
        "note": note,
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
) -> dict:
    """Decide claim ``claim_id`` on per-seed values ``a`` and ``b`` (paired by seed) measured in
    ``setting`` (e.g. the dataset); returns the record a notebook stores and the report shows.
    ``margin`` replaces the claim's non-inferiority/equivalence margin (a profile's choice, e.g.
    a smaller one where more test images make the AUC less noisy). ``paper_key`` names the
    paper's numbers to show when ``setting`` is more specific (default: ``setting``)."""
    claim = get_claim(claim_id)
    if margin is not None:
        claim = dataclasses.replace(claim, margin=float(margin))
    if claim.needs_paper_data and not on_paper_data:
        vals = list(a)
        shown = ", ".join(f"{v:.3g}" for v in vals)
        decision = Decision(
            Verdict.NOT_TESTABLE,
            f"the paper's number is for {claim.paper_setting}; measured here ({setting}): {shown}",
            n=len(vals), per_seed_a=[float(v) for v in vals],
        )  # fmt: skip
        return _record(claim, setting, decision, note, paper_key)
    decision = decide(
        a, b, claim.direction, claim.margin, preconditions, min_seeds, unit=claim.unit
    )
    return _record(claim, setting, decision, note, paper_key)


def not_run(claim_id: str, setting: str = "", reason: str = "not run") -> dict:
    """The record of a claim whose runs are missing (a notebook not executed in this profile)."""
    return _record(get_claim(claim_id), setting, Decision(Verdict.NOT_RUN, reason), "")


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
    return (f"[{record['verdict']}] {record['paper_item']}{where}: {record['claim']} "
            f"({record['compared']}) -- {record['reason']}{resolves}")  # fmt: skip
