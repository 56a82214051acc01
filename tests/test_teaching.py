"""explorer.teaching: every displayed equation, name and symbol written once, in LaTeX and HTML."""

from __future__ import annotations

import re

import pytest

from explorer.config import CELLS
from explorer.teaching import (
    EQUATIONS,
    GATE_NAMES,
    HTML,
    HTML_ITALIC,
    LATEX,
    TEXTBOOK_EQUATIONS,
    bias,
    equations,
    gate_line,
    weight,
)


def test_symbols_in_each_notation():
    assert LATEX.sym(*weight("i", "f")) == "W_{if}" and LATEX.of("x") == "x_t"
    assert LATEX.of("h_prev") == "h_{t-1}" and LATEX.sym(*bias("", "i")) == "b_i"
    assert HTML.sym(*weight("h", "n")) == "W<sub>hn</sub>"
    assert HTML.of("c_prev") == "c<sub>t−1</sub>"  # a true minus sign in HTML
    assert HTML_ITALIC.sym(*bias("i", "g")) == "<i>b</i><sub>ig</sub>"
    assert GATE_NAMES == {
        "i": "input gate i_t",
        "f": "forget gate f_t",
        "g": "cell candidate g_t",
        "o": "output gate o_t",
        "r": "reset gate r_t",
        "z": "update gate z_t",
        "n": "new gate n_t",
    }


def test_displayed_lines_written_out():
    """PyTorch's forms (two biases, the GRU's reset after W_hn h + b_hn) and the textbook's."""
    assert EQUATIONS["lstm"][1] == r"f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})"
    assert EQUATIONS["lstm"][4] == (
        r"c_t = f_t \odot c_{t-1} + i_t \odot g_t \qquad h_t = o_t \odot \tanh(c_t)"
    )
    assert EQUATIONS["gru"][2] == (
        r"n_t = \tanh\left(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})\right)"
    )
    assert EQUATIONS["gru"][3] == r"h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}"
    assert EQUATIONS["rnn"][0].startswith(r"h_t = \tanh\left(W_{ih}\, x_t + b_{ih} + W_{hh}\, ")
    assert TEXTBOOK_EQUATIONS["lstm"][0] == r"i_t = \sigma(W_{xi} x_t + W_{hi} h_{t-1} + b_i)"
    assert TEXTBOOK_EQUATIONS["gru"][2] == (
        r"\tilde h_t = \tanh\left(W_{xh} x_t + W_{hh} (r_t \odot h_{t-1}) + b_h\right)"
    )


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("textbook", [False, True])
def test_without_bias_only_the_head_keeps_one(cell, textbook):
    lines = equations(cell, textbook=textbook, bias=False)
    assert len(lines) == len(equations(cell, textbook=textbook))
    assert [line for line in lines if "b_" in line] == [
        line for line in lines if line.startswith("y_t")
    ]


def _latex_to_html(line: str) -> str:
    """An independent reading of a LaTeX line as Plotly's HTML, for the test below."""
    for tex, html in [(r"\left", ""), (r"\right", ""), (r"\,", ""), (r"\sigma", "σ")]:
        line = line.replace(tex, html)
    line = line.replace(r"\tanh", "tanh").replace(r"\odot", "⊙").replace("t-1", "t−1")
    return re.sub(r"_(?:\{([^}]*)\}|(\w))", lambda m: f"<sub>{m[1] or m[2]}</sub>", line)


@pytest.mark.parametrize("cell", list(CELLS))
def test_hover_html_is_the_displayed_latex(cell):
    """The diagram's HTML and the page's LaTeX are one line in two notations."""
    gates = CELLS[cell].gates or ("h",)
    for k, line in zip(gates, EQUATIONS[cell]):
        assert gate_line(cell, k, HTML) == _latex_to_html(line.split(r"\quad")[0])


def test_article_as_the_label_is_spoken():
    from explorer.teaching import article

    assert [article(w) for w in ("RNN", "LSTM", "GRU", "Vanilla RNN")] == [
        "an RNN",
        "an LSTM",
        "a GRU",
        "a Vanilla RNN",
    ]
