"""REPORT.md built from fake notebook outputs: new-format and legacy claim records, notebooks not
run, skipped or failed; the Markdown is parsed (markdown-it-py, GFM tables) to check that every
table row has the header's cells, even with ``|`` inside the text."""

import json

import pandas as pd
import pytest
from markdown_it import MarkdownIt

from saliency_lib import claims
from saliency_lib.claims import Precondition
from saliency_lib.mdtable import markdown_table, md_cell
from saliency_lib.report import (
    CLAIM_COLUMNS,
    NOTEBOOK_TITLES,
    VERDICTS,
    build_report,
    claims_of,
    claims_table,
    collect,
    verdict_counts,
)

MD = MarkdownIt("commonmark").enable("table")
PIPE_SETTING = "fashion_mnist, |grad| top 5 %"
PIPE_REASON_TAIL = " | note: a\\|b"  # a pipe and an escaped-looking pipe in the text
SKIP_REASON = "Caltech-101 not found; set SALIENCY_DATA"


def _write(folder, metrics):
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))


def _new_records():
    holds = claims.evaluate("hlgm_object_share", [0.7, 0.72, 0.71], [0.5, 0.52, 0.5],
                            PIPE_SETTING, versus="baseline")  # fmt: skip
    holds["reason"] += PIPE_REASON_TAIL
    two = claims.evaluate("hlgm_object_share", [0.5, 0.6], [0.5, 0.55], PIPE_SETTING,
                          versus="sgt")  # fmt: skip
    few = [Precondition("fewest HLGM phase-2 episodes", 1.0, minimum=4)]
    stuck = claims.evaluate("hlgm_object_share", [0.5, 0.6, 0.7], [0.4, 0.5, 0.6],
                            "fashion_mnist, top 10 %", few, versus="sgt")  # fmt: skip
    return holds, two, stuck


LEGACY = {
    "sgt_fig3_mnist_grad_auc": {"claim": "AUC(sgt) < AUC(traditional) on |grad| maps",
                                "holds": True, "detail": "sgt 42.50 | traditional 62.50"},
    "sgt_fig3_mnist_random_same": {"claim": "random: same", "holds": False, "detail": "d"},
    "sgt_fig3_mnist_ig_auc": {"claim": "AUC on IG", "holds": None, "detail": "not all run"},
}  # fmt: skip


@pytest.fixture
def outputs(tmp_path):
    """A profile folder with: two complete notebooks in the new format (claims as a dict keyed by
    id, and as a list, one with a table), one in the legacy format, one skipped, one failed; the
    other known notebooks were not run."""
    root, profile = tmp_path / "outputs", "cpu"
    pdir = root / profile
    holds, two, stuck = _new_records()
    _write(pdir / "hlgm_fig6_saliency_maps",
           {"status": "complete", "claims": {r["id"]: r for r in (holds, two, stuck)},
            "settings": {"dataset": "fashion_mnist", "seeds": 3}})  # fmt: skip
    table = pd.DataFrame({"method": ["hlgm", "sgt"], "share of top |gradient|": [0.7, 0.5],
                          "note": ["a | b", "c\\d"]})  # fmt: skip
    (pdir / "hlgm_fig6_saliency_maps" / "table_object_share.md").write_text(markdown_table(table))
    sparser = claims.evaluate("sgt_sparser_maps", [0.10, 0.11, 0.10], [0.30, 0.33, 0.31], "mnist")
    _write(pdir / "smoot_fig2_sgt_fig2_saliency_maps", {"status": "complete", "claims": [sparser]})
    _write(pdir / "sgt_fig3_accuracy_drop_saliency_methods", {"status": "complete",
                                                               "claims": LEGACY})  # fmt: skip
    _write(pdir / "smoot_tab4_fig4_caltech_resnet18", {"status": "skipped", "reason": SKIP_REASON})
    (pdir / "smoot_tab5_tab6_fig5_cifar_deit.FAILED").write_text("Traceback ...")
    return root, profile


