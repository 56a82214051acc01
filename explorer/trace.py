"""Run a PyTorch recurrent module over one sequence and keep everything inside it.

The equations and the shape legend (T, L, D, H, H_out) are in :mod:`explorer.cells`, whose
gate functions this module calls on every step at once.

How it stays fast: each layer runs through PyTorch's fused kernel (the states are torch's own).
Gates at step t depend only on x_t and h_{t-1}, both known once the layer has run, so every gate
of every step is recomputed in two batched matmuls. Only the LSTM cell state c_t is a recurrence,
and it is linear (c_t = f_t * c_{t-1} + i_t * g_t), so a log-depth parallel scan solves it.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import torch
import torch.nn as nn

from .cells import gru_gates, lstm_gates
from .config import CELLS, MAX_SEQUENCE_LENGTH, cell_spec, directions, param_suffix
from .teaching import article


@dataclass
class Trace:
    """Everything one sequence did inside a recurrent module (eval mode, no dropout).

    Attributes:
        hidden: ``(L, D, T, H_out)`` h_t of every layer and direction. The reverse direction is
            indexed by input position, as in torch's ``output``: ``hidden[l, 1, t]`` has read
            ``x_{T-1} … x_t``.
        cell: ``(L, D, T, H)`` LSTM cell states c_t, ``None`` for RNN and GRU.
        gates: post-activation gates, each ``(L, D, T, H)``: keys ``"i" "f" "g" "o"`` (LSTM) or
            ``"r" "z" "n"`` (GRU); empty for a vanilla RNN. They are (non-contiguous) views of
            one ``(L, D, T, G·H)`` buffer, in PyTorch's row order.
        x: ``(T, input_size)`` the input that was traced.
        kind: ``"rnn"``, ``"lstm"`` or ``"gru"``.
    """

    hidden: torch.Tensor
    cell: torch.Tensor | None
    gates: dict[str, torch.Tensor] = field(default_factory=dict)
    x: torch.Tensor | None = None
    kind: str = "rnn"

    @property
    def T(self) -> int:
        return self.hidden.shape[2]

    def quantities(self, layer: int = 0, direction: int = 0) -> dict[str, torch.Tensor]:
        """``{"h": (T, H_out), "c": (T, H), gate: (T, H) ...}`` for one layer and direction."""
        out = {"h": self.hidden[layer, direction]}
        if self.cell is not None:
            out["c"] = self.cell[layer, direction]
        out.update({k: v[layer, direction] for k, v in self.gates.items()})
        return out


def kind_of(rnn: nn.Module) -> str:
    """``"lstm"``, ``"gru"`` or ``"rnn"`` for a ``torch.nn`` recurrent module.

    Raises:
        TypeError: ``rnn`` is not an ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU``.
    """
    for name, spec in CELLS.items():
        if isinstance(rnn, spec.module):
            return name
    raise TypeError(f"expected torch.nn.RNN, LSTM or GRU, got {type(rnn).__name__}")


_LAYER_CACHE: weakref.WeakKeyDictionary[nn.Module, dict] = weakref.WeakKeyDictionary()


def _layer_module(rnn: nn.RNNBase, layer: int) -> nn.RNNBase:
    """A one-layer module of the same kind whose parameters *are* ``rnn``'s layer ``layer``.

    Kept per module while the module lives (a weak reference: nothing leaks) and rebuilt when
    a parameter object of that layer was replaced.
    """
    params = tuple(
        p
        for name, p in rnn.named_parameters()
        if name.endswith((param_suffix(layer, 0), param_suffix(layer, 1)))
    )
    cached = _LAYER_CACHE.setdefault(rnn, {}).get(layer)
    if (
        cached is not None
        and len(cached[0]) == len(params)
        and all(a is b for a, b in zip(cached[0], params))
    ):
        return cached[1]
    one = _build_layer_module(rnn, layer)
    _LAYER_CACHE[rnn][layer] = (params, one)
    return one


def _build_layer_module(rnn: nn.RNNBase, layer: int) -> nn.RNNBase:
    """Built on the meta device (no allocation), then its parameters are replaced by the
    originals; ``RNNBase.__setattr__`` keeps the fused kernel's weight list in step."""
    H_out = getattr(rnn, "proj_size", 0) or rnn.hidden_size
    in_size = rnn.input_size if layer == 0 else H_out * directions(rnn.bidirectional)
    kwargs = dict(num_layers=1, bias=rnn.bias, bidirectional=rnn.bidirectional, device="meta")
    if isinstance(rnn, nn.LSTM) and rnn.proj_size:
        kwargs["proj_size"] = rnn.proj_size
    if type(rnn) is nn.RNN:
        kwargs["nonlinearity"] = rnn.nonlinearity
    one = type(rnn)(in_size, rnn.hidden_size, **kwargs)
    for name in one._flat_weights_names:
        # weight_ih_l0_reverse -> weight_ih_l{layer}_reverse
        source = name.replace("_l0", f"_l{layer}", 1)
        setattr(one, name, getattr(rnn, source))
    return one


