"""The Learn page's lesson: the numbers and figures of each section, computed with real
``torch.nn`` modules (pure Python, no Streamlit).

Sections (and what each function gives the page):

1. Structure: :func:`unrolled_figure`, the network drawn folded and unrolled over T steps, the
   shared matrices W_xh, W_hh, W_hy in one colour each.
2. How it runs: :func:`tiny_run` runs a tiny ``nn.RNN`` + ``nn.Linear`` step by step in the
   textbook's column-vector form (PyTorch docs, ``nn.RNN``)::

       h_t = f(W_hh h_{t-1} + W_xh x_t + b_h)      y_t = g(W_hy h_t + b_y)

   with ``W_xh = weight_ih_l0`` ``(H, X)``, ``W_hh = weight_hh_l0`` ``(H, H)``,
   ``b_h = bias_ih_l0 + bias_hh_l0``, ``W_hy = head.weight`` ``(O, H)``, ``b_y = head.bias``
   and g the identity (the tutorial's regression head); :func:`step_latex` writes it out.
3. Three kinds: :func:`gradient_flow` (``‖∂h_T/∂h_t‖₂`` for a recurrent matrix scaled to a
   chosen spectral radius: vanishing and exploding gradients, Bengio et al. 1994; Pascanu et al.
   2013), :func:`kind_trace` and :func:`trace_figure` (a short live trace of each cell).
4. Counting parameters: :func:`parameter_rows` (the textbook's one-bias count next to what
   ``torch.nn`` reports with two biases).
6. The code: :func:`code_comparison`, the from-scratch cells of :mod:`explorer.cells` and the
   tutorial's loop of :mod:`explorer.tutorial` against ``nn.RNN``, ``nn.LSTM``, ``nn.GRU``.

Steps on this page are numbered ``t = 1 … T`` with ``h_0`` the initial state (zeros), as in
the equations.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn as nn

from . import cells, tutorial
from .charts import FONT, QUANTITY_STYLES, style_for
from .config import CELLS, cell_spec
from .models import build_model, seeded_global_rng, set_forget_bias
from .params import count_head, count_parameters
from .trace import trace

# One colour per shared matrix, in the drawing, the equations and the parameter bars.
COLOURS = {
    "W_xh": "#1f77b4",
    "W_hh": "#d62728",
    "W_hy": "#2ca02c",
    "b": "#7f7f7f",
    "b_hh": "#c7c7c7",
    "b_y": "#98df8a",
}
_LABEL = {"W_xh": "W<sub>xh</sub>", "W_hh": "W<sub>hh</sub>", "W_hy": "W<sub>hy</sub>"}

# ----------------------------------------------------------------------------- 1. structure

_UNIT_GAP = 0.5  # vertical distance between two unit markers (data units)
_BOX_W = 0.8
_ROW_Y = {"x": 0.0, "h": 3.2, "y": 6.2}  # centres of the input, hidden and output layers
_DX = 2.3  # horizontal distance between two time steps


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
    sizes = {"x": input_size, "h": hidden_size, "y": output_size}
    annotations, shapes, traces = [], [], []
    xs_t = [2 * _DX + _DX * (t - 1) for t in range(1, T + 1)]  # centres of steps 1 … T
    x_h0 = _DX  # the initial state h_0
    half = {k: _box_height(n) / 2 for k, n in sizes.items()}

    if step is not None:
        xc = xs_t[step - 1]
        shapes.append(
            dict(
                type="rect",
                x0=xc - 0.95,
                x1=xc + 0.95,
                y0=-half["x"] - 0.75,
                y1=_ROW_Y["y"] + half["y"] + 0.75,
                fillcolor="#fff3b0",
                line=dict(width=0),
                layer="below",
            )
        )

    def layer_box(xc: float, row: str, dashed: bool = False) -> None:
        shapes.append(
            dict(
                type="rect",
                x0=xc - _BOX_W / 2,
                x1=xc + _BOX_W / 2,
                y0=_ROW_Y[row] - half[row],
                y1=_ROW_Y[row] + half[row],
                line=dict(color="#444444", width=1.5, dash="dot" if dashed else None),
                fillcolor="rgba(255,255,255,0.85)",
                layer="below",
            )
        )

    def units(xc: float, row: str, label: str, vals: np.ndarray | None) -> None:
        n = sizes[row]
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
        traces.append(
            go.Scatter(
                x=np.full(n, xc),
                y=ys,
                mode="markers",
                marker=marker,
                hovertemplate=hover,
                showlegend=False,
            )
        )

    # -- the folded network, x = 0: where the three matrices are named
    for row in "xhy":
        layer_box(0.0, row)
        units(0.0, row, {"x": "input x_t", "h": "hidden h_t", "y": "output y_t"}[row], None)
    names = {
        "x": f"input x<sub>t</sub><br>X = {input_size}",
        "h": f"hidden h<sub>t</sub><br>H = {hidden_size}",
        "y": f"output y<sub>t</sub><br>O = {output_size}",
    }
    for row in "xhy":  # in the left margin (pixels): never clipped, however narrow the page
        annotations.append(
            dict(
                _text(0, _ROW_Y[row], names[row], size=15, xanchor="right"), xref="paper", xshift=-8
            )
        )
    annotations.append(
        _arrow(0, _ROW_Y["x"] + half["x"], 0, _ROW_Y["h"] - half["h"], COLOURS["W_xh"])
    )
    annotations.append(
        _arrow(0, _ROW_Y["h"] + half["h"], 0, _ROW_Y["y"] - half["y"], COLOURS["W_hy"])
    )
    loop_x = _BOX_W / 2 + 0.45
    y_top, y_bot = _ROW_Y["h"] + 0.35, _ROW_Y["h"] - 0.35
    shapes.append(
        dict(
            type="path",
            path=f"M {_BOX_W / 2},{y_bot} L {loop_x},{y_bot} "
            f"L {loop_x},{y_top} L {_BOX_W / 2 + 0.1},{y_top}",
            line=dict(color=COLOURS["W_hh"], width=3),
        )
    )
    annotations.append(_arrow(_BOX_W / 2 + 0.12, y_top, _BOX_W / 2, y_top, COLOURS["W_hh"]))
    mid_x = (_ROW_Y["x"] + half["x"] + _ROW_Y["h"] - half["h"]) / 2
    mid_y = (_ROW_Y["h"] + half["h"] + _ROW_Y["y"] - half["y"]) / 2
    annotations += [
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
    shapes.append(
        dict(
            type="line",
            x0=(loop_x + 0.55 + x_h0 - _BOX_W / 2) / 2 + 0.05,
            x1=(loop_x + 0.55 + x_h0 - _BOX_W / 2) / 2 + 0.05,
            y0=-half["x"] - 0.6,
            y1=_ROW_Y["y"] + half["y"] + 0.6,
            line=dict(color="#bbbbbb", width=1, dash="dot"),
        )
    )

    # -- h_0 and the unrolled steps
    layer_box(x_h0, "h", dashed=True)
    units(x_h0, "h", "initial state h_0", None if values is None else values["h"][0])
    annotations.append(_text(x_h0, _ROW_Y["h"] - half["h"] - 0.3, "h<sub>0</sub> = 0", size=15))
    prev = x_h0
    for t, xc in enumerate(xs_t, start=1):
        for row in "xhy":
            layer_box(xc, row)
        if values is None:
            vx = vh = vy = None
        else:
            vx, vh, vy = values["x"][t - 1], values["h"][t], values["y"][t - 1]
        units(xc, "x", f"x_{t}", vx)
        units(xc, "h", f"h_{t}", vh)
        units(xc, "y", f"y_{t}", vy)
        annotations += [
            _arrow(xc, _ROW_Y["x"] + half["x"], xc, _ROW_Y["h"] - half["h"], COLOURS["W_xh"]),
            _arrow(xc, _ROW_Y["h"] + half["h"], xc, _ROW_Y["y"] - half["y"], COLOURS["W_hy"]),
            _arrow(prev + _BOX_W / 2, _ROW_Y["h"], xc - _BOX_W / 2, _ROW_Y["h"], COLOURS["W_hh"]),
            _text(xc, -half["x"] - 0.3, f"x<sub>{t}</sub>", size=15),
            _text(xc, _ROW_Y["y"] + half["y"] + 0.3, f"y<sub>{t}</sub>", size=15),
            _text(
                xc + _BOX_W / 2 + 0.08,
                _ROW_Y["h"] - half["h"] - 0.05,
                f"h<sub>{t}</sub>",
                size=15,
                xanchor="left",
                yanchor="top",
            ),
        ]
        prev = xc

    # legend: one entry per shared matrix
    shape_of = {
        "W_xh": f"H×X = {hidden_size}×{input_size}",
        "W_hh": f"H×H = {hidden_size}×{hidden_size}",
        "W_hy": f"O×H = {output_size}×{hidden_size}",
    }
    for name in ("W_xh", "W_hh", "W_hy"):
        traces.append(
            go.Scatter(
                x=[None],
                y=[None],
                mode="lines",
                line=dict(color=COLOURS[name], width=4),
                name=f"{_LABEL[name]} ({shape_of[name]})",
            )
        )
    if values is not None:
        traces.append(
            go.Scatter(
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
        )
    title = (
        f"Folded (left), and unrolled over T = {T} steps"
        if step is None
        else f"Step t = {step} of {T} (highlighted)"
    )
    x_lo = -0.6
    return go.Figure(
        traces,
        dict(
            title=dict(text=title, font=dict(size=17)),
            height=height,
            font=FONT,
            margin=dict(l=105, r=10, t=50, b=75),
            plot_bgcolor="white",
            xaxis=dict(visible=False, range=[x_lo, xs_t[-1] + 1.0], fixedrange=True),
            yaxis=dict(
                visible=False,
                range=[-half["x"] - 0.8, _ROW_Y["y"] + half["y"] + 0.8],
                fixedrange=True,
            ),
            shapes=shapes,
            annotations=annotations,
            legend=dict(
                orientation="h",
                y=0,
                yanchor="top",
                x=0,
                font=dict(size=15),
                title=dict(text="shared by every step: "),
            ),
        ),
    )


# ----------------------------------------------------------------------------- 2. how it runs


@dataclass(frozen=True)
class TinyRun:
    """A tiny ``nn.RNN`` + ``nn.Linear`` run step by step with the numbers written out.

    Attributes (numpy float32; X input_size, H hidden_size, O output_size, T steps):
        W_xh: ``(H, X)`` = ``weight_ih_l0``.   W_hh: ``(H, H)`` = ``weight_hh_l0``.
        b_ih, b_hh: ``(H,)`` PyTorch's two biases;  b_h: ``(H,)`` their sum.
        W_hy: ``(O, H)`` = ``head.weight``.    b_y: ``(O,)`` = ``head.bias``.
        x: ``(T, X)`` the input, seeded.
        h: ``(T + 1, H)``, ``h[0] = h_0 = 0`` and ``h[t]`` the state after step t.
        recurrent, input_part: ``(T, H)`` the products ``W_hh h_{t-1}`` and ``W_xh x_t``.
        pre: ``(T, H)`` the pre-activation ``W_hh h_{t-1} + W_xh x_t + b_h``.
        y: ``(T, O)``.
        torch_h, torch_y: ``(T, H)``, ``(T, O)``: what ``nn.RNN`` and ``nn.Linear`` return.
        nonlinearity: f, ``"tanh"`` or ``"relu"``.
    """

    W_xh: np.ndarray
    W_hh: np.ndarray
    b_ih: np.ndarray
    b_hh: np.ndarray
    b_h: np.ndarray
    W_hy: np.ndarray
    b_y: np.ndarray
    x: np.ndarray
    h: np.ndarray
    recurrent: np.ndarray
    input_part: np.ndarray
    pre: np.ndarray
    y: np.ndarray
    torch_h: np.ndarray
    torch_y: np.ndarray
    nonlinearity: str

    @property
    def T(self) -> int:
        return self.x.shape[0]

    @property
    def max_abs_diff(self) -> float:
        """Largest ``|ours − torch|`` over every h_t and y_t."""
        return float(
            max(np.abs(self.h[1:] - self.torch_h).max(), np.abs(self.y - self.torch_y).max())
        )


def tiny_input(T: int, input_size: int, seed: int) -> torch.Tensor:
    """``(T, input_size)`` standard normal numbers rounded to one decimal (easy to read on the
    page), seeded."""
    g = torch.Generator().manual_seed(seed)
    return torch.round(torch.randn(T, input_size, generator=g) * 10) / 10


@torch.no_grad()
def tiny_run(
    input_size: int,
    hidden_size: int,
    output_size: int,
    T: int,
    seed: int = 0,
    nonlinearity: str = "tanh",
) -> TinyRun:
    """Build ``nn.RNN(input_size, hidden_size)`` and ``nn.Linear(hidden_size, output_size)``
    (seeded, :func:`explorer.build_model`), feed :func:`tiny_input`, and compute every step
    with the textbook's one-bias equation; returns both that and torch's own output.

    Raises:
        ValueError: a size outside ``explorer.config.LIMITS``, ``T < 1``, or an unknown
            ``nonlinearity``.
    """
    if T < 1:
        raise ValueError(f"T must be at least 1, got {T}")
    model = build_model(
        "rnn",
        input_size,
        hidden_size,
        output_size=output_size,
        seed=seed,
        nonlinearity=nonlinearity,
    )
    rnn, head = model.rnn, model.head
    W_xh, W_hh = rnn.weight_ih_l0, rnn.weight_hh_l0  # (H, X), (H, H)
    b_h = rnn.bias_ih_l0 + rnn.bias_hh_l0  # (H,): the textbook's one bias
    W_hy, b_y = head.weight, head.bias  # (O, H), (O,)
    f = torch.tanh if nonlinearity == "tanh" else torch.relu
    x = tiny_input(T, input_size, seed)  # (T, X)
    h = [torch.zeros(hidden_size)]  # h_0
    recurrent, input_part, pre, y = [], [], [], []
    for x_t in x:
        recurrent.append(W_hh @ h[-1])  # (H,)
        input_part.append(W_xh @ x_t)  # (H,)
        pre.append(recurrent[-1] + input_part[-1] + b_h)
        h.append(f(pre[-1]))
        y.append(W_hy @ h[-1] + b_y)  # (O,); g = identity
    out, _ = rnn(x)  # (T, H)

    def np32(v):
        return (torch.stack(v) if isinstance(v, list) else v).detach().numpy().astype(np.float32)

    return TinyRun(
        np32(W_xh),
        np32(W_hh),
        np32(rnn.bias_ih_l0),
        np32(rnn.bias_hh_l0),
        np32(b_h),
        np32(W_hy),
        np32(b_y),
        np32(x),
        np32(h),
        np32(recurrent),
        np32(input_part),
        np32(pre),
        np32(y),
        np32(out),
        np32(head(out)),
        nonlinearity,
    )


def _num(v: float, digits: int) -> str:
    s = f"{v:.{digits}f}"
    return "0." + "0" * digits if s.lstrip("-") == "0." + "0" * digits else s  # no "-0.00"


def latex_matrix(a: np.ndarray, digits: int = 2, colour: str | None = None) -> str:
    """A vector ``(n,)`` (as a column) or a matrix ``(n, m)`` in LaTeX, numbers right-aligned,
    optionally in ``colour`` (a hex colour)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    rows = r" \\ ".join(" & ".join(_num(v, digits) for v in row) for row in a)
    body = rf"\left[\begin{{array}}{{{'r' * a.shape[1]}}}{rows}\end{{array}}\right]"
    return rf"{{\color{{{colour}}}{body}}}" if colour else body


