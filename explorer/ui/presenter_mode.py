"""Presenter mode, for a projector: the sidebar's toggle (``?presenter=1``), the app's CSS
(``app.css``, and ``presenter.css`` when on: next to this file) and charts scaled to match."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from .links import LINK
from .url_sync import from_url, to_url

PRESENTER = "presenter"  # the toggle's key, and the URL flag presenter=1
COLLAPSE = "_links_collapse"  # a presenter link: the sidebar starts collapsed
PRESENTER_SCALE = 1.5  # chart fonts and heights grow by this in presenter mode (text: 24 px / 16)
_HERE = Path(__file__).resolve().parent
_CSS_ALWAYS = "\n<style>\n" + (_HERE / "app.css").read_text(encoding="utf-8") + "</style>\n"
_CSS_PRESENTER = (
    "\n<style>\n" + (_HERE / "presenter.css").read_text(encoding="utf-8") + "</style>\n"
)


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


def switch_page(file: str, query: dict[str, str]) -> None:
    """``st.switch_page(file, query_params=query)`` with presenter mode carried over (a teacher
    on the projector stays in it). ``query`` may hold only parameters no widget is bound to:
    Streamlit refuses the others (bound widgets put their own values back when drawn).
    Does not return (Streamlit stops the script to switch)."""
    if st.query_params.get(PRESENTER):
        query = query | {PRESENTER: st.query_params[PRESENTER]}
    st.switch_page(file, query_params=query)


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
