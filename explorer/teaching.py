"""The displayed equations of each cell, and every name and symbol in them, written once.

Here live each quantity's name (:data:`NAMES`: "forget gate") and symbol (:data:`SYMBOLS`:
``f_t``, ``h_{t-1}``; :func:`weight`, :func:`bias`: ``W_{if}``, ``b_{hf}``), and the lines that
put them together (:func:`gate_line`, :func:`state_lines`), written in LaTeX or HTML by a
:class:`Notation`. Everything that shows an equation draws from them: the Cell and Learn pages
(:func:`equations`, :data:`EQUATIONS`, textbook and PyTorch forms), the cell diagram's hover
text (:mod:`explorer.diagram`), the equations with numbers and the step player's
(:mod:`explorer.equations`), the charts' titles (:data:`GATE_NAMES`). The equations that run
are :mod:`explorer.cells`.

Sources: PyTorch's ``nn.RNN``/``nn.LSTM``/``nn.GRU`` documentation (the two-bias forms, gate
order i f g o and r z n); Hochreiter & Schmidhuber (1997) and Gers et al. (2000) for the LSTM with
a forget gate; Cho et al. (2014) for the GRU, whose reset gate PyTorch applies after the
matmul ``W_hn h + b_hn``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .config import CELLS, TANH_GATES

# ---------------------------------------------------------------- symbols: the one home

#: each quantity's symbol as (letter, subscript): the input, the states and every gate
#: (PyTorch's and the papers' letters: h_t, c_t, i f g o, r z n)
SYMBOLS: dict[str, tuple[str, str]] = {
    "x": ("x", "t"),
    "h": ("h", "t"),
    "h_prev": ("h", "t-1"),
    "c": ("c", "t"),
    "c_prev": ("c", "t-1"),
    "y": ("y", "t"),
    **{k: (k, "t") for spec in CELLS.values() for k in spec.gates},
}

#: each quantity's name (the one name table; gate rows are ordered by ``CellSpec.gates``)
NAMES: dict[str, str] = {
    "h": "hidden state",
    "c": "cell state",
    "i": "input gate",
    "f": "forget gate",
    "g": "cell candidate",
    "o": "output gate",
    "r": "reset gate",
    "z": "update gate",
    "n": "new gate",
}


def label(key: str) -> str:
    """``"forget gate f_t"``: a quantity's name and symbol as plain text (chart titles)."""
    letter, sub = SYMBOLS[key]
    return f"{NAMES[key]} {letter}_{sub}"


#: each gate's name and symbol, ``{"f": "forget gate f_t", …}``
GATE_NAMES: dict[str, str] = {k: label(k) for spec in CELLS.values() for k in spec.gates}


def weight(side: str, gate: str) -> tuple[str, str]:
    """The weight that multiplies ``side`` into ``gate``, as (letter, subscript): PyTorch's
    ``W_{ii}`` (side ``"i"``, the input; ``"h"``, the hidden state), the textbook's ``W_{xi}``
    (side ``"x"``). The vanilla RNN's one "gate" is ``h`` (``W_{ih}``, ``W_{hh}``, ``W_{xh}``);
    the head is ``W_{hy}``, the projection ``W_{hr}``."""
    return "W", side + gate


def bias(side: str, gate: str) -> tuple[str, str]:
    """PyTorch's two biases of ``gate``, ``b_{ii}`` and ``b_{hi}``; ``side=""`` gives the
    textbook's one bias ``b_i``."""
    return "b", side + gate


@dataclass(frozen=True)
class Notation:
    """How one medium writes the symbols: LaTeX (KaTeX, ``st.latex``) or HTML (Plotly's hover
    text, the diagram; ``italic`` letters in the step player's equations)."""

    latex: bool
    italic: bool = False

    def sym(self, letter: str, sub: str = "") -> str:
        """``W_{ii}``, ``x_t`` / ``W<sub>ii</sub>``, ``h<sub>t−1</sub>`` (a true minus)."""
        if self.latex:
            if not sub:
                return letter
            return f"{letter}_{sub}" if len(sub) == 1 else f"{letter}_{{{sub}}}"
        letter = f"<i>{letter}</i>" if self.italic else letter
        return letter + (f"<sub>{sub.replace('-', '−')}</sub>" if sub else "")

    def of(self, key: str) -> str:
        """The symbol of quantity ``key`` (:data:`SYMBOLS`)."""
        return self.sym(*SYMBOLS[key])

    def act(self, name: str) -> str:
        """The activation ``"sigmoid"``, ``"tanh"`` or ``"relu"`` as this medium writes it."""
        if self.latex:
            return {"sigmoid": r"\sigma", "tanh": r"\tanh", "relu": r"\operatorname{ReLU}"}[name]
        return {"sigmoid": "σ", "tanh": "tanh", "relu": "ReLU"}[name]

    @property
    def odot(self) -> str:
        return r"\odot" if self.latex else "⊙"

    @property
    def minus(self) -> str:
        return "-" if self.latex else "−"


