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
  :func:`show_run_in_url` writes it when a run starts or is forked.
* **The store.** :func:`run_store` opens it once per server process (``st.cache_resource``:
  the store object holds a path and limits, no user's data; each call opens its own
  connection). A fault gives ``(None, message)``: the page says so and trains in memory.

How a page uses it (Train; Compare the same with its Comparison and no ``model=``)::

    store, why_not = runs.run_store()              # show why_not once, if any
    owner = runs.owner_token(); runs.remember_owner()
    run_id, note = runs.run_from_url()             # note: a malformed id (page defaults)
    if run_id and run_id != st.session_state.get(SAVER_RUN):   # a link or a reload
        try:
            stored = store.load(run_id)            # RunNotFound / RunExpired / RunCorrupt:
        except RunStoreError as err:               # str(err) as the note, page defaults
            ...
        trainer = restore(stored.meta, stored.tensors)  # "running" comes back "paused"
        mine = stored.owned_by(owner)              # else read-only: no Pause/Resume/Reset,
        saver = RunSaver(store, owner, run_id if mine else None)  # and a "continue as my
        # own copy" button: run_id = store.fork(run_id, owner) -> RunSaver(store, owner,
        # run_id), runs.show_run_in_url(run_id). stored.meta["config"] holds the model,
        # training and task settings: put them in the widgets so the page does not take the
        # restored run for a change of settings.
    # after every slice of training, and at Start / Pause / Stop:
    saver.save(trainer, task_key=key, task_settings=settings, model=config)
    runs.show_run_in_url(saver.run_id)             # None until the run starts
    # saver.error: a limit or a fault, as a message; Reset: a new RunSaver, no run= in the URL
"""
from __future__ import annotations

import re

import streamlit as st

from ..runstore import (
    BadRunId,
    Limits,
    RunStoreError,
    SQLiteRunStore,
    StoreUnavailable,
    check_run_id,
    new_owner_token,
    open_store,
)

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
    st.html(_COOKIE_SCRIPT.format(name=COOKIE, value=token, age=int(max_age_days * 86400)),
            width="content", unsafe_allow_javascript=True)
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
    """Put ``run=<id>`` in the address bar (None removes it)."""
    if run_id is None:
        st.query_params.pop(RUN_PARAM, None)
    elif st.query_params.get(RUN_PARAM) != check_run_id(run_id):
        st.query_params[RUN_PARAM] = run_id


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
