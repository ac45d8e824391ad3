"""bf16's effect on the evidence: the same notebooks and seeds run in fp32 and in bf16, their
claim records side by side (issue 27).

Each precision is one ``reproduce`` into its own output root and run store, e.g.

    SALIENCY_OUTPUT_ROOT=A SALIENCY_RUN_STORE=A/runs python -m saliency_lib reproduce \\
        --profile cpu --only smoot_tab2 --only sgt_fig3 --only hlgm_fig2_5 --set seeds=3
    SALIENCY_OUTPUT_ROOT=B SALIENCY_RUN_STORE=B/runs python -m saliency_lib reproduce ... \\
        --set training.precision=bf16 --set training.channels_last=true

then ``python benchmarks/precision_evidence.py A/cpu B/cpu [--stores A/runs B/runs]`` prints,
per claim record (and its control and sensitivity companions), both verdicts and the per-seed
paired differences (a - b) in each precision, and whether bf16 moved each seed's difference by
no more than the seed-to-seed spread: the range (max - min) of fp32's per-seed differences.
That rule was fixed before the bf16 results were seen. With ``--stores``: each run's final test
accuracy and training seconds in both precisions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

# configuration fields that differ between the two precisions' runs (ignored when matching)
PRECISION_FIELDS = ("precision", "channels_last")


def _records(profile_dir: Path) -> dict[str, dict]:
    """``{notebook/record id: record}`` of every claim record, its companions as
    ``<id> [control]`` and ``<id> [sensitivity]``."""
    out = {}
    for metrics in sorted(profile_dir.glob("*/metrics.json")):
        claims = json.loads(metrics.read_text()).get("claims") or {}
        for rid, rec in claims.items():
            key = f"{metrics.parent.name}/{rid}"
            out[key] = rec
            for part in ("control", "sensitivity"):
                if isinstance(rec.get(part), dict):
                    out[f"{key} [{part}]"] = rec[part]
    return out


def _diffs(rec: dict) -> list[float] | None:
    a, b = rec.get("per_seed_a"), rec.get("per_seed_b")
    if not a or not b or len(a) != len(b):
        return None
    return [float(x) - float(y) for x, y in zip(a, b, strict=True)]


def _fmt(values: list[float] | None) -> str:
    return "" if values is None else ", ".join(f"{v:+.2f}" for v in values)


def compare_claims(fp32_dir: Path, bf16_dir: Path) -> None:
    a, b = _records(fp32_dir), _records(bf16_dir)
    keys = [k for k in a if k in b]
    missing = sorted(set(a) ^ set(b))
    print("| claim record | fp32 verdict | fp32 per-seed a - b | bf16 verdict | bf16 per-seed "
          "a - b | largest change | fp32 seed range | within |")  # fmt: skip
    print("|---|---|---|---|---|---:|---:|---|")
    changed, outside, decided = 0, 0, 0
    for k in keys:
        ra, rb = a[k], b[k]
        da, db = _diffs(ra), _diffs(rb)
        va, vb = ra.get("verdict", ""), rb.get("verdict", "")
        changed += va != vb
        cells = ["", "", ""]
        if da is not None and db is not None and len(da) == len(db) and len(da) > 1:
            move = max(abs(x - y) for x, y in zip(da, db, strict=True))
            spread = max(da) - min(da)
            ok = move <= spread
            outside += not ok
            decided += 1
            cells = [f"{move:.2f}", f"{spread:.2f}", "yes" if ok else "**no**"]
        flag = "" if va == vb else " **(changed)**"
        print(f"| {k} | {va} | {_fmt(da)} | {vb}{flag} | {_fmt(db)} | " + " | ".join(cells) + " |")
    print(f"\n{len(keys)} claim records in both; verdicts changed: {changed}; per-seed changes "
          f"beyond the fp32 seed range: {outside} of {decided} with per-seed values")  # fmt: skip
    if missing:
        print(f"records in one precision only: {', '.join(missing)}")


def _runs(store: Path) -> dict[tuple, dict]:
    out = {}
    for record in sorted(store.glob("*/run.json")):
        meta = json.loads(record.read_text())
        if meta.get("status") != "complete":
            continue
        config = {k: v for k, v in meta["config"].items() if k not in PRECISION_FIELDS}
        # a continuation's source id differs with the precision
        meta["continuation"] = config.pop("continue_from", None) is not None
        out[json.dumps(config, sort_keys=True)] = meta
    return out


def compare_runs(fp32_store: Path, bf16_store: Path) -> None:
    a, b = _runs(fp32_store), _runs(bf16_store)
    print("\n| run (fp32 id) | fp32 final acc | bf16 final acc | fp32 s | bf16 s | bf16/fp32 |")
    print("|---|---:|---:|---:|---:|---:|")
    for key in (k for k in a if k in b):
        ma, mb = a[key], b[key]
        sa = sum(h["seconds"] for h in ma["history"])
        sb = sum(h["seconds"] for h in mb["history"])
        fa, fb = ma["history"][-1]["test_acc"], mb["history"][-1]["test_acc"]
        name = ma["run_id"] + (" (continuation: with its source's epochs)" if ma["continuation"]
                               else "")  # fmt: skip
        print(f"| {name} | {fa:.2f} | {fb:.2f} | {sa:.0f} | {sb:.0f} | {sb / sa:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("fp32", type=Path, help="the fp32 run's <output root>/<profile>")
    ap.add_argument("bf16", type=Path, help="the bf16 run's <output root>/<profile>")
    ap.add_argument("--stores", nargs=2, type=Path, metavar=("FP32_STORE", "BF16_STORE"))
    args = ap.parse_args()
    compare_claims(args.fp32, args.bf16)
    if args.stores:
        compare_runs(*args.stores)


if __name__ == "__main__":
    main()
