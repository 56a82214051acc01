"""explorer.ui.paths: which request paths are sent to their first segment's page (the redirect
itself, in a real server and browser, is in test_browser_paths.py)."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from explorer.ui.paths import NestedPathRedirect, page_of


@pytest.mark.parametrize(
    "path, base, expected",
    [
        ("/train/x", "", "/train"),
        ("/learn/a/b", "", "/learn"),
        ("/learn/a/b/", "", "/learn"),
        ("/foo/bar", "", "/foo"),  # an unknown page: Streamlit's "Page not found" at /foo
        ("/train", "", None),  # one segment: a page (or Streamlit's "Page not found")
        ("/", "", None),
        ("/_stcore/health", "", None),  # Streamlit's own routes
        ("/static/js/index.js", "", None),
        ("/media/abc.png", "", None),
        ("/component/x/index.html", "", None),
        ("/app/static/a.csv", "", None),
        ("/auth/login", "", None),
        ("/train/_stcore/health", "", None),  # the frontend's probe for its base address
        ("/train/_stcore/host-config", "", None),
        ("/rnn/train/x", "rnn", "/rnn/train"),  # under server.baseUrlPath
        ("/rnn/train/x", "/rnn/", "/rnn/train"),
        ("/rnn/static/js/a.js", "rnn", None),
        ("/other/train/x", "rnn", None),  # not under the base: not ours
        ("/\\evil.com/x", "", "/%5Cevil.com"),  # never a protocol-relative Location
    ],
)
def test_page_of(path, base, expected):
    assert page_of(path, base) == expected


PAGE_LOAD = [(b"accept", b"text/html,application/xhtml+xml,*/*;q=0.8")]


def _answer(scope):
    sent, passed = [], []

    async def app(scope, receive, send):
        passed.append(scope["path"])

    async def send(message):
        sent.append(message)

    # in a thread of its own: a browser test earlier in the session may have left an event
    # loop running in this one, where asyncio.run refuses to start
    with ThreadPoolExecutor(1) as pool:
        pool.submit(
            asyncio.run, NestedPathRedirect(app, base_url_path="")(scope, None, send)
        ).result()
    return sent, passed


def test_redirect_keeps_the_query_string():
    sent, passed = _answer(
        {
            "type": "http",
            "method": "GET",
            "path": "/learn/a/b",
            "headers": PAGE_LOAD,
            "query_string": b"learn_seed=3&x=%C3%A9",
        }
    )
    assert passed == []
    assert sent[0]["status"] == 302
    assert dict(sent[0]["headers"])[b"location"] == b"/learn?learn_seed=3&x=%C3%A9"


@pytest.mark.parametrize(
    "scope",
    [
        {
            "type": "http",
            "method": "POST",
            "path": "/train/x",
            "query_string": b"",
            "headers": PAGE_LOAD,
        },
        {"type": "websocket", "path": "/train/x", "query_string": b"", "headers": PAGE_LOAD},
        {
            "type": "http",
            "method": "GET",
            "path": "/train",
            "query_string": b"",
            "headers": PAGE_LOAD,
        },
        {
            "type": "http",
            "method": "GET",
            "path": "/train/x",
            "query_string": b"",
            "headers": [(b"accept", b"*/*")],
        },  # a script or a probe, not a page load
        {"type": "http", "method": "GET", "path": "/train/x", "query_string": b""},
    ],
)
def test_other_requests_pass_through(scope):
    sent, passed = _answer(scope)
    assert sent == [] and passed == [scope["path"]]
