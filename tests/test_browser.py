"""The notebooks and the committed pages in a real browser: headless Chromium (Debian's
``chromium``) driven by Selenium through Debian's ``chromedriver`` (``tests/engines/browser.py``).

* JupyterLab is started as ``make lab-profile PROFILE=smoke`` starts it (the commands ``make -n``
  prints: ``scripts/lab_notebooks.py`` writes the notebooks with the smoke parameters injected,
  not executed, then ``jupyter lab`` on that folder). A notebook is opened and run with Run >
  Run All Cells, as a reader would; every code cell must have run without an error output and a
  figure must have rendered. A screenshot is saved (``docs/jupyterlab.png`` is one).
* Every committed HTML page under ``outputs/cpu/`` and ``outputs/cpu/REPORT.md`` (rendered as
  Markdown, as a repository browser shows it) are opened from a local web server: every image
  must have loaded, every style sheet must have rules, every link to a file must answer 200 and
  every in-page anchor must exist. External links are counted, not fetched (no network here).

Skipped, with one line saying what to install, where Chromium, ChromeDriver or Selenium is
missing and cannot be installed.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from engines import browser as engine
from engines.slurm_cluster import free_ports

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "smoot_fig1_motivation"
PAGES = ROOT / "outputs" / "cpu"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    reason = engine.install(say=lambda msg: print(msg, flush=True))
    if reason:
        pytest.skip(f"real browser: {reason}")
    try:
        import selenium  # noqa: F401  (the test extra)
    except ImportError:
        pytest.skip("real browser: needs Selenium: pip install selenium (the test extra)")
    tmp = tmp_path_factory.mktemp("chromium")
    d = engine.chrome(tmp / "profile", log=tmp / "chromedriver.log")
    d.set_page_load_timeout(60)
    yield d
    d.quit()


# --------------------------------------------------------------------------- JupyterLab


def lab_commands(lab_dir: Path, port: int, token: str) -> list[list[str]]:
    """The commands ``make lab-profile PROFILE=smoke`` runs after its install step, with the
    Python running the tests and a port and token of ours."""
    args = ["--allow-root"] if os.geteuid() == 0 else []  # as the Makefile's LAB_ARGS default
    args += ["--no-browser", f"--port={port}", f"--IdentityProvider.token={token}"]
    make = subprocess.run(
        ["make", "-n", "lab-profile", "PROFILE=smoke", f"LAB_DIR={lab_dir}",
         f"LAB_ARGS={' '.join(args)}", f"VPY={sys.executable}"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = [shlex.split(ln) for ln in make.splitlines()]
    prepare = [ln for ln in lines if "scripts/lab_notebooks.py" in ln]
    lab = [ln for ln in lines if ln[1:4] == ["-m", "jupyter", "lab"]]
    assert len(prepare) == 1 and len(lab) == 1, make
    return [prepare[0], lab[0]]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if shutil.which("make") is None:
        pytest.skip("JupyterLab in a browser: needs make (the Makefile's lab-profile target)")
    tmp = tmp_path_factory.mktemp("lab")
    (port,) = free_ports(1)
    token = "engines-test"
    prepare, start = lab_commands(tmp / "notebooks", port, token)
    env = {
        **os.environ,
        "SALIENCY_ROOT": str(ROOT),  # the kernels run in tmp/notebooks, outside the repository
        "SALIENCY_OUTPUT_ROOT": str(tmp / "outputs"),
        "SALIENCY_RUN_STORE": str(tmp / "runs"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),  # nothing of the user's is touched
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
    }
    t0 = time.monotonic()
    done = subprocess.run(prepare, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    prepared = time.monotonic() - t0
    log = open(tmp / "lab.log", "w")  # noqa: SIM115  (closed below)
    server = subprocess.Popen(start, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            log.close()
            raise AssertionError(f"JupyterLab did not start: {(tmp / 'lab.log').read_text()}")
        time.sleep(0.3)
    print(f"\nnotebooks prepared in {prepared:.1f} s: {done.stdout.strip()}")
    print(f"JupyterLab up in {time.monotonic() - t0 - prepared:.1f} s")
    yield {"url": url, "token": token, "dir": tmp / "notebooks", "tmp": tmp, "stdout": done.stdout}
    server.terminate()
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


STATUS_JS = "return (document.querySelector('#jp-main-statusbar') || {}).textContent || ''"
PROMPTS_JS = """return Array.from(document.querySelectorAll(
    '.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')).map(e => e.textContent.trim());"""


def test_notebook_runs_in_jupyterlab(driver, lab, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    source = ROOT / "notebooks" / f"{NOTEBOOK}.ipynb"
    prepared = sorted(p.name for p in lab["dir"].glob("*.ipynb"))
    assert f"{NOTEBOOK}.ipynb" in prepared and f"{len(prepared)} notebooks" in lab["stdout"]
    path = lab["dir"] / f"{NOTEBOOK}.ipynb"
    t0 = time.monotonic()
    driver.get(f"{lab['url']}/lab/tree/{NOTEBOOK}.ipynb?token={lab['token']}")
    wait = WebDriverWait(driver, 300, poll_frequency=0.25)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".jp-NotebookPanel .jp-CodeCell")))
    wait.until(lambda d: "| Idle" in d.execute_script(STATUS_JS))
    opened = time.monotonic() - t0
    # the smoke values are injected below the notebook's own parameters cell, not executed
    cells = driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel .jp-CodeCell")
    texts = [c.text for c in cells]
    injected = [i for i, t in enumerate(texts) if t.lstrip("[ ]:\n").startswith("# Parameters")]
    assert injected and 'profile = "smoke"' in texts[injected[0]], texts[:3]
    assert all(p in ("[ ]:", "") for p in driver.execute_script(PROMPTS_JS))
    # a reader's answer to JupyterLab's news question, so that the screenshot shows the notebook
    for button in driver.find_elements(By.XPATH, "//button[normalize-space()='No']"):
        button.click()

    menu = "//div[contains(@class,'lm-MenuBar-itemLabel') and text()='Run']"
    driver.find_element(By.XPATH, menu).click()
    run_all = (By.CSS_SELECTOR, "li[data-command='runmenu:run-all']")  # Run > Run All Cells
    wait.until(ec.element_to_be_clickable(run_all)).click()
    wait.until(lambda d: all(p[1:-2].isdigit() for p in d.execute_script(PROMPTS_JS)))
    wait.until(lambda d: "| Idle" in d.execute_script(STATUS_JS))
    ran = time.monotonic() - t0 - opened
    stderr = driver.execute_script("""return Array.from(document.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
        .map(e => e.textContent);""")
    assert not [s for s in stderr if "Traceback" in s or "Error" in s], stderr
    images = driver.execute_script("""return Array.from(document.querySelectorAll(
        '.jp-NotebookPanel .jp-OutputArea-output img'))
        .map(i => [i.naturalWidth, i.naturalHeight]);""")
    assert images and all(w > 100 and h > 100 for w, h in images), images

    # saved as a reader saves it: every code cell executed, no error output, a PNG figure
    before = path.stat().st_mtime_ns
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("s").key_up(Keys.CONTROL).perform()
    wait.until(lambda d: path.stat().st_mtime_ns != before)
    wait.until(lambda d: all(c.get("execution_count") for c in _code_cells(path)))
    code = _code_cells(path)
    assert len(code) == len(_code_cells(source)) + 1  # + papermill's injected cell
    outputs = [o for c in code for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    figures = lab["tmp"] / "outputs" / "smoke" / NOTEBOOK
    assert list(figures.glob("*.png")), list(figures.iterdir())

    driver.execute_script("""document.querySelector(
        '.jp-NotebookPanel .jp-OutputArea-output img').scrollIntoView({block: 'center'});""")
    time.sleep(0.5)
    shot = tmp_path / "jupyterlab.png"
    assert driver.save_screenshot(str(shot))
    print(f"{NOTEBOOK} (smoke) in JupyterLab: opened with a kernel in {opened:.1f} s, Run All "
          f"in {ran:.1f} s: {len(code)} code cells executed, 0 errors, {len(images)} figure(s) "
          f"rendered ({images[0][0]}x{images[0][1]} px); screenshot {shot}")  # fmt: skip


def _code_cells(path: Path) -> list[dict]:
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


# --------------------------------------------------------------------------- committed pages


def _pages() -> list[Path]:
    """The committed HTML pages under outputs/cpu/ (every HTML file there when not in git)."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--", "outputs/cpu"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout  # fmt: skip
        files = [ROOT / f for f in listed.split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = list(PAGES.rglob("*"))
    return sorted(f for f in files if f.suffix == ".html" and f.is_file())


class _Handler(http.server.SimpleHTTPRequestHandler):
    """The repository over HTTP, plus ``<file>.md.html``: ``<file>.md`` rendered as Markdown."""

    def do_GET(self):
        path = unquote(urlsplit(self.path).path)
        if path.endswith(".md.html"):
            import mistune  # nbconvert's Markdown renderer

            source = Path(self.directory) / path.lstrip("/").removesuffix(".html")
            body = f"<!DOCTYPE html><html><body>{mistune.html(source.read_text())}</body></html>"
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        super().do_GET()

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory: Path):
    """``directory`` over HTTP on a free loopback port; yields the base URL."""
    handler = functools.partial(_Handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def site():
    with serve(ROOT) as url:
        yield url


CHECK_JS = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images).map(i => ({
  src: i.getAttribute('src').slice(0, 120), ok: i.complete && i.naturalWidth > 0,
  inline: i.src.startsWith('data:')}));
const sheets = Array.from(document.querySelectorAll('link[rel~=stylesheet]')).map(l => {
  let rules = 0; try { rules = l.sheet ? l.sheet.cssRules.length : 0; } catch (e) { rules = -1; }
  return {href: l.getAttribute('href'), ok: rules > 0};
});
const links = Array.from(document.querySelectorAll('a[href]')).map(a => ({
  href: a.getAttribute('href'), url: a.href}));
const here = location.href.split('#')[0];
Promise.all(links.map(async l => {
  const u = new URL(l.url);
  if (u.origin !== location.origin) { l.kind = 'external'; l.ok = true; return l; }
  if (u.href.split('#')[0] === here) {
    l.kind = 'anchor';
    const id = decodeURIComponent(u.hash.slice(1));
    l.ok = id === '' || document.getElementById(id) !== null
      || document.getElementsByName(id).length > 0;
    return l;
  }
  l.kind = 'file';
  try {
    const r = await fetch(u.href.split('#')[0], {method: 'HEAD'});
    l.ok = r.ok; l.status = r.status;
  } catch (e) { l.ok = false; l.status = String(e); }
  return l;
})).then(checked => done({images, sheets, links: checked}));
"""


def test_committed_pages_and_report_images_load(driver, site):
    pages = _pages()
    assert pages, "no committed HTML page under outputs/cpu/"
    report = PAGES / "REPORT.md"
    targets = [(p.relative_to(ROOT).as_posix(), p) for p in pages]
    if report.is_file():
        targets.append((report.relative_to(ROOT).as_posix() + ".html", report))
    driver.set_script_timeout(60)
    kinds = {"file": "links to files", "anchor": "in-page anchors", "external": "external links"}
    counts = {k: [0, 0] for k in ("image files", "inline images", "style sheets", *kinds.values())}
    broken = []
    for url, path in targets:
        driver.get(f"{site}/{url}")
        got = driver.execute_async_script(CHECK_JS)
        where = path.relative_to(ROOT).as_posix()
        broken += [f"{where}: image {i['src']}" for i in got["images"] if not i["ok"]]
        broken += [f"{where}: style sheet {s['href']}" for s in got["sheets"] if not s["ok"]]
        broken += [f"{where}: {ln['kind']} link {ln['href']} ({ln.get('status', 'no target')})"
                   for ln in got["links"] if not ln["ok"]]  # fmt: skip
        items = [
            ("inline images" if i["inline"] else "image files", i["ok"]) for i in got["images"]
        ]
        items += [("style sheets", s["ok"]) for s in got["sheets"]]
        items += [(kinds[ln["kind"]], ln["ok"]) for ln in got["links"]]
        for key, ok in items:
            counts[key][0] += bool(ok)
            counts[key][1] += 1
    found = ", ".join(f"{k} {ok}/{n}" for k, (ok, n) in counts.items())
    summary = (f"{len(pages)} committed HTML pages + REPORT.md: {found} loaded or found "
               "(external links are not fetched)")  # fmt: skip
    print(summary)
    assert not broken, "\n".join(broken)
    if report.is_file():
        assert counts["image files"][1] >= report.read_text().count("![")  # REPORT.md's own


def test_page_checker_finds_what_is_missing(driver, tmp_path):
    """The check above on a page with one missing image, style sheet, file link and anchor (and
    one of each present): it must flag exactly the missing ones."""
    (tmp_path / "ok.css").write_text("body { margin: 0; }")
    (tmp_path / "other.html").write_text("<p>here</p>")
    shutil.copy(ROOT / "docs" / "jupyterlab.png", tmp_path / "ok.png")
    (tmp_path / "page.html").write_text(
        '<html><head><link rel="stylesheet" href="ok.css"><link rel="stylesheet" href="no.css">'
        '</head><body id="top"><img src="ok.png"><img src="no.png"><a href="other.html">a</a>'
        '<a href="missing.html">b</a><a href="#top">c</a><a href="#nowhere">d</a>'
        '<a href="https://example.org/">e</a></body></html>'
    )
    driver.set_script_timeout(30)
    with serve(tmp_path) as url:
        driver.get(f"{url}/page.html")
        got = driver.execute_async_script(CHECK_JS)
    assert [(i["src"], i["ok"]) for i in got["images"]] == [("ok.png", True), ("no.png", False)]
    assert [(c["href"], c["ok"]) for c in got["sheets"]] == [("ok.css", True), ("no.css", False)]
    assert [(ln["href"], ln["kind"], ln["ok"]) for ln in got["links"]] == [
        ("other.html", "file", True),
        ("missing.html", "file", False),
        ("#top", "anchor", True),
        ("#nowhere", "anchor", False),
        ("https://example.org/", "external", True),
    ]
