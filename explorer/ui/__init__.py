"""Shared Streamlit widgets and state helpers: the explorer.ui package is the only part of the
core that imports streamlit.

The sidebar's cell configuration is drawn once by the router (``streamlit_app.py``), so its
widgets live across page switches; pages read it with :func:`current_config`.
"""

from __future__ import annotations

import contextlib
import gc
import re
import threading
import time
import types
import weakref

import streamlit as st

from .. import inputs, loss_chart
from ..config import CELLS, CellConfig
from ..datasets import SERIES, load_series
from ..heap import trim_heap
from ..readers import read_series
from ..url_params import STEP_PARAMS
from . import presenter_mode, url_sync
from .url_sync import url_widget

DEFAULT = CellConfig()
# The sidebar's widgets are bound to the URL under the config's field names
# (?cell=gru&input_size=3&hidden_size=7): a link reproduces the cell. Streamlit drops values
# that do not fit a widget (an unknown cell, a size out of range) and keeps the default;
# explorer.ui.links notices and says so on the page (the parameters: explorer.url_params).
CONFIG_KEY = "cell_config"
ERROR_KEY = "cell_config_error"


def _size(key: str, help: str) -> int:
    """A size of the sidebar's cell: its range is ``config.LIMITS`` through the URL table."""
    return int(url_widget(st.number_input, key, key, help=help, persist_state=None))


def cell_sidebar(*, used_here: bool = True) -> CellConfig | None:
    """Draw the cell controls in the sidebar; store and return the resulting
    :class:`CellConfig`, or ``None`` (with the reason shown) when the sizes are inconsistent.
    ``used_here=False`` (the Learn page, which builds its own small models) says so under the
    heading; the controls stay, so the cell is kept for the other pages."""
    with st.sidebar:
        st.header("Cell")
        if not used_here:
            st.caption(
                ":material/info: Not used on this page, which builds its own small "
                "models: this cell is the one the other pages show and train."
            )
        # The selectbox shows labels ("GRU") but the link says cell=gru, so it is synced by
        # hand: Streamlit's binding would put the label in the URL.
        cell = url_sync.choice(
            st.selectbox, "Cell type", {k: spec.label for k, spec in CELLS.items()}, "cell"
        )
        nonlinearity = DEFAULT.nonlinearity
        if cell == "rnn":
            nonlinearity = url_widget(
                st.radio,
                "nonlinearity",
                "nonlinearity",
                horizontal=True,
                help="f in h_t = f(W_ih x_t + W_hh h_{t-1} + b)",
                persist_state=None,
            )
        input_size = _size("input_size", "Features per time step x_t.")
        hidden_size = _size("hidden_size", "Units in h_t (and c_t for LSTM).")
        num_layers = _size("num_layers", "Stacked recurrent layers.")
        proj_size = 0
        if cell == "lstm":
            proj_size = _size(
                "proj_size",
                "LSTM only: h_t = W_hr (o_t ⊙ tanh(c_t)), 0 for none. "
                "Must be smaller than hidden_size.",
            )
        bidirectional = url_widget(st.toggle, "bidirectional", "bidirectional", persist_state=None)
        bias = url_widget(st.toggle, "bias", "bias", persist_state=None)
        output_size = _size("output_size", "Outputs of the linear head y_t.")
        seed = _size("seed", "Same seed, same initial weights.")
        try:
            config = CellConfig(
                cell=cell,
                input_size=input_size,
                hidden_size=hidden_size,
                num_layers=num_layers,
                bidirectional=bidirectional,
                bias=bias,
                nonlinearity=nonlinearity,
                proj_size=proj_size,
                output_size=output_size,
                seed=seed,
            )
            st.session_state[ERROR_KEY] = None
        except ValueError as err:
            st.error(f"These sizes do not make a valid {CELLS[cell].label}: {err}.")
            config = None
            st.session_state[ERROR_KEY] = str(err)
    st.session_state[CONFIG_KEY] = config
    return config


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=])")


