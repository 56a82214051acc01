"""The student side of deploy/smoke.sh: N headless students (benchmarks/students.py) through
the balancer at ``--url``; checks that they are spread over the replicas and keep their
sessions. Prints what it saw; exits 0 when every check holds, 1 with the reasons otherwise.

Checks:
- every student got its page and the affinity cookie, pressed Start on the Train page and got
  the rerun that followed (and any of the live fragment's reruns), with one session id and no
  reconnect. Each stays ``--seconds``, longer (up to 4 times) until its rerun has come: a
  loaded machine is slow, which is not what this checks;
- the students' session ids are all different;
- both replicas serve students: by the X-Upstream header nginx adds to each student's page, and
  by the websockets each replica process holds open while the students are connected;
- sticky: nginx's access log shows each student's one websocket (/_stcore/stream) going to the
  replica that served its page;
- a real Chromium (when Debian's chromium and playwright are installed; ``--no-browser`` skips
  it) gets the affinity cookie, draws the app through the balancer and its websocket goes to
  one replica.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from students import Student, run_students  # noqa: E402

STREAM = re.compile(r'"GET /_stcore/stream[^"]*" (\d+) upstream=(\S+) affinity=(\S+)')


def wait_healthy(url: str, seconds: float = 180) -> None:
    end = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read()
            return
        except OSError as err:
            if time.monotonic() > end:
                raise SystemExit(
                    f"smoke: FAIL: {url} not healthy after {seconds:.0f} s: {err}"
                ) from err
            time.sleep(0.5)


def open_sockets(pid: int, port: int) -> int:
    """Established TCP connections on ``port`` held by process ``pid`` (its websockets)."""
    try:
        conns = psutil.Process(pid).net_connections(kind="tcp")
    except psutil.Error:
        return -1
    return sum(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port for c in conns)


async def count_sockets(replicas: dict[str, int], at: float, out: dict) -> None:
    """The most websockets each replica held, sampled every second after ``at`` seconds."""
    await asyncio.sleep(at)
    while True:
        for addr, pid in replicas.items():
            out[addr] = max(out.get(addr, 0), open_sockets(pid, int(addr.rsplit(":", 1)[1])))
        await asyncio.sleep(1.0)


async def real_browser(url: str) -> tuple[str | None, str | None]:
    """Open ``url`` in Chromium, wait until the app has run; (affinity cookie, problem)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        print("smoke: no chromium or playwright: the real-browser check is skipped")
        return None, None
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = await browser.new_page()
            await page.goto(url, timeout=120_000)
            await page.wait_for_selector(
                "[data-testid='stApp'][data-test-script-state='notRunning'] h1", timeout=120_000
            )
            cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
            if "rnnx_affinity" not in cookies:
                return None, "Chromium got no affinity cookie"
            return cookies["rnnx_affinity"], None
        except Exception as err:  # noqa: BLE001  (reported as the check's failure)
            return None, f"Chromium did not draw the app through the balancer: {err}"
        finally:
            await browser.close()


