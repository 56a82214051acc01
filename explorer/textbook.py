"""The from-scratch cells the Learn page shows: each cell's equations written out gate by gate
in the textbook's form, next to ``torch.nn`` (d2l's "from scratch" and "concise" split).

A second copy of the equations, on purpose. The app runs the cells through
:mod:`explorer.cells` (``rnn_step``, ``lstm_step``, ``gru_step``), written for PyTorch's layout
and for speed (gate rows stacked, activations in place, the what-if clamps). These are written
for reading: row vectors, one bias per gate, d2l's names ``W_xi, W_hi, b_i`` (the
:data:`explorer.teaching.TEXTBOOK_EQUATIONS` beside them), one line per equation. The lesson
is that such a loop, written with no help from torch or from :mod:`explorer.cells`, equals
``torch.nn`` once the weights are transposed and the biases summed: calling
:func:`explorer.cells.lstm_step` here would show the reader a call instead of the equations and
turn the comparison into the check ``tests/test_cells.py`` already makes.

The tutorial this project grew from writes the vanilla RNN::

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)        y_t = h_t W_hy + b_y

``torch.nn.RNN`` stores ``weight_ih`` as ``(H, input_size)`` and multiplies from the left
(``W_ih x_t``), with two biases. So ``W_xh = weight_ih.T``, ``W_hh(textbook) = weight_hh.T`` and
``b_h = bias_ih + bias_hh`` give the same numbers. Every ``from_torch`` gives a cell whose
``forward`` equals the torch module's output to float32 rounding (tests/test_textbook.py).
Shapes follow the legend of :mod:`explorer.cells`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


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
