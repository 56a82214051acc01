"""The browser side of the run store: who owns a run, and which run a page shows.

* **Owner token.** A secret (256 random bits, :func:`explorer.runstore.new_owner_token`) kept in
  ``st.session_state`` and in a first-party cookie, never in a link. A new session (a reload, a
  laptop that slept) reads the cookie from ``st.context.cookies`` (Streamlit ≥ 1.46: the
  cookies of the request that opened the session's websocket) and so owns the same runs; a
  session without one makes a token and writes the cookie with a few lines of JavaScript
  (``st.html(..., unsafe_allow_javascript=True)``: Streamlit has no Python API to set a
  cookie). The store keeps only the token's SHA-256. Another browser (a classmate, the
  teacher's projector) has another token: it can view and fork a run, not change it.
* **Run id in the URL.** ``run=<id>`` in ``st.query_params``: :func:`run_from_url` reads and
  checks it (a malformed one comes back as a note for the page, never an exception);
  :func:`show_run_in_url` writes it when a run is first saved, brought back or forked.
* **The store.** :func:`run_store` opens it once per server process (``st.cache_resource``:
  the store object holds a path and limits, no user's data; each call opens its own
  connection). A fault gives ``(None, message)``: the page says so and trains in memory.

How the pages use it (Train; Compare the same with its Comparison and no ``model=``):

* the router calls :func:`open_link` before any widget is drawn: on Train and Compare it
  writes the cookie once and, for a ``run=`` new to the session, loads the run (:func:`load`;
  a note for a malformed, unknown or expired id, or a store that cannot be read), puts its
  settings into the widgets' session state and leaves it for the page;
* the page takes it with :func:`arrival` (the restored job, its task settings, and a
  :class:`PageRun`: the saver when owned), in place of its run; a fresh run of its own (Reset,
  new settings) calls :func:`new_run`;
* its live fragment calls :func:`autosave` after merging (a save at each change of status and
  every :data:`SAVE_EVERY` seconds; the id goes to the URL at the first) and
  :func:`messages`; :func:`owned` decides whether the controls are drawn (else
  :func:`read_only_bar`: the fork button, and following the owner's saves), and each
  control's callback asks :func:`refuse` first (the server's check).
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field

import streamlit as st

from ..checkpoint import CheckpointError, checkpoint, restore, task_settings
from ..runstore import (
    BadRunId,
    Limits,
    NotOwner,
    RunSaver,
    RunStoreError,
    SQLiteRunStore,
    StoreUnavailable,
    check_run_id,
    data_dir,
    new_owner_token,
    open_store,
)
from . import link_notes, url_sync

COOKIE = "rnn_explorer_owner"
TOKEN_KEY = "_run_owner_token"  # st.session_state: this session's owner token
COOKIE_SENT = "_run_owner_cookie_sent"  # st.session_state: the cookie script was drawn
RUN_PARAM = "run"  # the URL parameter
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{40,100}")  # what new_owner_token() makes (43 chars)

_COOKIE_SCRIPT = """<script>
document.cookie = "{name}={value}; path=/; max-age={age}; SameSite=Strict"
  + (location.protocol === "https:" ? "; Secure" : "");
</script>"""


def owner_token() -> str:
    """This browser's owner token: the session's, else the cookie's, else a new one (then
    written to the cookie by :func:`remember_owner`)."""
    token = st.session_state.get(TOKEN_KEY)
    if token:
        return token
    try:
        cookie = st.context.cookies.get(COOKIE)
    except Exception:  # no request context (a bare script run): no cookie to read
        cookie = None
    if isinstance(cookie, str) and TOKEN_RE.fullmatch(cookie):
        st.session_state[TOKEN_KEY] = cookie
        st.session_state[COOKIE_SENT] = True  # the browser has it already
    else:
        st.session_state[TOKEN_KEY] = new_owner_token()
    return st.session_state[TOKEN_KEY]


def remember_owner(max_age_days: float = Limits().ttl / 86400) -> None:
    """Write this session's owner token to the browser's cookie, once per session (call it
    from the page after :func:`owner_token`, e.g. when a run is first saved). Draws an
    invisible element. The token is ours and checked against :data:`TOKEN_RE` before it is put
    in the script, so no outside text reaches the JavaScript."""
    token = owner_token()
    if st.session_state.get(COOKIE_SENT) or not TOKEN_RE.fullmatch(token):
        return
    st.html(
        _COOKIE_SCRIPT.format(name=COOKIE, value=token, age=int(max_age_days * 86400)),
        width="content",
        unsafe_allow_javascript=True,
    )
    st.session_state[COOKIE_SENT] = True


def run_from_url() -> tuple[str | None, str | None]:
    """``(run id, None)`` for a well-formed ``run=`` in the URL, ``(None, note)`` for a
    malformed one (the note says why; the page opens with its defaults), ``(None, None)``
    without one. Whether the run exists is the store's to say (:meth:`RunStore.load`)."""
    raw = st.query_params.get(RUN_PARAM)
    if raw is None:
        return None, None
    try:
        return check_run_id(raw), None
    except BadRunId as err:
        return None, str(err)


