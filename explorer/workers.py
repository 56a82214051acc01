"""Training off the page-serving thread: slices of a run trained in worker processes.

A Streamlit server is one Python process, and the GIL lets it use one core: a class of students
whose training loops run in the page threads shares that core with every page being served.
Here a run's steps are taken in a pool of worker processes (one per core), and the page's
thread only sends and receives bytes.

The session keeps the run's authoritative object (a :class:`~explorer.training.Trainer`, or a
:class:`~explorer.compare.Comparison` of three) in ``st.session_state``, as before. A
:class:`LiveRun` wraps it:

* ``start()`` pickles the run once, without its task and without its growing logs (the loss
  history and diagnostics only ever grow: a worker gets their last entry and returns the new
  ones), and submits a *slice*: "take steps for ``seconds``" (:func:`train_slice`).
* When a slice ends, its result is chained straight into the next slice from the pool's own
  thread, bytes to bytes: training goes on whether or not a page is drawing, and the server
  unpickles nothing until a page asks.
* ``poll()`` (a page's redraw) merges the latest state and every new log entry into the
  session's object. ``halt()`` (Pause, Stop, Reset) stops the chain and waits for the slice in
  flight, at most one slice (<= :data:`MAX_SLICE` seconds).

Pausing between slices gives the same weights as one uninterrupted run, bit for bit: a slice is
``run(seconds=...)`` on the whole state (weights, optimiser state, the batch generator), and
steps do not depend on where a slice ends.

Slices are short when many runs train: each run gets a result back about every
:data:`TARGET_GAP` seconds whatever the load, so every student's curve keeps moving (the pool is
first in, first out, and a run has at most one slice queued: round robin).

A worker that dies (killed, out of memory) breaks a ``ProcessPoolExecutor`` for every run in it;
the pool is replaced, and each of those slices is tried again from the state it was given
(nothing of it was lost), alone in a process of its own, one at a time: a slice that kills that
one too is the culprit, and its run stops with a message on its own page; the others go on.

``TrainingPool(inline=True)`` trains each slice in the caller's thread when the page polls:
for Streamlit's AppTest, where no fragment reruns on its own (set ``RNN_EXPLORER_TRAINING=inline``
to have the app's pool made that way).
"""
from __future__ import annotations

import contextlib
import copy
import multiprocessing
import os
import pickle
import queue
import sys
import threading
import time
import types
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

TARGET_GAP = 0.5  # seconds between two results of one run, whatever the load
MAX_SLICE = 0.25  # seconds: a slice in flight delays a Pause by at most this (or one step)
MIN_SLICE = 0.02  # seconds: below this the round trip's cost would dominate
# seconds without a poll after which a run stops training: its page is gone (a closed tab), or
# so busy that training on would only pile up work; the next poll takes it up again
ORPHAN_AFTER = 10.0
LOAD_MEMORY = 60.0  # seconds over which TrainingPool.load remembers its peak
# Fields of a Trainer that never change while it trains (sent to workers once per slice with the
# task, not pickled again and again) and the logs that only grow (a worker returns new entries).
STATIC = ("task", "_diag_batch", "_meta_cache")
LOGS = ("history", "eval_steps", "hidden_grad_history", "hidden_grad_steps")
TERMINAL = ("done", "diverged")  # a status a worker may set; others are the page's to set
INLINE_ENV = "RNN_EXPLORER_TRAINING"


def trainers(job) -> list:
    """The :class:`~explorer.training.Trainer` objects of ``job``: itself, or a
    :class:`~explorer.compare.Comparison`'s three."""
    return list(job.trainers.values()) if hasattr(job, "trainers") else [job]


def _light(trainer):
    """A shallow copy of ``trainer`` without its static fields and with only the last entry of
    each log (what training reads of them: the last loss for a divergence message, whether a
    diagnostic was taken yet)."""
    light = copy.copy(trainer)
    for name in STATIC:
        setattr(light, name, None)
    for name in LOGS:
        setattr(light, name, list(getattr(trainer, name)[-1:]))
    light.grad_norms = {name: [] for name in trainer.grad_norms}
    return light


def pack_static(job) -> bytes:
    """The parts of ``job`` that do not change while it trains (the task, each trainer's fixed
    diagnostics batch), pickled once per run."""
    return pickle.dumps({"task": getattr(job, "task", None),
                         "parts": [{n: getattr(t, n) for n in STATIC} for t in trainers(job)]},
                        protocol=pickle.HIGHEST_PROTOCOL)


