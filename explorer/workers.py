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
  ones), and hands it to the worker process with the fewest runs.
* Each worker trains its runs in turn, one *slice* each ("take steps for ``seconds``":
  :func:`train_slice`), keeps them unpacked between slices, and streams every slice's result
  (state, new log entries) back. The chain of slices never waits on the server: an earlier
  design that sent each slice from the server's own thread trained at 14 steps/s in total for
  30 runs when one page thread kept the GIL busy (630 steps/s idle), since every slice needed
  several GIL hand-offs in the server. Here a thread per worker only stores the bytes; the
  server unpickles nothing until a page asks.
* ``poll()`` (a page's redraw) merges the latest state and every new log entry into the
  session's object. ``halt()`` (Pause, Stop, Reset) tells the worker and waits for the slice in
  flight, at most one slice (<= :data:`MAX_SLICE` seconds).

Pausing between slices gives the same weights as one uninterrupted run, bit for bit: a slice is
``run(seconds=...)`` on the whole state (weights, optimiser state, the batch generator), and
steps do not depend on where a slice ends.

Slices are short when many runs train: each run gets a result back about every
:data:`TARGET_GAP` seconds whatever the load (a worker with k runs slices ``TARGET_GAP / k``),
so every student's curve keeps moving. Workers run at a lower priority than the page process
(:data:`WORKER_NICENESS`): pages first, training in the time left.

A worker that dies (killed, out of memory) is replaced at once; each run it had is tried again
from the newest state it sent (nothing of it was lost), alone in a process of its own, one
at a time: a slice that kills that one too is the culprit, and its run stops with a message on
its own page; the others go on.

A trainer's callbacks (:meth:`explorer.training.Trainer.add_callback`) stay on this side of
the pipes: they are not pickled (:meth:`~explorer.training.Trainer.__getstate__`), so a page's
functions never reach a worker, and a worker's trainer has none; :func:`absorb` keeps those of
the session's trainer. What crosses is data: each slice's new log entries, merged into the
session's trainer when the page polls, in the page's thread and at the page's rhythm (views
redraw on their own timers and read the merged trainer).

