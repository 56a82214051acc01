"""Shared fixtures for the real-browser tests: ``streamlit run`` on a free port (one server
for the whole test session), Debian's Chromium via Playwright.

A browser test module does ``from browser import *`` and so is skipped when no ``chromium`` is
on PATH, unless ``RNN_EXPLORER_REQUIRE_BROWSER=1`` (set by ``.ci/run``), in which case a missing
browser fails the run.
"""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"

if CHROMIUM is None:
    if os.environ.get("RNN_EXPLORER_REQUIRE_BROWSER") == "1":
        raise RuntimeError("chromium is required (RNN_EXPLORER_REQUIRE_BROWSER=1) but not on PATH")
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)",
                allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
         "--server.headless=true", f"--server.port={port}", "--server.address=127.0.0.1",
         "--browser.gatherUsageStats=false"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("streamlit did not start: " + proc.stdout.read().decode()[-2000:])
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        pg = browser.new_page(viewport={"width": 1600, "height": 1000})
        yield pg
        browser.close()


def wait_idle(page):
    page.wait_for_selector(IDLE, timeout=60_000)
    page.wait_for_timeout(500)
    page.wait_for_selector(IDLE, timeout=60_000)




@pytest.fixture
def page(browser_page):
    """The session's browser tab (one tab, reused: each test navigates first)."""
    return browser_page


__all__ = ["CHROMIUM", "IDLE", "ROOT", "page", "browser_page", "server", "wait_idle"]
