"""From the notebooks' claim records to what a reader concludes about each paper.

* :func:`family_wise`: Holm-adjusted verdicts for the family of the papers' claim records (every
  decided record of kind ``paper``), beside the unadjusted ones.
* :func:`summary_rows`: one row per paper claim of the catalogue, conjunctions resolved (a claim
  with ``parts``, and a claim with several records, holds only if every part holds), with the
  paper's number or direction, ours with its paired interval, the verdict, the control and the
  sensitivity reading; claims no notebook recorded are *not run* with what they need.
* :func:`forest_points`: one point per record of a paper's claims for the forest plots
  (:func:`saliency_lib.plots.plot_forest`).

Nothing is measured here: the numbers are the records' (docs/methods.md §8).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

from .catalogue import CLAIMS, PAPERS, Claim, paper_claims
from .verdicts import CONFIDENCE, Decision, Verdict, combine, holm

DECIDING = ("holds", "does not hold")


def _fmt(x, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{x:+.{digits}g}"


def family_wise(records: Sequence[dict], alpha: float = 1 - CONFIDENCE) -> list[dict]:
    """Copies of ``records`` with ``holm_verdict``: each paper-claim record with a p-value keeps
    its verdict if it stays significant under Holm's procedure over all such records (the
    family: every decided record of the papers' claims), else becomes *inconclusive*. Records
    without a p-value (not run, not testable, fewer than 3 seeds) keep their verdict."""
    out = [dict(r) for r in records]
    family = [i for i, r in enumerate(out) if r.get("kind", "paper") == "paper"
              and r.get("p_value") is not None]  # fmt: skip
    kept = holm([out[i]["p_value"] for i in family], alpha)
    for r in out:
        r["holm_verdict"] = r.get("verdict")
    for i, ok in zip(family, kept, strict=True):
        if out[i]["verdict"] in DECIDING and not ok:
            out[i]["holm_verdict"] = Verdict.INCONCLUSIVE.value
    return out


def family_statement(records: Sequence[dict], alpha: float = 1 - CONFIDENCE) -> str:
    """A sentence on multiplicity for the report: how many paper-claim records were decided at
    ``alpha`` each, how many false *holds* would be expected if every claim were false, and how
    many decisions survive Holm's adjustment."""
    fam = [r for r in records if r.get("kind", "paper") == "paper" and r.get("p_value") is not None]
    if not fam:
        return "No paper-claim record has an interval: nothing to adjust for multiplicity."
    decided = [r for r in fam if r["verdict"] in DECIDING]
    kept = [r for r in fam if r.get("holm_verdict") in DECIDING]
    return (
        f"{len(fam)} paper-claim records have an interval, each decided at {alpha:.0%} "
        f"({len(decided)} decided: holds or does not hold). If every tested difference were "
        f"zero, about {alpha / 2 * len(fam):.1f} of them would still come out *holds* by chance "
        f"(one side of a {1 - alpha:.0%} interval). Holm's procedure over the family keeps "
        f"{len(kept)} of the {len(decided)} decisions (column 'after Holm'); a conjunction "
        "needs no further adjustment (every part must hold)."
    )


def _decision(r: Mapping) -> Decision:
    return Decision(
        verdict=Verdict(r.get("verdict", "not run")),
        reason=r.get("reason", ""),
        n=int(r.get("n") or 0),
        resolvable=float("nan") if r.get("resolvable") is None else float(r["resolvable"]),
        by_design=bool(r.get("by_design")),
    )


def _interval_text(r: Mapping) -> str:
    if r.get("ci_low") is None:
        if r.get("mean_diff") is not None and r.get("n"):
            return f"{_fmt(r['mean_diff'])} {r.get('unit', '')}, {r['n']} seeds".replace(" ,", ",")
        return ""
    unit = f" {r['unit']}" if r.get("unit") else ""
    how = " (per-image bootstrap)" if r.get("interval") == "bootstrap" else ""
    return (f"{_fmt(r['mean_diff'])}{unit} [{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}], "
            f"{r['n']} seeds{how}")  # fmt: skip


def _paper_text(claim: Claim, recs: Sequence[Mapping]) -> str:
    shown = []
    for r in recs:
        if r.get("paper_effect") is not None:
            p = r["paper"]
            shown.append(f"{p[0]:g} vs {p[1]:g} ({r['paper_effect']:+.3g})")
    if shown:
        return "; ".join(dict.fromkeys(shown))
    if claim.paper:
        a, b = next(iter(claim.paper.values()))
        return f"{a:g} vs {b:g} ({claim.paper_setting})" if claim.b != "paper" else f"{a:g}"
    return "direction only (" + (claim.paper_setting or "no number") + ")"


