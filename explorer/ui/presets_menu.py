"""Opening a preset: by link (``?preset=<key>``) or from the sidebar's Presets menu. The
presets themselves are data (:mod:`explorer.presets`)."""

from __future__ import annotations

import streamlit as st

from ..presets import PRESETS, page_state
from ..url_params import PAGES, session_key
from .link_notes import ARRIVED, NOTES_PAGE, clip, note
from .links import LINK
from .presenter_mode import PRESENTER, presenter, switch_page
from .url_sync import is_bound, pop

TRANSIT = "_links_transit"  # preset key while the app switches to its page


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
        note(
            f"There is no preset called `{clip(key)}`; the rest of the link was used. "
            "Presets: " + ", ".join(f"`{k}`" for k in PRESETS) + "."
        )
        pop("preset")
        st.session_state.get(LINK, {}).pop("preset", None)
        return
    transit = st.session_state.get(TRANSIT)
    if transit is None or transit[0] != key:
        via_url = {n: v for n, v in preset.query().items() if not is_bound(n)}
        st.session_state[TRANSIT] = (key, sorted(via_url))
        switch_page(PAGES[preset.page].file, via_url | {"preset": key})
    del st.session_state[TRANSIT]
    for name, value in page_state(preset).items():
        if name not in transit[1]:  # those came by URL: setting them here would hide that
            st.session_state[session_key(name)] = value
    pop("preset")
    st.session_state[ARRIVED] = (key, preset.page)
    st.session_state[NOTES_PAGE] = None


def preset_link(key: str, label: str | None = None, **kwargs) -> None:
    """A link that opens preset ``key`` on its page, set up (:func:`open_preset`), keeping
    presenter mode on if it is on. ``label``: the preset's title unless given; ``kwargs`` go to
    ``st.page_link`` (``help``, ``icon``)."""
    preset = PRESETS[key]
    st.page_link(
        PAGES[preset.page].file,
        label=label or preset.title,
        query_params={"preset": key} | ({PRESENTER: "1"} if presenter() else {}),
        **kwargs,
    )


def presets_menu() -> None:
    """One link per preset: a click opens its page, set up, with its sentence on top."""
    with st.expander("Presets", icon=":material/bookmarks:"):
        for preset in PRESETS.values():
            preset_link(preset.key, help=f"Opens {PAGES[preset.page].title}. {preset.look_for}")
