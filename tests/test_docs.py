"""The documents cannot drift from the code (issue 26): every file, module and command that
README.md and docs/ name exists, the architecture table lists every module of ``saliency_lib/``,
and the registry table of docs/architecture.md names exactly what the registries hold."""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
from pathlib import Path

import pytest

from saliency_lib.__main__ import build_parser
from saliency_lib.data import list_datasets
from saliency_lib.methods import list_methods
from saliency_lib.models import list_models
from saliency_lib.saliency import list_saliency_methods
from saliency_lib.trainer import OPTIMIZERS

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
ARCHITECTURE = REPO / "docs" / "architecture.md"
#: File types a document may name as a file of the repository.
EXTENSIONS = (".py", ".md", ".ipynb", ".yaml", ".toml", ".cff", ".lock", ".yml", ".cfg", ".txt")
#: What the package writes (not in the repository): the run store, the report.
WRITTEN = {"outputs/runs/", "REPORT.md"}
#: Files of other projects the documents cite: the time-series benchmark's and the SGT authors'
#: scripts, and the folder layout of a dataset's release.
ELSEWHERE = {"train_models.py", "interpret.py", "createMasks.py", "train_CIFAR.py",
             "train_BIRD.py", "train/"}  # fmt: skip


def _tracked() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    files = out.split()
    folders = {str(Path(f).parent) + "/" for f in files} | {
        "/".join(f.split("/")[: i + 1]) + "/" for f in files for i in range(f.count("/"))
    }
    return files + sorted(folders)


TRACKED = _tracked()


def code_spans(text: str) -> list[str]:
    """The inline code spans and the lines of fenced code blocks of a Markdown text."""
    spans: list[str] = []
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.S | re.M)
    for block in fenced:
        spans += block.splitlines()
    rest = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    spans += re.findall(r"`([^`\n]+)`", rest)
    return spans


def named_paths(text: str) -> set[str]:
    """Repository paths a document names: link targets and code spans that look like a path
    (a folder ``x/`` or a file with a known extension), without placeholders or globs."""
    words = set(re.findall(r"\]\(([^)#\s]+)", text))  # [text](target)
    for span in code_spans(text):
        words.update(span.split())
    paths = set()
    for w in words:
        w = w.strip(".,;:()'\"")
        if w.startswith(("http", "/", "~", "$", "-", ".")) or any(c in w for c in "<>*?{}=%[]"):
            continue
        if w.endswith(EXTENSIONS) or (w.endswith("/") and re.fullmatch(r"[\w./-]+", w)):
            paths.add(w)
    return paths


def exists(path: str) -> bool:
    """Tracked in the repository, as given or under a folder (``pipeline/params.py`` for
    ``saliency_lib/pipeline/params.py``; a bare name anywhere)."""
    return any(t == path or t.endswith("/" + path) for t in TRACKED)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_file_a_document_names_exists(doc):
    text = doc.read_text(encoding="utf-8")
    missing = sorted(
        p
        for p in named_paths(text)
        if not ({p, Path(p).name} & (WRITTEN | ELSEWHERE)) and not exists(p)
    )
    assert not missing, f"{doc.relative_to(REPO)} names files that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_module_a_document_names_exists(doc):
    bad = []
    for name in set(re.findall(r"\bsaliency_lib(?:\.\w+)+", doc.read_text(encoding="utf-8"))):
        parts = name.split(".")
        for i in range(len(parts), 0, -1):  # the longest importable prefix, then attributes
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            for attr in parts[i:]:
                obj = getattr(obj, attr, None)
            if obj is None:
                bad.append(name)
            break
    assert not bad, f"{doc.relative_to(REPO)} names modules or objects that do not exist: {bad}"


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for a in parser._actions for o in a.option_strings}


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_command_a_document_names_exists(doc):
    """``python -m saliency_lib <command> --option ...`` and ``make <target>`` in code spans."""
    commands, top = _subcommands(), _options(build_parser())
    targets = set(re.findall(r"^([\w-]+):", (REPO / "Makefile").read_text(), flags=re.M))
    bad = []
    for span in code_spans(doc.read_text(encoding="utf-8")):
        for m in re.finditer(
            r"(?:-m saliency_lib|saliency-lib)((?:\s+--root\s+\S+)?)\s+(\S+)([^#|]*)", span
        ):
            cmd = m.group(2)
            if cmd.startswith("-"):
                if cmd not in top:
                    bad.append(f"option {cmd}")
                continue
            if cmd not in commands:
                bad.append(f"command {cmd!r}")
                continue
            options = _options(commands[cmd]) | top
            bad += [
                f"{cmd} {o}"
                for o in re.findall(r"(?<!\S)(--[\w-]+)", m.group(3))
                if o not in options
            ]
        for target in re.findall(r"(?:^|\s)make\s+([a-z][\w-]*)", span):
            if target not in targets:
                bad.append(f"make {target}")
    assert not bad, f"{doc.relative_to(REPO)} names commands that do not exist: {bad}"


def _table(text: str, heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first table after ``heading``."""
    section = text.split(heading, 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # without the header


def test_the_architecture_table_lists_every_module():
    entries = [
        re.sub(r"`", "", row[0]) for row in _table(ARCHITECTURE.read_text(), "## The modules")
    ]
    package = REPO / "saliency_lib"
    modules = [
        str(p.relative_to(package)) for p in package.rglob("*.py") if p.name != "__init__.py"
    ] + [str(p.parent.relative_to(package)) + "/" for p in package.glob("*/__init__.py")]
    unlisted = sorted(
        m
        for m in modules
        if not any(
            m == e or (e.endswith("/") and m.startswith(e)) or (m.endswith("/") and e.startswith(m))
            for e in entries
        )
    )
    assert not unlisted, (
        f"docs/architecture.md's module table (## The modules) does not list {unlisted}: add a "
        "row `<module>` | what it holds"
    )
    gone = sorted(e for e in entries if not (package / e).exists())
    assert not gone, f"docs/architecture.md's module table lists modules that do not exist: {gone}"


REGISTRIES = {
    "datasets": list_datasets,
    "models": list_models,
    "training methods": list_methods,
    "saliency methods": list_saliency_methods,
    "optimizers": lambda: list(OPTIMIZERS),
}


@pytest.mark.parametrize("registry", REGISTRIES)
def test_the_registry_table_names_what_the_registry_holds(registry):
    rows = {row[0]: row for row in _table(ARCHITECTURE.read_text(), "### Registries")}
    assert registry in rows, f"docs/architecture.md's registry table has no row {registry!r}"
    documented = set(re.findall(r"`([^`]+)`", rows[registry][-1]))
    held = set(REGISTRIES[registry]())
    assert documented == held, (
        f"docs/architecture.md, row {registry!r} of the registry table: add "
        f"{sorted(held - documented)}, remove {sorted(documented - held)}"
    )


def test_the_checks_see_a_missing_file_module_and_command():
    text = "see `saliency_lib/nope.py`, [x](docs/gone.md), `python -m saliency_lib frobnicate`"
    assert {"saliency_lib/nope.py", "docs/gone.md"} <= named_paths(text)
    assert not exists("saliency_lib/nope.py") and exists("pipeline/params.py")
    assert "frobnicate" not in _subcommands() and "reproduce" in _subcommands()
