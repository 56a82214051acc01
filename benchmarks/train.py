"""Print the trainer's speed relative to a bare PyTorch loop, and the cost of the live chart.

Run: ``python benchmarks/train.py [--threads N]``. The Train page's default run: an LSTM with
hidden_size 16 forecasting the shipped CO2 series (windows of 48, batch 32, Adam at 1e-2, clip
1.0, seed 0). The bare loop is the five lines anyone would write (batch, forward, MSE, backward,
clip, step) on the same model, batches and seed; both are run in alternating chunks of
``chunk`` steps and the median of the paired ratios (trainer steps/s ÷ bare steps/s) printed:

* ``trainer, evaluation at the end only``: the trainer's own per-step work (loss read-out, the
  per-tensor gradient norms and finiteness check, the copy of the weights kept for a rollback,
  the history). Target ≥ 0.9.
* ``trainer, default (eval every 10 + diagnostics)`` and ``... without diagnostics``: what the
  page runs, validation over the whole series included, so the cost of evaluation shows.
* ``tbptt 12``: both sides run each window in 4 chunks (the bare loop writes them out); the
  chunking itself costs about 2x against full BPTT on this small model (4 small fused calls and
  4 backward passes instead of one), which is the price of the feature, not of the trainer.
* ``with a chart refresh every 0.5 s``: the page's rhythm: train for a 0.5 s slice, then build
  the loss figure (``charts.loss_curve``) and serialise it (``plotly.io.to_json``), as
  ``st.plotly_chart`` does. Prints the cost per refresh and the overall ratio.

Then the cost per refresh for longer histories, and the rollback copy's share of a step.
Single process, CPU, float32; ratios, not absolute times, are the point on a shared machine.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import plotly.io

from explorer import build_model, charts
from explorer.tasks import ForecastTask, load_series
from explorer.training import TrainConfig, Trainer, make_optimizer

BUDGET = 10**9  # the trainer never reaches its budget while benchmarked


class BareLoop:
    """The reference: what a PyTorch user writes, nothing else."""

    def __init__(self, task, config: TrainConfig):
        self.task, self.config = task, config
        self.model = build_model("lstm", 1, 16, seed=0)
        self.optimizer = make_optimizer(self.model.parameters(), config)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.loss_fn = torch.nn.MSELoss()

    def run(self, max_steps: int) -> None:
        k = self.config.tbptt
        for _ in range(max_steps):
            x, y = self.task.train_batch(self.config.batch_size, self.generator)
            self.optimizer.zero_grad(set_to_none=True)
            if k is None:
                self.loss_fn(self.model(x), y).backward()
            else:  # truncated BPTT written out: chunks of k, state detached between them
                state, W = None, x.shape[0]
                for s in range(0, W, k):
                    out, state = self.model.rnn(x[s:s + k], state)
                    (self.loss_fn(self.model.head(out), y[s:s + k]) * (out.shape[0] / W)).backward()
                    state = tuple(t.detach() for t in state)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_norm)
            self.optimizer.step()


def paired_ratio(task, config: TrainConfig, chunk: int, rounds: int) -> tuple[float, float, float]:
    """Median steps/s of the bare loop and the trainer, and the median paired ratio."""
    bare = BareLoop(task, config)
    trainer = Trainer(build_model("lstm", 1, 16, seed=0), task, config)
    trainer.status = "running"
    bare.run(chunk), trainer.run(max_steps=chunk)  # warm-up
    rb, rt, ratios = [], [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        bare.run(chunk)
        t1 = time.perf_counter()
        trainer.run(max_steps=chunk)
        t2 = time.perf_counter()
        rb.append(chunk / (t1 - t0))
        rt.append(chunk / (t2 - t1))
        ratios.append((t1 - t0) / (t2 - t1))
    return statistics.median(rb), statistics.median(rt), statistics.median(ratios)


def refresh_ms(history: list[dict], repeats: int = 7) -> float:
    """Median time to build the loss figure and serialise it, in ms."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        plotly.io.to_json(charts.loss_curve(history), validate=False)
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def with_chart(task, config: TrainConfig, rounds: int, period: float = 0.5):
    """The page's rhythm, paired: a cycle trains for ``period`` minus the last redraw, then
    redraws; the bare loop then takes as many steps and is timed. Returns (bare steps/s,
    trainer steps/s, median of the paired ratios, median redraw ms)."""
    trainer = Trainer(build_model("lstm", 1, 16, seed=0), task, config)
    trainer.status = "running"
    bare = BareLoop(task, config)
    trainer.run(max_steps=20), bare.run(20)  # warm-up
    draw, redraws, rb, rt, ratios = 0.0, [], [], [], []
    for _ in range(rounds):
        t0, before = time.perf_counter(), trainer.step
        trainer.run(seconds=max(0.0, period - draw))
        t1 = time.perf_counter()
        plotly.io.to_json(charts.loss_curve(trainer.history), validate=False)
        t2 = time.perf_counter()
        n = trainer.step - before
        bare.run(n)
        t3 = time.perf_counter()
        draw = t2 - t1
        redraws.append(draw)
        rt.append(n / (t2 - t0))
        rb.append(n / (t3 - t2))
        ratios.append((t3 - t2) / (t2 - t0))
    return (statistics.median(rb), statistics.median(rt), statistics.median(ratios),
            1000 * statistics.median(redraws))


