"""The reproduction report: ``outputs/<profile>/REPORT.md`` puts each notebook's tables (ours
beside the paper's, docs/methods.md §5) and every claim's verdict on one page: *holds*, *does
not hold*, *inconclusive*, *not testable here* (decided by :mod:`saliency_lib.claims` in the
notebooks) or *not run*. It only reads what the notebooks wrote (``metrics.json``, ``table*.md``,
figures): no
number in it is computed here."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from ._project import END_TO_END, SIDE_BY_SIDE
from .experiment import output_root
from .mdtable import markdown_table, md_cell

VERDICTS = ("holds", "does not hold", "inconclusive", "not testable here", "not run")
LEGACY_REASON = (
    "recorded under the earlier rule (means only, two verdicts), not by saliency_lib.claims: "
    "re-run the notebook"
)

# What each notebook reproduces and the ids of the claims it tests (saliency_lib/claims), so a
# notebook that did not run still lists its claims as "not run".
NOTEBOOK_TITLES = {
    "smoot_fig1_motivation": ("SMOOT Fig. 1", ["smoot_class_ii_share"]),
    "smoot_fig2_sgt_fig2_saliency_maps": (
        "SMOOT Fig. 2, SGT Fig. 2",
        ["sgt_sparser_maps", "smoot_sparser_maps"],
    ),
    "smoot_tab2_tab3_fig3_accuracy_drop": (
        "SMOOT Tables II-III, Fig. 3",
        ["smoot_auc_below_sgt", "sgt_auc_below_traditional", "smoot_accuracy_comparable"],
    ),
    "smoot_tab4_fig4_caltech_resnet18": ("SMOOT Table IV, Fig. 4", ["smoot_best_accuracy_caltech"]),
    "smoot_tab5_tab6_fig5_cifar_deit": ("SMOOT Tables V-VI, Fig. 5", ["smoot_best_accuracy_cifar"]),
    "hlgm_fig2_5_tab2_accuracy": (
        "HLGM Figs. 2-5, Table II",
        ["hlgm_accuracy_above_baseline", "hlgm_accuracy_above_sgt"],
    ),
    "hlgm_fig6_saliency_maps": (
        "HLGM Fig. 6",
        ["hlgm_object_share_above_baseline", "hlgm_object_share_above_sgt"],
    ),
    "hlgm_fig7_8_tab3_sib": (
        "HLGM Figs. 7-8, Table III",
        ["hlgm_sib_above_baseline", "hlgm_sib_above_sgt"],
    ),
    "sgt_fig3_accuracy_drop_saliency_methods": (
        "SGT Fig. 3",
        ["sgt_fig3_faster_drop", "sgt_fig3_random_same", "sgt_fig3_beyond_random"],
    ),
    "sgt_fig5_mnist_sequence_maps": ("SGT Fig. 5", []),
    "sgt_tab2_timeseries_benchmark": (
        "SGT Table 2",
        ["sgt_tab2_tcn_ig_best", "sgt_tab2_sgt_raises_diff"],
    ),
    "sgt_fig6_lstm_time_bias": (
        "SGT Fig. 6",
        ["sgt_fig6_trad_time_bias", "sgt_fig6_sgt_shrinks_bias"],
    ),
    "sgt_tab1_eraser_language": (
        "SGT Table 1",
        [
            "sgt_tab1_comprehensiveness_movies",
            "sgt_tab1_sufficiency_movies",
            "sgt_tab1_comprehensiveness_fever_esnli",
            "sgt_tab1_sufficiency_fever_esnli",
        ],
    ),
    "sgt_fig2bc_maps_gradient_means": (
        "SGT Fig. 2 (B)(C)",
        ["sgt_fig2c_concentrated", "sgt_fig2c_separation"],
    ),
    "sgt_fig4_feature_replacement": (
        "SGT Fig. 4",
        ["sgt_fig4_replacement_differs", "sgt_fig4_faster_drop"],
    ),
}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def claims_of(metrics: dict) -> list[dict]:
    """Claim records a notebook stored (:func:`saliency_lib.claims.evaluate`), a dict keyed by id
    or a list. A record in the older ``{"claim", "holds", "detail"}`` form was decided by the
    earlier two-valued rule: it is shown as *not run*, with that reason, never as a verdict."""
    raw = metrics.get("claims") or {}
    items = raw.items() if isinstance(raw, dict) else ((c.get("id", ""), c) for c in raw)
    out = []
    for cid, c in items:
        if isinstance(c, dict) and c:
            rec = {"id": cid, **c}
            if "verdict" not in rec:
                rec["verdict"] = "not run"
                rec["reason"] = f"{LEGACY_REASON} ({rec.get('detail', '')})"
            out.append(rec)
    return out


def _not_run_records(claim_ids: list[str], reason: str) -> list[dict]:
    from .claims import not_run

    return [not_run(cid, reason=reason) for cid in claim_ids]


def _plateau_records(node: Any, path: tuple = ()):
    """``(path, record)`` for every HLGM phase-1 record (:func:`~saliency_lib.studies.hlgm.
    hlgm_plateau_info`: a dict with ``reached`` and ``plateau_epoch``) stored under ``node``."""
    if isinstance(node, dict):
        if "reached" in node and "plateau_epoch" in node:
            yield path, node
            return
        for key, value in node.items():
            yield from _plateau_records(value, (*path, str(key)))


def hlgm_phase1_flags(metrics: dict) -> list[str]:
    """One line per HLGM setting with a run whose phase 1 never ended (no phase-2 epoch: HLGM
    trained traditionally throughout and equals its baseline), read from the phase-1 records
    the notebook stored in ``results`` (keyed ``... setting ... seed``)."""
    never: dict[str, list[str]] = {}
    at_end: dict[str, list[str]] = {}
    epochs: dict[str, set] = {}
    for path, rec in _plateau_records(metrics.get("results") or {}):
        seed = path[-1] if path else "?"
        names = [k for k in path[:-1] if k not in ("results", "plateau", "plateaus")]
        setting = names[-1] if names else "?"
        if not rec.get("reached"):
            never.setdefault(setting, []).append(seed)
        elif rec.get("phase2_epochs") == 0:
            at_end.setdefault(setting, []).append(seed)
        else:
            continue
        if rec.get("epochs") is not None:
            epochs.setdefault(setting, set()).add(int(rec["epochs"]))
    lines = []
    for setting in sorted(set(never) | set(at_end)):
        n = "/".join(str(e) for e in sorted(epochs.get(setting, ()))) or "?"
        if setting in never:
            seeds = ", ".join(sorted(set(never[setting])))
            lines.append(
                f"HLGM phase 1 never ended: setting `{setting}`, seed(s) {seeds}: no phase-1 "
                f"plateau within {n} epochs, so phase 2 never started and HLGM equals its "
                "baseline there"
            )
        if setting in at_end:
            seeds = ", ".join(sorted(set(at_end[setting])))
            lines.append(
                f"HLGM phase 1 ended only at the last epoch: setting `{setting}`, seed(s) "
                f"{seeds}: no phase-2 epoch was run, HLGM equals its baseline there"
            )
    return lines


def _settings_line(metrics: dict) -> str:
    s = metrics.get("settings", {})
    parts = []
    for key in ("datasets", "dataset", "training", "seeds"):
        if key in s:
            parts.append(f"{key} = `{json.dumps(s[key], sort_keys=True)}`")
    return "; ".join(parts)


def collect(profile: str, root: Path | None = None) -> list[dict]:
    """One entry per notebook folder (or per known notebook) with status, claims, tables."""
    profile_dir = Path(root or output_root()) / profile
    timings = {t["name"]: t for t in (_read_json(profile_dir / "timings.json") or [])}
    names = set(NOTEBOOK_TITLES)
    if profile_dir.exists():
        names |= {
            p.name
            for p in profile_dir.iterdir()
            if p.is_dir()
            and not p.name.startswith((".", "runs"))
            and not p.name.endswith(".FAILED")
        }
    names.discard("summary")
    entries = []
    for name in sorted(names):
        folder = profile_dir / name
        metrics = _read_json(folder / "metrics.json") or {}
        status = metrics.get("status") or ("failed" if (profile_dir / f"{name}.FAILED").exists()
                                           else "not run")  # fmt: skip
        title, expected = NOTEBOOK_TITLES.get(name, (name, []))
        claims = claims_of(metrics) if status == "complete" else []
        if status == "complete" and any(c.get("reason", "").startswith(LEGACY_REASON)
                                        for c in claims):  # fmt: skip
            # outputs of the earlier rules (2-seed intervals, two verdicts): not shown as results
            status = "stale"
            why = "its outputs predate the current claim rules: re-run it"
            metrics = {**metrics, "reason": why}
        if not claims:
            why = metrics.get("reason") or (
                "the notebook recorded no claim" if status == "complete" else "notebook " + status
            )
            claims = _not_run_records(expected, why)
        entries.append(
            {
                "name": name,
                "title": title,
                "status": status,
                "reason": metrics.get("reason", ""),
                "seconds": timings.get(name, {}).get("seconds"),
                "settings": _settings_line(metrics),
                "claims": claims,
                "flags": hlgm_phase1_flags(metrics) if status == "complete" else [],
                "items": report_items(folder, metrics) if status == "complete" else [],
                "html": folder / f"{name}.html",
            }
        )
    return entries


def report_items(folder: Path, metrics: dict) -> list[dict]:
    """The figures and tables a notebook declared for the report
    (:meth:`saliency_lib.experiment.Experiment.show_figure` / ``show_table``), in the order it
    showed them, each ``{"kind", "path", "caption"}``; items whose file is missing are left out.
    Outputs written before notebooks declared their items: the ``table*.md`` files."""
    declared = metrics.get("report")
    if not isinstance(declared, list):
        declared = [{"kind": "table", "file": p.name, "caption": p.stem}
                    for p in sorted(folder.glob("table*.md"))]  # fmt: skip
    items = []
    for item in declared:
        path = folder / str(item.get("file", ""))
        if item.get("kind") in ("figure", "table") and path.is_file():
            items.append({"kind": item["kind"], "path": path, "caption": item.get("caption", "")})
    return items


CLAIM_COLUMNS = ["paper item", "setting (the paper's)", "claim (paper's words)", "compared",
                 "verdict", "reason", "resolvable difference"]  # fmt: skip


def _resolvable(c: dict) -> str:
    r = c.get("resolvable")
    if r is None or (isinstance(r, float) and r != r):
        return ""
    return f"{r:.3g}"


def _setting(c: dict) -> str:
    """Where we measured, with the paper's model and data beside it: a claim tested on other
    data than the paper's says so in its row."""
    ours, paper = c.get("setting", ""), c.get("paper_setting", "")
    return f"{ours} (paper: {paper})" if paper else ours


