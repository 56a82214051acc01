"""The Learn page's figures (Plotly): the network folded and unrolled, the gradient's decay,
the memory of a pulse, the live traces of the three kinds, the parameter counts and the code's
agreement with ``torch.nn``. Pure functions of numbers that :mod:`explorer.lesson` computes;
no model maths here.

Sections as on the page (and in :mod:`explorer.lesson`): 1. structure (:func:`unrolled_figure`),
3. three kinds (:func:`gradient_figure`, :func:`memory_figure`, :func:`trace_figure`),
4. counting (:func:`count_figure`), 6. the code (:func:`agreement_figure`).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .charts import FONT, LEGEND_AT_FOOT, QUANTITY_STYLES, style_for
from .config import CELLS
from .lesson import COLOURS, MEMORY_COLOURS, CodeRun, CountRow, GradientFlow
from .teaching import HTML, weight

# ----------------------------------------------------------------------------- 1. structure

_LABEL = {n: HTML.sym(*weight(n[2], n[3])) for n in ("W_xh", "W_hh", "W_hy")}  # W<sub>xh</sub>
_UNIT_GAP = 0.5  # vertical distance between two unit markers (data units)
_BOX_W = 0.8
_ROW_Y = {"x": 0.0, "h": 3.2, "y": 6.2}  # centres of the input, hidden and output layers
_DX = 2.3  # horizontal distance between two time steps
_ROW_NAMES = {"x": "input x_t", "h": "hidden h_t", "y": "output y_t"}  # hover text, folded


def _box_height(n: int) -> float:
    return n * _UNIT_GAP + 0.25


def _arrow(x0: float, y0: float, x1: float, y1: float, colour: str, width: float = 3) -> dict:
    """A Plotly annotation drawing an arrow from (x0, y0) to (x1, y1) in data coordinates."""
    return dict(
        x=x1,
        y=y1,
        ax=x0,
        ay=y0,
        xref="x",
        yref="y",
        axref="x",
        ayref="y",
        text="",
        showarrow=True,
        arrowhead=2,
        arrowsize=1.1,
        arrowwidth=width,
        arrowcolor=colour,
        standoff=0,
        startstandoff=0,
    )


def _text(x: float, y: float, text: str, size: int = 16, **kw) -> dict:
    return dict(
        x=x,
        y=y,
        xref="x",
        yref="y",
        text=text,
        showarrow=False,
        font=dict(size=size, color=kw.pop("color", "#222222")),
        **kw,
    )


def unrolled_figure(
    T: int,
    input_size: int,
    hidden_size: int,
    output_size: int,
    *,
    values: dict[str, np.ndarray] | None = None,
    step: int | None = None,
    height: int = 430,
) -> go.Figure:
    """The RNN folded (left: one hidden layer with a loop) and unrolled over ``T`` steps.

    Each layer is a box of unit markers: input ``input_size`` (X), hidden ``hidden_size`` (H),
    output ``output_size`` (O). Arrows in one colour per matrix (:data:`COLOURS`): the same
    W_xh, W_hh and W_hy at every step, named once, on the folded network and in the legend.

    ``values`` (optional) colours the units by value: ``{"x": (T, X), "h": (T + 1, H)`` with
    ``h[0] = h_0``, ``"y": (T, O)}``; ``step`` (1 … T) highlights one time step.

    Raises:
        ValueError: ``T`` outside 1 … 8 or a size outside 1 … 6 (the drawing has room for no
            more), or ``step`` outside 1 … T.
    """
    _check_drawing(T, input_size, hidden_size, output_size, step)
    drawing = _Drawing({"x": input_size, "h": hidden_size, "y": output_size})
    xs_t = [2 * _DX + _DX * (t - 1) for t in range(1, T + 1)]  # centres of steps 1 … T
    if step is not None:
        drawing.shapes.append(_step_highlight(xs_t[step - 1], drawing.half))
    _draw_folded(drawing)
    _draw_unrolled(drawing, xs_t, values)
    drawing.traces += _matrix_legend(input_size, hidden_size, output_size)
    if values is not None:
        drawing.traces.append(_value_colourbar())
    title = (
        f"Folded (left), and unrolled over T = {T} steps"
        if step is None
        else f"Step t = {step} of {T} (highlighted)"
    )
    return go.Figure(drawing.traces, _unrolled_layout(drawing, title, xs_t[-1], height))


def _check_drawing(T: int, input_size: int, hidden_size: int, output_size: int, step) -> None:
    """Raise ``ValueError`` for what the drawing has no room for (see :func:`unrolled_figure`)."""
    if not 1 <= T <= 8:
        raise ValueError(f"T must be between 1 and 8 for the drawing, got {T}")
    for name, n in (
        ("input_size", input_size),
        ("hidden_size", hidden_size),
        ("output_size", output_size),
    ):
        if not 1 <= n <= 6:
            raise ValueError(f"{name} must be between 1 and 6 for the drawing, got {n}")
    if step is not None and not 1 <= step <= T:
        raise ValueError(f"step must be between 1 and T = {T}, got {step}")


class _Drawing:
    """What :func:`unrolled_figure` draws, collected in drawing order: Plotly shapes,
    annotations and traces, for layers of ``sizes`` units (``{"x": X, "h": H, "y": O}``)."""

    def __init__(self, sizes: dict[str, int]):
        self.sizes = sizes
        self.half = {k: _box_height(n) / 2 for k, n in sizes.items()}  # half a box's height
        self.shapes: list[dict] = []
        self.annotations: list[dict] = []
        self.traces: list[go.Scatter] = []

    def bottom(self, row: str) -> float:
        return _ROW_Y[row] - self.half[row]

    def top(self, row: str) -> float:
        return _ROW_Y[row] + self.half[row]

    def layer_box(self, xc: float, row: str, dashed: bool = False) -> None:
        """The box around one layer's units at ``xc``; dotted for the initial state."""
        self.shapes.append(
            dict(
                type="rect",
                x0=xc - _BOX_W / 2,
                x1=xc + _BOX_W / 2,
                y0=self.bottom(row),
                y1=self.top(row),
                line=dict(color="#444444", width=1.5, dash="dot" if dashed else None),
                fillcolor="rgba(255,255,255,0.85)",
                layer="below",
            )
        )

    def units(self, xc: float, row: str, label: str, vals: np.ndarray | None) -> None:
        """One marker per unit of a layer at ``xc`` (unit 0 on top), grey or coloured by
        ``vals`` on −1 … 1."""
        n = self.sizes[row]
        ys = _ROW_Y[row] + (np.arange(n)[::-1] - (n - 1) / 2) * _UNIT_GAP  # unit 0 on top
        marker = dict(size=17, line=dict(color="#333333", width=1.5))
        if vals is None:
            marker["color"] = "#e8e8e8"
            hover = [f"{label}, unit {k}<extra></extra>" for k in range(n)]
        else:
            marker.update(
                color=np.asarray(vals, dtype=np.float64), colorscale="RdBu_r", cmin=-1.0, cmax=1.0
            )
            hover = [f"{label}, unit {k}: {v:.3f}<extra></extra>" for k, v in enumerate(vals)]
        self.traces.append(
            go.Scatter(
                x=np.full(n, xc),
                y=ys,
                mode="markers",
                marker=marker,
                hovertemplate=hover,
                showlegend=False,
            )
        )

    def arrows_up(self, xc: float) -> list[dict]:
        """W_xh from the input to the hidden layer and W_hy on to the output, at ``xc``."""
        return [
            _arrow(xc, self.top("x"), xc, self.bottom("h"), COLOURS["W_xh"]),
            _arrow(xc, self.top("h"), xc, self.bottom("y"), COLOURS["W_hy"]),
        ]


