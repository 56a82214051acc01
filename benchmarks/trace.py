"""Print how long ``explorer.trace`` takes relative to torch's fused forward on the same input.

Run: ``python benchmarks/trace.py``. Each line: the configuration, both median times (ms) and the
ratio trace / fused (target: at most 1.5). Timings are medians of repeated runs after warm-up,
single process, CPU, float32, no autograd.
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


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up: first call pays for allocation and kernel selection
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main(T: int = 1000, hidden: int = 256, input_size: int = 32, repeats: int = 15) -> None:
    torch.manual_seed(0)
    print(f"T={T}, hidden_size={hidden}, input_size={input_size}, threads={torch.get_num_threads()}")
    print(f"{'case':30s} {'fused ms':>9s} {'trace ms':>9s} {'ratio':>6s}")
    for name, cls, kwargs in CASES:
        rnn = cls(input_size, hidden, **kwargs).eval()
        x = torch.randn(T, input_size)
        with torch.no_grad():
            fused = median_ms(lambda: rnn(x.unsqueeze(1)), repeats)
            ours = median_ms(lambda: trace(rnn, x), repeats)
        print(f"{name:30s} {fused:9.2f} {ours:9.2f} {ours / fused:6.2f}")


if __name__ == "__main__":
    main()
