"""What-if clamps: run a recurrent module with some gates forced to constants.

"What if the forget gate were always open?" — :func:`clamped_trace` runs a ``torch.nn`` RNN,
LSTM or GRU over one sequence with a step loop of PyTorch's documented equations, in which each
named gate is replaced by a constant from a chosen input position on. Everything downstream (the
cell state, the hidden state, the next layer) sees the clamped value.

The equations, the shape legend (T, L, D, H, H_out, G) and the step functions are in
:mod:`explorer.cells`; a clamped gate is replaced by its constant before it is used (``fixed``).

How it stays fast: the input projections ``x W_ih^T + b_ih`` of every step are one matmul per
layer and direction; only the recurrent part ``W_hh h_{t-1}`` runs in the Python loop over time.
"""

from __future__ import annotations

from numbers import Integral, Real

import torch
import torch.nn as nn
import torch.nn.functional as F

from .cells import gru_gates, gru_state, lstm_gates, lstm_state, rnn_act
from .config import CELLS, TANH_GATES, directions
from .trace import Trace, initial_states, kind_of, layer_weights


def _check_clamps(kind: str, clamps: dict[str, float]) -> dict[str, float]:
    """Validate ``clamps`` for a ``kind`` cell and return them as ``{name: float}``."""
    valid = CELLS[kind].gates
    out = {}
    for name, value in clamps.items():
        if name not in valid:
            if valid:
                raise ValueError(
                    f"{kind.upper()} has gates {', '.join(valid)}; cannot clamp {name!r}"
                )
            raise ValueError(f"a vanilla RNN has no gates to clamp (got {name!r})")
        if isinstance(value, bool) or not isinstance(value, Real):
            raise ValueError(f"clamp value for {name!r} must be a number, got {value!r}")
        lo, hi = (-1.0, 1.0) if name in TANH_GATES else (0.0, 1.0)
        kind_name = "tanh" if name in TANH_GATES else "sigmoid"
        if not lo <= float(value) <= hi:  # also rejects NaN
            raise ValueError(
                f"{name!r} is a {kind_name} gate: clamp value must be in "
                f"[{lo:g}, {hi:g}], got {value!r}"
            )
        out[name] = float(value)
    return out


@torch.no_grad()
def clamped_trace(
    rnn: nn.Module,
    x: torch.Tensor,
    clamps: dict[str, float],
    from_step: int = 0,
    *,
    h0: torch.Tensor | None = None,
    c0: torch.Tensor | None = None,
) -> Trace:
    """Trace ``rnn`` over ``x`` with the gates in ``clamps`` forced to constants from ``from_step``.

    Each gate named in ``clamps`` takes its constant at every input position ``t >= from_step``,
    in every layer and direction. The reverse direction reads right to left, so it meets the
    clamped positions ``T-1 … from_step`` *first* and runs freely on ``from_step-1 … 0``. Gates
    not named run normally. A clamped gate is replaced before it is used: a clamped GRU ``r``
    enters ``n``, a clamped LSTM ``f`` enters ``c_t``. Runs as in eval mode (no dropout).

    Args:
        rnn: a ``torch.nn.RNN`` (tanh or relu), ``LSTM`` or ``GRU``: any ``num_layers``,
            ``bidirectional``, ``bias``, ``proj_size``, ``batch_first``.
        x: ``(T, input_size)`` one sequence (tensor or array-like; cast to the module's dtype).
        clamps: ``{gate: value}``, gate names ``"i" "f" "g" "o"`` (LSTM) or ``"r" "z" "n"`` (GRU);
            values in ``[0, 1]`` for sigmoid gates (i f o r z), ``[-1, 1]`` for tanh gates (g n).
            ``{}`` clamps nothing: the result equals :func:`explorer.trace` (to float rounding).
        from_step: first clamped input position, ``0 … T-1``.
        h0: optional ``(L·D, H_out)`` initial hidden state, torch's layout; zeros if ``None``.
        c0: optional ``(L·D, H)`` initial LSTM cell state; zeros if ``None``.

    Returns:
        A :class:`~explorer.trace.Trace` shaped as :func:`explorer.trace`'s; ``gates`` report the
        clamped values where a clamp applied.

    Raises:
        TypeError: ``rnn`` is not an RNN, LSTM or GRU.
        ValueError: an unknown gate name (the message lists the valid ones), a clamp value out of
            its gate's range, ``from_step`` outside ``0 … T-1``, ``x`` not ``(T, input_size)``
            with T ≥ 1, ``h0``/``c0`` of the wrong shape, or ``c0`` for a cell without one.
    """
    kind = kind_of(rnn)
    clamps = _check_clamps(kind, clamps)
    x, from_step = _checked_input(rnn, x, from_step)
    L, D, H = rnn.num_layers, directions(rnn.bidirectional), rnn.hidden_size
    H_out = getattr(rnn, "proj_size", 0) or H
    T = x.shape[0]
    h0, c0 = initial_states(rnn, h0, c0, x)

    names = CELLS[kind].gates
    hidden = x.new_empty(L, D, T, H_out)
    cell = x.new_empty(L, D, T, H) if kind == "lstm" else None
    gates = {k: x.new_empty(L, D, T, H) for k in names}

    layer_in = x  # (T, in_l): x for layer 0, the previous layer's output after
    for layer in range(L):
        for d in range(D):
            act = _run_direction(
                rnn,
                layer_weights(rnn, layer, d),
                layer_in,
                h0[layer * D + d],
                None if c0 is None else c0[layer * D + d],
                clamps=clamps,
                from_step=from_step,
                reverse=d == 1,
                hidden=hidden[layer, d],
                cell=None if cell is None else cell[layer, d],
            )
            for g_idx, k in enumerate(names):
                gates[k][layer, d] = act[:, g_idx]
        layer_in = (
            hidden[layer].transpose(0, 1).reshape(T, D * H_out)
        )  # (T, D·H_out), torch's output
    return Trace(hidden=hidden, cell=cell, gates=gates, x=x, kind=kind)