async def main_async(args) -> int:
    replicas = dict(r.split("=") for r in args.replica)
    replicas = {addr: int(pid) for addr, pid in replicas.items()}
    for addr in replicas:
        wait_healthy(f"http://{addr}")
    wait_healthy(args.url)
    # one student straight to each replica first: torch's import and the first page's caches
    # are a replica's start-up, not the class's
    warm = [
        Student(
            f"http://{addr}/train",
            name=f"warm {addr}",
            fetch_page=False,
            until=lambda s: s.first_page is not None,
        )
        for addr in replicas
    ]
    for s in await run_students(warm, 180):
        if not s.done:
            print(f"smoke: FAIL: {s.name}: no first page within 180 s ({s.error})")
            return 1

    def rerun_done(s) -> bool:
        return (
            time.monotonic() - s.started >= args.seconds and sum(s.finished.values()) >= 2
        )  # the page, then at least one rerun

    students = [
        Student(
            f"{args.url}/train?steps=20000&seed={i}",
            name=f"s{i}",
            press=("train_start",),
            max_reconnects=3,
            until=rerun_done,
        )
        for i in range(args.students)
    ]
    sockets: dict[str, int] = {}
    counter = asyncio.create_task(count_sockets(replicas, args.seconds / 2, sockets))
    stats = await run_students(students, 4 * args.seconds, stagger=0.1)
    counter.cancel()
    browser_key, browser_problem = (await real_browser(args.url)) if args.browser else (None, None)
    await asyncio.sleep(2)  # nginx logs a websocket when it closes

    problems = []
    for s in stats:
        why = []
        if s.error:
            why.append(s.error)
        if not s.upstream:
            why.append("no X-Upstream header on its page")
        if "rnnx_affinity=" not in s.cookies:
            why.append("no affinity cookie")
        if s.first_page is None:
            why.append("its page never finished")
        elif s.pressed is None:
            why.append("Start was never drawn enabled")
        if s.pressed is not None and not s.done:
            why.append(f"no rerun after Start within {4 * args.seconds:.0f} s")
        if len(s.sessions) != 1:
            why.append(f"{len(s.sessions)} session ids")
        if s.reconnects:
            why.append(f"{s.reconnects} reconnect(s)")
        if s.exceptions:
            why.append("exception on the page: " + s.exceptions[0][:120])
        if why:
            problems.append(f"{s.name}: " + "; ".join(why))
    ids = [next(iter(s.sessions)) for s in stats if len(s.sessions) == 1]
    if len(set(ids)) != len(ids):
        problems.append("two students share a session id")

    by_page = Counter(s.upstream for s in stats if s.upstream)
    streams: dict[str, list[tuple[str, str]]] = {}
    for line in Path(args.access_log).read_text().splitlines():
        m = STREAM.search(line)
        if m:
            streams.setdefault(m[3], []).append((m[1], m[2]))
    by_stream: Counter = Counter()
    for s in stats:
        cookie = dict(kv.split("=", 1) for kv in s.cookies.split("; ") if "=" in kv)
        got = streams.get(cookie.get("rnnx_affinity", "?"), [])
        if len(got) != 1:
            problems.append(f"{s.name}: {len(got)} websocket(s) in nginx's log, expected 1")
            continue
        status, upstream = got[0]
        by_stream[upstream] += 1
        if status != "101":
            problems.append(f"{s.name}: websocket answered {status}, not 101")
        if upstream != s.upstream:
            problems.append(f"{s.name}: page from {s.upstream} but websocket to {upstream}")

    if browser_problem:
        problems.append(browser_problem)
    elif browser_key:
        got = streams.get(browser_key, [])
        if not got or any(status != "101" for status, _ in got) or len({u for _, u in got}) != 1:
            problems.append(f"Chromium's websockets in nginx's log: {got or 'none'}")
        else:
            print(f"Chromium: affinity cookie set, app drawn, its websocket went to {got[0][1]}")
    print(
        f"{'replica':<18} {'pages':>6} {'websockets (nginx log)':>23} {'open at the replica':>20}"
    )
    for addr in replicas:
        print(
            f"{addr:<18} {by_page.get(addr, 0):>6} {by_stream.get(addr, 0):>23} "
            f"{sockets.get(addr, 0):>20}"
        )
    steps = sorted(s.steps[-1][1] for s in stats if s.steps)
    runs = sorted(sum(s.finished.values()) for s in stats)
    print(
        f"{len(stats)} students, {len(set(ids))} session ids, "
        f"{sum(s.reconnects for s in stats)} reconnects; runs per student (page, Start, live "
        f"fragment) {runs[0]}..{runs[-1]}; steps trained {steps[0] if steps else 0}.."
        f"{steps[-1] if steps else 0}"
    )
    for addr in replicas:
        if not by_page.get(addr):
            problems.append(f"replica {addr} served no student's page")
        if not sockets.get(addr):
            problems.append(f"replica {addr} held no websocket while the students were on")
    if sum(sockets.values()) < len(stats):
        problems.append(
            f"the replicas held {sum(sockets.values())} websockets at most, "
            f"for {len(stats)} students"
        )
    if problems:
        print("smoke: FAIL", *problems, sep="\n  ")
        return 1
    print("smoke: OK: students spread over both replicas, each kept its replica and its session")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="the balancer, http://127.0.0.1:PORT")
    ap.add_argument(
        "--replica",
        action="append",
        required=True,
        help="HOST:PORT=PID of one replica (twice or more)",
    )
    ap.add_argument("--access-log", required=True, help="nginx's access log (app.conf's format)")
    ap.add_argument("--students", type=int, default=20)
    ap.add_argument(
        "--no-browser", dest="browser", action="store_false", help="skip the real-browser check"
    )
    ap.add_argument("--seconds", type=float, default=30.0, help="how long each student stays")
    return asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
