"""Build a real ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` with a linear head, seeded.

The explorer never re-implements the recurrent layer: ``model.rnn`` is PyTorch's own module, so
what the pages show is what PyTorch computes.
"""

from __future__ import annotations

import contextlib
import math
import threading

import torch
import torch.nn as nn
from torch.nn import init

from .config import CellConfig, cell_spec, directions
from .trace import kind_of


class SequenceModel(nn.Module):
    """A recurrent layer followed by a per-step linear head: ``y_t = W_hy h_t + b_y``.

    Attributes:
        rnn: the ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` (``batch_first=False``).
        head: ``torch.nn.Linear(D * H_out, output_size)`` applied to every h_t of the last layer.
    """

    def __init__(self, rnn: nn.RNNBase, head: nn.Linear):
        super().__init__()
        self.rnn = rnn
        self.head = head

    def forward(self, x: torch.Tensor, hx=None) -> torch.Tensor:
        """Map ``(T, B, input_size)`` (or unbatched ``(T, input_size)``) to ``(T, B, output_size)``
        (or ``(T, output_size)``): one output per time step."""
        out, _ = self.rnn(x, hx)  # (T, B, D*H_out)
        return self.head(out)


def build_model(
    cell: str,
    input_size: int,
    hidden_size: int,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    bias: bool = True,
    nonlinearity: str = "tanh",
    proj_size: int = 0,
    output_size: int = 1,
    seed: int = 0,
) -> SequenceModel:
    """Return a seeded :class:`SequenceModel` whose ``.rnn`` is ``torch.nn.RNN``/``LSTM``/``GRU``.

    Args:
        cell: ``"rnn"``, ``"lstm"`` or ``"gru"``.
        input_size, hidden_size, num_layers, bidirectional, bias, proj_size: as in
            ``torch.nn.LSTM`` (``proj_size`` is LSTM only).
        nonlinearity: ``"tanh"`` or ``"relu"``, vanilla RNN only (ignored for LSTM and GRU).
        output_size: outputs of the linear head.
        seed: the same seed gives the same weights: PyTorch's default initialisation
            (``U(-1/sqrt(H), 1/sqrt(H))`` for the recurrent layer, ``nn.Linear``'s own for the
            head), drawn from a private ``torch.Generator`` in PyTorch's order, so the weights
            equal those of ``torch.manual_seed(seed)`` then ``nn.LSTM(...)``, ``nn.Linear(...)``.
            The process-wide generator is never read or seeded: sessions building models at
            the same moment each get their own seed's weights.

    Raises:
        ValueError: an unknown cell, a size outside ``explorer.config.LIMITS``, or
            ``proj_size`` set for a non-LSTM cell or not smaller than ``hidden_size``.
    """
    CellConfig(
        cell,
        input_size,
        hidden_size,
        num_layers,
        bidirectional,
        bias,
        nonlinearity,
        proj_size,
        output_size,
        seed,
    )  # raises ValueError on a bad size
    spec = cell_spec(cell)
    kwargs = dict(num_layers=num_layers, bidirectional=bidirectional, bias=bias)
    if cell == "rnn":
        kwargs["nonlinearity"] = nonlinearity
    if proj_size:
        kwargs["proj_size"] = proj_size
    # built on the meta device (no draw at all), then given real storage and initialised
    # from this build's own generator
    with torch.device("meta"):
        rnn = spec.module(input_size, hidden_size, **kwargs)
        D = directions(bidirectional)
        head = nn.Linear(D * (proj_size or hidden_size), output_size)
    model = SequenceModel(rnn, head).to_empty(device="cpu")
    init_like_torch(model, torch.Generator().manual_seed(seed))
    return model


