"""What one user can cost the server: issue 12's "one user can exhaust the server" scenarios,
each in a fresh Chromium session, with the server's CPU and memory; Pause and Stop times on the
largest model the budget allows; ten sessions opening the largest Step-through view.

Run: ``python benchmarks/hostile.py [--scenarios link,csv_step,...] [--after 180]`` (needs
Debian's ``chromium`` and ``playwright``; never ``playwright install``). It starts its own
``streamlit run streamlit_app.py`` on a free port (``--url`` measures one already running).
Not part of the test run: the figures depend on the machine and its load (this 2-core machine
is shared: run it a few times).

Before the scenarios a first visitor opens every page (the server imports torch, the pages'
modules and starts its training workers) and leaves; once the janitor has dropped
that session, the **baseline** RSS is read. Then, for each scenario, a new browser context (a
new Streamlit session) does what the issue's user did, and leaves:

- ``link``: opens ``/train?hidden_size=1024&num_layers=4&bidirectional=true&task=char&
  batch_size=256&window=200``;
- ``csv_step``: uploads a 5,000-row CSV on Step through with the largest model (LSTM 1024, 4
  bidirectional layers);
- ``train`` / ``compare``: the largest model, Start pressed when the page offers it; then the
  largest model the budget lets train (``TRAIN_LINK``, ``COMPARE_LINK``: 2 M parameters) trains
  20 s, and Pause and Stop are timed from the click to the page showing the run paused (Resume
  enabled) or stopped (Stop disabled; Compare has Reset instead, until Start is enabled);
- ``csv_train``: uploads a 1,000,000-row CSV on Train; then a 300,000-row one (4.5 MB, under
  the upload limit), presses Start and stays 60 s; the bytes the websocket brought to the
  browser are counted;
- ``ten``: ten sessions, one after another, open the largest Step-through view the budget allows
  (LSTM 1024 × 4 bidirectional layers at the longest T it may have, explorer.budget).

Per scenario: the server's CPU seconds (the server process and its training workers, user +
system, from the first request to the page being idle again or the scenario's end), its peak
RSS (sampled every 0.2 s; the page process, and with the workers: their shared libraries are
counted in each), and its RSS ``--after`` seconds after the session left (the janitor drops a
closed tab's session after 30 s). The scenarios share one server, one after another: what one
leaves behind shows in the next one's figures.
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from classroom import free_port  # noqa: E402

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
LARGEST = "hidden_size=1024&num_layers=4&bidirectional=true"
LINK = f"/train?{LARGEST}&task=char&batch_size=256&window=200"
# the largest models the budget lets train (explorer.budget.check_training): 2 M parameters
TRAIN_LINK = "/train?cell=gru&hidden_size=768&task=forecast&window=4&batch_size=1&steps=20000"
COMPARE_LINK = "/compare?hidden_size=384&task=forecast&window=4&batch_size=1&steps=20000"


def longest_step_through() -> str:
    """The largest Step-through view: the largest model at the longest T the budget allows."""
    from explorer import budget
    from explorer.config import CellConfig
    from explorer.params import model_parameters

    config = CellConfig("lstm", 1, 1024, num_layers=4, bidirectional=True)
    P = model_parameters(config)
    T = min(
        400,
        math.floor(
            budget.TRACE_SECONDS / ((P * budget.NS_PER_PARAMETER_STEP + budget.NS_PER_STEP) * 1e-9)
        ),
    )
    return f"/step_through?{LARGEST}&T={T}"


class Meter:
    """The server's process tree: CPU seconds and RSS, sampled every 0.2 s in a thread."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.peak_main = self.peak_tree = 0
        self._procs: dict[int, psutil.Process] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _tree(self):
        try:
            procs = [self.root] + self.root.children(recursive=True)
        except psutil.Error:
            return []
        return [self._procs.setdefault(p.pid, p) for p in procs]

    def rss(self) -> tuple[int, int]:
        """(page process, page process + workers) RSS in bytes."""
        main = tree = 0
        for p in self._tree():
            try:
                r = p.memory_info().rss
            except psutil.Error:
                continue
            tree += r
            if p.pid == self.root.pid:
                main = r
        return main, tree

    def cpu(self) -> float:
        total = 0.0
        for p in self._tree():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.Error:
                pass
        return total

    def reset_peak(self) -> None:
        self.peak_main, self.peak_tree = self.rss()

    def _loop(self):
        while not self._stop.wait(0.2):
            main, tree = self.rss()
            self.peak_main = max(self.peak_main, main)
            self.peak_tree = max(self.peak_tree, tree)

    def stop(self):
        self._stop.set()


