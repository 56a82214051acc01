"""Training in worker processes (explorer.workers): the same steps as one uninterrupted run in
this process, bit for bit, through pauses; a worker that dies costs only its own run.

Every wait below is for a number of steps, never for a time; the deadline only stops a hung
test."""

import os
import time

import pytest
import torch

from explorer import build_model
from explorer.compare import Comparison
from explorer.config import CellConfig
from explorer.tasks import build_task
from explorer.training import TrainConfig, Trainer
from explorer.workers import LiveRun, TrainingPool, absorb, pack_state, pack_static, train_slice

DEADLINE = 600  # seconds: a hung run, not a slow machine


@pytest.fixture(scope="module")
def pool():
    p = TrainingPool(2)
    yield p
    p.shutdown()


def _trainer(task, steps=200, seed=3, optimizer="adam", cell="lstm"):
    model = build_model(cell, task.input_size, 8, output_size=task.output_size, seed=seed)
    return Trainer(
        model, task, TrainConfig(steps=steps, optimizer=optimizer, seed=seed, eval_every=25)
    )


def _wait(run, until):
    end = time.monotonic() + DEADLINE
    while not until():
        assert time.monotonic() < end, "the run made no progress"
        run.poll()
        time.sleep(0.02)


def _same_run(a: Trainer, b: Trainer):
    assert a.step == b.step
    assert [r["train_loss"] for r in a.history] == [r["train_loss"] for r in b.history]
    assert [r.get("val_loss") for r in a.history] == [r.get("val_loss") for r in b.history]
    assert a.eval_steps == b.eval_steps
    for (name, p), q in zip(a.model.state_dict().items(), b.model.state_dict().values()):
        assert torch.equal(p, q), name
    for name in a.grad_norms:
        assert a.grad_norms[name] == b.grad_norms[name], name


@pytest.mark.parametrize("optimizer", ["adam", "sgd_momentum"])
def test_pause_and_resume_in_workers_equal_one_uninterrupted_run(pool, one_thread, optimizer):
    """Three pauses in the middle of a run (a budget no machine finishes in one slice), then
    the same number of steps in one go in this process: the same run, bit for bit."""
    task = build_task("sine")
    tr = _trainer(task, steps=1_000_000, optimizer=optimizer)
    run = LiveRun(tr, pool)
    for _ in range(3):  # start, pause, resume, pause, ...
        tr.status = "running"
        run.start()
        target = tr.step + 40
        _wait(run, lambda target=target: tr.step >= target)
        run.halt()
        tr.status = "paused"
    assert run.slices >= 3 and run.failure is None  # each start trained at least one slice
    solo = _trainer(task, steps=1_000_000, optimizer=optimizer)
    solo.run(max_steps=tr.step)  # one thread, as the workers train
    _same_run(tr, solo)


def test_a_comparison_trains_in_lockstep_in_a_worker(pool, one_thread):
    task = build_task("adding", lag=10)
    config = CellConfig("lstm", 2, 6, seed=1)
    train = TrainConfig(steps=60, batch_size=16, lr=1e-2, diagnostics=False)
    solo = Comparison(task, config, train)
    solo.status = "running"
    solo.run()
    comp = Comparison(task, config, train)
    run = LiveRun(comp, pool)
    comp.status = "running"
    run.start()
    _wait(run, lambda: comp.step >= 20)
    run.halt()
    comp.status = "paused"
    comp.status = "running"
    run.start()
    _wait(run, lambda: comp.status == "done")
    for cell in solo.trainers:
        _same_run(comp.trainers[cell], solo.trainers[cell])


def test_absorb_keeps_the_evaluation_object_when_no_new_evaluation_came(one_thread):
    """Views cache figures on the evaluation's identity: a slice without one keeps it."""
    task = build_task("sine")
    tr = _trainer(task)
    tr.run(max_steps=25)  # step 25: an evaluation
    kept = tr.last_eval
    state, log, info = train_slice(pack_static(tr), pack_state(tr), None, 10)  # 26..35: none
    absorb(tr, state, [log])
    assert tr.step == 35 and info["steps"] == 10 and tr.last_eval is kept
    state, log, _ = train_slice(pack_static(tr), pack_state(tr), None, 10)  # 36..45: none
    absorb(tr, state, [log])
    state, log, _ = train_slice(pack_static(tr), pack_state(tr), None, 5)  # 46..50: one at 50
    absorb(tr, state, [log])
    assert tr.last_eval is not kept and tr.eval_steps == [25, 50]


