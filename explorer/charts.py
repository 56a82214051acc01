"""Pure functions from numbers to ``plotly.graph_objects.Figure``: labelled axes, units, fixed
colour ranges. No model maths happens here; callers pass arrays in.

The live loss chart of the Train and Compare pages is not here: it is a Vega-Lite spec, in
:mod:`explorer.loss_chart`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from .budget import thin
from .config import TANH_GATES
from .teaching import GATE_NAMES, label

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
    "h": Style(label("h"), *TANH),
    "c": Style(label("c"), None, None, "RdBu_r"),  # unbounded: symmetric around 0 per trace
    **{k: Style(label(k), *(TANH if k in TANH_GATES else SIGMOID)) for k in GATE_NAMES},
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


# A legend at the foot of the figure, under the x-axis title whatever the font size: a legend
# placed in the plot's own units (y = 1.12 above it, y = -0.25 below it) sat on the title or on
# the axis title once presenter mode enlarged the fonts. Plotly widens the margin to fit it.
LEGEND_AT_FOOT = dict(orientation="h", yref="container", y=0, yanchor="bottom")


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
    first_step: int = 1,
    labels: list[str] | None = None,
) -> go.Figure:
    """Heatmap of a ``(T, U)`` array over time (x) and units (y), with step ``step`` outlined.

    Row k of ``values`` is step t = ``first_step`` + k (the app counts t = 1…T; h_0 is the
    initial state). ``stride`` k > 1 draws every k-th step only (long sequences); x keeps the
    true t. ``unit``
    marks the selected unit with an arrow on the left. Hover shows t, the unit and the value.
    The colour range is ``style``'s, fixed. ``labels`` (one per step, e.g. the characters a
    char model reads) label the time axis instead of t, at most about 32 of them (a space
    shows as ␣, a line break as ↵).
    """
    values = np.asarray(values, dtype=np.float32)[::stride]  # float32 serialises fast
    T, U = values.shape
    heat = go.Heatmap(
        z=values.T,
        x=first_step + np.arange(0, T * stride, stride),
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
    xaxis = None
    if labels is not None:
        every = max(stride, -(-len(labels) // 32))
        ticks = list(range(0, len(labels), every))
        xaxis = dict(
            tickmode="array",
            tickvals=[first_step + i for i in ticks],
            tickangle=0,
            ticktext=[labels[i].replace(" ", "␣").replace("\n", "↵") for i in ticks],
        )
    return _figure(
        [heat],
        style.label,
        "time step t" if labels is None else "character read at step t",
        "unit",
        height,
        shapes=shapes,
        xaxis=xaxis,
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
        height,
        yaxis=dict(range=list(y_range)) if y_range else None,
        barmode="group",  # the legend at the right: below, it met the axis title "unit"
        margin=dict(l=60, r=20, t=50, b=50),
    )


def sequence(
    x: np.ndarray,
    step: int | None = None,
    *,
    title: str = "Input sequence x_t",
    y_title: str = "x_t",
    height: int = 240,
    first_step: int = 1,
) -> go.Figure:
    """Line chart of a ``(T, F)`` input: one line per feature, the current step marked; row k
    is step t = ``first_step`` + k."""
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    mode = "lines+markers" if len(x) <= 60 else "lines"
    lines = [
        go.Scatter(x=first_step + np.arange(len(x)), y=x[:, k], mode=mode, name=f"feature {k}")
        for k in range(x.shape[1])
    ]
    shapes = [_vline(step)] if step is not None else []
    return _figure(
        lines, title, "time step t", y_title, height, shapes=shapes, showlegend=x.shape[1] > 1
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
    decades = int(hi - lo)
    # about ten labels at most: 1-2-5 over a few decades, powers of ten (or every n-th) beyond
    mantissas = (1, 2, 5) if decades <= 3 else (1,)
    every = max(1, -(-decades // 10))
    ticks = [m * 10.0**k for k in range(int(lo), int(hi) + 1, every) for m in mantissas]
    return dict(type="log", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])


def forecast(
    dates,
    truth: np.ndarray,
    prediction: np.ndarray,
    naive: np.ndarray,
    *,
    unit: str,
    height: int = 380,
    seasonal_naive: np.ndarray | None = None,
    k: int = 1,
    x_title: str = "date",
) -> go.Figure:
    """Validation truth, the model's k-step-ahead forecasts, the naive "x_{t+k} = x_t"
    baseline and (when given) the seasonal-naive one ("the same time one season earlier").
    At most about ``budget.MAX_CHART_POINTS`` points are sent (min-max thinned: a
    200,000-point validation part sent 415 MB over the websocket in a minute)."""
    others = [] if seasonal_naive is None else [seasonal_naive]
    keep = thin(len(truth), truth, prediction, naive, *others)
    if len(keep) < len(truth):
        dates = np.asarray(dates)[keep]
        truth, prediction, naive = (np.asarray(v)[keep] for v in (truth, prediction, naive))
        seasonal_naive = None if seasonal_naive is None else np.asarray(seasonal_naive)[keep]
    lines = [
        go.Scatter(x=dates, y=truth, name="truth", mode="lines", line=dict(color="black", width=2)),
        go.Scatter(
            x=dates,
            y=naive,
            name="naive: next = last" if k == 1 else f"naive: x(t+{k}) = x(t)",
            mode="lines",
            line=dict(color="#999999", dash="dot"),
        ),
    ]
    if seasonal_naive is not None:
        lines.append(
            go.Scatter(
                x=dates,
                y=seasonal_naive,
                name="seasonal naive: one season earlier",
                mode="lines",
                line=dict(color="#2ca02c", dash="dash", width=1.5),
            )
        )
    lines.append(
        go.Scatter(
            x=dates, y=prediction, name="model forecast", mode="lines", line=dict(color="#d62728")
        )
    )
    return _figure(
        lines,
        f"Validation forecasts, {k} step{'s' * (k != 1)} ahead",
        x_title,
        unit,
        height + 40,  # room for the legend at the foot
        legend=LEGEND_AT_FOOT,
    )


def _positive(values) -> np.ndarray:
    """float64 values with zeros and non-finite ones as NaN: a gap on a log axis."""
    out = np.asarray(values, dtype=np.float64).copy()
    out[~(np.isfinite(out) & (out > 0))] = np.nan
    return out


def grad_norm_history(
    steps: list[int], norms: dict[str, list[float]], *, height: int = 360
) -> go.Figure:
    """The gradient norm of each parameter tensor (before clipping) at each evaluation step,
    log y: ``norms`` maps a name (``rnn.weight_hh_l0`` …) to one norm per entry of ``steps``."""
    lines = [
        go.Scatter(
            x=np.asarray(steps, dtype=np.int64),
            y=_positive(values),
            mode="lines+markers" if len(steps) <= 40 else "lines",
            name=name.removeprefix("rnn."),
            hovertemplate=f"{name.removeprefix('rnn.')}<br>step %{{x}}: %{{y:.3g}}<extra></extra>",
        )
        for name, values in norms.items()
    ]
    finite = [v for values in norms.values() for v in _positive(values) if np.isfinite(v)]
    return _figure(
        lines,
        "Gradient norm of each parameter tensor",
        "optimiser step",
        "‖∂L/∂θ‖ (before clipping)",
        height + 20 * ((len(lines) + 2) // 3),
        yaxis=_log_ticks(finite),
        legend={**LEGEND_AT_FOOT, "font": dict(size=12)},
        margin=dict(l=60, r=20, t=50, b=70 + 20 * ((len(lines) + 2) // 3)),
    )


def hidden_grad_profile(
    latest: np.ndarray,
    *,
    latest_step: int,
    first: np.ndarray | None = None,
    first_step: int | None = None,
    height: int = 360,
) -> go.Figure:
    """``||dL/dh_t||`` over the time steps t of one batch (``(T,)`` each), log y: the latest
    evaluation's and, faded, the first's. A line falling steeply towards t = 0 is a vanishing
    gradient; one rising is an exploding one."""
    lines = []
    if first is not None:
        lines.append(
            go.Scatter(
                x=np.arange(len(first)),
                y=_positive(first),
                mode="lines",
                name=f"step {first_step}",
                line=dict(color="#aaaaaa", width=2, dash="dot"),
            )
        )
    lines.append(
        go.Scatter(
            x=np.arange(len(latest)),
            y=_positive(latest),
            mode="lines+markers" if len(latest) <= 60 else "lines",
            name=f"step {latest_step}",
            line=dict(color="#d62728", width=2.5),
        )
    )
    values = [v for arr in (latest, first) if arr is not None for v in _positive(arr)]
    return _figure(
        lines,
        "Gradient reaching each time step",
        "time step t",
        "‖∂L/∂h_t‖",
        height + 30,  # room for the legend at the foot
        yaxis=_log_ticks([v for v in values if np.isfinite(v)]),
        legend=LEGEND_AT_FOOT,
    )


def sum_scatter(truth: np.ndarray, prediction: np.ndarray, *, height: int = 380) -> go.Figure:
    """Adding problem: predicted against true sums (``(N,)`` each), the diagonal a perfect
    answer and the horizontal line at 1.0 the baseline "always the expected sum"."""
    truth = np.asarray(truth, dtype=np.float32)
    prediction = np.asarray(prediction, dtype=np.float32)
    lines = [
        go.Scatter(
            x=[0, 2],
            y=[0, 2],
            mode="lines",
            name="perfect: predicted = true",
            line=dict(color="black", width=1.5),
        ),
        go.Scatter(
            x=[0, 2],
            y=[1, 1],
            mode="lines",
            name="baseline: always 1.0",
            line=dict(color="#999999", dash="dash"),
        ),
        go.Scatter(
            x=truth,
            y=prediction,
            mode="markers",
            name="validation sequences",
            marker=dict(color="#d62728", size=6, opacity=0.6),
            hovertemplate="true %{x:.3f}, predicted %{y:.3f}<extra></extra>",
        ),
    ]
    return _figure(
        lines,
        "Predicted vs true sums",
        "true sum of the two marked numbers",
        "model's answer at the last step",
        height + 30,
        xaxis=dict(range=[0, 2]),
        yaxis=dict(range=[-0.2, 2.2]),
        legend=LEGEND_AT_FOOT,
        margin=dict(l=60, r=20, t=50, b=90),
    )


def recall_accuracy(
    position_accuracy: np.ndarray, chance: float, *, height: int = 340
) -> go.Figure:
    """Copy task: the share of validation sequences whose i-th symbol was recalled right
    (``(seq_len,)``), in %, with the chance level ``1 / n_symbols`` dashed."""
    acc = 100 * np.asarray(position_accuracy, dtype=np.float64)
    positions = [f"symbol {i + 1}" for i in range(len(acc))]
    bars = go.Bar(
        x=positions,
        y=acc,
        text=[f"{a:.0f} %" for a in acc],
        textposition="outside",
        cliponaxis=False,
        marker_color="#4c78a8",
        name="recalled right",
        hovertemplate="%{x}: %{y:.1f} % right<extra></extra>",
    )
    chance_line = go.Scatter(
        x=positions,
        y=[100 * chance] * len(acc),
        mode="lines+markers" if len(acc) == 1 else "lines",
        name=f"chance: 1/{round(1 / chance)}",
        line=dict(color="#555555", dash="dash"),
    )
    return _figure(
        [bars, chance_line],
        "Recalled right, by position",
        "position in the sequence to recall",
        "recalled right (%)",
        height + 30,  # room for the legend at the foot
        yaxis=dict(range=[0, 110]),
        legend=LEGEND_AT_FOOT,
    )


def targets_vs_predictions(
    truth: np.ndarray, prediction: np.ndarray, *, title: str, height: int = 340
) -> go.Figure:
    """Targets and the model's outputs at each time step t (``(T,)`` each)."""
    t = np.arange(len(truth))
    lines = [
        go.Scatter(
            x=t,
            y=np.asarray(truth, dtype=np.float64),
            mode="lines+markers",
            name="target y_t",
            line=dict(color="black", width=2),
            marker=dict(size=10),
        ),
        go.Scatter(
            x=t,
            y=np.asarray(prediction, dtype=np.float64),
            mode="lines+markers",
            name="model output ŷ_t",
            line=dict(color="#d62728", width=2, dash="dash"),
            marker=dict(size=8, symbol="diamond"),
        ),
    ]
    return _figure(
        lines,
        title,
        "time step t",
        "value",
        height + 30,  # room for the legend at the foot
        xaxis=dict(dtick=1),
        legend=LEGEND_AT_FOOT,
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
    first_step: int = 1,
) -> go.Figure:
    """h_t of every layer, one heatmap above another (layer 0 at the top): ``hidden`` is
    ``(L, D, T, H_out)``, position k at step t = ``first_step`` + k; all share the time axis
    and one colour scale (−1…1, or symmetric from the values when they leave it, e.g. ReLU)."""
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
                x=first_step + np.arange(0, T * stride, stride),
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
    coords: np.ndarray,
    explained: np.ndarray,
    *,
    step: int | None = None,
    height: int = 420,
    first_step: int = 1,
) -> go.Figure:
    """The hidden state's path in its first two principal components, coloured by time (row k
    is step t = ``first_step`` + k; ``step`` is such a t)."""
    coords = np.asarray(coords, dtype=np.float32)
    T = len(coords)
    steps = first_step + np.arange(T)
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
                color=steps,
                colorscale="Plasma",
                size=7,
                colorbar=dict(title="t", thickness=12),
            ),
            customdata=steps,
            hovertemplate="t=%{customdata}<br>PC1 %{x:.3f}<br>PC2 %{y:.3f}<extra></extra>",
        ),
    ]
    if step is not None and 0 <= step - first_step < T:
        data.append(
            go.Scatter(
                x=[coords[step - first_step, 0]],
                y=[coords[step - first_step, 1]],
                mode="markers",
                name=f"t = {step}",
                marker=dict(size=16, color="rgba(0,0,0,0)", line=dict(color="black", width=3)),
            )
        )
    return _figure(
        data,
        "Path of h_t (PCA)",  # short: half a presenter-mode page
        f"PC1 ({100 * explained[0]:.0f} % of variance)",
        f"PC2 ({100 * explained[1]:.0f} % of variance)",
        height,
        margin=dict(l=60, r=20, t=80, b=50),
    )


