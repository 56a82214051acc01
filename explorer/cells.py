"""The textbook cells written out, for reading and for the "from scratch vs torch.nn" views.

The tutorial this project grew from writes the vanilla RNN with one bias and row vectors::

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)        y_t = h_t W_hy + b_y

``torch.nn.RNN`` stores ``weight_ih`` as ``(H, input_size)`` and multiplies from the left
(``W_ih x_t``), with two biases. So ``W_xh = weight_ih.T``, ``W_hh(textbook) = weight_hh.T`` and
``b_h = bias_ih + bias_hh`` give the same numbers.
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
    def from_torch(cls, rnn: torch.nn.RNN, layer: int = 0) -> "TextbookRNN":
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
