"""Print how long the what-if clamps (``explorer.clamps.clamped_trace``) take next to a bare loop
of ``torch.nn`` cells (``LSTMCell``/``GRUCell``/``RNNCell``) over the same sequence.

Run: ``python benchmarks/clamps.py``. Each line: the configuration, both median times (ms), the
median of the paired ratios clamps / cell loop, and the clamps' time per step (µs). Both run a
Python loop over time, so the ratio shows what the step functions of ``explorer.cells`` add per
step (the clamps also keep every gate). Single process, CPU, float32, no autograd; the timing
helper is ``benchmarks/trace.py``'s.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from explorer.clamps import clamped_trace  # noqa: E402

_spec = importlib.util.spec_from_file_location("trace_benchmark", ROOT / "benchmarks" / "trace.py")
_trace_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_trace_benchmark)
paired_ms = _trace_benchmark.paired_ms  # the trace benchmark's alternate timing

CASES = [  # name, module, its one-step cell, clamps
    ("LSTM, f = 1", torch.nn.LSTM, torch.nn.LSTMCell, {"f": 1.0}),
    ("LSTM, no clamp", torch.nn.LSTM, torch.nn.LSTMCell, {}),
    ("GRU, z = 1", torch.nn.GRU, torch.nn.GRUCell, {"z": 1.0}),
    ("RNN tanh", torch.nn.RNN, torch.nn.RNNCell, {}),
]


def cell_loop(cell: torch.nn.Module, x: torch.Tensor, lstm: bool) -> None:
    """The bare loop: one ``torch.nn`` cell call per step, nothing kept."""
    h = torch.zeros(1, cell.hidden_size)
    state = (h, h) if lstm else h
    for x_t in x.unsqueeze(1):  # (1, input_size)
        state = cell(x_t, state)


def main(T: int = 500, hidden: int = 64, input_size: int = 8, repeats: int = 21) -> None:
    torch.manual_seed(0)
    print(
        f"T={T}, hidden_size={hidden}, input_size={input_size}, threads={torch.get_num_threads()}"
    )
    print(f"{'case':16s} {'cells ms':>9s} {'clamps ms':>10s} {'ratio':>6s} {'µs/step':>8s}")
    for name, cls, cell_cls, clamps in CASES:
        rnn, cell = cls(input_size, hidden).eval(), cell_cls(input_size, hidden).eval()
        x = torch.randn(T, input_size)
        lstm = cls is torch.nn.LSTM
        with torch.no_grad():
            loop, ours, ratio = paired_ms(
                lambda: cell_loop(cell, x, lstm), lambda: clamped_trace(rnn, x, clamps), repeats
            )
        print(f"{name:16s} {loop:9.2f} {ours:10.2f} {ratio:6.2f} {1000 * ours / T:8.1f}")


if __name__ == "__main__":
    main()
