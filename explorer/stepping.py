"""The numbers the Step-through view shows, as numpy arrays: one layer and direction of a
:class:`~explorer.trace.Trace` step by step, the chosen unit's equation terms, the cell
diagram's values and each step's label; the page only draws them.

Shapes: ``T`` time steps, ``H`` hidden size, ``H_out`` the size of ``h_t`` (``proj_size`` or
``H``); steps are counted ``t = 1…T`` and stored at index ``t - 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .config import CELLS
from .diagram import DIAGRAM_QUANTITIES
from .equations import unit_terms_over_time
from .models import forget_bias
from .textbook import TextbookRNN
from .trace import Trace


@dataclass(frozen=True)
class StepNumbers:
    """Every step's numbers of one layer, direction and unit.

    Attributes:
        quantities: ``{"h": (T, H_out), "c": (T, H), gate: (T, H) ...}`` (:meth:`Trace.quantities`).
        terms: ``{name: (T,)}``, the unit's equation terms (:func:`unit_terms_over_time`).
        diagram: ``{name: (T,)}``, the values the cell diagram shows, keys from
            ``DIAGRAM_QUANTITIES[cell]``.
        signal: ``(T,)`` feature 0 of the input, or ``None`` for a one-hot text.
        labels: one label a step, what it reads (``x_t = 0.250`` or ``input 'a'``).
    """

    quantities: dict[str, np.ndarray]
    terms: dict[str, np.ndarray]
    diagram: dict[str, np.ndarray]
    signal: np.ndarray | None
    labels: list[str]

    def at(self, t: int) -> dict[str, np.ndarray]:
        """``{name: (size,)}``: every quantity at step ``t`` (1…T)."""
        return {name: vals[t - 1] for name, vals in self.quantities.items()}

    def value_range(self) -> tuple[float, float]:
        """A fixed y range for the "values at step t" chart, the same at every step: 10 % past
        the lowest (at most 0) and highest (at least 1) value of any quantity at any step."""
        low = min(0.0, min(float(v.min()) for v in self.quantities.values()))
        high = max(1.0, max(float(v.max()) for v in self.quantities.values()))
        return 1.1 * low, 1.1 * high


def step_labels(x: torch.Tensor, alphabet: list[str] | None = None) -> list[str]:
    """One label a step of ``x`` ``(T, input_size)``: the character a one-hot row stands for
    (``alphabet`` given), else the step's first feature, ``x_t = 0.250``."""
    if alphabet:
        return [f"input {alphabet[int(k)]!r}" for k in x.argmax(dim=1)]
    return [f"x_t = {float(v):.3f}" for v in x[:, 0]]


@torch.no_grad()
def step_numbers(
    rnn: nn.Module,
    tr: Trace,
    x: torch.Tensor,
    *,
    cell: str,
    layer: int,
    direction: int,
    unit: int,
    h0: torch.Tensor | None = None,
    c0: torch.Tensor | None = None,
    alphabet: list[str] | None = None,
) -> StepNumbers:
    """:class:`StepNumbers` of ``rnn``'s run ``tr`` over ``x`` ``(T, input_size)`` (from ``h0``,
    ``c0``, each ``(L·D, size)``), for ``layer``, ``direction`` and ``unit``; ``alphabet`` is
    given when ``x`` is a one-hot text. Above layer 0, or for a text, ``x_t`` is a vector and
    the diagram does not show it."""
    quantities = {k: v.numpy() for k, v in tr.quantities(layer, direction).items()}
    terms = unit_terms_over_time(rnn, tr, layer=layer, direction=direction, unit=unit, h0=h0, c0=c0)
    terms = {k: v.numpy() for k, v in terms.items()}
    diagram = {k: terms[f"{k}.val"] for k in CELLS[cell].gates}
    diagram.update({k: terms[k] for k in ("h", "h_prev", "c", "c_prev") if k in terms})
    signal = None if alphabet else x[:, 0].numpy()
    if layer == 0 and signal is not None:
        diagram["x"] = signal
    diagram = {k: v for k, v in diagram.items() if k in DIAGRAM_QUANTITIES[cell]}
    return StepNumbers(quantities, terms, diagram, signal, step_labels(x, alphabet))


def hidden_layers(tr: Trace) -> np.ndarray:
    """``(L, D, T, H_out)``: every layer's ``h_t``, for the layer-stack chart."""
    return tr.hidden.numpy()


def clamp_comparison(
    tr: Trace, clamped: Trace, *, layer: int, direction: int, unit: int
) -> tuple[str, int, np.ndarray, np.ndarray]:
    """``(name, unit, normal, clamped)``: the state a clamp shows best (``"c"`` for an LSTM,
    else ``"h"``) of one unit (``unit``, or the last one if ``h_t`` is smaller, as with
    ``proj_size``), ``(T,)`` each, in the normal and the clamped run."""
    name = "c" if clamped.cell is not None else "h"
    normal = tr.cell if name == "c" else tr.hidden
    other = clamped.cell if name == "c" else clamped.hidden
    u = min(unit, normal.shape[-1] - 1)
    return name, u, normal[layer, direction, :, u].numpy(), other[layer, direction, :, u].numpy()


@torch.no_grad()
def textbook_rnn_difference(rnn: nn.RNN, x: torch.Tensor, tr: Trace, h0: torch.Tensor) -> float:
    """Max ``|h_t|`` difference, over every step and unit, between the tutorial's one-bias
    :class:`~explorer.textbook.TextbookRNN` (layer 0, forward, from ``h0[0]``) and ``tr``, the
    trace of ``nn.RNN`` ``rnn`` over ``x`` ``(T, input_size)``: float32 rounding."""
    ours = TextbookRNN.from_torch(rnn).forward(x, h0[0])
    return float((ours - tr.hidden[0, 0]).abs().max())


def forget_bias_spans(rnn: nn.LSTM) -> dict[str, tuple[float, float]]:
    """``{"l0": (lowest, highest), "l0_reverse": ...}``: the range over units of the effective
    forget bias ``b_if + b_hf`` (:func:`~explorer.models.forget_bias`) of each layer and
    direction."""
    return {name: (float(v.min()), float(v.max())) for name, v in forget_bias(rnn).items()}
