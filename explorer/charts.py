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


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str, height: int) -> go.Figure:
    fig.update_layout(title=dict(text=title, font=dict(size=17)), height=height, font=FONT,
                      margin=dict(l=60, r=20, t=50, b=50))
    fig.update_xaxes(title_text=x_title)
    fig.update_yaxes(title_text=y_title)
    return fig


def heatmap(values: np.ndarray, style: Style, *, step: int | None = None,
            height: int = 260) -> go.Figure:
    """Heatmap of a ``(T, U)`` array over time (x) and units (y), with step ``step`` outlined.

    Hover shows t, the unit and the value. The colour range is ``style``'s, fixed.
    """
    values = np.asarray(values, dtype=np.float32)  # float32 serialises fast
    T, U = values.shape
    fig = go.Figure(go.Heatmap(
        z=values.T, x=np.arange(T), y=np.arange(U), zmin=style.zmin, zmax=style.zmax,
        colorscale=style.colorscale, colorbar=dict(thickness=12),
        hovertemplate="t=%{x}<br>unit %{y}<br>value %{z:.4f}<extra></extra>"))
    if step is not None:
        fig.add_vrect(x0=step - 0.5, x1=step + 0.5, line=dict(color=MARKER_COLOUR, width=2))
    fig.update_yaxes(autorange="reversed" if U > 1 else True)
    return _layout(fig, style.label, "time step t", "unit", height)


def step_values(quantities: dict[str, np.ndarray], step: int, height: int = 320) -> go.Figure:
    """Grouped bars: the value of each quantity (``{name: (U,)}``) for every unit at one step."""
    fig = go.Figure()
    for name, vals in quantities.items():
        vals = np.asarray(vals, dtype=np.float32)
        fig.add_bar(name=QUANTITY_STYLES[name].label, x=np.arange(len(vals)), y=vals,
                    hovertemplate=f"{name}: unit %{{x}}, %{{y:.4f}}<extra></extra>")
    fig.update_layout(barmode="group", legend=dict(orientation="h", y=-0.25))
    fig = _layout(fig, f"Values at step t = {step}", "unit", "value", height + 40)
    fig.update_layout(margin=dict(b=110))
    return fig


def sequence(x: np.ndarray, step: int | None = None, *, title: str = "Input sequence x_t",
             y_title: str = "x_t", height: int = 240) -> go.Figure:
    """Line chart of a ``(T, F)`` input: one line per feature, the current step marked."""
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    fig = go.Figure()
    for k in range(x.shape[1]):
        fig.add_scatter(x=np.arange(len(x)), y=x[:, k], mode="lines+markers" if len(x) <= 60 else "lines",
                        name=f"feature {k}")
    if step is not None:
        fig.add_vline(x=step, line=dict(color=MARKER_COLOUR, dash="dash"))
    fig.update_layout(showlegend=x.shape[1] > 1)
    return _layout(fig, title, "time step t", y_title, height)


def loss_curve(history: list[dict], *, log_y: bool = True, height: int = 340) -> go.Figure:
    """Training loss per step and validation loss at each evaluation (MSE, normalised units)."""
    steps = [r["step"] for r in history]
    fig = go.Figure()
    fig.add_scatter(x=steps, y=[r["train_loss"] for r in history], mode="lines",
                    name="train (batch)", line=dict(color="#1f77b4", width=1.5))
    val = [(r["step"], r["val_loss"]) for r in history if "val_loss" in r]
    if val:
        fig.add_scatter(x=[s for s, _ in val], y=[v for _, v in val], mode="lines+markers",
                        name="validation", line=dict(color="#d62728", width=2.5))
    fig.update_layout(legend=dict(orientation="h", y=1.12), uirevision="loss")
    if log_y:
        fig.update_yaxes(type="log", dtick="D2")  # labels 1, 2, 5 per decade: readable
    return _layout(fig, "Loss", "optimiser step", "mean squared error (normalised)", height)


def forecast(dates, truth: np.ndarray, prediction: np.ndarray, naive: np.ndarray, *, unit: str,
             height: int = 380) -> go.Figure:
    """Validation truth, the model's one-step forecasts and the naive "next = last" baseline."""
    fig = go.Figure()
    fig.add_scatter(x=dates, y=truth, name="truth", mode="lines", line=dict(color="black", width=2))
    fig.add_scatter(x=dates, y=naive, name="naive: next = last", mode="lines",
                    line=dict(color="#999999", dash="dot"))
    fig.add_scatter(x=dates, y=prediction, name="model forecast", mode="lines",
                    line=dict(color="#d62728"))
    fig.update_layout(legend=dict(orientation="h", y=1.12))
    return _layout(fig, "One-step-ahead forecasts on the validation part", "date", unit, height)


def parameter_bars(names: list[str], counts: list[int], height: int | None = None) -> go.Figure:
    """Horizontal bars of element counts per parameter tensor."""
    height = height or max(220, 28 * len(names) + 90)
    fig = go.Figure(go.Bar(x=counts, y=names, orientation="h", text=[f"{c:,}" for c in counts],
                           textposition="auto", marker_color="#4c78a8",
                           hovertemplate="%{y}: %{x:,} parameters<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Parameters per tensor", "number of parameters", "", height)