def _step_highlight(xc: float, half: dict[str, float]) -> dict:
    """A pale band behind every layer of the step drawn at ``xc``."""
    return dict(
        type="rect",
        x0=xc - 0.95,
        x1=xc + 0.95,
        y0=-half["x"] - 0.75,
        y1=_ROW_Y["y"] + half["y"] + 0.75,
        fillcolor="#fff3b0",
        line=dict(width=0),
        layer="below",
    )


def _draw_folded(d: _Drawing) -> None:
    """The folded network at x = 0, where the three matrices are named: the layers' names in
    the left margin, the W_xh and W_hy arrows, the W_hh loop, and a line apart from the rest."""
    for row in "xhy":
        d.layer_box(0.0, row)
        d.units(0.0, row, _ROW_NAMES[row], None)
    d.annotations += _layer_names(d.sizes)
    d.annotations += d.arrows_up(0)
    loop_x = _BOX_W / 2 + 0.45
    _draw_loop(d, loop_x)
    d.annotations += _matrix_names(d, loop_x)
    separator_x = (loop_x + 0.55 + _DX - _BOX_W / 2) / 2 + 0.05  # between the loop and h_0
    d.shapes.append(
        dict(
            type="line",
            x0=separator_x,
            x1=separator_x,
            y0=-d.half["x"] - 0.6,
            y1=_ROW_Y["y"] + d.half["y"] + 0.6,
            line=dict(color="#bbbbbb", width=1, dash="dot"),
        )
    )