def _f(nonlinearity: str) -> str:
    return r"\tanh" if nonlinearity == "tanh" else r"\operatorname{ReLU}"


def bias_latex(run: TinyRun, digits: int = 2) -> str:
    """``b_h = b_ih + b_hh`` with the numbers: PyTorch's two biases and their sum."""
    return (
        rf"b_h = b_{{ih}} + b_{{hh}} = {latex_matrix(run.b_ih, digits)} + "
        rf"{latex_matrix(run.b_hh, digits)} = {latex_matrix(run.b_h, digits)}"
    )


def step_latex(run: TinyRun, t: int, digits: int = 2) -> list[str]:
    """The LaTeX lines of step ``t`` (1 … T), every number substituted: the equation for this
    step, the two products, the pre-activation ``a_t``, the hidden state, the output. Matrices
    are coloured as in the drawing (:data:`COLOURS`); each line holds at most six columns of
    numbers, narrow enough for a 1024-px screen.

    Raises:
        ValueError: ``t`` outside 1 … T.
    """
    if not 1 <= t <= run.T:
        raise ValueError(f"t must be between 1 and T = {run.T}, got {t}")
    m = lambda a, c=None: latex_matrix(a, digits, c)  # noqa: E731
    f = _f(run.nonlinearity)
    k = t - 1
    hh, xh, hy = (rf"{{\color{{{COLOURS[n]}}}W_{{{n[2:]}}}}}" for n in ("W_hh", "W_xh", "W_hy"))
    small = r"\small "  # 0.9 em: a 4 × 4 matrix line fits beside a 1024-px screen's sidebar
    return [
        rf"h_{{{t}}} = {f}(a_{{{t}}}),\quad a_{{{t}}} = {hh}\, h_{{{t - 1}}} + {xh}\, x_{{{t}}}"
        rf" + b_h \qquad y_{{{t}}} = {hy}\, h_{{{t}}} + b_y",
        small + rf"{hh}\, h_{{{t - 1}}} = {m(run.W_hh, COLOURS['W_hh'])}\,{m(run.h[k])} = "
        rf"{m(run.recurrent[k])}",
        small + rf"{xh}\, x_{{{t}}} = {m(run.W_xh, COLOURS['W_xh'])}\,{m(run.x[k])} = "
        rf"{m(run.input_part[k])}",
        small + rf"a_{{{t}}} = {m(run.recurrent[k])} + {m(run.input_part[k])} + {m(run.b_h)} = "
        rf"{m(run.pre[k])}",
        small + rf"h_{{{t}}} = {f}(a_{{{t}}}) = {f}{m(run.pre[k])} = {m(run.h[t])}",
        small + rf"y_{{{t}}} = {m(run.W_hy, COLOURS['W_hy'])}\, h_{{{t}}} + {m(run.b_y)} = "
        rf"{m(run.y[k])}",
    ]


