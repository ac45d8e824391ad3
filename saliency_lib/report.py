"""The reproduction report: ``outputs/<profile>/REPORT.md`` puts each notebook's tables (ours
beside the paper's, docs/methods.md §5) and each claim's verdict (holds/does not hold/not run) on a
page. It only reads what the notebooks wrote (``metrics.json``, ``table*.md``, figures): no
number in it is computed here."""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from .experiment import output_root

VERDICT = {True: "holds", False: "does not hold", None: "not run"}

# What each notebook reproduces and the claims it checks, for notebooks that did not run.
NOTEBOOK_TITLES = {
    "smoot_fig1_motivation": ("SMOOT Fig. 1", ["about 16 % of test images are class II"]),
    "smoot_fig2_sgt_fig2_saliency_maps": (
        "SMOOT Fig. 2, SGT Fig. 2",
        ["SGT and SMOOT saliency maps are sharper than Traditional"],
    ),
    "smoot_tab2_tab3_fig3_accuracy_drop": (
        "SMOOT Tables II-III, Fig. 3",
        ["AUC(SMOOT) < AUC(SGT) < AUC(Traditional)", "SMOOT accuracy at least as high"],
    ),
    "smoot_tab4_fig4_caltech_resnet18": (
        "SMOOT Table IV, Fig. 4",
        ["SMOOT has the highest accuracy, then SGT, then Traditional (Caltech-101)"],
    ),
    "smoot_tab5_tab6_fig5_cifar_deit": (
        "SMOOT Tables V-VI, Fig. 5",
        ["SMOOT has the highest accuracy, then SGT, then Traditional (CIFAR-10/100)"],
    ),
    "hlgm_fig2_5_tab2_accuracy": (
        "HLGM Figs. 2-5, Table II",
        ["HLGM beats the baseline accuracy", "HLGM beats SGT"],
    ),
    "hlgm_fig6_saliency_maps": ("HLGM Fig. 6", []),
    "hlgm_fig7_8_tab3_sib": ("HLGM Figs. 7-8, Table III", ["HLGM has the highest median SIB"]),
    "sgt_fig3_accuracy_drop_saliency_methods": (
        "SGT Fig. 3",
        [
            "SGT models lose accuracy faster than Traditional when salient features are removed",
            "a random ranking hurts both models alike",
        ],
    ),
    "sgt_fig4_feature_replacement": (
        "SGT Fig. 4",
        ["mean (OOD) and ROAR replacement curves differ from background (IID) replacement"],
    ),
}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def claims_of(metrics: dict) -> list[dict]:
    """Claims a notebook recorded, as ``[{"id", "claim", "holds", "detail"}]`` (accepts a dict
    keyed by id or a list)."""
    raw = metrics.get("claims") or {}
    items = raw.items() if isinstance(raw, dict) else ((c.get("id", ""), c) for c in raw)
    out = []
    for cid, c in items:
        if isinstance(c, dict) and c:
            out.append({"id": cid, **c})
    return out


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
        if not claims:
            claims = [{"id": "", "claim": c, "holds": None, "detail": ""} for c in expected]
        entries.append(
            {
                "name": name,
                "title": title,
                "status": status,
                "reason": metrics.get("reason", ""),
                "seconds": timings.get(name, {}).get("seconds"),
                "settings": _settings_line(metrics),
                "claims": claims,
                "tables": sorted(folder.glob("table*.md")) if status == "complete" else [],
                "figures": sorted(folder.glob("*.png"))[:2] if status == "complete" else [],
            }
        )
    return entries


def claims_table(entries: list[dict]) -> pd.DataFrame:
    rows = []
    for e in entries:
        for c in e["claims"]:
            holds = c.get("holds")
            rows.append(
                {
                    "paper item": e["title"],
                    "claim": c.get("claim", ""),
                    "verdict": VERDICT.get(holds, str(holds)) if e["status"] == "complete"
                    else "not run" if e["status"] == "not run" else f"not run ({e['status']})",
                    "detail": c.get("detail", ""),
                }
            )  # fmt: skip
    return pd.DataFrame(rows, columns=["paper item", "claim", "verdict", "detail"])


def build_report(profile: str, root: str | Path | None = None) -> Path:
    """Write ``<root>/<profile>/REPORT.md`` from the notebooks' outputs; returns its path."""
    root = Path(root or output_root())
    profile_dir = root / profile
    profile_dir.mkdir(parents=True, exist_ok=True)
    entries = collect(profile, root)
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
        claims_table(entries).to_markdown(index=False),
        "",
        "## Notebooks",
        "",
        "| notebook | reproduces | status | minutes |",
        "|---|---|---|---|",
    ]
    for e in entries:
        minutes = f"{e['seconds'] / 60:.1f}" if e["seconds"] else ""
        status = e["status"] + (f": {e['reason']}" if e["reason"] else "")
        lines.append(f"| `{e['name']}` | {e['title']} | {status} | {minutes} |")
    if total:
        lines += ["", f"Total notebook time: {total / 60:.1f} minutes."]
    for e in entries:
        if e["status"] != "complete":
            continue
        lines += ["", f"## {e['title']} (`{e['name']}`)", ""]
        if e["settings"]:
            lines += [f"Settings: {e['settings']}", ""]
        for table in e["tables"]:
            lines += [f"**{table.stem}**", "", table.read_text().strip(), ""]
        for fig in e["figures"]:
            lines += [f"![{fig.stem}]({fig.relative_to(profile_dir).as_posix()})", ""]
    path = profile_dir / "REPORT.md"
    path.write_text("\n".join(lines).rstrip() + "\n")
    return path