def main(chunk: int = 50, rounds: int = 15, chart_rounds: int = 12) -> None:
    task = ForecastTask(load_series("co2").to_numpy())
    base = TrainConfig(steps=BUDGET)
    print(f"LSTM hidden 16, CO2 windows of 48, batch 32, Adam 1e-2, clip 1.0; "
          f"threads={torch.get_num_threads()}; {rounds} alternating chunks of {chunk} steps")
    print(f"{'run':48s} {'bare/s':>8s} {'ours/s':>8s} {'ratio':>6s}")
    cases = [
        ("trainer, evaluation at the end only", TrainConfig(steps=BUDGET, eval_every=BUDGET)),
        ("trainer, default (eval every 10 + diagnostics)", base),
        ("trainer, eval every 10, no diagnostics", TrainConfig(steps=BUDGET, diagnostics=False)),
        ("trainer, eval at end, tbptt 12", TrainConfig(steps=BUDGET, eval_every=BUDGET, tbptt=12)),
    ]
    for name, config in cases:
        b, t, r = paired_ratio(task, config, chunk, rounds)
        print(f"{name:48s} {b:8.0f} {t:8.0f} {r:6.2f}")
    for name, config in [("eval at end + chart refresh every 0.5 s", cases[0][1]),
                         ("default + chart refresh every 0.5 s", base)]:
        b, t, r, ms = with_chart(task, config, chart_rounds)
        print(f"{name:48s} {b:8.0f} {t:8.0f} {r:6.2f}   (median refresh {ms:.1f} ms)")

    print("\nloss chart refresh (loss_curve + plotly.io.to_json), by history length:")
    for n in (300, 2_000, 20_000):
        history = [{"step": i + 1, "train_loss": 1.0 / (i + 1), "grad_norm": 1.0,
                    **({"val_loss": 1.1 / (i + 1)} if (i + 1) % 10 == 0 else {})}
                   for i in range(n)]
        ms = refresh_ms(history)
        print(f"  {n:6,d} steps: {ms:6.1f} ms per refresh = {ms / 5:4.1f} % of a 0.5 s period")

    model = build_model("lstm", 1, 16, seed=0)
    params = list(model.parameters())
    saved = [p.detach().clone() for p in params]
    t0 = time.perf_counter()
    for _ in range(2000):
        with torch.no_grad():
            torch._foreach_copy_(saved, params)
    copy_us = (time.perf_counter() - t0) / 2000 * 1e6
    print(f"\nrollback copy of the weights ({sum(p.numel() for p in params):,} numbers): "
          f"{copy_us:.1f} µs per step")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own choice)")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    main(rounds=args.rounds)
