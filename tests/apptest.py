"""The whole app under Streamlit's AppTest, opened as a link would open it: one helper for the
test modules that open pages with URL parameters (imported by name: pytest puts tests/ on the
path, as for ``browser.py`` and ``serve.py``)."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
TIMEOUT = 90  # importing torch alone exceeds AppTest's 3 s default; a loaded CI machine is slow


def open_link(params: dict | None = None, page: str | None = None) -> AppTest:
    """A session opened with ``?params`` on ``page`` (an ``app_pages/…`` file; the start page
    when None), run once, with no exception raised by the run."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if params:
        at.query_params.update(params)
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at
