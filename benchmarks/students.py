"""Headless students: clients that speak Streamlit's own websocket protocol to a running server,
as the browser's frontend does, with no browser. Used by ``benchmarks/classroom.py`` (many
students on one server) and ``deploy/smoke.sh`` (students through the load balancer).

The protocol (Streamlit 1.67, read from ``streamlit/web/server/starlette/starlette_websocket.py``,
``streamlit/runtime/app_session.py`` and the frontend's ``App.tsx`` as shipped in
``streamlit/static``):

- the websocket is ``/_stcore/stream``; the ``Sec-WebSocket-Protocol`` header carries
  ``streamlit, <xsrf token or placeholder>, <session id to resume>``; every frame is a binary
  protobuf: ``BackMsg`` from the client, ``ForwardMsg`` from the server;
- nothing runs until the client sends ``BackMsg.rerun_script`` (a ``ClientState``): on the
  first run ``page_script_hash`` is empty and ``page_name`` is the URL path (``train``), with
  the URL's ``query_string``; later runs send the page's hash from the ``navigation`` message
  (``st.navigation``'s current page) and the query string of the last ``page_info_changed``;
- each run starts with ``new_session`` (``initialize.session_id``; ``metadata.run.fragment_ids``
  names the fragments of a fragment run), then ``delta`` messages (``new_element`` /
  ``add_block``), and ends with ``script_finished`` (``FINISHED_SUCCESSFULLY``,
  ``FINISHED_FRAGMENT_RUN_SUCCESSFULLY``, ``FINISHED_EARLY_FOR_RERUN`` ...);
- a click on a button is a rerun whose ``widget_states`` hold ``WidgetState(id, trigger_value=
  True)``; a button's id is ``$$ID-<hash>-<key>`` (``Button.id`` in its delta); widgets not sent
  keep their values on the server;
- ``@st.fragment(run_every=...)`` is driven by the client: the server sends ``auto_rerun``
  (interval, fragment id) and the frontend then sends a rerun with that ``fragment_id`` and
  ``is_auto_rerun`` every interval (``setInterval``, whether or not the last run has finished),
  until ``stop_auto_rerun`` or a full run's ``new_session``;
- the server sends whole messages unless the client lists ``cached_message_hashes`` (we never
  do, so no ``ref_hash`` arrives).

A browser whose socket drops reconnects with its session id as the third subprotocol entry;
a ``Student`` does the same (up to ``max_reconnects`` times) and counts it.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.cookies
import re
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException
from websockets.typing import Subprotocol

PROGRESS = re.compile(r"step ([\d,]+) / ([\d,]+)")  # explorer/ui/controller.py progress()
STATUS = {v: k for k, v in ForwardMsg.ScriptFinishedStatus.items()}


@dataclass
class Stats:
    """What one student saw. Times are ``time.monotonic()`` seconds."""

    name: str
    started: float = 0.0  # when the first connection was opened
    first_page: float | None = None  # seconds from opening to the first run's script_finished
    pressed: float | None = None  # when the button was pressed
    session_ids: list[str] = field(default_factory=list)  # one per new_session message
    chart_updates: list[float] = field(default_factory=list)  # times of new chart contents
    steps: list[tuple[float, int, int]] = field(default_factory=list)  # (time, step, of)
    finished: dict[str, int] = field(default_factory=dict)  # script_finished statuses
    # the same by kind of run: "full", "chart" (the fragment that draws the chart), "other"
    finished_by: dict[str, dict[str, int]] = field(default_factory=dict)
    exceptions: list[str] = field(default_factory=list)  # st.exception elements received
    upstream: str | None = None  # the X-Upstream header of the page's HTTP response
    cookies: str = ""  # the Cookie header the socket was opened with
    reconnects: int = 0
    error: str | None = None  # why the student gave up (socket died, page not found ...)
    done: bool = False  # left because the student's ``until`` held
    messages: int = 0
    bytes: int = 0

    def rate(self, since: float, until: float) -> float:
        """Chart updates per second between ``since`` and ``until``."""
        n = sum(since <= t <= until for t in self.chart_updates)
        return n / (until - since) if until > since else 0.0

    def steps_per_second(self, since: float, until: float) -> float:
        """Training steps per second from the progress text read between the two times."""
        seen = [(t, s) for t, s, _ in self.steps if since <= t <= until]
        if len(seen) < 2 or seen[-1][0] <= seen[0][0]:
            return 0.0
        return (seen[-1][1] - seen[0][1]) / (seen[-1][0] - seen[0][0])

    @property
    def sessions(self) -> set[str]:
        return set(self.session_ids)


class Student:
    """One headless student: opens ``url`` (``http://host:port/train?steps=20000``), optionally
    presses the buttons with the keys in ``press`` (once each, when they are drawn enabled),
    and stays ``stay`` seconds, answering the server's auto-reruns as a browser does.

    ``chart_alt``: the ``alt`` text (a substring, case-insensitive) of the ``st.vega_lite_chart``
    whose distinct contents are counted as chart updates. ``headers``: extra HTTP headers sent
    with the page request and the websocket handshake. ``until(stats)``: leave as soon as it
    returns true (``stats.done`` is then set). Never raises on a network failure:
    ``stats.error`` says what happened.
    """

    def __init__(
        self,
        url: str,
        *,
        name: str = "student",
        press: tuple[str, ...] = (),
        chart_alt: str = "loss",
        headers: dict | None = None,
        max_reconnects: int = 3,
        fetch_page: bool = True,
        until=None,
    ):
        parts = urllib.parse.urlsplit(url)
        self.url = url
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.page_name = parts.path.strip("/")
        self.query = parts.query
        self.ws_url = (
            "wss" if parts.scheme == "https" else "ws"
        ) + f"://{parts.netloc}/_stcore/stream"
        self.press = list(press)
        self.chart_alt = chart_alt.lower()
        self.headers = dict(headers or {})
        self.max_reconnects = max_reconnects
        self.fetch_page = fetch_page
        self.until = until  # a test on the stats: leave as soon as it holds
        self.stats = Stats(name=name)
        self._page_hash = ""
        self._buttons: dict[str, tuple[str, bool]] = {}  # key -> (widget id, disabled)
        self._chart_digest: str | None = None
        self._run_fragments: tuple = ()  # the fragments of the run being received (none: full)
        self._chart_fragments: tuple = ()  # the fragment run that draws the counted chart
        self._timers: dict[str, tuple[float, asyncio.Task]] = {}
        self._ws = None
        self._first_done = False

    # -- sending -------------------------------------------------------------------------
    def _rerun(self, *, fragment_id: str = "", auto: bool = False, triggers=()) -> bytes:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_script_hash = self._page_hash
        if not self._page_hash:
            state.page_name = self.page_name
        state.fragment_id = fragment_id
        state.is_auto_rerun = auto
        for widget_id in triggers:
            w = state.widget_states.widgets.add()
            w.id = widget_id
            w.trigger_value = True
        return msg.SerializeToString()

    async def _send(self, payload: bytes) -> None:
        if self._ws is not None:
            try:
                await self._ws.send(payload)
            except WebSocketException:
                pass  # the receive loop sees the closed socket and reconnects

    async def _auto_rerun(self, fragment_id: str, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            await self._send(self._rerun(fragment_id=fragment_id, auto=True))

    def _stop_timers(self, ids=None) -> None:
        for fid in list(self._timers if ids is None else ids):
            item = self._timers.pop(fid, None)
            if item:
                item[1].cancel()

    # -- receiving -----------------------------------------------------------------------
    def _element(self, element, now: float) -> None:
        kind = element.WhichOneof("type")
        if kind == "button":
            key = element.button.id.rsplit("-", 1)[-1]
            self._buttons[key] = (element.button.id, element.button.disabled)
        elif kind == "vega_lite_chart":
            if self.chart_alt in element.vega_lite_chart.alt.lower():
                if self._run_fragments:
                    self._chart_fragments = self._run_fragments
                chart = element.vega_lite_chart
                digest = hashlib.blake2b(
                    chart.spec.encode()
                    + chart.data.SerializeToString()
                    + b"".join(d.SerializeToString() for d in chart.datasets),
                    digest_size=16,
                ).hexdigest()
                if digest != self._chart_digest:
                    self._chart_digest = digest
                    self.stats.chart_updates.append(now)
        elif kind == "progress":
            m = PROGRESS.search(element.progress.text)
            if m:
                self.stats.steps.append(
                    (now, int(m[1].replace(",", "")), int(m[2].replace(",", "")))
                )
        elif kind == "exception":
            self.stats.exceptions.append(f"{element.exception.type}: {element.exception.message}")

    async def _handle(self, msg: ForwardMsg, now: float) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            if msg.new_session.initialize.session_id:
                self.stats.session_ids.append(msg.new_session.initialize.session_id)
            self._run_fragments = tuple(msg.metadata.run.fragment_ids)
            if not msg.metadata.run.fragment_ids:
                self._stop_timers()  # a full run re-arms the fragments it draws
        elif kind == "delta":
            delta = msg.delta
            dkind = delta.WhichOneof("type")
            if dkind == "new_element":
                self._element(delta.new_element, now)
            elif dkind and "add_rows" in dkind:  # older Streamlit: a chart's new rows only
                self.stats.chart_updates.append(now)
        elif kind == "navigation":  # st.navigation names the page that ran
            self._page_hash = msg.navigation.page_script_hash or self._page_hash
        elif kind == "page_info_changed":  # the app wrote to st.query_params: the new URL
            self.query = msg.page_info_changed.query_string
        elif kind == "auto_rerun":
            fid, interval = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
            old = self._timers.get(fid)
            if fid and interval > 0 and (old is None or old[0] != interval):
                self._stop_timers([fid])
                self._timers[fid] = (interval, asyncio.create_task(self._auto_rerun(fid, interval)))
        elif kind == "stop_auto_rerun":
            self._stop_timers(msg.stop_auto_rerun.fragment_ids)
        elif kind == "page_not_found":
            self.stats.error = f"page not found: /{self.page_name}"
        elif kind == "script_finished":
            status = STATUS.get(msg.script_finished, str(msg.script_finished))
            self.stats.finished[status] = self.stats.finished.get(status, 0) + 1
            fids = tuple(msg.metadata.run.fragment_ids)
            by = self.stats.finished_by.setdefault(
                "full" if not fids else "chart" if fids == self._chart_fragments else "other", {}
            )
            by[status] = by.get(status, 0) + 1
            if not self._first_done and not msg.metadata.run.fragment_ids:
                self._first_done = True
                self.stats.first_page = now - self.stats.started
            await self._press_due(now)

    async def _press_due(self, now: float) -> None:
        for key in list(self.press):
            widget = self._buttons.get(key)
            if widget and not widget[1]:
                self.press.remove(key)
                self.stats.pressed = now
                await self._send(self._rerun(triggers=[widget[0]]))

    # -- the connection ------------------------------------------------------------------
    def _open_page(self) -> None:
        """GET the page as a browser would first: its cookies (a balancer's affinity cookie)
        and the X-Upstream header a balancer may add."""
        request = urllib.request.Request(self.url, headers=self.headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            jar = http.cookies.SimpleCookie()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar.load(header)
            self.stats.upstream = response.headers.get("X-Upstream")
            response.read()
        if jar:
            self.stats.cookies = "; ".join(f"{k}={m.value}" for k, m in jar.items())

    async def run(self, stay: float) -> Stats:
        """Open the page, press, stay ``stay`` seconds (from the first connection), close."""
        self.stats.started = time.monotonic()
        deadline = self.stats.started + stay
        try:
            if self.fetch_page:
                await asyncio.to_thread(self._open_page)
            await asyncio.wait_for(self._connect_loop(), timeout=max(0.0, stay))
        except TimeoutError:
            pass  # stayed the whole time
        except Exception as err:  # noqa: BLE001  (any failure is this student's result)
            self.stats.error = self.stats.error or f"{type(err).__name__}: {err}"
        finally:
            self._stop_timers()
        if self.stats.error is None and not self.stats.done and time.monotonic() < deadline - 1:
            self.stats.error = "left early"
        return self.stats

    async def _connect_loop(self) -> None:
        session = None
        while True:
            protocols = [Subprotocol("streamlit"), Subprotocol("PLACEHOLDER_AUTH_TOKEN")]
            if session:
                protocols.append(Subprotocol(session))
            headers = dict(self.headers)
            if self.stats.cookies:
                headers["Cookie"] = self.stats.cookies
            try:
                async with connect(
                    self.ws_url,
                    subprotocols=protocols,
                    additional_headers=headers,
                    max_size=None,
                    open_timeout=60,
                    ping_interval=None,
                ) as ws:
                    self._ws = ws
                    await ws.send(self._rerun())
                    async for frame in ws:
                        now = time.monotonic()
                        self.stats.messages += 1
                        self.stats.bytes += len(frame)
                        msg = ForwardMsg()
                        msg.ParseFromString(frame)
                        await self._handle(msg, now)
                        if self.stats.error:
                            return
                        if self.until is not None and self.until(self.stats):
                            self.stats.done = True
                            return
                reason = f"socket closed by the server ({ws.close_code})"
            except (OSError, WebSocketException) as err:
                reason = f"socket died: {type(err).__name__}: {err}"
            finally:
                self._ws = None
                self._stop_timers()
            session = self.stats.session_ids[-1] if self.stats.session_ids else None
            if self.stats.reconnects >= self.max_reconnects:
                self.stats.error = reason
                return
            self.stats.reconnects += 1
            await asyncio.sleep(1.0)


async def run_students(
    students: list[Student], stay: float, *, stagger: float = 0.0
) -> list[Stats]:
    """Run the students together, each staying ``stay`` seconds; ``stagger`` seconds between
    two students' arrivals. Returns their stats in order; never raises for one student."""

    async def one(i: int, s: Student) -> Stats:
        await asyncio.sleep(i * stagger)
        return await s.run(stay)

    return list(await asyncio.gather(*(one(i, s) for i, s in enumerate(students))))