def show_run_in_url(run_id: str | None) -> None:
    """Put ``run=<id>`` in the address bar now (None removes it), as a hand-synced parameter
    (:func:`explorer.ui.url_sync.to_url`: the link check knows it, a page switch drops it, and
    :func:`open_link` does not take it for a new link)."""
    url_sync.to_url(RUN_PARAM, None if run_id is None else check_run_id(run_id), None, now=True)


@st.cache_resource(show_spinner=False)
def _open() -> SQLiteRunStore | None:
    return open_store()  # a failure raises, and st.cache_resource does not keep it


def run_store() -> tuple[SQLiteRunStore | None, str | None]:
    """``(store, None)``, or ``(None, why not)`` when persistence is off or the store cannot
    be opened (the page shows the reason and trains in memory). A store that could not be
    opened (locked for a moment, a full disk) is tried again on the next call."""
    try:
        store = _open()
    except StoreUnavailable as err:
        return None, str(err)
    if store is None:
        return None, "Runs are not saved on this server (RNN_EXPLORER_DATA=off)."
    return store, None


def describe_error(err: RunStoreError) -> str:
    """The message a page shows for a store error (they are written for readers)."""
    return str(err)


# --------------------------------------------------------------------------- the pages' runs
# The Train and Compare pages save their run as it trains and bring it back from a link. Each
# keeps a PageRun (below) beside its Trainer / Comparison; the router calls open_link() before
# any widget is drawn, so that a run from a link sets the sidebar and the page's settings.

PAGE_KINDS = {"train": "train", "compare": "compare"}  # page path -> the kind of run it shows
TITLES = {"train": "Train", "compare": "Compare cells"}
SAVE_EVERY = 5.0  # seconds between two saves of a training run (and one at each status change)


def _state(kind: str) -> str:
    return f"_runs_{kind}"  # st.session_state: the PageRun of the page's run


def _arrived(kind: str) -> str:
    return f"_runs_arrived_{kind}"  # st.session_state: an Arrival for the page to take


@dataclass
class PageRun:
    """What a page knows of its run's place in the store.

    Attributes:
        saver: saves the run as it trains (None: a read-only view, or no store).
        owned: whether this session may change the run (its owner's browser).
        args: ``checkpoint()``'s keywords for the run (``task_key``, ``task_settings``,
            ``model``): the run's own, not the page's widgets, which may have moved on.
        run_id: the run shown: the session's own once saved, or another's (read-only).
        note: said above the run until it changes (it came back paused, it was forked …).
        error: the last refusal (a limit, a fault, a control refused) for the page to show.
    """

    saver: RunSaver | None
    owned: bool
    args: dict
    run_id: str | None = None
    note: str | None = None
    error: str | None = None
    step: int = field(default=-1)  # the step the note is about: a change of step clears it
    seen: float = 0.0  # when the store last changed the run shown (a read-only view follows it)
    following: bool = False  # a read-only view of a run its owner is training: reloaded

    @property
    def id(self) -> str | None:
        return self.saver.run_id if self.saver is not None else self.run_id


@dataclass
class Arrival:
    """A run loaded for a page (from a link, a reload or a fork), waiting for it to take it:
    the restored ``job``, its task's key and settings and the checkpoint's ``meta``."""

    job: object
    meta: dict
    task_key: str
    settings: dict
    page_run: PageRun


