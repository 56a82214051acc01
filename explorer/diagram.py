"""The cell diagram: an RNN, LSTM or GRU cell drawn with Plotly shapes, gates coloured by value.

Drawn in the style of Chris Olah's "Understanding LSTM Networks" (2015): boxes are learned
layers (weights, bias, activation), circles are elementwise operations (× is ⊙, +, 1−), wires
carry vectors left to right and bottom to top. Only layout shapes and annotations are used, so
the figure needs no image files and serialises as plain JSON.

The equations it draws are run in :mod:`explorer.cells`; its symbols and the hover text of
each box are written by :mod:`explorer.teaching`, as every displayed equation is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import plotly.graph_objects as go
from plotly.colors import get_colorscale, hex_to_rgb, sample_colorscale, unlabel_rgb

from .charts import SIGMOID, TANH
from .config import CELLS, TANH_GATES
from .teaching import HTML, NAMES, activation, bias, gate_line, weight

DIAGRAM_QUANTITIES: dict[str, tuple[str, ...]] = {
    "rnn": ("x", "h_prev", "h"),
    "lstm": ("x", "h_prev", "c_prev", "i", "f", "g", "o", "c", "h"),  # PyTorch's row order i f g o
    "gru": ("x", "h_prev", "r", "z", "n", "h"),  # PyTorch's row order r z n
}

# Which fixed colour range each quantity uses. x_t has no fixed range, so it is never coloured;
# c_t is unbounded and is clipped to −1…1 for its colour only.
_SCALE = {
    **{k: TANH if k in TANH_GATES else SIGMOID for spec in CELLS.values() for k in spec.gates},
    **{k: TANH for k in ("h", "c", "h_prev", "c_prev")},
}
SIGMOID_TITLE = "sigmoid gates 0…1"
TANH_TITLE = "tanh −1…1"


def _hover() -> dict[str, str]:
    """The equation shown when hovering over a box, each behind its gate's name, written by
    :func:`explorer.teaching.gate_line` as every displayed equation is; ``"h_rnn"`` leaves
    ``{act}`` to fill in."""
    out = {
        k: f"{NAMES[k]} {gate_line(cell, k, HTML)}"
        for cell in ("lstm", "gru")
        for k in CELLS[cell].gates
    }
    out["h_rnn"] = gate_line("rnn", "h", HTML).replace(HTML.act("tanh"), "{act}", 1)
    return out


_HOVER = _hover()

INK = "#222222"
NEUTRAL_FILL = "#dcdcdc"  # gate blocks without a value: grey, on neither colour scale
OP_FILL = "#ffffff"
CELL_FILL = "#f4f6f8"
CELL_LINE = "#8a96a3"
LINE_WIDTH = 2.5
LABEL_FONT = 16  # ≥ 14 px: readable on a projector
VALUE_FONT = 14  # "f_t = 0.45" inside a gate box: fits the box at 24 px per unit (GRU, 1024 px)
OP_RADIUS = 0.42
TERMINAL_RADIUS = 0.34
BLOCK_W, BLOCK_H = 2.4, 1.4
COLOURBAR_SPACE = 70  # px below the drawing for the colour bars, side by side


def colour_for(key: str, value: float | None) -> str:
    """The fill colour of quantity ``key`` at ``value`` on its fixed scale (sigmoid gates on
    Viridis over 0…1, tanh quantities on RdBu_r over −1…1, clipped), or ``NEUTRAL_FILL`` when
    there is no value or the quantity has no fixed scale (x_t)."""
    if value is None or key not in _SCALE:
        return NEUTRAL_FILL
    lo, hi, scale = _SCALE[key]
    t = min(max((value - lo) / (hi - lo), 0.0), 1.0)
    return sample_colorscale(scale, [t])[0]


def _text_colour(fill: str) -> str:
    """Black on light fills, white on dark ones (relative luminance, sRGB approximated)."""
    if not fill.startswith("rgb"):
        return INK
    r, g, b = (c / 255 for c in unlabel_rgb(fill))
    return INK if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.45 else "#ffffff"


def _number(value: float) -> str:
    return f"{value:.2f}".replace("-", "−")


def _value(values: dict | None, key: str) -> float | None:
    """``values[key]`` as a float, or None when absent, not a number, or not finite."""
    if not values or values.get(key) is None:
        return None
    try:
        v = float(values[key])
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _label(key: str, value: float | None) -> str:
    return HTML.of(key) if value is None else f"{HTML.of(key)} = {_number(value)}"


@dataclass
class _Sketch:
    """Shapes and annotations collected while drawing; wires go under boxes and circles."""

    values: dict | None
    back: list = field(default_factory=list)
    wires: list = field(default_factory=list)
    bodies: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    hover: list = field(default_factory=list)  # (x, y, html)

    def value(self, key: str) -> float | None:
        return _value(self.values, key)

    def explain(self, key: str, x: float, y: float, html: str) -> None:
        """Hover text over a box: its equation and, when known, its value."""
        value = self.value(key)
        self.hover.append((x, y, html if value is None else f"{html}<br>= {value:.4f}"))

    def cell(self, x0: float, y0: float, x1: float, y1: float, r: float = 0.6) -> None:
        path = (
            f"M {x0 + r},{y0} L {x1 - r},{y0} Q {x1},{y0} {x1},{y0 + r} L {x1},{y1 - r} "
            f"Q {x1},{y1} {x1 - r},{y1} L {x0 + r},{y1} Q {x0},{y1} {x0},{y1 - r} "
            f"L {x0},{y0 + r} Q {x0},{y0} {x0 + r},{y0} Z"
        )
        self.back.append(
            dict(
                type="path",
                path=path,
                name="cell",
                fillcolor=CELL_FILL,
                line=dict(color=CELL_LINE, width=2),
                layer="below",
            )
        )

    def wire(self, *points: tuple[float, float], arrow: bool = True, over: bool = False) -> None:
        """A polyline through ``points``, an arrowhead at the last one. ``over``: draw a white
        halo first, so the wire visibly passes over one it crosses."""
        path = "M " + " L ".join(f"{x:g},{y:g}" for x, y in points)
        if over:
            self.wires.append(dict(type="path", path=path, line=dict(color="#ffffff", width=10)))
        self.wires.append(dict(type="path", path=path, line=dict(color=INK, width=LINE_WIDTH)))
        if arrow:
            (xa, ya), (xb, yb) = points[-2], points[-1]
            length = math.hypot(xb - xa, yb - ya)
            k = min(0.35, length) / length  # a short arrow on the last segment's end
            self.notes.append(
                dict(
                    x=xb,
                    y=yb,
                    ax=xb - k * (xb - xa),
                    ay=yb - k * (yb - ya),
                    xref="x",
                    yref="y",
                    axref="x",
                    ayref="y",
                    text="",
                    showarrow=True,
                    arrowhead=2,
                    arrowsize=1.1,
                    arrowwidth=LINE_WIDTH,
                    arrowcolor=INK,
                    standoff=0,
                )
            )

    def dot(self, x: float, y: float) -> None:
        """A junction: the wire splits and carries the same vector both ways."""
        r = 0.08  # plus its 2 px outline
        self.bodies.append(
            dict(
                type="circle",
                x0=x - r,
                x1=x + r,
                y0=y - r,
                y1=y + r,
                fillcolor=INK,
                line=dict(color=INK, width=2),
            )
        )

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        name: str | None = None,
        size: int = LABEL_FONT,
        color: str = INK,
        xanchor: str = "center",
        yanchor: str = "middle",
    ) -> None:
        note = dict(
            x=x,
            y=y,
            xref="x",
            yref="y",
            text=text,
            showarrow=False,
            font=dict(size=size, color=color),
            xanchor=xanchor,
            yanchor=yanchor,
        )
        if name:
            note["name"] = name
        self.notes.append(note)

    def gate(
        self,
        key: str,
        x: float,
        y: float,
        activation: str,
        *,
        w: float = BLOCK_W,
        h: float = BLOCK_H,
        show_value: bool = True,
    ) -> None:
        """A learned layer: box named ``key``, its activation on top and ``key = value`` below."""
        value = self.value(key)
        fill = colour_for(key, value)
        ink = _text_colour(fill)
        self.bodies.append(
            dict(
                type="rect",
                name=key,
                x0=x - w / 2,
                x1=x + w / 2,
                y0=y - h / 2,
                y1=y + h / 2,
                fillcolor=fill,
                line=dict(color=INK, width=LINE_WIDTH),
            )
        )
        if show_value:
            self.text(x, y + 0.26, activation, name=f"symbol_{key}", size=18, color=ink)
            self.text(
                x, y - 0.3, _label(key, value), name=f"label_{key}", size=VALUE_FONT, color=ink
            )
        else:
            self.text(x, y, activation, name=f"symbol_{key}", size=18, color=ink)

    def linear(
        self, x: float, y: float, html: str, name: str, *, w: float = BLOCK_W, h: float = 1.3
    ) -> None:
        """A matmul plus bias with no activation (the GRU's two halves of n_t)."""
        self.bodies.append(
            dict(
                type="rect",
                name=name,
                x0=x - w / 2,
                x1=x + w / 2,
                y0=y - h / 2,
                y1=y + h / 2,
                fillcolor="#ffffff",
                line=dict(color=INK, width=2, dash="dot"),
            )
        )
        self.text(x, y, html, name=f"symbol_{name}", size=VALUE_FONT)

    def op(self, x: float, y: float, symbol: str, name: str) -> None:
        """An elementwise operation: × is ⊙, +, 1−."""
        r = OP_RADIUS
        self.bodies.append(
            dict(
                type="circle",
                name=name,
                x0=x - r,
                x1=x + r,
                y0=y - r,
                y1=y + r,
                fillcolor=OP_FILL,
                line=dict(color=INK, width=LINE_WIDTH),
            )
        )
        self.text(x, y, symbol, name=f"symbol_{name}", size=20 if symbol != "1−" else 16)

    def pill(
        self, x: float, y: float, text: str, name: str, w: float = 1.5, h: float = 0.7
    ) -> None:
        """An elementwise activation with no weights (the LSTM's tanh(c_t))."""
        r = h / 2
        path = (
            f"M {x - w / 2 + r},{y - r} L {x + w / 2 - r},{y - r} Q {x + w / 2},{y - r} "
            f"{x + w / 2},{y} Q {x + w / 2},{y + r} {x + w / 2 - r},{y + r} L {x - w / 2 + r},"
            f"{y + r} Q {x - w / 2},{y + r} {x - w / 2},{y} Q {x - w / 2},{y - r} "
            f"{x - w / 2 + r},{y - r} Z"
        )
        self.bodies.append(
            dict(
                type="path",
                name=name,
                path=path,
                fillcolor=OP_FILL,
                line=dict(color=INK, width=LINE_WIDTH),
            )
        )
        self.text(x, y, text, name=f"symbol_{name}", size=15)

    def terminal(
        self,
        key: str,
        x: float,
        y: float,
        side: str,
        *,
        name: str | None = None,
        caption: str | None = None,
    ) -> None:
        """Where a state enters or leaves: a small circle filled with its colour, its label on
        ``side`` ("left", "right", "above", "below")."""
        value = self.value(key)
        r = TERMINAL_RADIUS
        fill = colour_for(key, value) if key in _SCALE and value is not None else "#ffffff"
        self.bodies.append(
            dict(
                type="circle",
                name=name or f"state_{key}",
                x0=x - r,
                x1=x + r,
                y0=y - r,
                y1=y + r,
                fillcolor=fill,
                line=dict(color=INK, width=LINE_WIDTH),
            )
        )
        text = _label(key, value) if name is None else HTML.of(key)
        if caption:
            text = f"{text}<br><span style='font-size:14px;color:#555'>{caption}</span>"
        gap = r + 0.15
        at = {
            "left": (x - gap, y, "right", "middle"),
            "right": (x + gap, y, "left", "middle"),
            "above": (x, y + gap, "center", "bottom"),
            "below": (x, y - gap, "center", "top"),
        }
        tx, ty, xa, ya = at[side]
        self.text(
            tx,
            ty,
            text,
            name=f"label_{key}" if name is None else f"label_{name}",
            xanchor=xa,
            yanchor=ya,
        )


def _draw_rnn(s: _Sketch, nonlinearity: str) -> tuple[tuple[float, float], tuple[float, float]]:
    act = HTML.act(nonlinearity)
    bus, bx, by, ky = 1.6, 5.0, 3.6, 5.6
    s.cell(2.4, 0.5, 7.8, 6.6)
    s.wire((0.8 + TERMINAL_RADIUS, bus), (bx, bus), arrow=False)
    s.wire((bx, -0.5 + TERMINAL_RADIUS), (bx, bus), arrow=False)
    s.dot(bx, bus)
    s.wire((bx, bus), (bx, by - BLOCK_H / 2))
    s.wire((bx, by + BLOCK_H / 2), (bx, ky), arrow=False)
    s.dot(bx, ky)
    s.wire((bx, ky), (bx, 7.6 - TERMINAL_RADIUS))
    s.wire((bx, ky), (9.8 - TERMINAL_RADIUS, ky))
    s.gate("h", bx, by, act, show_value=False)
    s.explain("h", bx, by, _HOVER["h_rnn"].format(act=act))
    s.terminal("h_prev", 0.8, bus, "below", caption="from step t−1")
    s.terminal("x", bx, -0.5, "right")
    s.terminal("h", 9.8, ky, "below", caption="to step t+1")
    s.terminal("h", bx, 7.6, "right", name="state_h_out", caption="output")
    return (-1.0, 12.2), (-1.3, 8.3)


def _draw_lstm(s: _Sketch, _nonlinearity: str) -> tuple[tuple[float, float], tuple[float, float]]:
    bus, row, belt, mid = 1.4, 3.1, 7.0, 5.2
    xf, xi, xg, xo = 5.6, 8.4, 11.2, 14.0  # left to right as they act; PyTorch's rows are i f g o
    xc, xh, yo, yt = 16.6, 18.4, 4.5, 5.9  # tanh(c_t) branch, h_t fork, o ⊙ tanh(c_t), tanh pill
    R, T, top = OP_RADIUS, TERMINAL_RADIUS, row + BLOCK_H / 2
    s.cell(2.6, 0.6, 19.4, 7.9)
    # the cell-state conveyor belt
    s.wire((0.8 + T, belt), (xf - R, belt))
    s.wire((xf + R, belt), (xg - R, belt))
    s.wire((xg + R, belt), (20.6 - T, belt))
    s.dot(xc, belt)
    # [h_{t-1}, x_t] bus feeding the four layers
    s.wire((0.8 + T, bus), (xo, bus), arrow=False)
    s.wire((3.6, -0.5 + T), (3.6, bus), arrow=False)
    s.dot(3.6, bus)
    for x in (xf, xi, xg, xo):
        s.wire((x, bus), (x, row - BLOCK_H / 2))
        if x != xo:
            s.dot(x, bus)
    s.wire((xf, top), (xf, belt - R))
    s.wire((xi, top), (xi, mid), (xg - R, mid))
    s.wire((xg, top), (xg, mid - R))
    s.wire((xg, mid + R), (xg, belt - R))
    # h_t = o_t ⊙ tanh(c_t)
    s.wire((xc, belt), (xc, yt + 0.35))
    s.wire((xc, yt - 0.35), (xc, yo + R))
    s.wire((xo, top), (xo, yo), (xc - R, yo))
    s.wire((xc + R, yo), (20.6 - T, yo))
    s.dot(xh, yo)
    s.wire((xh, yo), (xh, belt - 0.4), arrow=False)
    s.wire((xh, belt - 0.4), (xh, belt + 0.4), arrow=False, over=True)  # passes over the belt
    s.wire((xh, belt + 0.4), (xh, 9.0 - T))
    for key, x in (("f", xf), ("i", xi), ("g", xg), ("o", xo)):
        s.gate(key, x, row, HTML.act(activation("lstm", key)))
        s.explain(key, x, row, _HOVER[key])
    s.op(xf, belt, "×", "mul_f")
    s.op(xg, mid, "×", "mul_ig")
    s.op(xg, belt, "+", "add_c")
    s.op(xc, yo, "×", "mul_o")
    s.pill(xc, yt, HTML.act("tanh"), "tanh_c")
    s.terminal("c_prev", 0.8, belt, "above", caption="from step t−1")
    s.terminal("h_prev", 0.8, bus, "below", caption="from step t−1")
    s.terminal("x", 3.6, -0.5, "right")
    s.terminal("c", 20.6, belt, "above", caption="to step t+1")
    s.terminal("h", 20.6, yo, "below", caption="to step t+1")
    s.terminal("h", xh, 9.0, "left", name="state_h_out", caption="output")
    return (-1.0, 21.9), (-1.3, 9.7)


def _draw_gru(s: _Sketch, _nonlinearity: str) -> tuple[tuple[float, float], tuple[float, float]]:
    bus, row, top_line, one_minus, mid = 1.4, 3.1, 7.8, 6.4, 5.0
    xa, xj = 3.2, 4.2  # h_{t-1} drops to the bus at xa; x_t joins it at xj
    xz, xr, xhn, xin, xn, xo, xk = 5.4, 8.1, 10.8, 13.5, 16.2, 18.6, 19.8
    R, T, top = OP_RADIUS, TERMINAL_RADIUS, row + BLOCK_H / 2
    s.cell(2.4, 0.6, 20.6, 8.7)
    # h_{t-1} along the top: z_t ⊙ h_{t-1} + (1 − z_t) ⊙ n_t
    s.wire((0.8 + T, top_line), (xz - R, top_line))
    s.dot(xa, top_line)
    s.wire((xz + R, top_line), (xo - R, top_line))
    s.wire((xo + R, top_line), (22.4 - T, top_line))
    s.dot(xk, top_line)
    s.wire((xk, top_line), (xk, 9.6 - T))
    # [h_{t-1}, x_t] bus
    s.wire((xa, top_line), (xa, bus), (xin, bus), arrow=False)
    s.wire((xj, -0.5 + T), (xj, bus), arrow=False)
    s.dot(xj, bus)
    for x in (xz, xr, xhn, xin):
        s.wire((x, bus), (x, row - (BLOCK_H if x in (xz, xr) else 1.3) / 2))
        if x != xin:
            s.dot(x, bus)
    # z_t up to the top line, and through 1− to the new gate's product
    s.wire((xz, top), (xz, top_line - R))
    s.dot(xz, one_minus)
    s.wire((xz, one_minus), (7.3 - R, one_minus))
    s.wire((7.3 + R, one_minus), (xo - R, one_minus))
    # n_t = tanh(W_in x + b_in + r_t ⊙ (W_hn h + b_hn)): reset after the matmul
    s.wire((xr, top), (xr, mid), (xhn - R, mid))
    s.wire((xhn, row + 0.65), (xhn, mid - R))
    s.wire((xhn + R, mid), (xin - R, mid))
    s.wire((xin, row + 0.65), (xin, mid - R))
    s.wire((xin + R, mid), (xn - BLOCK_W / 2, mid))
    s.wire((xn + BLOCK_W / 2, mid), (xo, mid), (xo, one_minus - R))
    s.wire((xo, one_minus + R), (xo, top_line - R))
    for key, x, y in (("z", xz, row), ("r", xr, row), ("n", xn, mid)):
        s.gate(key, x, y, HTML.act(activation("gru", key)))
        s.explain(key, x, y, _HOVER[key])
    for side, vector, x in (("h", "h_prev", xhn), ("i", "x", xin)):  # W_hn h + b_hn, W_in x + b_in
        W, b = HTML.sym(*weight(side, "n")), HTML.sym(*bias(side, "n"))
        s.linear(x, row, f"{W} {HTML.of(vector)}<br>+ {b}", f"lin_{side}n")
    s.op(xz, top_line, "×", "mul_z")
    s.op(7.3, one_minus, "1−", "one_minus_z")
    s.op(xhn, mid, "×", "mul_r")
    s.op(xin, mid, "+", "add_n")
    s.op(xo, one_minus, "×", "mul_n")
    s.op(xo, top_line, "+", "add_h")
    s.terminal("h_prev", 0.8, top_line, "above", caption="from step t−1")
    s.terminal("x", xj, -0.5, "right")
    s.terminal("h", 22.4, top_line, "below", caption="to step t+1")
    s.terminal("h", xk, 9.6, "left", name="state_h_out", caption="output")
    return (-1.0, 23.6), (-1.3, 10.3)


_DRAW = {"rnn": _draw_rnn, "lstm": _draw_lstm, "gru": _draw_gru}
_TITLE = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}


