"""Each cell's equations, written once: the step functions every other module calls.

:func:`rnn_step`, :func:`lstm_step` and :func:`gru_step` advance a cell by one time step in
PyTorch's layout (the equations of the ``nn.RNN``/``nn.LSTM``/``nn.GRU`` docstrings, Hochreiter &
Schmidhuber 1997 with the forget gate of Gers et al. 2000, Cho et al. 2014 with PyTorch's placement
of the reset gate: after the product ``W_hn h + b_hn``)::

    RNN   h' = tanh or relu(W_ih x + b_ih + W_hh h + b_hh)
    LSTM  i = σ(W_ii x + b_ii + W_hi h + b_hi)    GRU  r = σ(W_ir x + b_ir + W_hr h + b_hr)
          f = σ(W_if x + b_if + W_hf h + b_hf)         z = σ(W_iz x + b_iz + W_hz h + b_hz)
          g = tanh(W_ig x + b_ig + W_hg h + b_hg)      n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
          o = σ(W_io x + b_io + W_ho h + b_ho)         h' = (1 - z) ⊙ n + z ⊙ h
          c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')  (then h' = W_hr h' with proj_size)

Shape legend (as in ``torch/nn/modules/rnn.py``; the one every module of the explorer uses):
    T      time steps
    L      num_layers
    D      directions (:func:`explorer.config.directions`: 2 if bidirectional else 1)
    H      hidden_size
    H_out  proj_size if proj_size > 0 else hidden_size
    G      gates per cell, :attr:`explorer.config.CellSpec.G`: 1 (RNN), 4 (LSTM), 3 (GRU)
    *      any leading batch dimensions: ``()`` for one step, ``(T,)`` or ``(T, B)`` for many

Weights are PyTorch's: ``W_ih`` ``(G·H, in)``, ``W_hh`` ``(G·H, H_out)``, biases ``(G·H,)`` or
``None``, rows stacked by gate in the order of ``CELLS[kind].gates`` (i f g o, r z n).
:func:`lstm_gates` and :func:`gru_gates` are the gate equations alone, for the callers that
compute the products ``W x`` for many steps at once (:mod:`explorer.trace`,
:mod:`explorer.clamps`, :mod:`explorer.training`); a gate named in ``fixed`` takes that value
before it is used (the what-if clamps).

The from-scratch cells that the Learn page shows, the same equations written out gate by gate in
the textbook's form, are in :mod:`explorer.textbook`: a second copy on purpose, checked against
``torch.nn`` (see there why).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .config import CELLS


def rnn_step(
    x: torch.Tensor,
    h: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
    nonlinearity: str = "tanh",
) -> torch.Tensor:
    """One vanilla RNN step: ``x`` ``(*, in)``, ``h`` ``(*, H)``; returns ``h'`` ``(*, H)``."""
    return rnn_act(F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh), nonlinearity)


def rnn_act(pre: torch.Tensor, nonlinearity: str = "tanh") -> torch.Tensor:
    """The vanilla RNN's activation of ``pre = W_ih x + b_ih + W_hh h + b_hh`` ``(*, H)``:
    ``tanh`` or ``relu`` (its one "gate", for callers that compute the products themselves)."""
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def lstm_gates(
    pre: torch.Tensor, *, fixed: dict[str, float] | None = None, out: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The LSTM gates ``i, f, g, o`` ``(*, H)`` each, from the pre-activations ``pre`` ``(*, 4H)``
    ``= W_ih x + b_ih + W_hh h + b_hh`` (rows i, f, g, o): σ, σ, tanh, σ.

    The activations are written into ``out`` ``(*, 4H)`` (``pre`` itself is allowed: in place)
    or a new tensor; the four returned tensors are views of it. ``fixed`` ``{gate: value}``
    replaces those gates by constants.
    """
    act = pre.clone() if out is None else out if out is pre else out.copy_(pre)
    # one view per gate (not Tensor.split, a Python-level function, nor ``...`` slices: the
    # what-if clamps call this once per step, where each extra tensor call costs microseconds)
    i, f, g, o = act.unflatten(-1, (4, -1)).unbind(-2)  # (*, H) each, rows i, f, g, o
    i.sigmoid_()
    f.sigmoid_()
    g.tanh_()  # the cell candidate
    o.sigmoid_()
    for name, value in (fixed or {}).items():
        (i, f, g, o)[CELLS["lstm"].gates.index(name)].fill_(value)
    return i, f, g, o


def lstm_state(i, f, g, o, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``c' = f ⊙ c + i ⊙ g`` and ``h' = o ⊙ tanh(c')`` (before any projection), ``(*, H)`` each;
    returns ``(h', c')``."""
    c = f * c + i * g  # (*, H) the cell state: long-lived memory
    return o * torch.tanh(c), c


def lstm_step(
    x: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
    w_hr: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step: ``x`` ``(*, in)``, ``h`` ``(*, H_out)``, ``c`` ``(*, H)``; returns
    ``(h' (*, H_out), c' (*, H))``; ``w_hr`` ``(H_out, H)`` is the ``proj_size`` projection."""
    pre = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)  # (*, 4H) rows i, f, g, o
    h, c = lstm_state(*lstm_gates(pre, out=pre), c)
    return (h if w_hr is None else F.linear(h, w_hr)), c


def gru_gates(
    gi: torch.Tensor, gh: torch.Tensor, *, fixed: dict[str, float] | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The GRU gates ``r, z, n`` ``(*, H)`` each from ``gi = W_ih x + b_ih`` and
    ``gh = W_hh h + b_hh`` ``(*, 3H)`` (rows r, z, n), kept apart because the reset gate scales
    ``W_hn h + b_hn`` (PyTorch's form). ``fixed`` ``{gate: value}`` replaces gates by constants,
    each before it is used (a fixed ``r`` enters ``n``)."""
    fixed = fixed or {}
    x_r, x_z, x_n = gi.chunk(3, dim=-1)  # each (*, H)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)  # reset gate
    z = torch.sigmoid(x_z + h_z)  # update gate
    r = r.fill_(fixed["r"]) if "r" in fixed else r
    z = z.fill_(fixed["z"]) if "z" in fixed else z
    n = torch.tanh(x_n + r * h_n)  # new gate: reset after the product W_hn h + b_hn
    n = n.fill_(fixed["n"]) if "n" in fixed else n
    return r, z, n


def gru_state(z: torch.Tensor, n: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``h' = (1 - z) ⊙ n + z ⊙ h``: keep z of the old state, take 1 - z of the new."""
    return (1 - z) * n + z * h


def gru_step(
    x: torch.Tensor,
    h: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
) -> torch.Tensor:
    """One GRU step: ``x`` ``(*, in)``, ``h`` ``(*, H)``; returns ``h'`` ``(*, H)``."""
    r, z, n = gru_gates(F.linear(x, w_ih, b_ih), F.linear(h, w_hh, b_hh))
    return gru_state(z, n, h)