def _tables(text):
    """Every table of ``text`` as ``(header_line, [row_lines], header_cells, [row_cells])``:
    source lines (from the token map) and the cells' rendered text."""
    tokens = MD.parse(text)
    lines = text.splitlines()
    tables, rows, current, cells = [], [], None, None
    for i, t in enumerate(tokens):
        if t.type == "table_open":
            rows = []
        elif t.type == "tr_open":
            current, cells = lines[t.map[0]], []
        elif (
            t.type == "inline"
            and cells is not None
            and tokens[i - 1].type in ("th_open", "td_open")
        ):
            cells.append("".join(c.content for c in t.children or []))
        elif t.type == "tr_close":
            rows.append((current, cells))
            cells = None
        elif t.type == "table_close":
            (head, head_cells), *body = rows
            tables.append((head, [r for r, _ in body], head_cells, [c for _, c in body]))
    return tables


def _n_source_cells_is(line: str, n: int) -> bool:
    """True when the source ``line`` has exactly ``n`` cells as a GFM parser splits it: it forms
    a table with an ``n``-column delimiter row only then (the parser pads or drops cells of body
    rows, so counting the parsed cells would not tell)."""
    return any(t.type == "table_open" for t in MD.parse(line + "\n|" + "---|" * n))


def test_report_tables_keep_their_columns_and_counts(outputs):
    root, profile = outputs
    path = build_report(profile, root)
    assert path == root / profile / "REPORT.md"
    text = path.read_text()
    tables = _tables(text)
    by_header = {tuple(h): (lines, cells) for _, lines, h, cells in tables}
    # the claims table: header as declared, every source row with exactly its cells
    assert tuple(CLAIM_COLUMNS) in by_header
    lines, rows = by_header[tuple(CLAIM_COLUMNS)]
    for line in lines:
        assert _n_source_cells_is(line, len(CLAIM_COLUMNS)), line
    col = {c: i for i, c in enumerate(CLAIM_COLUMNS)}
    assert all(r[col["verdict"]] in VERDICTS for r in rows)
    # the text with pipes comes back whole, unescaped
    where = col["setting (the paper's)"]
    holds = [r for r in rows if r[where].startswith(PIPE_SETTING) and r[col["verdict"]] == "holds"]
    assert len(holds) == 1 and holds[0][col["reason"]].endswith(PIPE_REASON_TAIL)
    assert holds[0][where].endswith(")") and " (paper: " in holds[0][where]  # the paper's data
    assert float(holds[0][col["resolvable difference"]]) > 0
    legacy = [r for r in rows if r[col["paper item"]] == "SGT Fig. 3"]
    # records of the earlier two-valued rule are never shown as verdicts
    assert [(r[col["claim (paper's words)"]], r[col["verdict"]]) for r in legacy] == [
        ("AUC(sgt) < AUC(traditional) on |grad| maps", "not run"),
        ("random: same", "not run"),
        ("AUC on IG", "not run"),
    ]
    assert legacy[0][col["reason"]].startswith("recorded under the earlier rule")
    assert legacy[0][col["reason"]].endswith("(sgt 42.50 | traditional 62.50)")  # the old detail
    # every other table of the report (the notebooks' list, the notebooks' tables) too
    for head, body_lines, head_cells, _ in tables:
        assert _n_source_cells_is(head, len(head_cells))
        for line in body_lines:
            assert _n_source_cells_is(line, len(head_cells)), line
    # the verdicts line counts the table's verdicts
    counts = pd.Series([r[col["verdict"]] for r in rows]).value_counts()
    expected = ", ".join(f"{counts[v]} {v}" for v in VERDICTS if v in counts)
    assert f"Verdicts: {expected}." in text.splitlines()


