"""Markdown pipe tables that stay tables on every renderer: each cell escaped (``|`` inside a
cell, such as ``|gradient|``, would otherwise split it) and kept on one line."""

from __future__ import annotations

from typing import Any

import pandas as pd


def md_cell(value: Any, floatfmt: str = "") -> str:
    """Text safe inside a Markdown table cell: ``|`` escaped, line breaks removed; floats
    formatted with ``floatfmt`` (e.g. ``".2f"``) when given; NaN/None as empty."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if floatfmt and isinstance(value, float):
        text = format(value, floatfmt)
    else:
        text = str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def markdown_table(df: pd.DataFrame, floatfmt: str = "") -> str:
    """``df`` (index dropped) as a pipe table with every cell escaped by :func:`md_cell`."""
    header = "| " + " | ".join(md_cell(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = [
        "| " + " | ".join(md_cell(v, floatfmt) for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join([header, rule, *body])
