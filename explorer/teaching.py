"""Teaching text: the equations of each cell in LaTeX, textbook and PyTorch forms.

Sources: PyTorch's ``nn.RNN``/``nn.LSTM``/``nn.GRU`` documentation (the two-bias forms, gate
order i f g o and r z n); Hochreiter & Schmidhuber (1997) and Gers et al. (2000) for the LSTM with
a forget gate; Cho et al. (2014) for the GRU, whose reset gate PyTorch applies after the
matmul ``W_hn h + b_hn``.
"""

from __future__ import annotations

import re

TEXTBOOK_EQUATIONS: dict[str, list[str]] = {
    "rnn": [
        r"h_t = f\left(W_{hh}\, h_{t-1} + W_{xh}\, x_t + b_h\right)",
        r"y_t = g\left(W_{hy}\, h_t + b_y\right)",
    ],
    "lstm": [
        r"i_t = \sigma(W_{xi} x_t + W_{hi} h_{t-1} + b_i)",
        r"f_t = \sigma(W_{xf} x_t + W_{hf} h_{t-1} + b_f)",
        r"g_t = \tanh(W_{xg} x_t + W_{hg} h_{t-1} + b_g)",
        r"o_t = \sigma(W_{xo} x_t + W_{ho} h_{t-1} + b_o)",
        r"c_t = f_t \odot c_{t-1} + i_t \odot g_t \qquad h_t = o_t \odot \tanh(c_t)",
        r"y_t = W_{hy}\, h_t + b_y",
    ],
    "gru": [
        r"r_t = \sigma(W_{xr} x_t + W_{hr} h_{t-1} + b_r)",
        r"z_t = \sigma(W_{xz} x_t + W_{hz} h_{t-1} + b_z)",
        r"\tilde h_t = \tanh\left(W_{xh} x_t + W_{hh} (r_t \odot h_{t-1}) + b_h\right)",
        r"h_t = z_t \odot h_{t-1} + (1 - z_t) \odot \tilde h_t",
        r"y_t = W_{hy}\, h_t + b_y",
    ],
}

EQUATIONS: dict[str, list[str]] = {
    "rnn": [
        r"h_t = \tanh\left(W_{ih}\, x_t + b_{ih} + W_{hh}\, h_{t-1} + b_{hh}\right)"
        r"\quad(\text{or ReLU})",
        r"y_t = W_{hy}\, h_t + b_y \quad(\texttt{head})",
    ],
    "lstm": [
        r"i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})",
        r"f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})",
        r"g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg})",
        r"o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})",
        r"c_t = f_t \odot c_{t-1} + i_t \odot g_t \qquad h_t = o_t \odot \tanh(c_t)",
    ],
    "gru": [
        r"r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})",
        r"z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})",
        r"n_t = \tanh\left(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\right)",
        r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}",
    ],
}


def equations(cell: str, *, textbook: bool = False, bias: bool = True) -> list[str]:
    """The LaTeX lines of ``cell``'s equations, textbook (one bias) or PyTorch (two biases);
    with ``bias=False`` the recurrent layer's bias terms are dropped (the head keeps ``b_y``)."""
    lines = (TEXTBOOK_EQUATIONS if textbook else EQUATIONS)[cell]
    if bias:
        return list(lines)
    return [
        line if line.startswith("y_t") else re.sub(r"\s*\+\s*b_\{?\w+\}?", "", line)
        for line in lines
    ]


def gate_equation(cell: str, gate: str) -> str:
    """The LaTeX line of ``gate`` (``"i"`` … ``"n"``, or ``"h"`` for the vanilla RNN) in
    :data:`EQUATIONS`, the one displayed home of the equations (run in :mod:`explorer.cells`).

    Raises:
        KeyError: ``cell`` has no such gate.
    """
    for line in EQUATIONS[cell]:
        if line.startswith(f"{gate}_t = "):
            return line.split(r"\quad")[0]
    raise KeyError(f"{cell} has no gate {gate!r}")


_HTML = [  # LaTeX -> the HTML Plotly's hover labels render, in order
    (r"\left", ""),
    (r"\right", ""),
    (r"\,", ""),
    (r"\sigma", "σ"),
    (r"\tanh", "tanh"),
    (r"\odot", "⊙"),
    ("t-1", "t−1"),
]


def latex_html(line: str) -> str:
    """A line of :data:`EQUATIONS` in Plotly's HTML (the diagram's hover text):
    ``W_{ii} x_t`` -> ``W<sub>ii</sub> x<sub>t</sub>``, ``\\sigma`` -> σ, ``\\odot`` -> ⊙."""
    for tex, html in _HTML:
        line = line.replace(tex, html)
    return re.sub(r"_(?:\{([^}]*)\}|(\w))", lambda m: f"<sub>{m[1] or m[2]}</sub>", line)


PROJECTION = r"h_t = W_{hr}\,\big(o_t \odot \tanh(c_t)\big) \quad (\texttt{proj\_size} > 0)"


def article(word: str) -> str:
    """``"an LSTM"``, ``"a GRU"``, ``"a Vanilla RNN"``: the article as the name is spoken."""
    return ("an " if word[:1] in "AEIOL" else "a ") + word  # L is spoken "el"


TWO_BIASES = (
    "**Why PyTorch has two biases.** PyTorch computes the input part $W_{ih} x_t + b_{ih}$ and "
    "the recurrent part $W_{hh} h_{t-1} + b_{hh}$ as two separate matrix products, each with its own "
    "bias (the parameter layout of NVIDIA's cuDNN, which PyTorch follows so both can share "
    "weights). For the vanilla RNN and the LSTM the two biases only ever appear as a sum, so "
    "the textbook's single $b_h = b_{ih} + b_{hh}$ computes exactly the same function: the second "
    "bias adds G·H parameters per layer and direction (G = 1 RNN, 4 LSTM, 3 GRU) but no "
    "expressive power. The GRU is the exception: $b_{hn}$ sits inside "
    "$r_t \\odot (W_{hn} h_{t-1} + b_{hn})$, scaled by the reset gate, so it cannot be merged into "
    "$b_{in}$. PyTorch's GRU also resets *after* the product with $W_{hn}$, where Cho et al. (2014) "
    "and most textbooks reset $h_{t-1}$ before it."
)


def format_bytes(n: int) -> str:
    """``1408 -> '1.4 kB'``, ``900 -> '900 B'``: decimal (SI) units, one decimal."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:,} B"
