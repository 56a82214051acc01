"""A class at once: N headless students train on the Train page of one server while a real
Chromium viewer plays Step through beside them; print what each got and what the server paid.

Run: ``python benchmarks/classroom.py [--students 1,10,30,50] [--seconds 30] [--after 180]``
(``--url http://host:port`` to measure a server already running, ``--no-viewer`` without the
browser). Not part of the test run: the figures depend on the machine and on its load.

Each round starts N students (``benchmarks/students.py``: Streamlit's own websocket protocol, no
browser). Student i opens ``/train?steps=20000&seed=i``, presses Start (``train_start``) as
soon as the first run has drawn it, and stays ``--warmup + --seconds`` seconds; its figures are
taken over its last ``--seconds``:

- chart updates/s: distinct contents of the live loss chart (the ``st.vega_lite_chart`` whose
  alt text names the loss) received per second;
- steps/s: training steps per second, from the progress text ``step N / M`` it received;
- first page: seconds from opening the socket to the first run's ``script_finished``;
- cut short: the share of the fragment's runs that ended ``FINISHED_EARLY_FOR_RERUN`` (their
  output was thrown away); below the table, runs and cut-short shares by kind: ``full`` page
  runs, the ``chart`` fragment (the live loss curve) and ``other`` fragments;
- lost: students whose socket died (they reconnect up to 3 times with their session id, as a
  browser does), whose session id changed, or who gave up; each is named below the table.

Beside them one Chromium (Playwright driving ``/usr/bin/chromium``) opens
``/step_through?T=400&speed=8``, switches Play on, and reads the page's ``t = N of M`` text
every 100 ms: its steps/s is how fast ``t`` moved (speed 8 asks for 8). It stands for the
teacher's laptop, another machine in a classroom: once it plays, its processes run at a lower
priority (``VIEWER_NICENESS``) than the server, whose CPU they would otherwise share.

The server's CPU (% of one core, the mean over the round) and RSS (MB) are those of the server
process and all its child processes (training workers), sampled every second with psutil. The
starting RSS is read once it has stopped moving (the workers import torch after the first
page); it is read again ``--after`` seconds (default 180) after everyone has left. By default the
script starts its own ``streamlit run`` on a free port and stops it at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from itertools import pairwise
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from students import Student, run_students  # noqa: E402

READ_T = """() => { const re = /t = (\\d+) of (\\d+)/;
  let m = document.body && document.body.innerText.match(re);
  for (const el of document.querySelectorAll('h4, svg text')) { if (m) break; m = el.textContent.match(re); }
  return m ? [parseInt(m[1]), parseInt(m[2])] : null; }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(port: int, python: str = sys.executable) -> subprocess.Popen:
    """``streamlit run streamlit_app.py`` on 127.0.0.1:``port``, once its health check answers."""
    proc = subprocess.Popen(
        [
            python,
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
    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
            return proc
        except OSError as err:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {proc.returncode}") from err
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("streamlit did not answer its health check within 120 s")


def listening_pid(port: int) -> int | None:
    """The process listening on ``port`` on this machine (None if not found or not allowed)."""
    try:
        conns = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return None
    for conn in conns:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            return conn.pid
    return None


class ServerMeter:
    """CPU % (of one core) and RSS (bytes) of a process and its children, sampled every
    ``every`` seconds in a background task."""

    def __init__(self, pid: int | None, every: float = 1.0):
        self.root = psutil.Process(pid) if pid else None
        self.every = every
        self.procs: dict[int, psutil.Process] = {}
        self.samples: list[tuple[float, float, int]] = []  # (time, cpu %, rss)

    def _tree(self) -> list[psutil.Process]:
        if self.root is None:
            return []
        try:
            tree = [self.root] + self.root.children(recursive=True)
        except psutil.Error:
            return []
        for p in tree:
            if p.pid not in self.procs:
                self.procs[p.pid] = p
                try:
                    p.cpu_percent(None)  # primes the counter
                except psutil.Error:
                    pass
        return [self.procs[p.pid] for p in tree]

    def sample(self) -> tuple[float, int]:
        cpu = rss = 0
        for p in self._tree():
            try:
                cpu += p.cpu_percent(None)
                rss += p.memory_info().rss
            except psutil.Error:
                pass
        return cpu, rss

    def split(self) -> str:
        """RSS of the server process alone and of its children (MB), for the log."""
        if self.root is None:
            return "-"
        try:
            own = self.root.memory_info().rss
        except psutil.Error:
            return "-"
        return f"server process {own / 2**20:,.0f} MB + children {(self.sample()[1] - own) / 2**20:,.0f} MB"

    async def settled(self, within: float = 0.01, samples: int = 3, limit: float = 60.0) -> int:
        """RSS once it has stopped moving (``samples`` readings a second apart within
        ``within`` of each other, at most ``limit`` seconds): training workers import torch in
        the background after the first page, and a reading taken then would start too low."""
        readings = [self.sample()[1]]
        end = time.monotonic() + limit
        while time.monotonic() < end:
            await asyncio.sleep(1.0)
            readings.append(self.sample()[1])
            last = readings[-samples:]
            if len(last) == samples and max(last) - min(last) <= within * max(last):
                break
        return readings[-1]

    async def run(self) -> None:
        self.sample()
        while True:
            await asyncio.sleep(self.every)
            cpu, rss = self.sample()
            self.samples.append((time.monotonic(), cpu, rss))

    def between(self, since: float, until: float):
        got = [(c, r) for t, c, r in self.samples if since <= t <= until]
        if not got:
            return None, None
        return statistics.mean(c for c, _ in got), max(r for _, r in got)


async def viewer(base: str, seconds: float, warmup: float) -> dict:
    """One Chromium playing Step through at speed 8; steps/s from the ``t = N of M`` text."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return {"note": "no chromium on PATH: viewer skipped"}
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        return {"note": "playwright is not installed (requirements-dev.txt): viewer skipped"}
    out: dict = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 800})
            await page.goto(f"{base}/step_through?T=400&speed=8", timeout=120_000)
            await page.wait_for_selector(
                "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=120_000
            )
            for _ in range(120):  # a loaded server draws the player late
                if await read_t(page) is not None:
                    break
                await asyncio.sleep(0.5)
            else:
                return {
                    "note": "the page shows no 't = N of M' text within 60 s: "
                    "cannot measure playback"
                }
            if not await press_play(page):
                return {
                    "note": "no Play control found on Step through within 60 s: "
                    "cannot measure playback"
                }
            lower_browser_priority()
            await asyncio.sleep(warmup)
            samples = []
            t0 = time.monotonic()
            while time.monotonic() - t0 < seconds:
                got = await read_t(page)
                if got:
                    samples.append((time.monotonic(), got[0], got[1]))
                await asyncio.sleep(0.1)
            out = playback_rate(samples)
        except Exception as err:  # noqa: BLE001  (the viewer's failure is a result, not a crash)
            out = {"note": f"viewer failed: {type(err).__name__}: {err}"}
        finally:
            await browser.close()
    return out


VIEWER_NICENESS = 10  # the viewer's Chromium runs this much below the benchmark (Unix nice)


def lower_browser_priority() -> None:
    """The viewer stands for the teacher's laptop, another machine: its Chromium (about half a
    core while it plays) runs at a lower priority than the server here, so that its drawing
    does not take the server's CPU as it never would in a classroom."""
    mine = os.nice(0)
    for proc in psutil.Process().children(recursive=True):
        try:
            if "chrom" in proc.name():
                proc.nice(min(19, mine + VIEWER_NICENESS))
        except psutil.Error:
            continue


async def read_t(page) -> tuple[int, int] | None:
    """``(t, M)`` from the first ``t = N of M`` on the page or in any of its frames (a custom
    component's player lives in an iframe)."""
    for frame in page.frames:
        try:
            got = await frame.evaluate(READ_T)
        except Exception:  # noqa: BLE001  (a frame navigating away)
            continue
        if got:
            return got[0], got[1]
    return None


async def press_play(page, wait: float = 60.0) -> bool:
    """Switch playback on: Streamlit's Play toggle, else a button named Play in any frame.
    Tries for ``wait`` seconds (a loaded server draws the page's controls late)."""
    end = time.monotonic() + wait
    while True:
        toggle = page.locator("[data-testid='stCheckbox']").filter(has_text="Play")
        if await toggle.count():
            await toggle.first.click()
            return True
        for (
            frame
        ) in page.frames:  # the browser-side player: a button named Play (maybe in an iframe)
            for button in (
                frame.get_by_role("button", name="Play", exact=True),
                frame.get_by_role("button", name=re.compile(r"^\W*play\b", re.I)),
            ):
                if await button.count():
                    await button.first.click()
                    return True
        if time.monotonic() > end:
            return False
        await asyncio.sleep(0.5)


def playback_rate(samples: list[tuple[float, int, int]]) -> dict:
    """Steps per second while playing: forward moves of t over the time they took, up to the
    moment t reached its end (M) if it did."""
    if len(samples) < 2:
        return {"note": "too few readings of 't = N of M'"}
    moved, start, end = 0, samples[0][0], samples[-1][0]
    for (_, a, _), (t1, b, last) in pairwise(samples):
        if b > a:
            moved += b - a
        if b >= last:
            end = t1
            break
    return {
        "steps_per_s": moved / (end - start) if end > start else 0.0,
        "t": f"{samples[0][1]}..{samples[-1][1]} of {samples[-1][2]}",
    }


async def one_round(n: int, base: str, meter: ServerMeter, args) -> dict:
    stay = args.warmup + args.seconds
    students = [
        Student(
            f"{base}/train?steps={args.steps}&seed={i}",
            name=f"s{i}",
            press=("train_start",),
            fetch_page=False,
        )
        for i in range(n)
    ]
    rss_before = await meter.settled()
    print(f"  RSS at the start: {meter.split()}", flush=True)
    started = time.monotonic()
    view = asyncio.create_task(viewer(base, args.seconds, args.warmup + 5)) if args.viewer else None
    stats = await run_students(students, stay, stagger=args.stagger)
    ended = time.monotonic()
    playback = await view if view else {"note": "viewer off"}
    cpu, rss_peak = meter.between(started + args.warmup, ended)
    rss_after = None
    if args.after > 0:
        print(f"  {n} students left; RSS again in {args.after:.0f} s ...", flush=True)
        await asyncio.sleep(args.after)
        rss_after = meter.sample()[1]
        print(f"  RSS after: {meter.split()}", flush=True)
    rates, steps, firsts, lost, cut, runs = [], [], [], [], 0, 0
    by: dict[str, dict[str, int]] = {}
    for s in stats:
        for kind, statuses in s.finished_by.items():
            for status, count in statuses.items():
                by.setdefault(kind, {})[status] = by.get(kind, {}).get(status, 0) + count
        end = s.started + stay
        rates.append(s.rate(end - args.seconds, end))
        steps.append(s.steps_per_second(end - args.seconds, end))
        if s.first_page is not None:
            firsts.append(s.first_page)
        cut += s.finished.get("FINISHED_EARLY_FOR_RERUN", 0)
        runs += s.finished.get("FINISHED_EARLY_FOR_RERUN", 0) + s.finished.get(
            "FINISHED_FRAGMENT_RUN_SUCCESSFULLY", 0
        )
        why = [s.error] if s.error else []
        if s.reconnects:
            why.append(f"{s.reconnects} reconnect(s)")
        if len(s.sessions) > 1:
            why.append(f"{len(s.sessions)} session ids")
        if s.first_page is None:
            why.append("first page never finished")
        elif s.pressed is None:
            why.append("Start never pressed (button not drawn enabled)")
        if s.exceptions:
            why.append("exception on the page: " + s.exceptions[0][:120])
        if why:
            lost.append(f"{s.name}: " + "; ".join(why))
    slow = min(stats, key=lambda s: s.rate(s.started + args.warmup, s.started + stay))
    seen = [step for _, step, _ in slow.steps]
    print(
        f"  slowest: {slow.name}, first page {slow.first_page}, pressed at "
        f"{'-' if slow.pressed is None else f'{slow.pressed - slow.started:.1f}'} s, "
        f"steps seen {seen[:1]}..{seen[-1:]} ({len(seen)} readings), "
        f"{len(slow.chart_updates)} chart updates, runs {slow.finished_by}",
        flush=True,
    )
    return {
        "n": n,
        "rates": rates,
        "steps": steps,
        "firsts": firsts,
        "lost": lost,
        "cut": cut / runs if runs else 0.0,
        "cut_by": by,
        "cpu": cpu,
        "rss_before": rss_before,
        "rss_peak": rss_peak,
        "rss_after": rss_after,
        "playback": playback,
    }


def fmt_mb(b) -> str:
    return "–" if b is None else f"{b / 2**20:,.0f}"


def table(rows: list[dict]) -> str:
    head = (
        "| students | chart updates/s median / min | steps/s median / min | first page "
        "median / max (s) | cut short | lost | server CPU % | RSS start / peak / after (MB) "
        "| viewer steps/s |\n|" + "---|" * 9
    )
    lines = [head]
    for r in rows:
        med = lambda xs: statistics.median(xs) if xs else 0.0  # noqa: E731
        play = r["playback"]
        view = f"{play['steps_per_s']:.1f}" if "steps_per_s" in play else "–"
        lines.append(
            f"| {r['n']} | {med(r['rates']):.2f} / {min(r['rates'], default=0):.2f} "
            f"| {med(r['steps']):,.0f} / {min(r['steps'], default=0):,.0f} "
            f"| {med(r['firsts']):.1f} / {max(r['firsts'], default=0):.1f} "
            f"| {100 * r['cut']:.0f} % | {len(r['lost'])} "
            f"| {r['cpu'] or 0:.0f} "
            f"| {fmt_mb(r['rss_before'])} / {fmt_mb(r['rss_peak'])} / {fmt_mb(r['rss_after'])} "
            f"| {view} |"
        )
    return "\n".join(lines)


async def main_async(args) -> int:
    proc = None
    if args.url:
        base = args.url.rstrip("/")
        port = int(base.rsplit(":", 1)[1].split("/")[0]) if base.count(":") > 1 else 80
        pid = args.server_pid or listening_pid(port)
    else:
        port = free_port()
        proc = serve(port)
        base, pid = f"http://127.0.0.1:{port}", proc.pid
    if pid is None:
        print("server process not found (pass --server-pid): CPU and RSS not measured")
    meter = ServerMeter(pid)
    sampler = asyncio.create_task(meter.run())
    rows = []
    try:
        # one student first, so that torch's import and the first page's caches are not
        # charged to the first round
        warm = await Student(
            f"{base}/train", name="warm", fetch_page=False, until=lambda s: s.first_page is not None
        ).run(180)
        if not warm.done:
            raise SystemExit(f"the server drew no first page within 180 s ({warm.error})")
        print(f"warm-up: first page in {warm.first_page:.1f} s", flush=True)
        for n in args.students:
            print(
                f"round: {n} students, {args.warmup + args.seconds:.0f} s (machine load "
                f"average {psutil.getloadavg()[0]:.1f}) ...",
                flush=True,
            )
            rows.append(await one_round(n, base, meter, args))
            print(table(rows[-1:]), flush=True)
    finally:
        sampler.cancel()
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    print()
    print(
        f"{psutil.cpu_count()} cores, load average {psutil.getloadavg()[0]:.1f} at the end; "
        f"{args.seconds:.0f} s measured per student after {args.warmup:.0f} s"
    )
    print(table(rows))
    for r in rows:
        for line in r["lost"]:
            print(f"  N={r['n']} lost {line}")
        if "note" in r["playback"]:
            print(f"  N={r['n']} viewer: {r['playback']['note']}")
        runs = {
            kind: f"{sum(st.values()):,} "
            f"({st.get('FINISHED_EARLY_FOR_RERUN', 0) / max(1, sum(st.values())):.0%} cut short)"
            for kind, st in sorted(r["cut_by"].items())
        }
        print(f"  N={r['n']} runs by kind: " + ", ".join(f"{k} {v}" for k, v in runs.items()))
    return 1 if any(r["lost"] for r in rows) else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--students", default="1,10,30,50", help="class sizes, one round each (default 1,10,30,50)"
    )
    ap.add_argument("--seconds", type=float, default=30.0, help="measured seconds per student")
    ap.add_argument(
        "--warmup",
        type=float,
        default=10.0,
        help="seconds each student stays before its measured window",
    )
    ap.add_argument(
        "--after",
        type=float,
        default=180.0,
        help="seconds after everyone left before RSS is read again (0: skip)",
    )
    ap.add_argument("--steps", type=int, default=20000, help="each student's step budget")
    ap.add_argument("--stagger", type=float, default=0.05, help="seconds between arrivals")
    ap.add_argument("--url", help="a running server (default: start one on a free port)")
    ap.add_argument("--server-pid", type=int, help="its process id (default: the port's owner)")
    ap.add_argument(
        "--no-viewer",
        dest="viewer",
        action="store_false",
        help="no Chromium viewer on Step through",
    )
    args = ap.parse_args()
    args.students = [int(n) for n in args.students.split(",")]
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
