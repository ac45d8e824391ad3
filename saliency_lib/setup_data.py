"""Obtain Fashion-MNIST before any other work: the first step of ``make test``, ``make reproduce``.

Standard library only, so it runs with the system Python before the virtual environment exists:
``python3 saliency_lib/setup_data.py`` (or ``python -m saliency_lib.setup_data``). In order:

1. nothing to do if the files are where the library looks (``saliency_lib/data/mnist.py``,
   the data root of ``saliency_lib/data/_sources.py``):
   the four IDX files in torchvision's layout ``<data root>/FashionMNIST/raw/`` (data root:
   ``$SALIENCY_DATA``, else ``~/.cache/saliency_lib/data``; ``.gz`` files put there are
   decompressed), or the ``.gz`` files of Debian's package in ``/usr/share/datasets/fashion-mnist``;
2. as root with ``apt-get``: ``apt-get install dataset-fashion-mnist``;
3. download from torchvision's Fashion-MNIST mirror into the data root, checked against
   torchvision's MD5 sums, exactly as ``torchvision.datasets.FashionMNIST(download=True)`` does;
4. otherwise exit 3 with one message saying how to get the files.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

# The same values as saliency_lib/data/_sources.py (a test checks that they agree); repeated here
# because importing the data package needs numpy and torch, which are not installed yet.
DATA_ROOT_ENV = "SALIENCY_DATA"
DEFAULT_DATA_ROOT = Path("~/.cache/saliency_lib/data")
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_PACKAGE = "dataset-fashion-mnist"
TORCHVISION_FOLDER = Path("FashionMNIST") / "raw"

#: torchvision.datasets.FashionMNIST's mirror and files with their MD5 sums (the test checks).
MIRROR = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
RESOURCES = (
    ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
    ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
    ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
    ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
)
FILES = tuple(name for name, _ in RESOURCES)

EXIT_MISSING = 3
#: Seconds to wait for the mirror to answer before calling the network unavailable.
CONNECT_TIMEOUT = 15.0


class DataUnavailable(Exception):
    """Fashion-MNIST could not be found or obtained; ``str()`` is the message for the user."""


def data_root() -> Path:
    """``$SALIENCY_DATA``, else ``~/.cache/saliency_lib/data`` (as
    ``saliency_lib/data/_sources.py``'s ``resolve_root``)."""
    return Path(os.environ.get(DATA_ROOT_ENV) or DEFAULT_DATA_ROOT).expanduser()


def _torchvision_dir(root: Path) -> Path:
    return root / TORCHVISION_FOLDER


def found(root: Path, debian_dir: Path) -> Path | None:
    """The folder the library will read Fashion-MNIST from, or None. ``.gz`` files put into the
    torchvision folder are decompressed first (torchvision reads the decompressed files)."""
    tv = _torchvision_dir(root)
    if all((tv / name[:-3]).is_file() or (tv / name).is_file() for name in FILES):
        for name in FILES:
            if not (tv / name[:-3]).is_file():
                _gunzip(tv / name)
        return tv
    if all((debian_dir / name).is_file() for name in FILES):
        return debian_dir
    return None


def _gunzip(path: Path) -> None:
    target = path.with_suffix("")
    tmp = target.with_name(target.name + ".part")
    with gzip.open(path, "rb") as src, open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst)
    tmp.replace(target)


