"""Print the trainer's speed relative to a bare PyTorch loop, with and without the live chart.

Run: ``python benchmarks/train.py [--threads N] [--rounds R]``. The Train page's default run: an
LSTM with hidden_size 16 forecasting the shipped CO2 series (windows of 48, batch 32, Adam at
1e-2, clip 1.0, seed 0, ``TrainConfig()`` otherwise: evaluation every 10 steps, diagnostics on).

The reference is the bare loop anyone would write on the same model, batches and seed: batch,
forward, MSE, backward, ``clip_grad_norm_``, ``optimizer.step()``, with torch's own default
optimiser (``torch.optim.Adam(params, lr=1e-2)``). Each line is the median of paired ratios
(trainer steps/s ÷ bare steps/s), one pair per round, twice: by the wall clock (``ratio``, the
issue's measure) and by CPU time (``cpu``, ``time.process_time``: the work each side did, which
stays steady when other processes take the cores in turns; with ``--threads 2`` it also counts
the second thread's time, so read ``ratio`` there):

* chunks of 50 steps, the two sides in alternating order: the trainer's own per-step work
  (``evaluation at the end only``), then with validation every 10 steps, with the
  hidden-gradient diagnostics at every evaluation (the old default, ``diagnostics_every=None``)
  and on their default time budget. ``tbptt 12``: both sides run each window in 4 chunks (the
  bare loop writes them out). The trainer can beat the bare loop: its optimiser runs torch's
  foreach kernels (the same numbers, bit for bit) and its clipping reuses the norms it
  computes anyway, where ``clip_grad_norm_`` computes them again.
* ``page default with the live chart`` (the headline): the page's rhythm. The run is trained in
  a worker process (``explorer.workers``: chained slices of at most 0.25 s, the state sent as
  bytes), while this process, as the page does, merges what came back and redraws the loss
  curve every 0.4 s (``loss_chart.loss_curves`` through ``show_loss_curves``, Streamlit in bare mode:
  the rows converted to Arrow and the spec serialised as on the page). A round is 3 s of that;
  the bare loop then takes as many steps in this process. Wall clock only: the training's CPU
  time is the worker's.
* ``... every chart``: the same with, each redraw, every chart the Train page draws for a
  forecast (loss, forecast, gradient norm per tensor, hidden-gradient profile; the page itself
  rebuilds the last three only after a new evaluation), for information.
* ``the default 300-step run, start to finish``: ``TrainConfig()`` as the page makes it, from
  a new trainer to "done" through the worker, merged every 20 ms, against 300 bare steps.

Then the cost of each piece (a training step, a
validation, a diagnostic, a loss-chart redraw by history length). Single process, CPU,
float32; ratios, not absolute times, are the point on a shared machine: run it a few times.
With two threads on two cores that other processes also use, OpenMP's threads wait on each
other and single rounds slow down 10-50x at random: ``--threads 2`` is then noise (the page
trains small models on one thread).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

import streamlit.config
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from explorer import build_model, charts
from explorer.datasets import load_series
from explorer.tasks import ForecastTask
from explorer.training import OPTIMIZERS, TrainConfig, Trainer, hidden_grad_norms
from explorer.ui import show_chart, show_loss_curves
from explorer.ui.controller import TICK
from explorer.workers import LiveRun, TrainingPool

# Streamlit in bare mode (no `streamlit run`): silence its warnings about it
streamlit.config.set_option("global.showWarningOnDirectExecution", False)
for _name in list(logging.root.manager.loggerDict):
    if _name.startswith("streamlit"):
        logging.getLogger(_name).setLevel(logging.ERROR)

BUDGET = 10**9  # the trainer never reaches its budget while benchmarked
# the page redraws every TICK = 0.4 s while few runs train; a round of the page rhythm lasts
# this many seconds
ROUND = 3.0


def _model():
    return build_model("lstm", 1, 16, seed=0)


class BareLoop:
    """The reference: what a PyTorch user writes, nothing else."""

    def __init__(self, task, config: TrainConfig):
        self.task, self.config = task, config
        self.model = _model()
        kwargs = dict(lr=config.lr, weight_decay=config.weight_decay)
        if config.optimizer == "sgd_momentum":
            kwargs["momentum"] = config.momentum
        self.optimizer = OPTIMIZERS[config.optimizer](self.model.parameters(), **kwargs)
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
                    out, state = self.model.rnn(x[s : s + k], state)
                    (
                        self.loss_fn(self.model.head(out), y[s : s + k]) * (out.shape[0] / W)
                    ).backward()
                    state = tuple(t.detach() for t in state)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_norm)
            self.optimizer.step()


def _now() -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds of this process)."""
    return time.perf_counter(), time.process_time()


