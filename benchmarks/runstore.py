"""Print what persisting a run costs: the write cost per checkpoint, the size per run, and the
time from the store back to a Trainer (and to a curve).

Run: ``python benchmarks/runstore.py [--repeat N] [--train-long]``. The run is the Train page's
default: an LSTM of 16 units on the monthly CO2 forecast task with the default
``TrainConfig`` (Adam, 300 steps). It is measured twice: after its 300 steps, and with 20,000
steps of history. The 20,000-step history is the 300-step run's records repeated (renumbered)
up to 20,000 steps, with an evaluation every 10 steps and a hidden-gradient diagnostic every 40
(about what 0.25 s of diagnostics spacing gives at ~160 steps/s), so that its size is a real
one without training for minutes; ``--train-long`` trains the 20,000 steps instead (a line of
progress every 2,000 steps, printed by the trainer's callbacks).

For each: ``checkpoint()`` (Trainer -> JSON + tensors), ``save_checkpoint`` (one SQLite
transaction in WAL mode, ``synchronous=NORMAL`` and ``FULL``), the run's stored bytes and the
file's growth, ``load`` (all blobs) + ``restore`` (a new Trainer), and ``load(history_only)``
(what a curve needs). Medians of ``--repeat`` runs, in ms: wall clock and, in brackets, this
thread's CPU time. The machine is shared by several people: figures are noisy; run it a few
times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.checkpoint import checkpoint, restore  # noqa: E402
from explorer.config import CellConfig  # noqa: E402
from explorer.models import build_from_config  # noqa: E402
from explorer.runstore import Limits, SQLiteRunStore, new_owner_token  # noqa: E402
from explorer.tasks import build_task  # noqa: E402
from explorer.training import TrainConfig, Trainer  # noqa: E402


def timed(fn, repeat):
    """``(result, median wall-clock ms, median CPU ms of this thread)``: the CPU time is less
    sensitive to the other processes on the machine."""
    times, cpu, out = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.thread_time()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
    return out, statistics.median(times), statistics.median(cpu)


def lengthen(tr: Trainer, steps: int) -> None:
    """Repeat ``tr``'s records up to ``steps`` (see the module docstring)."""
    base = tr.history
    tr.history = [dict(base[i % len(base)], step=i + 1) for i in range(steps)]
    for r in tr.history:
        r.pop("val_loss", None)
        if r["step"] % 10 == 0:
            r["val_loss"] = base[9]["val_loss"]
    tr.eval_steps = list(range(10, steps + 1, 10))
    for name in tr.grad_norms:
        tr.grad_norms[name] = [tr.grad_norms[name][0]] * len(tr.eval_steps)
    tr.hidden_grad_steps = list(range(40, steps + 1, 40))
    tr.hidden_grad_history = [tr.hidden_grad_history[0]] * len(tr.hidden_grad_steps)
    tr.step = steps


def progress(tr: Trainer, step: int, evaluation) -> None:
    """An ``on_evaluate`` callback (:meth:`Trainer.add_callback`): a line every 2,000 steps."""
    if step % 2000 == 0:
        val = tr.history[-1]["val_loss"]
        print(f"  step {step:,} of {tr.config.steps:,}: validation loss {val:.4g}", flush=True)