class DyingTask:
    """The sine task, but the process that draws batch number ``die_at`` exits at once (a
    worker killed mid-run), every time."""

    def __init__(self, die_at: int):
        self.inner, self.die_at, self.drawn = build_task("sine"), die_at, 0

    def __getattr__(self, name):
        if name.startswith("__") or "inner" not in self.__dict__:
            raise AttributeError(name)
        return getattr(self.inner, name)

    def train_batch(self, batch_size, generator):
        self.drawn += 1
        if self.drawn >= self.die_at and os.getpid() != self.parent:
            os._exit(3)
        return self.inner.train_batch(batch_size, generator)


def test_a_worker_that_dies_stops_only_its_own_run_with_a_message(pool, one_thread):
    task = build_task("sine")
    solo = _trainer(task, steps=300)
    solo.run()
    healthy = _trainer(task, steps=300)
    bad_task = DyingTask(die_at=1)
    bad_task.parent = os.getpid()
    doomed = _trainer(build_task("sine"), steps=300)
    doomed.task = bad_task
    runs = [LiveRun(healthy, pool), LiveRun(doomed, pool)]
    for run in runs:
        run.job.status = "running"
        run.start()
    end = time.monotonic() + DEADLINE
    while healthy.status != "done" or runs[1].training:
        assert time.monotonic() < end
        for run in runs:
            run.poll()
        time.sleep(0.02)
    assert runs[1].failure and "stopped unexpectedly" in runs[1].failure
    assert doomed.step == 0  # nothing it had is lost: the state it was sent
    assert pool.restarts >= 1
    assert runs[0].failure is None
    _same_run(healthy, solo)  # the other student's run went on, resubmitted where it was


def test_a_killed_worker_is_replaced_and_the_runs_go_on_bit_exact(pool, one_thread):
    task = build_task("sine")
    solo = _trainer(task, steps=400, seed=5)
    solo.run()
    tr = _trainer(task, steps=400, seed=5)
    run = LiveRun(tr, pool)
    tr.status = "running"
    run.start()
    _wait(run, lambda: tr.step >= 20)
    before = pool.restarts
    for pid in pool.worker_pids():
        os.kill(pid, 9)
    _wait(run, lambda: tr.status == "done" or run.failure is not None)
    assert run.failure is None, run.failure
    assert pool.restarts > before
    _same_run(tr, solo)


def test_slow_motion_takes_at_most_the_set_rate(pool, one_thread):
    task = build_task("sine")
    tr = _trainer(task, steps=10_000)
    run = LiveRun(tr, pool)
    run.rate = 10.0  # steps per second
    tr.status = "running"
    start = time.monotonic()
    run.start()
    _wait(run, lambda: tr.step >= 12)
    run.halt()
    took = time.monotonic() - start
    # an upper bound on the rate only: a slow machine can only make it slower
    assert tr.step <= 10.0 * took + 5, (tr.step, took)


def test_inline_pool_trains_at_each_poll(one_thread):
    task = build_task("sine")
    tr = _trainer(task, steps=50)
    run = LiveRun(tr, TrainingPool(inline=True))
    tr.status = "running"
    run.start()
    assert tr.step == 0  # nothing happens between polls
    while tr.status == "running":
        run.poll()
    solo = _trainer(task, steps=50)
    solo.run()
    _same_run(tr, solo)


def test_callbacks_stay_on_the_page_side_of_the_pipes(one_thread):
    """A session's trainer with a callback no pickle can carry trains through a LiveRun as one
    without: the run is packed without its callbacks, trained where they are not (the copy a
    slice unpacks), and every merge keeps the session's own."""
    task = build_task("sine")
    tr = _trainer(task, steps=50)
    heard = []
    tr.add_callback("on_step_end", lambda t, record: heard.append(record["step"]))
    run = LiveRun(tr, TrainingPool(inline=True))
    run.pool.inline_steps = 7  # several merges, one in the middle of an evaluation interval
    tr.status = "running"
    run.start()
    while tr.status == "running":
        run.poll()
    assert heard == [] and run.slices == 8  # the steps were taken by the slices' copies
    solo = _trainer(task, steps=50)
    solo.run()
    _same_run(tr, solo)
    tr.extend(5)  # and the session's callback is still there when it trains here
    tr.run()
    assert heard == [51, 52, 53, 54, 55]