def _link_news() -> tuple[str | None, str | None]:
    """``(run id, None)`` when the URL's ``run=`` is new to this session (a link opened, a
    reload, Back), ``(None, note)`` when it is malformed (removed from the URL), else
    ``(None, None)``. The URL's value is remembered as :func:`explorer.ui.url_sync.from_url`
    does, so the run this page writes there is not news."""
    raw = st.query_params.get(RUN_PARAM)
    written = st.session_state.setdefault(url_sync.WRITTEN, {})
    if raw is None or raw == written.get(RUN_PARAM):
        return None, None
    written[RUN_PARAM] = raw
    run_id, note = run_from_url()
    if note:
        written[RUN_PARAM] = None
        url_sync.put(RUN_PARAM, None)
    return run_id, note


def open_link(page) -> None:
    """Router hook, before any widget is drawn: on the Train and Compare pages, write the
    owner cookie once, and load the run a link (or a reload) names; its settings go into the
    widgets and the run waits in the session for the page (:func:`arrival`). A malformed,
    unknown or expired id, or a store that cannot be read, becomes a note at the top of the
    page, which opens with its defaults."""
    kind = PAGE_KINDS.get(page.url_path)
    if kind is None:
        return
    with st.sidebar, st.container(key="run_owner_cookie"):  # hidden (page_css): no gap
        remember_owner()
    run_id, note = _link_news()
    if note:
        link_notes.note(note)
    page_run = st.session_state.get(_state(kind))
    if run_id is None or (page_run is not None and page_run.id == run_id):
        return
    arrival = load(kind, run_id)
    if arrival is not None:
        st.session_state.update(_widgets(kind, arrival))


def _widgets(kind: str, arrival: Arrival) -> dict:
    from .train_controls import widget_state

    return widget_state(kind, arrival.meta["config"], arrival.task_key, arrival.settings)


def load(kind: str, run_id: str, *, quiet: bool = False) -> Arrival | None:
    """Load run ``run_id`` for the page of ``kind`` and leave it for :func:`arrival`; None
    (with a note for the page) when it cannot be. A run that this browser owns and that a
    tab of this server still trains (the page was reloaded, or opened in another tab) is
    taken over from that tab: halted there with every step it took, saved, and brought here
    paused; the other tab then only watches it. ``quiet``: no note and the URL kept when it
    cannot be loaded (a read-only view looking for news keeps what it shows)."""
    store, why = run_store()
    if store is None and quiet:
        return None
    if store is None:
        link_notes.note(
            f"{why} The run in the link cannot be opened; the page opens with its defaults."
        )
        show_run_in_url(None)
        return None
    owner = owner_token()
    try:
        stored = store.load(run_id)
        if stored.info.kind != kind:
            other = "compare" if kind == "train" else "train"
            raise RunStoreError(
                f"Run {run_id} is a run of the {TITLES[other]} page: open the "
                f"link there (…/{other}?run={run_id})."
            )
        owned = stored.owned_by(owner)
        meta, tensors = stored.meta, stored.tensors
        if owned:
            meta, tensors = _take_over(store, run_id, owner, meta, tensors)
        job = restore(meta, tensors)
        task_key, settings = task_settings(meta, tensors)
    except (RunStoreError, CheckpointError) as err:
        if not quiet:
            link_notes.note(str(err))
            show_run_in_url(None)
        return None
    model = None
    if kind == "train":
        from ..config import CellConfig

        model = CellConfig(**meta["config"]["model"])
    args = {"task_key": task_key, "task_settings": settings, "model": model}
    saver = RunSaver(store, owner, run_id, every=SAVE_EVERY) if owned else None
    if saver is not None:  # what the store holds now: no save until the run changes
        saver.saved_step, saver.saved_status = job.step, job.status
    note = None
    if meta["status"] == "running" and owned:
        note = (
            "This run was training when its page was closed or reloaded (or the server "
            f"restarted): it is back, paused at step {job.step:,}. Press **Resume** to "
            "train on."
        )
    page_run = PageRun(
        saver,
        owned,
        args,
        run_id,
        note,
        step=job.step,
        seen=stored.info.updated,
        following=not owned and meta["status"] == "running",
    )
    arrival = Arrival(job, meta, task_key, settings, page_run)
    st.session_state[_arrived(kind)] = arrival
    return arrival


