"""What-if clamps: run a recurrent module with some gates forced to constants.

"What if the forget gate were always open?" — :func:`clamped_trace` runs a ``torch.nn`` RNN,
LSTM or GRU over one sequence with a step loop of PyTorch's documented equations, in which each
named gate is replaced by a constant from a chosen input position on. Everything downstream (the
cell state, the hidden state, the next layer) sees the clamped value.

Shape legend (as in ``torch/nn/modules/rnn.py`` and :mod:`explorer.trace`):
    T      time steps
    L      num_layers
    D      directions (2 if bidirectional else 1)
    H      hidden_size
    H_out  proj_size if proj_size > 0 else hidden_size
    G      gates per cell: 1 (RNN), 4 (LSTM), 3 (GRU)

Equations (PyTorch docs for ``nn.RNN``, ``nn.LSTM`` and ``nn.GRU``; Hochreiter & Schmidhuber 1997;
Cho et al. 2014 with PyTorch's placement of the reset gate), a clamped gate replaced by its
constant before it is used::

    RNN   h' = tanh or relu(W_ih x + b_ih + W_hh h + b_hh)
    LSTM  i = σ(W_ii x + b_ii + W_hi h + b_hi)     GRU  r = σ(W_ir x + b_ir + W_hr h + b_hr)
          f = σ(W_if x + b_if + W_hf h + b_hf)          z = σ(W_iz x + b_iz + W_hz h + b_hz)
          g = tanh(W_ig x + b_ig + W_hg h + b_hg)       n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
          o = σ(W_io x + b_io + W_ho h + b_ho)          h' = (1 - z) ⊙ n + z ⊙ h
          c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')  (then h' = W_hr h' with proj_size)

How it stays fast: the input projections ``x W_ih^T + b_ih`` of every step are one matmul per
layer and direction; only the recurrent part ``W_hh h_{t-1}`` runs in the Python loop over time.
"""

from __future__ import annotations

from numbers import Integral, Real

import torch
import torch.nn as nn

from .config import CELLS
from .trace import Trace, kind_of, layer_weights

#: gate names per cell, in PyTorch's row order of ``weight_ih`` / ``weight_hh``
GATES: dict[str, str] = {k: "".join(spec.gates) for k, spec in CELLS.items()}  # "ifgo", "rzn", ""
#: gates squashed by tanh take values in [-1, 1]; the others are sigmoids in [0, 1]
TANH_GATES = frozenset("gn")


def _check_clamps(kind: str, clamps: dict[str, float]) -> dict[str, float]:
    """Validate ``clamps`` for a ``kind`` cell and return them as ``{name: float}``."""
    valid = GATES[kind]
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


