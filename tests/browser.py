"""Shared helpers for the real-browser tests: ``streamlit run`` on a free port (one server
for the whole test session), Debian's Chromium via Playwright.

The fixtures (``server``, ``browser_page``, ``page``) live in ``conftest.py``, registered once
for the whole session. A browser test module does ``from browser import *`` and so is skipped when no ``chromium`` is
on PATH, unless ``RNN_EXPLORER_REQUIRE_BROWSER=1`` (set by ``.ci/run``), in which case a missing
browser fails the run.
"""

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"

if CHROMIUM is None:
    if os.environ.get("RNN_EXPLORER_REQUIRE_BROWSER") == "1":
        raise RuntimeError("chromium is required (RNN_EXPLORER_REQUIRE_BROWSER=1) but not on PATH")
    pytest.skip(
        "Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True
    )


def wait_idle(page):
    page.wait_for_selector(IDLE, timeout=60_000)
    page.wait_for_timeout(500)
    page.wait_for_selector(IDLE, timeout=60_000)


def settled(page, read, *, interval_ms: int = 2000, tries: int = 5):
    """``read(page)`` once two readings ``interval_ms`` apart agree (at most ``tries`` waits):
    after a pause, a frame already in flight may still land, late on a loaded machine."""
    value = read(page)
    for _ in range(tries):
        page.wait_for_timeout(interval_ms)
        now = read(page)
        if now == value:
            break
        value = now
    return value


# The live loss chart (loss_chart.loss_curves, Vega-Lite drawn as SVG: one path per line, one "L"
# per segment): points of each line by "<stroke colour> <stroke width>"; null without a chart.
LINE_POINTS = """() => {
  const chart = document.querySelector("[data-testid='stVegaLiteChart']");
  if (!chart) return null;
  return Object.fromEntries([...chart.querySelectorAll("g.mark-line path")].map(p => [
    p.getAttribute('stroke') + ' ' + p.getAttribute('stroke-width'),
    (p.getAttribute('d').match(/L/g) || []).length + 1]));
}"""


def line_points(page) -> dict[str, int] | None:
    return page.evaluate(LINE_POINTS)


__all__ = ["CHROMIUM", "IDLE", "LINE_POINTS", "ROOT", "line_points", "settled", "wait_idle"]
