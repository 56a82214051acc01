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

The textbook cells below write the same equations gate by gate with one bias and row vectors,
for reading and for the "from scratch vs torch.nn" views. The tutorial this project grew from
writes the vanilla RNN::

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)        y_t = h_t W_hy + b_y

``torch.nn.RNN`` stores ``weight_ih`` as ``(H, input_size)`` and multiplies from the left
(``W_ih x_t``), with two biases. So ``W_xh = weight_ih.T``, ``W_hh(textbook) = weight_hh.T`` and
``b_h = bias_ih + bias_hh`` give the same numbers. Every ``from_torch`` gives a cell whose
``forward`` equals the torch module's output to float32 rounding (tests/test_lesson.py).
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class TextbookRNN:
    """One-bias vanilla RNN parameters in the tutorial's row-vector layout.

    Attributes:
        W_xh: ``(input_size, H)``.
        W_hh: ``(H, H)``.
        b_h: ``(H,)``.
        nonlinearity: ``"tanh"`` or ``"relu"``.
    """

    W_xh: torch.Tensor
    W_hh: torch.Tensor
    b_h: torch.Tensor
    nonlinearity: str = "tanh"

    @classmethod
    def from_torch(cls, rnn: torch.nn.RNN, layer: int = 0) -> TextbookRNN:
        """The textbook parameters equal to layer ``layer`` (forward direction) of ``rnn``.

        Raises:
            TypeError: ``rnn`` is not a ``torch.nn.RNN`` (LSTM and GRU have gates).
        """
        if type(rnn) is not torch.nn.RNN:
            raise TypeError(f"expected torch.nn.RNN, got {type(rnn).__name__}")
        w_ih = getattr(rnn, f"weight_ih_l{layer}").detach()
        w_hh = getattr(rnn, f"weight_hh_l{layer}").detach()
        H = rnn.hidden_size
        if rnn.bias:
            b_h = (getattr(rnn, f"bias_ih_l{layer}") + getattr(rnn, f"bias_hh_l{layer}")).detach()
        else:
            b_h = torch.zeros(H)
        return cls(w_ih.T.clone(), w_hh.T.clone(), b_h.clone(), rnn.nonlinearity)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        """Run the loop over ``x`` ``(T, input_size)``; returns every h_t, ``(T, H)``."""
        f = torch.tanh if self.nonlinearity == "tanh" else torch.relu
        h = torch.zeros(self.W_hh.shape[0]) if h0 is None else h0
        out = []
        for x_t in x:  # x_t: (input_size,)
            h = f(x_t @ self.W_xh + h @ self.W_hh + self.b_h)  # (H,)
            out.append(h)
        return torch.stack(out)


def _blocks(w: torch.Tensor, G: int) -> list[torch.Tensor]:
    """Split a PyTorch weight or bias stacked by gate (``(G·H, …)``) into its G blocks."""
    return list(w.detach().clone().chunk(G, dim=0))


def _torch_layer(rnn: torch.nn.Module, kind: type, layer: int):
    """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of layer ``layer`` (forward direction),
    zeros for the biases of a module built with ``bias=False``.

    Raises:
        TypeError: ``rnn`` is not exactly ``kind``.
        ValueError: an LSTM with ``proj_size`` (the textbook cell has no projection).
    """
    if type(rnn) is not kind:
        raise TypeError(f"expected torch.nn.{kind.__name__}, got {type(rnn).__name__}")
    if getattr(rnn, "proj_size", 0):
        raise ValueError("the textbook LSTM has no projection: build it with proj_size=0")
    w_ih = getattr(rnn, f"weight_ih_l{layer}")
    w_hh = getattr(rnn, f"weight_hh_l{layer}")
    if rnn.bias:
        return w_ih, w_hh, getattr(rnn, f"bias_ih_l{layer}"), getattr(rnn, f"bias_hh_l{layer}")
    zeros = torch.zeros(w_ih.shape[0])
    return w_ih, w_hh, zeros, zeros