def arrival(kind: str) -> Arrival | None:
    """The run a link, a reload or a fork brought for this page, once: the page puts
    ``arrival.job`` in place of its run (with its settings' signature), and from then on
    :func:`autosave` saves it (when owned) and :func:`owned` says who may change it."""
    found = st.session_state.pop(_arrived(kind), None)
    if found is not None:
        st.session_state[_state(kind)] = found.page_run
        st.session_state.pop(_live_key(kind), None)
        show_run_in_url(found.page_run.run_id)
    return found


def new_run(kind: str, **args) -> None:
    """The page made a fresh run (Reset, new settings, a weights file): it is the session's,
    saved from its Start under a new id; ``args`` are ``checkpoint()``'s ``task_key``,
    ``task_settings`` and ``model``. Any ``run=`` leaves the URL."""
    store, why = run_store()
    saver = RunSaver(store, owner_token(), None, every=SAVE_EVERY) if store else None
    old = st.session_state.get(_state(kind))
    off = store is None and data_dir() is None  # turned off on purpose: said quietly
    st.session_state[_state(kind)] = PageRun(
        saver, True, args, error=None if off else why, note=why if off else None, step=-2
    )
    st.session_state.pop(_live_key(kind), None)
    if old is not None and old.id is not None:
        show_run_in_url(None)


def _live_key(kind: str) -> str:
    return f"_runs_live_{kind}"  # st.session_state: the LiveRun last saved from


def owned(kind: str) -> bool:
    """Whether this session may change the page's run (True for a run not saved yet). A run
    another tab of this browser took over (:func:`load`) is no longer this session's."""
    page_run = st.session_state.get(_state(kind))
    if page_run is None:
        return True
    mine = st.session_state.get(_live_key(kind))
    if page_run.owned and getattr(mine, "superseded", False):
        page_run.owned, page_run.saver = False, None
        page_run.note = (
            "This run was opened in another tab or window of this browser, which "
            "now controls it: this tab only shows it as it was."
        )
        page_run.step = -2  # the note stays
    return page_run.owned


def refuse(kind: str) -> bool:
    """For a control's callback: True (and a message for the page) when this session may not
    change the run. The controls are not drawn for such a session; this is the server's
    check, whatever the browser sends."""
    if owned(kind):
        return False
    st.session_state[
        _state(kind)
    ].error = "This run belongs to another browser: it can be watched and copied here, not changed."
    return True


def autosave(kind: str, job, live=None, *, force: bool = False) -> None:
    """Save the page's run if it is the session's and due: at every change of status (Start,
    Pause, Stop, the end), every :data:`SAVE_EVERY` seconds while the step count moves, and
    at once for steps taken while paused (One step). ``live``: the run's
    :class:`~explorer.workers.LiveRun`, merged whole first (the weights of the step saved).
    A limit or a fault is kept as the page's message; training goes on in memory."""
    page_run = st.session_state.get(_state(kind))
    if page_run is None or page_run.saver is None or not owned(kind):
        return
    saver = page_run.saver
    moved = job.status != "running" and saver.run_id is not None and job.step != saver.saved_step
    if not (force or moved or saver.due(job)) or job.status == "ready":
        return
    if live is not None:
        live.poll(train=False)
        st.session_state[_live_key(kind)] = live
    try:
        saver.save(job, force=True, **page_run.args)
    except (NotOwner, CheckpointError) as err:
        saver.error = str(err)
    page_run.error = saver.error
    if saver.run_id is not None:
        if live is not None:
            _live_runs()[saver.run_id] = live
        if page_run.run_id != saver.run_id:
            page_run.run_id = saver.run_id
            show_run_in_url(saver.run_id)
    if page_run.note and job.step != page_run.step and page_run.step != -2:
        page_run.note = None


def fork(kind: str) -> None:
    """ "Continue as my own copy" (a button's callback): a copy of the run shown, owned by this
    session, with the same history; it takes the page's place at once."""
    page_run = st.session_state.get(_state(kind))
    store, why = run_store()
    if page_run is None or page_run.run_id is None or store is None:
        if page_run is not None:
            page_run.error = why or "There is no saved run to copy."
        return
    try:
        new_id = store.fork(page_run.run_id, owner_token())
    except RunStoreError as err:
        page_run.error = str(err)
        return
    arrived = load(kind, new_id)
    if arrived is not None:
        arrived.page_run.note = (
            f"Your own copy of run {page_run.run_id}, with its history: "
            "you can train it on; the original is not changed."
        )