def _layer_names(sizes: dict[str, int]) -> list[dict]:
    """Each layer's name and size in the left margin (pixels): never clipped, however narrow
    the page."""
    names = {
        "x": f"input x<sub>t</sub><br>X = {sizes['x']}",
        "h": f"hidden h<sub>t</sub><br>H = {sizes['h']}",
        "y": f"output y<sub>t</sub><br>O = {sizes['y']}",
    }
    return [
        dict(_text(0, _ROW_Y[row], names[row], size=15, xanchor="right"), xref="paper", xshift=-8)
        for row in "xhy"
    ]


def _matrix_names(d: _Drawing, loop_x: float) -> list[dict]:
    """W_xh and W_hy beside their arrows, W_hh beside its loop, each in its colour."""
    mid_x = (d.top("x") + d.bottom("h")) / 2
    mid_y = (d.top("h") + d.bottom("y")) / 2
    return [
        _text(0.12, mid_x, _LABEL["W_xh"], color=COLOURS["W_xh"], xanchor="left", size=17),
        _text(0.12, mid_y, _LABEL["W_hy"], color=COLOURS["W_hy"], xanchor="left", size=17),
        _text(
            loop_x + 0.08,
            _ROW_Y["h"],
            _LABEL["W_hh"],
            color=COLOURS["W_hh"],
            xanchor="left",
            size=17,
        ),
    ]


def _draw_loop(d: _Drawing, loop_x: float) -> None:
    """W_hh on the folded network: a loop from the hidden box back into it, ending in an arrow."""
    y_top, y_bot = _ROW_Y["h"] + 0.35, _ROW_Y["h"] - 0.35
    d.shapes.append(
        dict(
            type="path",
            path=f"M {_BOX_W / 2},{y_bot} L {loop_x},{y_bot} "
            f"L {loop_x},{y_top} L {_BOX_W / 2 + 0.1},{y_top}",
            line=dict(color=COLOURS["W_hh"], width=3),
        )
    )
    d.annotations.append(_arrow(_BOX_W / 2 + 0.12, y_top, _BOX_W / 2, y_top, COLOURS["W_hh"]))


def _draw_unrolled(d: _Drawing, xs_t: list[float], values: dict[str, np.ndarray] | None) -> None:
    """h_0 (dotted, at x = ``_DX``), then each step t = 1 … T at ``xs_t[t - 1]``: its three
    layers, coloured by ``values`` if given, W_xh and W_hy up and W_hh from the step before."""
    x_h0 = _DX  # the initial state h_0
    d.layer_box(x_h0, "h", dashed=True)
    d.units(x_h0, "h", "initial state h_0", None if values is None else values["h"][0])
    d.annotations.append(_text(x_h0, d.bottom("h") - 0.3, "h<sub>0</sub> = 0", size=15))
    prev = x_h0
    for t, xc in enumerate(xs_t, start=1):
        for row in "xhy":
            d.layer_box(xc, row)
        if values is None:
            vx = vh = vy = None
        else:
            vx, vh, vy = values["x"][t - 1], values["h"][t], values["y"][t - 1]
        d.units(xc, "x", f"x_{t}", vx)
        d.units(xc, "h", f"h_{t}", vh)
        d.units(xc, "y", f"y_{t}", vy)
        d.annotations += d.arrows_up(xc) + [
            _arrow(prev + _BOX_W / 2, _ROW_Y["h"], xc - _BOX_W / 2, _ROW_Y["h"], COLOURS["W_hh"]),
            *_step_labels(d, xc, t),
        ]
        prev = xc


