"""Print the rates explorer/budget.py estimates cost with, measured on this machine.

Run: ``python benchmarks/budget.py``. Each line: a model, its parameters, the CPU seconds
(``time.process_time``, all threads) of one ``explorer.trace`` or one training step (forward,
backward, Adam), and the rate per parameter-step that budget.py's constants stand for
(``NS_PER_PARAMETER_STEP``; ``NS_PER_TRAINING_STEP`` + ``NS_PER_TRAINING_SAMPLE`` × batch). On a
shared machine the figures are noisy: budget.py takes the slower end, so its estimates err on
the side of refusing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from explorer import budget, build_from_config, trace  # noqa: E402
from explorer.config import CellConfig  # noqa: E402
from explorer.params import model_parameters  # noqa: E402

TRACES = [
    (CellConfig("lstm", 1, 1024, num_layers=4, bidirectional=True), 50),
    (CellConfig("lstm", 1, 1024), 400),
    (CellConfig("gru", 1, 256, num_layers=4), 400),
]
STEPS = [
    (CellConfig("lstm", 1, 256, num_layers=2), 50, 1),
    (CellConfig("lstm", 1, 256, num_layers=2), 50, 64),
    (CellConfig("lstm", 1, 1024), 20, 128),
]


def cpu(fn, repeats: int = 2) -> float:
    fn()  # warm-up
    t = time.process_time()
    for _ in range(repeats):
        fn()
    return (time.process_time() - t) / repeats


def main() -> None:
    for config, T in TRACES:
        rnn = build_from_config(config).rnn
        P = model_parameters(config)
        s = cpu(lambda: trace(rnn, torch.randn(T, 1)))
        print(
            f"trace {config.cell} H={config.hidden_size} L={config.num_layers} "
            f"D={config.D} T={T}: P={P:,}, {s:.2f} s CPU, "
            f"{s / (P * T) * 1e9:.2f} ns per parameter-step "
            f"(budget: {budget.NS_PER_PARAMETER_STEP})"
        )
    for config, W, B in STEPS:
        model = build_from_config(config)
        opt = torch.optim.Adam(model.parameters())
        x = torch.randn(W, B, 1)
        P = model_parameters(config)

        def step():
            opt.zero_grad()
            model(x).pow(2).mean().backward()
            opt.step()

        s = cpu(step)
        model_s = P * W * (budget.NS_PER_TRAINING_STEP + budget.NS_PER_TRAINING_SAMPLE * B) * 1e-9
        print(
            f"train step {config.cell} H={config.hidden_size} L={config.num_layers} window={W} "
            f"batch={B}: P={P:,}, {s:.3f} s CPU (budget estimates {model_s:.3f} s)"
        )


if __name__ == "__main__":
    main()
