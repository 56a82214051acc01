"""The owner cookie in Chromium: written by the page's script, read back by the next session
(a reload) through st.context.cookies; another browser context is another owner."""

import hashlib
import os
import time

import pytest
from browser import *  # noqa: F401,F403  (skips without chromium)
from browser import ROOT, wait_idle
from serve import streamlit_server

APP = """
import hashlib
import streamlit as st
from explorer.ui import runs

token = runs.owner_token()
runs.remember_owner()
run_id, note = runs.run_from_url()
st.text("owner " + hashlib.sha256(token.encode()).hexdigest()[:16])
st.text(f"run {run_id}")
if note:
    st.warning(note)
"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    script = tmp_path_factory.mktemp("app") / "owner_app.py"
    script.write_text(APP)
    with streamlit_server(script, {**os.environ, "PYTHONPATH": str(ROOT)}) as url:
        yield url


def _text(page, prefix):
    for t in page.locator("[data-testid='stText']").all_inner_texts():
        if t.startswith(prefix):
            return t.split(maxsplit=1)[1]
    return None


def test_owner_survives_a_reload_and_differs_between_browsers(app_url, browser_page):
    # the session's Chromium (one Playwright per test session), two fresh contexts: two browsers
    browser = browser_page.context.browser
    a = browser.new_context(viewport={"width": 1280, "height": 800})
    page = a.new_page()
    page.goto(app_url)
    wait_idle(page)
    first = _text(page, "owner")
    cookies = {c["name"]: c for c in a.cookies()}
    assert "rnn_explorer_owner" in cookies
    cookie = cookies["rnn_explorer_owner"]
    assert hashlib.sha256(cookie["value"].encode()).hexdigest()[:16] == first
    assert cookie["sameSite"] == "Strict" and cookie["expires"] > time.time() + 6 * 86400
    page.reload()
    wait_idle(page)
    assert _text(page, "owner") == first  # a new session, the same owner
    page.goto(app_url + "/?run=not-a-run")
    wait_idle(page)
    assert _text(page, "run") == "None"
    assert "not a valid run id" in page.locator("[data-testid='stAlert']").inner_text()
    b = browser.new_context()
    other = b.new_page()
    other.goto(app_url + "/?run=" + "c" * 24)
    wait_idle(other)
    assert _text(other, "owner") not in (None, first)
    assert _text(other, "run") == "c" * 24
    a.close()
    b.close()