def init_like_torch(module: nn.Module, generator: torch.Generator) -> None:
    """Initialise every ``nn.RNN``/``LSTM``/``GRU`` and ``nn.Linear`` inside ``module`` as their
    own ``reset_parameters`` does, in the same order, but drawing from ``generator`` instead of
    the process-wide one (source: ``torch/nn/modules/rnn.py`` ``RNNBase.reset_parameters``,
    ``torch/nn/modules/linear.py`` ``Linear.reset_parameters``).

    Raises:
        TypeError: ``module`` holds parameters of another kind of layer (they would keep
            whatever their storage held).
    """
    for m in module.modules():
        if isinstance(m, nn.RNNBase):
            stdv = 1.0 / math.sqrt(m.hidden_size) if m.hidden_size > 0 else 0.0
            for w in m.parameters():
                init.uniform_(w, -stdv, stdv, generator=generator)
        elif isinstance(m, nn.Linear):
            init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
            if m.bias is not None:
                fan_in, _ = init._calculate_fan_in_and_fan_out(m.weight)
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                init.uniform_(m.bias, -bound, bound, generator=generator)
        elif any(True for _ in m.parameters(recurse=False)):
            raise TypeError(f"init_like_torch does not know how to initialise {type(m).__name__}")


_GLOBAL_RNG = threading.Lock()


@contextlib.contextmanager
def seeded_global_rng(seed: int):
    """Run a block that draws from PyTorch's process-wide generator, as the tutorial's own code
    does (``torch.manual_seed(seed)`` then ``nn.RNN(10, 20)``), with that generator seeded and
    the caller's state restored after. One block at a time in the whole process: two sessions
    running the tutorial's code at once would otherwise interleave their draws. Everything else
    in the explorer draws from its own ``torch.Generator`` and never needs this."""
    with _GLOBAL_RNG, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def build_from_config(config: CellConfig) -> SequenceModel:
    """:func:`build_model` for a :class:`~explorer.config.CellConfig`."""
    return build_model(config.cell, **config.model_kwargs())


def set_forget_bias(rnn: nn.Module, value: float = 1.0) -> None:
    """Set every LSTM forget-gate bias so that ``b_if + b_hf = value`` in every layer and
    direction (``b_if = value``, ``b_hf = 0``): the classic trick (Gers et al. 2000;
    Jozefowicz et al. 2015) that starts the cell remembering, f_t ≈ σ(1) ≈ 0.73.

    The forget gate is the second block of ``hidden_size`` rows (PyTorch's order i, f, g, o).

    Raises:
        TypeError: ``rnn`` is not an LSTM.
        ValueError: the LSTM has no biases (``bias=False``).
    """
    if not isinstance(rnn, nn.LSTM):
        raise TypeError(f"the forget-gate bias belongs to an LSTM, got {type(rnn).__name__}")
    if not rnn.bias:
        raise ValueError("this LSTM was built with bias=False: it has no forget-gate bias")
    set_gate_bias(rnn, "f", value)


def set_gate_bias(rnn: nn.Module, gate: str, value: float) -> None:
    """Set gate ``gate``'s bias to ``value`` in every unit, layer and direction:
    ``b_i<gate> = value``, ``b_h<gate> = 0`` (so their sum is ``value``). For the LSTM's forget
    gate this is :func:`set_forget_bias`.

    Raises:
        ValueError: ``gate`` is not one of the module's gates, or it has no biases.
    """
    kind = kind_of(rnn)
    gates = cell_spec(kind).gates
    if gate not in gates:
        raise ValueError(f"{kind} has gates {list(gates)}, got {gate!r}")
    if not rnn.bias:
        raise ValueError("this module was built with bias=False: it has no gate biases")
    H, j = rnn.hidden_size, gates.index(gate)
    with torch.no_grad():
        for name, p in rnn.named_parameters():
            if name.startswith("bias_ih"):
                p[j * H : (j + 1) * H] = value
            elif name.startswith("bias_hh"):
                p[j * H : (j + 1) * H] = 0.0


def forget_bias(rnn: nn.LSTM) -> dict[str, torch.Tensor]:
    """``{"l0": (H,), "l0_reverse": (H,), ...}``: the effective forget bias ``b_if + b_hf``."""
    H = rnn.hidden_size
    out = {}
    for name, p in rnn.named_parameters():
        if name.startswith("bias_ih"):
            suffix = name[len("bias_ih_") :]
            out[suffix] = (p[H : 2 * H] + getattr(rnn, "bias_hh_" + suffix)[H : 2 * H]).detach()
    return out