LATEX = Notation(latex=True)
HTML = Notation(latex=False)
HTML_ITALIC = Notation(latex=False, italic=True)


def activation(cell: str, gate: str, nonlinearity: str = "tanh") -> str:
    """``"sigmoid"``, ``"tanh"`` or ``"relu"``: the function that squashes ``gate`` (the vanilla
    RNN's ``h`` takes ``nonlinearity``)."""
    if cell == "rnn":
        return nonlinearity
    return "tanh" if gate in TANH_GATES else "sigmoid"


#: ``term(key, symbol, first)`` writes one summand of a gate's pre-activation: ``key`` names its
#: number as :func:`explorer.equations.unit_terms_over_time` does (``"f.x"``, ``"f.bi"``,
#: ``"f.h"``, ``"f.bh"``; the textbook's one bias is ``"f.b"``), ``symbol`` is its symbol,
#: ``first`` says it opens a sum (a negative number after it is put in parentheses)
Term = Callable[[str, str, bool], str]


def _symbol_only(key: str, symbol: str, first: bool) -> str:
    """The summand as its symbol alone (the equations without numbers)."""
    return symbol


def gate_sum(
    cell: str,
    gate: str,
    n: Notation,
    *,
    term: Term = _symbol_only,
    bias_terms: bool = True,
    textbook: bool = False,
    sep: str = " ",
    reset: str | None = None,
    product: str | None = None,
) -> str:
    r"""The inside of ``gate``'s activation, ``W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi}``
    (PyTorch's two biases) or ``W_{xi} x_t + W_{hi} h_{t-1} + b_i`` (``textbook``), each
    summand written by ``term``; ``sep`` goes between a weight and its vector. PyTorch's GRU
    ``n`` scales the recurrent part by the reset gate, ``r_t \odot (W_{hn} h_{t-1} + b_{hn})``:
    ``reset`` and ``product`` replace ``r_t`` and ``\odot`` (numbers in their place)."""

    def times(side: str, vector: str) -> str:  # W_{ii} x_t
        return n.sym(*weight(side, gate)) + sep + n.of(vector)

    def b(side: str) -> str:  # b_{ii}; the textbook's b_i for side ""
        return n.sym(*bias(side, gate))

    x_side = term(f"{gate}.x", times("x" if textbook else "i", "x"), True)
    if textbook:  # one bias, after both products
        one = f" + {term(f'{gate}.b', b(''), False)}" if bias_terms else ""
        return f"{x_side} + {term(f'{gate}.h', times('h', 'h_prev'), False)}{one}"
    if bias_terms:
        x_side += f" + {term(f'{gate}.bi', b('i'), False)}"
    reset_after = cell == "gru" and gate == "n"  # the reset gate scales W_hn h + b_hn
    h_side = term(f"{gate}.h", times("h", "h_prev"), reset_after)
    if bias_terms:
        h_side += f" + {term(f'{gate}.bh', b('h'), False)}"
    if reset_after:
        return f"{x_side} + {reset or n.of('r')} {product or n.odot} ({h_side})"
    return f"{x_side} + {h_side}"


def gate_line(
    cell: str,
    gate: str,
    n: Notation,
    *,
    nonlinearity: str = "tanh",
    big: bool = False,
    **kwargs,
) -> str:
    r"""``i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})``: ``gate``'s equation in
    notation ``n`` (:func:`gate_sum` for the keyword arguments); ``big`` parentheses are LaTeX's
    ``\left( … \right)``."""
    inside = gate_sum(cell, gate, n, **kwargs)
    opened, closed = (r"\left(", r"\right)") if big and n.latex else ("(", ")")
    return f"{n.of(gate)} = {n.act(activation(cell, gate, nonlinearity))}{opened}{inside}{closed}"


def numbered_gate_line(
    cell: str,
    gate: str,
    n: Notation,
    *,
    under: Term,
    number: Callable[[str, bool], str],
    product: str,
    bias_terms: bool = True,
    nonlinearity: str = "tanh",
) -> str:
    r"""``gate``'s line with its numbers: each summand's number over its symbol (``under``), then
    ``= act(pre) = value``; the GRU's ``n`` first shows its sum in numbers,
    ``= 	anh(x + b + r · (h + b))``. ``number(key, first)`` writes the number named ``key``
    (``"f.x"`` … ``"f.pre"``, ``"f.val"``, ``"r.val"``; ``first`` when it opens a sum, so that
    a negative summand after it can be put in parentheses); ``product`` is the medium's ``·``."""
    act = n.act(activation(cell, gate, nonlinearity))
    line = gate_line(
        cell, gate, n, nonlinearity=nonlinearity, term=under, bias_terms=bias_terms, sep=""
    )
    if cell == "gru" and gate == "n":  # the reset in numbers: r · (W_hn h + b_hn)
        inside = gate_sum(
            cell,
            gate,
            n,
            term=lambda key, label, first: number(key, first),
            bias_terms=bias_terms,
            reset=number("r.val", True),
            product=product,
        )
        line += f" = {act}({inside})"
    return f"{line} = {act}({number(f'{gate}.pre', True)}) = {number(f'{gate}.val', True)}"


