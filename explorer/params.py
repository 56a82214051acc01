"""Parameter accounting for ``torch.nn.RNN`` / ``LSTM`` / ``GRU``, tensor by tensor.

Counts come from the layout documented in ``torch/nn/modules/rnn.py``, not from building the
module, so a page can show a model far too big to allocate. Per layer ``l`` and direction::

    weight_ih_l{l}   (G·H, in_l)       in_0 = input_size, in_l = D·H_out for l > 0
    weight_hh_l{l}   (G·H, H_out)
    bias_ih_l{l}     (G·H,)            only if bias
    bias_hh_l{l}     (G·H,)            only if bias
    weight_hr_l{l}   (H_out, H)        LSTM with proj_size only

G = 1 (RNN), 4 (LSTM: i f g o), 3 (GRU: r z n); H_out = proj_size or hidden_size; the reverse
direction's tensors carry the suffix ``_reverse``. The textbook cell has one bias per gate,
``h_t = f(W_hh h_{t-1} + W_xh x_t + b_h)``; PyTorch keeps ``b_ih`` and ``b_hh`` (cuDNN's layout,
and the GRU needs ``b_hn`` apart because the reset gate multiplies ``W_hn h + b_hn``), so it has
G·H more numbers per layer and direction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .config import LIMITS, cell_spec, check_sizes, directions, param_suffix

BYTES_PER_FLOAT32 = 4


@dataclass(frozen=True)
class ParamRow:
    """One parameter tensor: torch's name, shape, the formula of its size, and the count."""

    name: str
    shape: tuple[int, ...]
    formula: str
    count: int
    layer: int
    direction: int
    textbook: bool  # False for bias_hh, which the one-bias textbook form folds into b_ih


@dataclass(frozen=True)
class ParamCount:
    """Parameter count of one recurrent module.

    Attributes:
        rows: every tensor in ``named_parameters()`` order.
        by_tensor: ``{torch name: element count}``, equal to the module's ``named_parameters()``.
        total: ``sum(p.numel())`` of the torch module.
        textbook_total: the same cell with one bias per gate (``b_h`` instead of ``b_ih + b_hh``).
        total_formula: the per-layer-and-direction formula with the numbers written in.
    """

    rows: list[ParamRow]
    total: int
    textbook_total: int
    total_formula: str
    by_tensor: dict[str, int] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        """Memory of the parameters in float32, in bytes (4 per element)."""
        return BYTES_PER_FLOAT32 * self.total


def _direction_rows(
    G: int, input_size: int, H: int, proj_size: int, bias: bool, layer: int, d: int, D: int
) -> list[ParamRow]:
    """The tensors of one layer and direction, in ``named_parameters()`` order: ``weight_ih``
    ``(G·H, in)`` (``in`` is ``input_size`` in layer 0, ``D·H_out`` above), ``weight_hh``
    ``(G·H, H_out)``, ``bias_ih`` and ``bias_hh`` ``(G·H,)``, ``weight_hr`` ``(H_out, H)``
    (``proj_size``). ``G`` gates, ``H_out = proj_size or H``, ``D`` directions."""
    H_out = proj_size or H
    g = f"{G}·" if G > 1 else ""
    h_formula = "proj_size" if proj_size else "H"
    if layer == 0:
        in_l, in_formula = input_size, "input_size"
    else:
        in_l, in_formula = D * H_out, ("2·" if D == 2 else "") + h_formula
    sfx = param_suffix(layer, d)
    tensors = [
        ("weight_ih", (G * H, in_l), f"{g}H × {in_formula}", True),
        ("weight_hh", (G * H, H_out), f"{g}H × {h_formula}", True),
    ]
    if bias:
        tensors += [("bias_ih", (G * H,), f"{g}H", True), ("bias_hh", (G * H,), f"{g}H", False)]
    if proj_size:
        tensors.append(("weight_hr", (H_out, H), "proj_size × H", True))
    return [
        ParamRow(name + sfx, shape, formula, math.prod(shape), layer, d, textbook)
        for name, shape, formula, textbook in tensors
    ]