@dataclass(frozen=True)
class TextbookLSTM:
    """An LSTM written out gate by gate, one bias per gate, in the tutorial's row-vector layout
    (Hochreiter & Schmidhuber 1997 with the forget gate of Gers et al. 2000; names as in d2l).

    ``W_x*`` are ``(input_size, H)``, ``W_h*`` ``(H, H)``, ``b_*`` ``(H,)`` for the gates
    i (input), f (forget), g (cell candidate) and o (output).
    """

    W_xi: torch.Tensor
    W_hi: torch.Tensor
    b_i: torch.Tensor
    W_xf: torch.Tensor
    W_hf: torch.Tensor
    b_f: torch.Tensor
    W_xg: torch.Tensor
    W_hg: torch.Tensor
    b_g: torch.Tensor
    W_xo: torch.Tensor
    W_ho: torch.Tensor
    b_o: torch.Tensor

    @classmethod
    def from_torch(cls, lstm: torch.nn.LSTM, layer: int = 0) -> TextbookLSTM:
        """The textbook parameters equal to layer ``layer`` (forward direction) of ``lstm``:
        PyTorch stacks the gates' rows in the order i, f, g, o; each block is transposed, and
        the two biases of a gate are summed (they only ever appear as a sum).

        Raises:
            TypeError: ``lstm`` is not a ``torch.nn.LSTM``.
            ValueError: ``lstm`` has ``proj_size > 0``.
        """
        w_ih, w_hh, b_ih, b_hh = _torch_layer(lstm, torch.nn.LSTM, layer)  # rows i, f, g, o
        W_x = [w.T for w in _blocks(w_ih, 4)]  # per gate (H, in) -> (in, H)
        W_h = [w.T for w in _blocks(w_hh, 4)]  # per gate (H, H), transposed
        b = _blocks(b_ih + b_hh, 4)  # per gate: the two biases summed, (H,)
        return cls(*(p for gate in zip(W_x, W_h, b) for p in gate))  # W_xi, W_hi, b_i, W_xf …

    def forward(
        self, x: torch.Tensor, h0: torch.Tensor | None = None, c0: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the loop over ``x`` ``(T, input_size)``; every h_t and c_t, ``(T, H)`` each."""
        H = self.W_hi.shape[0]
        h = torch.zeros(H) if h0 is None else h0  # h_0 (H,)
        c = torch.zeros(H) if c0 is None else c0  # c_0 (H,)
        hs, cs = [], []
        for x_t in x:  # x_t: (input_size,)
            i = torch.sigmoid(x_t @ self.W_xi + h @ self.W_hi + self.b_i)  # input gate
            f = torch.sigmoid(x_t @ self.W_xf + h @ self.W_hf + self.b_f)  # forget gate
            g = torch.tanh(x_t @ self.W_xg + h @ self.W_hg + self.b_g)  # cell candidate
            o = torch.sigmoid(x_t @ self.W_xo + h @ self.W_ho + self.b_o)  # output gate
            c = f * c + i * g  # the cell state: long-lived memory
            h = o * torch.tanh(c)  # (H,)
            hs.append(h)
            cs.append(c)
        return torch.stack(hs), torch.stack(cs)


@dataclass(frozen=True)
class TextbookGRU:
    """A GRU written out gate by gate in the tutorial's row-vector layout (Cho et al. 2014, with
    PyTorch's placement of the reset gate: after the product ``h W_hn + b_hn``).

    ``W_x*`` are ``(input_size, H)``, ``W_h*`` ``(H, H)``, biases ``(H,)`` for the gates
    r (reset), z (update) and n (new). ``b_r`` and ``b_z`` are PyTorch's two biases summed;
    the new gate keeps both, ``b_xn`` and ``b_hn``, because the reset gate scales ``b_hn``.
    """

    W_xr: torch.Tensor
    W_hr: torch.Tensor
    b_r: torch.Tensor
    W_xz: torch.Tensor
    W_hz: torch.Tensor
    b_z: torch.Tensor
    W_xn: torch.Tensor
    W_hn: torch.Tensor
    b_xn: torch.Tensor
    b_hn: torch.Tensor

    @classmethod
    def from_torch(cls, gru: torch.nn.GRU, layer: int = 0) -> TextbookGRU:
        """The textbook parameters equal to layer ``layer`` (forward direction) of ``gru``
        (rows stacked r, z, n in PyTorch).

        Raises:
            TypeError: ``gru`` is not a ``torch.nn.GRU``.
        """
        w_ih, w_hh, b_ih, b_hh = _torch_layer(gru, torch.nn.GRU, layer)  # rows r, z, n
        W_xr, W_xz, W_xn = (w.T for w in _blocks(w_ih, 3))  # per gate (H, in) -> (in, H)
        W_hr, W_hz, W_hn = (w.T for w in _blocks(w_hh, 3))  # per gate (H, H), transposed
        (b_ir, b_iz, b_in), (b_hr, b_hz, b_hn) = _blocks(b_ih, 3), _blocks(b_hh, 3)
        # r and z: the two biases summed; n keeps both (r_t scales b_hn)
        return cls(W_xr, W_hr, b_ir + b_hr, W_xz, W_hz, b_iz + b_hz, W_xn, W_hn, b_in, b_hn)

    def forward(self, x: torch.Tensor, h0: torch.Tensor | None = None) -> torch.Tensor:
        """Run the loop over ``x`` ``(T, input_size)``; returns every h_t, ``(T, H)``."""
        h = torch.zeros(self.W_hr.shape[0]) if h0 is None else h0  # h_0 (H,)
        hs = []
        for x_t in x:  # x_t: (input_size,)
            r = torch.sigmoid(x_t @ self.W_xr + h @ self.W_hr + self.b_r)  # reset gate
            z = torch.sigmoid(x_t @ self.W_xz + h @ self.W_hz + self.b_z)  # update gate
            n = torch.tanh(
                x_t @ self.W_xn + self.b_xn + r * (h @ self.W_hn + self.b_hn)
            )  # new gate: reset after W_hn
            h = (1 - z) * n + z * h  # keep z of the old state, take 1 - z of the new
            hs.append(h)
        return torch.stack(hs)