# ----------------------------------------------------------------------------- 3. three kinds

RHO_CHOICES = tuple(round(0.5 + 0.05 * k, 2) for k in range(21))  # 0.5 … 1.5
REFERENCE_RHOS = (0.5, 0.75, 1.0, 1.25, 1.5)
INPUTS = {
    "pulse": "a single 1 at t = 3, zeros elsewhere",
    "sine": "a sine wave, two cycles",
    "square": "a square wave, two cycles",
    "noise": "standard normal numbers, seeded",
}


def lesson_signal(kind: str, T: int, seed: int = 0) -> np.ndarray:
    """``(T,)`` float32 input for the three cells' traces: ``"pulse"`` (1 at t = 3, else 0: how
    long does the state remember it?), ``"sine"`` / ``"square"`` (two cycles) or ``"noise"``
    (standard normal, seeded).

    Raises:
        ValueError: unknown ``kind`` or ``T < 1``.
    """
    if T < 1:
        raise ValueError(f"T must be at least 1, got {T}")
    if kind == "pulse":
        x = np.zeros(T, dtype=np.float32)
        x[min(2, T - 1)] = 1.0  # t = 3 in the page's 1-based steps
        return x
    if kind in ("sine", "square"):
        from .inputs import wave

        return wave(kind, T, cycles=2.0)
    if kind == "noise":
        return np.random.default_rng(seed).standard_normal(T).astype(np.float32)
    raise ValueError(f"input kind must be one of {list(INPUTS)}, got {kind!r}")


