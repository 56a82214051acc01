"""Pure functions from numbers to ``plotly.graph_objects.Figure``: labelled axes, units, fixed
colour ranges. No model maths happens here; callers pass arrays in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

FONT = dict(size=15)
MARKER_COLOUR = "#111111"


@dataclass(frozen=True)
class Style:
    """How one quantity is coloured: a fixed range, so colours mean the same at every step."""

    label: str
    zmin: float | None
    zmax: float | None
    colorscale: str


SIGMOID = (0.0, 1.0, "Viridis")
TANH = (-1.0, 1.0, "RdBu_r")

QUANTITY_STYLES: dict[str, Style] = {
    "h": Style("hidden state h_t", *TANH),
    "c": Style("cell state c_t", None, None, "RdBu_r"),  # unbounded: symmetric around 0 per trace
    "i": Style("input gate i_t", *SIGMOID),
    "f": Style("forget gate f_t", *SIGMOID),
    "g": Style("cell candidate g_t", *TANH),
    "o": Style("output gate o_t", *SIGMOID),
    "r": Style("reset gate r_t", *SIGMOID),
    "z": Style("update gate z_t", *SIGMOID),
    "n": Style("new gate n_t", *TANH),
}


def style_for(name: str, values: np.ndarray, nonlinearity: str = "tanh") -> Style:
    """The colour style of quantity ``name``; ranges that the activation does not bound
    (``c_t``, a ReLU RNN's or a projected LSTM's h_t) are set symmetric from ``values``."""
    style = QUANTITY_STYLES[name]
    if style.zmin is None or (name == "h" and nonlinearity != "tanh"):
        peak = float(np.nanmax(np.abs(values))) if values.size else 1.0
        peak = peak or 1.0
        return Style(style.label, -peak, peak, style.colorscale)
    return style


def _figure(
    data: list,
    title: str,
    x_title: str,
    y_title: str,
    height: int,
    *,
    xaxis: dict | None = None,
    yaxis: dict | None = None,
    **layout,
) -> go.Figure:
    """One constructor call: building a figure up with ``update_*``/``add_vrect`` costs
    several milliseconds each, which adds up when the step player redraws every frame."""
    layout = {
        "title": dict(text=title, font=dict(size=17)),
        "height": height,
        "font": FONT,
        "margin": dict(l=60, r=20, t=50, b=50),
        "xaxis": {"title": dict(text=x_title), **(xaxis or {})},
        "yaxis": {"title": dict(text=y_title), **(yaxis or {})},
        **layout,
    }
    return go.Figure(data=data, layout=layout)


def _vrect(x0: float, x1: float, **line) -> dict:
    """A full-height rectangle outline between x0 and x1 (the time-step cursor)."""
    return dict(
        type="rect",
        xref="x",
        yref="paper",
        x0=x0,
        x1=x1,
        y0=0,
        y1=1,
        line=dict(color=MARKER_COLOUR, width=2) | line,
    )


def _vline(x: float, **line) -> dict:
    return dict(
        type="line",
        xref="x",
        yref="paper",
        x0=x,
        x1=x,
        y0=0,
        y1=1,
        line=dict(color=MARKER_COLOUR, dash="dash") | line,
    )


def heatmap(
    values: np.ndarray,
    style: Style,
    *,
    step: int | None = None,
    stride: int = 1,
    unit: int | None = None,
    height: int = 260,
) -> go.Figure:
    """Heatmap of a ``(T, U)`` array over time (x) and units (y), with step ``step`` outlined.

    ``stride`` k > 1 draws every k-th step only (long sequences); x keeps the true t. ``unit``
    marks the selected unit with an arrow on the left. Hover shows t, the unit and the value.
    The colour range is ``style``'s, fixed.
    """
    values = np.asarray(values, dtype=np.float32)[::stride]  # float32 serialises fast
    T, U = values.shape
    heat = go.Heatmap(
        z=values.T,
        x=np.arange(0, T * stride, stride),
        y=np.arange(U),
        zmin=style.zmin,
        zmax=style.zmax,
        colorscale=style.colorscale,
        colorbar=dict(thickness=12, title=dict(text=style.label.split()[-1])),
        hovertemplate="t=%{x}<br>unit %{y}<br>value %{z:.4f}<extra></extra>",
    )
    shapes = []
    if step is not None:
        shapes.append(_vrect(step - stride / 2, step + stride / 2))
    if unit is not None:
        shapes.append(
            dict(
                type="rect",
                xref="paper",
                yref="y",
                x0=0,
                x1=1,
                y0=unit - 0.5,
                y1=unit + 0.5,
                line=dict(color=MARKER_COLOUR, width=1, dash="dot"),
            )
        )
    return _figure(
        [heat],
        style.label,
        "time step t",
        "unit",
        height,
        shapes=shapes,
        yaxis=dict(autorange="reversed" if U > 1 else True),
    )


def step_values(
    quantities: dict[str, np.ndarray],
    step: int,
    *,
    y_range: tuple[float, float] | None = None,
    height: int = 320,
) -> go.Figure:
    """Grouped bars: the value of each quantity (``{name: (U,)}``) for every unit at one step.

    ``y_range`` fixes the value axis (pass the whole sequence's range) so that bars can be
    compared from one step to the next."""
    bars = [
        go.Bar(
            name=QUANTITY_STYLES[name].label,
            x=np.arange(len(vals)),
            y=np.asarray(vals, dtype=np.float32),
            hovertemplate=f"{name}: unit %{{x}}, %{{y:.4f}}<extra></extra>",
        )
        for name, vals in quantities.items()
    ]
    return _figure(
        bars,
        f"Values at step t = {step}",
        "unit",
        "value",
        height + 40,
        yaxis=dict(range=list(y_range)) if y_range else None,
        barmode="group",
        legend=dict(orientation="h", y=-0.25),
        margin=dict(l=60, r=20, t=50, b=110),
    )


def sequence(
    x: np.ndarray,
    step: int | None = None,
    *,
    title: str = "Input sequence x_t",
    y_title: str = "x_t",
    height: int = 240,
) -> go.Figure:
    """Line chart of a ``(T, F)`` input: one line per feature, the current step marked."""
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    mode = "lines+markers" if len(x) <= 60 else "lines"
    lines = [
        go.Scatter(x=np.arange(len(x)), y=x[:, k], mode=mode, name=f"feature {k}")
        for k in range(x.shape[1])
    ]
    shapes = [_vline(step)] if step is not None else []
    return _figure(
        lines, title, "time step t", y_title, height, shapes=shapes, showlegend=x.shape[1] > 1
    )


MAX_CURVE_POINTS = 2000  # a live chart redrawn twice a second stays cheap to send


def loss_curve(history: list[dict], *, log_y: bool = True, height: int = 340) -> go.Figure:
    """Training loss per step and validation loss at each evaluation (MSE, normalised units).

    Above ``MAX_CURVE_POINTS`` steps the training curve shows every k-th step (the last always
    included); every validation point is kept."""
    val = [(r["step"], r["val_loss"]) for r in history if "val_loss" in r]
    stride = max(1, -(-len(history) // MAX_CURVE_POINTS))
    history = history[::stride] + ([history[-1]] if (len(history) - 1) % stride else [])
    steps = [r["step"] for r in history]
    lines = [
        go.Scatter(
            x=steps,
            y=[r["train_loss"] for r in history],
            mode="lines",
            name="train (batch)",
            line=dict(color="#1f77b4", width=1.5),
        )
    ]
    if val:
        lines.append(
            go.Scatter(
                x=[s for s, _ in val],
                y=[v for _, v in val],
                mode="lines+markers",
                name="validation",
                line=dict(color="#d62728", width=2.5),
            )
        )
    yaxis = _log_ticks([r["train_loss"] for r in history] + [v for _, v in val]) if log_y else {}
    xaxis = dict(tickformat="d", dtick=max(1, _nice(max(steps, default=1) / 6)))
    return _figure(
        lines,
        "Loss",
        "optimiser step",
        "mean squared error (normalised)",
        height,
        xaxis=xaxis,
        yaxis=yaxis,
        legend=dict(orientation="h", y=1.12),
        uirevision="loss",
    )


def _nice(x: float) -> float:
    """The 1-2-5 number at or above ``x`` (tick spacing)."""
    decade = 10 ** np.floor(np.log10(max(x, 1e-12)))
    return float(next(m * decade for m in (1, 2, 5, 10) if m * decade >= x))


def _log_ticks(values: list[float]) -> dict:
    """A log axis labelled at 1, 2, 5 × 10^k across the values' range, in plain numbers."""
    finite = [v for v in values if v > 0 and np.isfinite(v)]
    if not finite:
        return dict(type="log")
    lo, hi = np.floor(np.log10(min(finite))), np.ceil(np.log10(max(finite)))
    ticks = [m * 10.0**k for k in range(int(lo), int(hi) + 1) for m in (1, 2, 5)]
    return dict(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])


