"""Print the server-side time of one rerun of the Step-through page after a step change.

Run: ``python benchmarks/step_page.py``. Uses ``streamlit.testing.v1.AppTest`` (no browser): an
LSTM with hidden_size 64 on a 200-step wave; the time-step slider is moved and the app rerun,
and the median over the repeats is printed (target: under 0.3 s). torch is imported, and the page
run once, before timing, so the import is excluded. This is the cost of a step button, a slider
move or a pause; playing costs the server nothing per frame (``benchmarks/playback.py``).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402,F401  (imported here so its import time is not measured)
from streamlit.testing.v1 import AppTest  # noqa: E402


def main(repeats: int = 9) -> None:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.sidebar.number_input(key="hidden_size").set_value(64).run()
    at.switch_page("app_pages/step_through.py").run()
    at.slider(key="T").set_value(200).run()
    assert not at.exception, at.exception
    times = []
    for k in range(repeats):
        at.slider(key="step_t").set_value(10 + 17 * k)
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        assert not at.exception, at.exception
    print(
        f"Step-through rerun after a step change (LSTM, hidden 64, T = 200): median "
        f"{statistics.median(times):.3f} s over {repeats} (min {min(times):.3f}, max {max(times):.3f}); "
        f"target < 0.3 s"
    )


if __name__ == "__main__":
    main()