def mb(b: float) -> str:
    return f"{b / 1e6:,.0f} MB"


def wait_idle(page, timeout=180_000):
    page.wait_for_selector(IDLE, timeout=timeout)
    page.wait_for_timeout(500)
    page.wait_for_selector(IDLE, timeout=timeout)


def button(page, name):
    return page.get_by_role("button", name=name, exact=True).first


def write_csv(path: Path, rows: int) -> Path:
    import numpy as np

    t = np.arange(rows)
    y = np.sin(t / 50.0) + 0.1 * np.random.default_rng(0).standard_normal(rows)
    with open(path, "w") as f:
        f.write("t,value\n")
        f.writelines(f"{i},{v:.5f}\n" for i, v in zip(t, y))
    return path


def text_of(page) -> str:
    try:
        return page.locator("[data-testid='stMain']").inner_text(timeout=5000)
    except Exception:  # noqa: BLE001
        return ""


def note(page) -> str:
    """The first warning or error the page shows, cut short."""
    for sel in (
        "[data-testid='stAlertContentWarning']",
        "[data-testid='stAlertContentError']",
        "[data-testid='stException']",
    ):
        loc = page.locator(sel)
        if loc.count():
            text = " ".join(loc.first.inner_text().split())
            return re.sub(r"^[a-z_]+ ", "", text)[:160]  # without the icon's ligature name
    return ""


def timed_click(page, name: str, done) -> float | None:
    """Seconds from clicking ``name`` to ``done(page)`` holding (polled every 20 ms)."""
    b = button(page, name)
    if not b.count() or not b.is_enabled():
        return None
    t0 = time.perf_counter()
    b.click()
    while time.perf_counter() - t0 < 60:
        if done(page):
            return time.perf_counter() - t0
        page.wait_for_timeout(20)
    return float("inf")


def enabled(page, name: str) -> bool:
    b = button(page, name)
    return bool(b.count()) and b.is_enabled()


def train_and_time(page, seconds: float = 20) -> dict:
    """Start, train ``seconds``, Pause (until Resume is enabled), Resume, 5 s, Stop (until
    Stop is disabled; Compare: Reset, until Start is enabled). Returns the times and the steps
    shown."""
    out = {}
    if not enabled(page, "Start"):
        out["note"] = note(page) or "Start disabled"
        return out
    button(page, "Start").click()
    page.wait_for_timeout(seconds * 1000)
    out["pause"] = timed_click(page, "Pause", lambda p: enabled(p, "Resume"))
    wait_idle(page)
    button(page, "Resume").click()
    page.wait_for_timeout(5000)
    if button(page, "Stop").count():
        out["stop"] = timed_click(page, "Stop", lambda p: not enabled(p, "Stop"))
    else:  # Compare has no Stop: Reset halts the run too, and offers Start again
        out["reset"] = timed_click(page, "Reset", lambda p: enabled(p, "Start"))
    wait_idle(page)
    m = re.search(r"step ([\d,]+) / ([\d,]+)", text_of(page))
    out["steps"] = m.group(1) if m else "?"
    out["note"] = note(page)
    return out


