"""explorer.ui.runs: the owner token (session + cookie) and ``run=<id>`` in the URL, in
AppTest; tests/test_browser_runs.py checks the cookie in Chromium."""

from streamlit.testing.v1 import AppTest

TIMEOUT = 30


def _app():
    import streamlit as st

    from explorer.ui import runs

    token = runs.owner_token()
    runs.remember_owner()
    run_id, note = runs.run_from_url()
    st.text(f"token {token}")
    st.text(f"run {run_id}")
    if note:
        st.warning(note)
    if st.button("new run", key="new"):
        runs.show_run_in_url("A" * 24)


def _texts(at):
    return {t.value.split()[0]: t.value.split(maxsplit=1)[1] for t in at.text}


def test_token_is_made_once_and_the_cookie_script_drawn_once():
    at = AppTest.from_function(_app, default_timeout=TIMEOUT).run()
    assert not at.exception
    token = _texts(at)["token"]
    assert len(token) >= 43  # 256 bits, URL-safe
    scripts = [e for e in at.get("html") if "document.cookie" in e.proto.body]
    assert len(scripts) == 1 and f"rnn_explorer_owner={token};" in scripts[0].proto.body
    assert "SameSite=Strict" in scripts[0].proto.body
    at.run()
    assert _texts(at)["token"] == token  # a rerun keeps it
    assert not [e for e in at.get("html") if "document.cookie" in e.proto.body]
    other = AppTest.from_function(_app, default_timeout=TIMEOUT).run()
    assert _texts(other)["token"] != token  # another session without the cookie: another owner


def test_run_id_from_and_to_the_url():
    at = AppTest.from_function(_app, default_timeout=TIMEOUT)
    at.query_params["run"] = "../../etc/passwd"
    at.run()
    assert _texts(at)["run"] == "None"
    assert "not a valid run id" in at.warning[0].value
    good = AppTest.from_function(_app, default_timeout=TIMEOUT)
    good.query_params["run"] = "b" * 24
    good.run()
    assert _texts(good)["run"] == "b" * 24 and not good.warning
    fresh = AppTest.from_function(_app, default_timeout=TIMEOUT).run()
    assert _texts(fresh)["run"] == "None"
    fresh.button(key="new").click().run()
    assert fresh.query_params["run"] == "A" * 24