def forecast(
    dates,
    truth: np.ndarray,
    prediction: np.ndarray,
    naive: np.ndarray,
    *,
    unit: str,
    height: int = 380,
) -> go.Figure:
    """Validation truth, the model's one-step forecasts and the naive "next = last" baseline."""
    lines = [
        go.Scatter(x=dates, y=truth, name="truth", mode="lines", line=dict(color="black", width=2)),
        go.Scatter(
            x=dates,
            y=naive,
            name="naive: next = last",
            mode="lines",
            line=dict(color="#999999", dash="dot"),
        ),
        go.Scatter(
            x=dates, y=prediction, name="model forecast", mode="lines", line=dict(color="#d62728")
        ),
    ]
    return _figure(
        lines,
        "One-step-ahead forecasts on the validation part",
        "date",
        unit,
        height,
        legend=dict(orientation="h", y=1.12),
    )


def parameter_bars(names: list[str], counts: list[int], height: int | None = None) -> go.Figure:
    """Horizontal bars of element counts per parameter tensor."""
    height = height or max(220, 28 * len(names) + 90)
    bars = go.Bar(
        x=counts,
        y=names,
        orientation="h",
        text=[f"{c:,}" for c in counts],
        textposition="outside",
        textangle=0,
        cliponaxis=False,
        marker_color="#4c78a8",
        hovertemplate="%{y}: %{x:,} parameters<extra></extra>",
    )
    return _figure(
        [bars],
        "Parameters per tensor",
        "number of parameters",
        "",
        height,
        yaxis=dict(autorange="reversed"),
    )