def _checked_input(rnn: nn.Module, x, from_step) -> tuple[torch.Tensor, int]:
    """``x`` as a ``(T, input_size)`` tensor of the module's dtype and ``from_step`` as an int in
    ``0 … T-1``, checked (see :func:`clamped_trace`)."""
    x = torch.as_tensor(x)
    if x.dim() != 2 or x.shape[1] != rnn.input_size or x.shape[0] < 1:
        raise ValueError(
            f"x must have shape (T, {rnn.input_size}) with T >= 1, got {tuple(x.shape)}"
        )
    T = x.shape[0]
    if isinstance(from_step, bool) or not isinstance(from_step, Integral) or not 0 <= from_step < T:
        raise ValueError(f"from_step must be an int in 0..{T - 1} (T = {T}), got {from_step!r}")
    return x.to(rnn.weight_ih_l0.dtype), int(from_step)  # numpy ints are fine


def _run_direction(
    rnn, weights, layer_in, h, c, *, clamps, from_step, reverse, hidden, cell
) -> torch.Tensor:
    """One layer and direction, step by step in its reading order, from ``h`` ``(H_out,)`` (and
    ``c`` ``(H,)``): writes every h_t into ``hidden`` ``(T, H_out)`` (c_t into ``cell``
    ``(T, H)``) and returns the gates ``(T, G, H)`` at the input positions (rows in PyTorch's
    order; not written for the vanilla RNN). ``clamps`` apply at ``t >= from_step``."""
    kind = kind_of(rnn)
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    T = layer_in.shape[0]
    xw = F.linear(layer_in, w_ih, b_ih)  # (T, G·H), every step's input projection at once
    if kind != "gru" and b_hh is not None:
        xw += b_hh  # RNN and LSTM add b_hh outside any gate: once, not at every step
    act = layer_in.new_empty(T, CELLS[kind].G, rnn.hidden_size)  # (T, G, H) post-activation
    for t in range(T - 1, -1, -1) if reverse else range(T):
        fixed = clamps if t >= from_step else None
        if kind == "rnn":
            h = rnn_act(torch.addmv(xw[t], w_hh, h), rnn.nonlinearity)  # (H,)
        elif kind == "lstm":
            pre = torch.addmv(xw[t], w_hh, h, out=act[t].view(-1))  # (4H,) rows i f g o
            h, c = lstm_state(*lstm_gates(pre, fixed=fixed, out=pre), c)
            h = h if w_hr is None else w_hr @ h  # (H_out,)
            cell[t] = c
        else:
            r, z, n = gru_gates(xw[t], F.linear(h, w_hh, b_hh), fixed=fixed)
            act[t, 0], act[t, 1], act[t, 2] = r, z, n
            h = gru_state(z, n, h)
        hidden[t] = h
    return act