def claims_table(entries: list[dict]) -> pd.DataFrame:
    """One row per claim record: where it comes from, what it compares, the verdict, its reason
    and the smallest difference the design resolves (the interval's half-width)."""
    rows = []
    for e in entries:
        for c in e["claims"]:
            verdict = c.get("verdict", "not run") if e["status"] == "complete" else "not run"
            rows.append({
                "paper item": c.get("paper_item") or e["title"],
                "setting (the paper's)": _setting(c),
                "claim (paper's words)": c.get("claim", ""),
                "compared": c.get("compared", ""),
                "verdict": verdict,
                "reason": c.get("reason", ""),
                "resolvable difference": _resolvable(c),
            })  # fmt: skip
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def verdict_counts(table: pd.DataFrame) -> str:
    counts = table["verdict"].value_counts()
    return ", ".join(f"{int(counts[v])} {v}" for v in VERDICTS if v in counts)


def side_by_side_timing(profile_dir: Path) -> dict | None:
    """The ``timings.json`` entry of ``reproduce``'s side-by-side training stage, if any."""
    timings = _read_json(profile_dir / "timings.json") or []
    return next((t for t in timings if t.get("name") == SIDE_BY_SIDE and "seconds" in t), None)


def end_to_end_line(profile_dir: Path) -> str:
    """The profile's end-to-end time from ``end_to_end.json`` (written by one ``reproduce`` of
    every notebook with the profile's own parameters), and which notebooks ran again since."""
    record = _read_json(profile_dir / END_TO_END)
    if not isinstance(record, dict) or "seconds" not in record:
        return ("End to end: not measured (no single `reproduce` of the whole profile has "
                "written `end_to_end.json`; `make reproduce` does).")  # fmt: skip
    failed = [n for n, st in record.get("statuses", {}).items() if st == "failed"]
    timings = _read_json(profile_dir / "timings.json") or []
    since = [t["name"] for t in timings if t.get("finished", "") > record.get("finished", "")
             and t["name"] not in ("summary", SIDE_BY_SIDE)]  # fmt: skip
    text = (
        f"End to end: one `reproduce` of all {record.get('notebooks')} notebooks took "
        f"{record['seconds'] / 60:.1f} minutes (finished {record.get('finished', '?')[:16]} UTC, "
        f"{record.get('cpus')} CPUs, run store "
        f"{'empty' if record.get('run_store_empty_at_start') else 'not empty'} at the start"
        f"{'' if record.get('allocator_tuning', True) else ', allocator tuning off'})"
    )
    if failed:
        text += f"; failed in that run: {', '.join(failed)}"
    if since:
        text += f"; run again since (their outputs are newer): {', '.join(since)}"
    return text + "."


