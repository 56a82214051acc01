"""One controller for a live run, shared by the Train and Compare pages: where it trains (the
server's worker processes), its status (Start, Pause, Stop under a per-computer cap), its
progress, and the rhythm of its redraws (:func:`tick`, :func:`slow_refresh`, :func:`rearm`).

The rhythms were tuned for a class of 30-50 students on one 2-core server: each page draws its
live run in ``st.fragment``s whose ``run_every`` is :func:`tick` (the loss curve) or
:func:`slow_refresh` (what changes only at evaluations), and :class:`LiveController` is the
part both pages run at the start and end of such a redraw.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass

import streamlit as st
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime import scriptrunner

from ..workers import LiveRun, pool_from_environment
from . import runs

# Training runs in the server's worker processes (explorer.workers): the page's thread only
# merges what they return and draws. One pool per server process, shared by every session.

TICK = 0.4  # seconds per redraw of a live chart while few runs train: 2.5 redraws a second
SERVER_SECONDS_PER_RUN = 0.025  # ... and beyond: the page process's share for each training run
SLOW_REFRESH = 2.0  # seconds between redraws of the charts that change only at evaluations


@st.cache_resource(show_spinner=False)
def training_pool():
    """The server's :class:`~explorer.workers.TrainingPool` (worker processes; inline under
    ``RNN_EXPLORER_TRAINING=inline``, as the tests set). A server resource, not a user's: it
    keeps no run between slices."""
    return pool_from_environment()


MAX_RUNS_PER_CLIENT = 3  # runs one computer may train at once (its tabs and pages together)


def _client() -> str | None:
    """The browser's address, or None for this machine itself (a teacher's demo, the tests,
    a load balancer on the same machine: not capped)."""
    try:
        ip = st.context.ip_address
        address = ipaddress.ip_address(ip) if ip else None
    except Exception:  # noqa: BLE001 - no request context (AppTest, bare mode), or no address
        return None
    if (
        address is None
        or address.is_loopback
        or getattr(address, "ipv4_mapped", None)
        and address.ipv4_mapped.is_loopback
    ):
        return None
    return ip


def live_run(key: str, job):
    """The :class:`~explorer.workers.LiveRun` kept under ``key`` for ``job`` (the page's
    Trainer or Comparison), made when ``job`` is new; a run it replaces is halted first."""
    run = st.session_state.get(key)
    if run is None or run.job is not job:
        if run is not None:
            run.halt()
        run = st.session_state[key] = LiveRun(job, training_pool())
        run.client = _client()
    return run


def tick() -> float:
    """Seconds between two redraws of a live chart: 0.4 s (2.5 a second) while few runs
    train, doubled as the server gets busier (0.8 s from 17 runs, 1.6 s from 33), so that every
    redraw is sent before the next begins (Streamlit drops a fragment's unsent output when its
    next run starts) and every student's chart keeps moving."""
    # one live redraw costs the page process ~8-13 ms of CPU in the fragment and as much again
    # in Streamlit (sending, its thread's start): with N runs training, N redraws must fit in
    # each tick with room to spare (30 runs: 0.8 s, ~55 % of a core measured). In doublings,
    # so that the rhythm changes rarely: each change is a full rerun of every training page,
    # and at 50 students arriving at once, a change every few runs spiralled.
    need = training_pool().load * SERVER_SECONDS_PER_RUN / TICK
    return TICK * 2 ** max(0, math.ceil(math.log2(need))) if need > 1 else TICK