def _companion_text(recs: Sequence[Mapping], key: str) -> str:
    comps = [r[key] for r in recs if r.get(key)]
    if not comps:
        return ""
    if len(comps) == 1:
        c = comps[0]
        ci = _interval_text(c)
        return f"{c['verdict']}" + (f": {ci}" if ci else "")
    counts: dict[str, int] = {}
    for c in comps:
        counts[c["verdict"]] = counts.get(c["verdict"], 0) + 1
    return ", ".join(f"{n} {v}" for v, n in counts.items())


def _parts_of(claim: Claim) -> tuple[str, ...]:
    return claim.parts or (claim.id,)


def summary_rows(records: Iterable[Mapping]) -> list[dict]:
    """One row per paper claim (kind ``paper``, not itself a part of a conjunction), in the
    catalogue's order: the records of the claim (or of its parts) decide it together."""
    by_claim: dict[str, list[Mapping]] = {}
    for r in records:
        by_claim.setdefault(r.get("claim_id", ""), []).append(r)
    rows = []
    for claim in paper_claims():
        if claim.part_of:
            continue
        recs = [r for cid in _parts_of(claim) for r in by_claim.get(cid, [])]
        row = {
            "source": claim.source, "claim_id": claim.id, "paper_item": claim.paper_item,
            "location": claim.location, "quote": claim.quote, "reading": claim.reading,
            "measured as": claim.quantity, "paper": _paper_text(claim, recs),
            "records": [r.get("id", "") for r in recs],
        }  # fmt: skip
        if not recs:
            why = f"needs {claim.needs}" if claim.needs else "no notebook recorded it"
            rows.append({**row, "verdict": "not run", "after Holm": "not run", "ours": "",
                         "reason": why, "control": "", "sensitivity": "",
                         "detects (80 % power)": ""})  # fmt: skip
            continue
        decided = combine([_decision(r) for r in recs]) if len(recs) > 1 else _decision(recs[0])
        holm_verdict = combine([
            Decision(Verdict(r.get("holm_verdict", r.get("verdict", "not run"))), "")
            for r in recs
        ]).verdict.value  # fmt: skip
        deciding = next((r for r in recs if r.get("verdict") == decided.verdict.value), recs[0])
        where = f" (deciding part: {deciding.get('setting', '')}" + (
            f", vs {deciding['b']})" if "|" in claim.b else ")"
        )
        ours = _interval_text(deciding)
        if len(recs) > 1:
            counts = ", ".join(
                f"{sum(r.get('verdict') == v.value for r in recs)} {v.value}"
                for v in Verdict if any(r.get("verdict") == v.value for r in recs)
            )  # fmt: skip
            ours = f"{len(recs)} parts: {counts}" + (f"; {ours}{where}" if ours else "")
        det = deciding.get("detectable")
        rows.append({
            **row, "verdict": decided.verdict.value, "after Holm": holm_verdict, "ours": ours,
            "reason": deciding.get("reason", ""),
            "control": _companion_text(recs, "control"),
            "sensitivity": _companion_text(recs, "sensitivity"),
            "detects (80 % power)": "" if det is None else
            f"{_fmt(det)} {deciding.get('unit', '')}".strip(),
        })  # fmt: skip
    return rows


def forest_points(records: Iterable[Mapping], source: str) -> list[dict]:
    """One point per record of ``source``'s paper claims (parts included), in catalogue order:
    label, effect (a - b), interval, the claim's boundary (and margin lines), the paper's own
    effect where it has one, and the verdict."""
    order = {cid: i for i, cid in enumerate(CLAIMS)}
    pts = []
    for r in sorted(records, key=lambda r: order.get(r.get("claim_id"), 10**6)):
        claim = CLAIMS.get(r.get("claim_id", ""))
        if claim is None or claim.kind != "paper" or claim.source != source:
            continue
        if r.get("mean_diff") is None:
            continue
        label = f"{claim.paper_item}: {r.get('a')} vs {r.get('b')}, {r.get('setting', '')}"
        pts.append({
            "label": label, "claim_id": claim.id, "effect": r["mean_diff"],
            "low": r.get("ci_low"), "high": r.get("ci_high"), "boundary": r.get("boundary", 0.0),
            "direction": r.get("direction"), "margin": r.get("margin", 0.0),
            "paper_effect": r.get("paper_effect"), "verdict": r.get("verdict"),
            "unit": r.get("unit", ""),
        })  # fmt: skip
    return pts


__all__ = ["PAPERS", "family_statement", "family_wise", "forest_points", "summary_rows"]