def _step_labels(d: _Drawing, xc: float, t: int) -> list[dict]:
    """x_t under the input, y_t over the output, h_t beside the hidden layer of step ``t``."""
    return [
        _text(xc, -d.half["x"] - 0.3, f"x<sub>{t}</sub>", size=15),
        _text(xc, d.top("y") + 0.3, f"y<sub>{t}</sub>", size=15),
        _text(
            xc + _BOX_W / 2 + 0.08,
            d.bottom("h") - 0.05,
            f"h<sub>{t}</sub>",
            size=15,
            xanchor="left",
            yanchor="top",
        ),
    ]


def _matrix_legend(input_size: int, hidden_size: int, output_size: int) -> list[go.Scatter]:
    """One legend entry per shared matrix, with its shape."""
    shape_of = {
        "W_xh": f"H×X = {hidden_size}×{input_size}",
        "W_hh": f"H×H = {hidden_size}×{hidden_size}",
        "W_hy": f"O×H = {output_size}×{hidden_size}",
    }
    return [
        go.Scatter(
            x=[None],
            y=[None],
            mode="lines",
            line=dict(color=COLOURS[name], width=4),
            name=f"{_LABEL[name]} ({shape_of[name]})",
        )
        for name in ("W_xh", "W_hh", "W_hy")
    ]


def _value_colourbar() -> go.Scatter:
    """An invisible trace that shows the units' colour scale (−1 … 1)."""
    return go.Scatter(
        x=[None],
        y=[None],
        mode="markers",
        showlegend=False,
        hoverinfo="skip",
        marker=dict(
            colorscale="RdBu_r",
            cmin=-1,
            cmax=1,
            color=[0],
            showscale=True,
            colorbar=dict(thickness=12, len=0.7, title=dict(text="value")),
        ),
    )


def _unrolled_layout(d: _Drawing, title: str, x_last: float, height: int) -> dict:
    """Axes hidden and fixed around the drawing, the legend of matrices under it."""
    x_lo = -0.6
    return dict(
        title=dict(text=title, font=dict(size=17)),
        height=height,
        font=FONT,
        margin=dict(l=105, r=10, t=50, b=75),
        plot_bgcolor="white",
        xaxis=dict(visible=False, range=[x_lo, x_last + 1.0], fixedrange=True),
        yaxis=dict(
            visible=False,
            range=[-d.half["x"] - 0.8, _ROW_Y["y"] + d.half["y"] + 0.8],
            fixedrange=True,
        ),
        shapes=d.shapes,
        annotations=d.annotations,
        legend=dict(
            orientation="h",
            y=0,
            yanchor="top",
            x=0,
            font=dict(size=15),
            title=dict(text="shared by every step: "),
        ),
    )


# ----------------------------------------------------------------------------- 3. three kinds


def gradient_figure(
    chosen: GradientFlow, references: list[GradientFlow] = (), height: int = 420
) -> go.Figure:
    """``‖∂h_T/∂h_t‖`` against the distance ``T − t`` on a log axis: the chosen network bold;
    dashed, the same product without f′ (``‖W_hh^(T−t)‖``, the network near h = 0 where
    tanh′ = 1); thin grey, that product for the ``references`` (other spectral radii), which
    fan out from vanishing (ρ < 1) to exploding (ρ > 1)."""
    k = np.arange(chosen.T + 1)  # steps back from the end
    lines = [line for ref in references for line in _reference_lines(k, ref)]
    lines += _chosen_lines(k, chosen)
    finite = [
        float(v)
        for line in lines
        if line.mode != "text"
        for v in line.y
        if v > 0 and np.isfinite(v)
    ]
    lo = max(min(finite), 1e-30) if finite else 1e-6
    hi = max(finite) if finite else 1.0
    return go.Figure(lines, _gradient_layout(chosen.T, lo, hi, height))


def _reference_lines(k: np.ndarray, ref: GradientFlow) -> list[go.Scatter]:
    """A reference network's product without f′, thin grey, named by its ρ at the far end."""
    return [
        go.Scatter(
            x=k,
            y=ref.linear[::-1],
            mode="lines",
            line=dict(color="#c0c0c0", width=1.5),
            showlegend=False,
            hovertemplate=f"ρ = {ref.rho:.2f}, no f′: %{{y:.2e}}<extra></extra>",
        ),
        go.Scatter(
            x=[k[-1]],
            y=[ref.linear[0]],
            mode="text",
            text=[f" ρ = {ref.rho:g}"],
            textposition="middle right",
            showlegend=False,
            hoverinfo="skip",
            textfont=dict(color="#777777", size=14),
        ),
    ]


