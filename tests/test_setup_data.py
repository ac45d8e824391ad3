"""Set-up inside the two commands: ``make test`` / ``make reproduce`` obtain Fashion-MNIST first
(``saliency_lib/setup_data.py``) or stop within a minute with one message saying how."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import pytest

from saliency_lib import setup_data
from saliency_lib.data import _sources as paths
from saliency_lib.data.mnist import FASHION_LAYOUT

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "saliency_lib" / "setup_data.py"
CLOSED = "http://127.0.0.1:9/"  # discard port, nothing listens: as a machine without network


def _no_network(*args, **kwargs):
    raise OSError("network is unreachable (test)")


@pytest.fixture
def offline(monkeypatch):
    """Not root, no apt-get, no network: any attempt to use them fails the test or the download."""
    monkeypatch.setattr(setup_data.os, "geteuid", lambda: 1000, raising=False)
    monkeypatch.setattr(setup_data.shutil, "which", lambda name: None)
    monkeypatch.setattr(setup_data.urllib.request, "urlopen", _no_network)
    monkeypatch.setattr(setup_data, "apt_install", lambda log: pytest.fail("apt-get was run"))


def _message_checks(text: str, root: Path) -> None:
    assert text.count("error:") == 1
    assert "apt-get install dataset-fashion-mnist" in text
    assert str(root / "FashionMNIST" / "raw") in text
    assert "SALIENCY_DATA=DIR" in text
    for name in setup_data.FILES:
        assert name in text


def test_constants_are_the_library_and_torchvision_ones():
    assert setup_data.DATA_ROOT_ENV == paths.DATA_ROOT_ENV
    assert setup_data.DEFAULT_DATA_ROOT == paths.DEFAULT_DATA_ROOT
    assert setup_data.DEBIAN_FASHION_MNIST_DIR == paths.DEBIAN_FASHION_MNIST_DIR
    assert setup_data.TORCHVISION_FOLDER == Path(FASHION_LAYOUT.folder)
    assert tuple(n[:-3] for n in setup_data.FILES) == FASHION_LAYOUT.files
    from torchvision.datasets import FashionMNIST

    assert setup_data.MIRROR in FashionMNIST.mirrors
    assert list(setup_data.RESOURCES) == [tuple(r) for r in FashionMNIST.resources]


def test_missing_data_gives_one_message(offline, tmp_path, capsys):
    root, debian = tmp_path / "data", tmp_path / "debian"
    with pytest.raises(setup_data.DataUnavailable) as exc:
        setup_data.ensure_fashion_mnist(root=root, debian_dir=debian, log=lambda s: None)
    _message_checks(str(exc.value), root)
    assert "needs root and apt-get" in str(exc.value)
    assert "network is unreachable" in str(exc.value)
    assert not list((root / "FashionMNIST" / "raw").iterdir())  # no partial file left behind


def test_script_exits_nonzero_quickly_with_the_message(tmp_path):
    """The real command with the system's Python, an empty data root and no network."""
    root = tmp_path / "data"
    env = dict(os.environ, SALIENCY_DATA=str(root))
    args = ["--no-apt", "--debian-dir", str(tmp_path / "none"), "--mirror", CLOSED]
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert time.monotonic() - start < 60
    assert done.returncode == setup_data.EXIT_MISSING
    _message_checks(done.stderr, root)


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_make_test_stops_before_installing_anything(tmp_path):
    """``make test`` on a machine without the data: the one message, before the venv exists."""
    root, venv = tmp_path / "data", tmp_path / "venv"
    data_args = f"--no-apt --debian-dir {tmp_path / 'none'} --mirror {CLOSED}"
    env = dict(os.environ, SALIENCY_DATA=str(root), MAKEFLAGS="")
    start = time.monotonic()
    done = subprocess.run(
        ["make", "-C", str(REPO), "test", f"VENV={venv}", f"DATA_ARGS={data_args}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert time.monotonic() - start < 60
    assert done.returncode != 0
    _message_checks(done.stderr, root)
    assert not venv.exists()


def test_apt_as_root(monkeypatch, tmp_path):
    """As root with apt-get: the package is installed (a stand-in apt-get here), no download."""
    debian = tmp_path / "debian"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    fake = bin_dir / "apt-get"
    touch = " ".join(str(debian / name) for name in setup_data.FILES)
    fake.write_text(
        f'#!/bin/sh\necho "$@" >> {calls}\n'
        f'if [ "$1" = install ]; then mkdir -p {debian} && touch {touch}; fi\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(setup_data.os, "geteuid", lambda: 0, raising=False)
    monkeypatch.setattr(setup_data.urllib.request, "urlopen", _no_network)
    where = setup_data.ensure_fashion_mnist(
        root=tmp_path / "data", debian_dir=debian, log=lambda s: None
    )
    assert where == debian
    assert calls.read_text().splitlines() == ["update -qq", "install -y -qq dataset-fashion-mnist"]


def test_noop_when_debian_files_are_present(offline, tmp_path):
    debian = tmp_path / "debian"
    debian.mkdir()
    for name in setup_data.FILES:
        (debian / name).write_bytes(b"x")
    before = sorted(p.name for p in debian.iterdir())
    where = setup_data.ensure_fashion_mnist(
        root=tmp_path / "data", debian_dir=debian, log=pytest.fail
    )
    assert where == debian
    assert sorted(p.name for p in debian.iterdir()) == before
    assert not (tmp_path / "data").exists()
    assert setup_data.main(["--root", str(tmp_path / "data"), "--debian-dir", str(debian)]) == 0


def test_gz_files_put_into_the_data_root_are_decompressed(offline, tmp_path):
    root = tmp_path / "data"
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for name in setup_data.FILES:
        (raw / name).write_bytes(gzip.compress(name.encode()))
    assert FASHION_LAYOUT.missing(root)  # the library would not find them yet
    where = setup_data.ensure_fashion_mnist(root=root, debian_dir=tmp_path / "none", log=print)
    assert where == raw
    assert FASHION_LAYOUT.missing(root) == []
    assert (raw / "t10k-labels-idx1-ubyte").read_bytes() == b"t10k-labels-idx1-ubyte.gz"
    # a second run does nothing (the decompressed files are there)
    mtime = (raw / "t10k-labels-idx1-ubyte").stat().st_mtime_ns
    setup_data.ensure_fashion_mnist(root=root, debian_dir=tmp_path / "none", log=pytest.fail)
    assert (raw / "t10k-labels-idx1-ubyte").stat().st_mtime_ns == mtime


@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server holding four small gzip files; yields (url, resources)."""
    served = tmp_path / "served"
    served.mkdir()
    resources = []
    for name in setup_data.FILES:
        data = gzip.compress(name.encode() * 100)
        (served / name).write_bytes(data)
        resources.append((name, hashlib.md5(data).hexdigest()))
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", resources
    server.shutdown()
    server.server_close()


def test_download_writes_torchvision_layout(tmp_path, mirror):
    url, resources = mirror
    root = tmp_path / "data"
    setup_data.download(root, url, resources, log=lambda s: None)
    assert FASHION_LAYOUT.missing(root) == []
    raw = root / "FashionMNIST" / "raw"
    assert (raw / "train-images-idx3-ubyte").read_bytes() == b"train-images-idx3-ubyte.gz" * 100


def test_download_rejects_wrong_md5(tmp_path, mirror):
    url, resources = mirror
    bad = [(name, "0" * 32) for name, _ in resources]
    root = tmp_path / "data"
    with pytest.raises(ValueError, match="MD5"):
        setup_data.download(root, url, bad, log=lambda s: None)
    assert not list((root / "FashionMNIST" / "raw").iterdir())
