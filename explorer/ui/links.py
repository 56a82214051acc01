"""The link a session opens: remember it, drop other pages' parameters, and say what it asked
for and did not get.

Streamlit drops a URL value that does not fit its widget without a word
(:mod:`explorer.ui.url_sync`), so the app keeps the link a session opened with and, once the
widgets are drawn, compares it with what they show; :func:`finish` then lists what it ignored
in a note at the top of the page (unknown names, another page's settings, values that did not
fit), until the reader dismisses it or changes page (:mod:`explorer.ui.link_notes`).
"""

from __future__ import annotations

import math

import streamlit as st

from ..presets import PRESETS
from ..url_params import (
    GLOBAL_PARAMS,
    NUMBERS,
    PAGES,
    SIDEBAR_PARAMS,
    known,
    owner,
    page_params,
    refusal,
    session_key,
    suggest,
    url_value,
)
from .link_notes import clip, dismiss, draw, note, shown
from .url_sync import PENDING, RANGES_KEY, WRITTEN, drop, flush, pop, put, unseed

LINK = "_links_opened"  # {name: raw value} of the link the session opened with, until checked
LAST_PAGE = "_links_page"  # the page of the previous run
OWNED = ("", "step_through")  # pages whose every parameter is listed in explorer.url_params
REFUSED = "_links_refused"  # {name: (raw, reason)}: numbers dropped before a widget read them


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
    (``low``/``high`` of :func:`explorer.ui.url_sync.url_widget`) or the URL table's
    (``explorer.url_params.NUMBERS``); else from the type of the value the widget kept."""
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


def _page_title(path: str) -> str:
    return PAGES[path].title if path in PAGES else path


def _understood(name: str, path: str) -> bool:
    return name in page_params(path)


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
                note(
                    f"The preset link sets everything itself; ignored "
                    f"{', '.join(f'`{clip(n)}`' for n in ignored)}."
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
            note(
                f"`{name}={clip(raw)}` is a setting of the {' and '.join(pages)} "
                f"page{'s' if len(pages) > 1 else ''}; ignored here."
            )
        st.session_state.get(WRITTEN, {}).pop(name, None)
    drop(foreign)


def _screen(opened: dict) -> None:
    """The opening link, before any widget reads it: a name given more than once is noted and
    kept once (the last value, the one Streamlit's widgets read); a number outside its widest
    range in the URL table (``inf``, ``1e309``, a 5,000-digit integer, a negative count) is
    removed from the URL and from the values Streamlit seeds widgets with, so the widget starts
    at its default; :func:`_check` then notes it with the range and the value shown."""
    for name in list(st.query_params):
        values = st.query_params.get_all(name)
        if len(values) > 1:
            note(
                f"`{clip(name)}` is in the link {len(values)} times "
                f"({', '.join(f'`{clip(v)}`' for v in values[:5])}"
                f"{' …' if len(values) > 5 else ''}); used the last one, `{clip(values[-1])}`."
            )
            put(name, values[-1])
    refused = st.session_state.setdefault(REFUSED, {})
    for name, raw in opened.items():
        number = NUMBERS.get(name)
        if number is None or not number.widget or raw is None:
            continue
        reason = refusal(name, raw)
        if reason:
            refused[name] = (raw, reason)
            unseed(name)


def _check(name: str, raw: str) -> str | None:
    """Compare one parameter of the opening link with what the drawn widgets show; a note if
    it was not used as written."""
    key = session_key(name)
    refused = st.session_state.get(REFUSED, {}).pop(name, None)
    if refused is not None:
        if key not in st.session_state:
            return f"`{name}={clip(raw)}`: {refused[1]}; ignored."
        value = st.session_state[key]
        return f"`{name}={clip(raw)}`: {_why(name, raw, value)}; showing {shown(value)}."
    if key not in st.session_state:
        pop(name)
        return f"`{name}={clip(raw)}` is not used in this view (it needs other settings first)."
    now = st.query_params.get(name)
    if now == raw:
        return None
    value = st.session_state[key]
    if now is not None:
        return f"`{name}={clip(raw)}` was read as `{clip(now)}`."
    if _same(raw, value):
        return None  # a default, spelt out: Streamlit drops it from the URL
    return f"`{name}={clip(raw)}`: {_why(name, raw, value)}; showing {shown(value)}."


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
            note(text)


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
                f"`{clip(name)}` is not a setting of this app"
                + (f" (did you mean `{close}`?)" if close else "")
                + "; ignored."
            )
            unknown.append(name)
        if text:
            note(text)
    drop(unknown)
    opened.clear()


def finish(page, slots, completed: bool = True) -> None:
    """After the page ran: check the rest of the opening link against the drawn widgets, add
    what was ignored to the notes, and redraw them with a Dismiss button. ``completed`` is
    False when the page stopped early (its widgets are not all drawn): the check then waits
    for a run that completes."""
    flush()
    if not completed:
        return
    _check_page(page.url_path, st.session_state.get(LINK))
    if draw(slots[0], page.url_path):
        slots[1].button(
            "Dismiss",
            key="links_dismiss",
            on_click=dismiss,
            type="tertiary",
            icon=":material/close:",
        )