def _since(t0: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _now()
    return wall - t0[0], cpu - t0[1]


def _timed(f) -> tuple[float, float]:
    t0 = _now()
    f()
    return _since(t0)


def _medians(rb, rt, bare_times, our_times) -> dict:
    """Median steps/s of each side (wall clock) and the median paired ratios, by wall clock
    and by CPU time."""
    return dict(
        bare=statistics.median(rb),
        ours=statistics.median(rt),
        ratio=statistics.median(b[0] / t[0] for b, t in zip(bare_times, our_times)),
        cpu=statistics.median(b[1] / t[1] for b, t in zip(bare_times, our_times)),
    )


def paired_ratio(task, config: TrainConfig, chunk: int, rounds: int) -> dict:
    """Chunks of ``chunk`` steps, the two sides in alternating order."""
    bare = BareLoop(task, config)
    trainer = Trainer(_model(), task, config)
    bare.run(chunk), trainer.run(max_steps=chunk)  # warm-up
    rb, rt, tbs, tts = [], [], [], []
    for i in range(rounds):
        pair = [lambda: bare.run(chunk), lambda: trainer.run(max_steps=chunk)]
        if i % 2:  # alternate which side goes first
            tt, tb = _timed(pair[1]), _timed(pair[0])
        else:
            tb, tt = _timed(pair[0]), _timed(pair[1])
        rb.append(chunk / tb[0])
        rt.append(chunk / tt[0])
        tbs.append(tb)
        tts.append(tt)
    diff = max(
        (p - q).abs().max().item()
        for p, q in zip(bare.model.parameters(), trainer.model.parameters())
    )
    return dict(_medians(rb, rt, tbs, tts), diff=diff)


def redraw_loss(trainer: Trainer) -> None:
    """The live loss curve as the page draws it after each slice (``ui.train_controls.loss_chart``:
    the curve with the naive forecast's loss as a dashed baseline)."""
    result = trainer.last_eval
    baselines = () if result is None else ((f"baseline: {result.baseline_label}", result.baseline),)
    show_loss_curves({"model": trainer.history}, log_y=True, references=baselines, alt="loss")


def redraw_all(trainer: Trainer) -> None:
    """Every chart the Train page can draw in a refresh."""
    redraw_loss(trainer)
    result = trainer.last_eval or trainer.evaluate()
    dates = load_series("co2").index[result.index]
    show_chart(
        charts.forecast(dates, result.truth, result.prediction, result.naive, unit="ppm"),
        key="forecast_chart",
    )
    show_chart(charts.grad_norm_history(trainer.eval_steps, trainer.grad_norms), key="grad_chart")
    if trainer.hidden_grads is not None:
        show_chart(
            charts.hidden_grad_profile(
                trainer.hidden_grads,
                latest_step=trainer.hidden_grad_steps[-1],
                first=trainer.hidden_grad_history[0],
                first_step=trainer.hidden_grad_steps[0],
            ),
            key="hidden_chart",
        )


def page_rhythm(pool, task, config: TrainConfig, rounds: int, redraw=redraw_loss) -> dict:
    """The page's rhythm, paired: a round is ``ROUND`` seconds of a run trained by ``pool``'s
    worker processes (:class:`explorer.workers.LiveRun`) while this process, as the page does,
    merges and redraws every ``TICK`` seconds, then paused (the worker trains on its own and
    would go on during the bare loop); the bare loop then takes as many steps, timed. The first
    round (the workers' warm-up) is not counted."""
    trainer, bare = Trainer(_model(), task, config), BareLoop(task, config)
    run = LiveRun(trainer, pool)
    trainer.status = "running"
    run.start()
    rb, rt, tbs, tts, draws = [], [], [], [], []
    for i in range(rounds):
        if i:
            trainer.status = "running"
            run.start()
        before = trainer.step
        t0 = _now()
        while _since(t0)[0] < ROUND:
            time.sleep(max(0.0, TICK - (_since(t0)[0] % TICK)))
            t1 = _now()
            run.poll()
            redraw(trainer)
            draws.append(_since(t1)[0])
        run.halt()  # the worker would train on while the bare loop is timed below
        trainer.status = "paused"
        tt = _since(t0)  # up to the end of the slice the halt waited for
        n = trainer.step - before
        tb = _timed(lambda: bare.run(n))
        if i == 0 or n == 0:
            continue
        rt.append(n / tt[0])
        rb.append(n / tb[0])
        tbs.append(tb)
        tts.append((tt[0], tt[0]))  # the workers' CPU is not this process's: wall clock only
    r = _medians(rb, rt, tbs, tts)
    r.update(
        cpu=float("nan"),
        draw_ms=1000 * statistics.median(draws),
        steps=trainer.step,
        slices=run.slices,
    )
    return r


def default_run(pool, task, rounds: int) -> dict:
    """``TrainConfig()`` from a new trainer to done through the workers, merged every 20 ms,
    against 300 bare steps (the first of ``rounds + 1`` pairs is a warm-up)."""
    tbs, tts = [], []
    for _ in range(rounds + 1):
        config = TrainConfig()
        trainer, bare = Trainer(_model(), task, config), BareLoop(task, config)
        run = LiveRun(trainer, pool)
        t0 = _now()
        trainer.status = "running"
        run.start()
        while trainer.status == "running":
            time.sleep(0.02)
            run.poll()
        tts.append(_since(t0))
        tbs.append(_timed(lambda: bare.run(config.steps)))
    tbs, tts = tbs[1:], [(t[0], t[0]) for t in tts[1:]]
    steps = TrainConfig().steps
    r = _medians([steps / t[0] for t in tbs], [steps / t[0] for t in tts], tbs, tts)
    return dict(r, cpu=float("nan"), seconds=statistics.median(t[0] for t in tts))


def median_ms(f, repeats: int = 21) -> float:
    return 1000 * statistics.median(_timed(f)[0] for _ in range(repeats))


def costs(task) -> None:
    """What one of each piece costs, in ms and in training steps."""
    trainer = Trainer(_model(), task, TrainConfig(steps=BUDGET, eval_every=BUDGET))
    trainer.run(max_steps=100)
    step = median_ms(lambda: trainer.run(max_steps=1), 51)
    trainer.model.eval()
    val = median_ms(lambda: task.evaluate(trainer.model))
    trainer.model.train()
    diag = median_ms(
        lambda: hidden_grad_norms(trainer.model, *trainer._diag_batch, trainer.loss_fn)
    )
    print(
        f"\ncost of each piece: a training step {step:.2f} ms; a validation (whole series) "
        f"{val:.2f} ms = {val / step:.2f} steps; hidden_grad_norms {diag:.2f} ms = "
        f"{diag / step:.2f} steps"
    )
    print("loss chart redraw (loss_curves + st.vega_lite_chart), by history length:")
    for n in (300, 2_000, 20_000):
        history = [
            {
                "step": i + 1,
                "train_loss": 1.0 / (i + 1),
                "grad_norm": 1.0,
                **({"val_loss": 1.1 / (i + 1)} if (i + 1) % 10 == 0 else {}),
            }
            for i in range(n)
        ]

        def grown(history=history):  # one more step each time, as while training (a
            n = len(history) + 1  # history that did not grow is not drawn again)
            history.append({"step": n, "train_loss": 1.0 / n, "grad_norm": 1.0})
            show_loss_curves({"model": history}, alt="loss")

        ms = median_ms(grown, 7)
        print(
            f"  {n:6,d} steps: {ms:6.1f} ms per redraw = {ms / (10 * TICK):4.1f} % of the page "
            f"process's time at one redraw per {TICK:g} s"
        )


def _row(name: str, r: dict, note: str = "") -> None:
    print(
        f"  {name:56s} {r['bare']:7.0f} {r['ours']:7.0f} {r['ratio']:6.2f} {r['cpu']:6.2f}"
        + (f"   ({note})" if note else "")
    )


def main(chunk: int = 50, rounds: int = 15, page_rounds: int = 8) -> None:
    task = ForecastTask(load_series("co2").to_numpy())
    print(
        f"LSTM hidden 16, CO2 windows of 48, batch 32, Adam 1e-2, clip 1.0; "
        f"threads={torch.get_num_threads()}."
    )
    print(
        "ratio = trainer steps/s / bare-loop steps/s, median of paired rounds, by wall clock "
        "and by CPU time\n(the CPU-time ratio is the steadier one when other processes share "
        "the machine)"
    )
    print(
        f"\n{'chunks of ' + str(chunk) + ' steps, ' + str(rounds) + ' rounds':58s} "
        f"{'bare/s':>7s} {'ours/s':>7s} {'ratio':>6s} {'cpu':>6s}"
    )
    cases = [
        ("evaluation at the end only", TrainConfig(steps=BUDGET, eval_every=BUDGET)),
        ("eval every 10, no diagnostics", TrainConfig(steps=BUDGET, diagnostics=False)),
        (
            "eval every 10, diagnostics at every evaluation (old)",
            TrainConfig(steps=BUDGET, diagnostics_every=None),
        ),
        ("eval every 10, diagnostics every 0.25 s (default)", TrainConfig(steps=BUDGET)),
        ("evaluation at the end, tbptt 12", TrainConfig(steps=BUDGET, eval_every=BUDGET, tbptt=12)),
    ]
    for name, config in cases:
        r = paired_ratio(task, config, chunk, rounds)
        _row(
            name,
            r,
            "the same weights as the bare loop"
            if r["diff"] == 0
            else f"weights within {r['diff']:.1g} of the bare loop's",
        )

    pool = TrainingPool(1)  # one run trains in one worker at a time, whatever the pool
    print(
        f"\npage rhythm: the run trained in a worker process in chained slices, this process "
        f"merging and redrawing every {TICK:g} s; {page_rounds - 1} rounds of {ROUND:g} s "
        "after one warm-up round (wall clock only: the work is in another process)"
    )
    headline = None
    for name, config, redraw in [
        ("page default with the live chart", TrainConfig(steps=BUDGET), redraw_loss),
        (
            "page default, every chart (loss, forecast, norms, h_t)",
            TrainConfig(steps=BUDGET),
            redraw_all,
        ),
    ]:
        r = page_rhythm(pool, task, config, page_rounds, redraw)
        _row(
            name,
            r,
            f"redraw {r['draw_ms']:.1f} ms, {r['slices']} slices, history {r['steps']:,} steps",
        )
        headline = headline or r
    r = default_run(pool, task, max(5, rounds // 2))
    _row("the default 300-step run, start to finish", r, f"{r['seconds']:.2f} s")
    pool.shutdown()
    print(
        f"\nHEADLINE page default with the live chart: {headline['ratio']:.2f} of a bare loop "
        "by the wall clock (target >= 0.9)"
    )
    costs(task)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads of this process (default 1, as the workers train)",
    )
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    main(rounds=args.rounds)
