"""The reproduction report: ``outputs/<profile>/REPORT.md`` puts each notebook's tables (ours
beside the paper's, docs/methods.md §5) and every claim's verdict on one page: *holds*, *does
not hold*, *inconclusive*, *not testable here* (decided by :mod:`saliency_lib.claims` in the
notebooks) or *not run*. It only reads what the notebooks wrote (``metrics.json``, ``table*.md``,
figures): no
number in it is computed here."""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ._project import END_TO_END, SIDE_BY_SIDE
from .claims import changes, not_run, paper_numbers
from .claims.summary import PAPERS, family_statement, family_wise, summary_rows
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
        ["sgt_sparser_maps", "sgt_maps_on_object", "smoot_maps_on_object"],
    ),
    "smoot_tab2_tab3_fig3_accuracy_drop": (
        "SMOOT Tables II-III, Fig. 3",
        ["sgt_auc_below_traditional", "smoot_auc_below_sgt", "smoot_steeper_drop_any_method",
         "smoot_superior_accuracy", "sgt_accuracy_kept", "smoot_k_dynamic"],
    ),
    "smoot_tab4_fig4_caltech_resnet18": (
        "SMOOT Table IV, Fig. 4", ["smoot_caltech_accuracy", "smoot_caltech_gradients"]),
    "smoot_tab5_tab6_fig5_cifar_deit": (
        "SMOOT Tables V-VI, Fig. 5",
        ["smoot_cifar_accuracy", "smoot_cifar_sgt_above_traditional", "smoot_cifar_gradients"],
    ),
    "hlgm_fig2_5_tab2_accuracy": (
        "HLGM Figs. 2-5, Table II",
        ["hlgm_superior_accuracy", "hlgm_gain_range", "hlgm_sgt_costs_accuracy",
         "hlgm_train_accuracy_dip"],
    ),
    "hlgm_fig6_saliency_maps": ("HLGM Fig. 6", ["hlgm_object_share"]),
    "hlgm_fig7_8_tab3_sib": (
        "HLGM Figs. 7-8, Table III",
        ["hlgm_sib_median", "hlgm_sib_mean", "hlgm_sib_majority"],
    ),
    "sgt_fig3_accuracy_drop_saliency_methods": (
        "SGT Fig. 3", ["sgt_fig3_steeper_drop", "sgt_accuracy_kept"]),
    "sgt_fig5_mnist_sequence_maps": ("SGT Fig. 5", ["sgt_fig5_maps_improve"]),
    "sgt_tab2_timeseries_benchmark": (
        "SGT Table 2",
        ["sgt_tab2_tcn_ig_best", "sgt_tab2_precision_recall_up"],
    ),
    "sgt_fig6_lstm_time_bias": (
        "SGT Fig. 6",
        ["sgt_fig6_trad_time_bias", "sgt_fig6_sgt_no_time_bias"],
    ),
    "own_training_loop": ("not a paper item: the public API on a new model and data", []),
    "sgt_fig4_feature_replacement": (
        "SGT Fig. 4",
        ["sgt_fig4_replacements_differ", "sgt_fig4_faster_drop"],
    ),
}  # fmt: skip


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


SETTING_ROWS = ("model", "data", "images", "epochs", "seeds", "saliency")


def _ours(settings: dict) -> dict[str, str]:
    """Our setting in the report's rows, read from the ``settings`` a notebook recorded."""
    training = settings.get("training") or {}
    datasets = settings.get("datasets") or settings.get("dataset") or {}
    if isinstance(datasets, str):
        datasets = {datasets: {}}
    elif isinstance(datasets, list):
        datasets = {d: {} for d in datasets}
    archs = settings.get("architectures") or {}
    models = sorted({str(v.get("model", training.get("model", ""))) for v in datasets.values()
                     if isinstance(v, dict)} - {""}) or ([training["model"]] if "model" in
                                                        training else [])  # fmt: skip
    models = list(archs) if archs else models
    data, images, epochs = [], [], set()
    for label, entry in datasets.items():
        entry = entry if isinstance(entry, dict) else {}
        name = entry.get("dataset", label)
        data.append(str(name) if name == label else f"{name} ({label})")
        sizes = [f"{entry[k]:,} {k.split('_')[0]}" for k in ("train_subset", "test_subset")
                 if entry.get(k)]  # fmt: skip
        if sizes:
            images.append(
                f"{label}: " + ", ".join(sizes) if len(datasets) > 1 else ", ".join(sizes)
            )
        epochs.add(entry.get("epochs", training.get("epochs")))
    for arch in archs.values():
        if isinstance(arch, dict) and "epochs" in arch:
            epochs.add(arch["epochs"])
    evals = [f"{settings[k]:,} {k.replace('_', ' ')}" for k in
             ("eval_images", "method_eval_images", "sib_images", "sparsity_images")
             if isinstance(settings.get(k), int)]  # fmt: skip
    saliency = [settings["saliency"]] if isinstance(settings.get("saliency"), str) else []
    saliency += [m for m in settings.get("saliency_methods") or [] if m not in saliency]
    return {
        "model": ", ".join(models) or "-",
        "data": ", ".join(data) or "-",
        "images": "; ".join(images + evals) or "all",
        "epochs": ", ".join(str(e) for e in sorted(epochs, key=str) if e is not None) or "-",
        "seeds": str(settings.get("seeds", "-")),
        "saliency": ", ".join(saliency) or "gradient",
    }