def _colourbar(scale: tuple, title: str, x: float) -> go.Scatter:
    """An invisible trace whose only job is to show a labelled colour bar. The bars lie
    horizontally under the drawing, centred at ``x`` (paper units), so that the figure stays as
    narrow as the drawing: a projector's 1024-px screen has no room beside it."""
    lo, hi, name = scale
    return go.Scatter(
        x=[None],
        y=[None],
        mode="markers",
        hoverinfo="skip",
        showlegend=False,
        marker=dict(
            color=[lo, hi],
            cmin=lo,
            cmax=hi,
            colorscale=name,
            showscale=True,
            colorbar=dict(
                title=dict(text=title, side="right", font=dict(size=14)),
                orientation="h",
                thickness=14,
                len=0.3,
                x=x,
                xanchor="center",
                y=0,
                yanchor="top",
                ypad=10,
                tickfont=dict(size=14),
            ),
        ),
    )


def cell_diagram(
    kind: str,
    values: dict[str, float] | None = None,
    *,
    unit: int | None = None,
    step: int | None = None,
    height: int = 460,
    nonlinearity: str = "tanh",
) -> go.Figure:
    """The gate diagram of one RNN, LSTM or GRU cell, drawn with Plotly shapes and annotations.

    - RNN: ``x_t`` and ``h_{t-1}`` join and feed one tanh (or ReLU, ``nonlinearity="relu"``)
      layer whose output ``h_t`` leaves up (output) and to the right (to step t+1).
    - LSTM: ``c_{t-1}`` runs along the top "conveyor belt" through ``× f_t`` and ``+ i_t ⊙ g_t``
      to ``c_t``; ``[h_{t-1}, x_t]`` feed σ (f), σ (i), tanh (g), σ (o), drawn left to right in
      the order they act on the belt (PyTorch stores the rows as i f g o);
      ``h_t = o_t ⊙ tanh(c_t)``.
    - GRU (PyTorch's form): σ (z), σ (r); the reset gate multiplies ``W_hn h_{t-1} + b_hn``,
      after the matmul, which is added to ``W_in x_t + b_in`` and squashed to ``n_t``;
      ``h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t-1}`` on the top line.

    Args:
        kind: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        values: the selected unit's numbers at one step, keys from ``DIAGRAM_QUANTITIES[kind]``
            (``"x"``, ``"h_prev"``, ``"c_prev"``, gates, ``"c"``, ``"h"``). Each gate box then
            shows ``name = value`` and is filled from a fixed scale: sigmoid gates (i f o r z) on
            Viridis over 0…1, tanh quantities (g, n, h, c and the previous states) on RdBu_r over
            −1…1; c_t is clipped for its colour only, its text shows the true value. Colour bars
            label the scales (only the tanh one for an RNN). ``None`` draws neutral grey boxes
            and symbols only; a missing, ``None`` or non-finite value is drawn the same way, and
            x_t, which has no fixed range, is never coloured.
        unit, step: put into the title ("LSTM cell, unit 3, step t = 12").
        height: figure height in pixels. The aspect ratio is fixed and text has a fixed size in
            pixels, so ``layout.width`` is set to the width the drawing needs at this height
            (at 420: about 650 px for LSTM and GRU, 430 for RNN, which fit a 1024-px screen
            with the sidebar open; the value labels in the gate boxes still fit at 24 px per
            diagram unit, 600 px for a GRU); show it with ``width="content"``.
        nonlinearity: the RNN's activation, ``"tanh"`` or ``"relu"``.

    Gate boxes are shapes named by their key (``"f"``, ``"r"``; the RNN's box is ``"h"``), states
    are circles named ``"state_<key>"``, and each value text is an annotation named
    ``"label_<key>"``, so code and tests can find them.

    Raises:
        ValueError: ``kind`` is not one of ``"rnn"``, ``"lstm"``, ``"gru"``, or ``nonlinearity``
            is not ``"tanh"`` or ``"relu"``.
    """
    if kind not in _DRAW:
        raise ValueError(f"kind must be one of {sorted(_DRAW)}, got {kind!r}")
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    sketch = _Sketch(values)
    (x0, x1), (y0, y1) = _DRAW[kind](sketch, nonlinearity)  # the drawing's extent
    fig = go.Figure([_hover_trace(sketch.hover), *_colourbars(kind, values, nonlinearity)])
    margin = dict(l=10, r=10, t=50, b=COLOURBAR_SPACE if values is not None else 10)
    scale = (height - margin["t"] - margin["b"]) / (y1 - y0)  # pixels per diagram unit
    fig.update_layout(
        title=dict(text=_title(kind, unit, step), font=dict(size=17)),
        height=height,
        font=dict(size=LABEL_FONT),
        width=round(scale * (x1 - x0)) + margin["l"] + margin["r"],  # the width text fits in
        shapes=sketch.back + sketch.wires + sketch.bodies,
        annotations=sketch.notes,
        plot_bgcolor="#ffffff",
        paper_bgcolor="#ffffff",
        margin=margin,
        dragmode=False,
        hoverlabel=dict(font=dict(size=14)),
    )
    fig.update_xaxes(range=[x0, x1], visible=False, showgrid=False, zeroline=False, fixedrange=True)
    fig.update_yaxes(
        range=[y0, y1],
        visible=False,
        showgrid=False,
        zeroline=False,
        fixedrange=True,
        scaleanchor="x",
        scaleratio=1,
    )
    return fig