def rearm(interval: float | None) -> bool:
    """Give the fragment running now a new auto-rerun interval in the browser (seconds; None
    stops its auto-reruns), within its own run; returns False where that cannot be done (not a
    lone fragment run: the caller then falls back to a full ``st.rerun()``).

    Why not a full run: a full run only to change a fragment's ``run_every`` could leave a page
    with no timer at all. A timer tick the browser sent before it saw the full run's start can
    reach the server after that run has ended; Streamlit 1.67 then starts a new ScriptRunner and
    drops the events the old one had not yet handed to the event loop, the run's ``auto_rerun``
    message among them (``runtime/app_session.py``: "Ignoring event from non-current
    ScriptRunner"; streamlit issue #9921). Under load this froze one student's chart in most
    rounds of 30. The browser replaces a fragment's timer whenever an ``auto_rerun`` message
    names another interval (frontend ``handleAutoRerun``); ``stop_auto_rerun`` clears it."""
    ctx = scriptrunner.get_script_run_ctx(suppress_warning=True)
    ids = list(getattr(ctx, "fragment_ids_this_run", None) or [])
    if ctx is None or len(ids) != 1:
        return False
    msg = ForwardMsg()
    if interval:
        msg.auto_rerun.interval = interval
        msg.auto_rerun.fragment_id = ids[0]
    else:
        msg.stop_auto_rerun.fragment_ids.append(ids[0])
    ctx.enqueue(msg)
    return True


def slow_refresh(offset: float = 0.37) -> float:
    """Seconds between redraws of the charts that change only at evaluations (predictions,
    gradients): ``SLOW_REFRESH``, scaled up as the live charts' :func:`tick` is, plus
    ``offset`` of a tick.

    The browser runs each fragment on its own timer, all started at the same moment, and a
    fragment's run is cut short (its output thrown away) when another's timer fires during it.
    A whole number of ticks fires with the live chart every time (measured at 30 students: 80 %
    of the prediction redraws and 8 % of the live ones cut short), and so does every other
    firing of a half; an offset like 0.37 of a tick comes back near the live chart's firings
    only now and then."""
    return SLOW_REFRESH * tick() / TICK + offset * tick()


def merge(run, *, light: bool = False) -> None:
    """Merge what the workers trained into the page's run (a redraw's first step); a worker
    that failed leaves the run paused, the reason shown by :func:`worker_messages`. ``light``:
    the loss curve and the step only (the live chart's redraw), not the weights."""
    run.poll(light=light)
    if run.failure and run.job.status == "running":
        run.job.status = "paused"


def worker_messages(run) -> None:
    if run.failure:
        st.error(run.failure, icon=":material/error:")
    elif run.note:
        st.info(run.note, icon=":material/info:")


def set_status(run, status: str, message: str | None = None) -> None:
    """Start (``"running"``) or halt the run: halting waits for the slice in flight (at most
    a quarter of a second) and merges it, so the status and the step shown agree."""
    if status == "running":
        pool = run.pool
        if run.client and not run.training and pool.active_for(run.client) >= MAX_RUNS_PER_CLIENT:
            run.failure = (
                f"This computer already trains {MAX_RUNS_PER_CLIENT} runs (in other "
                "tabs or pages): pause or stop one of them, then press Start again. "
                "The server is shared by the whole class."
            )
            return
        run.job.status = "running"
        run.start()
        return
    run.halt()
    run.job.status = status
    if message is not None:
        run.job.message = message


def clock_rate(clock: list, job) -> float | None:
    """Steps per second of ``job`` (a Trainer or a Comparison) by the wall clock, over the last
    few seconds of training, or None before two samples. ``clock`` is the page's list of
    ``(seconds, step)`` samples: one is appended here at each redraw while the run trains, and
    the list is emptied when it does not."""
    if job.status == "running":
        clock.append((time.perf_counter(), job.step))
        del clock[:-12]  # about the last six seconds
    else:
        clock.clear()
    if len(clock) >= 2 and clock[-1][0] > clock[0][0]:
        return (clock[-1][1] - clock[0][1]) / (clock[-1][0] - clock[0][0])
    return None