def layer_stack(
    hidden: np.ndarray,
    *,
    direction: int = 0,
    step: int | None = None,
    stride: int = 1,
    height_per_layer: int = 190,
) -> go.Figure:
    """h_t of every layer, one heatmap above another (layer 0 at the top): ``hidden`` is
    ``(L, D, T, H_out)``; all share the time axis and one colour scale (−1…1, or symmetric
    from the values when they leave it, e.g. ReLU)."""
    from plotly.subplots import make_subplots

    hidden = np.asarray(hidden, dtype=np.float32)
    L = hidden.shape[0]
    style = style_for("h", hidden)
    if np.nanmax(np.abs(hidden)) <= 1:
        style = QUANTITY_STYLES["h"]
    fig = make_subplots(
        rows=L,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=[f"layer {l}" for l in range(L)],
    )
    for l in range(L):
        values = hidden[l, direction][::stride]
        T, U = values.shape
        fig.add_trace(
            go.Heatmap(
                z=values.T,
                x=np.arange(0, T * stride, stride),
                y=np.arange(U),
                coloraxis="coloraxis",
                hovertemplate=f"layer {l}<br>t=%{{x}}<br>unit %{{y}}<br>h %{{z:.4f}}<extra></extra>",
            ),
            row=l + 1,
            col=1,
        )
        fig.update_yaxes(title_text="unit", autorange="reversed", row=l + 1, col=1)
        if step is not None:
            fig.add_shape(
                _vrect(step - stride / 2, step + stride / 2)
                | dict(xref=f"x{l + 1}" if l else "x", yref=f"y{l + 1} domain" if l else "y domain")
            )
    fig.update_layout(
        coloraxis=dict(
            colorscale=style.colorscale,
            cmin=style.zmin,
            cmax=style.zmax,
            colorbar=dict(title="h_t", thickness=12),
        )
    )
    fig.update_xaxes(title_text="time step t", row=L, col=1)
    fig.update_layout(
        title=dict(text="h_t of every layer", font=dict(size=17)),
        font=FONT,
        height=height_per_layer * L + 90,
        margin=dict(l=60, r=20, t=60, b=50),
    )
    return fig