def test_report_rows_and_verdicts(outputs):
    root, profile = outputs
    text = build_report(profile, root).read_text()
    complete = {"hlgm_fig6_saliency_maps", "smoot_fig2_sgt_fig2_saliency_maps",
                "sgt_fig3_accuracy_drop_saliency_methods"}  # fmt: skip
    not_run_ids = sum(len(ids) for name, (_, ids) in NOTEBOOK_TITLES.items()
                      if name not in complete)  # fmt: skip
    # holds: new record; does not hold: sparser maps; not run: the 3 legacy records + every
    # claim of the notebooks that did not complete
    line = (f"Verdicts: 1 holds, 1 does not hold, 1 inconclusive, 1 not testable here, "
            f"{not_run_ids + 3} not run.")  # fmt: skip
    assert line in text.splitlines()
    _, _, _, rows = next(t for t in _tables(text) if t[2] == CLAIM_COLUMNS)
    assert len(rows) == 6 + not_run_ids + 1
    notebooks = next(t for t in _tables(text) if t[2][0] == "notebook")
    status = {r[0]: r[2] for r in notebooks[3]}
    assert status["smoot_tab5_tab6_fig5_cifar_deit"] == "failed"
    assert status["smoot_fig1_motivation"] == "not run"
    assert status["hlgm_fig6_saliency_maps"] == "complete"
    # the complete notebooks' sections, with their tables; none for the others
    assert "## HLGM Fig. 6 (`hlgm_fig6_saliency_maps`)" in text
    assert "**table_object_share**" in text
    sections = [x for x in text.splitlines() if x.startswith("## ") and x.endswith("`)")]
    # a notebook whose records come from the earlier rule is stale: no section, no tables
    stale = "sgt_fig3_accuracy_drop_saliency_methods"
    assert status[stale].startswith("stale: ")
    assert sorted(x.split("(`")[1][:-2] for x in sections) == sorted(complete - {stale})
    assert status["smoot_tab4_fig4_caltech_resnet18"] == f"skipped: {SKIP_REASON}"


def test_notebook_status_with_a_pipe_keeps_the_row(outputs):
    root, profile = outputs
    metrics = root / profile / "smoot_tab4_fig4_caltech_resnet18" / "metrics.json"
    metrics.write_text(json.dumps({"status": "skipped", "reason": "no data | set SALIENCY_DATA"}))
    text = build_report(profile, root).read_text()
    notebooks = next(t for t in _tables(text) if t[2][0] == "notebook")
    line = next(x for x in notebooks[1] if "smoot_tab4_fig4_caltech_resnet18" in x)
    assert _n_source_cells_is(line, 4), line


def test_not_run_records_carry_the_notebooks_reason(outputs):
    root, profile = outputs
    entries = {e["name"]: e for e in collect(profile, root)}
    skipped = entries["smoot_tab4_fig4_caltech_resnet18"]
    assert skipped["status"] == "skipped"
    assert [(c["claim_id"], c["verdict"]) for c in skipped["claims"]] == [
        ("smoot_caltech_accuracy", "not run"),
        ("smoot_caltech_gradients", "not run"),
    ]
    assert skipped["claims"][0]["reason"] == SKIP_REASON
    assert entries["smoot_tab5_tab6_fig5_cifar_deit"]["claims"][0]["reason"] == "notebook failed"
    missing = entries["hlgm_fig7_8_tab3_sib"]
    assert missing["status"] == "not run" and missing["items"] == []
    assert [c["claim_id"] for c in missing["claims"]] == list(NOTEBOOK_TITLES[
        "hlgm_fig7_8_tab3_sib"][1])  # fmt: skip
    assert [i["kind"] for i in entries["hlgm_fig6_saliency_maps"]["items"]] == ["table"]


def test_claims_of_accepts_dicts_lists_and_legacy_records():
    holds, two, _ = _new_records()
    by_dict = claims_of({"claims": {holds["id"]: holds, "empty": {}}})
    assert [r["id"] for r in by_dict] == [holds["id"]] and by_dict[0]["verdict"] == "holds"
    assert claims_of({"claims": [holds, two]})[1]["verdict"] == "inconclusive"
    legacy = claims_of({"claims": LEGACY})
    assert [r["verdict"] for r in legacy] == ["not run", "not run", "not run"]
    assert LEGACY["sgt_fig3_mnist_grad_auc"]["detail"] in legacy[0]["reason"]
    assert claims_of({}) == [] and claims_of({"claims": None}) == []