def settings_table(name: str, metrics: dict) -> str:
    """A short table of the paper's setting beside ours (model, data, images, epochs, seeds,
    saliency) for a notebook's section; the paper's from ``paper_numbers.yaml``."""
    paper = paper_numbers().get("settings", {}).get(name, {})
    ours = _ours(metrics.get("settings", {}))
    rows = [{"": key, "the paper": str(paper.get(key, "-")), "ours": ours[key]}
            for key in SETTING_ROWS]  # fmt: skip
    return markdown_table(pd.DataFrame(rows))


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
                "settings": settings_table(name, metrics) if metrics else "",
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


CLAIM_COLUMNS = ["paper item", "kind", "setting (the paper's)", "claim (paper's words)",
                 "compared", "verdict", "after Holm", "reason", "resolvable difference",
                 "detects (80 % power)", "control", "sensitivity"]  # fmt: skip
KIND_WORDS = {"paper": "the paper's", "control": "our control", "check": "our check"}


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


def _companion(c: dict | None) -> str:
    if not c:
        return ""
    ci = ""
    if c.get("ci_low") is not None:
        ci = f": {c['mean_diff']:+.3g} [{c['ci_low']:+.3g}, {c['ci_high']:+.3g}]"
    return f"{c['verdict']}{ci}"


def all_records(entries: list[dict]) -> list[dict]:
    """Every claim record of every notebook, with the notebook's status applied (a record of a
    notebook that is not complete is *not run*) and Holm-adjusted verdicts
    (:func:`saliency_lib.claims.summary.family_wise`)."""
    recs = []
    for e in entries:
        for c in e["claims"]:
            verdict = c.get("verdict", "not run") if e["status"] == "complete" else "not run"
            recs.append({**c, "verdict": verdict, "notebook": e.get("name", ""),
                         "paper_item": c.get("paper_item") or e.get("title", "")})  # fmt: skip
    return family_wise(recs)