def _chosen_lines(k: np.ndarray, chosen: GradientFlow) -> list[go.Scatter]:
    """The chosen network: its product without f′ dashed, its true norms bold."""
    return [
        go.Scatter(
            x=k,
            y=chosen.linear[::-1],
            mode="lines",
            name=f"W_hh alone (no f′), ρ = {chosen.rho:.2f}",
            line=dict(color=COLOURS["W_hh"], width=2.5, dash="dash"),
            hovertemplate="T−t = %{x}: %{y:.2e}<extra>no f′</extra>",
        ),
        go.Scatter(
            x=k,
            y=chosen.norms[::-1],
            mode="lines+markers",
            name=f"the {chosen.nonlinearity} RNN on this input",
            line=dict(color="#111111", width=3),
            marker=dict(size=5),
            hovertemplate="T−t = %{x}: %{y:.2e}<extra></extra>",
        ),
    ]


def _gradient_layout(T: int, lo: float, hi: float, height: int) -> dict:
    """A log y axis from ``lo`` to ``hi`` (with room above and below), a dotted line at 1."""
    return dict(
        title=dict(text="How much h_T still feels h_t: ‖∂h_T/∂h_t‖", font=dict(size=17)),
        height=height,
        font=FONT,
        margin=dict(l=70, r=20, t=60, b=55),
        xaxis=dict(title=dict(text="steps back from the end, T − t"), range=[0, T * 1.2 + 1]),
        yaxis=dict(
            title=dict(text="‖∂h_T/∂h_t‖₂ (log)"),
            type="log",
            exponentformat="power",
            range=[np.log10(lo) - 0.4, np.log10(hi) + 0.7],
        ),
        legend=LEGEND_AT_FOOT,
        shapes=[
            dict(
                type="line",
                xref="paper",
                x0=0,
                x1=1,
                y0=1,
                y1=1,
                yref="y",
                line=dict(color="#666666", width=1, dash="dot"),
            )
        ],
    )


def memory_figure(curves: dict[str, np.ndarray], at: int = 3, height: int = 380) -> go.Figure:
    """The curves of :func:`pulse_memory` on a log axis from step ``at`` on."""
    lines = []
    for name, v in curves.items():
        t = np.arange(at, len(v) + 1)
        y = np.asarray(v[at - 1 :], dtype=np.float64)
        lines.append(
            go.Scatter(
                x=t,
                y=np.where(y > 0, y, np.nan),
                mode="lines",
                name=name,
                line=dict(
                    color=MEMORY_COLOURS.get(name),
                    width=3,
                    dash="dot" if name == "LSTM h_t" else None,
                ),
                hovertemplate=f"{name}: t=%{{x}}, %{{y:.2e}}<extra></extra>",
            )
        )
    return go.Figure(
        lines,
        dict(
            title=dict(text=f"How long a nudge at t = {at} is remembered", font=dict(size=17)),
            height=height,
            font=FONT,
            margin=dict(l=70, r=20, t=60, b=55),
            xaxis=dict(title=dict(text="time step t")),
            yaxis=dict(
                title=dict(text="‖state(nudged) − state‖ (log)"), type="log", exponentformat="power"
            ),
            # at the foot of the figure, under the axis title whatever the font size (a legend
            # placed in the plot's units sat on "time step t" in presenter mode)
            legend=LEGEND_AT_FOOT,
        ),
    )


TRACE_ORDER = {"rnn": ("h",), "lstm": ("f", "i", "o", "c", "h"), "gru": ("z", "r", "n", "h")}


def _colourbar_ticks(style) -> dict:
    if style.zmin == 0.0 and style.zmax == 1.0:
        return dict(tickvals=[0, 0.5, 1])
    if style.zmin == -1.0 and style.zmax == 1.0:
        return dict(tickvals=[-1, 0, 1])
    peak = float(style.zmax)  # a symmetric range set from the values (c_t)
    return dict(tickvals=[-peak, 0, peak], ticktext=[f"{-peak:.2g}", "0", f"{peak:.2g}"])


