"""Print how often the live loss curve moves in a real browser while a run trains, and whether
it ever goes blank.

Run: ``python benchmarks/live_chart.py [--seconds S]`` (needs Debian's ``chromium`` and the
``playwright`` package from requirements-dev.txt). It starts ``streamlit run`` on a free port,
opens the Train page (its default task, 20,000 steps so the run outlasts the measurement) and
then the Compare page in Chromium at 1600 x 1000, presses Start, waits 4 s, and then for
``S`` seconds (default 15) reads the number of points of the training-loss line in the page's
Vega-Lite chart every 15 ms in the page itself. It prints, per page: redraws per second (how
often that number changed; target at least 2), the median and longest gap between two redraws,
the samples in which the chart was missing or under 100 px tall (target 0), the progress bar's
text at the end (steps per second as the page shows it), and the browser's main-thread time in
long tasks (over 50 ms: rendering). Browser and server share the machine's cores here; on a
loaded machine the figures drop, so run it a few times.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import IDLE, LINE_POINTS  # noqa: E402  (the browser tests' reading of the chart)

# the training-loss line: blue 1.5 px on the Train page (one model), RNN's faded 1 px on Compare
PAGES = {"train": "#1f77b4 1.5", "compare": "#1f77b4 1"}

SAMPLE = """async ([line, ms]) => { const out = []; const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    const chart = document.querySelector("[data-testid='stVegaLiteChart']");
    const lines = (LINE_POINTS)();
    const tall = chart && chart.getBoundingClientRect().height >= 100;
    out.push([performance.now() - t0, tall && lines ? (lines[line] || 0) : -1]);
    await new Promise(r => setTimeout(r, 15)); }
  return out; }""".replace("LINE_POINTS", LINE_POINTS)

LONG_TASKS = """() => { window.__long = []; new PerformanceObserver(
  l => l.getEntries().forEach(e => window.__long.push(e.duration))).observe({type: 'longtask'}); }"""


def _serve(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "streamlit_app.py"),
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(120):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def measure(browser, url: str, line: str, seconds: float) -> None:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(url)
    page.wait_for_selector(IDLE, timeout=60_000)
    page.wait_for_timeout(1500)
    page.evaluate(LONG_TASKS)
    page.get_by_role("button", name="Start").click()
    page.wait_for_timeout(4000)
    samples = page.evaluate(SAMPLE, [line, int(seconds * 1000)])
    changes = [t for (t, n), (_, m) in zip(samples[1:], samples) if n != m and n >= 0 and m >= 0]
    gaps = [b - a for a, b in zip(changes, changes[1:])] or [float("nan")]
    blank = sum(n < 0 for _, n in samples)
    progress = page.locator("[data-testid='stProgress']").inner_text()
    long = page.evaluate("window.__long")
    print(
        f"  {len(changes) / seconds:4.2f} redraws/s (median gap {statistics.median(gaps):.0f} ms, "
        f"longest {max(gaps):.0f} ms); blank or missing in {blank} of {len(samples)} samples"
    )
    print(f"  progress: {progress}")
    print(
        f"  browser long tasks: {sum(long) / 1000:.1f} s in {len(long)} "
        f"(longest {max(long, default=0):.0f} ms)"
    )
    page.close()


def main(seconds: float = 15.0) -> None:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("needs Debian's chromium (apt-get install -y chromium)")
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = _serve(port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
            )
            for name, line in PAGES.items():
                print(f"{name} page, {seconds:g} s of training:")
                measure(browser, f"http://127.0.0.1:{port}/{name}?steps=20000", line, seconds)
            browser.close()
    finally:
        proc.terminate()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    main(parser.parse_args().seconds)