def claims_table(entries: list[dict]) -> pd.DataFrame:
    """One row per claim record: where it comes from, what it compares, the verdict (and after
    Holm's adjustment), its reason, the smallest difference the design resolves (the interval's
    half-width), the smallest effect it detects with 80 % power, and the control and
    sensitivity reading beside it."""
    rows = []
    for c in all_records(entries):
        det = c.get("detectable")
        rows.append({
            "paper item": c.get("paper_item", ""),
            "kind": KIND_WORDS.get(c.get("kind", "paper"), c.get("kind", "")),
            "setting (the paper's)": _setting(c),
            "claim (paper's words)": c.get("claim", ""),
            "compared": c.get("compared", ""),
            "verdict": c["verdict"],
            "after Holm": c.get("holm_verdict", c["verdict"]),
            "reason": c.get("reason", ""),
            "resolvable difference": _resolvable(c),
            "detects (80 % power)": "" if det is None else f"{det:+.3g}",
            "control": _companion(c.get("control")),
            "sensitivity": _companion(c.get("sensitivity")),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


SUMMARY_COLUMNS = ["claim", "paper's words (where)", "measured as", "paper", "ours (a - b)",
                   "verdict", "after Holm", "control (random ranking)", "sensitivity",
                   "detects (80 % power)"]  # fmt: skip


def summary_table(rows: list[dict]) -> pd.DataFrame:
    """The per-paper summary rows (:func:`saliency_lib.claims.summary.summary_rows`) in the
    report's columns."""
    out = []
    for r in rows:
        ours = r["ours"] or r["reason"]
        out.append({
            "claim": r["paper_item"],
            "paper's words (where)": f"\"{r['quote']}\" ({r['location']})",
            "measured as": r["measured as"] + (f"; {r['reading']}" if r["reading"] else ""),
            "paper": r["paper"],
            "ours (a - b)": ours,
            "verdict": r["verdict"],
            "after Holm": r["after Holm"],
            "control (random ranking)": r["control"],
            "sensitivity": r["sensitivity"],
            "detects (80 % power)": r["detects (80 % power)"],
        })  # fmt: skip
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS)


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


RULES = (
    "Each claim is tested on per-seed values paired by seed (same seed, same data subset): the "
    "95 % Student-t interval of the paired difference a - b decides. *holds* / *does not "
    "hold*: the interval lies on the claimed / the other side of the claim's boundary (0; "
    "the non-inferiority margin for 'without degrading'; the stated gain for a range; both "
    "margins for an equivalence); *inconclusive*: it straddles it, or fewer than 3 seeds; *not "
    "testable here*: a precondition is unmet, measured from the runs or computed from the "
    "parameters before any training (*by design*); *not run*: no notebook of this profile "
    "could run it (it says what it needs). A difference that is the same in every seed (a "
    "discrete measure) is decided on the per-image values within the seeds (a paired "
    "bootstrap over images). A claim with several records (per saliency method, per SIB "
    "level, against both compared models) or several parts ('SMOOT > SGT > Traditional') "
    "holds only if every one holds. Per-arm intervals in the tables below may overlap while "
    "the paired difference is decided: pairing by seed removes the seed-to-seed variation "
    "both arms share. 'resolvable difference' is the interval's half-width; 'detects (80 % "
    "power)' is the smallest true a - b this design would decide with 80 % probability at "
    "the measured spread. Rules: `saliency_lib/claims/`, docs/methods.md §8."
)


def _changes_lines() -> list[str]:
    rows = [{"date": str(c.get("date", "")), "what": c.get("what", ""), "old": c.get("old", ""),
             "new": c.get("new", ""), "why": c.get("why", "")} for c in changes()]  # fmt: skip
    if not rows:
        return []
    return [
        "## Changed after seeing results",
        "",
        "Every threshold, setting or rule that was changed after results had been seen "
        "(`saliency_lib/claims/changes.yaml`), so a reader can judge whether a verdict was "
        "tuned.",
        "",
        markdown_table(pd.DataFrame(rows)),
        "",
    ]


def _summary_lines(records: list[dict], forest: Mapping[str, Path]) -> list[str]:

    rows = summary_rows(records)
    lines = [
        "## What the evidence says, paper by paper",
        "",
        "One row per claim the papers make about a figure or table of theirs, quoted in their "
        "own words, tested on the paper's measure or the closest standard one ('measured as'); "
        "a claim with several parts or records is decided as one (every part must hold). "
        "'ours' is the paired difference a - b with its 95 % interval (for a claim with several "
        "records: how many hold, and the deciding record). The random-ranking control says "
        "whether a steeper accuracy drop is more than fragility to any removal; the "
        "sensitivity line is the other reading of an accuracy rule (the best epoch, chosen on "
        "the test split). How to read the verdicts: below the tables.",
        "",
        family_statement(records),
        "",
    ]
    for paper in PAPERS:
        mine = [r for r in rows if r["source"] == paper]
        counts: dict[str, int] = {}
        for r in mine:
            counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
        lines += [f"### {paper}", "",
                  "Claims: " + ", ".join(f"{n} {v}" for v, n in counts.items()) + ".", "",
                  markdown_table(summary_table(mine)), ""]  # fmt: skip
        if paper in forest:
            rel = f"summary/{Path(forest[paper]).name}"
            lines += [
                f"![{paper}: forest plot of its claims]({rel})",
                "",
                f"*{paper}: every record of its claims, effect a - b with its 95 % "
                "interval, coloured by verdict; the paper's own effect as a diamond*",
                "",
            ]
    return lines


def build_report(
    profile: str, root: str | Path | None = None, forest: Mapping[str, Path] | None = None
) -> Path:
    """Write ``<root>/<profile>/REPORT.md`` from the notebooks' outputs; returns its path.
    ``forest``: paper -> the PNG of its forest plot, drawn by the summary notebook into its own
    folder (``<profile>/summary/``, where the link points), shown under the paper's summary
    table."""
    root = Path(root or output_root())
    profile_dir = root / profile
    profile_dir.mkdir(parents=True, exist_ok=True)
    entries = collect(profile, root)
    records = all_records(entries)
    claims = claims_table(entries)
    total = sum(e["seconds"] or 0 for e in entries)
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Reproduction report: `{profile}` profile",
        "",
        f"Generated {now} from the notebooks' outputs under `outputs/{profile}/`. Every number "
        "below was computed by the notebooks; the papers' numbers (docs/methods.md §5) sit beside "
        "ours. Settings differ from the papers' unless the profile is `paper`: each section "
        "has a table of the paper's setting beside ours.",
        "",
        *_summary_lines(records, forest or {}),
        "## How to read the verdicts",
        "",
        RULES,
        "",
        *[f"> **Flag** (`{e['name']}`): {flag}." for e in entries for flag in e["flags"]],
        *([""] if any(e["flags"] for e in entries) else []),
        *_changes_lines(),
        "## Every claim record",
        "",
        "The records the summary is built from, our controls and checks included (kind).",
        "",
        f"Verdicts: {verdict_counts(claims)}." if len(claims) else "No claims recorded.",
        "",
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
            lines += ["Setting, the paper's beside ours:", "", e["settings"], ""]
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


_LINK = re.compile(r"(!?\[[^\]]*\]\()([^)\s]+)(\))")


def rebase_links(markdown: str, prefix: str) -> str:
    """``markdown`` with every relative link and image path prefixed by ``prefix`` (e.g. ``..``
    for the summary notebook, whose HTML sits one folder below ``REPORT.md``); absolute paths,
    URLs and in-page anchors are left as they are."""

    def fix(m: re.Match) -> str:
        target = m.group(2)
        if target.startswith(("#", "/")) or re.match(r"^[a-z][a-z0-9+.-]*:", target):
            return m.group(0)
        return f"{m.group(1)}{prefix.rstrip('/')}/{target}{m.group(3)}"

    return _LINK.sub(fix, markdown)