``TrainingPool(inline=True)`` trains each slice in the caller's thread when the page polls:
for Streamlit's AppTest, where no fragment reruns on its own (set ``RNN_EXPLORER_TRAINING=inline``
to have the app's pool made that way).
"""

from __future__ import annotations

import contextlib
import copy
import itertools
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

from .heap import trim_heap

TARGET_GAP = 0.5  # seconds between two results of one run, whatever the load
MAX_SLICE = 0.25  # seconds: a slice in flight delays a Pause by at most this (plus one step)
MIN_SLICE = 0.02  # seconds: below this the round trip's cost would dominate
# seconds without a poll after which a run stops training: its page is gone (a closed tab), or
# so busy that training on would only pile up work; the next poll takes it up again
ORPHAN_AFTER = 10.0
LOAD_MEMORY = 60.0  # seconds over which TrainingPool.load remembers its peak
# seconds a worker that has trained stays idle before a fresh process takes its place: a
# worker's heap keeps the class's peak (~100 MB each after 30 runs; malloc_trim gives back
# only a few MB), a fresh one starts at its import size (the idea of multiprocessing.Pool's
# maxtasksperchild)
RECYCLE_AFTER = 60.0
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
    return pickle.dumps(
        {
            "task": getattr(job, "task", None),
            "parts": [{n: getattr(t, n) for n in STATIC} for t in trainers(job)],
        },
        protocol=pickle.HIGHEST_PROTOCOL,
    )


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


def _unpack(static: bytes, state: bytes):
    job = pickle.loads(state)
    _attach(job, pickle.loads(static))
    return job


def _slice(job, seconds: float | None, max_steps: int | None) -> tuple[bytes, bytes, dict]:
    """Train ``job`` (unpacked, in this process) one slice; return what :func:`train_slice`
    returns, and leave ``job`` holding only the last entry of each log, as an unpacked
    :func:`pack_state` would (a worker keeps its runs between slices without their logs).

    The new entries are the logs' tails past their lengths at the start, not entries collected
    through the trainer's callbacks: the logs only grow while it trains and must be trimmed
    here anyway, and a collector would write out a second time what an evaluation logs (its
    step, each tensor's norm, the hidden gradients when taken): about 15 more lines, and a second
    home for the trainer's log format."""
    start = [{n: len(getattr(t, n)) for n in LOGS} for t in trainers(job)]
    taken = job.run(seconds=seconds, max_steps=max_steps)
    log = [
        {**{n: getattr(t, n)[s[n] :] for n in LOGS}, "grad_norms": t.grad_norms}
        for t, s in zip(trainers(job), start)
    ]
    log_bytes = pickle.dumps(log, protocol=pickle.HIGHEST_PROTOCOL)
    state = pack_state(job)
    for t in trainers(job):
        for name in LOGS:
            del getattr(t, name)[:-1]
        t.grad_norms = {name: [] for name in t.grad_norms}
    return state, log_bytes, {"status": job.status, "step": job.step, "steps": taken}


def train_slice(
    static: bytes, state: bytes, seconds: float | None, max_steps: int | None = None
) -> tuple[bytes, bytes, dict]:
    """Take steps on the run packed in ``static`` and ``state`` (see :func:`pack_state`) for
    ``seconds`` or ``max_steps`` steps (rounds, for a comparison).

    Returns ``(state, log, info)``: the new state packed the same way; the log entries added
    (one dict per trainer: ``LOGS`` lists and ``grad_norms``); ``{"status", "step", "steps"}``
    to decide without unpickling whether to go on."""
    return _slice(_unpack(static, state), seconds, max_steps)


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
        kept = (*STATIC, *LOGS, "grad_norms", "status", "message", "_callbacks")
        if not fresh and t.last_eval is not None:  # the same evaluation: the same object
            kept += ("last_eval", "hidden_grads")
        keep = {name: t.__dict__[name] for name in kept}
        t.__dict__.update(n.__dict__)
        t.__dict__.update(keep)
        if n.status in TERMINAL and t.status not in TERMINAL:
            t.status, t.message = n.status, n.message


WORKER_NICENESS = 10  # how much lower than the page process a training worker runs (Unix nice)


def _init_worker() -> None:
    """Each worker trains one slice at a time on one core: one intra-op thread (more would make
    the workers wait on each other; this process serves no page). Then everything a first slice
    would otherwise wait for: the explorer's modules (a pickled run imports them) and one
    LSTM step (PyTorch sets up its kernels at the first call). The worker runs at a lower
    priority (``WORKER_NICENESS``) than the page process: on a busy server the pages are served
    first and training takes the cores' remaining time, so no student's page waits on a slice."""
    import torch

    with contextlib.suppress(OSError, AttributeError):  # not on every platform
        os.nice(WORKER_NICENESS)
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


# ---------------------------------------------------------------------- inside a worker process
def _pump_in(conn, inbox: queue.SimpleQueue) -> None:
    """Move the server's commands into ``inbox`` as they come, even while a slice trains."""
    while True:
        try:
            inbox.put(pickle.loads(conn.recv_bytes()))
        except (EOFError, OSError):  # the server is gone
            inbox.put(("quit",))
            return


def _pump_out(conn, outbox: queue.SimpleQueue) -> None:
    """Send results as the server takes them: a slow server never holds up the training."""
    while True:
        message = outbox.get()
        try:
            conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:  # the server is gone
            os._exit(0)


class _Slot:
    """A run this worker trains: the unpacked job, its slow-motion rate, a step limit (one
    step at a time), when it is next due and how long its last step took (seconds)."""

    __slots__ = ("job", "rate", "limit", "due", "step_seconds")

    def __init__(self, job, rate: float | None, limit: int | None):
        self.job, self.rate, self.limit, self.due = job, rate, limit, 0.0
        self.step_seconds = 0.0


def _slice_length(share: float, step_seconds: float) -> tuple[float, int | None]:
    """``(seconds, max_steps)`` of a slice given the run's ``share`` of the worker (seconds)
    and its last step's length. A slice stops at the first step that ends after ``seconds``,
    so it lasts up to ``seconds`` plus one step: the step is taken off, and a run whose steps
    are longer than its share trains one step at a time. Pause and Stop wait for the slice in
    flight: at most one share, or one step when a step is longer."""
    if step_seconds >= share:
        return MIN_SLICE, 1
    return max(MIN_SLICE, share - step_seconds), None


def _serve(commands, results) -> None:
    """A worker's loop: train its runs in turn, one slice each, and send every slice's result
    (state, new log entries) back; commands (start, halt, rate, quit) are taken between slices.
    The runs stay unpacked here between slices: no round trip through the server per slice."""
    _init_worker()
    inbox: queue.SimpleQueue = queue.SimpleQueue()
    outbox: queue.SimpleQueue = queue.SimpleQueue()
    threading.Thread(target=_pump_in, args=(commands, inbox), daemon=True).start()
    threading.Thread(target=_pump_out, args=(results, outbox), daemon=True).start()
    runs: dict[int, _Slot] = {}  # in turn: the next slice goes to the first run that is due
    while _take_commands(inbox, runs, outbox):
        now = time.monotonic()
        key = next((k for k, slot in runs.items() if slot.due <= now), None)
        if key is None:
            continue
        slot = runs.pop(key)  # and back at the end of its turn, unless its run has left
        if _turn(key, slot, len(runs), outbox):
            runs[key] = slot
        elif not runs:
            del slot
            trim_heap()  # the class has gone: give its runs' memory back


def _take_commands(inbox: queue.SimpleQueue, runs: dict, outbox: queue.SimpleQueue) -> bool:
    """Wait for a command until the first of ``runs`` is due (for ever without runs), then
    handle every command waiting. Returns False at "quit"."""
    now = time.monotonic()
    wait = None if not runs else max(0.0, min(slot.due for slot in runs.values()) - now)
    try:
        message = inbox.get(timeout=wait) if wait != 0.0 else inbox.get_nowait()
        while True:
            if not _handle(message, runs, outbox):
                return False
            message = inbox.get_nowait()
    except queue.Empty:
        return True


def _handle(message, runs: dict, outbox: queue.SimpleQueue) -> bool:
    """One command from the server; False for "quit"."""
    kind = message[0]
    if kind == "quit":
        return False
    if kind == "start":
        _, key, static, state, rate, limit = message
        try:
            runs[key] = _Slot(_unpack(static, state), rate, limit)
        except Exception as err:  # noqa: BLE001 - reported on the run's page
            outbox.put(("error", key, f"{type(err).__name__}: {err}"))
            outbox.put(("halted", key))
    elif kind == "halt":
        runs.pop(message[1], None)
        outbox.put(("halted", message[1]))
        if not runs:
            trim_heap()  # the class has gone: give its runs' memory back
    elif kind == "rate" and message[1] in runs:
        runs[message[1]].rate = message[2]
    return True


def _turn(key: int, slot: _Slot, others: int, outbox: queue.SimpleQueue) -> bool:
    """Train one slice of run ``key`` (its share of the worker beside ``others`` runs) and send
    the result. Returns whether the run trains on (False: it ended, or failed)."""
    now = time.monotonic()
    share = min(MAX_SLICE, max(MIN_SLICE, TARGET_GAP / (others + 1)))
    seconds, steps = _slice_length(share, slot.step_seconds)
    if slot.rate:
        steps = min(steps or 10**9, max(1, int(round(slot.rate * TARGET_GAP))))
    began = time.perf_counter()
    try:
        state, log, info = _slice(slot.job, None if slot.limit else seconds, slot.limit or steps)
    except Exception as err:  # noqa: BLE001 - reported on the run's page
        outbox.put(("error", key, f"{type(err).__name__}: {err}"))
        outbox.put(("halted", key))
        return False
    if info["steps"]:
        slot.step_seconds = (time.perf_counter() - began) / info["steps"]
    outbox.put(("result", key, state, log, info))
    if slot.limit or info["status"] in TERMINAL:
        outbox.put(("halted", key))
        return False
    if slot.rate:
        slot.due = now + info["steps"] / slot.rate
    return True


class _Worker:
    """One worker process and its two pipes (each worker its own: one killed in the middle of
    a write damages nothing another uses). The server keeps only its own ends, so a worker's
    death reads as the end of its result pipe."""

    def __init__(self, index: int):
        ctx = multiprocessing.get_context("spawn")  # never fork a server that has threads
        self.commands, their_commands = ctx.Pipe(duplex=False)[::-1]
        their_results, self.results = ctx.Pipe(duplex=False)[::-1]
        self.process = ctx.Process(
            target=_serve,
            args=(their_commands, their_results),
            name=f"rnn-explorer-training-{index}",
            daemon=True,
        )
        with _without_main():
            self.process.start()
        their_commands.close()
        their_results.close()
        self.lock = threading.Lock()  # one sender at a time
        self.runs: set[int] = set()  # keys of the runs it trains
        self.trained = False  # it has had a run (its heap has grown)
        self.idle_since = time.monotonic()  # when its last run left
        self.retired = False  # replaced by a fresh process: its end is not a death

    def send(self, message) -> bool:
        try:
            with self.lock:
                self.commands.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
            return True
        except OSError:  # it died: its reader thread finds out and says so
            return False


class TrainingPool:
    """Worker processes shared by every session of the server (a server resource, like a
    database connection pool: it holds no user's data once a run is halted).

    Each worker trains the runs given to it in turn, one slice each, and streams every slice's
    result back; a thread per worker here hands the results to their :class:`LiveRun`. A run
    goes to the worker with the fewest runs when it starts.

    A worker that has trained and then had no run for ``recycle_after`` seconds is replaced by a
    fresh process, so the memory a class's runs left in it goes back to the system.

    Args:
        workers: processes (default: the CPU cores this process may use).
        inline: train in the caller's thread at each poll instead (tests; no processes), for
            ``slice_seconds()`` or, when set, exactly ``inline_steps`` steps per poll.
        recycle_after: seconds (default :data:`RECYCLE_AFTER`); None never replaces one.
    """

    inline_steps: int | None = None  # inline: steps per slice instead of seconds (tests)

    def __init__(
        self,
        workers: int | None = None,
        *,
        inline: bool = False,
        recycle_after: float | None = RECYCLE_AFTER,
    ):
        self.inline = inline
        self.recycle_after = recycle_after
        self.workers = workers or _cores()
        self._lock = threading.Lock()
        self._active: dict[int, str | None] = {}  # runs whose chain is going -> their client
        self._peaks: list[tuple[float, int]] = []  # (time, runs training) at each change
        self._runs: dict[int, LiveRun] = {}  # key of a run in a worker -> its LiveRun
        self._keys = itertools.count(1)
        self._closed = False
        self.restarts = 0
        self._retries: queue.SimpleQueue = queue.SimpleQueue()
        self._retrier: threading.Thread | None = None
        self._workers: list[_Worker] = []
        self.recycled = 0  # idle workers replaced by fresh processes
        if not inline:
            for index in range(self.workers):
                self._add_worker(index)
            if recycle_after is not None:
                threading.Thread(
                    target=self._recycle_loop, daemon=True, name="TrainingPool.recycle"
                ).start()

    def _add_worker(self, index: int) -> None:
        worker = _Worker(index)
        with self._lock:
            if index < len(self._workers):
                self._workers[index] = worker
            else:
                self._workers.append(worker)
        self._listen(worker, index)

    def _listen(self, worker: _Worker, index: int) -> None:
        threading.Thread(
            target=self._read, args=(worker, index), daemon=True, name=f"TrainingPool.read-{index}"
        ).start()

    def _idle_workers(self) -> list[int]:
        """Indices of the workers that have trained and had no run for ``recycle_after`` s
        (call with the lock held)."""
        now = time.monotonic()
        return [
            i
            for i, w in enumerate(self._workers)
            if w.trained and not w.runs and now - w.idle_since >= self.recycle_after
        ]

    def _recycle_loop(self) -> None:
        """Replace each idle worker by a fresh process. The fresh one is started first and
        swapped in under the lock that :meth:`dispatch` takes, only if the old one is still
        idle: no run is ever sent to a worker on its way out."""
        while not self._closed:
            time.sleep(max(0.05, self.recycle_after / 4))
            with self._lock:
                idle = self._idle_workers()
            for index in idle:
                fresh = _Worker(index)
                with self._lock:
                    old = self._workers[index] if index < len(self._workers) else None
                    swap = not self._closed and old is not None and index in self._idle_workers()
                    if swap:
                        old.retired = True
                        self._workers[index] = fresh
                        self.recycled += 1
                if not swap:
                    fresh.send(("quit",))
                    fresh.process.join(30)
                    continue
                self._listen(fresh, index)
                old.send(("quit",))  # its reader thread joins it

    def _read(self, worker: _Worker, index: int) -> None:
        """Hand each result of ``worker`` to its run; at the end of its pipe (it died), replace
        it and have its runs tried again alone."""
        while True:
            try:
                message = pickle.loads(worker.results.recv_bytes())
            except (EOFError, OSError, pickle.UnpicklingError):
                break
            kind, key = message[0], message[1]
            with self._lock:
                run = self._runs.get(key)
                if kind == "halted":
                    self._runs.pop(key, None)
                    worker.runs.discard(key)
                    if not worker.runs:
                        worker.idle_since = time.monotonic()
            if run is not None:
                run._delivered(key, message)
        worker.process.join(5)
        if self._closed or worker.retired:
            return
        with self._lock:
            lost = [(key, self._runs.pop(key)) for key in worker.runs if key in self._runs]
            self.restarts += 1
        self._add_worker(index)
        for key, run in lost:
            run._lost_worker(key)

    def dispatch(self, run: LiveRun, state: bytes, limit: int | None = None) -> int:
        """Give ``run`` (from ``state``) to the least busy worker; returns its key there."""
        with self._lock:
            worker = min(self._workers, key=lambda w: len(w.runs))
            key = next(self._keys)
            self._runs[key] = run
            worker.runs.add(key)
            worker.trained = True
        worker.send(("start", key, run._static, state, run.rate, limit))
        return key

    def command(self, key: int, *message) -> None:
        """Send ``message`` about run ``key`` to its worker (halt, rate)."""
        with self._lock:
            worker = next((w for w in self._workers if key in w.runs), None)
        if worker is not None:
            worker.send((message[0], key, *message[1:]))

    def submit(self, fn, *args) -> Future:
        """``fn(*args)`` now, in this thread (the inline pool's slices)."""
        fut: Future = Future()
        try:
            fut.set_result(fn(*args))
        except BaseException as err:  # noqa: BLE001 - handed to the run, as a worker's would be
            fut.set_exception(err)
        return fut

    def retry_alone(self, fn, args: tuple, done) -> None:
        """Run ``fn(*args)`` again after a worker died, in a process of its own, one slice at a
        time: a slice that kills that process too is the one that killed the worker, and only
        its run hears of it. ``done(result, error)`` is called from the retrying thread
        (``error``: None, ``BrokenProcessPool`` for the culprit, or what ``fn`` raised)."""
        self._retries.put((fn, args, done))
        with self._lock:
            if self._retrier is None:
                self._retrier = threading.Thread(
                    target=self._retry_loop, daemon=True, name="TrainingPool.retry"
                )
                self._retrier.start()

    def _retry_loop(self) -> None:
        executor = None
        while True:
            fn, args, done = self._retries.get()
            if executor is None:
                executor = ProcessPoolExecutor(
                    1, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
                )
                with _without_main():
                    executor.submit(_warm).result()
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
            return [w.process.pid for w in self._workers]

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
        """Stop the workers (their runs stop where they are)."""
        self._closed = True
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.send(("quit",))
            worker.commands.close()
        for worker in workers:
            worker.process.join(5)
            if worker.process.is_alive():
                worker.process.kill()


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
        self._lock = threading.RLock()
        self._key: int | None = None  # this run's key in a worker, while it is in one
        self._idle = threading.Event()  # no worker and no retry has this run
        self._idle.set()
        self._sent: bytes | None = None  # the newest state a worker has (or had) of this run
        self._state: bytes | None = None  # the newest state not merged yet
        self._logs: list[bytes] = []
        self._ended = False  # the newest state ended the run (budget, auto-stop, divergence)
        self._wanted = False
        self._rate: float | None = None
        self.failure: str | None = None
        self.note: str | None = None
        self.slices = 0
        self.client: str | None = None  # whose run: counted against a per-client cap
        self._last_poll = time.monotonic()
        self._orphaned = False  # stopped because nobody polled: taken up again by a poll

    # ------------------------------------------------------------------ control
    @property
    def training(self) -> bool:
        """Whether the run is being trained (between :meth:`start` and :meth:`halt`)."""
        return self._wanted

    @property
    def rate(self) -> float | None:
        return self._rate

    @rate.setter
    def rate(self, value: float | None) -> None:
        with self._lock:
            if value == self._rate:
                return
            self._rate = value
            key = self._key
        if key is not None:
            self.pool.command(key, "rate", value)

    def start(self) -> None:
        """Train on from the current state (Start, Resume). Merges anything pending first."""
        self.poll(train=False)
        with self._lock:
            self.failure = None
            self._wanted = True
            self.pool.running(id(self), True, self.client)
            if self._idle.is_set() and not self.pool.inline:
                self._dispatch(pack_state(self.job))

    def halt(self, timeout: float | None = 30.0) -> None:
        """Stop training, wait for the slice in flight (at most ``timeout`` seconds) and merge
        it: afterwards ``job`` holds every step taken."""
        with self._lock:
            self._wanted = False
            self.pool.running(id(self), False)
            key = self._key
        if key is not None:
            self.pool.command(key, "halt")
        self._idle.wait(timeout)
        self.poll(train=False)

    def step_once(self, steps: int = 1) -> None:
        """Take ``steps`` steps now and merge them (the page's "one step" while paused)."""
        self.halt()
        state = pack_state(self.job)
        if self.pool.inline:
            self._collect(self.pool.submit(train_slice, self._static, state, None, steps))
        else:
            with self._lock:
                self._dispatch(state, limit=steps)
            self._idle.wait(60.0)
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
            self._collect(self.pool.submit(train_slice, self._static, state, *size))
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

    # ------------------------------------------------------------------ in a worker
    def _slice_size(self) -> tuple[float, int | None]:
        """``(seconds, max_steps)`` of a slice here; slow motion: one gap's steps at the rate."""
        steps = max(1, int(round(self.rate * TARGET_GAP))) if self.rate else None
        return self.pool.slice_seconds(), steps

    def _dispatch(self, state: bytes, limit: int | None = None) -> None:
        """(lock held) Hand the run to a worker from ``state``."""
        self._idle.clear()
        self._sent = state
        self._key = self.pool.dispatch(self, state, limit)

    def _delivered(self, key: int, message) -> None:
        """A worker's message about this run (from the pool's reader thread)."""
        kind = message[0]
        with self._lock:
            if key != self._key:
                return  # from before a restart of this run: superseded
            if kind == "result":
                self._keep(message[2:])
                if (
                    self._wanted
                    and not self._ended
                    and time.monotonic() - self._last_poll > ORPHAN_AFTER
                ):
                    self._orphaned, self._wanted = True, False  # its page is gone: stop here
                    self.pool.running(id(self), False)
                    self.pool.command(key, "halt")
            elif kind == "error":
                self._fail(
                    f"Training stopped: {message[2]}. Nothing before that is lost: "
                    "press Resume to try again, or Reset."
                )
            elif kind == "halted":
                self._key = None
                if self._wanted and not self._ended and self.failure is None:
                    self._dispatch(self._sent)  # started again while it was halting
                else:
                    self._idle.set()

    def _keep(self, result) -> None:
        """(lock held) A slice's ``(state, log, info)``: kept until the page polls."""
        state, log, info = result
        self._sent = self._state = state
        self._logs.append(log)
        self._ended = info["status"] in TERMINAL

    def _collect(self, fut: Future) -> None:
        """An inline slice ended."""
        try:
            result = fut.result()
        except BaseException as err:  # noqa: BLE001 - shown on the student's page, not raised
            with self._lock:
                self._fail(
                    f"Training stopped: {type(err).__name__}: {err}. Nothing before "
                    "that is lost: press Resume to try again, or Reset."
                )
            return
        with self._lock:
            self._keep(result)

    def _lost_worker(self, key: int) -> None:
        """The worker training this run died (pool's reader thread): try the slice it was on
        again alone, from the newest state this run has; the others on that worker do the
        same, so the one that dies again is the culprit."""
        with self._lock:
            if key != self._key:
                return
            self._key = None
            args = (self._static, self._sent, *self._slice_size())
        self.pool.retry_alone(train_slice, args, self._retried)

    def _retried(self, result, err) -> None:
        with self._lock:
            if err is None:
                self.note = (
                    "A training worker stopped unexpectedly and was replaced; this run "
                    "went on from where it was."
                )
                self._keep(result)
                if self._wanted and not self._ended:
                    self._dispatch(self._sent)
                    return
            elif isinstance(err, BrokenProcessPool):
                self._fail(
                    "The worker process training this run stopped unexpectedly while "
                    "training it, twice (out of memory, or killed). Nothing before that "
                    "is lost: press Resume to try again, or Reset."
                )
            else:
                self._fail(
                    f"Training stopped: {type(err).__name__}: {err}. Nothing before "
                    "that is lost: press Resume to try again, or Reset."
                )
            self._idle.set()

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
