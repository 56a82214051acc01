"""The Streamlit side of the URL: widgets bound to it, and the few values synced by hand.

The parameters themselves (names, types, defaults, bounds, owning pages) are the table in
:mod:`explorer.url_params`. How the URL works here (Streamlit 1.67, checked by experiment in
AppTest and Chromium):

- Most widgets are bound with ``bind="query-params"``: the widget's key is the URL parameter.
  Every such widget is drawn by :func:`url_widget`, which reads its key, default, range, step
  and options from the table, so a page states none of them itself. On a page load the URL
  sets the widget; a user's change rewrites the address bar in place (``history.replaceState``:
  no Back-button entry). A value that does not fit the widget (not a number, out of range, not
  an option) is dropped from the URL and the default is used, with no message; a float for an
  int widget is truncated (``2.5`` -> ``2``). A default value never appears in the URL.
- A selection widget bound that way puts its *label* in the URL, so the few whose labels are
  not URL words (the cell type "GRU", the input kind "Random walk", the weights, the series)
  are synced by hand with :func:`from_url` and :func:`to_url`, and so is the step player's
  position ``t``. A write from Python adds a Back-button entry (``history.pushState``), so the
  position is written only when it settles: never on every frame while playing.
- Python's ``st.query_params`` is not refreshed from the address bar on a rerun of the same
  page: after a user changes a bound widget it lags one change behind. The copy-link control
  therefore reads the address bar itself, in the browser.
- A bound value set through ``st.session_state`` reaches the URL only if the widget was drawn
  in an earlier completed run, and ``st.switch_page(query_params=...)`` refuses a parameter
  bound to an existing widget. A preset therefore switches to its page with the parameters
  of widgets that do not exist yet in the URL (they read it when first drawn) and sets the
  others through ``st.session_state`` (see :func:`explorer.ui.presets_menu.open_preset`).
- Streamlit's page navigation drops parameters that no widget of the new page binds; a page's
  hand-synced parameters are written back when the reader returns, and the router drops the
  ones of other pages that a link or a page switch brought along.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import streamlit as st
from streamlit.errors import StreamlitAPIException

from ..url_params import OFF, PARAMS, URL, Param, url_value
from .link_notes import clip, note, shown

WRITTEN = "_links_written"  # hand-synced parameters: the value this app last put in the URL
REPLACED = "_links_replaced"  # name -> (the URL value the last write replaced, when)
STALE_SECONDS = 3.0  # a request sent before the browser applied a write carries the old value
PENDING = "_links_pending"  # hand-synced values to write to the URL at the end of the run
RANGES_KEY = "_links_ranges"  # bounds a page narrowed for its numeric widgets this session
_TABLE = object()  # url_widget's default: the table's
_NUMBER_WIDGETS = ("slider", "number_input")
_INDEXED_WIDGETS = ("radio", "selectbox")  # options and an index


def _default(param: Param, default: object) -> object:
    """The table's default of ``param``, or the page's ``default`` where the table leaves it
    (``None``); a page's default beside the table's raises ``ValueError``."""
    if default is _TABLE:
        return param.default
    if param.default is not None:
        raise ValueError(f"{param.name}'s default is the URL table's ({param.default!r})")
    return default


def url_widget(
    widget: Callable,
    name: str,
    label: str,
    *,
    low: float | None = None,
    high: float | None = None,
    options: list | None = None,
    default: object = _TABLE,
    persist_state: str | None = "session",
    **kwargs,
):
    """Draw ``widget`` (``st.slider``, ``column.number_input``, ``st.select_slider``,
    ``st.radio``, ``st.selectbox``, ``st.segmented_control``, ``st.toggle``, ``st.text_input``)
    bound to the URL parameter ``name``, with the key, default, bounds, step and options that
    :data:`explorer.url_params.PARAMS` gives it; returns the widget's value.

    Args:
        low, high: a number's range for the current model, inside the table's (``unit`` below
            ``hidden_size``); remembered so that a link's value outside it is quoted in the
            note (:func:`explorer.ui.links.finish`).
        options: the table's options that exist for the current model (the layers).
        default: only for a parameter whose default the page derives (the table says
            ``None``: a task's settings, Train's and Compare's training settings); a choice
            not among the options is added to them in order.
        persist_state: Streamlit's; ``None`` for the sidebar, which lives across pages.
        kwargs: the rest of the widget's arguments (``help``, ``format_func`` …).

    Raises:
        ValueError: ``default`` given for a parameter whose default is the table's.
    """
    param = PARAMS[name]
    default = _default(param, default)
    kind = widget.__name__
    bound = dict(key=param.key, bind=URL, persist_state=persist_state)
    if kind in _NUMBER_WIDGETS:
        bound |= _number_range(param, low, high) | dict(value=default)
        if param.step is not None:
            bound["step"] = param.step
    elif options is not None or param.options is not None:
        choices = _with(list(param.options if options is None else options), default)
        if kind in _INDEXED_WIDGETS:
            bound |= dict(options=choices, index=choices.index(default))
        else:  # select_slider, segmented_control
            bound |= dict(options=choices)
            bound["default" if kind == "segmented_control" else "value"] = default
    else:  # toggle, text_input
        bound["value"] = default
    return widget(label, **bound, **kwargs)


def _number_range(param, low, high) -> dict:
    """``min_value``/``max_value`` of a number widget: the table's, or the page's narrower range
    (remembered in :data:`RANGES_KEY`), as ints for an integer parameter."""
    if low is not None or high is not None:
        low = param.bounds.low if low is None else low
        high = param.bounds.high if high is None else high
        st.session_state.setdefault(RANGES_KEY, {})[param.name] = (low, high)
    else:
        low, high = param.bounds.low, param.bounds.high
    cast = int if param.bounds.integer else float
    return dict(min_value=cast(low), max_value=None if high is None else cast(high))


def _with(options: list, value) -> list:
    """``options`` with ``value`` added in order if it is missing (a page's own default, such
    as Compare's batch size); ``OFF`` stays first."""
    if value in options or value is None:
        return options
    head, rest = options[:1], options[1:]
    if head == [OFF]:
        return head + sorted([*rest, value])
    return sorted([*options, value])


def pop(name: str) -> None:
    """Remove ``name`` from the URL if it is there and not bound to a widget."""
    if name in st.query_params:
        try:
            del st.query_params[name]
        except StreamlitAPIException:  # bound to a widget: Streamlit owns it
            pass


def drop(names: list[str]) -> None:
    """Remove ``names`` from the URL in one step (one Back-button entry, not one per name)
    when none of the rest is bound to a widget; else one by one."""
    names = [n for n in names if n in st.query_params]
    if not names:
        return
    rest = {n: st.query_params.get_all(n) for n in st.query_params if n not in names}
    try:
        st.query_params.from_dict(rest)
    except StreamlitAPIException:  # some are bound to widgets: Streamlit owns those
        for name in names:
            pop(name)


def unseed(name: str) -> None:
    """Remove ``name`` from the URL and from the link Streamlit seeds this run's widgets with
    (deleting it from ``st.query_params`` alone leaves the seed: a widget would still read it)."""
    pop(name)
    from streamlit.runtime.state import get_session_state

    with get_session_state().query_params() as qp:
        qp._initial_query_params.pop(name, None)  # internal (1.67); tests/test_links.py


def is_bound(name: str) -> bool:
    """Whether URL parameter ``name`` is bound to a widget of this session (Streamlit then
    refuses to set it through ``st.query_params`` or ``st.switch_page``)."""
    try:
        from streamlit.runtime.state import get_session_state

        with get_session_state().query_params() as qp:
            return qp.is_bound(name)
    except Exception:  # an internal API: if it moves, assume bound (set via session_state)
        return name in st.session_state


def from_url(
    name: str,
    parse: Callable[[str], object],
    default: object,
    *,
    key: str | None = None,
    expected: str = "",
) -> None:
    """Before drawing a hand-synced widget: let the URL set it when the URL says something new
    to this session (a link just opened, Back/Forward, a preset), else leave the widget's own
    value.

    ``parse(raw)`` returns the value or raises ``ValueError``; a value that does not parse sets
    ``default`` and a note naming what was ignored (``expected`` says what would have fitted).
    The value goes into ``st.session_state[key or name]``.
    """
    raw = st.query_params.get(name)
    written = st.session_state.setdefault(WRITTEN, {})
    if raw is None or raw == written.get(name):
        # Nothing new: the widget's own value stands. An absent parameter never resets a
        # widget: page navigation drops hand-synced parameters, and Back can land on an
        # address written half-way through a run.
        return
    old, when = st.session_state.setdefault(REPLACED, {}).get(name, (None, -math.inf))
    if raw == old and time.monotonic() - when < STALE_SECONDS:
        # the value our last write replaced, from a request the browser sent before it had
        # applied that write (a playback frame in flight when Pause was pressed): not news
        return
    written[name] = raw
    key = key or name
    try:
        st.session_state[key] = parse(raw)
    except (ValueError, TypeError, KeyError):
        st.session_state[key] = default
        note(
            f"`{name}={clip(raw)}`: {expected or 'not a value this page knows'}; "
            f"showing {shown(default)}."
        )
        pop(name)
        written[name] = None


def to_url(name: str, value: object, default: object, *, now: bool = False) -> None:
    """After drawing a hand-synced widget: put its value in the URL (nothing for the default).

    The writes of one run go to the browser together at its end (:func:`flush`, one Back-button
    entry per run rather than one per widget); ``now=True`` writes at once (from a fragment,
    whose reruns do not reach the end of the script)."""
    text = None if value == default else url_value(value)
    pending = st.session_state.setdefault(PENDING, {})
    pending[name] = text
    if now:
        flush([name])


def flush(names: list[str] | None = None) -> None:
    """Send the pending hand-synced values (``names``, or all) to the URL in one message."""
    pending = st.session_state.setdefault(PENDING, {})
    changes = {
        n: pending.pop(n) for n in (list(pending) if names is None else names) if n in pending
    }
    sets = {n: t for n, t in changes.items() if t is not None and st.query_params.get(n) != t}
    replaced = st.session_state.setdefault(REPLACED, {})
    for n in sets:
        replaced[n] = (st.query_params.get(n), time.monotonic())
    if sets:
        st.query_params.update(sets)
    drop([n for n, t in changes.items() if t is None])
    st.session_state.setdefault(WRITTEN, {}).update(changes)


def put(name: str, text: str | None) -> None:
    """Write ``text`` to the URL under ``name`` now (``None``: remove it if there). For a value
    written once (a link's repeated
    name, the run id of a link that cannot be opened)."""
    if text is None:
        st.query_params.pop(name, None)
    else:
        st.query_params[name] = text


def _is_option(value: object, options) -> bool:
    """``value`` is one of ``options`` by type and value (``True`` is not ``1``)."""
    return any(value is o or (type(value) is type(o) and value == o) for o in options)


def choice(
    widget: Callable,
    label: str,
    labels: dict,
    name: str,
    *,
    default: object = _TABLE,
    **kwargs,
) -> object:
    """A selection widget (``st.radio``, ``st.selectbox``, ``st.segmented_control`` …) whose
    URL value is the option itself, spelt as :func:`explorer.url_params.url_value` spells it
    (``?input=random_walk``, ``?difference=true``), while the reader sees its label ("Random
    walk"): Streamlit's own binding would write the label. ``labels`` maps each option to its
    label, in order.

    The default is the URL table's (:data:`explorer.url_params.PARAMS`); ``default`` only for a
    parameter whose default the page derives (the table leaves it ``None``: the training task,
    Train's and Compare's differ; each page then keeps its own choice, as its default index is
    part of the widget). A link value that is not an option sets the default and a
    note naming the options; a stored value no longer among them (the options changed) falls
    back to the default. Extra keyword arguments go to ``widget``.

    Raises:
        ValueError: ``default`` given for a parameter whose default is the table's.
    """
    param = PARAMS[name]
    default = _default(param, default)
    by_text = {url_value(o): o for o in labels}
    from_url(
        name,
        by_text.__getitem__,
        default,
        expected="not one of " + ", ".join(f"`{k}`" for k in by_text),
    )
    if not _is_option(st.session_state.get(name), labels):  # first draw, or the options changed
        st.session_state[name] = default
    if param.default is None:  # the page's own default: its index is part of the widget, so
        # each page keeps its own choice (Train's task does not follow the reader to Compare)
        kwargs["index"] = list(labels).index(default)
    value = widget(
        label, list(labels), format_func=labels.get, key=name, persist_state="session", **kwargs
    )
    to_url(name, value if value is not None else default, default)
    return value


def int_in(low: int, high: int) -> Callable[[str], int]:
    """A parser for :func:`from_url`: an integer ``low <= n <= high``."""

    def parse(raw: str) -> int:
        n = int(raw)
        if not low <= n <= high:
            raise ValueError
        return n

    return parse