def test_claims_table_and_counts_without_a_report():
    holds, two, stuck = _new_records()
    entries = [{"name": "hlgm_fig6_saliency_maps", "title": "HLGM Fig. 6", "status": "complete",
                "claims": [holds, two, stuck]},
               {"name": "x", "title": "x", "status": "failed", "claims": [holds]}]  # fmt: skip
    t = claims_table(entries)
    assert list(t.columns) == CLAIM_COLUMNS
    assert t["verdict"].tolist() == ["holds", "inconclusive", "not testable here", "not run"]
    assert t["after Holm"].tolist()[0] in ("holds", "inconclusive")
    assert t["kind"].unique().tolist() == ["the paper's"]
    assert t["resolvable difference"].tolist()[1:3] == ["", ""]  # no interval from 2 seeds
    assert verdict_counts(t) == "1 holds, 1 inconclusive, 1 not testable here, 1 not run"
    assert claims_table([]).empty and list(claims_table([]).columns) == CLAIM_COLUMNS


def test_md_cell_escapes():
    assert md_cell("|a| b\nc") == "\\|a\\| b c"
    assert md_cell("a\\|b") == "a\\\\\\|b"
    assert md_cell(None) == "" and md_cell(float("nan")) == ""
    assert md_cell(0.12345, ".2f") == "0.12"
    table = markdown_table(pd.DataFrame({"a|b": ["x|y", "a\\|b"], "c": [1.0, 2.5]}), ".1f")
    (_, lines, head, rows), = _tables(table)  # fmt: skip
    assert head == ["a|b", "c"] and rows == [["x|y", "1.0"], ["a\\|b", "2.5"]]
    assert all(_n_source_cells_is(line, 2) for line in lines)


def test_report_shows_the_declared_figures_and_tables_in_order_with_the_html_link(tmp_path):
    """A notebook declares its report items through ``Experiment.show_figure`` / ``show_table``:
    the report shows exactly those (a figure not declared is left out), in order, under their
    captions, and links the executed notebook's HTML when it is there."""
    import matplotlib.pyplot as plt

    from saliency_lib.experiment import Experiment

    root, profile = tmp_path / "outputs", "cpu"
    name = "smoot_fig1_motivation"
    exp = Experiment(name, profile, root / profile / name)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    exp.show_figure(fig, "fig1_curve", "SMOOT Fig. 1 (left): true-class probability | masked")
    exp.show_table(pd.DataFrame({"class": ["II"], "share (%)": [16.0]}), "class_ii_share",
                   "SMOOT Fig. 1: share of class II images")  # fmt: skip
    fig, _ = plt.subplots()
    exp.save_figure(fig, "not_declared")
    exp.show_figure(fig, "not_in_report", "only in the notebook", in_report=False)
    exp.record_claims([claims.evaluate("smoot_class_ii_share", [16.0, 17.0, 15.0], [16.0] * 3,
                                       "fashion_mnist")])  # fmt: skip
    exp.write_metrics()
    (exp.dir / f"{name}.html").write_text("<html></html>")
    assert plt.get_fignums() == []  # show_figure closes what it showed

    entry = next(e for e in collect(profile, root) if e["name"] == name)
    assert [(i["kind"], i["path"].name) for i in entry["items"]] == [
        ("figure", "fig1_curve.png"), ("table", "class_ii_share.md")]  # fmt: skip
    text = build_report(profile, root).read_text()
    section = text.split(f"(`{name}`)")[1]
    assert f"[{name}.html]({name}/{name}.html)" in section
    assert f"]({name}/fig1_curve.png)" in section and "not_declared" not in section
    assert "not_in_report" not in section
    assert section.index("fig1_curve.png") < section.index("**SMOOT Fig. 1: share of class II")
    for _, _, header, cells in _tables(text):
        assert all(len(c) == len(header) for c in cells)


def _plateau(reached, epochs=100, phase2=0):
    return {"plateau_epoch": epochs - phase2 if reached else None, "reached": reached,
            "epochs": epochs, "phase2_epochs": phase2, "phase_epochs": {}}  # fmt: skip