def pack_state(job) -> bytes:
    """``job``'s training state (weights, optimiser, batch generator, counters, last log
    entries) without what :func:`pack_static` holds. ``job`` itself is not modified."""
    if hasattr(job, "trainers"):
        light = copy.copy(job)
        light.trainers = {key: _light(t) for key, t in job.trainers.items()}
        light.task = None
    else:
        light = _light(job)
    return pickle.dumps(light, protocol=pickle.HIGHEST_PROTOCOL)


def _attach(job, static: dict) -> None:
    if hasattr(job, "trainers"):
        job.task = static["task"]
    for t, part in zip(trainers(job), static["parts"]):
        for name, value in part.items():
            setattr(t, name, value)


def train_slice(static: bytes, state: bytes, seconds: float | None,
                max_steps: int | None = None) -> tuple[bytes, bytes, dict]:
    """Take steps on the run packed in ``static`` and ``state`` (see :func:`pack_state`) for
    ``seconds`` or ``max_steps`` steps (rounds, for a comparison). Runs in a worker process.

    Returns ``(state, log, info)``: the new state packed the same way; the log entries added
    (one dict per trainer: ``LOGS`` lists and ``grad_norms``); ``{"status", "step", "steps",
    "seconds"}`` (the steps' wall-clock time) to decide without unpickling whether to go on."""
    parts = pickle.loads(static)
    job = pickle.loads(state)
    _attach(job, parts)
    start = [{n: len(getattr(t, n)) for n in LOGS} for t in trainers(job)]
    began = time.perf_counter()
    taken = job.run(seconds=seconds, max_steps=max_steps)
    spent = time.perf_counter() - began
    log = [{**{n: getattr(t, n)[s[n]:] for n in LOGS}, "grad_norms": t.grad_norms}
           for t, s in zip(trainers(job), start)]
    return (pack_state(job), pickle.dumps(log, protocol=pickle.HIGHEST_PROTOCOL),
            {"status": job.status, "step": job.step, "steps": taken, "seconds": spent})


def absorb(job, state: bytes | None, logs: list[bytes]) -> None:
    """Merge a worker's ``state`` and ``logs`` (in order) into the session's ``job``: the logs
    appended and each trainer's ``step`` moved to its last entry; then, when ``state`` is
    given, every field from the worker except the static ones, the status only when the worker
    ended the run (budget, auto-stop, divergence: Pause and Stop are the page's). An evaluation
    the logs do not renew keeps its object (``last_eval``, ``hidden_grads``). Without ``state``
    (a light merge, for a redraw of the loss curve) the weights stay as they were."""
    evaluated = [False] * len(trainers(job))
    for blob in logs:
        for i, (t, entries) in enumerate(zip(trainers(job), pickle.loads(blob))):
            evaluated[i] |= bool(entries["eval_steps"])
            for name in LOGS:
                getattr(t, name).extend(entries[name])
            for name, norms in entries["grad_norms"].items():
                t.grad_norms.setdefault(name, []).extend(norms)
            if t.history:
                t.step = t.history[-1]["step"]
    if state is None:
        return
    new = pickle.loads(state)
    for t, n, fresh in zip(trainers(job), trainers(new), evaluated):
        kept = (*STATIC, *LOGS, "grad_norms", "status", "message")
        if not fresh and t.last_eval is not None:  # the same evaluation: the same object
            kept += ("last_eval", "hidden_grads")
        keep = {name: t.__dict__[name] for name in kept}
        t.__dict__.update(n.__dict__)
        t.__dict__.update(keep)
        if n.status in TERMINAL and t.status not in TERMINAL:
            t.status, t.message = n.status, n.message


def _init_worker() -> None:
    """Each worker trains one slice at a time on one core: one intra-op thread (more would make
    the workers wait on each other; this process serves no page). Then everything a first slice
    would otherwise wait for: the explorer's modules (a pickled run imports them) and one
    LSTM step (PyTorch sets up its kernels at the first call)."""
    import torch

    torch.set_num_threads(1)
    from . import compare, tasks, training  # noqa: F401 - imported for the slices to come

    lstm = torch.nn.LSTM(1, 2)
    lstm(torch.zeros(3, 1, 1))[0].sum().backward()


@contextlib.contextmanager
def _without_main():
    """Start processes that do not import ``__main__``. A spawned process imports the parent's
    main module first; inside a Streamlit server that is the page script being run, which would
    run the whole app in every worker. A stub without ``__file__`` or ``__spec__`` makes
    multiprocessing skip it (``multiprocessing.spawn.get_preparation_data``)."""
    main = sys.modules.get("__main__")
    stub = sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        if sys.modules.get("__main__") is stub:  # unless a script run has set its own since
            sys.modules["__main__"] = main