def progress(trainer, clock: list) -> None:
    """A progress bar: steps done of the budget, steps per second (wall clock, over the last
    few seconds of training), time left and the status. ``clock`` is the page's list of
    ``(seconds, step)`` samples, appended to here while the run trains."""
    rate = clock_rate(clock, trainer)
    if rate is None:
        rate = trainer.step / trainer.elapsed if trainer.elapsed else 0.0
    text = f"step {trainer.step:,} / {trainer.config.steps:,}"
    if rate:
        text += f" · {rate:,.0f} steps/s"
    if trainer.status == "running" and rate:
        left = (trainer.config.steps - trainer.step) / rate
        text += f" · about {left:,.0f} s left" if left >= 1 else " · under a second left"
    status = {
        "ready": "ready",
        "running": "training",
        "paused": "paused",
        "done": "finished",
        "diverged": "stopped: the loss became NaN or infinite",
    }
    st.progress(
        min(1.0, trainer.step / trainer.config.steps),
        text=f"{text} · {status.get(trainer.status, trainer.status)}",
    )


@dataclass(frozen=True)
class LiveController:
    """The live run of one page, the same for Train and Compare: the page's job (a
    :class:`~explorer.training.Trainer` or a :class:`~explorer.compare.Comparison`) is kept in
    ``st.session_state[job_key]`` and trained in the workers by the :class:`LiveRun` under
    ``live_key``. ``page`` (``"train"`` or ``"compare"``) names it to
    :mod:`explorer.ui.runs` (who owns it, when it is saved) and prefixes its buttons' keys.

    The trainer never calls the page: its callbacks (:meth:`Trainer.add_callback
    <explorer.training.Trainer.add_callback>`) fire in the worker process that trains, where no
    page function can go. A fragment asks the controller for the newest state at the start of
    each redraw (:meth:`begin_redraw`) and draws it, so a rerun in the middle of training loses
    nothing; a view that needs to know whether an evaluation came compares the merged logs
    (``len(trainer.eval_steps)``) with what it drew, as a page's callbacks would not outlive the
    script run that registered them."""

    page: str
    job_key: str
    live_key: str

    @property
    def job(self):
        return st.session_state[self.job_key]

    def run(self) -> LiveRun:
        """The job's :class:`LiveRun` (made for a new job, see :func:`live_run`)."""
        return live_run(self.live_key, self.job)

    def set_status(self, status: str) -> None:
        """Start (``"running"``), pause or resume: a button's callback. Another browser's run
        is watched, not changed (:func:`explorer.ui.runs.refuse` says so)."""
        if runs.refuse(self.page):
            return
        set_status(self.run(), status)

    def status_buttons(self, columns, status: str) -> None:
        """Start, Pause and Resume, in the first three of ``columns``, each enabled only where
        it applies to ``status``."""
        for column, (label, applies, target, icon) in zip(
            columns,
            (
                ("Start", "ready", "running", ":material/play_arrow:"),
                ("Pause", "running", "paused", ":material/pause:"),
                ("Resume", "paused", "running", ":material/resume:"),
            ),
        ):
            column.button(
                label,
                type="primary" if label == "Start" else "secondary",
                disabled=status != applies,
                key=f"{self.page}_{label.lower()}",
                width="stretch",
                on_click=self.set_status,
                args=(target,),
                icon=icon,
            )

    def begin_redraw(self, interval: float, *, light: bool = False) -> tuple[object, LiveRun, bool]:
        """A live fragment's first step, ``interval`` being its ``run_every``: follow a change
        of the server's load (a new rhythm for this fragment, :func:`rearm`, else a full rerun),
        merge what the workers trained (``light``: the loss curve and the step only, see
        :func:`merge`), and let :func:`explorer.ui.runs.autosave` keep it. Returns ``(job, run,
        was_running)``; pass ``was_running`` to :meth:`end_redraw`."""
        job = self.job
        run = self.run()
        was_running = job.status == "running"
        if was_running and tick() != interval and not rearm(tick()):
            st.rerun()  # the server's load changed: a full run sets this fragment's new rhythm
        if was_running:
            merge(run, light=light)
        runs.autosave(self.page, job, run)  # at a change of status, and every few seconds
        return job, run, was_running

    def end_redraw(self, was_running: bool) -> None:
        """A live fragment's last step: a run that has just finished redraws the whole page
        (its buttons)."""
        if was_running and self.job.status != "running":
            st.rerun()