def count_parameters(
    cell: str,
    input_size: int,
    hidden_size: int,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    bias: bool = True,
    proj_size: int = 0,
) -> ParamCount:
    """Count every parameter tensor of ``torch.nn.RNN``/``LSTM``/``GRU`` with these sizes.

    Args are those of ``torch.nn.LSTM``; ``cell`` is ``"rnn"``, ``"lstm"`` or ``"gru"``.

    Returns:
        A :class:`ParamCount` whose ``by_tensor`` and ``total`` equal the torch module's
        ``named_parameters()`` and ``sum(p.numel())``.

    Raises:
        ValueError: as :func:`explorer.config.check_sizes` with ``limits=False`` (unknown
            cell, a size below 1, ``proj_size`` on a non-LSTM or not smaller than
            ``hidden_size``, a non-boolean ``bidirectional``/``bias``); ``num_layers`` above
            ``LIMITS`` (the rows grow with the layers). No upper limit on the sizes: counting
            allocates nothing.
    """
    check_sizes(
        cell,
        limits=False,
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        proj_size=proj_size,
        bidirectional=bidirectional,
        bias=bias,
    )
    if num_layers > LIMITS["num_layers"][1]:  # one row per layer: 10**6 layers took 62 s, 1.9 GB
        raise ValueError(
            f"num_layers must be between {LIMITS['num_layers'][0]} and "
            f"{LIMITS['num_layers'][1]} (explorer.config.LIMITS), got {num_layers}"
        )
    G, D = cell_spec(cell).G, directions(bidirectional)
    rows = [
        row
        for layer in range(num_layers)
        for d in range(D)
        for row in _direction_rows(G, input_size, hidden_size, proj_size, bias, layer, d, D)
    ]
    g = f"{G}·" if G > 1 else ""
    h_formula = "proj_size" if proj_size else "H"
    total = sum(r.count for r in rows)
    textbook_total = sum(r.count for r in rows if r.textbook)
    per = f"{g}(H·in + H·{h_formula}" + (" + 2H)" if bias else ")")
    if proj_size:
        per += " + proj_size·H"
    formula = f"Σ over {num_layers} layer(s) × {D} direction(s) of {per}"
    return ParamCount(rows, total, textbook_total, formula, {r.name: r.count for r in rows})


def count_head(in_features: int, output_size: int, bias: bool = True) -> list[ParamRow]:
    """Rows of the linear output head ``y_t = W_hy h_t + b_y`` (``torch.nn.Linear``):
    ``head.weight`` (output_size, in_features) and ``head.bias`` (output_size,)."""
    rows = [
        ParamRow(
            "head.weight",
            (output_size, in_features),
            "output_size × D·H_out",
            output_size * in_features,
            0,
            0,
            True,
        )
    ]
    if bias:
        rows.append(ParamRow("head.bias", (output_size,), "output_size", output_size, 0, 0, True))
    return rows


def model_parameters(config) -> int:
    """Trainable numbers of the model :func:`explorer.build_from_config` builds for ``config``
    (a :class:`~explorer.config.CellConfig` or anything with its fields), counted, not built:
    the recurrent layers (:func:`count_parameters`) plus the linear head
    ``torch.nn.Linear(D·H_out, output_size)`` (always with a bias). Equals
    ``sum(p.numel() for p in model.parameters())`` (:func:`torch_total`)."""
    rnn = count_parameters(
        config.cell,
        config.input_size,
        config.hidden_size,
        num_layers=config.num_layers,
        bidirectional=config.bidirectional,
        bias=config.bias,
        proj_size=config.proj_size,
    )
    H_out = config.proj_size or config.hidden_size
    head = count_head(directions(config.bidirectional) * H_out, config.output_size)
    return rnn.total + sum(r.count for r in head)


def torch_total(module) -> int:
    """``sum(p.numel() for p in module.parameters())``: the number torch itself reports."""
    return sum(p.numel() for p in module.parameters())


def built_total(cell: str, input_size: int, hidden_size: int, output_size: int) -> int:
    """:func:`torch_total` of the model :func:`explorer.models.build_model` builds (one layer,
    one direction) with its ``nn.Linear`` head: torch's own count, which the formulas here
    must equal. Builds the model: keep the sizes small.

    Raises:
        ValueError: as ``build_model`` (an unknown cell, a size out of range).
    """
    from .models import build_model  # models is built on the config, as this module is

    model = build_model(cell, input_size, hidden_size, output_size=output_size)
    return torch_total(model.rnn) + torch_total(model.head)
