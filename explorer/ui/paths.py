"""Nested unknown paths (``/train/x``, ``/learn/a/b``) are sent to their first segment's page.

Streamlit serves its page (``index.html``) for every path it has no file for, so that
``/train`` opens the Train page. That page loads its scripts and styles by relative address
(``./static/js/…``): under ``/train/x`` they resolve to ``/train/static/js/…``, which is
again answered with the page's HTML, and the browser stays blank for ever. Pages have one
segment (``st.Page`` refuses a ``url_path`` with a slash), so a nested path is never a page:
:class:`NestedPathRedirect` answers it with a redirect to its first segment, keeping the
query string (``/train/x?hidden_size=8`` -> ``/train?hidden_size=8``). A known page opens; an
unknown one (``/foo/bar`` -> ``/foo``) gets Streamlit's own "Page not found". Streamlit's
routes (``/_stcore/…``, ``/static/…``, ``/media/…``, ``/component/…``, ``/app/static/…``,
``/auth/…``) pass through untouched, and so does any path with a ``_stcore`` segment: the
frontend finds the server's base address by asking ``<page>/_stcore/health`` and then
``/_stcore/health``, and must get Streamlit's 404 for the first. Only a browser's page load (a
GET or HEAD that accepts ``text/html``) is redirected; a websocket, an upload, a script or a
probe gets Streamlit's own answer.

Installed by ``streamlit_app.py`` through ``st.App(..., middleware=...)``, which
``streamlit run streamlit_app.py`` picks up (Streamlit 1.67's Starlette server); Streamlit has
no option for it in its plain mode (its static handler's fallback, ``_StreamlitStaticFiles``
in ``streamlit/web/server/starlette/starlette_static_routes.py``, serves ``index.html`` for any
miss). Streamlit's own issue: github.com/streamlit/streamlit/issues/8971 (nested paths are not
supported).
"""

from __future__ import annotations

from urllib.parse import quote

# first path segments Streamlit 1.67 serves itself (starlette_routes.py, starlette_auth_routes.py)
STREAMLIT_ROUTES = frozenset({"_stcore", "static", "media", "component", "app", "auth"})


def page_of(path: str, base: str = "") -> str | None:
    """Where a request for ``path`` should go instead: ``base/<first segment>`` for a nested
    path under ``base`` (Streamlit's ``server.baseUrlPath``) that is not one of Streamlit's own
    routes, else None (serve it as asked).

    >>> page_of("/train/x"), page_of("/learn/a/b/"), page_of("/train")
    ('/train', '/learn', None)
    >>> page_of("/static/js/a.js"), page_of("/train/_stcore/health")
    (None, None)
    """
    prefix = "/" + base.strip("/") if base.strip("/") else ""
    if prefix and not (path == prefix or path.startswith(prefix + "/")):
        return None
    segments = [s for s in path[len(prefix) :].split("/") if s]
    if len(segments) < 2 or segments[0] in STREAMLIT_ROUTES or "_stcore" in segments:
        return None
    return f"{prefix}/{quote(segments[0], safe='')}"


class NestedPathRedirect:
    """ASGI middleware: a page load (GET or HEAD accepting ``text/html``) of a nested path
    outside Streamlit's routes gets a 302 to :func:`page_of` with the same query string;
    everything else goes on to ``app``."""

    def __init__(self, app, base_url_path: str | None = None) -> None:
        self.app = app
        self.base = base_url_path

    def _base(self) -> str:
        if self.base is not None:
            return self.base
        from streamlit import config  # read at request time: flags are loaded after import

        return config.get_option("server.baseUrlPath") or ""

    async def __call__(self, scope, receive, send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") in ("GET", "HEAD")
            and b"text/html" in dict(scope.get("headers") or []).get(b"accept", b"")
        ):
            target = page_of(scope.get("path", ""), self._base())
            if target is not None:
                query = scope.get("query_string", b"").decode("latin-1")
                location = target + ("?" + query if query else "")
                await send(
                    {
                        "type": "http.response.start",
                        "status": 302,
                        "headers": [
                            (b"location", location.encode("latin-1")),
                            (b"cache-control", b"no-cache"),
                            (b"content-length", b"0"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)
