"""Frozen configuration, limits and registries shared by the core and the pages.

One place says what a cell is (``CELLS``) and how big a model may get (``LIMITS``), so a new
option is one registry entry and every page refuses the same out-of-range sizes with the same
message.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch.nn as nn


@dataclass(frozen=True)
class CellSpec:
    """What the explorer needs to know about one recurrent cell type.

    ``gates`` lists the gate names in the order PyTorch stacks their rows inside ``weight_ih``
    and ``weight_hh`` (LSTM ``i f g o``, GRU ``r z n``); ``G`` is how many blocks of
    ``hidden_size`` rows each weight has.
    """

    key: str
    label: str
    module: type
    gates: tuple[str, ...]

    @property
    def G(self) -> int:
        return max(1, len(self.gates))


CELLS: dict[str, CellSpec] = {
    "rnn": CellSpec("rnn", "Vanilla RNN", nn.RNN, ()),
    "lstm": CellSpec("lstm", "LSTM", nn.LSTM, ("i", "f", "g", "o")),
    "gru": CellSpec("gru", "GRU", nn.GRU, ("r", "z", "n")),
}

#: the gates squashed by tanh, with values in [-1, 1]; the others are sigmoids in [0, 1]
TANH_GATES = frozenset("gn")

# Sizes a laptop CPU handles interactively. The biggest model allowed (input_size 256, 4 layers,
# 1024 units, bidirectional LSTM) has 86,048,768 parameters, 344 MB of float32; with
# proj_size 1023, 94,347,264 (377 MB), as torch counts them (tests/test_params.py): the upper edge.
LIMITS: dict[str, tuple[int, int]] = {
    "input_size": (1, 256),
    "hidden_size": (1, 1024),
    "num_layers": (1, 4),
    "proj_size": (0, 1023),
    "output_size": (1, 256),
    "seed": (0, 2**31 - 1),
}
MAX_SEQUENCE_LENGTH = 5000


def cell_spec(cell: str) -> CellSpec:
    """Return the registry entry for ``cell``.

    Raises:
        ValueError: ``cell`` is not one of ``"rnn"``, ``"lstm"``, ``"gru"``.
    """
    if not isinstance(cell, str) or cell not in CELLS:  # a list is unhashable: no CELLS[cell]
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {_short(cell)}")
    return CELLS[cell]


def directions(bidirectional: bool) -> int:
    """``D`` of the shape legend, the number of directions: 2 if ``bidirectional``, else 1."""
    return 2 if bidirectional else 1


def param_suffix(layer: int, direction: int = 0) -> str:
    """The suffix of a parameter name in ``torch.nn.RNN``/``LSTM``/``GRU``: ``"_l{layer}"``,
    plus ``"_reverse"`` for ``direction`` 1 (``weight_ih_l0_reverse``; PyTorch docs,
    ``torch.nn.LSTM``, "Variables")."""
    return f"_l{layer}" + ("_reverse" if direction else "")


def _short(value: object, width: int = 60) -> str:
    """``repr(value)`` cut to ``width`` characters, for a message quoting what was given."""
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 1]}…"


def check_sizes(cell: str, *, limits: bool = True, **sizes) -> None:
    """Raise ``ValueError`` naming the first size outside ``LIMITS`` or inconsistent with ``cell``.

    ``proj_size`` must be 0 or smaller than ``hidden_size`` and is only allowed for LSTM, as in
    ``torch.nn.LSTM``. With ``limits=False`` only the lower bounds apply (counting a model
    needs no memory, so it may be bigger than the app lets you build). ``bidirectional`` and
    ``bias``, when given, must be booleans.
    """
    cell_spec(cell)
    for name in ("bidirectional", "bias"):
        if name in sizes and not isinstance(sizes[name], bool):
            raise ValueError(f"{name} must be True or False, got {sizes[name]!r}")
    for name, value in sizes.items():
        if name not in LIMITS:
            continue
        lo, hi = LIMITS[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be an integer, got {value!r}")
        if not lo <= value <= (hi if limits else float("inf")):
            bound = f"between {lo} and {hi}" if limits else f"at least {lo}"
            raise ValueError(f"{name} must be {bound}, got {value}")
    proj = sizes.get("proj_size", 0)
    if proj and cell != "lstm":
        raise ValueError(f"proj_size is only defined for LSTM, got proj_size={proj} for {cell}")
    if proj and "hidden_size" in sizes and proj >= sizes["hidden_size"]:
        raise ValueError(
            f"proj_size must be smaller than hidden_size, got proj_size={proj} >= "
            f"hidden_size={sizes['hidden_size']}"
        )


@dataclass(frozen=True)
class CellConfig:
    """A recurrent model as the sidebar describes it; field names are ``torch.nn.LSTM``'s.

    Defaults: a one-layer LSTM with 16 units on a one-feature input, small enough that every
    unit fits on a heatmap and large enough to learn the shipped series.
    """

    cell: str = "lstm"
    input_size: int = 1
    hidden_size: int = 16
    num_layers: int = 1
    bidirectional: bool = False
    bias: bool = True
    nonlinearity: str = "tanh"  # vanilla RNN only: "tanh" or "relu"
    proj_size: int = 0  # LSTM only; 0 means no projection
    output_size: int = 1  # the linear head's outputs
    seed: int = 0

    def __post_init__(self) -> None:
        check_sizes(
            self.cell,
            bidirectional=self.bidirectional,
            bias=self.bias,
            input_size=self.input_size,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
            proj_size=self.proj_size,
            output_size=self.output_size,
            seed=self.seed,
        )
        if self.nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {self.nonlinearity!r}")

    @property
    def D(self) -> int:
        """Number of directions: 2 if bidirectional, else 1."""
        return directions(self.bidirectional)

    @property
    def H_out(self) -> int:
        """Size of h_t: ``proj_size`` if set, else ``hidden_size``."""
        return self.proj_size or self.hidden_size

    def as_dict(self) -> dict:
        return asdict(self)

    def model_kwargs(self) -> dict:
        """Keyword arguments of :func:`explorer.build_model` (everything except ``cell``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "cell"}