def build_report(profile: str, root: str | Path | None = None) -> Path:
    """Write ``<root>/<profile>/REPORT.md`` from the notebooks' outputs; returns its path."""
    root = Path(root or output_root())
    profile_dir = root / profile
    profile_dir.mkdir(parents=True, exist_ok=True)
    entries = collect(profile, root)
    claims = claims_table(entries)
    total = sum(e["seconds"] or 0 for e in entries)
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Reproduction report: `{profile}` profile",
        "",
        f"Generated {now} from the notebooks' outputs under `outputs/{profile}/`. Every number "
        "below was computed by the notebooks; the papers' numbers (docs/methods.md §5) sit beside "
        "ours. Settings differ from the papers' unless the profile is `paper`: read each "
        "section's settings line before comparing.",
        "",
        "## Claims",
        "",
        "Each claim is tested on per-seed values paired by seed (same seed, same data). "
        "*holds* / *does not hold*: the 95 % interval of the paired difference lies on the "
        "claimed / the other side (of the non-inferiority or equivalence margin where the claim "
        "has one); *inconclusive*: it straddles it, or fewer than 3 seeds; *not testable here*: "
        "a precondition measured from the runs is unmet (the mechanism under test did not act "
        "at this scale). The resolvable difference is the interval's half-width: differences "
        "smaller than it cannot be seen with this design. Rules: `saliency_lib/claims/`.",
        "",
        f"Verdicts: {verdict_counts(claims)}." if len(claims) else "No claims recorded.",
        "",
        *[f"> **Flag** (`{e['name']}`): {flag}." for e in entries for flag in e["flags"]],
        *([""] if any(e["flags"] for e in entries) else []),
        markdown_table(claims),
        "",
        "## Notebooks",
        "",
        "| notebook | reproduces | status | minutes |",
        "|---|---|---|---|",
    ]
    stage = side_by_side_timing(profile_dir)
    if stage:
        total += stage["seconds"]
        lines.append(
            f"| {SIDE_BY_SIDE} | the runs with a thread count: {stage.get('runs')} runs, "
            f"{stage.get('processes')} at a time, before the notebooks (which then load them) | "
            f"{md_cell(stage.get('status', ''))} | {stage['seconds'] / 60:.1f} |"
        )
    for e in entries:
        minutes = f"{e['seconds'] / 60:.1f}" if e["seconds"] else ""
        status = e["status"] + (f": {e['reason']}" if e["reason"] else "")
        lines.append(f"| `{e['name']}` | {md_cell(e['title'])} | {md_cell(status)} | {minutes} |")
    if total:
        lines += ["", f"Sum of the recorded times: {total / 60:.1f} minutes (each "
                  "timed when it last ran, on whatever else the machine was doing: "
                  "`timings.json`)."]  # fmt: skip
    lines += ["", end_to_end_line(profile_dir)]
    for e in entries:
        if e["status"] != "complete":
            continue
        lines += ["", f"## {e['title']} (`{e['name']}`)", ""]
        if e["settings"]:
            lines += [f"Settings: {e['settings']}", ""]
        for flag in e["flags"]:
            lines += [f"> **Flag**: {flag}.", ""]
        if e["html"].is_file():
            link = e["html"].relative_to(profile_dir).as_posix()
            lines += [f"The executed notebook, with its narrative: [{e['html'].name}]({link}).", ""]
        for item in e["items"]:
            caption = item["caption"].replace("\n", " ")
            if item["kind"] == "table":
                lines += [f"**{caption}**", "", item["path"].read_text().strip(), ""]
            else:
                alt = caption.replace("[", "(").replace("]", ")")
                lines += [f"![{alt}]({item['path'].relative_to(profile_dir).as_posix()})", "",
                          f"*{caption}*", ""]  # fmt: skip
    path = profile_dir / "REPORT.md"
    path.write_text("\n".join(lines).rstrip() + "\n")
    return path