def initial_state(state, name: str, shape: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
    """The one check of an initial state ``h0``/``c0``: zeros if ``state`` is None, else
    ``state`` as a tensor of ``like``'s dtype, checked to be ``shape`` = (num_layers·D, size),
    torch's layout without the batch dimension.

    Raises:
        ValueError: ``state`` is not real numbers on the CPU, or not ``shape``.
    """
    if state is None:
        return like.new_zeros(shape)
    state = _real_tensor(state, name, like.dtype)
    if tuple(state.shape) != shape:
        raise ValueError(
            f"{name} must have shape (num_layers·D, size) = {shape}, got {tuple(state.shape)}"
        )
    return state


def initial_states(rnn: nn.Module, h0, c0, like: torch.Tensor):
    """``(h0 (L·D, H_out), c0 (L·D, H) or None)`` for ``rnn``, each by :func:`initial_state`
    (zeros where ``None``); ``c0`` only for an LSTM.

    Raises:
        ValueError: a state of the wrong shape or not real numbers, or ``c0`` for a cell
            without one.
    """
    kind = kind_of(rnn)
    L, D, H = rnn.num_layers, directions(rnn.bidirectional), rnn.hidden_size
    H_out = getattr(rnn, "proj_size", 0) or H
    h0 = initial_state(h0, "h0", (L * D, H_out), like)
    if kind == "lstm":
        return h0, initial_state(c0, "c0", (L * D, H), like)
    if c0 is not None:
        raise ValueError(f"c0 is the LSTM cell state; {article(kind.upper())} has none")
    return h0, None


def _real_tensor(value, name: str, dtype: torch.dtype) -> torch.Tensor:
    """``value`` as a CPU tensor of ``dtype``; ``ValueError`` naming ``name`` for what is not
    real numbers (text, None, complex numbers, which would lose their imaginary part) or
    lives on another device (meta tensors have no values)."""
    try:
        tensor = torch.as_tensor(value)
    except (TypeError, RuntimeError, ValueError, OverflowError) as err:
        raise ValueError(
            f"{name} must be a tensor of real numbers, got {type(value).__name__} ({err})"
        ) from None
    if tensor.is_complex():
        raise ValueError(
            f"{name} must be real, got a {tensor.dtype} tensor (its imaginary part "
            f"would be dropped)"
        )
    if tensor.device.type != "cpu":
        raise ValueError(f"{name} must be on the CPU, got a tensor on {tensor.device}")
    if not (
        tensor.is_floating_point()
        or tensor.dtype
        in (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)
    ):
        raise ValueError(f"{name} must hold numbers, got {tensor.dtype}")
    return tensor.to(dtype)


def layer_weights(rnn: nn.RNNBase, layer: int, direction: int):
    """One layer and direction's parameters, PyTorch's tensors themselves (not copies):
    ``(W_ih (G·H, in_l), W_hh (G·H, H_out), b_ih (G·H,) or None, b_hh (G·H,) or None,
    W_hr (H_out, H) or None)``; biases are None when ``bias=False``, ``W_hr`` without
    ``proj_size``. Rows are stacked in PyTorch's gate order (i f g o / r z n)."""
    sfx = param_suffix(layer, direction)
    w_ih = getattr(rnn, "weight_ih" + sfx)
    w_hh = getattr(rnn, "weight_hh" + sfx)
    b_ih = getattr(rnn, "bias_ih" + sfx) if rnn.bias else None
    b_hh = getattr(rnn, "bias_hh" + sfx) if rnn.bias else None
    w_hr = getattr(rnn, "weight_hr" + sfx, None)
    return w_ih, w_hh, b_ih, b_hh, w_hr


def linear_scan(a: torch.Tensor, b: torch.Tensor, c0: torch.Tensor) -> torch.Tensor:
    """Solve ``c_t = a_t * c_{t-1} + b_t`` for every t with a Hillis–Steele parallel scan.

    ``a``, ``b``: ``(T, H)``; ``c0``: ``(H,)``. Returns ``(T, H)``. Uses only products and sums
    (no division), so it is as stable as the sequential loop; ⌈log2 T⌉ vectorised passes.
    """
    T = a.shape[0]
    A, B = a.clone(), b.clone()
    B[0] = a[0] * c0 + b[0]
    A[0] = 0.0
    A2, B2 = torch.empty_like(A), torch.empty_like(B)  # ping-pong buffers: no allocation per pass
    offset = 1
    while offset < T:
        # compose step t with the prefix ending at t - offset: c_t = A_t * c_{t-off} + B_t
        B2[:offset] = B[:offset]
        A2[:offset] = A[:offset]
        torch.addcmul(B[offset:], A[offset:], B[:-offset], out=B2[offset:])
        torch.mul(A[offset:], A[:-offset], out=A2[offset:])
        A, A2, B, B2 = A2, A, B2, B
        offset *= 2
    return B


@torch.no_grad()
def trace(
    rnn: nn.Module, x: torch.Tensor, h0: torch.Tensor | None = None, c0: torch.Tensor | None = None
) -> Trace:
    """Trace ``rnn`` over one sequence ``x``: every h_t, c_t and gate of every layer/direction.

    Args:
        rnn: a ``torch.nn.RNN``, ``LSTM`` or ``GRU`` (any ``num_layers``, ``bidirectional``,
            ``bias``, ``nonlinearity``, ``proj_size``, ``batch_first``). Runs as in eval mode:
            no dropout between layers.
        x: ``(T, input_size)`` float tensor, one sequence.
        h0: optional ``(L·D, H_out)`` initial hidden state, torch's layout; zeros if ``None``.
        c0: optional ``(L·D, H)`` initial LSTM cell state; zeros if ``None``.

    Returns:
        A :class:`Trace`. ``hidden`` equals torch's ``output`` (last layer) and ``h_n``;
        ``cell[:, :, -1]`` equals ``c_n`` (the reverse direction's final state is at t = 0).

    Raises:
        TypeError: ``rnn`` is not an RNN, LSTM or GRU.
        ValueError: ``x`` is not ``(T, input_size)`` real numbers on the CPU with
            1 ≤ T ≤ ``MAX_SEQUENCE_LENGTH`` (text, None, complex or meta-device input included);
            ``h0``/``c0`` of the wrong shape or not real numbers.
    """
    kind = kind_of(rnn)
    x = _checked_input(rnn, x)
    L, D, H = rnn.num_layers, directions(rnn.bidirectional), rnn.hidden_size
    H_out = getattr(rnn, "proj_size", 0) or H
    T = x.shape[0]
    h0, c0 = initial_states(rnn, h0, c0, x)

    hidden = x.new_empty(L, D, T, H_out)
    cell = x.new_empty(L, D, T, H) if kind == "lstm" else None
    names = "".join(cell_spec(kind).gates)  # PyTorch's row order: "ifgo", "rzn" or ""
    # every gate of every layer and direction lives in one buffer, written in place; the
    # returned gates are views of its blocks (PyTorch's row order), so nothing is copied
    acts = x.new_empty(L, D, T, len(names) * H)
    gates = {k: acts[..., j * H : (j + 1) * H] for j, k in enumerate(names)}

    layer_in = x  # (T, in_l)
    for layer in range(L):
        out = _fused_layer(rnn, layer, layer_in, h0, c0)  # (T, D·H_out), torch's own states
        for d in range(D):
            h = out[:, d * H_out : (d + 1) * H_out]  # (T, H_out)
            hidden[layer, d] = h
            if not names:
                continue
            h_prev = _previous(h, h0[layer * D + d], reverse=d == 1)  # (T, H_out)
            weights = layer_weights(rnn, layer, d)
            if kind == "lstm":
                c_start = c0[layer * D + d]  # (H,)
                cell[layer, d] = _lstm_gates_and_cells(
                    acts[layer, d], layer_in, h_prev, weights, c_start, reverse=d == 1
                )
            else:
                _gru_gates_into(acts[layer, d], layer_in, h_prev, weights)
        layer_in = out
    return Trace(hidden=hidden, cell=cell, gates=gates, x=x, kind=kind)


def _checked_input(rnn: nn.Module, x) -> torch.Tensor:
    """``x`` as a ``(T, input_size)`` tensor of the module's dtype, checked (see :func:`trace`)."""
    if rnn.weight_ih_l0.device.type != "cpu":
        raise ValueError(f"the module must be on the CPU, got {rnn.weight_ih_l0.device}")
    x = _real_tensor(x, "x", rnn.weight_ih_l0.dtype)
    if x.dim() != 2 or x.shape[1] != rnn.input_size or x.shape[0] < 1:
        raise ValueError(
            f"x must have shape (T, {rnn.input_size}) with T >= 1, got {tuple(x.shape)}"
        )
    if x.shape[0] > MAX_SEQUENCE_LENGTH:
        raise ValueError(
            f"x has T = {x.shape[0]:,} steps; the limit is {MAX_SEQUENCE_LENGTH:,} "
            f"(explorer.config.MAX_SEQUENCE_LENGTH): trace a shorter window"
        )
    return x


def _fused_layer(rnn, layer: int, layer_in: torch.Tensor, h0, c0) -> torch.Tensor:
    """Layer ``layer`` run by PyTorch's fused kernel over ``layer_in`` ``(T, in_l)`` from its rows
    of ``h0`` ``(L·D, H_out)`` (and ``c0``): every h_t, ``(T, D·H_out)``."""
    D = directions(rnn.bidirectional)
    one = _layer_module(rnn, layer)
    h0_l = h0[layer * D : (layer + 1) * D].unsqueeze(1)  # (D, 1, H_out)
    if c0 is not None:
        c0_l = c0[layer * D : (layer + 1) * D].unsqueeze(1)  # (D, 1, H)
        out, _ = one(layer_in.unsqueeze(1), (h0_l, c0_l))
    else:
        out, _ = one(layer_in.unsqueeze(1), h0_l)
    return out.squeeze(1)  # (T, D·H_out)


def _previous(h: torch.Tensor, h_start: torch.Tensor, *, reverse: bool) -> torch.Tensor:
    """h_{t-1} at each input position, ``(T, H_out)``, in the direction of reading: the forward
    direction reads left to right, the reverse one right to left; ``h_start`` ``(H_out,)``."""
    h_start = h_start.unsqueeze(0)  # (1, H_out)
    return torch.cat([h[1:], h_start]) if reverse else torch.cat([h_start, h[:-1]])


def _lstm_gates_and_cells(act, layer_in, h_prev, weights, c_start, *, reverse: bool):
    """Write every step's gates i, f, g, o into ``act`` ``(T, 4H)`` (contiguous) and return
    every c_t ``(T, H)``, solved by :func:`linear_scan` (right to left for ``reverse``)."""
    w_ih, w_hh, b_ih, b_hh, _ = weights
    # all four pre-activations accumulated in place:
    # x W_ih^T + (b_ih + b_hh), then + h_{t-1} W_hh^T
    if b_ih is not None:
        torch.addmm(b_ih + b_hh, layer_in, w_ih.t(), out=act)
    else:
        torch.mm(layer_in, w_ih.t(), out=act)
    act.addmm_(h_prev, w_hh.t())
    i, f, g, o = lstm_gates(act, out=act)  # views of act, each (T, H)
    if not reverse:
        return linear_scan(f, i * g, c_start)
    return linear_scan(f.flip(0), (i * g).flip(0), c_start).flip(0)  # scan right to left


def _gru_gates_into(act, layer_in, h_prev, weights) -> None:
    """Write every step's gates r, z, n into ``act`` ``(T, 3H)``."""
    w_ih, w_hh, b_ih, b_hh, _ = weights
    H = act.shape[1] // 3
    xw = layer_in @ w_ih.t()  # (T, 3H)
    hw = h_prev @ w_hh.t()  # (T, 3H); kept apart: the reset gate scales W_hn h + b_hn
    if b_ih is not None:
        xw += b_ih
        hw += b_hh
    for j, v in enumerate(gru_gates(xw, hw)):
        act[:, j * H : (j + 1) * H] = v