def spectral_radius(w: torch.Tensor) -> float:
    """Largest ``|eigenvalue|`` of a square matrix."""
    return float(torch.linalg.eigvals(w.detach().double()).abs().max())


def scaled_rnn(
    hidden_size: int,
    rho: float,
    seed: int = 0,
    nonlinearity: str = "tanh",
    dtype: torch.dtype = torch.float64,
) -> nn.RNN:
    """A seeded ``nn.RNN(1, hidden_size)`` whose ``weight_hh_l0`` is rescaled so that its
    spectral radius is ``rho`` (the direction of the matrix is the seed's; only its size
    changes), in ``dtype`` (float64 by default: the norms reach 1e-30 and 1e+15).

    Raises:
        ValueError: ``rho`` not positive and finite, or a bad size / nonlinearity.
    """
    if not (np.isfinite(rho) and rho > 0):
        raise ValueError(f"rho must be a positive number, got {rho}")
    rnn = build_model("rnn", 1, hidden_size, seed=seed, nonlinearity=nonlinearity).rnn.to(dtype)
    with torch.no_grad():
        rnn.weight_hh_l0 *= rho / spectral_radius(rnn.weight_hh_l0)
    return rnn


@dataclass(frozen=True)
class GradientFlow:
    """How far back a change can still be felt: ``norms[t] = ‖∂h_T/∂h_t‖₂`` (the largest
    singular value of the Jacobian) for ``t = 0 … T`` (``norms[T] = 1``).

    Attributes:
        norms: ``(T + 1,)`` with the nonlinearity's derivative, what backpropagation through
            time multiplies: ``∂h_T/∂h_t = Π_{s=t+1..T} diag(f'(a_s)) W_hh``.
        linear: ``(T + 1,)`` ``‖W_hh^{T−t}‖₂``, the same product without f' (as if every
            unit sat at h = 0, where tanh' = 1): it shrinks or grows like ``rho^(T−t)``.
        rho: spectral radius of W_hh.
        nonlinearity: ``"tanh"`` or ``"relu"``.
    """

    norms: np.ndarray
    linear: np.ndarray
    rho: float
    nonlinearity: str

    @property
    def T(self) -> int:
        return len(self.norms) - 1


