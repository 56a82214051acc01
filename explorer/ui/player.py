"""The Step-through player: time steps played in the browser, no server rerun per frame.

A Streamlit custom component (``st.components.v2``, its JavaScript in ``player.js`` next to
this file, no external script) mounted twice by the page:

- :func:`player_head`: Play/Pause and the line ``t = N of M · x_t = …``. It keeps the clock in
  the browser (speed 8 is 8 steps/s whatever the server's load), moves the time cursor of
  every chart marked with :func:`follow` ``(fig, "cursor", t)``, repaints the cell diagram
  marked ``"diagram"`` (gate colours, value labels, title) and dims charts marked
  ``"settled"`` (drawn for the settled step only) while it plays.
- :func:`player_equations`: the equations (``explorer.equations.equation_html``) whose numbers
  it fills in for the step the head shows.

Every number for every step is sent once, with the page; the server hears from the player
only when playback stops (Pause, or the end): :func:`settled_step` then returns the step, and
the page shows it everywhere and writes it to the URL. Steps are counted t = 1…T.

Why not Plotly ``frames``: one Play button animates one figure, and the diagram, the heatmaps
and the equations are several (the equations are not Plotly at all); a frame per step would
also carry the whole diagram's shapes (~20 kB) for each of up to 2000 steps.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ..url_params import STEP_PARAMS
from . import url_sync
from .session_keys import STEP_POS
from .url_sync import url_widget

_HERE = Path(__file__).resolve().parent
_component = st.components.v2.component(
    "rnn_explorer_step_player",
    js=(_HERE / "player.js").read_text(encoding="utf-8"),
    css=(_HERE / "player.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # tests and the page read "t = N of M" as a plain h4
)
GROUP = "step"  # the head and the charts it moves
# The player's session keys, in one place. The position t (1…T) lives in POS ("step_pos",
# ``t`` in the URL, synced by hand): the slider that shows it (SLIDER) is reset by Streamlit
# whenever its range changes (a new length T), and the position must survive that. PLAYER and
# EQUATIONS hold what the browser's two players report (where playback stopped, never a
# frame); a click on a bar of the "values at step t" chart (VALUES) selects that unit (UNIT).
POS = STEP_POS
SLIDER, PLAYER, EQUATIONS, VALUES = "step_t", "step_player", "step_equations", "step_values"
FIRST, BACK, FORWARD, UNIT = "step_first", "step_back", "step_forward", "unit"
STEP_BUTTONS = [  # key, icon, help, what _move does
    (FIRST, ":material/first_page:", "jump to t = 1", {"to": 1}),
    (BACK, ":material/chevron_left:", "one step back", {"delta": -1}),
    (FORWARD, ":material/chevron_right:", "one step forward", {"delta": +1}),
]


def per_step(values, digits: int = 4) -> list | float | None:
    """``values`` (``(T,)`` array-like) as JSON for the player: rounded to ``digits``
    decimals, NaN/inf as ``None``; one number when every step has the same value."""
    a = np.asarray(values, dtype=np.float64).ravel()
    if a.size and np.all(a == a[0]) and np.isfinite(a[0]):
        return round(float(a[0]), digits)
    return [round(float(v), digits) if math.isfinite(v) else None for v in a]


def follow(fig: go.Figure, role: str, t: int | None = None) -> go.Figure:
    """Mark ``fig`` for the player (in ``layout.meta``): ``"cursor"`` (its first shape is the
    time cursor, drawn at step ``t``), ``"diagram"`` (a :func:`explorer.diagram.cell_diagram`)
    or ``"settled"`` (shows step ``t`` only). Returns ``fig``."""
    fig.layout.meta = {"player": role, "group": GROUP, "t": t}
    return fig


def player_head(
    *, key: str, T: int, t: int, speed: float, labels: list[str] | None, diagram: dict | None
) -> None:
    """Play/Pause and ``t = N of M · label``. ``t`` is the settled step (1…T), ``speed`` in
    steps per second, ``labels[k]`` says what the input is at step k + 1, ``diagram`` from
    :func:`explorer.diagram.diagram_animation` (or ``None``)."""
    _component(
        key=key,
        data={
            "role": "head",
            "group": GROUP,
            "T": int(T),
            "t": int(t),
            "speed": float(speed),
            "labels": labels,
            "diagram": diagram,
        },
        default={"settled": None},
        on_settled_change=lambda: None,
        width="stretch",
    )


def player_equations(
    *,
    key: str,
    T: int,
    t: int,
    head: str,
    lines: list[str],
    frames: dict[str, list | float | None],
    digits: int = 3,
) -> None:
    """The equation ``lines`` (HTML with number slots) under ``head`` (``{t}`` is replaced
    by the step), their numbers from ``frames`` (slot name -> :func:`per_step` values)."""
    _component(
        key=key,
        data={
            "role": "equations",
            "group": GROUP,
            "T": int(T),
            "t": int(t),
            "head": head,
            "lines": lines,
            "frames": frames,
            "digits": int(digits),
        },
        width="stretch",
    )


def settled_step(key: str) -> int | None:
    """The step where the reader stopped playback in the browser, once per stop (a new report
    since the last call in this session), else ``None``. Read it before drawing the widgets
    that show the step."""
    report = (st.session_state.get(key) or {}).get("settled")
    if not isinstance(report, dict) or report == st.session_state.get(f"_{key}_seen"):
        return None
    st.session_state[f"_{key}_seen"] = report
    try:
        return int(report["t"])
    except (KeyError, TypeError, ValueError):
        return None


def _move(T: int, delta: int = 0, to: int | None = None) -> None:
    pos = st.session_state[POS] if to is None else to
    st.session_state[POS] = min(max(pos + delta, 1), T)


def _slid() -> None:
    st.session_state[POS] = st.session_state[SLIDER]


def select_unit() -> None:
    """A click on a bar of the "values at step t" chart (key ``VALUES``) selects that bar's
    unit."""
    points = st.session_state[VALUES].selection.points
    if points:
        st.session_state[UNIT] = int(points[0]["point_index"])  # bars sit at x = unit


def _settle(T: int, H: int) -> None:
    """The position (POS) before the widgets are drawn: from a link's ``t``, or where the
    browser's player stopped, kept inside 1…T; a unit beyond ``H`` goes back to 0."""
    url_sync.from_url(
        "t",
        url_sync.int_in(1, T),
        STEP_PARAMS["t"],
        key=POS,
        expected=f"this sequence's steps are 1…{T}",
    )
    stopped = settled_step(PLAYER)
    if stopped is not None:
        st.session_state[POS] = stopped
    st.session_state[POS] = min(max(st.session_state.get(POS, 1), 1), T)
    if st.session_state.get(UNIT, 0) >= H:
        st.session_state[UNIT] = 0