def measure(label: str, tr: Trainer, config: CellConfig, repeat: int) -> None:
    print(
        f"\n{label}: {len(tr.history):,} steps of history, "
        f"{sum(p.numel() for p in tr.model.parameters()):,} parameters"
    )
    (meta, tensors), ck, ck_cpu = timed(
        lambda: checkpoint(tr, task_key="forecast", task_settings={}, model=config), repeat
    )
    print(f"  checkpoint() Trainer -> JSON + tensors: {ck:7.2f} ms (CPU {ck_cpu:.2f})")
    for sync in ("NORMAL", "FULL"):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "runs.sqlite3"
            store = SQLiteRunStore(path, Limits(synchronous=sync))
            owner = new_owner_token()
            run_id = store.create("train", owner, meta, tensors)
            _, w, w_cpu = timed(lambda: store.save_checkpoint(run_id, owner, meta, tensors), repeat)
            info = store.info(run_id)
            files = sum(p.stat().st_size for p in Path(folder).iterdir())
            print(
                f"  save_checkpoint, synchronous={sync:6}: {w:7.2f} ms (CPU "
                f"{w_cpu:.2f}); stored {info.bytes:,} bytes per run, files on disk "
                f"{files:,} bytes"
            )
            if sync == "NORMAL":
                history_bytes = sum(
                    t.numel() * t.element_size()
                    for k, t in tensors.items()
                    if k.startswith("history/")
                )
                print(
                    f"    of which history tensors {history_bytes:,} bytes, JSON meta "
                    f"{info.bytes - sum(t.numel() * t.element_size() for t in tensors.values()):,}"
                    f" bytes (with safetensors headers)"
                )
                fresh = SQLiteRunStore(path)
                _, lo, lo_cpu = timed(lambda: fresh.load(run_id), repeat)
                run = fresh.load(run_id)
                _, re, re_cpu = timed(lambda: restore(run.meta, run.tensors), repeat)
                _, both, both_cpu = timed(
                    lambda: restore(*(lambda r: (r.meta, r.tensors))(fresh.load(run_id))), repeat
                )
                _, hi, hi_cpu = timed(lambda: fresh.load(run_id, history_only=True), repeat)
                print(
                    f"  load {lo:7.2f} ms + restore {re:7.2f} ms = load-to-Trainer "
                    f"{both:7.2f} ms (CPU {both_cpu:.2f})"
                )
                print(
                    f"  load(history_only) (a curve, no weights): {hi:7.2f} ms (CPU {hi_cpu:.2f})"
                )


def measure_live(task, config: CellConfig, seconds: float) -> None:
    """What the page's :func:`explorer.ui.runs.autosave` costs its thread while the run trains
    in a worker process: merge the worker's newest state (``LiveRun.poll``), checkpoint, save
    (one transaction); once a second for ``seconds``, as the run grows."""
    from explorer.runstore import RunSaver
    from explorer.workers import LiveRun, TrainingPool

    pool = TrainingPool(1)
    tr = Trainer(build_from_config(config), task, TrainConfig(steps=1_000_000))
    live = LiveRun(tr, pool)
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteRunStore(Path(folder) / "runs.sqlite3")
        saver = RunSaver(store, new_owner_token())
        tr.status = "running"
        live.start()
        rows = []
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(1.0)
            t0, c0 = time.perf_counter(), time.thread_time()
            live.poll(train=False)
            saver.save(tr, task_key="forecast", task_settings={}, model=config, force=True)
            rows.append(
                (
                    tr.step,
                    (time.perf_counter() - t0) * 1000,
                    (time.thread_time() - c0) * 1000,
                    store.info(saver.run_id).bytes,
                )
            )
        live.halt()
        pool.shutdown()
    print("\nin the page while training in a worker (merge + checkpoint + save, once a second):")
    for step, wall, cpu, size in rows[:: max(1, len(rows) // 6)] + rows[-1:]:
        print(f"  at step {step:6,}: {wall:6.1f} ms (CPU {cpu:5.1f}), {size:,} bytes stored")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--train-long", action="store_true")
    parser.add_argument(
        "--live", type=float, default=20.0, help="seconds of saving while a worker trains (0: skip)"
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)  # this process only: a tiny model trains faster on a shared machine
    task = build_task("forecast")
    config = CellConfig(input_size=task.input_size, output_size=task.output_size)
    tr = Trainer(build_from_config(config), task, TrainConfig())
    t0 = time.perf_counter()
    tr.run()
    print(
        f"trained the default run: {tr.step} steps in {time.perf_counter() - t0:.1f} s "
        f"({tr.status})"
    )
    measure("default Train run after 300 steps", tr, config, args.repeat)
    if args.train_long:
        long = Trainer(build_from_config(config), task, TrainConfig(steps=20_000))
        long.add_callback("on_evaluate", progress)
        long.add_callback("on_end", lambda t, status, message: print(f"  {message}"))
        long.run()
    else:
        long = tr
        lengthen(long, 20_000)
    measure(
        "the same run with 20,000 steps of history"
        + ("" if args.train_long else " (records repeated)"),
        long,
        config,
        args.repeat,
    )
    if args.live:
        measure_live(task, config, args.live)


if __name__ == "__main__":
    main()