@torch.no_grad()
def gradient_flow(rnn: nn.RNN, x: torch.Tensor) -> GradientFlow:
    """Run ``rnn`` (one layer, forward) over ``x`` ``(T, input_size)`` from ``h_0 = 0`` and
    multiply the step Jacobians back from ``h_T`` (in ``rnn``'s dtype).

    Raises:
        ValueError: ``rnn`` has more than one layer or direction, or ``x`` is not 2-D.
    """
    if rnn.num_layers != 1 or rnn.bidirectional:
        raise ValueError("gradient_flow takes a one-layer, one-direction nn.RNN")
    x = torch.as_tensor(x).to(rnn.weight_hh_l0.dtype)
    if x.dim() != 2:
        raise ValueError(f"x must be (T, input_size), got shape {tuple(x.shape)}")
    W_hh = rnn.weight_hh_l0  # (H, H)
    b = (rnn.bias_ih_l0 + rnn.bias_hh_l0) if rnn.bias else 0.0
    H, T = rnn.hidden_size, x.shape[0]
    h = torch.zeros(H, dtype=W_hh.dtype)
    slopes = []  # f'(a_t), (H,) each
    for x_t in x:
        a = W_hh @ h + rnn.weight_ih_l0 @ x_t + b  # (H,)
        if rnn.nonlinearity == "tanh":
            h = torch.tanh(a)
            slopes.append(1 - h * h)
        else:
            h = torch.relu(a)
            slopes.append((a > 0).to(a.dtype))
    J = torch.eye(H, dtype=W_hh.dtype)  # ∂h_T/∂h_T
    P = torch.eye(H, dtype=W_hh.dtype)  # W_hh^0
    norms, linear = [1.0], [1.0]
    for t in range(T - 1, -1, -1):  # ∂h_T/∂h_t = ∂h_T/∂h_{t+1} · diag(f'(a_{t+1})) W_hh
        J = J @ (slopes[t][:, None] * W_hh)
        P = P @ W_hh
        norms.append(float(torch.linalg.matrix_norm(J, 2)))
        linear.append(float(torch.linalg.matrix_norm(P, 2)))
    return GradientFlow(
        np.array(norms[::-1]), np.array(linear[::-1]), spectral_radius(W_hh), rnn.nonlinearity
    )


def gradient_figure(
    chosen: GradientFlow, references: list[GradientFlow] = (), height: int = 420
) -> go.Figure:
    """``‖∂h_T/∂h_t‖`` against the distance ``T − t`` on a log axis: the chosen network bold;
    dashed, the same product without f′ (``‖W_hh^(T−t)‖``, the network near h = 0 where
    tanh′ = 1); thin grey, that product for the ``references`` (other spectral radii), which
    fan out from vanishing (ρ < 1) to exploding (ρ > 1)."""
    k = np.arange(chosen.T + 1)  # steps back from the end
    lines = []
    for ref in references:
        lines.append(
            go.Scatter(
                x=k,
                y=ref.linear[::-1],
                mode="lines",
                line=dict(color="#c0c0c0", width=1.5),
                showlegend=False,
                hovertemplate=f"ρ = {ref.rho:.2f}, no f′: %{{y:.2e}}<extra></extra>",
            )
        )
        lines.append(
            go.Scatter(
                x=[k[-1]],
                y=[ref.linear[0]],
                mode="text",
                text=[f" ρ = {ref.rho:g}"],
                textposition="middle right",
                showlegend=False,
                hoverinfo="skip",
                textfont=dict(color="#777777", size=14),
            )
        )
    lines.append(
        go.Scatter(
            x=k,
            y=chosen.linear[::-1],
            mode="lines",
            name=f"W_hh alone (no f′), ρ = {chosen.rho:.2f}",
            line=dict(color=COLOURS["W_hh"], width=2.5, dash="dash"),
            hovertemplate="T−t = %{x}: %{y:.2e}<extra>no f′</extra>",
        )
    )
    lines.append(
        go.Scatter(
            x=k,
            y=chosen.norms[::-1],
            mode="lines+markers",
            name=f"the {chosen.nonlinearity} RNN on this input",
            line=dict(color="#111111", width=3),
            marker=dict(size=5),
            hovertemplate="T−t = %{x}: %{y:.2e}<extra></extra>",
        )
    )
    finite = [
        float(v)
        for line in lines
        if line.mode != "text"
        for v in line.y
        if v > 0 and np.isfinite(v)
    ]
    lo = max(min(finite), 1e-30) if finite else 1e-6
    hi = max(finite) if finite else 1.0
    return go.Figure(
        lines,
        dict(
            title=dict(text="How much h_T still feels h_t: ‖∂h_T/∂h_t‖", font=dict(size=17)),
            height=height,
            font=FONT,
            margin=dict(l=70, r=20, t=60, b=55),
            xaxis=dict(
                title=dict(text="steps back from the end, T − t"), range=[0, chosen.T * 1.2 + 1]
            ),
            yaxis=dict(
                title=dict(text="‖∂h_T/∂h_t‖₂ (log)"),
                type="log",
                exponentformat="power",
                range=[np.log10(lo) - 0.4, np.log10(hi) + 0.7],
            ),
            legend=dict(orientation="h", y=-0.2),
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
        ),
    )


