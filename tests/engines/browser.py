"""Headless Chromium for the tests, driven by Selenium through Debian's ChromeDriver.

Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``, ``/usr/bin/chromedriver``)
are installed with apt-get when missing (as root); Selenium is the ``test`` extra's. The browser
starts headless with a fresh profile and no background networking (no update, sync or safe
browsing requests, which a closed network refuses), so pages load only what they reference.

Command line (``.ci/run`` uses ``install``)::

    python tests/engines/browser.py install
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGES = ("chromium", "chromium-driver")
BROWSER, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--disable-features=Translate,MediaRouter",
    "--allow-file-access-from-files", "--window-size=1400,1000", "--hide-scrollbars",
)  # fmt: skip


def missing_programs() -> list[str]:
    return [p for p in (BROWSER, DRIVER) if not os.access(p, os.X_OK)]


def install(say=print) -> str | None:
    """Install :data:`PACKAGES` with apt-get when missing. None when both programs are there,
    else one line saying why not and what to install."""
    missing = missing_programs()
    if not missing:
        return None
    what = f"apt-get install {' '.join(PACKAGES)}"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return f"needs {', '.join(missing)}: run `{what}` as root (Debian/Ubuntu)"
    say(f"installing {' '.join(PACKAGES)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
            return f"`{' '.join(cmd)}` failed ({tail[0]}): run `{what}` as root"
    missing = missing_programs()
    return f"still missing after apt-get: {', '.join(missing)}" if missing else None


def chrome(profile_dir: Path, log: Path | None = None):
    """A Selenium ``webdriver.Chrome`` on Debian's chromium (headless, fresh profile)."""
    from selenium import webdriver  # the test extra; imported when a browser is wanted
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for flag in (*FLAGS, f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    service = Service(DRIVER, log_output=str(log) if log else subprocess.DEVNULL)
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: no download attempts
    return webdriver.Chrome(options=options, service=service)


if __name__ == "__main__":
    if sys.argv[1:] == ["install"]:
        reason = install()
        print(reason or f"browser: {BROWSER} and {DRIVER} present")
        sys.exit(1 if reason else 0)
    print(__doc__.split("\n\n")[-1].strip(), file=sys.stderr)
    sys.exit(2)
