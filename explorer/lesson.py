"""The Learn page's lesson: the numbers of each section, computed with real ``torch.nn``
modules, and the LaTeX that writes them out (pure Python, no Streamlit). The figures drawn from
these numbers are in :mod:`explorer.lesson_figures`.

Sections (and what each function gives the page):

1. Structure: no numbers of its own (the drawing is ``lesson_figures.unrolled_figure``); the
   shared matrices W_xh, W_hh, W_hy keep one colour each (``COLOURS``).
2. How it runs: :func:`tiny_run` runs a tiny ``nn.RNN`` + ``nn.Linear`` step by step in the
   textbook's column-vector form (PyTorch docs, ``nn.RNN``)::

       h_t = f(W_hh h_{t-1} + W_xh x_t + b_h)      y_t = g(W_hy h_t + b_y)

   with ``W_xh = weight_ih_l0`` ``(H, X)``, ``W_hh = weight_hh_l0`` ``(H, H)``,
   ``b_h = bias_ih_l0 + bias_hh_l0``, ``W_hy = head.weight`` ``(O, H)``, ``b_y = head.bias``
   and g the identity (the tutorial's regression head); :func:`step_latex` writes it out.
3. Three kinds: :func:`gradient_flow` (``‖∂h_T/∂h_t‖₂`` for a recurrent matrix scaled to a
   chosen spectral radius: vanishing and exploding gradients, Bengio et al. 1994; Pascanu et al.
   2013), :func:`kind_trace` (a short live trace of each cell) and :func:`pulse_memory`.
4. Counting parameters: :func:`parameter_rows` (the textbook's one-bias count next to what
   ``torch.nn`` reports with two biases).
6. The code: :func:`code_comparison`, the from-scratch cells of :mod:`explorer.textbook` and the
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
import torch
import torch.nn as nn

from . import textbook, tutorial
from .cells import rnn_act
from .config import CELLS, cell_spec
from .equations import latex_number
from .models import build_model, seeded_global_rng, set_forget_bias, set_gate_bias
from .params import count_head, count_parameters
from .teaching import LATEX, bias, weight
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
    x = tiny_input(T, input_size, seed)  # (T, X)
    h = [torch.zeros(hidden_size)]  # h_0
    recurrent, input_part, pre, y = [], [], [], []
    for x_t in x:
        recurrent.append(W_hh @ h[-1])  # (H,)
        input_part.append(W_xh @ x_t)  # (H,)
        pre.append(recurrent[-1] + input_part[-1] + b_h)
        h.append(rnn_act(pre[-1], nonlinearity))  # f, the one activation of explorer.cells
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


def latex_matrix(a: np.ndarray, digits: int = 2, colour: str | None = None) -> str:
    """A vector ``(n,)`` (as a column) or a matrix ``(n, m)`` in LaTeX, numbers right-aligned,
    optionally in ``colour`` (a hex colour)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    rows = r" \\ ".join(" & ".join(latex_number(v, digits) for v in row) for row in a)
    body = rf"\left[\begin{{array}}{{{'r' * a.shape[1]}}}{rows}\end{{array}}\right]"
    return rf"{{\color{{{colour}}}{body}}}" if colour else body


def bias_latex(run: TinyRun, digits: int = 2) -> str:
    """``b_h = b_ih + b_hh`` with the numbers: PyTorch's two biases and their sum."""
    b_h, b_ih, b_hh = (LATEX.sym(*bias(side, "h")) for side in ("", "i", "h"))
    return (
        rf"{b_h} = {b_ih} + {b_hh} = {latex_matrix(run.b_ih, digits)} + "
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
    f = LATEX.act(run.nonlinearity)
    k = t - 1
    hh, xh, hy = (  # coloured as in the drawing
        rf"{{\color{{{COLOURS[n]}}}{LATEX.sym(*weight(n[2], n[3]))}}}"
        for n in ("W_hh", "W_xh", "W_hy")
    )
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

    @property
    def verdict(self) -> str:
        """What ``‖∂h_T/∂h_0‖`` (``norms[0]``) means for learning: vanished below 1e-2,
        exploded above 1e2, else neither."""
        far = self.norms[0]
        if far < 1e-2:
            return (
                "vanished: a loss at step T can teach the network almost nothing about the "
                "first steps"
            )
        if far > 1e2:
            return "exploded: one update can throw the weights far away (clip the gradient norm)"
        return "neither vanished nor exploded over this length"


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


def gradient_flows(
    x: np.ndarray, hidden_size: int, rho: float, seed: int, nonlinearity: str = "tanh"
) -> tuple[GradientFlow, list[GradientFlow]]:
    """The gradient flow of :func:`scaled_rnn` ``(hidden_size, rho, seed, nonlinearity)`` over
    the ``(T,)`` signal ``x`` (one feature a step), and of the same net rescaled to each of
    ``REFERENCE_RHOS`` other than ``rho``, drawn for comparison.

    Raises:
        ValueError: as :func:`scaled_rnn` and :func:`gradient_flow`.
    """
    xs = np.asarray(x)[:, None]  # (T, 1)

    def flow(r: float) -> GradientFlow:
        return gradient_flow(scaled_rnn(hidden_size, r, seed, nonlinearity), xs)

    return flow(rho), [flow(r) for r in REFERENCE_RHOS if abs(r - rho) > 1e-9]


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

    @property
    def weights(self) -> int:
        """The textbook's weights: W_xh + W_hh + W_hy."""
        return self.W_xh + self.W_hh + self.W_hy

    @property
    def biases(self) -> int:
        """The textbook's biases: b_h + b_y."""
        return self.b_h + self.b_y


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


def count_table(rows: list[CountRow]) -> dict[str, list]:
    """The columns of the parameter table, one entry per row: the cell with its G, the
    textbook terms, the textbook total, torch's total and the difference (``+ b_hh``)."""
    table = {"cell": [f"{CELLS[r.cell].label} (G = {r.G})" for r in rows]}
    table |= {
        name: [getattr(r, name) for r in rows] for name in ("W_xh", "W_hh", "b_h", "W_hy", "b_y")
    }
    return table | {
        "textbook": [r.textbook for r in rows],
        "torch.nn": [r.torch_total for r in rows],
        "+ b_hh": [r.difference for r in rows],
    }


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
    return textbook.TextbookLSTM.from_torch(lstm).forward(x)[0]  # every h_t (T, 20)


def _scratch_gru(gru, x):
    return textbook.TextbookGRU.from_torch(gru).forward(x)  # (T, 20)


_CODE = {
    "rnn": (torch_rnn, _scratch_rnn, [tutorial.scratch_forward, tutorial.textbook_from_torch]),
    "lstm": (
        torch_lstm,
        _scratch_lstm,
        [textbook.TextbookLSTM.forward, textbook.TextbookLSTM.from_torch],
    ),
    "gru": (
        torch_gru,
        _scratch_gru,
        [textbook.TextbookGRU.forward, textbook.TextbookGRU.from_torch],
    ),
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