def _cores() -> int:
    """CPU cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _warm() -> int:
    return os.getpid()


class TrainingPool:
    """Worker processes shared by every session of the server (a server resource, like a
    database connection pool: it holds no user's data between slices).

    Args:
        workers: processes (default: the CPU cores this process may use).
        inline: train in the caller's thread at each poll instead (tests; no processes), for
            ``slice_seconds()`` or, when set, exactly ``inline_steps`` steps per poll.
    """

    inline_steps: int | None = None  # inline: steps per slice instead of seconds (tests)

    def __init__(self, workers: int | None = None, *, inline: bool = False):
        self.inline = inline
        self.workers = workers or _cores()
        self._lock = threading.Lock()
        self._active: dict[int, str | None] = {}  # runs whose chain is going -> their client
        self._peaks: list[tuple[float, int]] = []  # (time, runs training) at each change
        self._executor = None if inline else self._new_executor(self.workers)
        self.restarts = 0
        self._retries: queue.SimpleQueue = queue.SimpleQueue()
        self._retrier: threading.Thread | None = None

    @staticmethod
    def _new_executor(workers: int) -> ProcessPoolExecutor:
        # spawn: never fork a server that has threads (a forked lock could be held forever)
        ex = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_worker)
        with _without_main():  # the processes start here, one per submit
            for _ in range(workers):
                ex.submit(_warm)  # import torch in every worker now, not at a first Start
        return ex

    def submit(self, fn, *args) -> Future:
        """``fn(*args)`` in a worker (inline: now, in this thread). Never raises for a broken
        pool: the returned future holds the error."""
        if self.inline:
            fut: Future = Future()
            try:
                fut.set_result(fn(*args))
            except BaseException as err:  # noqa: BLE001 - handed to the run, as a worker's would be
                fut.set_exception(err)
            return fut
        with self._lock:
            executor = self._executor
        try:
            return executor.submit(fn, *args)
        except (BrokenProcessPool, RuntimeError) as err:
            fut = Future()
            fut.set_exception(err if isinstance(err, BrokenProcessPool) else BrokenProcessPool(str(err)))
            return fut

    def replace_broken(self) -> None:
        """A worker died: start a new pool (once, however many runs noticed)."""
        with self._lock:
            broken = self._executor
            if broken is None or not getattr(broken, "_broken", False):
                return
            self._executor = self._new_executor(self.workers)
            self.restarts += 1
        broken.shutdown(wait=False, cancel_futures=True)

    def retry_alone(self, fn, args: tuple, done) -> None:
        """Run ``fn(*args)`` again after a worker died, in a process of its own, one slice at a
        time: a slice that kills that process too is the one that killed the worker, and only
        its run hears of it. ``done(result, error)`` is called from the retrying thread
        (``error``: None, ``BrokenProcessPool`` for the culprit, or what ``fn`` raised)."""
        self._retries.put((fn, args, done))
        with self._lock:
            if self._retrier is None:
                self._retrier = threading.Thread(target=self._retry_loop, daemon=True,
                                                 name="TrainingPool.retry")
                self._retrier.start()

    def _retry_loop(self) -> None:
        executor = None
        while True:
            fn, args, done = self._retries.get()
            executor = executor or self._new_executor(1)
            try:
                result = executor.submit(fn, *args).result()
            except BrokenProcessPool as err:
                executor.shutdown(wait=False, cancel_futures=True)
                executor = None
                done(None, err)
            except BaseException as err:  # noqa: BLE001 - handed to the run
                done(None, err)
            else:
                done(result, None)

    def worker_pids(self) -> list[int]:
        """Process ids of the current workers (for monitoring and fault tests)."""
        with self._lock:
            ex = self._executor
        return list(getattr(ex, "_processes", {}) or {}) if ex is not None else []

    # ------------------------------------------------------------------ fair slices
    def running(self, run_id: int, on: bool, client: str | None = None) -> None:
        """Count run ``run_id`` (of ``client``, e.g. a browser's address) as training or not."""
        with self._lock:
            if on:
                self._active[run_id] = client
            else:
                self._active.pop(run_id, None)
            now = time.monotonic()
            self._peaks = [(t, n) for t, n in self._peaks if now - t < LOAD_MEMORY]
            self._peaks.append((now, len(self._active)))

    @property
    def load(self) -> int:
        """The most runs that trained at once over the last :data:`LOAD_MEMORY` seconds: a
        rhythm set from it rises at once with the class and falls back slowly, so that pages
        do not change their rhythm (each change costs a full rerun) as runs come and go."""
        now = time.monotonic()
        with self._lock:
            return max([n for t, n in self._peaks if now - t < LOAD_MEMORY] + [len(self._active)])

    def active_for(self, client: str) -> int:
        """Runs of ``client`` training now (its tabs and pages together)."""
        with self._lock:
            return sum(1 for c in self._active.values() if c == client)

    @property
    def active(self) -> int:
        """Runs training now (their chains going)."""
        return len(self._active)

    def slice_seconds(self) -> float:
        """How long the next slice trains: short enough that every active run gets a result back
        about every :data:`TARGET_GAP` seconds (``workers · TARGET_GAP / active``), between
        :data:`MIN_SLICE` and :data:`MAX_SLICE`."""
        share = self.workers * TARGET_GAP / max(1, self.active)
        return min(MAX_SLICE, max(MIN_SLICE, share))

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


class LiveRun:
    """A session's run trained by a :class:`TrainingPool` (see the module docstring).

    Args:
        job: a :class:`~explorer.training.Trainer` or :class:`~explorer.compare.Comparison`,
            kept in the session; the pages read it after :meth:`poll`.
        pool: the server's pool.

    Attributes:
        failure: why the last slice failed (a worker died twice, or raised), else None.
        note: something to tell the user that is not a failure (a worker was replaced).
        rate: steps per second at most (slow motion), or None for as fast as possible.
        slices: slices merged so far.
    """

    def __init__(self, job, pool: TrainingPool):
        self.job, self.pool = job, pool
        self._static = pack_static(job)
        self._lock = threading.RLock()  # a future already done calls back in the submitter
        self._future: Future | None = None
        self._state: bytes | None = None  # the newest state not merged yet
        self._logs: list[bytes] = []
        self._ended = False  # the newest state ended the run (budget, auto-stop, divergence)
        self._wanted = False
        self._timer: threading.Timer | None = None
        self._last_submit = 0.0
        self.failure: str | None = None
        self.note: str | None = None
        self.rate: float | None = None
        self.slices = 0
        self.client: str | None = None  # whose run: counted against a per-client cap
        self._last_poll = time.monotonic()
        self._orphaned = False  # stopped because nobody polled: taken up again by a poll
        self.step_seconds = 0.0  # one step's wall-clock time in the last slice (a round, Compare)

    # ------------------------------------------------------------------ control
    @property
    def training(self) -> bool:
        """Whether slices are being chained (between :meth:`start` and :meth:`halt`)."""
        return self._wanted

    def start(self) -> None:
        """Train on from the current state (Start, Resume). Merges anything pending first."""
        self.poll(train=False)
        with self._lock:
            self.failure = None
            self._wanted = True
            self.pool.running(id(self), True, self.client)
            if self._future is None and self._timer is None and not self.pool.inline:
                self._submit(pack_state(self.job))

    def halt(self, timeout: float | None = 30.0) -> None:
        """Stop chaining slices, wait for the one in flight (at most ``timeout`` seconds) and
        merge it: afterwards ``job`` holds every step taken."""
        with self._lock:
            self._wanted = False
            self.pool.running(id(self), False)
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            future = self._future
        if future is not None:
            try:
                future.result(timeout)
            except Exception:  # noqa: BLE001 - reported through _done / failure
                pass
            deadline = time.monotonic() + (timeout or 0)
            while self._future is future and time.monotonic() < deadline:
                time.sleep(0.005)  # the done-callback runs right after result() returns
        self.poll(train=False)

    def step_once(self, steps: int = 1) -> None:
        """Take ``steps`` steps now and merge them (the page's "one step" while paused)."""
        self.halt()
        state = pack_state(self.job)
        self._collect(self.pool.submit(train_slice, self._static, state, None, steps), state,
                      chain=False)
        self.poll(train=False)

    # ------------------------------------------------------------------ results
    def poll(self, *, train: bool = True, light: bool = False) -> bool:
        """Merge what the workers returned into ``job``; inline, train one slice first (when
        training). Returns whether anything new was merged. Call from the page's thread. A run
        that stopped because nobody polled for :data:`ORPHAN_AFTER` seconds trains on."""
        self._last_poll = time.monotonic()
        if self._orphaned and train:
            self._orphaned = False
            if self.job.status == "running" and not self._wanted:
                self.start()
        if train and self.pool.inline and self._wanted:
            state = pack_state(self.job)
            size = (None, self.pool.inline_steps) if self.pool.inline_steps else self._slice_size()
            self._collect(self.pool.submit(train_slice, self._static, state, *size), state,
                          chain=False)
        with self._lock:
            state, logs, ended = self._state, self._logs, self._ended
            light = light and not ended and not self.pool.inline  # inline: the next slice
            if light:  # the logs only: the state waits for a full poll    # packs the job
                self._logs = []
            else:
                self._state, self._logs, self._ended = None, [], False
        if not logs and (state is None or light):
            return False
        absorb(self.job, None if light else state, logs)
        self.slices += len(logs)
        if self.job.status in TERMINAL:
            with self._lock:
                self._wanted = False
                self.pool.running(id(self), False)
        return True

    # ------------------------------------------------------------------ the chain
    def _slice_size(self) -> tuple[float, int | None]:
        """``(seconds, max_steps)`` of the next slice; slow motion: one gap's steps at the rate.

        A slice stops at the first step that ends after ``seconds``, so it lasts up to
        ``seconds`` plus one step: the step measured in the last slice is taken off, and a
        slice of steps slower than the pool's slice is one step. Pause and Stop wait for the
        slice in flight: at most one slice length, or one step when a step is longer."""
        steps = max(1, int(round(self.rate * TARGET_GAP))) if self.rate else None
        seconds = self.pool.slice_seconds()
        if self.step_seconds >= seconds:
            return MIN_SLICE, 1
        return max(MIN_SLICE, seconds - self.step_seconds), steps

    def _submit(self, state: bytes) -> None:
        """Send one slice (lock held)."""
        self._last_submit = time.monotonic()
        self._future = fut = self.pool.submit(train_slice, self._static, state,
                                              *self._slice_size())
        fut.add_done_callback(lambda f: self._collect(f, state, chain=True))

    def _collect(self, fut: Future, sent: bytes, *, chain: bool) -> None:
        """A slice ended (a pool thread, or inline the caller's): keep its result, and go on."""
        try:
            result = fut.result()
        except BrokenProcessPool:
            # some worker died, and the pool with it: every slice in it fails the same way.
            # Each is tried again alone; the one that dies again is the culprit.
            self.pool.replace_broken()
            args = (self._static, sent, *self._slice_size())
            self.pool.retry_alone(train_slice, args,
                                  lambda result, err: self._retried(result, err, chain))
            return
        except BaseException as err:  # noqa: BLE001 - shown on the student's page, not raised
            return self._failed(err)
        self._keep(result, chain)

    def _retried(self, result, err, chain: bool) -> None:
        if err is None:
            self.note = ("A training worker stopped unexpectedly and was replaced; this run "
                         "went on from where it was.")
            self._keep(result, chain)
        else:
            self._failed(err)

    def _failed(self, err: BaseException) -> None:
        with self._lock:
            self._future = None
            if isinstance(err, BrokenProcessPool):
                self._fail("The worker process training this run stopped unexpectedly while "
                           "training it, twice (out of memory, or killed). Nothing before that "
                           "is lost: press Resume to try again, or Reset.")
            else:
                self._fail(f"Training stopped: {type(err).__name__}: {err}. Nothing before "
                           "that is lost: press Resume to try again, or Reset.")

    def _keep(self, result, chain: bool) -> None:
        state, log, info = result
        if info["steps"]:
            self.step_seconds = info.get("seconds", 0.0) / info["steps"]
        with self._lock:
            self._future = None
            self._state = state
            self._logs.append(log)
            self._ended = info["status"] in TERMINAL
            if chain and self._wanted and info["status"] not in TERMINAL:
                if time.monotonic() - self._last_poll > ORPHAN_AFTER:
                    self._orphaned, self._wanted = True, False  # its page is gone: stop here
                    self.pool.running(id(self), False)
                    return
                if self.rate:
                    wait = info["steps"] / self.rate - (time.monotonic() - self._last_submit)
                    if wait > 0:
                        self._timer = threading.Timer(wait, self._resume_chain, args=(state,))
                        self._timer.daemon = True
                        self._timer.start()
                        return
                self._submit(state)

    def _resume_chain(self, state: bytes) -> None:
        with self._lock:
            self._timer = None
            if self._wanted and self._future is None:
                self._submit(state)

    def _fail(self, message: str) -> None:
        """(lock held)"""
        self.failure = message
        self._wanted = False
        self.pool.running(id(self), False)


WORKERS_ENV = "RNN_EXPLORER_WORKERS"


def pool_from_environment(workers: int | None = None) -> TrainingPool:
    """The app's pool: worker processes (``RNN_EXPLORER_WORKERS`` of them, default one per
    core: set it to cores / replicas when several replicas share a machine), or inline when
    ``RNN_EXPLORER_TRAINING=inline``."""
    text = os.environ.get(WORKERS_ENV, "")
    if workers is None and text.isdigit() and int(text) > 0:
        workers = int(text)
    return TrainingPool(workers, inline=os.environ.get(INLINE_ENV) == "inline")