def state_lines(cell: str, n: Notation, product: str) -> list[str]:
    r"""The state updates with ``product`` between factors (``" \odot "``, or ``" "`` in the
    lines with numbers): ``c_t = f_t c_{t-1} + i_t g_t`` and ``h_t = o_t \tanh(c_t)`` (LSTM),
    ``h_t = (1 - z_t) n_t + z_t h_{t-1}`` (GRU); none for the vanilla RNN."""
    s, p = n.of, product
    if cell == "lstm":
        tanh_c = f"{n.act('tanh')}({s('c')})"
        return [
            f"{s('c')} = {s('f')}{p}{s('c_prev')} + {s('i')}{p}{s('g')}",
            f"{s('h')} = {s('o')}{p}{tanh_c}",
        ]
    if cell == "gru":
        return [f"{s('h')} = (1 {n.minus} {s('z')}){p}{s('n')} + {s('z')}{p}{s('h_prev')}"]
    return []


def head_line(n: Notation, sep: str = " ") -> str:
    """``y_t = W_{hy} h_t + b_y``: the linear head on h_t."""
    return f"{n.of('y')} = {n.sym(*weight('h', 'y'))}{sep}{n.of('h')} + {n.sym(*bias('', 'y'))}"


# ---------------------------------------------------------------- the displayed equations


def equations(cell: str, *, textbook: bool = False, bias: bool = True) -> list[str]:
    """The LaTeX lines of ``cell``'s equations, textbook (one bias) or PyTorch (two biases);
    with ``bias=False`` the recurrent layer's bias terms are dropped (the head keeps ``b_y``).
    Each line is written from :data:`SYMBOLS` by :func:`gate_line` and :func:`state_lines`,
    as the diagram's hover text and the numbers of :mod:`explorer.equations` are."""
    if textbook:
        return _textbook(cell, bias)
    if cell == "rnn":
        h = gate_line("rnn", "h", LATEX, bias_terms=bias, sep=r"\, ", big=True)
        return [h + r"\quad(\text{or ReLU})", head_line(LATEX, r"\, ") + r" \quad(\texttt{head})"]
    lines = [gate_line(cell, k, LATEX, bias_terms=bias, big=k == "n") for k in CELLS[cell].gates]
    updates = state_lines(cell, LATEX, r" \odot ")
    return lines + ([r" \qquad ".join(updates)] if cell == "lstm" else updates)


def _textbook(cell: str, with_bias: bool) -> list[str]:
    r"""The textbook's form (one bias, d2l's names ``W_{xi}, W_{hi}, b_i``); its RNN is the
    tutorial's ``f``/``g`` form, its GRU resets ``h_{t-1}`` before the product (Cho et al. 2014)
    and names the candidate ``\tilde h_t``."""
    s = LATEX.of
    W = lambda side, gate: LATEX.sym(*weight(side, gate))  # noqa: E731 - a short local name
    b_h = f" + {LATEX.sym(*bias('', 'h'))}" if with_bias else ""
    head = head_line(LATEX, r"\, ")
    if cell == "rnn":
        inside = rf"{W('h', 'h')}\, {s('h_prev')} + {W('x', 'h')}\, {s('x')}{b_h}"
        return [
            rf"{s('h')} = f\left({inside}\right)",
            head.replace(" = ", r" = g\left(", 1) + r"\right)",
        ]
    lines = [
        gate_line(cell, k, LATEX, textbook=True, bias_terms=with_bias)
        for k in CELLS[cell].gates
        if k != "n"  # the GRU's candidate below: reset before the product
    ]
    if cell == "lstm":
        return lines + [r" \qquad ".join(state_lines(cell, LATEX, r" \odot ")), head]
    tilde, reset = r"\tilde h_t", rf"{s('r')} \odot {s('h_prev')}"
    return lines + [
        rf"{tilde} = \tanh\left({W('x', 'h')} {s('x')} + {W('h', 'h')} ({reset}){b_h}\right)",
        rf"{s('h')} = {s('z')} \odot {s('h_prev')} + (1 - {s('z')}) \odot {tilde}",
        head,
    ]


EQUATIONS: dict[str, list[str]] = {cell: equations(cell) for cell in CELLS}
TEXTBOOK_EQUATIONS: dict[str, list[str]] = {cell: equations(cell, textbook=True) for cell in CELLS}


PROJECTION = r"h_t = W_{hr}\,\big(o_t \odot \tanh(c_t)\big) \quad (\texttt{proj\_size} > 0)"


def article(word: str) -> str:
    """``"an LSTM"``, ``"an RNN"``, ``"a GRU"``, ``"a Vanilla RNN"``: the article as a cell's
    label or acronym is spoken (letters read as their names: L "el", R "ar")."""
    return ("an " if word[:1] in "AEFHILMNORSX" else "a ") + word


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