def set_gate_bias(rnn: nn.Module, gate: str, value: float) -> None:
    """Set gate ``gate``'s bias to ``value`` in every unit, layer and direction:
    ``b_i<gate> = value``, ``b_h<gate> = 0`` (so their sum is ``value``). For the LSTM's forget
    gate this is :func:`explorer.models.set_forget_bias`.

    Raises:
        ValueError: ``gate`` is not one of the module's gates, or it has no biases.
    """
    kind = next(k for k, s in CELLS.items() if isinstance(rnn, s.module))
    gates = cell_spec(kind).gates
    if gate not in gates:
        raise ValueError(f"{kind} has gates {list(gates)}, got {gate!r}")
    if not rnn.bias:
        raise ValueError("this module was built with bias=False: it has no gate biases")
    H, j = rnn.hidden_size, gates.index(gate)
    with torch.no_grad():
        for name, p in rnn.named_parameters():
            if name.startswith("bias_ih"):
                p[j * H : (j + 1) * H] = value
            elif name.startswith("bias_hh"):
                p[j * H : (j + 1) * H] = 0.0


def kind_trace(
    cell: str,
    x: np.ndarray,
    hidden_size: int,
    seed: int = 0,
    *,
    gate_bias: tuple[str, float] | None = None,
    rho: float | None = None,
    nonlinearity: str = "tanh",
    dtype: torch.dtype = torch.float32,
) -> dict[str, np.ndarray]:
    """Trace a fresh seeded one-layer ``cell`` over the ``(T,)`` signal ``x`` with
    :func:`explorer.trace`; returns ``{"h": (T, H), "c": (T, H) (LSTM), gate: (T, H) …}``.

    ``gate_bias``: ``(gate, value)`` set with :func:`set_gate_bias` first (e.g. ``("f", 3.0)``
    for a long-memory LSTM); ``rho``: a vanilla RNN's W_hh rescaled to this spectral radius;
    ``dtype``: the module's (float64 resolves differences far below float32's rounding).
    """
    model = build_model(cell, 1, hidden_size, seed=seed, nonlinearity=nonlinearity)
    rnn = model.rnn.to(dtype)
    if rho is not None and cell == "rnn":
        with torch.no_grad():
            rnn.weight_hh_l0 *= rho / spectral_radius(rnn.weight_hh_l0)
    if gate_bias is not None:
        gate, value = gate_bias
        if cell == "lstm" and gate == "f":
            set_forget_bias(rnn, value)
        else:
            set_gate_bias(rnn, gate, value)
    tr = trace(rnn, torch.as_tensor(np.asarray(x, dtype=np.float64))[:, None].to(dtype))
    return {k: v.numpy() for k, v in tr.quantities().items()}


MEMORY_COLOURS = {
    "RNN h_t": "#7f7f7f",
    "LSTM c_t": "#d62728",
    "LSTM h_t": "#ff9896",
    "GRU h_t": "#1f77b4",
}