def player_controls(T: int, *, H: int, L: int, D: int) -> tuple[int, float, int, int, int]:
    """The row under the diagram's title: step buttons, the time slider, speed, unit, and layer
    and direction when there are several; returns the settled ``(t, speed, unit, layer,
    direction)`` for a sequence of ``T`` steps through ``L`` layers and ``D`` directions of
    ``H`` units, and writes ``t`` to the URL. Defaults from ``explorer.presets.STEP_PARAMS``."""
    defaults = STEP_PARAMS
    _settle(T, H)
    wide = [0.55, 0.55, 0.55, 5, 2.6, 1.4] + [1.4] * (L > 1) + [1.9] * (D == 2)
    c = st.columns(wide, vertical_alignment="bottom")
    for col, (key, icon, help, kwargs) in zip(c, STEP_BUTTONS):
        col.button(
            "",
            icon=icon,
            key=key,
            help=help,
            on_click=_move,
            args=(T,),
            kwargs=kwargs,
            width="stretch",
        )
    st.session_state[SLIDER] = st.session_state[POS]
    t = c[3].slider("time step t", 1, T, key=SLIDER, on_change=_slid)
    speed = url_widget(c[4].select_slider, "speed", "speed (steps/s)")
    unit = url_widget(
        c[5].number_input,
        UNIT,
        "unit",
        high=H - 1,
        help="The unit shown in the diagram and the equations; clicking a bar of the chart "
        "“Values at step t” selects its unit too.",
    )
    layer = url_widget(c[6].selectbox, "layer", "layer", options=list(range(L))) if L > 1 else 0
    direction = (
        ["forward", "reverse"].index(url_widget(c[-1].selectbox, "direction", "direction"))
        if D == 2
        else 0
    )
    url_sync.to_url("t", t, defaults["t"])  # settled: the URL says where we are
    return t, speed, unit, layer, direction