@pytest.mark.parametrize("first", [60, 137])
def test_train_n_more_steps_equals_one_longer_run(one_thread, first):
    """A finished run given 90 more steps ends where a run with the larger budget ends: the same
    weights and training losses bit for bit (the old budget's evaluation stays in the log)."""
    task = build_task("sine")
    longer = _trainer(task, steps=first + 90)
    longer.run()
    tr = _trainer(task, steps=first)
    tr.run()
    assert tr.status == "done"
    tr.extend(90)
    assert tr.status == "paused" and tr.config.steps == first + 90
    tr.run()
    assert tr.step == longer.step == first + 90 and tr.status == "done"
    assert [r["train_loss"] for r in tr.history] == [r["train_loss"] for r in longer.history]
    for p, q in zip(tr.model.state_dict().values(), longer.model.state_dict().values()):
        assert torch.equal(p, q)
    with pytest.raises(ValueError, match="positive integer"):
        tr.extend(0)


def test_a_comparison_gets_more_steps_too(one_thread):
    task = build_task("adding", lag=5)
    config = CellConfig("lstm", 2, 4, seed=2)
    comp = Comparison(task, config, TrainConfig(steps=20, batch_size=8, diagnostics=False))
    comp.status = "running"
    comp.run()
    assert comp.status == "done"
    comp.extend(10)
    assert comp.status == "paused" and all(t.config.steps == 30 for t in comp.trainers.values())
    comp.status = "running"
    comp.run()
    assert comp.step == 30 and comp.status == "done"


def test_a_run_nobody_polls_stops_training_and_goes_on_at_the_next_poll(
    pool, one_thread, monkeypatch
):
    """A closed tab polls no more: its run stops chaining slices (it would train for nobody),
    keeps every step taken, and trains on as soon as a page polls it again."""
    import explorer.workers as workers

    monkeypatch.setattr(workers, "ORPHAN_AFTER", 0.0)  # any slice finds it unpolled
    tr = _trainer(build_task("sine"), steps=10_000)
    run = LiveRun(tr, pool)
    tr.status = "running"
    run.start()
    end = time.monotonic() + DEADLINE
    while run.training:  # the first slice back finds nobody polled since: the chain stops
        assert time.monotonic() < end
        time.sleep(0.02)
    assert pool.active == 0 or id(run) not in pool._active
    monkeypatch.setattr(workers, "ORPHAN_AFTER", 3600.0)
    run.poll()  # a page looks again: merged, and the chain goes on
    first = tr.step
    assert first > 0 and run.training
    _wait(run, lambda: tr.step > first)
    run.halt()


def test_a_slice_leaves_room_for_one_step_and_long_steps_go_one_at_a_time():
    """A slice stops at the first step ending after its seconds: the step measured in the last
    slice is taken off its share (a Pause waits for at most one share), and steps longer than
    the share go one at a time."""
    from explorer.workers import MIN_SLICE, _slice_length

    share = 0.25
    assert _slice_length(share, 0.0) == (share, None)
    assert _slice_length(share, share / 4) == (pytest.approx(share * 3 / 4), None)
    assert _slice_length(share, share * 2) == (MIN_SLICE, 1)
    assert _slice_length(share, share - MIN_SLICE / 2) == (MIN_SLICE, None)  # never below


def test_a_worker_idle_after_training_is_replaced_by_a_fresh_process(one_thread):
    """Once its run has ended and it stayed idle, a worker is a new process (its memory went
    back to the system); that is not counted as a death, and the next run trains bit-exact."""
    pool = TrainingPool(1, recycle_after=0.2)
    try:
        task = build_task("sine")
        first = pool.worker_pids()
        tr = _trainer(task, steps=30)
        run = LiveRun(tr, pool)
        tr.status = "running"
        run.start()
        _wait(run, lambda: tr.status == "done")
        end = time.monotonic() + DEADLINE
        while pool.worker_pids() == first:
            assert time.monotonic() < end, "the idle worker was never replaced"
            time.sleep(0.05)
        assert pool.recycled >= 1 and pool.restarts == 0
        again = _trainer(task, steps=60, seed=9)
        run = LiveRun(again, pool)
        again.status = "running"
        run.start()
        _wait(run, lambda: again.status == "done")
        solo = _trainer(task, steps=60, seed=9)
        solo.run()
        _same_run(again, solo)
    finally:
        pool.shutdown()


def test_a_worker_that_never_trained_is_kept(one_thread):
    pool = TrainingPool(1, recycle_after=0.05)
    try:
        first = pool.worker_pids()
        time.sleep(0.5)  # an upper bound: on any machine, nothing may replace it
        assert pool.worker_pids() == first and pool.recycled == 0
    finally:
        pool.shutdown()