def pulse_memory(
    x: np.ndarray,
    hidden_size: int,
    seed: int = 0,
    *,
    at: int = 3,
    rho: float | None = None,
    nonlinearity: str = "tanh",
    forget_bias: float | None = None,
    update_bias: float | None = None,
) -> dict[str, np.ndarray]:
    """How long each cell remembers one nudge: add 1 to the input at step ``at`` (1-based) and
    measure ``‖s_t(nudged) − s_t(x)‖₂`` over the units for every step ``t = 1 … T`` (zero
    before ``at``). The cells are those of :func:`kind_trace` with the same settings.

    Returns ``{"RNN h_t", "LSTM c_t", "LSTM h_t", "GRU h_t"}`` → ``(T,)``.

    Raises:
        ValueError: ``at`` outside 1 … T.
    """
    x = np.asarray(x, dtype=np.float64)
    if not 1 <= at <= len(x):
        raise ValueError(f"at must be between 1 and T = {len(x)}, got {at}")
    nudged = x.copy()
    nudged[at - 1] += 1.0
    settings = {
        "rnn": dict(rho=rho, nonlinearity=nonlinearity),
        "lstm": dict(gate_bias=None if forget_bias is None else ("f", forget_bias)),
        "gru": dict(gate_bias=None if update_bias is None else ("z", update_bias)),
    }
    out = {}
    for cell, kw in settings.items():
        a = kind_trace(cell, x, hidden_size, seed, dtype=torch.float64, **kw)
        b = kind_trace(cell, nudged, hidden_size, seed, dtype=torch.float64, **kw)
        for q in ("c", "h") if cell == "lstm" else ("h",):
            out[f"{CELLS[cell].label.split()[-1]} {q}_t"] = np.linalg.norm(b[q] - a[q], axis=1)
    return {k: out[k] for k in MEMORY_COLOURS}


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
            legend=dict(orientation="h", yref="container", y=0, yanchor="bottom"),
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
    T = len(x)
    steps = np.arange(1, T + 1)
    gap = 38  # pixels between rows: room for each row's title
    rows_px = [70] + [max(60, unit_px * np.asarray(quantities[q]).shape[1]) for q in names]
    plot_px = sum(rows_px) + gap * len(names)
    domains, top = [], plot_px
    for px in rows_px:  # top to bottom, as paper fractions
        domains.append(((top - px) / plot_px, top / plot_px))
        top -= px + gap
    data = [
        go.Scatter(
            x=steps,
            y=x,
            mode="lines+markers" if T <= 60 else "lines",
            line=dict(color="#333333", width=2),
            marker=dict(size=4),
            hovertemplate="t=%{x}: %{y:.3f}<extra></extra>",
            showlegend=False,
            xaxis="x",
            yaxis="y",
        )
    ]
    layout = {
        "yaxis": dict(domain=domains[0], tickfont=dict(size=11)),
        "xaxis": dict(anchor="y", matches=f"x{len(names) + 1}", showticklabels=False),
    }
    titles = ["input x_t"] + [QUANTITY_STYLES[q].label for q in names]
    for r, q in enumerate(names, start=2):
        vals = np.asarray(quantities[q], dtype=np.float32)  # (T, U)
        style = style_for(q, vals)
        lo, hi = domains[r - 1]
        data.append(
            go.Heatmap(
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
        )
        last = r == len(names) + 1
        layout[f"xaxis{r}"] = dict(
            anchor=f"y{r}",
            showticklabels=last,
            title=dict(text="time step t" if last else None),
            **({} if last else {"matches": f"x{len(names) + 1}"}),
        )
        layout[f"yaxis{r}"] = dict(
            domain=(lo, hi), autorange="reversed", tickfont=dict(size=11), title=dict(text="unit")
        )
    annotations = [
        dict(
            text=t,
            x=0.5,
            y=hi,
            xref="paper",
            yref="paper",
            xanchor="center",
            yanchor="bottom",
            showarrow=False,
            font=dict(size=14),
        )
        for t, (_, hi) in zip(titles, domains)
    ]
    return go.Figure(
        data,
        dict(
            title=dict(text=title, font=dict(size=17)),
            font=FONT,
            height=plot_px + 125,
            margin=dict(l=60, r=50, t=70, b=55),
            annotations=annotations,
            **layout,
        ),
    )


# ----------------------------------------------------------------------------- 4. counting


@dataclass(frozen=True)
class CountRow:
    """The parameters of one cell with input X, hidden H and a linear head to O outputs.

    Attributes:
        cell: ``"rnn"``, ``"lstm"``, ``"gru"``;  G: gate blocks (1, 4, 3).
        W_xh, W_hh, b_h: the recurrent layer's textbook terms, G·H·X, G·H·H, G·H.
        b_hh: PyTorch's second bias, G·H (absent from the textbook).
        W_hy, b_y: the head, O·H and O.
        textbook: W_xh + W_hh + b_h + W_hy + b_y.
        torch_rnn: what ``sum(p.numel())`` of the torch recurrent module says (two biases).
        torch_total: ``torch_rnn`` plus the ``nn.Linear`` head.
    """

    cell: str
    G: int
    W_xh: int
    W_hh: int
    b_h: int
    b_hh: int
    W_hy: int
    b_y: int
    textbook: int
    torch_rnn: int
    torch_total: int

    @property
    def difference(self) -> int:
        return self.torch_total - self.textbook


def parameter_rows(X: int, H: int, O: int) -> list[CountRow]:
    """One :class:`CountRow` per cell: the textbook formula next to
    :func:`explorer.count_parameters` (torch's two-bias layout) plus the head.

    Raises:
        ValueError: a size below 1.
    """
    for name, v in (("X", X), ("H", H), ("O", O)):
        if not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {v!r}")
    head = sum(r.count for r in count_head(H, O))
    rows = []
    for cell, spec in CELLS.items():
        G = spec.G
        W_xh, W_hh, b_h, W_hy, b_y = G * H * X, G * H * H, G * H, O * H, O
        torch_rnn = count_parameters(cell, X, H).total
        rows.append(
            CountRow(
                cell,
                G,
                W_xh,
                W_hh,
                b_h,
                G * H,
                W_hy,
                b_y,
                W_xh + W_hh + b_h + W_hy + b_y,
                torch_rnn,
                torch_rnn + head,
            )
        )
    return rows


def _thousands(v: int) -> str:
    return f"{v:,}".replace(",", "{,}")  # KaTeX: a comma is punctuation, {,} is a digit group


COUNT_FORMULAS = (
    r"\begin{aligned}\text{textbook} &= G\,(HX + H^2 + H) + OH + O \\"
    r"\texttt{torch.nn} &= G\,(HX + H^2 + 2H) + OH + O = \text{textbook} + GH"
    r"\end{aligned}"
)


def count_latex(row: CountRow, X: int, H: int, O: int) -> str:
    """One cell's count with the numbers written in (two aligned rows: the textbook's, then
    torch's with the second bias), for :data:`COUNT_FORMULAS`."""
    n = _thousands
    g = "" if row.G == 1 else rf"{row.G}\,"
    gH = "" if row.G == 1 else rf"{row.G}\cdot "
    label = CELLS[row.cell].label
    return (
        rf"\begin{{aligned}}\text{{{label}, G = {row.G}:}}\quad "
        rf"& {g}({H}\cdot{X} + {H}^2 + {H}) + {O}\cdot{H} + {O} = \mathbf{{{n(row.textbook)}}}"
        rf"\\ \texttt{{torch.nn}}\text{{:}}\quad & {n(row.textbook)} + {gH}{H} = "
        rf"\mathbf{{{n(row.torch_total)}}}\end{{aligned}}"
    )


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
            legend=dict(orientation="h", y=-0.25, traceorder="normal"),
        ),
    )


