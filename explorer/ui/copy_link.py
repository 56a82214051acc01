"""The sidebar's link to the current view, with a Copy button. The control is
``copy_link.html`` next to this file: it reads the address bar in the browser, since Python's
copy of the URL lags one change behind."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

_COPY_LINK = "\n" + (Path(__file__).resolve().parent / "copy_link.html").read_text(encoding="utf-8")


def copy_link() -> None:
    """The address of the current view, with a Copy button: opened in another browser it shows
    the same page, cell and settings."""
    st.html(_COPY_LINK, unsafe_allow_javascript=True)