def plain(text: object) -> str:
    """``text`` (a file or column name from an upload) for a Markdown string: every character
    Markdown, Streamlit's directives (``:red[…]``, ``:material/…:``) or LaTeX (``$``) would read
    is backslash-escaped and line breaks become spaces, so a CSV header ``**x** $y$`` shows as
    written rather than bold with a formula."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(text).splitlines()))


PAGE_GLOBALS = "_page_globals"  # the module dict of the last full run of a page that owns one


class _Owned:
    """A page run's module dict, emptied when this holder is dropped (the session's state goes
    away) or replaced (:func:`release_page_globals`)."""

    def __init__(self, namespace: dict) -> None:
        self.namespace = namespace

    def __del__(self) -> None:
        self.namespace.clear()


def own_page_globals(namespace: dict) -> None:
    """Called by a page with ``globals()``: its variables are released by reference counting
    when the page's next full run starts or the session ends.

    A page script's functions (callbacks, fragments) point to its module dict through
    ``__globals__`` and the dict points to them, so the dict — and every model, trace and
    figure the page put in a variable — is a reference cycle that only ``gc.collect()`` frees
    (Streamlit's post-run collection is off in ``.streamlit/config.toml``): each Step-through
    run of a large model left hundreds of MB behind. Emptying the dict breaks the cycle."""
    release_page_globals(keep=namespace)
    st.session_state[PAGE_GLOBALS] = _Owned(namespace)


def release_page_globals(keep: dict | None = None) -> None:
    """Empty the module dict of the page's previous full run (the router calls this before
    each full run; widget callbacks of that run have already run by then, and its fragments
    are replaced by the new run's)."""
    old = st.session_state.get(PAGE_GLOBALS)
    if old is not None and old.namespace is not keep:
        st.session_state.pop(PAGE_GLOBALS, None)
        old.namespace.clear()


# what a page's callbacks may still read once the page is drawn (numbers, names, functions)
_LIGHT = (
    types.ModuleType,
    types.FunctionType,
    type,
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    type(None),
)


def drop_page_data(namespace: dict) -> None:
    """Called by a page with ``globals()`` as its last line: delete the variables that hold
    data (models, traces, tensors, arrays, figures, lists of them), keeping modules,
    functions, classes, numbers and strings, which its widget callbacks may read at the next
    rerun. Only for a page with no fragment (a fragment's rerun reads the page's variables).

    Between two reruns a session otherwise keeps everything its last run built: the largest
    Step-through view held its model's weights (84 M parameters, 336 MB) and traces, about
    410 MB a reader, for as long as the reader stayed, or 30 s more after the tab closed; ten
    readers one after another took the server over 2 GB."""
    for name, value in list(namespace.items()):
        if not name.startswith("__") and not isinstance(value, _LIGHT):
            del namespace[name]


SWEEP_SECONDS = 10.0  # how often the server looks for sessions that left
KEEP_DISCONNECTED = 30.0  # a closed tab's session is kept this long for a reconnection
_KNOWN = "\x00known"  # in the sweep's state: the session ids it saw last time


def _sweep(first_seen: dict) -> int:
    """Close the sessions that have been disconnected for ``KEEP_DISCONNECTED`` seconds (and
    those past Streamlit's own 2-minute reconnection time), as Streamlit closes a session
    (out of the store, then ``shutdown``: uploads and media files released); returns how many.

    Streamlit keeps a closed tab's session for 2 minutes in a TTL cache that forgets an entry
    only when the cache is next used, so on a quiet server every session that left stayed in
    memory, its model and traces included (ten students opening the largest Step-through view
    one after another left 4.2 GB). A reader whose connection drops for longer than
    ``KEEP_DISCONNECTED`` gets a new session, which the link in the address bar sets up again.
    ``first_seen`` (session id -> when this sweep first found it disconnected, and under
    ``_KNOWN`` a weak reference to every session it saw) is the sweeping thread's own; a
    session that vanished since the last sweep (Streamlit shuts a non-resumable one down
    itself) counts as dropped, so its cycles are collected too. Every dropped session's state
    is emptied (:func:`_empty`). Internal API of Streamlit 1.67 (the runtime's session manager and its
    storage): if it moves, nothing is dropped."""
    from streamlit.runtime import Runtime

    manager = Runtime.instance()._session_mgr
    storage = getattr(manager, "_session_storage", None)
    cache = getattr(storage, "_cache", None)
    if cache is None or not hasattr(cache, "expire"):
        return 0
    now = time.monotonic()
    known = first_seen.pop(_KNOWN, {})  # every session seen at the last sweep: id -> weakref
    with getattr(manager, "_storage_lock", contextlib.nullcontext()):
        expired = cache.expire()  # past Streamlit's own reconnection time
        stored = [info.session.id for info in storage.list()]
        leaving = []
        for sid in stored:
            if (
                now - first_seen.setdefault(sid, now) >= KEEP_DISCONNECTED
                and manager.get_active_session_info(sid) is None
            ):
                leaving.append(storage.get(sid))
                storage.delete(sid)  # under the lock a reconnection takes it with
    for info in [value for _, value in expired] + leaving:
        info.session.shutdown()  # as Streamlit's close_session: uploads, media files, caches
        _empty(info.session)
    for session_id in set(first_seen) - (set(stored) - {i.session.id for i in leaving}):
        del first_seen[session_id]
    # sessions Streamlit closed itself (not kept for a reconnection) leave cycles behind too
    with getattr(manager, "_storage_lock", contextlib.nullcontext()):
        sessions = [i.session for i in manager.list_active_sessions()]
        sessions += [i.session for i in storage.list()]
    now_known = {session.id: weakref.ref(session) for session in sessions}
    ours = {i.session.id for i in leaving} | {key for key, _ in expired}
    vanished = set(known) - set(now_known) - ours
    for session_id in vanished:
        session = known[session_id]()
        if getattr(getattr(session, "_state", None), "name", "") == "SHUTDOWN_REQUESTED":
            _empty(session)  # only a session Streamlit shut down: never a live one
    first_seen[_KNOWN] = now_known
    return len(expired) + len(leaving) + len(vanished)


def _empty(session) -> None:
    """Clear the state of a session that was shut down: its models, traces and page variables
    (through :class:`_Owned`) are freed by reference counting, whoever still holds the session.

    Streamlit's runtime loop (``Runtime._loop``, 1.67) sends each connected session's messages
    in a ``for active_session_info in ...`` loop whose variable outlives the loop: the last
    session it served stays referenced until another session connects. On a server the class
    has left, that was the last student's whole session, the largest Step-through view's model
    and traces included (about 410 MB), for as long as nobody came."""
    state = getattr(session, "_session_state", None)
    if state is not None:
        with contextlib.suppress(Exception):  # a script still unwinding may hold its lock
            state.clear()


COLLECT_SWEEPS = 3  # sweeps that collect after someone left (the first, and two more)


def _sweep_forever() -> None:
    first_seen: dict[str, float] = {}
    collect = 0  # sweeps that still collect
    while True:
        time.sleep(SWEEP_SECONDS)
        try:
            if _sweep(first_seen):
                collect = COLLECT_SWEEPS
            if collect:
                # a session holds cycles (Streamlit's own objects, our page functions): a
                # collection only after someone left, in this thread (no page waits for it);
                # again at the next sweeps, for what was let go after the first (a training
                # slice in flight, a script unwinding): a quiet server never collects itself
                collect -= 1
                gc.collect()
                trim_heap()
        except Exception:  # never take the server down; try again at the next sweep
            continue


# allocations before a young collection, and young collections before an older one (Python's
# defaults: 700, 10, 10): every script run allocates thousands of objects, most freed at once
GC_THRESHOLDS = (10_000, 20, 20)


@st.cache_resource(show_spinner=False)
def freeze_imports() -> int:
    """Once per server process, before its first page: import what the pages use and move
    every object alive then (modules, functions, classes: about a million with torch, pandas
    and Plotly) out of the garbage collector's sight with ``gc.freeze()``; returns how many.

    Python's full collections stop every thread of the server while they walk all tracked
    objects: with 30 students training, collections of 260-950 ms came every few seconds and
    every student's chart stalled with them. Frozen objects are never freed, which is right for
    modules; what sessions create afterwards is collected as before, less often
    (``GC_THRESHOLDS``)."""
    import pandas  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    import pyarrow  # noqa: F401
    import torch  # noqa: F401

    from .. import compare, lesson, lesson_figures, tasks, training  # noqa: F401
    from . import train_controls  # noqa: F401

    gc.collect()  # nothing collectable left among what is frozen
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return gc.get_freeze_count()


@st.cache_resource(show_spinner=False)
def start_janitor() -> threading.Thread:
    """Once per server process: a daemon thread that, every ``SWEEP_SECONDS``, drops the
    sessions disconnected for ``KEEP_DISCONNECTED`` seconds and collects what they held."""
    thread = threading.Thread(target=_sweep_forever, name="rnn-explorer-janitor", daemon=True)
    thread.start()
    return thread


def current_config() -> CellConfig:
    """The sidebar's configuration; if it is invalid, say so on the page and stop the page
    (the sidebar, and everything the user typed, stay as they are)."""
    config = st.session_state.get(CONFIG_KEY)
    if config is None:
        reason = st.session_state.get(ERROR_KEY) or "no cell configured"
        st.warning(f"Fix the cell settings in the sidebar to see this page: {reason}.")
        st.stop()
    return config


def show_chart(fig, key: str) -> None:
    """``st.plotly_chart`` with the project's defaults (full width, no Plotly logo; larger
    fonts and height in presenter mode)."""
    st.plotly_chart(
        presenter_mode.for_screen(fig), width="stretch", key=key, config={"displaylogo": False}
    )


def _stamp(value):
    """A cheap, hashable stand-in for a chart option: lists (curves) by identity and length."""
    if isinstance(value, list):
        return (id(value), len(value))
    if isinstance(value, tuple):
        return tuple(_stamp(v) for v in value)
    return value


def show_loss_curves(histories: dict, *, alt: str, **options) -> None:
    """``loss_chart.loss_curves(histories, **options)`` drawn with ``st.vega_lite_chart`` (redrawn
    in place while training runs; larger in presenter mode). The rows are built again only when
    a history grew or an option changed: a redraw with nothing new costs only the sending."""
    scale = presenter_mode.PRESENTER_SCALE if presenter_mode.presenter() else 1.0
    key = (
        tuple((k, id(h), len(h)) for k, h in histories.items()),
        scale,
        tuple(sorted((k, _stamp(v)) for k, v in options.items())),
    )
    cache = st.session_state.setdefault("_loss_charts", {})
    if alt not in cache or cache[alt][0] != key:
        import pyarrow as pa

        data, spec = loss_chart.loss_curves(histories, scale=scale, **options)
        # as an Arrow table made here, in this thread: Streamlit's own conversion of a
        # DataFrame starts a pool of threads for it at every redraw
        cache[alt] = (key, pa.Table.from_pandas(data, preserve_index=False, nthreads=1), spec)
    st.vega_lite_chart(cache[alt][1], cache[alt][2], width="stretch", alt=alt)


INPUT_KINDS = {
    "wave": "Wave",
    "random_walk": "Random walk",
    "typed": "Typed numbers",
    "text": "Text",
    "series": "Real series",
    "csv": "Your CSV",
}


Sequence = tuple[object, list[str] | None, str]  # (signal, alphabet, description)


def sequence_input(seed: int) -> Sequence | None:
    """Widgets that choose an input sequence. Returns ``(signal, alphabet, description)``:
    ``signal`` a ``(T,)`` float32 array, or for text a ``(T, V)`` one-hot tensor with its
    ``alphabet``; ``None`` (with the reason shown in place of the charts) when the input is
    unusable.

    Every widget is in the URL under its name in ``explorer.url_params.STEP_PARAMS`` (``input``,
    ``shape``, ``T``, ``cycles`` …; defaults and bounds from the table too), so a link
    reproduces the sequence; the values also survive page switches. An uploaded CSV cannot be
    in a link: ``input=csv`` opens the upload prompt."""
    kind = (
        url_sync.choice(st.segmented_control, "Input sequence", INPUT_KINDS, "input", required=True)
        or STEP_PARAMS["input"]
    )
    try:
        return _INPUT_WIDGETS[kind](seed)
    except ValueError as err:
        st.error(f"This input cannot be used: {plain(err)}.", icon=":material/error:")
        return None


def _length(kind: str) -> tuple[list, int]:
    """The columns of a wave's or random walk's widgets and the length T, one slider for both:
    T stays when the reader switches between them."""
    cols = st.columns(5) if kind == "wave" else st.columns(2)
    T = url_widget(cols[0 if kind == "random_walk" else 1].slider, "T", "length T")
    return cols, T


def _wave_input(seed: int) -> Sequence:
    cols, T = _length("wave")
    a, _, c, d, e = cols
    shape = url_widget(a.selectbox, "shape", "shape")
    cycles = url_widget(c.slider, "cycles", "cycles")
    amplitude = url_widget(d.slider, "amplitude", "amplitude")
    noise = url_widget(e.slider, "noise_std", "noise (std)")
    signal = inputs.wave(shape, T, cycles=cycles, amplitude=amplitude, noise=noise, seed=seed)
    return (
        signal,
        None,
        f"{shape} wave, {cycles:g} cycles, amplitude {amplitude:g}, noise {noise:g}",
    )


def _random_walk_input(seed: int) -> Sequence:
    cols, T = _length("random_walk")
    step = url_widget(cols[1].slider, "step_size", "step size (std)")
    return inputs.random_walk(T, step=step, seed=seed), None, f"random walk, seed {seed}"


def _typed_input(seed: int) -> Sequence:
    text = url_widget(st.text_input, "numbers", "Numbers, separated by commas or spaces")
    return inputs.parse_numbers(text), None, "typed numbers"


def _text_input(seed: int) -> Sequence:
    text = url_widget(
        st.text_input,
        "chars",
        "A short text (each character one-hot over the text's own alphabet)",
    )
    x, alphabet = inputs.text_one_hot(text)
    return x, alphabet, f"text of {len(text)} characters, alphabet of {len(alphabet)}"


def _series_input(seed: int) -> Sequence:
    a, b, c = st.columns([2, 1, 1])
    with a:
        series = url_sync.choice(
            st.selectbox, "series", {k: spec.label for k, spec in SERIES.items()}, "source"
        )
    n = len(load_series(series))
    length = int(url_widget(b.number_input, "length", "length T", high=min(2000, n)))
    start = int(url_widget(c.number_input, "start", "start position", high=n - 1))
    if not presenter_mode.presenter():
        st.caption(f"{SERIES[series].about} Standardised over the window (mean 0, std 1).")
    return inputs.series_window(series, start, length), None, SERIES[series].label


def _csv_input(seed: int) -> Sequence | None:
    upload = st.file_uploader(
        "A CSV file with at least one numeric column",
        type=["csv", "txt", "tsv"],
        key="csv",
    )
    if upload is None:
        st.info("Upload a CSV file to use one of its columns.", icon=":material/upload_file:")
        return None
    frame = read_series(upload)
    column = st.selectbox("column", list(frame.columns), key="csv_column", persist_state="session")
    return (
        inputs.column_signal(frame[column].to_numpy(), column),
        None,
        f"{plain(upload.name)}: {plain(column)} (standardised)",
    )


_INPUT_WIDGETS = {  # INPUT_KINDS -> the widgets that choose one
    "wave": _wave_input,
    "random_walk": _random_walk_input,
    "typed": _typed_input,
    "text": _text_input,
    "series": _series_input,
    "csv": _csv_input,
}