def test_hlgm_phase1_flags_from_constructed_records(tmp_path):
    """A flag line per HLGM setting whose phase 1 never ended (or ended at the last epoch), from
    the plateau records in both layouts the HLGM notebooks store; none when every run left it."""
    from saliency_lib.report import hlgm_phase1_flags

    root, profile = tmp_path / "outputs", "paper"
    fig2 = {"status": "complete", "claims": {}, "results": {
        "cnn2_cifar10": {"plateau": {"0": _plateau(True, phase2=40), "1": _plateau(False),
                                     "2": _plateau(False)}},
        "deit_tiny_cifar100": {"plateau": {"0": _plateau(True, phase2=0)}},
        "resnet18_cifar100": {"plateau": {"0": _plateau(True, phase2=30)}},
    }}  # fmt: skip
    fig7 = {"status": "complete", "claims": {}, "results": {
        "plateau": {"cnn2_cluttered": {"0": _plateau(False, epochs=50)}}}}  # fmt: skip
    fine = {"status": "complete", "claims": {}, "results": {
        "plateau": {"cnn2_cluttered": {"0": _plateau(True, phase2=10)}}}}  # fmt: skip
    _write(root / profile / "hlgm_fig2_5_tab2_accuracy", fig2)
    _write(root / profile / "hlgm_fig7_8_tab3_sib", fig7)
    flags = hlgm_phase1_flags(fig2)
    assert len(flags) == 2
    assert "never ended" in flags[0] and "`cnn2_cifar10`, seed(s) 1, 2" in flags[0]
    assert "within 100 epochs" in flags[0]
    assert "last epoch" in flags[1] and "`deit_tiny_cifar100`, seed(s) 0" in flags[1]
    assert not any("resnet18" in f for f in flags)
    assert hlgm_phase1_flags(fine) == [] and hlgm_phase1_flags({}) == []
    text = build_report(profile, root).read_text()
    flag_lines = [ln for ln in text.splitlines() if "**Flag**" in ln]
    # once near the top (with the notebook's name), once in each notebook's section
    assert sum("cnn2_cifar10" in ln for ln in flag_lines) == 2
    assert any("`hlgm_fig7_8_tab3_sib`" in ln and "`cnn2_cluttered`, seed(s) 0" in ln
               and "within 50 epochs" in ln for ln in flag_lines)  # fmt: skip
    assert text.index("**Flag**") < text.index("## Notebooks")


def test_report_opens_with_the_per_paper_summary_and_its_forest_plots(outputs):
    """Every paper claim of the catalogue is one summary row (decided, not testable or not run),
    under its paper's heading, before the rules, the changes and the full table."""
    from saliency_lib.claims import paper_claims
    from saliency_lib.report import SUMMARY_COLUMNS

    root, profile = outputs
    forest = {"HLGM": root / profile / "summary" / "forest_hlgm.png"}
    text = build_report(profile, root, forest=forest).read_text()
    heads = [x for x in text.splitlines() if x.startswith("## ")]
    assert heads[:4] == ["## What the evidence says, paper by paper", "## How to read the verdicts",
                         "## Changed after seeing results", "## Every claim record"]  # fmt: skip
    summaries = [t for t in _tables(text) if t[2] == SUMMARY_COLUMNS]
    assert len(summaries) == 3  # SGT, SMOOT, HLGM
    rows = [r for t in summaries for r in t[3]]
    top = [c for c in paper_claims() if not c.part_of]
    assert len(rows) == len(top)
    col = {c: i for i, c in enumerate(SUMMARY_COLUMNS)}
    assert all(r[col["verdict"]] in VERDICTS for r in rows)
    fig6 = next(r for r in rows if r[col["claim"]] == "HLGM Fig. 6")
    # two records: holds vs the baseline, not testable vs SGT (and a 2-seed one): together
    # not testable; the quote is the paper's
    assert fig6[col["verdict"]] == "not testable here"
    assert fig6[col["paper's words (where)"]].startswith('"the HLGM method exhibits higher')
    caltech = next(r for r in rows if r[col["claim"]] == "SMOOT Table IV")
    assert caltech[col["verdict"]] == "not run" and caltech[col["paper"]].startswith("95.1 vs")
    assert "![HLGM: forest plot of its claims](summary/forest_hlgm.png)" in text
    assert "paper-claim records have an interval" in text  # the multiplicity statement


def test_rebase_links_prefixes_relative_targets_only():
    from saliency_lib.report import rebase_links

    text = "![a](x/y.png) [b](z.html) [c](#top) [d](https://e.org/f) ![g](/abs.png)"
    assert rebase_links(text, "..") == (
        "![a](../x/y.png) [b](../z.html) [c](#top) [d](https://e.org/f) ![g](/abs.png)"
    )