def trace_figure(
    x: np.ndarray,
    quantities: dict[str, np.ndarray],
    title: str,
    names: tuple[str, ...] | None = None,
    unit_px: int = 15,
) -> go.Figure:
    """The input ``(T,)`` on top, then one heatmap (unit × step) per quantity in ``names``,
    sharing the step axis (t = 1 … T), each with its own colour bar on a fixed range
    (:data:`explorer.charts.QUANTITY_STYLES`: gates 0 … 1, h and g −1 … 1, c symmetric).
    Each heatmap row is ``unit_px`` pixels per unit (at least 60).

    The layout is written out in one constructor call (``make_subplots`` and its updates cost
    about ten times as much)."""
    names = names or tuple(quantities)
    x = np.asarray(x, dtype=np.float32)
    steps = np.arange(1, len(x) + 1)
    rows_px = [70] + [max(60, unit_px * np.asarray(quantities[q]).shape[1]) for q in names]
    plot_px = sum(rows_px) + _ROW_GAP * len(names)
    domains = _row_domains(rows_px, plot_px)
    last = len(names) + 1  # the bottom row's axes, which every row's step axis matches
    data = [_input_row(steps, x)]
    layout = {
        "yaxis": dict(domain=domains[0], tickfont=dict(size=11)),
        "xaxis": dict(anchor="y", matches=f"x{last}", showticklabels=False),
    }
    for r, q in enumerate(names, start=2):
        vals = np.asarray(quantities[q], dtype=np.float32)  # (T, U)
        data.append(_quantity_row(q, vals, steps, r, domains[r - 1]))
        layout |= _quantity_axes(r, last, domains[r - 1])
    titles = ["input x_t"] + [QUANTITY_STYLES[q].label for q in names]
    return go.Figure(
        data,
        dict(
            title=dict(text=title, font=dict(size=17)),
            font=FONT,
            height=plot_px + 125,
            margin=dict(l=60, r=50, t=70, b=55),
            annotations=[_row_title(t, hi) for t, (_, hi) in zip(titles, domains)],
            **layout,
        ),
    )


_ROW_GAP = 38  # pixels between two rows of a trace figure: room for each row's title


def _row_domains(rows_px: list[int], plot_px: int) -> list[tuple[float, float]]:
    """Each row's ``(bottom, top)`` as fractions of the plot, top to bottom, ``_ROW_GAP`` apart."""
    domains, top = [], plot_px
    for px in rows_px:
        domains.append(((top - px) / plot_px, top / plot_px))
        top -= px + _ROW_GAP
    return domains


def _input_row(steps: np.ndarray, x: np.ndarray) -> go.Scatter:
    """The input x_t as a line (with markers up to 60 steps), on the top row's axes."""
    return go.Scatter(
        x=steps,
        y=x,
        mode="lines+markers" if len(x) <= 60 else "lines",
        line=dict(color="#333333", width=2),
        marker=dict(size=4),
        hovertemplate="t=%{x}: %{y:.3f}<extra></extra>",
        showlegend=False,
        xaxis="x",
        yaxis="y",
    )


def _quantity_row(
    q: str, vals: np.ndarray, steps: np.ndarray, r: int, domain: tuple[float, float]
) -> go.Heatmap:
    """Quantity ``q`` ``(T, U)`` as a heatmap on row ``r``'s axes, its colour bar beside the row
    on the quantity's fixed range (:func:`explorer.charts.style_for`)."""
    style = style_for(q, vals)
    lo, hi = domain
    return go.Heatmap(
        z=vals.T,
        x=steps,
        y=np.arange(vals.shape[1]),
        zmin=style.zmin,
        zmax=style.zmax,
        colorscale=style.colorscale,
        xaxis=f"x{r}",
        yaxis=f"y{r}",
        hovertemplate=f"{q}: t=%{{x}}, unit %{{y}}, %{{z:.3f}}<extra></extra>",
        colorbar=dict(
            thickness=10,
            x=1.01,
            y=(lo + hi) / 2,
            len=hi - lo,
            tickfont=dict(size=11),
            **_colourbar_ticks(style),
        ),
    )


def _quantity_axes(r: int, last: int, domain: tuple[float, float]) -> dict:
    """Row ``r``'s axes: units top-down; the step axis labelled on the bottom row (``last``)
    only, the others matching it."""
    is_last = r == last
    return {
        f"xaxis{r}": dict(
            anchor=f"y{r}",
            showticklabels=is_last,
            title=dict(text="time step t" if is_last else None),
            **({} if is_last else {"matches": f"x{last}"}),
        ),
        f"yaxis{r}": dict(
            domain=domain, autorange="reversed", tickfont=dict(size=11), title=dict(text="unit")
        ),
    }