def _title(kind: str, unit: int | None, step: int | None) -> str:
    """``"LSTM cell, unit 3, step t = 12"``; the unit and the step only when given."""
    title = f"{_TITLE[kind]} cell"
    if unit is not None:
        title += f", unit {unit}"
    if step is not None:
        title += f", step t = {step}"
    return title


def _hover_trace(hover: list[tuple[float, float, str]]) -> go.Scatter:
    """Invisible square markers over the boxes that carry their hover text (equation, value)."""
    xs, ys, texts = zip(*hover)
    return go.Scatter(
        x=xs,
        y=ys,
        mode="markers",
        hovertext=texts,
        hoverinfo="text",
        marker=dict(size=44, symbol="square", color="rgba(0,0,0,0)"),
        showlegend=False,
    )


def _colourbars(kind: str, values: dict | None, nonlinearity: str) -> list[go.Scatter]:
    """The colour bars under a drawing with values: sigmoid and tanh, or the tanh one alone for
    an RNN (no sigmoid gates); none for a drawing without values."""
    if values is None:
        return []
    if kind == "rnn":
        title = TANH_TITLE if nonlinearity == "tanh" else "ReLU h, −1…1 clipped"
        return [_colourbar(TANH, title, 0.3)]
    return [_colourbar(SIGMOID, SIGMOID_TITLE, 0.2), _colourbar(TANH, TANH_TITLE, 0.65)]


