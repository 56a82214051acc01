"""RNN Explorer: the router. Run with ``streamlit run streamlit_app.py``.

``streamlit run`` first imports this file to find the server it describes (``app`` below:
Streamlit's own server with one middleware, explorer.ui.paths), then runs the file as each
session's script, under the name ``__main__``."""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from explorer.ui import (
    cell_sidebar,
    copy_link,
    freeze_imports,
    link_notes,
    links,
    presenter_mode,
    presets_menu,
    release_page_globals,
    runs,
    start_janitor,
)
from explorer.ui.controller import training_pool
from explorer.ui.paths import NestedPathRedirect
from explorer.url_params import PAGES

# the tab's icon ships with the app (a Material icon here would be fetched from Google Fonts)
ICON = str(Path(__file__).resolve().parent / "assets" / "icon.png")
ICONS = {
    "learn": ":material/school:",
    "": ":material/grid_on:",
    "step_through": ":material/play_circle:",
    "train": ":material/model_training:",
    "compare": ":material/compare_arrows:",
}


def main() -> None:
    """One run of a session's script: page config, the shared sidebar, then the page."""
    st.set_page_config(
        page_title="RNN Explorer",
        page_icon=ICON,
        layout="wide",
        initial_sidebar_state=presenter_mode.initial_sidebar(),
    )
    training_pool()  # the server's training workers start with its first page, not at a Start
    freeze_imports()  # no full garbage collection walks the modules again (it stalled pages)
    page = st.navigation(
        [
            st.Page(p.file, title=p.title, icon=ICONS[p.path], default=p.path == "")
            for p in PAGES.values()
        ]
    )
    release_page_globals()  # the previous run's page variables: no reference cycle to wait for
    start_janitor()  # once per server: sessions that left are dropped and their memory freed
    links.start(page)  # remember the link the session opened with
    presets_menu.open_preset(page)  # ?preset=<key>: its page, set up
    with st.sidebar:  # the classroom part: presets, presenter mode, the link to this view
        presets_menu.presets_menu()
        presenter_mode.presenter_toggle()
        copy_link.copy_link()
    presenter_mode.page_css()
    runs.open_link(page)  # ?run=<id> on Train and Compare: that run, its settings in the widgets
    cell_sidebar(used_here=page.url_path != "learn")  # Learn builds its own small models
    links.check_sidebar()
    slots = link_notes.notice(page)  # the preset's sentence, what a link asked for and did not get
    completed = False
    try:
        page.run()
        completed = True
    finally:
        links.finish(page, slots, completed)


if __name__ == "__main__":  # a session's run
    main()
else:  # imported by `streamlit run` (or an ASGI server): nested unknown paths go to their page
    app = st.App(__file__, middleware=[Middleware(NestedPathRedirect)])
