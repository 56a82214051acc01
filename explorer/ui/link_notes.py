"""The notes at the top of the page: what a link asked for and did not get, and the sentence
of the preset just opened. Notes stay until the reader dismisses them or changes page."""

from __future__ import annotations

import streamlit as st

from ..presets import PRESETS
from ..url_params import url_value

NOTES = "_links_notes"  # what the link asked for and did not get: list of markdown lines
NOTES_PAGE = "_links_notes_page"  # the page the notes were first shown on
ARRIVED = "_links_arrived"  # (preset key, page path) of the preset just opened


def note(text: str) -> None:
    """Add ``text`` to the notes at the top of the page (what a link asked for and did not
    get), shown until the reader dismisses them or changes page."""
    st.session_state.setdefault(NOTES, []).append(text)


def clip(raw: object, width: int = 40) -> str:
    """A link's value as a note quotes it between backticks: at most ``width`` characters
    (a 5,000-digit number says how long it was), no backtick to end the quote early, and no
    character that is not printed (line breaks such as U+0085 or U+2028 would split the note's
    list item; a space stands in for each)."""
    text = "".join(c if c.isprintable() else " " for c in str(raw).replace("`", "'"))
    if len(text) > width:
        text = f"{text[: width - 10]}… ({len(text):,} characters)"
    return text


def shown(value: object) -> str:
    if value is None:
        return "empty (off)"
    return f"`{clip(url_value(value))}`" if value != "" else "empty"


def notice(page) -> tuple:
    """The place above the page for the preset's sentence and the link's notes; draws those
    already known (notes stay until the reader dismisses them or changes page). Returns the
    slots :func:`explorer.ui.links.finish` fills."""
    path = page.url_path
    shown_on = st.session_state.get(NOTES_PAGE)
    if shown_on is not None and shown_on != path:  # the reader moved on: forget them
        for key in (NOTES, ARRIVED, NOTES_PAGE):
            st.session_state.pop(key, None)
    box = st.container(key="links_notice")
    slots = box.empty(), box.empty()
    draw(slots[0], path)
    return slots


def dismiss() -> None:
    for key in (NOTES, ARRIVED):
        st.session_state.pop(key, None)


def draw(slot, path: str) -> bool:
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
