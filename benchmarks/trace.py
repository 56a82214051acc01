"""Print how long ``explorer.trace`` takes relative to torch's fused forward on the same input.

Run: ``python benchmarks/trace.py``. Each line: the configuration, both median times (ms) and the
median of the paired ratios trace / fused (target: at most 1.5 for one layer, 2.0 for the
2-layer bidirectional LSTM). The two are timed alternately, 31 pairs after a warm-up, single
process, CPU, float32, no autograd.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from explorer import trace  # noqa: E402

CASES = [
    ("LSTM", torch.nn.LSTM, {}),
    ("GRU", torch.nn.GRU, {}),
    ("RNN tanh", torch.nn.RNN, {}),
    ("LSTM 2-layer bidirectional", torch.nn.LSTM, {"num_layers": 2, "bidirectional": True}),
]


def paired_ms(fused, ours, repeats: int) -> tuple[float, float, float]:
    """Median times (ms) of both, measured alternately so that a slow patch of the machine hits
    both alike, and the median of the per-pair ratios."""
    fused(), ours()  # warm-up: first calls pay for allocation and kernel selection
    tf, to, ratios = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fused()
        t1 = time.perf_counter()
        ours()
        t2 = time.perf_counter()
        tf.append(t1 - t0)
        to.append(t2 - t1)
        ratios.append((t2 - t1) / (t1 - t0))
    return 1000 * statistics.median(tf), 1000 * statistics.median(to), statistics.median(ratios)


def main(T: int = 1000, hidden: int = 256, input_size: int = 32, repeats: int = 31) -> None:
    torch.manual_seed(0)
    print(
        f"T={T}, hidden_size={hidden}, input_size={input_size}, threads={torch.get_num_threads()}"
    )
    print(f"{'case':30s} {'fused ms':>9s} {'trace ms':>9s} {'ratio':>6s}")
    for name, cls, kwargs in CASES:
        rnn = cls(input_size, hidden, **kwargs).eval()
        x = torch.randn(T, input_size)
        with torch.no_grad():
            fused, ours, ratio = paired_ms(
                lambda: rnn(x.unsqueeze(1)), lambda: trace(rnn, x), repeats
            )
        print(f"{name:30s} {fused:9.2f} {ours:9.2f} {ratio:6.2f}")


if __name__ == "__main__":
    main()