def messages(kind: str, job) -> None:
    """Draw the run's note (it came back paused, it is a copy) and the last refusal (a
    limit, a fault); put the run's id back in the URL if a page switch dropped it."""
    page_run = st.session_state.get(_state(kind))
    if page_run is None:
        return
    if page_run.id is not None and st.query_params.get(RUN_PARAM) != page_run.id:
        show_run_in_url(page_run.id)  # back from another page: the link names the run again
    if page_run.note and job.step != page_run.step and page_run.step != -2:
        page_run.note = None
    if page_run.note:
        st.info(page_run.note, icon=":material/history:")
    if page_run.error:
        st.warning(page_run.error, icon=":material/cloud_off:")


FOLLOW_EVERY = 5.0  # seconds between two looks at the store by a read-only view


def read_only_bar(kind: str, container=None) -> None:
    """For a run of another browser: say so, offer "Continue as my own copy", and while its
    owner trains it, follow what the owner saves (a look at the store every
    :data:`FOLLOW_EVERY` seconds; the page is redrawn when the run changed): a teacher can put
    a student's run on the projector without taking it over."""
    container = container or st
    page_run = st.session_state.get(_state(kind))
    following = page_run is not None and page_run.following
    a, b = container.columns([3, 1.2], vertical_alignment="center")
    a.info(
        "**Watching a run of another browser, read-only.** "
        + (
            "Its owner is training it: this view follows what is saved, every few seconds. "
            if following
            else "This view shows it as its owner last saved it. "
        )
        + "To train it yourself, continue from a copy.",
        icon=":material/visibility:",
    )
    b.button(
        "Continue as my own copy",
        key=f"{kind}_fork",
        type="primary",
        width="stretch",
        on_click=fork,
        args=(kind,),
        icon=":material/fork_right:",
        help="A copy of this run with the same history, weights and settings, owned by "
        "this browser: train it on without changing the original.",
    )
    if following:
        with container:
            _follow(kind)


@st.fragment(run_every=FOLLOW_EVERY)
def _follow(kind: str) -> None:
    """Reload the run shown when its owner saved it since (one indexed row read otherwise)."""
    page_run = st.session_state.get(_state(kind))
    store, _ = run_store()
    if page_run is None or page_run.owned or page_run.run_id is None or store is None:
        return
    try:
        info = store.info(page_run.run_id)
    except RunStoreError:
        return  # expired or gone meanwhile: the view keeps what it shows
    if info.updated > page_run.seen and load(kind, page_run.run_id, quiet=True) is not None:
        st.rerun()


@st.cache_resource(show_spinner=False)
def _live_runs() -> weakref.WeakValueDictionary:
    """Run id -> the :class:`~explorer.workers.LiveRun` that trains it in some session of this
    server, held weakly (a session that goes takes its run with it). Only :func:`load` reads
    it, for a run the store says this browser owns: a reload takes over its old tab's run
    with every step it took, which the store's last save (a few seconds old) may not hold."""
    return weakref.WeakValueDictionary()


def _take_over(store, run_id: str, owner: str, meta: dict, tensors: dict) -> tuple[dict, dict]:
    """The newest state of an owned run: from a tab of this server still holding it (halted
    there, saved, that tab left watching), else the store's."""
    live = _live_runs().get(run_id)
    if live is None or any(st.session_state.get(_live_key(k)) is live for k in PAGE_KINDS):
        return meta, tensors
    live.halt()  # every step taken there, merged into that tab's run
    live.superseded = True  # that tab's controls are refused from now on
    try:
        newer, arrays = checkpoint(
            live.job,
            task_key=meta["config"]["task"]["key"],
            task_settings=task_settings(meta, tensors)[1],
            model=_model(meta),
        )
    except CheckpointError:
        return meta, tensors
    if live.job.status == "running":
        live.job.status = "paused"  # (saved as "running": it comes back paused, with a note)
    try:
        store.save_checkpoint(run_id, owner, newer, arrays)
    except RunStoreError:
        pass  # not saved now: this tab has every step all the same, and saves it later
    return newer, arrays


def _model(meta: dict):
    if meta["kind"] != "train":
        return None
    from ..config import CellConfig

    return CellConfig(**meta["config"]["model"])
