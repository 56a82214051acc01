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

_HERE = Path(__file__).resolve().parent
_component = st.components.v2.component(
    "rnn_explorer_step_player",
    js=(_HERE / "player.js").read_text(encoding="utf-8"),
    css=(_HERE / "player.css").read_text(encoding="utf-8"),
    isolate_styles=False,  # tests and the page read "t = N of M" as a plain h4
)
GROUP = "step"  # the head and the charts it moves


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
