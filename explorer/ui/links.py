"""The classroom layer: links that reproduce a view, presets, and presenter mode.

How the URL works here (Streamlit 1.67, checked by experiment in AppTest and Chromium):

- Most widgets are bound with ``bind="query-params"``: the widget's key is the URL parameter.
  On a page load the URL sets the widget; a user's change rewrites the address bar in place
  (``history.replaceState``: no Back-button entry). A value that does not fit the widget (not a
  number, out of range, not an option) is dropped from the URL and the default is used, with
  no message; a float for an int widget is truncated (``2.5`` -> ``2``). A default value never
  appears in the URL.
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
  others through ``st.session_state`` (see :func:`open_preset`).
- Streamlit's page navigation drops parameters that no widget of the new page binds; a page's
  hand-synced parameters are written back when the reader returns, and the router drops the
  ones of other pages that a link or a page switch brought along.

Because bad values vanish silently, the app keeps the link a session opened with and, once the
widgets are drawn, compares it with what they show; :func:`finish` then lists what it ignored
in a note at the top of the page (unknown names, another page's settings, values that did not
fit), until the reader dismisses it or changes page.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st
from streamlit.errors import StreamlitAPIException

from ..presets import PRESETS, page_state
from ..url_params import (
    GLOBAL_PARAMS,
    NUMBERS,
    PAGES,
    SESSION_KEYS,
    SIDEBAR_PARAMS,
    known,
    owner,
    page_params,
    refusal,
    suggest,
    url_value,
)

LINK = "_links_opened"  # {name: raw value} of the link the session opened with, until checked
NOTES = "_links_notes"  # what the link asked for and did not get: list of markdown lines
NOTES_PAGE = "_links_notes_page"  # the page the notes were first shown on
WRITTEN = "_links_written"  # hand-synced parameters: the value this app last put in the URL
REPLACED = "_links_replaced"  # name -> (the URL value the last write replaced, when)
STALE_SECONDS = 3.0  # a request sent before the browser applied a write carries the old value
ARRIVED = "_links_arrived"  # (preset key, page path) of the preset just opened
TRANSIT = "_links_transit"  # preset key while the app switches to its page
LAST_PAGE = "_links_page"  # the page of the previous run
COLLAPSE = "_links_collapse"  # a presenter link: the sidebar starts collapsed
PENDING = "_links_pending"  # hand-synced values to write to the URL at the end of the run
PRESENTER = "presenter"  # the toggle's key, and the URL flag presenter=1
OWNED = ("", "step_through")  # pages whose every parameter is listed in explorer.presets
PRESENTER_SCALE = 1.5  # chart fonts and heights grow by this in presenter mode (text: 24 px / 16)
RANGES_KEY = "_links_ranges"  # bounds a page declared for its numeric widgets this session
REFUSED = "_links_refused"  # {name: (raw, reason)}: numbers dropped before a widget read them


# ---------------------------------------------------------------- small helpers
def _pop(name: str) -> None:
    """Remove ``name`` from the URL if it is there and not bound to a widget."""
    if name in st.query_params:
        try:
            del st.query_params[name]
        except StreamlitAPIException:  # bound to a widget: Streamlit owns it
            pass


def _drop(names: list[str]) -> None:
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
            _pop(name)


def _note(text: str) -> None:
    st.session_state.setdefault(NOTES, []).append(text)


def note(text: str) -> None:
    """Add ``text`` to the notes at the top of the page (what a link asked for and did not
    get), shown until the reader dismisses them or changes page."""
    _note(text)


def _clip(raw: object, width: int = 40) -> str:
    """A link's value as a note quotes it between backticks: at most ``width`` characters
    (a 5,000-digit number says how long it was), no backtick to end the quote early, and no
    character that is not printed (line breaks such as U+0085 or U+2028 would split the note's
    list item; a space stands in for each)."""
    text = "".join(c if c.isprintable() else " " for c in str(raw).replace("`", "'"))
    if len(text) > width:
        text = f"{text[: width - 10]}… ({len(text):,} characters)"
    return text


def _shown(value: object) -> str:
    if value is None:
        return "empty (off)"
    return f"`{_clip(url_value(value))}`" if value != "" else "empty"


def _same(raw: str, value: object) -> bool:
    """Whether the URL text ``raw`` spells ``value`` (used where Streamlit removed a default)."""
    if isinstance(value, bool):
        return raw.strip().lower() == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            return math.isclose(float(raw), float(value))
        except ValueError:
            return False
    return raw == url_value(value)


def _why(name: str, raw: str, value: object) -> str:
    """Why a URL value did not fit: outside the range the page declared for the current model
    (:func:`bounds`) or the URL table's (``explorer.presets.NUMBERS``); else from the type of
    the value the widget kept."""
    if isinstance(value, bool):
        return "expected true or false"
    if name in NUMBERS:
        try:
            float(raw)
        except ValueError:
            return "not a number"
        declared = st.session_state.get(RANGES_KEY, {}).get(name)
        reason = refusal(name, raw, declared) or refusal(name, raw)
        return reason or f"not one of the choices in {NUMBERS[name].span()}"
    return "not one of the choices"


def bounds(name: str, low: float, high: float) -> tuple[float, float]:
    """Declare the range of numeric widget ``name`` (quoted when a link's value falls outside
    it); returns ``(low, high)`` for the widget call."""
    st.session_state.setdefault(RANGES_KEY, {})[name] = (low, high)
    return low, high


def _page_title(path: str) -> str:
    return PAGES[path].title if path in PAGES else path


def _understood(name: str, path: str) -> bool:
    return name in page_params(path)


# ---------------------------------------------------------------- hand-synced parameters
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
        _note(
            f"`{name}={_clip(raw)}`: {expected or 'not a value this page knows'}; "
            f"showing {_shown(default)}."
        )
        _pop(name)
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
    _drop([n for n, t in changes.items() if t is None])
    st.session_state.setdefault(WRITTEN, {}).update(changes)


def put(name: str, text: str | None) -> None:
    """Write ``text`` to the URL under ``name`` now (``None``: remove it), for a widget whose
    value is written on every run (:func:`explorer.ui.training.url_choice`)."""
    if text is None:
        st.query_params.pop(name, None)
    else:
        st.query_params[name] = text


def choice(
    widget: Callable, label: str, options: dict, name: str, default: object, **kwargs
) -> object:
    """A selection widget (``st.radio``, ``st.selectbox``, ``st.segmented_control`` …) whose
    URL value is the option's key while the reader sees its label (``?input=random_walk``
    shows "Random walk"). Extra keyword arguments go to ``widget``."""
    from_url(
        name,
        lambda raw: options[raw] and raw,
        default,
        expected="not one of " + ", ".join(f"`{k}`" for k in options),
    )
    if st.session_state.get(name) not in options:  # first draw, or the options changed
        st.session_state[name] = default
    value = widget(
        label, list(options), format_func=options.get, key=name, persist_state="session", **kwargs
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


# ---------------------------------------------------------------- the link a session opens
def start(page) -> None:
    """First thing every run: remember the link this session opened with, and drop from the
    URL the parameters of other pages (they came along when the reader changed page, or in a
    link to the wrong page)."""
    path = page.url_path
    if st.session_state.get(LAST_PAGE) != path:
        # A new page: Streamlit's navigation does not carry hand-synced parameters over; the
        # widgets' own values stand and are written back. (A preset sets st.session_state as
        # well as the URL.)
        st.session_state[WRITTEN] = {}
        st.session_state[PENDING] = {}
        st.session_state[LAST_PAGE] = path
    if LINK not in st.session_state:  # the first run of the session
        opened = {name: st.query_params.get(name) for name in st.query_params}
        preset = opened.get("preset")
        if preset in PRESETS:
            ignored = sorted(set(opened) - set(GLOBAL_PARAMS))
            if ignored:
                _note(
                    f"The preset link sets everything itself; ignored "
                    f"{', '.join(f'`{_clip(n)}`' for n in ignored)}."
                )
            opened = {}
        st.session_state[LINK] = opened
        _screen(opened)
    refused = st.session_state.get(REFUSED, {})  # dropped by _screen, still to be noted
    names = list(dict.fromkeys([*st.query_params, *refused]))
    foreign = [n for n in names if known(n) and not _understood(n, path)]
    for name in foreign:
        refused.pop(name, None)
        if name in st.session_state.get(LINK, {}):  # in the link itself: say so
            raw = st.session_state[LINK].pop(name)
            pages = [_page_title(p) for p in owner(name)]
            _note(
                f"`{name}={_clip(raw)}` is a setting of the {' and '.join(pages)} "
                f"page{'s' if len(pages) > 1 else ''}; ignored here."
            )
        st.session_state.get(WRITTEN, {}).pop(name, None)
    _drop(foreign)


def _screen(opened: dict) -> None:
    """The opening link, before any widget reads it: a name given more than once is noted and
    kept once (the last value, the one Streamlit's widgets read); a number outside its widest
    range in the URL table (``inf``, ``1e309``, a 5,000-digit integer, a negative count) is
    removed from the URL and from the values Streamlit seeds widgets with, so the widget starts
    at its default; :func:`_check` then notes it with the range and the value shown."""
    for name in list(st.query_params):
        values = st.query_params.get_all(name)
        if len(values) > 1:
            _note(
                f"`{_clip(name)}` is in the link {len(values)} times "
                f"({', '.join(f'`{_clip(v)}`' for v in values[:5])}"
                f"{' …' if len(values) > 5 else ''}); used the last one, `{_clip(values[-1])}`."
            )
            st.query_params[name] = values[-1]
    refused = st.session_state.setdefault(REFUSED, {})
    for name, raw in opened.items():
        number = NUMBERS.get(name)
        if number is None or not number.widget or raw is None:
            continue
        reason = refusal(name, raw)
        if reason:
            refused[name] = (raw, reason)
            _unseed(name)


def _unseed(name: str) -> None:
    """Remove ``name`` from the URL and from the link Streamlit seeds this run's widgets with
    (deleting it from ``st.query_params`` alone leaves the seed: a widget would still read it)."""
    _pop(name)
    from streamlit.runtime.state import get_session_state

    with get_session_state().query_params() as qp:
        qp._initial_query_params.pop(name, None)  # internal (1.67); tests/test_links.py


def _bound(name: str) -> bool:
    """Whether URL parameter ``name`` is bound to a widget of this session (Streamlit then
    refuses to set it through ``st.query_params`` or ``st.switch_page``)."""
    try:
        from streamlit.runtime.state import get_session_state

        with get_session_state().query_params() as qp:
            return qp.is_bound(name)
    except Exception:  # an internal API: if it moves, assume bound (set via session_state)
        return name in st.session_state


def open_preset(page) -> None:
    """``?preset=<key>``: go to the preset's page and set its widgets.

    Runs before any widget is drawn, in two runs. The first sight of the key switches to the
    preset's page with the preset's parameters in the URL, except those bound to widgets that
    exist (``st.switch_page`` refuses them). The widgets drawn for the first time then read
    the URL; the second run sets the others through ``st.session_state`` (a widget that exists
    writes such a value to the URL; one drawn for the first time would not), resets the rest
    of the sidebar and of Step through to their defaults, removes ``preset`` from the URL and
    remembers the preset, whose sentence the page shows.
    """
    key = st.query_params.get("preset")
    if key is None:
        return
    preset = PRESETS.get(key)
    if preset is None:
        _note(
            f"There is no preset called `{_clip(key)}`; the rest of the link was used. "
            "Presets: " + ", ".join(f"`{k}`" for k in PRESETS) + "."
        )
        _pop("preset")
        st.session_state.get(LINK, {}).pop("preset", None)
        return
    transit = st.session_state.get(TRANSIT)
    if transit is None or transit[0] != key:
        via_url = {n: v for n, v in preset.query().items() if not _bound(n)}
        st.session_state[TRANSIT] = (key, sorted(via_url))
        query = via_url | {"preset": key}
        if st.query_params.get(PRESENTER):  # presenter mode survives the switch
            query[PRESENTER] = st.query_params[PRESENTER]
        st.switch_page(PAGES[preset.page].file, query_params=query)
    del st.session_state[TRANSIT]
    for name, value in page_state(preset).items():
        if name not in transit[1]:  # those came by URL: setting them here would hide that
            st.session_state[SESSION_KEYS.get(name, name)] = value
    _pop("preset")
    st.session_state[ARRIVED] = (key, preset.page)
    st.session_state[NOTES_PAGE] = None


def _check(name: str, raw: str) -> str | None:
    """Compare one parameter of the opening link with what the drawn widgets show; a note if
    it was not used as written."""
    key = SESSION_KEYS.get(name, name)
    refused = st.session_state.get(REFUSED, {}).pop(name, None)
    if refused is not None:
        if key not in st.session_state:
            return f"`{name}={_clip(raw)}`: {refused[1]}; ignored."
        value = st.session_state[key]
        return f"`{name}={_clip(raw)}`: {_why(name, raw, value)}; showing {_shown(value)}."
    if key not in st.session_state:
        _pop(name)
        return f"`{name}={_clip(raw)}` is not used in this view (it needs other settings first)."
    now = st.query_params.get(name)
    if now == raw:
        return None
    value = st.session_state[key]
    if now is not None:
        return f"`{name}={_clip(raw)}` was read as `{_clip(now)}`."
    if _same(raw, value):
        return None  # a default, spelt out: Streamlit drops it from the URL
    return f"`{name}={_clip(raw)}`: {_why(name, raw, value)}; showing {_shown(value)}."


def check_sidebar() -> None:
    """After the sidebar is drawn, on the first run: notes for its parameters in the link."""
    opened = st.session_state.get(LINK)
    if not opened:
        return
    for name in [n for n in opened if n in SIDEBAR_PARAMS]:
        raw = opened.pop(name)
        if name == "cell":
            continue  # hand-synced: from_url noted a bad value itself
        text = _check(name, raw)
        if text:
            _note(text)


def _check_page(path: str, opened: dict | None) -> None:
    """The opening link's page parameters against the drawn page (once)."""
    if not opened:
        return
    hand_synced = st.session_state.get(WRITTEN, {})
    unknown = []
    for name, raw in list(opened.items()):
        if name in GLOBAL_PARAMS or name in hand_synced:
            continue  # presets, presenter and hand-synced widgets say so themselves
        if _understood(name, path) or (path not in OWNED and name in st.session_state):
            text = _check(name, raw)
        else:
            close = suggest(name)
            text = (
                f"`{_clip(name)}` is not a setting of this app"
                + (f" (did you mean `{close}`?)" if close else "")
                + "; ignored."
            )
            unknown.append(name)
        if text:
            _note(text)
    _drop(unknown)
    opened.clear()


def notice(page) -> tuple:
    """The place above the page for the preset's sentence and the link's notes; draws those
    already known (notes stay until the reader dismisses them or changes page). Returns the
    slots :func:`finish` fills."""
    path = page.url_path
    shown_on = st.session_state.get(NOTES_PAGE)
    if shown_on is not None and shown_on != path:  # the reader moved on: forget them
        for key in (NOTES, ARRIVED, NOTES_PAGE):
            st.session_state.pop(key, None)
    box = st.container(key="links_notice")
    slots = box.empty(), box.empty()
    _draw_notes(slots[0], path)
    return slots


def finish(page, slots, completed: bool = True) -> None:
    """After the page ran: check the rest of the opening link against the drawn widgets, add
    what was ignored to the notes, and redraw them with a Dismiss button. ``completed`` is
    False when the page stopped early (its widgets are not all drawn): the check then waits
    for a run that completes."""
    flush()
    if not completed:
        return
    _check_page(page.url_path, st.session_state.get(LINK))
    if _draw_notes(slots[0], page.url_path):
        slots[1].button(
            "Dismiss",
            key="links_dismiss",
            on_click=_dismiss,
            type="tertiary",
            icon=":material/close:",
        )


def _dismiss() -> None:
    for key in (NOTES, ARRIVED):
        st.session_state.pop(key, None)


def _draw_notes(slot, path: str) -> bool:
    """Draw the preset's sentence and the notes into ``slot`` (replacing what it held); True
    if there was anything to draw."""
    notes = st.session_state.get(NOTES, [])
    arrived = st.session_state.get(ARRIVED)
    preset = PRESETS[arrived[0]] if arrived and arrived[1] == path else None
    if not notes and preset is None:
        return False
    st.session_state[NOTES_PAGE] = path
    with slot.container():
        if preset is not None:
            st.info(f"**Preset: {preset.title}.** {preset.look_for}", icon=":material/lightbulb:")
        if notes:
            st.warning(
                "**Some of this link was ignored:**\n" + "\n".join(f"- {n}" for n in notes),
                icon=":material/link_off:",
            )
    return True


# ---------------------------------------------------------------- presenter mode
def initial_sidebar() -> str:
    """``st.set_page_config``'s ``initial_sidebar_state``: a presenter link opens with the
    sidebar collapsed (the page gets the projector's whole width) and keeps saying so while
    presenter mode stays on: the browser applies a *change* of this setting, so going back to
    "auto" at the next run (a click on Start) would open the sidebar in front of the class,
    while the same "collapsed" again leaves it as the teacher left it."""
    if LINK not in st.session_state and st.query_params.get(PRESENTER) == "1":
        st.session_state[COLLAPSE] = True
    elif not st.session_state.get(PRESENTER, True):  # presenter mode switched off
        st.session_state.pop(COLLAPSE, None)
    return "collapsed" if st.session_state.get(COLLAPSE) else "auto"


def presenter() -> bool:
    """True in presenter mode (sidebar toggle, or ``?presenter=1``)."""
    return bool(st.session_state.get(PRESENTER, False))


def _flag(raw: str) -> bool:
    if raw.strip().lower() in ("1", "true", "on", "yes"):
        return True
    if raw.strip().lower() in ("0", "false", "off", "no"):
        return False
    raise ValueError


def presenter_toggle() -> bool:
    """The sidebar's presenter-mode toggle, synced with ``?presenter=1``; draws the mode's
    CSS when on."""
    from_url(PRESENTER, _flag, False, expected="expected `presenter=1` or `presenter=0`")
    on = st.toggle(
        "Presenter mode",
        key=PRESENTER,
        help="For a projector: text and charts 1.5 times larger; Streamlit's menu and the "
        "longer explanations are hidden. Link: add presenter=1.",
    )
    to_url(PRESENTER, "1" if on else "", "")
    return on


_CSS_ALWAYS = """
<style>
/* Streamlit's Deploy button and the Stop of its running indicator (top right) are for the
   developer: a class sees the page's own Stop button only (.streamlit/config.toml also sets
   client.toolbarMode = "viewer"). A smaller top margin: the first screen shows more. */
[data-testid="stAppDeployButton"], [data-testid="stStatusWidget"] button {
  display: none !important; }
/* the owner cookie's script (explorer/ui/runs.py) draws nothing: no gap in the sidebar */
div:has(> .st-key-run_owner_cookie) { display: none; }
[data-testid="stMainBlockContainer"] { padding-top: 3rem; }
/* A 1024-px projector with the sidebar open leaves ~560 px for the page with Streamlit's
   padding: give the cell diagram its width back. */
@media (max-width: 1280px) {
  [data-testid="stMainBlockContainer"] { padding-left: 1.5rem; padding-right: 1.5rem; }
  /* equations side by side (Cell page) fit their half of the page */
  .katex-display > .katex { font-size: 1.0em; }
}
/* preset titles in the sidebar wrap instead of being cut off */
[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"] span,
[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"] p {
  white-space: normal; overflow: visible; text-overflow: clip; }
/* an equation that still does not fit scrolls instead of being cut off */
.katex-display { overflow-x: auto; overflow-y: hidden; padding-bottom: 2px; }
</style>
"""

_CSS_PRESENTER = """
<style>
html { font-size: 24px; }  /* 1.5 x Streamlit's 16 px: it sizes its text and widgets in rem */
[data-testid="stMainBlockContainer"] { padding: 2.5rem 1.5rem 4rem; max-width: none; }
/* Streamlit's own menu (the sidebar's expand button stays) and anything a page marks as an
   explanation (a container keyed explain_…). The settings in expanders stay: the teacher
   changes the learning rate, the clamps, the initial state live. */
[data-testid="stMainMenu"], [data-testid="stDecoration"],
[class*="st-key-explain"] { display: none !important; }
</style>
"""


def page_css() -> None:
    """The app's CSS: a narrower page margin on small screens, and presenter mode's."""
    st.html(_CSS_ALWAYS + (_CSS_PRESENTER if presenter() else ""))


def for_screen(fig: go.Figure) -> go.Figure:
    """``fig`` as the screen should show it: in presenter mode a copy whose fonts, height and
    (where fixed, as the cell diagram's) width grow by ``PRESENTER_SCALE``, so the drawing keeps
    its proportions; otherwise ``fig`` itself."""
    if not presenter():
        return fig
    fig = go.Figure(fig)
    layout = fig.layout
    layout.font.size = (layout.font.size or 12) * PRESENTER_SCALE
    for path in ("title.font", "legend.font", "hoverlabel.font"):
        _scale_font(layout, path)
    for axis in [*fig.select_xaxes(), *fig.select_yaxes()]:
        _scale_font(axis, "tickfont")
        _scale_font(axis, "title.font")
    for note in layout.annotations or ():
        if note.font.size:
            note.font.size *= PRESENTER_SCALE
    for trace in fig.data:
        for bar in (
            getattr(trace, "colorbar", None),
            getattr(getattr(trace, "marker", None), "colorbar", None),
        ):
            if bar is not None:
                _scale_font(bar, "tickfont")
                _scale_font(bar, "title.font")
    for name in ("height", "width"):
        if layout[name]:
            layout[name] = round(layout[name] * PRESENTER_SCALE)
    return fig


def _scale_font(obj, path: str) -> None:
    for part in path.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            return
    if getattr(obj, "size", None):
        obj.size *= PRESENTER_SCALE


# ---------------------------------------------------------------- sidebar: presets, link
_COPY_LINK = """
<div class="rnn-copy-link">
  <input type="text" readonly aria-label="Link to this view" class="rnn-link-url">
  <button type="button" class="rnn-link-copy">Copy link</button>
</div>
<style>
.rnn-copy-link { display: flex; gap: 0.4rem; align-items: center; }
.rnn-copy-link input { flex: 1; min-width: 0; font: inherit; font-size: 0.8rem;
  padding: 0.35rem 0.5rem; border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem;
  background: transparent; color: inherit; }
.rnn-copy-link button { font: inherit; font-size: 0.85rem; padding: 0.35rem 0.7rem;
  border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; background: white;
  cursor: pointer; white-space: nowrap; }
.rnn-copy-link button:hover { border-color: #ff4b4b; color: #ff4b4b; }
</style>
<script>
(() => {
  // The address bar is the truth: Streamlit rewrites it in place when a bound widget
  // changes, and Python's copy of it lags one change behind.
  const show = () => document.querySelectorAll(".rnn-link-url").forEach((el) => {
    if (document.activeElement !== el) el.value = window.location.href;
  });
  if (!window.rnnCopyLink) {
    window.rnnCopyLink = setInterval(show, 300);
    document.addEventListener("focusin", (e) => {
      if (e.target.classList && e.target.classList.contains("rnn-link-url")) e.target.select();
    });
    document.addEventListener("click", async (e) => {
      const button = e.target.closest && e.target.closest(".rnn-link-copy");
      if (!button) return;
      const field = button.parentElement.querySelector(".rnn-link-url");
      field.value = window.location.href;
      try {
        await navigator.clipboard.writeText(field.value);
      } catch (err) {  // not a secure context (http on a school network): copy the old way
        field.focus(); field.select(); document.execCommand("copy");
      }
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = "Copy link"; }, 1500);
    });
  }
  show();
})();
</script>
"""


def copy_link() -> None:
    """The address of the current view, with a Copy button: opened in another browser it shows
    the same page, cell and settings."""
    st.html(_COPY_LINK, unsafe_allow_javascript=True)


def presets_menu() -> None:
    """One link per preset: a click opens its page, set up, with its sentence on top."""
    with st.expander("Presets", icon=":material/bookmarks:"):
        for preset in PRESETS.values():
            st.page_link(
                PAGES[preset.page].file,
                label=preset.title,
                query_params={"preset": preset.key} | ({PRESENTER: "1"} if presenter() else {}),
                help=f"Opens {PAGES[preset.page].title}. {preset.look_for}",
            )


def sidebar() -> None:
    """The classroom part of the sidebar: presets, presenter mode, the link to this view."""
    with st.sidebar:
        presets_menu()
        presenter_toggle()
        copy_link()