def trajectory(
    coords: np.ndarray, explained: np.ndarray, *, step: int | None = None, height: int = 420
) -> go.Figure:
    """The hidden state's path in its first two principal components, coloured by time."""
    coords = np.asarray(coords, dtype=np.float32)
    T = len(coords)
    data = [
        go.Scatter(
            x=coords[:, 0],
            y=coords[:, 1],
            mode="lines",
            showlegend=False,
            line=dict(color="#bbbbbb", width=1.5),
            hoverinfo="skip",
        ),
        go.Scatter(
            x=coords[:, 0],
            y=coords[:, 1],
            mode="markers",
            showlegend=False,
            marker=dict(
                color=np.arange(T),
                colorscale="Plasma",
                size=7,
                colorbar=dict(title="t", thickness=12),
            ),
            customdata=np.arange(T),
            hovertemplate="t=%{customdata}<br>PC1 %{x:.3f}<br>PC2 %{y:.3f}<extra></extra>",
        ),
    ]
    if step is not None and 0 <= step < T:
        data.append(
            go.Scatter(
                x=[coords[step, 0]],
                y=[coords[step, 1]],
                mode="markers",
                name=f"t = {step}",
                marker=dict(size=16, color="rgba(0,0,0,0)", line=dict(color="black", width=3)),
            )
        )
    return _figure(
        data,
        "Hidden-state trajectory (PCA of h_t over the sequence)",
        f"PC1 ({100 * explained[0]:.0f} % of variance)",
        f"PC2 ({100 * explained[1]:.0f} % of variance)",
        height,
    )


def saturation_bars(stats: dict[str, tuple[float, float]], height: int = 320) -> go.Figure:
    """Share of each gate's values below 0.1 (closed) and above 0.9 (open), in per cent."""
    names = list(stats)
    labels = [QUANTITY_STYLES[n].label for n in names]
    bars = [
        go.Bar(
            x=labels,
            y=[100 * stats[n][0] for n in names],
            name="below 0.1 (closed)",
            marker_color="#440154",
            hovertemplate="%{x}: %{y:.1f} % below 0.1<extra></extra>",
        ),
        go.Bar(
            x=labels,
            y=[100 * stats[n][1] for n in names],
            name="above 0.9 (open)",
            marker_color="#fde725",
            marker_line=dict(color="#888", width=1),
            hovertemplate="%{x}: %{y:.1f} % above 0.9<extra></extra>",
        ),
    ]
    return _figure(
        bars,
        "Gate saturation over the sequence",
        "gate",
        "share of values (%)",
        height,
        yaxis=dict(range=[0, 100]),
        barmode="group",
        legend=dict(orientation="h", y=1.15),
    )


def compare_runs(
    normal: np.ndarray, clamped: np.ndarray, *, label: str, from_step: int, height: int = 340
) -> go.Figure:
    """One unit's quantity over time in the normal and the clamped run (``(T,)`` each)."""
    T = len(normal)
    lines = [
        go.Scatter(
            x=np.arange(T),
            y=np.asarray(normal, dtype=np.float32),
            name="normal run",
            mode="lines",
            line=dict(color="#1f77b4", width=2),
        ),
        go.Scatter(
            x=np.arange(T),
            y=np.asarray(clamped, dtype=np.float32),
            name="clamped run",
            mode="lines",
            line=dict(color="#d62728", width=2, dash="dash"),
        ),
    ]
    return _figure(
        lines,
        f"{label}: normal vs clamped",
        "time step t",
        label,
        height,
        shapes=[_vline(from_step, color="#555", dash="dot")],
        annotations=[
            dict(
                x=from_step,
                y=1,
                xref="x",
                yref="paper",
                text="clamp starts",
                showarrow=False,
                xanchor="right",
                yanchor="bottom",
            )
        ],
        legend=dict(orientation="h", y=1.12),
    )
