"""CITATION.cff names the software and the three papers the README links; LICENSE is MIT."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PAPER_URLS = (
    "https://arxiv.org/abs/2111.14338",
    "https://arxiv.org/abs/2310.00772",
    "https://openreview.net/forum?id=wnOLSGlbYP",
)


def test_citation_cff_cites_the_software_and_the_three_papers():
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text(encoding="utf-8"))
    assert cff["cff-version"] == "1.2.0"
    assert cff["type"] == "software" and cff["license"] == "MIT"
    assert {"message", "title", "authors"} <= cff.keys()
    urls = [ref["url"] for ref in cff["references"]]
    assert sorted(urls) == sorted(PAPER_URLS)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert all(url in readme for url in PAPER_URLS)
    assert "CITATION.cff" in readme
    for ref in cff["references"]:
        assert ref["authors"] and ref["year"] and ref["title"]


def test_license_is_mit():
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "the saliency-lib authors" in text
