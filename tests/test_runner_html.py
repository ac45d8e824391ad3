"""The executed notebook's HTML: the template's style sheets go to one shared file in the
profile folder, the page links to it, and styles inside the outputs stay in the page."""

import nbformat

from saliency_lib.pipeline.runner import NOTEBOOK_CSS, render_html

TABLE_HTML = '<style scoped>.dataframe td {color: red}</style><table class="dataframe"></table>'


def _notebook(path):
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("df")
    code.outputs = [nbformat.v4.new_output("display_data", data={"text/html": TABLE_HTML})]
    nb.cells = [nbformat.v4.new_markdown_cell("# A figure"), code]
    nbformat.write(nb, path)
    return path


def test_shared_css_is_written_once_and_linked(tmp_path):
    profile_dir = tmp_path / "cpu"
    notebook = _notebook(tmp_path / "nb.ipynb")
    pages = []
    for name in ("first", "second"):
        (profile_dir / name).mkdir(parents=True)
        pages.append(profile_dir / name / f"{name}.html")
        render_html(notebook, pages[-1], profile_dir / NOTEBOOK_CSS)
    css = profile_dir / NOTEBOOK_CSS
    assert css.stat().st_size > 10_000  # the lab template's sheets
    alone = tmp_path / "alone.html"
    render_html(notebook, alone)
    for page in pages:
        text = page.read_text()
        head, body = text.split("</head>", 1)
        assert f'<link rel="stylesheet" href="../{NOTEBOOK_CSS}">' in head
        assert "<style" not in head
        assert ".dataframe td {color: red}" in body  # the output's own style stays
        assert len(text) < len(alone.read_text()) - 10_000
    assert "<style" in alone.read_text().split("</head>", 1)[0]  # no shared file: inline
