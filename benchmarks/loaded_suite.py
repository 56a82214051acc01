"""The README's test command on a loaded machine: two busy loops hog the cores while
``python -m pytest`` runs; prints how long the suite took and its result.

No test may depend on how fast the machine is; this is the check. The busy loops are started
and stopped here, by their process ids, whatever happens to the test run.

    python benchmarks/loaded_suite.py                 # the whole suite, two busy loops
    python benchmarks/loaded_suite.py --busy 0        # the same on an idle machine
    python benchmarks/loaded_suite.py tests/test_train_page.py -q   # extra args go to pytest

Exit status: pytest's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUSY_LOOP = "while True: pass"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--busy",
        type=int,
        default=2,
        help="busy-loop processes to run beside the tests (default 2: both "
        "cores of the target machine)",
    )
    args, pytest_args = parser.parse_known_args()
    hogs = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(args.busy)]
    print(
        f"{len(hogs)} busy loop(s) running: pids {[h.pid for h in hogs]}; {os.cpu_count()} CPU(s)",
        flush=True,
    )
    start = time.perf_counter()
    try:
        result = subprocess.run([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT)
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    took = time.perf_counter() - start
    print(
        f"\npytest exit status {result.returncode} after {took:,.0f} s "
        f"({took / 60:.1f} min) beside {len(hogs)} busy loop(s)"
    )
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
