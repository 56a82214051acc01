"""Print the Step-through player's rate in Chromium at speed 8: steps per second each viewer
sees, and the server's CPU while they play.

Run: ``python benchmarks/playback.py [--viewers 1 10] [--hogs 2] [--seconds 10]``. Starts
``streamlit run`` on a free port and Debian's Chromium (Playwright, never ``playwright
install``); for each viewer count, opens that many viewers (one browser context each: a
Streamlit session each) on ``/step_through?T=400&speed=8``, presses Play in every one, and
counts the steps each shows over ``--seconds`` (read from the player's ``t = N of M`` line). The
target is at least 7 steps/s each (issue 9: speed 8 on any server load). ``--hogs N`` adds N
busy Python processes for the run (a loaded machine). The server's CPU is sampled while the
viewers play: a player that runs in the browser needs none after the first render.

All viewers share one Chromium, so with many viewers the browser's own CPU competes with the
server's on a small machine: the figures are per viewer, measured in that viewer's page.
"""

from __future__ import annotations

import argparse
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
STEP = "() => +/t = (\\d+)/.exec(document.querySelector('h4.rnn-step').textContent)[1]"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve() -> tuple[subprocess.Popen, str]:
    port = _free_port()
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
            "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def _measure(browser, url: str, viewers: int, seconds: float, server: psutil.Process) -> None:
    contexts = [
        browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(viewers)
    ]
    pages = [c.new_page() for c in contexts]
    t0 = time.perf_counter()
    for page in pages:
        page.goto(f"{url}/step_through?T=400&speed=8")
    for page in pages:
        page.wait_for_selector(IDLE, timeout=180_000)
        page.wait_for_selector("h4.rnn-step", timeout=180_000)
        page.locator(".js-plotly-plot").first.wait_for(state="visible", timeout=180_000)
    ready = time.perf_counter() - t0
    time.sleep(1.0)
    for page in pages:
        page.get_by_role("button", name="Play").click()
    time.sleep(1.0)  # the first frames
    start = [(page.evaluate(STEP), time.perf_counter()) for page in pages]
    server.cpu_percent(None)
    cpu_start = time.perf_counter()
    time.sleep(seconds)
    cpu = server.cpu_percent(None)
    cpu_span = time.perf_counter() - cpu_start
    end = [(page.evaluate(STEP), time.perf_counter()) for page in pages]
    rates = [(e - s) / (te - ts) for (s, ts), (e, te) in zip(start, end)]
    print(
        f"{viewers:>3} viewer(s): steps/s each median {statistics.median(rates):.2f}, "
        f"min {min(rates):.2f}, max {max(rates):.2f} (speed 8, over {seconds:.0f} s); "
        f"server CPU while playing {cpu:.0f} % of one core over {cpu_span:.1f} s; "
        f"all pages drawn after {ready:.1f} s"
    )
    for c in contexts:
        c.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--hogs", type=int, default=0, help="busy processes during the run")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.hogs)]
    proc, url = _serve()
    try:
        server = psutil.Process(proc.pid)
        print(
            f"load: {psutil.getloadavg()[0]:.1f} (1-min load average, {psutil.cpu_count()} "
            f"cores), {args.hogs} busy process(es) added"
        )
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=shutil.which("chromium") or shutil.which("chromium-browser"),
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-background-timer-throttling",
                    "--disable-renderer-backgrounding",
                    "--disable-backgrounding-occluded-windows",
                ],
            )
            for n in args.viewers:
                _measure(browser, url, n, args.seconds, server)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
        for hog in hogs:
            hog.terminate()


if __name__ == "__main__":
    main()
