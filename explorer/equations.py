"""The cell's equations with live numbers for one unit at one step.

:func:`unit_terms` recomputes, for unit ``j`` of one layer and direction at input position ``t``,
every term of every gate from the module's weights and the traced states — ``W_i x_t``,
``b_i``, ``W_h h_{t-1}``, ``b_h``, the pre-activation and the activation — plus the state update.
:func:`equation_latex` writes them as LaTeX lines (KaTeX-compatible, for ``st.latex``) in
PyTorch's form with the numbers substituted.

The equations, the shape legend (T, L, D, H, H_out) and the step functions the numbers are
computed with are in :mod:`explorer.cells`; the symbols and the shape of every line (LaTeX and
the step player's HTML alike) come from :mod:`explorer.teaching`, which also writes them without
numbers (:data:`explorer.teaching.EQUATIONS`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral

import torch
import torch.nn as nn

from .cells import gru_gates, gru_state, lstm_gates, lstm_state, lstm_step, rnn_act
from .config import CELLS, directions
from .teaching import HTML_ITALIC, LATEX, article, numbered_gate_line, state_lines, weight
from .trace import Trace, initial_states, kind_of, layer_weights

#: gate symbols per cell in PyTorch's row order (``CellSpec.gates``); a vanilla RNN has one
#: "gate", its pre-activation h
_GATES: dict[str, str] = {k: "".join(spec.gates) or "h" for k, spec in CELLS.items()}


@dataclass(frozen=True)
class GateTerms:
    """The numbers inside one gate's equation for one unit ``j`` at one step (plain floats).

    ``pre = x_part + b_i + h_part + b_h`` and ``value = act(pre)``, except the GRU's ``n``, where
    ``pre = x_part + b_i + r_j · (h_part + b_h)`` (PyTorch applies the reset after the matmul).

    Attributes:
        name: the gate's symbol: ``"i" "f" "g" "o"``, ``"r" "z" "n"``, or ``"h"`` for a vanilla RNN.
        x_part: ``(W_i[k] x_t)_j``, ``x_t`` being the layer's input (the previous layer's output,
            both directions concatenated, for layer > 0).
        b_i: ``(b_ih[k])_j``; 0 when ``bias=False``.
        h_part: ``(W_h[k] h_{t-1})_j``.
        b_h: ``(b_hh[k])_j``; 0 when ``bias=False``.
        pre: the pre-activation.
        value: the activation: σ for i f o r z, tanh for g n, tanh or ReLU for the RNN's h.
    """

    name: str
    x_part: float
    b_i: float
    h_part: float
    b_h: float
    pre: float
    value: float


#: a gate's numbers by the names of unit_terms_over_time's columns, and GateTerms' fields
_PARTS = (
    ("x", "x_part"),
    ("bi", "b_i"),
    ("h", "h_part"),
    ("bh", "b_h"),
    ("pre", "pre"),
    ("val", "value"),
)


def _a(kind: str) -> str:
    """``"a GRU"``, ``"an LSTM"``, ``"an RNN"``."""
    return article(kind.upper())


def _check_index(what: str, value: int, size: int, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral):  # numpy ints are fine
        raise TypeError(f"{what} must be an int, got {value!r}")
    if not 0 <= value < size:
        raise IndexError(f"{what} {value} out of range: expected 0..{size - 1} ({hint})")


@torch.no_grad()
def unit_terms(
    rnn: nn.Module,
    tr: Trace,
    *,
    layer: int,
    direction: int,
    t: int,
    unit: int,
    h0: torch.Tensor | None = None,
    c0: torch.Tensor | None = None,
) -> dict:
    """Every number in the equations of unit ``unit`` at input position ``t``, recomputed.

    The gates are recomputed from ``rnn``'s weights, the layer's input ``x_t`` and the previous
    state ``h_{t-1}`` (and ``c_{t-1}``) read from ``tr``: the state before ``t`` in that
    direction's reading order (``t+1`` for the reverse direction), ``h0``/``c0`` at the start.
    For an unclamped trace the returned values equal ``tr``'s gates and states (to float
    rounding); arithmetic is in float64.

    Args:
        rnn: the ``torch.nn.RNN``/``LSTM``/``GRU`` that produced ``tr`` (by :func:`explorer.trace`).
        tr: its :class:`~explorer.trace.Trace` over one sequence.
        layer: ``0 … L-1``.
        direction: ``0`` (forward) or ``1`` (reverse, if bidirectional).
        t: input position ``0 … T-1``.
        unit: ``0 … H-1``, the index into the gates and the cell state. With ``proj_size`` the
            hidden state has only ``H_out < H`` units: ``h`` is then ``(W_hr (o ⊙ tanh c))_unit``
            for ``unit < H_out`` and ``None`` otherwise (``h_pre_proj`` is always unit ``unit``'s
            ``o ⊙ tanh c``).
        h0: the ``(L·D, H_out)`` initial hidden state the trace used (tensor or array-like);
            zeros if ``None``.
        c0: the ``(L·D, H)`` initial LSTM cell state the trace used; zeros if ``None``.

    Returns:
        ``{"kind", "layer", "direction", "t", "unit", "bias": bool, "gates": {name: GateTerms}}``
        (gates in PyTorch's row order) plus the state numbers (floats):

        * LSTM: ``c_prev``, ``c`` (``= f c_prev + i g``), ``h_pre_proj`` (``= o tanh c``), ``h``
          (float or ``None``, see ``unit``), ``proj_size`` (0 without projection), ``H_out``;
        * GRU: ``h_prev``, ``h`` (``= (1 - z) n + z h_prev``);
        * RNN: ``h_prev`` (the unit's own h_{t-1}, for reference), ``h`` (``= gates["h"].value``),
          ``nonlinearity``.

    Raises:
        TypeError: ``rnn`` is not an RNN, LSTM or GRU, or an index is not an int.
        ValueError: ``tr`` does not fit ``rnn`` (kind or shape), has no ``x``, ``h0``/``c0``
            have the wrong shape, or ``c0`` is given for a cell without one.
        IndexError: ``layer``, ``direction``, ``t`` or ``unit`` out of range.
    """
    _check_index("t", t, _checked(rnn, tr, layer, direction, unit), f"T = {tr.T} steps")
    cols = _columns(rnn, tr, layer, direction, unit, h0, c0, torch.tensor([int(t)]))
    num = {k: float(v[0]) for k, v in cols.items()}
    kind = kind_of(rnn)
    gates = {k: GateTerms(k, *(num[f"{k}.{p}"] for p, _ in _PARTS)) for k in _GATES[kind]}
    out = {"kind": kind, "layer": int(layer), "direction": int(direction), "t": int(t)}
    out.update(unit=int(unit), bias=bool(rnn.bias), gates=gates)
    if kind == "lstm":
        proj = rnn.proj_size
        h = None if math.isnan(num["h"]) else num["h"]
        out.update(c_prev=num["c_prev"], c=num["c"], h_pre_proj=num["h_pre_proj"], h=h)
        out.update(proj_size=proj, H_out=proj or rnn.hidden_size)
    else:
        out.update(h_prev=num["h_prev"], h=num["h"])
    if kind == "rnn":
        out["nonlinearity"] = rnn.nonlinearity
    return out


def _checked(rnn: nn.Module, tr: Trace, layer: int, direction: int, unit: int) -> int:
    """Check that ``tr`` fits ``rnn`` and the indices are in range; returns ``T``."""
    kind = kind_of(rnn)
    L, D, H = rnn.num_layers, directions(rnn.bidirectional), rnn.hidden_size
    H_out = getattr(rnn, "proj_size", 0) or H
    if tr.kind != kind:
        raise ValueError(f"trace is of {_a(tr.kind)}, module is {_a(kind)}")
    if tr.hidden.dim() != 4 or tuple(tr.hidden.shape[:2]) != (L, D) or tr.hidden.shape[3] != H_out:
        raise ValueError(
            f"trace hidden must be (L={L}, D={D}, T, H_out={H_out}) for this module, "
            f"got {tuple(tr.hidden.shape)}"
        )
    if tr.x is None:
        raise ValueError("trace has no input x; make it with explorer.trace(rnn, x)")
    _check_index("layer", layer, L, f"num_layers = {L}")
    _check_index("direction", direction, D, "0 forward" + (", 1 reverse" if D == 2 else " only"))
    _check_index("unit", unit, H, f"hidden_size = {H}")
    return tr.T


def _columns(rnn, tr, layer, direction, unit, h0, c0, ts: torch.Tensor) -> dict[str, torch.Tensor]:
    """:func:`unit_terms_over_time`'s dict at the input positions ``ts`` ``(n,)`` only, float64.

    The gates and states come from :mod:`explorer.cells`' functions applied to the unit's own
    rows (a cell of one unit, ``H = 1``); ``h`` of an LSTM with ``proj_size`` mixes every unit,
    so it is one :func:`~explorer.cells.lstm_step` of the whole layer.
    """
    kind, f64 = kind_of(rnn), torch.float64
    D = directions(rnn.bidirectional)
    h0, c0 = initial_states(rnn, h0, c0, torch.empty(0, dtype=f64))
    start = layer * D + direction  # row of h0 / c0 in torch's (L·D, ·) layout
    before = _before(ts, tr.T, reverse=direction == 1)
    # the layer's input: x_t, or the previous layer's output (directions concatenated)
    X = tr.x if layer == 0 else tr.hidden[layer - 1].permute(1, 0, 2).reshape(tr.T, -1)
    X = X.to(f64)[ts]  # (n, in_l)
    H_prev = before(tr.hidden[layer, direction], h0[start])  # (n, H_out)
    weights = tuple(None if w is None else w.to(f64) for w in layer_weights(rnn, layer, direction))
    out, val = _gate_columns(rnn, unit, X, H_prev, weights)
    if kind != "lstm":
        h_new = gru_state(val[:, 1], val[:, 2], H_prev[:, unit]) if kind == "gru" else val[:, 0]
        return out | {"h_prev": H_prev[:, unit], "h": h_new}
    C_prev = before(tr.cell[layer, direction], c0[start])  # (n, H)
    return out | _lstm_columns(unit, X, H_prev, C_prev, val, weights)


def _before(ts: torch.Tensor, T: int, *, reverse: bool):
    """``before(states (T, S), s0 (S,))``: float64 ``(n, S)``, the state before each position
    ``ts`` ``(n,)`` in the direction's reading order (the reverse direction reads T-1 first),
    ``s0`` where that is the start."""
    prev = ts + 1 if reverse else ts - 1
    first = (prev < 0) | (prev >= T)  # (n,) the state before is h0 / c0

    def before(states: torch.Tensor, s0: torch.Tensor) -> torch.Tensor:
        out = states.to(torch.float64)[prev.clamp(0, T - 1)]
        out[first] = s0
        return out

    return before


def _gate_columns(
    rnn, unit: int, X, H_prev, weights
) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Every gate's summands, pre-activation and value for unit ``unit`` from the layer's
    inputs ``X`` ``(n, in_l)`` and ``H_prev`` ``(n, H_out)`` (float64): the columns
    ``"k.x" "k.bi" "k.h" "k.bh" "k.pre" "k.val"``, and the values ``(n, G)``, by
    :mod:`explorer.cells`' gate functions applied to a cell of one unit (``H = 1``)."""
    kind, H, f64 = kind_of(rnn), rnn.hidden_size, torch.float64
    w_ih, w_hh, b_ih, b_hh, _ = weights
    names = _GATES[kind]
    rows = [k * H + unit for k in range(len(names))]  # the unit's row in each gate block
    zeros = torch.zeros(len(names), dtype=f64)
    xp, hp = X @ w_ih[rows].T, H_prev @ w_hh[rows].T  # (n, G) each
    bi = b_ih[rows] if b_ih is not None else zeros  # (G,)
    bh = b_hh[rows] if b_hh is not None else zeros
    gi, gh = xp + bi, hp + bh  # (n, G): a cell with one unit
    if kind == "lstm":
        pre = gi + gh
        val = torch.cat(lstm_gates(pre), -1)
    elif kind == "gru":
        val = torch.cat(gru_gates(gi, gh), -1)
        pre = torch.cat([gi[:, :2] + gh[:, :2], gi[:, 2:] + val[:, :1] * gh[:, 2:]], -1)
    else:
        pre = gi + gh
        val = rnn_act(pre, rnn.nonlinearity)
    n = X.shape[0]
    out: dict[str, torch.Tensor] = {}
    for k, name in enumerate(names):
        out.update({f"{name}.x": xp[:, k], f"{name}.bi": bi[k].expand(n)})
        out.update({f"{name}.h": hp[:, k], f"{name}.bh": bh[k].expand(n)})
        out.update({f"{name}.pre": pre[:, k], f"{name}.val": val[:, k]})
    return out, val


def _lstm_columns(unit: int, X, H_prev, C_prev, val, weights) -> dict[str, torch.Tensor]:
    """The LSTM's state columns ``c_prev c h_pre_proj h_prev h`` for unit ``unit``; ``h`` of an
    LSTM with ``proj_size`` mixes every unit, so it is one :func:`~explorer.cells.lstm_step`
    of the whole layer (NaN past ``H_out``, where the unit has no h_t)."""
    w_hr, H_out = weights[4], H_prev.shape[1]
    nan = torch.full((X.shape[0],), math.nan, dtype=torch.float64)
    h_pre_proj, c = lstm_state(*val.unbind(-1), C_prev[:, unit])
    out = {"c_prev": C_prev[:, unit], "c": c, "h_pre_proj": h_pre_proj}
    out["h_prev"] = H_prev[:, unit] if unit < H_out else nan
    if w_hr is None:
        out["h"] = h_pre_proj
    elif unit < H_out:  # the projection mixes every unit's o ⊙ tanh(c): the whole layer's step
        out["h"] = lstm_step(X, H_prev, C_prev, *weights)[0][:, unit]
    else:
        out["h"] = nan
    return out


# ---------------------------------------------------------------- LaTeX


def latex_number(v: float, digits: int) -> str:
    """``v`` rounded to ``digits`` decimals, without a ``-0.000``: every number the LaTeX
    equations and matrices show (:mod:`explorer.lesson` too)."""
    s = f"{v:.{digits}f}"
    return f"{0.0:.{digits}f}" if float(s) == 0 else s


def _term(v: float, digits: int) -> str:
    """A number as a summand: negative numbers parenthesised, so ``+ (-0.051)`` reads right."""
    s = latex_number(v, digits)
    return f"({s})" if s.startswith("-") else s


def _brace(v: float, label: str, digits: int, first: bool) -> str:
    """``\\underbrace{0.120}_{W_{if}x_t}``: a number labelled by the term it comes from."""
    return rf"\underbrace{{{latex_number(v, digits) if first else _term(v, digits)}}}_{{{label}}}"


def _gate_line(kind: str, gates: dict, k: str, bias: bool, digits: int, nonlinearity: str) -> str:
    """One gate's line: numbers under their terms (PyTorch's symbols), the pre-activation, the
    value (:func:`explorer.teaching.numbered_gate_line`)."""
    num = {f"{g.name}.{part}": getattr(g, field) for g in gates.values() for part, field in _PARTS}

    def number(key: str, first: bool) -> str:
        return (latex_number if first else _term)(num[key], digits)

    return numbered_gate_line(
        kind,
        k,
        LATEX,
        under=lambda key, label, first: _brace(num[key], label, digits, first),
        number=number,
        product=r"\cdot",
        bias_terms=bias,
        nonlinearity=nonlinearity,
    )


def equation_latex(
    kind: str, terms: dict, *, nonlinearity: str = "tanh", digits: int = 3
) -> list[str]:
    """LaTeX lines of the cell's equations with one unit's numbers (from :func:`unit_terms`).

    One line per gate (PyTorch's form, each number under an ``\\underbrace`` naming its term) and
    one per state update. Negative summands are parenthesised; numbers are rounded to ``digits``
    decimals. Lines are KaTeX-compatible (for ``st.latex``), e.g.::

        f_t = \\sigma(\\underbrace{0.120}_{W_{if}x_t} + \\underbrace{0.300}_{b_{if}}
              + \\underbrace{(-0.051)}_{W_{hf}h_{t-1}} + \\underbrace{0.000}_{b_{hf}})
              = \\sigma(0.369) = 0.591
        c_t = f_t c_{t-1} + i_t g_t = 0.591 \\cdot 0.200 + 0.500 \\cdot 0.762 = 0.499

    Bias terms are left out when ``terms["bias"]`` is false. The GRU's ``n`` line shows
    ``r_t \\odot (W_{hn}h_{t-1} + b_{hn})`` and, in numbers, ``r · (h_part + b_h)``.

    Args:
        kind: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        terms: the dict returned by :func:`unit_terms` for a module of that kind.
        nonlinearity: ``"tanh"`` or ``"relu"``, the vanilla RNN's activation (ignored otherwise;
            ``terms["nonlinearity"]`` wins when present).
        digits: decimals shown, ≥ 0.

    Raises:
        ValueError: unknown ``kind`` or ``nonlinearity``, ``terms`` of another kind or missing a
            gate or state, or ``digits`` < 0.
    """
    if kind not in _GATES:
        raise ValueError(f"kind must be one of {sorted(_GATES)}, got {kind!r}")
    nonlinearity = terms.get("nonlinearity", nonlinearity)
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be an int >= 0, got {digits!r}")
    if terms.get("kind", kind) != kind:
        raise ValueError(f"terms are for {_a(terms['kind'])}, not {_a(kind)}")
    gates = terms.get("gates", {})
    needed = {
        "rnn": ("h_prev", "h"),
        "lstm": ("c_prev", "c", "h_pre_proj", "h"),
        "gru": ("h_prev", "h"),
    }[kind]
    missing = [k for k in _GATES[kind] if k not in gates] + [k for k in needed if k not in terms]
    if missing:
        raise ValueError(f"terms for {_a(kind)} lack {', '.join(missing)}; use unit_terms()")

    bias = terms.get("bias", True)
    lines = [_gate_line(kind, gates, k, bias, digits, nonlinearity) for k in _GATES[kind]]
    if kind == "rnn":
        return lines  # its one "gate" is the state h_t
    if kind == "lstm":
        return lines + _lstm_state_lines(terms, digits)
    n = lambda v: latex_number(v, digits)  # noqa: E731 - a short local formatter
    z, (update,) = gates["z"].value, state_lines("gru", LATEX, " ")
    return lines + [
        rf"{update} = (1 - {n(z)}) \cdot {_term(gates['n'].value, digits)} + {n(z)} \cdot "
        rf"{_term(terms['h_prev'], digits)} = {n(terms['h'])}"
    ]


def _lstm_state_lines(terms: dict, digits: int) -> list[str]:
    """``c_t = f_t c_{t-1} + i_t g_t`` and ``h_t = o_t tanh(c_t)`` (with proj_size: W_hr after)."""
    n = lambda v: latex_number(v, digits)  # noqa: E731 - a short local formatter
    i, f, g, o = (terms["gates"][k].value for k in CELLS["lstm"].gates)
    c, unit = terms["c"], terms.get("unit", "j")
    c_line, h_line = state_lines("lstm", LATEX, " ")
    lines = [
        rf"{c_line} = {n(f)} \cdot {_term(terms['c_prev'], digits)}"
        rf" + {n(i)} \cdot {_term(g, digits)} = {n(c)}"
    ]
    numbers = rf"{n(o)} \cdot \tanh({n(c)})"
    if not terms.get("proj_size"):
        return lines + [rf"{h_line} = {numbers} = {n(terms['h'])}"]
    o_tanh_c = h_line.split(" = ", 1)[1]  # o_t \tanh(c_t), before the projection
    lines.append(rf"{o_tanh_c} = {numbers} = {n(terms['h_pre_proj'])}")
    h, W_hr = LATEX.of("h"), LATEX.sym(*weight("h", "r"))
    o_c = rf"{LATEX.of('o')} \odot \tanh({LATEX.of('c')})"
    if terms["h"] is None:  # this unit index is past H_out: the projected h_t has no such unit
        H_out = terms.get("H_out", terms["proj_size"])
        lines.append(
            rf"{h} = {W_hr}\,({o_c}) \text{{ has }} H_{{out}} = {H_out}"
            rf" \text{{ units; unit }} {unit} \text{{ has no }} {h}"
        )
    else:
        lines.append(rf"{h} = \big({W_hr}\,({o_c})\big)_{{{unit}}} = {n(terms['h'])}")
    return lines


# ---------------------------------------------------------------- every step at once


@torch.no_grad()
def unit_terms_over_time(
    rnn: nn.Module,
    tr: Trace,
    *,
    layer: int,
    direction: int,
    unit: int,
    h0: torch.Tensor | None = None,
    c0: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """:func:`unit_terms` for every input position ``t`` at once, in a few batched matmuls.

    The step player sends these to the browser, which shows the equations of any step without
    asking the server again (a loop of :func:`unit_terms` takes ~0.3 ms a step: 0.6 s for a
    2000-step series).

    Args: as :func:`unit_terms`, without ``t``.

    Returns:
        ``{name: (T,) float64 tensor}`` with the names the step player's equation slots use
        (:func:`equation_html`): per gate ``k`` ``"k.x"`` (``W_i x_t``), ``"k.bi"``, ``"k.h"``
        (``W_h h_{t-1}``), ``"k.bh"``, ``"k.pre"``, ``"k.val"``; then ``"h"``, ``"h_prev"``
        (the unit's own h_{t-1}, h_0 at the start) and for an LSTM ``"c_prev"``, ``"c"``,
        ``"h_pre_proj"``. With ``proj_size`` and ``unit >= H_out``, ``"h"`` and ``"h_prev"``
        are all NaN (that unit has no h_t). Entry ``[t]`` equals
        ``unit_terms(..., t=t)`` to float64 rounding.

    Raises: as :func:`unit_terms`.
    """
    T = _checked(rnn, tr, layer, direction, unit)
    return _columns(rnn, tr, layer, direction, unit, h0, c0, torch.arange(T))


# ---------------------------------------------------------------- HTML, numbers filled in later


def _slot(key: str, form: str = "num") -> str:
    """A number the browser fills in: ``form`` "num" as is, "term" parenthesised when negative
    (a summand), as :func:`latex_number` and :func:`_term` do."""
    return f'<span class="eq-n" data-v="{key}" data-f="{form}"></span>'


def _under(key: str, label: str, form: str) -> str:
    """A number over the name of the term it comes from (LaTeX's ``\\underbrace``)."""
    return (
        f'<span class="eq-u"><span class="eq-ub">{_slot(key, form)}</span>'
        f'<span class="eq-ul">{label}</span></span>'
    )


def equation_html(
    kind: str,
    *,
    bias: bool = True,
    nonlinearity: str = "tanh",
    proj_size: int = 0,
    unit: int = 0,
    H_out: int | None = None,
) -> list[str]:
    """The lines of :func:`equation_latex` as HTML whose numbers are empty slots
    (``<span data-v="f.x" data-f="term">``) named as :func:`unit_terms_over_time`'s keys, so
    that a browser can show any step's numbers without asking the server (the step player).

    ``unit`` and ``H_out`` only matter for an LSTM with ``proj_size`` (whose ``h_t`` mixes every
    unit). Raises ``ValueError`` for an unknown ``kind`` or ``nonlinearity``.
    """
    if kind not in _GATES:
        raise ValueError(f"kind must be one of {sorted(_GATES)}, got {kind!r}")
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    lines = [_gate_html(kind, k, bias, nonlinearity) for k in _GATES[kind]]
    if kind == "lstm":
        return lines + _lstm_state_html(proj_size, unit, H_out)
    if kind == "gru":
        (update,) = state_lines("gru", HTML_ITALIC, " ")
        lines.append(
            f"{update} = (1 − {_slot('z.val')}) · {_slot('n.val', 'term')} + {_slot('z.val')} · "
            f"{_slot('h_prev', 'term')} = {_slot('h')}"
        )
    return lines


def _gate_html(kind: str, k: str, bias: bool, nonlinearity: str) -> str:
    """One gate's line of :func:`equation_html`: slots under their terms, the pre-activation's
    slot and the value's (:func:`explorer.teaching.numbered_gate_line`)."""
    return numbered_gate_line(
        kind,
        k,
        HTML_ITALIC,
        under=lambda key, label, first: _under(key, label, "num" if first else "term"),
        number=lambda key, first: _slot(key, "num" if first else "term"),
        product="·",
        bias_terms=bias,
        nonlinearity=nonlinearity,
    )


def _lstm_state_html(proj_size: int, unit: int, H_out: int | None) -> list[str]:
    """The LSTM's state lines of :func:`equation_html` (with ``proj_size``: ``W_hr`` after)."""
    c_line, h_line = state_lines("lstm", HTML_ITALIC, " ")
    s = HTML_ITALIC.of
    lines = [
        f"{c_line} = {_slot('f.val')} · {_slot('c_prev', 'term')} + {_slot('i.val')} · "
        f"{_slot('g.val', 'term')} = {_slot('c')}"
    ]
    numbers = f"{_slot('o.val')} · tanh({_slot('c')})"
    if not proj_size:
        return lines + [f"{h_line} = {numbers} = {_slot('h')}"]
    o_tanh_c = h_line.split(" = ", 1)[1]  # o_t tanh(c_t), before the projection
    lines.append(f"{o_tanh_c} = {numbers} = {_slot('h_pre_proj')}")
    W_hr = f"{HTML_ITALIC.sym(*weight('h', 'r'))} ({s('o')} ⊙ tanh {s('c')})"
    if unit >= (H_out or proj_size):
        return lines + [
            f"{s('h')} = {W_hr} has H<sub>out</sub> = {H_out or proj_size} units; "
            f"unit {unit} has no {s('h')}"
        ]
    return lines + [f"{s('h')} = ({W_hr})<sub>{unit}</sub> = {_slot('h')}"]


def format_number(value: float, form: str = "num", digits: int = 3) -> str:
    """How the browser writes a slot of :func:`equation_html` (the same rule as
    :func:`equation_latex`: no ``-0.000``; a negative summand in parentheses), with a true
    minus sign. The step player's JavaScript does the same; tests compare the two."""
    s = _term(value, digits) if form == "term" else latex_number(value, digits)
    return s.replace("-", "−")