def _row_title(text: str, top: float) -> dict:
    """A row's title, centred just above the row (``top`` a fraction of the plot)."""
    return dict(
        text=text,
        x=0.5,
        y=top,
        xref="paper",
        yref="paper",
        xanchor="center",
        yanchor="bottom",
        showarrow=False,
        font=dict(size=14),
    )


# ----------------------------------------------------------------------------- 4. counting


def count_figure(rows: list[CountRow], height: int = 380) -> go.Figure:
    """Stacked bars per cell, textbook and ``torch.nn`` side by side: where the parameters
    are (W_xh, W_hh, biases, PyTorch's extra b_hh, the head's W_hy and b_y)."""
    cats = [f"{CELLS[r.cell].label}<br>{kind}" for r in rows for kind in ("textbook", "torch.nn")]
    parts = [
        ("W_xh", "W_xh", lambda r, tb: r.W_xh),
        ("W_hh", "W_hh", lambda r, tb: r.W_hh),
        ("b", "b_h (torch: b_ih)", lambda r, tb: r.b_h),
        ("b_hh", "b_hh (torch only)", lambda r, tb: 0 if tb else r.b_hh),
        ("W_hy", "W_hy (head)", lambda r, tb: r.W_hy),
        ("b_y", "b_y (head)", lambda r, tb: r.b_y),
    ]
    bars = [
        go.Bar(
            x=cats,
            y=[fn(r, tb) for r in rows for tb in (True, False)],
            name=label,
            marker=dict(color=COLOURS[key]),
            hovertemplate=f"{label}: %{{y:,}}<extra></extra>",
        )
        for key, label, fn in parts
    ]
    totals = [v for r in rows for v in (r.textbook, r.torch_total)]
    bars.append(
        go.Scatter(
            x=cats,
            y=totals,
            mode="text",
            text=[f"{v:,}" for v in totals],
            textposition="top center",
            showlegend=False,
            hoverinfo="skip",
            textfont=dict(size=14),
        )
    )
    return go.Figure(
        bars,
        dict(
            barmode="stack",
            height=height,
            font=FONT,
            title=dict(text="Where the parameters are", font=dict(size=17)),
            yaxis=dict(title=dict(text="parameters"), range=[0, max(totals) * 1.15]),
            margin=dict(l=70, r=20, t=60, b=60),
            legend={**LEGEND_AT_FOOT, "traceorder": "normal"},
        ),
    )


# ----------------------------------------------------------------------------- 6. the code


def agreement_figure(run: CodeRun, height: int = 360) -> go.Figure:
    """Every number of the from-scratch output against ``torch.nn``'s: all on the diagonal."""
    a, b = run.torch.ravel(), run.scratch.ravel()
    lo, hi = float(min(a.min(), b.min())), float(max(a.max(), b.max()))
    pad = 0.05 * (hi - lo or 1.0)
    label = "y_t" if run.cell == "rnn" else "h_t"
    module = {"rnn": "nn.RNN + nn.Linear", "lstm": "nn.LSTM", "gru": "nn.GRU"}[run.cell]
    return go.Figure(
        [
            go.Scatter(
                x=[lo - pad, hi + pad],
                y=[lo - pad, hi + pad],
                mode="lines",
                line=dict(color="#bbbbbb", dash="dot"),
                showlegend=False,
                hoverinfo="skip",
            ),
            go.Scatter(
                x=a,
                y=b,
                mode="markers",
                marker=dict(size=7, color=COLOURS["W_xh"]),
                showlegend=False,
                hovertemplate="torch %{x:.6f}<br>scratch %{y:.6f}<extra></extra>",
            ),
        ],
        dict(
            # two lines: one does not fit half the page in presenter mode
            title=dict(
                text=f"Every {label} ({len(a)} numbers):<br>from scratch vs {module}",
                font=dict(size=16),
            ),
            height=height,
            font=FONT,
            margin=dict(l=70, r=20, t=80, b=55),
            xaxis=dict(title=dict(text=f"{module}"), range=[lo - pad, hi + pad]),
            yaxis=dict(title=dict(text="from scratch"), range=[lo - pad, hi + pad]),
        ),
    )