def _rgb(colour: str) -> list[float]:
    if colour.startswith("#"):
        return [float(c) for c in hex_to_rgb(colour)]
    return [float(c) for c in unlabel_rgb(colour)]


def diagram_animation(kind: str, values: dict[str, list]) -> dict:
    """What a browser needs to repaint :func:`cell_diagram`'s drawing at any step itself (the
    step player): ``{"values": values, "scale_of": {key: "sigmoid" | "tanh"}, "scales":
    {name: [lo, hi, [[position, [r, g, b]], …]]}, "shapes": {shape name: key},
    "inside": {annotation name: key}}``.

    ``values`` maps the keys of ``DIAGRAM_QUANTITIES[kind]`` to one value per step (or one
    value for every step). ``shapes`` names the shapes filled by a quantity's colour (gate
    boxes, state circles), ``inside`` the texts drawn on a gate box, whose ink (black or white)
    follows its fill; value labels are the annotations ``"label_<key>"``. Colours are
    interpolated as :func:`colour_for` does (Plotly's ``sample_colorscale``, linear in RGB).

    Raises:
        ValueError: ``kind`` is not one of ``"rnn"``, ``"lstm"``, ``"gru"``.
    """
    if kind not in _DRAW:
        raise ValueError(f"kind must be one of {sorted(_DRAW)}, got {kind!r}")
    scales = {
        name: [lo, hi, [[float(p), _rgb(c)] for p, c in get_colorscale(scale)]]
        for name, (lo, hi, scale) in (("sigmoid", SIGMOID), ("tanh", TANH))
    }
    keys = DIAGRAM_QUANTITIES[kind]
    scale_of = {k: ("sigmoid" if _SCALE[k] is SIGMOID else "tanh") for k in keys if k in _SCALE}
    shapes = {f"state_{k}": k for k in ("h_prev", "c_prev", "h", "c") if k in scale_of}
    shapes["state_h_out"] = "h"
    boxes = list(CELLS[kind].gates) or ["h"]  # the RNN's one box is h
    shapes.update({k: k for k in boxes})
    inside = {f"symbol_{k}": k for k in boxes}
    if kind != "rnn":  # the RNN's value label sits outside its box
        inside.update({f"label_{k}": k for k in boxes})
    return {
        "values": values,
        "scale_of": scale_of,
        "scales": scales,
        "shapes": shapes,
        "inside": inside,
    }
