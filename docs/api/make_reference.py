"""Build the API reference (HTML) from the docstrings of the public module with pdoc.

`make docs` runs it and writes docs/api/html/index.html; tests/test_api_docs.py builds it into a
temporary folder with every warning an error (CI). Usage: python docs/api/make_reference.py [OUT]
"""

from __future__ import annotations

import importlib
import sys
import warnings
from pathlib import Path

#: the modules the reference documents: the public face and nothing else
MODULES = ("saliency_lib.api",)
DEFAULT_OUT = Path(__file__).resolve().parent / "html"


def build(out: Path = DEFAULT_OUT, strict: bool = True) -> Path:
    """Write the reference into ``out``; returns its index page. ``strict``: a warning while
    rendering (a docstring pdoc cannot read, a reference it cannot resolve) is an error."""
    import pdoc
    import pdoc.render

    for name in MODULES:  # imported first: warnings of torch & co. at import are not ours
        importlib.import_module(name)
    pdoc.render.configure(
        docformat="numpy",  # numpy sections; rst roles (:func:, ``code``) are converted too
        show_source=False,
        footer_text="saliency-lib API reference",
        search=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error" if strict else "default")
        pdoc.pdoc(*MODULES, output_directory=Path(out))
    index = Path(out) / "index.html"
    if not index.exists():  # pdoc writes an index only for several modules
        index = Path(out) / (MODULES[0].replace(".", "/") + ".html")
    return index


if __name__ == "__main__":
    page = build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
    print(f"API reference: {page}")