def scenario(name, browser, base, meter, args, tmp) -> dict:
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    received = [0]
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived",
            lambda payload: received.__setitem__(
                0, received[0] + len(payload if isinstance(payload, (bytes, str)) else b"")
            ),
        ),
    )
    meter.reset_peak()
    cpu0, t0 = meter.cpu(), time.monotonic()
    row = {"scenario": name}
    try:
        if name == "link":
            page.goto(base + LINK)
            wait_idle(page)
            row["note"] = note(page)
        elif name == "csv_step":
            page.goto(base + f"/step_through?{LARGEST}&input=csv")
            wait_idle(page)
            page.get_by_role("button", name="Input sequence").first.click()  # the uploader: in here
            page.locator("input[type=file]").first.set_input_files(
                str(write_csv(tmp / "rows5000.csv", 5000))
            )
            page.wait_for_timeout(1000)
            wait_idle(page)
            row["note"] = note(page)
        elif name in ("train", "compare"):
            page.goto(base + f"/{name}?{LARGEST}")
            wait_idle(page)
            largest = (
                train_and_time(page, 10)
                if enabled(page, "Start")
                else {"note": note(page) or "Start disabled"}
            )
            row["note"] = largest.get("note", "")
            row["cpu_largest"] = meter.cpu() - cpu0
            page.goto(base + (TRAIN_LINK if name == "train" else COMPARE_LINK))
            wait_idle(page)
            row["allowed"] = train_and_time(page, 20)
        elif name == "csv_train":
            page.goto(base + "/train?task=csv")
            wait_idle(page)
            page.locator("input[type=file]").first.set_input_files(
                str(write_csv(tmp / "rows1m.csv", 1_000_000))
            )
            page.wait_for_timeout(1000)
            wait_idle(page)
            row["note"] = note(page)
            # then the longest file the upload limit lets through (4.5 MB): trained 60 s
            page.locator("input[type=file]").first.set_input_files(
                str(write_csv(tmp / "rows300k.csv", 300_000))
            )
            page.wait_for_timeout(1000)
            wait_idle(page)
            if enabled(page, "Start"):
                button(page, "Start").click()
                page.wait_for_timeout(60_000)
                if enabled(page, "Stop"):
                    button(page, "Stop").click()
                wait_idle(page)
            row["note_300k"] = note(page) or "trained 60 s"
        elif name == "ten":
            url = base + longest_step_through()
            row["url"] = url[len(base) :]
            for _ in range(10):
                other = browser.new_context(viewport={"width": 1280, "height": 800})
                p = other.new_page()
                p.goto(url)
                wait_idle(p)
                row.setdefault("note", note(p))
                other.close()
    except Exception as err:  # noqa: BLE001 - a failed scenario is a result, not a crash
        row["error"] = f"{type(err).__name__}: {str(err)[:200]}"
    row["cpu"] = meter.cpu() - cpu0
    row["wall"] = time.monotonic() - t0
    row["peak_main"], row["peak_tree"] = meter.peak_main, meter.peak_tree
    row["ws_bytes"] = received[0]
    ctx.close()
    left = time.monotonic()
    row["after"] = {}
    for mark in sorted({30, 60, args.after}):
        time.sleep(max(0.0, left + mark - time.monotonic()))
        row["after"][mark] = meter.rss()
    return row


def serve(port: int, log: str | None = None) -> subprocess.Popen:
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - the server's lifetime
    proc = subprocess.Popen(
        [
            "nice",
            "-n",
            "19",
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
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def server_pid(proc: subprocess.Popen) -> int:
    """The python under ``nice``: nice execs it, so it is the same process."""
    return proc.pid


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenarios", default="link,csv_step,train,compare,csv_train,ten")
    ap.add_argument("--after", type=int, default=180, help="seconds after leaving (default 180)")
    ap.add_argument("--url", help="a server already running (its pid: --pid)")
    ap.add_argument("--pid", type=int)
    ap.add_argument("--server-log", help="write the server's output to this file")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    proc = None
    if args.url:
        base, pid = args.url.rstrip("/"), args.pid
    else:
        port = free_port()
        proc = serve(port, args.server_log)
        base, pid = f"http://127.0.0.1:{port}", server_pid(proc)
    meter = Meter(pid)
    rows = []
    try:
        with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
            browser = pw.chromium.launch(
                executable_path=shutil.which("chromium") or shutil.which("chromium-browser"),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            warm = browser.new_context()
            page = warm.new_page()
            for path in ("/learn", "/", "/step_through", "/train", "/compare"):
                page.goto(base + path)
                wait_idle(page)
            warm.close()
            time.sleep(50)  # the janitor drops the closed session (30 s, swept every 10 s)
            baseline = meter.rss()
            print(
                f"baseline (after a first visit to every page, its session dropped): "
                f"page process {mb(baseline[0])}, with workers {mb(baseline[1])}",
                flush=True,
            )
            for name in args.scenarios.split(","):
                if proc is not None and proc.poll() is not None:
                    print(f"the server exited (code {proc.returncode})", flush=True)
                    break
                row = scenario(name, browser, base, meter, args, Path(tmp))
                rows.append(row)
                after = row["after"]
                print(
                    f"\n{name}: server CPU {row['cpu']:.1f} s in {row['wall']:.0f} s; peak RSS "
                    f"{mb(row['peak_main'])} (with workers {mb(row['peak_tree'])}); after "
                    + ", ".join(
                        f"{k} s {mb(v[0])} ({v[0] / baseline[0]:.2f}x)" for k, v in after.items()
                    )
                    + f"; websocket {mb(row['ws_bytes'])}",
                    flush=True,
                )
                for key in ("url", "note", "note_300k", "allowed", "cpu_largest", "error"):
                    if row.get(key):
                        print(f"  {key}: {row[key]}", flush=True)
            browser.close()
    finally:
        meter.stop()
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
