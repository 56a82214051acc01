"""Print the reload-to-curve time: from opening a ``?run=<id>`` link in Chromium to the stored
run's loss curve on the Train page, with the run coming back from the store as a Trainer.

Run: ``python benchmarks/reload_to_curve.py [--loads N]`` (needs Debian's ``chromium`` and
``playwright``). It trains the default Train run (LSTM 16, CO2 forecast, 300 steps) and saves
it in a temporary store, also with 20,000 steps of history (the 300 steps' records repeated,
as in ``benchmarks/runstore.py``), then serves the app on that store and opens
``/train?run=<id>`` ``N`` times (default 5), each in a fresh browser context (a reload in
another browser: a new session, a read-only view), and prints the median time until the loss
chart's training line is drawn; beside it, the server's part measured in this process
(``store.load`` + ``restore``, in ms). The first load, which imports torch on the server, is
left out. A control opens ``/train`` without a run (the page's own first screen, an empty
chart): the difference is the store's share. The machine is shared: noisy.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser import CHROMIUM, IDLE, LINE_POINTS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    import torch
    from benchmarks_runstore import lengthen  # noqa: E402  (see below)

    from explorer.checkpoint import checkpoint
    from explorer.config import CellConfig
    from explorer.models import build_from_config
    from explorer.runstore import new_owner_token, open_store
    from explorer.tasks import build_task
    from explorer.training import TrainConfig, Trainer

    torch.set_num_threads(1)
    data = tempfile.mkdtemp()
    store, owner = open_store(data), new_owner_token()
    task = build_task("forecast")
    config = CellConfig(input_size=task.input_size, output_size=task.output_size)
    tr = Trainer(build_from_config(config), task, TrainConfig())
    tr.run()
    from explorer.checkpoint import restore

    ids, server_ms = {}, {}
    for label, steps in (("300 steps", None), ("20,000 steps", 20_000)):
        if steps:
            lengthen(tr, steps)
        meta, tensors = checkpoint(tr, task_key="forecast", task_settings={}, model=config)
        ids[label] = store.create("train", owner, meta, tensors)
        times = []
        for _ in range(args.loads):
            t0 = time.perf_counter()
            stored = store.load(ids[label])
            restore(stored.meta, stored.tensors)
            times.append((time.perf_counter() - t0) * 1000)
        server_ms[label] = statistics.median(times)
    script = ROOT / "streamlit_app.py"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(script),
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "RNN_EXPLORER_TRAINING"}
        | {"PYTHONPATH": str(ROOT), "RNN_EXPLORER_DATA": data},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            ids["control: /train without a run (empty chart)"] = None
            for label, run_id in ids.items():
                times = []
                for i in range(args.loads + 1):
                    context = browser.new_context(viewport={"width": 1280, "height": 800})
                    page = context.new_page()
                    t0 = time.perf_counter()
                    page.goto(f"{url}/train" + (f"?run={run_id}" if run_id else ""))
                    wanted = 1 if run_id else -1  # a drawn training line / any chart
                    page.wait_for_function(
                        f"() => {{ const l = ({LINE_POINTS})();"
                        f" return l && Math.max(-1, ...Object.values(l)) > {wanted}; }}",
                        timeout=120_000,
                    )
                    elapsed = time.perf_counter() - t0
                    page.wait_for_selector(IDLE, timeout=60_000)
                    if i:  # the first load imports torch on the server
                        times.append(elapsed * 1000)
                    context.close()
                part = f"; load + restore {server_ms[label]:.1f} ms" if label in server_ms else ""
                print(
                    f"{label}: link to curve {statistics.median(times):.0f} ms (median of "
                    f"{len(times)}, min {min(times):.0f}){part}"
                )
            browser.close()
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "benchmarks_runstore", ROOT / "benchmarks" / "runstore.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["benchmarks_runstore"] = module
    spec.loader.exec_module(module)
    main()