def saturation_bars(
    bands: dict[str, list[float]],
    edges: tuple[float, ...] = (0.1, 0.3, 0.7, 0.9),
    height: int = 320,
) -> go.Figure:
    """Where each gate's values fall over the sequence: one stacked bar per gate, one segment
    per band between ``edges`` (``bands`` from :func:`explorer.analysis.gate_bands`, shares
    0…1, drawn in per cent), coloured as the gate heatmaps colour those values (Viridis 0…1):
    dark at the bottom is closed, yellow at the top is open."""
    from plotly.colors import sample_colorscale

    names = list(bands)
    labels = [QUANTITY_STYLES[n].label for n in names]
    cuts = [0.0, *edges, 1.0]
    bars = []
    for k in range(len(cuts) - 1):
        lo, hi = cuts[k], cuts[k + 1]
        name = (
            f"below {hi:g} (closed)"
            if k == 0
            else f"above {lo:g} (open)"
            if k == len(cuts) - 2
            else f"{lo:g}–{hi:g}"
        )
        bars.append(
            go.Bar(
                x=labels,
                y=[100 * bands[n][k] for n in names],
                name=name,
                marker_color=sample_colorscale("Viridis", [(lo + hi) / 2])[0],
                marker_line=dict(color="#888", width=1),
                hovertemplate=f"%{{x}}: %{{y:.1f}} % {name}<extra></extra>",
            )
        )
    return _figure(
        bars,
        "Gate saturation over the sequence",
        "gate",
        "share of values (%)",
        height,
        yaxis=dict(range=[0, 100]),
        barmode="stack",
        legend=dict(traceorder="reversed", title=dict(text="gate value")),
        margin=dict(l=60, r=20, t=50, b=50),
    )


def compare_runs(
    normal: np.ndarray,
    clamped: np.ndarray,
    *,
    label: str,
    from_step: int,
    height: int = 340,
    first_step: int = 1,
) -> go.Figure:
    """One unit's quantity over time in the normal and the clamped run (``(T,)`` each; entry k
    is step t = ``first_step`` + k, and ``from_step`` is such a t)."""
    T = len(normal)
    steps = first_step + np.arange(T)
    lines = [
        go.Scatter(
            x=steps,
            y=np.asarray(normal, dtype=np.float32),
            name="normal run",
            mode="lines",
            line=dict(color="#1f77b4", width=2),
        ),
        go.Scatter(
            x=steps,
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
        height + 30,  # room for the legend at the foot
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
        legend=LEGEND_AT_FOOT,
    )