def _check_state(name: str, state, shape: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
    """``state`` (tensor or array-like) as a ``shape`` tensor of ``like``'s dtype; zeros if ``None``."""
    if state is None:
        return like.new_zeros(shape)
    state = torch.as_tensor(state)
    if tuple(state.shape) != shape:
        raise ValueError(
            f"{name} must have shape (num_layers·D, size) = {shape}, got {tuple(state.shape)}"
        )
    return state.to(like.dtype)


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
    x = torch.as_tensor(x)
    if x.dim() != 2 or x.shape[1] != rnn.input_size or x.shape[0] < 1:
        raise ValueError(
            f"x must have shape (T, {rnn.input_size}) with T >= 1, got {tuple(x.shape)}"
        )
    T = x.shape[0]
    if isinstance(from_step, bool) or not isinstance(from_step, Integral) or not 0 <= from_step < T:
        raise ValueError(f"from_step must be an int in 0..{T - 1} (T = {T}), got {from_step!r}")
    from_step = int(from_step)  # numpy ints are fine
    if kind != "lstm" and c0 is not None:
        raise ValueError(
            f"c0 is the LSTM cell state; {'a GRU' if kind == 'gru' else 'an RNN'} has none"
        )

    L, D, H = rnn.num_layers, (2 if rnn.bidirectional else 1), rnn.hidden_size
    H_out = getattr(rnn, "proj_size", 0) or H
    x = x.to(rnn.weight_ih_l0.dtype)
    h0 = _check_state("h0", h0, (L * D, H_out), x)
    c0 = _check_state("c0", c0, (L * D, H), x) if kind == "lstm" else None

    names = GATES[kind]
    G = len(names) or 1
    hidden = x.new_empty(L, D, T, H_out)
    cell = x.new_empty(L, D, T, H) if kind == "lstm" else None
    gates = {k: x.new_empty(L, D, T, H) for k in names}
    # which rows of a (G, H) gate block are clamped, and to what
    rows = torch.tensor([names.index(k) for k in clamps], dtype=torch.long)  # (C,)
    values = torch.tensor(list(clamps.values()), dtype=x.dtype).unsqueeze(1).expand(-1, H)  # (C, H)

    layer_in = x  # (T, in_l): x for layer 0, the previous layer's output after
    for layer in range(L):
        for d in range(D):
            w_ih, w_hh, b_ih, b_hh, w_hr = layer_weights(rnn, layer, d)
            xw = layer_in @ w_ih.t()  # (T, G·H), every step's input projection at once
            if b_ih is not None:
                xw += b_ih
            if kind != "gru" and b_hh is not None:
                xw += b_hh  # RNN and LSTM add b_hh outside any gate; GRU's b_hn sits inside r ⊙ (…)
            steps = range(T) if d == 0 else range(T - 1, -1, -1)
            state = (h0[layer * D + d], c0[layer * D + d] if c0 is not None else None)
            act = x.new_empty(T, G, H)  # (T, G, H) post-activation gates in reading order's slots
            for t in steps:
                clamp_now = bool(clamps) and t >= from_step
                if kind == "lstm":
                    h, c = _lstm_step(xw[t], w_hh, w_hr, state, act[t], rows, values, clamp_now)
                    cell[layer, d, t] = c
                elif kind == "gru":
                    h = _gru_step(xw[t], w_hh, b_hh, state[0], act[t], rows, values, clamp_now)
                    c = None
                else:
                    h = _rnn_step(xw[t], w_hh, state[0], rnn.nonlinearity)
                    c = None
                hidden[layer, d, t] = h
                state = (h, c)
            for g_idx, k in enumerate(names):
                gates[k][layer, d] = act[:, g_idx]
        layer_in = (
            hidden[layer].transpose(0, 1).reshape(T, D * H_out)
        )  # (T, D·H_out), torch's output
    return Trace(hidden=hidden, cell=cell, gates=gates, x=x, kind=kind)


def _rnn_step(xw_t, w_hh, h, nonlinearity: str):
    """One RNN step: ``xw_t`` ``(H,)`` already holds ``W_ih x_t + b_ih + b_hh``; ``h`` ``(H,)``."""
    pre = torch.addmv(xw_t, w_hh, h)  # (H,)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def _lstm_step(xw_t, w_hh, w_hr, state, act_t, rows, values, clamp_now: bool):
    """One LSTM step; writes the ``(4, H)`` gates i, f, g, o into ``act_t``; returns ``(h, c)``.

    ``xw_t`` ``(4H,)`` already holds ``W_ih x_t + b_ih + b_hh``; ``state`` is ``(h (H_out,), c (H,))``.
    """
    h, c = state
    pre = torch.addmv(xw_t, w_hh, h).view(4, -1)  # (4, H) rows i, f, g, o
    torch.sigmoid(pre, out=act_t)
    act_t[2] = torch.tanh(pre[2])  # g is the only tanh gate
    if clamp_now:
        act_t[rows] = values
    i, f, g, o = act_t
    c = f * c + i * g  # (H,)
    h = o * torch.tanh(c)  # (H,)
    if w_hr is not None:
        h = w_hr @ h  # (H_out,)
    return h, c


def _gru_step(xw_t, w_hh, b_hh, h, act_t, rows, values, clamp_now: bool):
    """One GRU step; writes the ``(3, H)`` gates r, z, n into ``act_t``; returns ``h``.

    ``xw_t`` ``(3H,)`` holds ``W_ih x_t + b_ih``; ``b_hh`` stays apart because the reset gate
    scales ``W_hn h + b_hn`` (PyTorch's placement, after the matmul).
    """
    hw = w_hh @ h if b_hh is None else torch.addmv(b_hh, w_hh, h)  # (3H,)
    x_r, x_z, x_n = xw_t.view(3, -1)  # each (H,)
    h_r, h_z, h_n = hw.view(3, -1)  # each (H,)
    torch.sigmoid(x_r + h_r, out=act_t[0])
    torch.sigmoid(x_z + h_z, out=act_t[1])
    if clamp_now:  # r must be clamped before it enters n
        act_t[rows] = values
    r, z = act_t[0], act_t[1]
    torch.tanh(x_n + r * h_n, out=act_t[2])
    if clamp_now:
        act_t[rows] = values
    n = act_t[2]
    return (1 - z) * n + z * h  # (H,)