def _can_apt() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_install(log) -> str | None:
    """``apt-get install dataset-fashion-mnist`` (after ``apt-get update``); None or the error."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", DEBIAN_PACKAGE],
    ):
        log(f"setup-data: {' '.join(cmd)}")
        try:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(cmd)} failed: {exc}"
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
            return f"{' '.join(cmd)} exited {done.returncode}: {tail[0]}"
    return None


def download(
    root: Path,
    mirror: str = MIRROR,
    resources: Sequence[tuple[str, str]] = RESOURCES,
    timeout: float = CONNECT_TIMEOUT,
    log=print,
) -> None:
    """Download and decompress the files into ``<root>/FashionMNIST/raw/``, MD5-checked as
    torchvision does. Raises ``OSError`` (network unreachable, timeout) or ``ValueError`` (MD5)."""
    tv = _torchvision_dir(root)
    tv.mkdir(parents=True, exist_ok=True)
    for name, md5 in resources:
        if (tv / name[:-3]).is_file():
            continue
        url = mirror + name
        log(f"setup-data: downloading {url}")
        digest = hashlib.md5()
        with tempfile.NamedTemporaryFile(dir=tv, suffix=".part", delete=False) as part:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    for chunk in iter(lambda: response.read(1 << 20), b""):
                        digest.update(chunk)
                        part.write(chunk)
            except BaseException:
                part.close()
                Path(part.name).unlink(missing_ok=True)
                raise
        if digest.hexdigest() != md5:
            Path(part.name).unlink(missing_ok=True)
            raise ValueError(f"{url}: MD5 {digest.hexdigest()}, expected {md5}")
        Path(part.name).replace(tv / name)
        _gunzip(tv / name)


def how_to_get(root: Path, debian_dir: Path, reasons: Sequence[str]) -> str:
    """The one message printed when the data cannot be obtained."""
    files = ", ".join(FILES)
    tried = "; ".join(reasons)
    return (
        f"error: Fashion-MNIST is not on this machine and could not be obtained ({tried}).\n"
        "Get it in one of these ways, then run the command again:\n"
        f"  * Debian/Ubuntu: sudo apt-get install {DEBIAN_PACKAGE}"
        f"  (installs the files into {debian_dir}/)\n"
        f"  * copy the four IDX files {files}\n"
        "    (from https://github.com/zalandoresearch/fashion-mnist)"
        f" into {_torchvision_dir(root)}/\n"
        f"  * or set {DATA_ROOT_ENV}=DIR, a folder whose FashionMNIST/raw/ holds those files"
    )


def ensure_fashion_mnist(
    root: Path | None = None,
    debian_dir: Path = DEBIAN_FASHION_MNIST_DIR,
    use_apt: bool | None = None,
    mirror: str | None = MIRROR,
    timeout: float = CONNECT_TIMEOUT,
    log=print,
) -> Path:
    """The folder Fashion-MNIST is read from, obtaining it first if needed (module docstring).

    ``use_apt=None`` uses apt-get when running as root with apt-get on the PATH; ``mirror=None``
    does not download. Raises :class:`DataUnavailable` with the message for the user.
    """
    root = data_root() if root is None else Path(root).expanduser()
    debian_dir = Path(debian_dir)
    where = found(root, debian_dir)
    if where is not None:
        return where
    reasons = []
    if use_apt is None:
        use_apt = _can_apt()
    if use_apt:
        error = apt_install(log)
        where = found(root, debian_dir)
        if where is not None:
            return where
        reasons.append(error or f"apt-get installed {DEBIAN_PACKAGE} but not into {debian_dir}")
    else:
        reasons.append("apt-get not tried: it needs root and apt-get")
    if mirror:
        try:
            download(root, mirror, timeout=timeout, log=log)
        except (OSError, ValueError) as exc:
            reasons.append(f"download from {mirror} failed: {exc}")
        else:
            where = found(root, debian_dir)
            if where is not None:
                return where
    else:
        reasons.append("download not tried")
    raise DataUnavailable(how_to_get(root, debian_dir, reasons))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="setup_data.py",
        description="Make sure Fashion-MNIST is on this machine (apt-get, else download), "
        "or say how to get it.",
    )
    parser.add_argument(
        "--root", type=Path, help=f"data root (default: ${DATA_ROOT_ENV}, else {DEFAULT_DATA_ROOT})"
    )
    parser.add_argument("--debian-dir", type=Path, default=DEBIAN_FASHION_MNIST_DIR)
    parser.add_argument("--no-apt", action="store_true", help="never run apt-get")
    parser.add_argument("--mirror", default=MIRROR, help="download from this URL prefix")
    parser.add_argument("--no-download", action="store_true", help="never download")
    args = parser.parse_args(argv)
    try:
        where = ensure_fashion_mnist(
            root=args.root,
            debian_dir=args.debian_dir,
            use_apt=False if args.no_apt else None,
            mirror=None if args.no_download else args.mirror,
        )
    except DataUnavailable as exc:
        print(exc, file=sys.stderr)
        return EXIT_MISSING
    print(f"setup-data: Fashion-MNIST found in {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