# ----------------------------------------------------------------------------- 6. the code

CODE_SIZES = (tutorial.INPUT_SIZE, tutorial.HIDDEN_SIZE)  # the tutorial's input 10, hidden 20


def torch_rnn(x):
    rnn = nn.RNN(input_size=10, hidden_size=20)
    head = nn.Linear(20, 1)  # y_t = W_hy h_t + b_y
    out, h_n = rnn(x)  # out (T, 20): every h_t
    return head(out), (rnn, head)  # (T, 1)


def torch_lstm(x):
    lstm = nn.LSTM(input_size=10, hidden_size=20)
    out, (h_n, c_n) = lstm(x)  # out (T, 20): every h_t
    return out, lstm


def torch_gru(x):
    gru = nn.GRU(input_size=10, hidden_size=20)
    out, h_n = gru(x)  # out (T, 20): every h_t
    return out, gru


def _scratch_rnn(rnn_and_head, x):
    p = tutorial.textbook_from_torch(*rnn_and_head)  # transpose, sum the two biases
    return tutorial.scratch_forward(p, x)  # the tutorial's loop: (T, 1)


def _scratch_lstm(lstm, x):
    return cells.TextbookLSTM.from_torch(lstm).forward(x)[0]  # every h_t (T, 20)


def _scratch_gru(gru, x):
    return cells.TextbookGRU.from_torch(gru).forward(x)  # (T, 20)


_CODE = {
    "rnn": (torch_rnn, _scratch_rnn, [tutorial.scratch_forward, tutorial.textbook_from_torch]),
    "lstm": (
        torch_lstm,
        _scratch_lstm,
        [cells.TextbookLSTM.forward, cells.TextbookLSTM.from_torch],
    ),
    "gru": (torch_gru, _scratch_gru, [cells.TextbookGRU.forward, cells.TextbookGRU.from_torch]),
}


@dataclass(frozen=True)
class CodeRun:
    """The from-scratch code and ``torch.nn`` run on the same input.

    Attributes:
        cell: ``"rnn"``, ``"lstm"``, ``"gru"``.
        x: ``(T, 10)`` the tutorial's input.
        scratch, torch: the outputs, ``(T, 1)`` (the RNN with its head, as in the tutorial) or
            ``(T, 20)`` (every h_t of the LSTM or GRU).
        scratch_code, torch_code: the source of the functions that ran.
    """

    cell: str
    x: np.ndarray
    scratch: np.ndarray
    torch: np.ndarray
    scratch_code: str
    torch_code: str

    @property
    def max_abs_diff(self) -> float:
        return float(np.abs(self.scratch - self.torch).max())


def _source(fn) -> str:
    """The source of ``fn`` as it runs, dedented, its docstring left out (the page explains)."""
    src = textwrap.dedent(inspect.getsource(fn))
    lines = src.splitlines()
    node = ast.parse(src).body[0]
    if ast.get_docstring(node) is not None:
        doc = node.body[0]
        del lines[doc.lineno - 1 : doc.end_lineno]
    return "\n".join(lines)


@torch.no_grad()
def code_comparison(cell: str, seed: int = 0) -> CodeRun:
    """Run ``nn.RNN``/``nn.LSTM``/``nn.GRU`` (built after ``torch.manual_seed(seed)``, the
    caller's random state untouched) on the tutorial's input ``(5, 10)``, then the from-scratch
    code on the same input with the module's weights transposed and the two biases summed.

    Raises:
        ValueError: unknown ``cell``.
    """
    cell_spec(cell)
    make, scratch, shown = _CODE[cell]
    x, _ = tutorial.tutorial_data(seed)  # (5, 10)
    with seeded_global_rng(seed):  # the tutorial's idiom, one session at a time
        out, modules = make(x)
    ours = scratch(modules, x)
    return CodeRun(
        cell,
        x.numpy(),
        ours.numpy(),
        out.numpy(),
        "\n\n".join(_source(fn) for fn in shown),
        _source(make),
    )


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
