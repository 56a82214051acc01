"""Resumable, seeded training of any model on any task, one chunk of steps at a time.

The trainer knows nothing of Streamlit: a page calls :meth:`Trainer.run` for a slice of time,
reads :attr:`Trainer.history` (and the diagnostics), and draws. Everything the run needs (model,
optimiser, the batch generator's state, the early-stopping counters) lives on the object, so
pausing between chunks and resuming gives the same weights as one uninterrupted run, and the
object can sit in ``st.session_state`` across reruns.

A script or notebook follows a run through callbacks, as minGPT's trainer does
(:meth:`Trainer.add_callback`, :data:`EVENTS`: ``on_step_end``, ``on_evaluate``, ``on_end``),
instead of calling :meth:`Trainer.run` in small chunks to look in between::

    trainer = Trainer(model, task, TrainConfig(steps=2000))
    trainer.add_callback("on_evaluate", lambda t, step, evaluation: print(step, t.best_val))
    trainer.add_callback("on_end", lambda t, status, message: print(message))
    trainer.run()

Shape legend: ``W`` time steps of a training window, ``B`` batch, ``O`` model outputs, ``V``
classes (cross-entropy tasks), ``H_out`` size of h_t, ``D`` directions.

A task is anything with ``train_batch(batch_size, generator) -> (x, y)`` and
``evaluate(model)`` returning an :class:`~explorer.tasks.Evaluation` (``val_loss`` …), and
optionally:

``loss``
    ``"mse"`` (default): mean squared error between ``model(x)`` ``(W, B, O)`` and ``y`` of the
    same shape. ``"ce"``: cross-entropy between logits ``model(x)`` ``(W, B, V)`` and class
    indices ``y`` ``(W, B)`` (long).
``target_steps``
    ``"all"`` (default): every output step is scored. ``"last"``: only the model's last output
    step; ``y`` is then ``(1, B, O)`` (mse) or ``(1, B)`` (ce).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call

from .cells import gru_gates
from .config import cell_spec, directions, param_suffix
from .trace import kind_of

if TYPE_CHECKING:  # explorer.tasks imports this module (SequenceLoss, IGNORE_INDEX)
    from .tasks import Evaluation

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "sgd": torch.optim.SGD,
    "sgd_momentum": torch.optim.SGD,  # with momentum=TrainConfig.momentum
    "rmsprop": torch.optim.RMSprop,
}
OPTIMIZER_LABELS = {
    "adam": "Adam",
    "sgd": "SGD",
    "sgd_momentum": "SGD + momentum",
    "rmsprop": "RMSprop",
}
LOSSES = ("mse", "ce")
IGNORE_INDEX = -100  # a ce target that is not scored (PyTorch's default ignore_index)
TARGET_STEPS = ("all", "last")
DIAGNOSTICS_SHARE = 0.05  # the hidden-gradient diagnostics take at most this share of training time
# What a callback hears (:meth:`Trainer.add_callback`), each called as ``callback(trainer, *args)``:
EVENTS = (
    "on_step_end",  # (record): a step is complete, its record the last of ``history``
    "on_evaluate",  # (step, evaluation): that step was also evaluated (after its on_step_end)
    "on_end",  # (status, message): the run has ended ("done": budget or auto-stop; "diverged")
)


def _optional(
    value, name: str, *, integer: bool = False, low: float = 0.0, inclusive: bool = False
) -> None:
    """Raise ValueError unless ``value`` is None or a finite number above ``low`` (or equal to
    it with ``inclusive``), an integer when ``integer``."""
    if value is None:
        return
    kind = "an integer" if integer else "a number"
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    ok = ok and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= low if inclusive else value > low)
    if not ok:
        bound = f"at least {low:g}" if inclusive else f"above {low:g}"
        raise ValueError(f"{name} must be None (off) or {kind} {bound}, got {value!r}")


@dataclass(frozen=True)
class TrainConfig:
    """How to train. Defaults reach below the naive baseline on the shipped CO2 series in about
    two seconds on a laptop CPU (LSTM, hidden 16); every new option defaults to "off" so a
    default run is the run the page always made.

    Attributes:
        steps: the budget of optimiser steps.
        batch_size: windows per step.
        lr: learning rate. Adam's usual 1e-3 is slow for a 300-step classroom demo; 1e-2 is
            stable here.
        optimizer: a key of :data:`OPTIMIZERS`.
        clip_norm: clip the gradient's global L2 norm to this value; None for off. On by default
            because one exploding batch otherwise undoes a run.
        eval_every: steps between validation scores (and the diagnostics, which cost about two
            extra training steps each, so they are taken only then).
        seed: seeds the batch order (and the diagnostics batch).
        momentum: used by ``"sgd_momentum"`` only. 0.9 is the standard value (Sutskever et al.
            2013): gradients averaged over about 1 / (1 - 0.9) = 10 steps.
        weight_decay: L2 penalty ``weight_decay * ||θ||² / 2`` added to the loss, through the
            optimiser's own ``weight_decay`` (coupled L2, also for Adam: this is not AdamW).
            0 because the forecasting models are small next to their data.
        tbptt: truncated backpropagation through time: None for full BPTT over the window; k to
            run each window in chunks of k steps, the state carried across chunks but detached,
            so gradients reach at most k steps back. Still one optimiser step per window. Only
            for unidirectional models with ``.rnn`` and ``.head`` (a reverse direction cannot be
            chunked forward in time).
        target_loss: stop ("done") once a validation loss is at or below this; None for off.
        patience: stop ("done") after this many evaluations in a row without a relative
            improvement of ``min_delta`` over the best validation loss; None for off.
        min_delta: the relative improvement that counts for ``patience``: 0.01 = 1 %, so that
            noise in the last digits does not keep a finished run going.
        diagnostics: record the gradient diagnostics (per-tensor gradient norms at each
            evaluation, and :func:`hidden_grad_norms` on one fixed batch, see
            ``diagnostics_every``). On: they are what the page shows about vanishing gradients.
        diagnostics_every: seconds of training between two :func:`hidden_grad_norms`, which
            cost about 1.5 training steps each: taking them at every evaluation (every 10
            steps) would cost about 15 % of the training speed, for a page that redraws twice a
            second. They are taken at the first evaluation, then at the first evaluation at
            least this long after the end of the previous one (the gap is stretched to
            ``cost / DIAGNOSTICS_SHARE`` when that is longer, the cost being the fastest one
            so far, so that they never take more than 5 % of training time on a big model),
            and always at the evaluation that ends the run (the budget, or an auto-stop).
            0.25 s: the page trains 0.3 s per redraw,
            so each redraw shows them from its own slice, at about 1.5 % of the speed on the
            default run. Only *when* they are taken depends on the clock: the weights, losses
            and per-tensor norms do not. None: at every evaluation (steps fixed by
            ``eval_every`` alone, reproducible run to run).
    """

    steps: int = 300
    batch_size: int = 32
    lr: float = 1e-2
    optimizer: str = "adam"
    clip_norm: float | None = 1.0
    eval_every: int = 10
    seed: int = 0
    momentum: float = 0.9
    weight_decay: float = 0.0
    tbptt: int | None = None
    target_loss: float | None = None
    patience: int | None = None
    min_delta: float = 0.01
    diagnostics: bool = True
    diagnostics_every: float | None = 0.25

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"optimizer must be one of {sorted(OPTIMIZERS)}, got {self.optimizer!r}"
            )
        for name in ("steps", "batch_size", "eval_every"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer of at least 1, got {value!r}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number, got {self.lr}")
        if not (0.0 <= self.momentum < 1.0):
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise ValueError(
                f"weight_decay must be a number of at least 0, got {self.weight_decay}"
            )
        if not (self.min_delta >= 0 and math.isfinite(self.min_delta)):
            raise ValueError(f"min_delta must be a number of at least 0, got {self.min_delta}")
        _optional(self.clip_norm, "clip_norm")
        _optional(self.tbptt, "tbptt", integer=True, low=1, inclusive=True)
        _optional(self.patience, "patience", integer=True, low=1, inclusive=True)
        _optional(self.target_loss, "target_loss", inclusive=True)
        if not isinstance(self.diagnostics, bool):
            raise ValueError(f"diagnostics must be True or False, got {self.diagnostics!r}")
        _optional(self.diagnostics_every, "diagnostics_every")


def make_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    """The ``torch.optim`` optimiser ``config`` describes, over ``params``.

    Built with ``foreach=True``: torch's multi-tensor implementation, which does the same
    arithmetic as its default per-tensor loop on CPU, bit for bit (the tests check it against a
    plain ``torch.optim`` loop), in fewer, larger kernel calls, which matters for a recurrent
    model's few small tensors. (``fused=True`` would be faster still for Adam but rounds
    differently, so it is not used.)"""
    kwargs = dict(lr=config.lr, weight_decay=config.weight_decay, foreach=True)
    if config.optimizer == "sgd_momentum":
        kwargs["momentum"] = config.momentum
    return OPTIMIZERS[config.optimizer](params, **kwargs)


class SequenceLoss:
    """The training loss of a task: ``loss_fn(output, y) -> scalar`` where ``output`` is the
    model's whole output sequence ``(W, B, O)`` or ``(W, B, V)``; the mean over every scored
    number (mse) or scored step (ce; a target of ``IGNORE_INDEX`` is not scored, as in PyTorch).

    Args:
        kind: ``"mse"`` or ``"ce"`` (see the module docstring).
        target_steps: ``"all"`` or ``"last"``: with ``"last"`` only ``output[-1:]`` is scored.
    """

    def __init__(self, kind: str = "mse", target_steps: str = "all"):
        if kind not in LOSSES:
            raise ValueError(f"the task's loss must be one of {LOSSES}, got {kind!r}")
        if target_steps not in TARGET_STEPS:
            raise ValueError(
                f"the task's target_steps must be one of {TARGET_STEPS}, got {target_steps!r}"
            )
        self.kind, self.target_steps = kind, target_steps

    @classmethod
    def for_task(cls, task) -> SequenceLoss:
        return cls(getattr(task, "loss", "mse"), getattr(task, "target_steps", "all"))

    def _scored(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.target_steps == "last":
            output = output[-1:]  # (1, B, O) or (1, B, V)
        if self.kind == "mse" and output.shape != y.shape:
            raise ValueError(
                f"mse needs targets shaped like the scored outputs "
                f"{tuple(output.shape)}, got {tuple(y.shape)}"
            )
        if self.kind == "ce" and (output.shape[:-1] != y.shape or y.dtype != torch.long):
            raise ValueError(
                f"ce needs long class indices of shape {tuple(output.shape[:-1])}, "
                f"got {y.dtype} {tuple(y.shape)}"
            )
        return output

    def __call__(self, output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.total(output, y, reduction="mean")

    def total(self, output: torch.Tensor, y: torch.Tensor, reduction: str = "sum") -> torch.Tensor:
        """The sum of the per-number (mse) or per-step (ce) losses (or their mean)."""
        output = self._scored(output, y)
        if self.kind == "mse":
            return F.mse_loss(output, y, reduction=reduction)
        return F.cross_entropy(
            output.reshape(-1, output.shape[-1]),
            y.reshape(-1),
            ignore_index=IGNORE_INDEX,
            reduction=reduction,
        )

    def count(self, y: torch.Tensor) -> int:
        """How many terms the mean over targets ``y`` divides by."""
        return y.numel() if self.kind == "mse" else int((y != IGNORE_INDEX).sum())


def _meta_like(
    rnn: torch.nn.RNNBase, input_size: int, num_layers: int, cache: dict | None = None
) -> torch.nn.RNNBase:
    """An empty module of ``rnn``'s kind and sizes (on the meta device: nothing allocated), to
    be run with real tensors through ``torch.func.functional_call``. Building one costs about
    0.6 ms (its initialisation runs even on the meta device), so a caller that asks again for
    the same ``rnn`` passes a ``cache`` dict of its own (never shared between threads:
    ``functional_call`` swaps the module's tensors while it runs)."""
    key = (id(rnn), input_size, num_layers)
    if cache is not None and key in cache:
        return cache[key]
    kwargs = dict(
        num_layers=num_layers, bias=rnn.bias, bidirectional=rnn.bidirectional, device="meta"
    )
    if isinstance(rnn, torch.nn.LSTM) and rnn.proj_size:
        kwargs["proj_size"] = rnn.proj_size
    if type(rnn) is torch.nn.RNN:
        kwargs["nonlinearity"] = rnn.nonlinearity
    module = type(rnn)(input_size, rnn.hidden_size, **kwargs)
    if cache is not None:
        cache[key] = module
    return module


def _detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def hidden_grad_norms(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, tbptt: int | None = None
) -> np.ndarray:
    """``||dL/dh_t||`` for every time step t of the last layer's output: how much the loss on
    the batch ``(x, y)`` still feels each step's state (vanishing / exploding gradients).

    dL/dh_t is the *total* derivative that backpropagation through time delivers to h_t, through
    the head at step t and through every later state::

        dL/dh_t = ∂L/∂h_t (via the head) + W_hh^T dL/da_{t+1}   [+ z_{t+1} ⊙ dL/dh_{t+1}, GRU]

    where ``a_{t+1}`` are step t+1's pre-activations (``W_ih x + b_ih + W_hh h_t + b_hh``, all
    gates; for a GRU the ``n`` block of ``W_hh h_t + b_hh`` is scaled by r). The gradient of
    the fused layer's output sequence gives only the first term, so the last layer is run once
    more, fused, with an extra identity input ``e_t`` added to its pre-activations
    (``W_ih' = [W_ih | I]``, ``e = 0``): then ``dL/de_t = dL/da_t`` comes out of the same
    backward pass, and the second term is one batched matmul. This costs about two training
    steps (LSTM, 16 units, 48 steps, batch 32), where a step-by-step loop costs about eight. A
    reverse direction is the mirror image (its state feeds step t-1). For a bidirectional layer
    h_t = [h_t→, h_t←]; the norm is over the batch and units.

    Args:
        model: a :class:`~explorer.models.SequenceModel` (``.rnn`` time-first, then ``.head``).
        x: ``(T, B, input_size)``; y: the task's targets for it.
        loss_fn: ``loss_fn(output (T, B, O), y) -> scalar``, e.g. :class:`SequenceLoss`.
        tbptt: with k, the state is detached every k steps as truncated BPTT trains (chunks of
            k from t = 0), so no gradient crosses a chunk boundary (unidirectional only).

    Returns:
        ``(T,)`` float64 norms. The parameters' ``.grad`` are left untouched.
    """
    return _hidden_grad_norms(model, x, y, loss_fn, tbptt, None)


def _hidden_grad_norms(model, x, y, loss_fn, tbptt, cache: dict | None) -> np.ndarray:
    """:func:`hidden_grad_norms`, reusing the meta modules kept in ``cache`` (see
    :func:`_meta_like`)."""
    rnn, head = model.rnn, model.head
    if getattr(rnn, "batch_first", False) or x.dim() != 3:
        raise ValueError(f"x must be time-first (T, B, input_size), got shape {tuple(x.shape)}")
    if tbptt is not None and rnn.bidirectional:
        raise ValueError("tbptt applies to unidirectional models only")
    kind = kind_of(rnn)
    L, D, H = rnn.num_layers, directions(rnn.bidirectional), rnn.hidden_size
    H_out = getattr(rnn, "proj_size", 0) or H
    GH = cell_spec(kind).G * H
    T = x.shape[0]
    params = dict(rnn.named_parameters())
    inp = x.detach()
    if L > 1:  # lower layers: fused, no gradient needed through them
        lower = {n: p for n, p in params.items() if int(n.split("_l")[1].split("_")[0]) < L - 1}
        with torch.no_grad():
            inp = functional_call(_meta_like(rnn, rnn.input_size, L - 1, cache), lower, (inp,))[0]
    sfx = [param_suffix(L - 1, d) for d in range(D)]
    weights = {}
    for d, s in enumerate(sfx):
        w_ih = params["weight_ih" + s].detach()
        eye = w_ih.new_zeros(GH, D * GH)
        eye[:, d * GH : (d + 1) * GH] = torch.eye(GH)
        dst = s.replace(f"_l{L - 1}", "_l0")
        weights["weight_ih" + dst] = torch.cat([w_ih, eye], 1)  # (GH, in + D·GH)
        for name in ("weight_hh", "bias_ih", "bias_hh", "weight_hr"):
            if name + s in params:
                weights[name + dst] = params[name + s].detach()
    last = _meta_like(rnn, inp.shape[-1] + D * GH, 1, cache)
    with torch.enable_grad():
        e = inp.new_zeros(T, inp.shape[1], D * GH, requires_grad=True)  # (T, B, D·GH)
        xa = torch.cat([inp, e], -1)
        k = tbptt or T
        outs, state = [], None
        for s in range(0, T, k):
            out, state = functional_call(last, weights, (xa[s : s + k], state))
            outs.append(out)  # (k, B, D·H_out)
            state = _detach(state)
        out = torch.cat(outs)  # (T, B, D·H_out)
        loss = loss_fn(head(out), y)
        g_out, g_a = torch.autograd.grad(loss, [out, e], allow_unused=True, materialize_grads=True)
    sq = torch.zeros(T, dtype=torch.float64)
    cut = torch.zeros(T, dtype=torch.bool)  # cut[t]: h_t was detached before the next step
    cut[k - 1 :: k] = True
    with torch.no_grad():
        for d, s in enumerate(sfx):
            w_hh = weights["weight_hh" + s.replace(f"_l{L - 1}", "_l0")]  # (GH, H_out)
            direct = g_out[..., d * H_out : (d + 1) * H_out]  # (T, B, H_out) ∂L/∂h_t via the head
            ga = g_a[..., d * GH : (d + 1) * GH]  # (T, B, GH) dL/da_t
            h = out[..., d * H_out : (d + 1) * H_out]  # (T, B, H_out)
            z = None
            if kind == "gru":
                r, z = _gru_gates(inp, h, weights, s.replace(f"_l{L - 1}", "_l0"), reverse=bool(d))
                ga = torch.cat([ga[..., : 2 * H], r * ga[..., 2 * H :]], -1)  # dL/d(W_hh h + b_hh)
            into_prev = ga @ w_hh  # (T, B, H_out): what step t sends back to the state it read
            total = _accumulate(direct, into_prev, z, cut, reverse=bool(d))
            sq += total.double().pow(2).sum((1, 2))
    return sq.sqrt().numpy()


def _gru_gates(inp, h, weights, sfx, reverse):
    """GRU reset and update gates ``r_t, z_t`` ``(T, B, H)`` of one direction, recomputed in
    one batch from the inputs and the states the fused run produced."""
    zeros = torch.zeros_like(h[:1])
    prev = torch.cat([h[1:], zeros]) if reverse else torch.cat([zeros, h[:-1]])  # state read at t
    gi = F.linear(inp, weights["weight_ih" + sfx][:, : inp.shape[-1]], weights.get("bias_ih" + sfx))
    gh = F.linear(prev, weights["weight_hh" + sfx], weights.get("bias_hh" + sfx))  # (T, B, 3H)
    r, z, _ = gru_gates(gi, gh)
    return r, z


def _accumulate(direct, into_prev, z, cut, reverse):
    """Total adjoints ``dL/dh_t`` from the direct part, what the next step sends back, and (GRU)
    the gated copy ``h_t = ... + z_t ⊙ h_{t-1}``; no gradient crosses a ``cut``."""
    total = direct.clone()
    T = total.shape[0]
    if z is None:  # the next step's contribution is already total: one shifted add
        if reverse:
            total[1:] += into_prev[:-1]
        else:
            keep = ~cut[:-1]  # (T-1,)
            total[:-1] += into_prev[1:] * keep[:, None, None]
        return total
    order = range(1, T) if reverse else range(T - 2, -1, -1)
    for t in order:  # a GRU's state also flows straight through (1 - z) n + z h: a recurrence
        nxt = t - 1 if reverse else t + 1
        if not reverse and cut[t]:
            continue
        total[t] += into_prev[nxt] + z[nxt] * total[nxt]
    return total


class Trainer:
    """Train ``model`` on ``task`` (see the module docstring for what a task provides).

    Attributes:
        step: optimiser steps taken so far.
        history: one dict per step: ``step``, ``train_loss`` (the loss of that step's batch,
            before its update), ``grad_norm`` (the gradient's global norm before clipping) and,
            every ``eval_every`` steps and at the last, ``val_loss``.
        status: ``"ready"``, ``"running"``, ``"paused"``, ``"done"`` or ``"diverged"``.
        message: why training stopped (``"done"``: budget, target or plateau; ``"diverged"``:
            what became non-finite and what to try).
        last_eval: the task's latest ``evaluate`` result (an :class:`~explorer.tasks.Evaluation`).
        eval_steps: the steps of the evaluations, one per entry of ``grad_norms``' lists.
        grad_norms: ``{parameter name: [norm of its gradient before clipping, per evaluation]}``
            (the gradient of that step's training batch: free, it is computed for clipping).
        hidden_grads: ``(W,)`` the latest :func:`hidden_grad_norms` on one fixed batch (taken
            with the weights after the optimiser step of ``hidden_grad_steps[-1]``), None
            before the first evaluation or for a model without ``.rnn`` / ``.head``.
        hidden_grad_history: every ``hidden_grads`` taken (float32), in order.
        hidden_grad_steps: the step of each entry of ``hidden_grad_history``: a subset of
            ``eval_steps`` (all of them with ``diagnostics_every=None``; otherwise about one
            every ``diagnostics_every`` seconds of training, the first and the final one always,
            see :class:`TrainConfig`). Label a hidden-gradient chart with these, not with
            ``eval_steps``.
        diagnostics_seconds: seconds spent in :func:`hidden_grad_norms` (inside ``elapsed``).
        best_val: the lowest validation loss so far (``inf`` before the first).
        elapsed: seconds spent inside :meth:`run`.

    Callbacks, as minGPT's trainer has them (:meth:`add_callback`, :meth:`set_callback`,
    :meth:`trigger_callbacks`): a function registered for an event of :data:`EVENTS` is called
    as ``callback(trainer, *args)`` inside :meth:`run`, in the thread and process that train:

    * ``on_step_end(trainer, record)`` after every optimiser step, once the step is complete:
      ``record`` is ``history[-1]``, ``step`` its step, the weights those after its update
      (a checkpoint waits for :meth:`run` to return: :mod:`explorer.checkpoint` refuses a
      trainer inside it, whose training time is still running).
    * ``on_evaluate(trainer, step, evaluation)`` right after the ``on_step_end`` of a step that
      was evaluated: ``evaluation`` is ``last_eval``; ``eval_steps``, ``grad_norms`` and (when
      taken) the hidden-gradient diagnostics include that step.
    * ``on_end(trainer, status, message)`` once, when :meth:`run` ends the run: ``"done"`` (the
      budget, a target or a plateau) or ``"diverged"``. The end of a slice (``max_steps``,
      ``seconds``) is not an end.

    An exception a callback raises leaves :meth:`run` at once, after a complete step, and
    reaches its caller. Callbacks are not part of the run's state: a pickled or copied trainer
    has none (:meth:`__getstate__` drops them), because trainers travel to worker processes
    (:mod:`explorer.workers`) where a page's functions would neither pickle nor mean anything.
    A page follows a run in a worker through the log entries the worker streams back.
    """

    def __init__(self, model: torch.nn.Module, task, config: TrainConfig = TrainConfig()):
        self.model, self.task, self.config = model, task, config
        self.loss_fn = SequenceLoss.for_task(task)
        sequence_model = hasattr(model, "rnn") and hasattr(model, "head")
        if config.tbptt is not None and not sequence_model:
            raise ValueError("tbptt needs a model with .rnn and .head (a SequenceModel)")
        if config.tbptt is not None and model.rnn.bidirectional:
            raise ValueError(
                "tbptt needs a unidirectional model: a reverse direction reads the "
                "window from its end and cannot be carried forward chunk by chunk"
            )
        self.optimizer = make_optimizer(model.parameters(), config)
        self.generator = torch.Generator().manual_seed(config.seed)
        self._names, self._params = zip(
            *[(n, p) for n, p in model.named_parameters() if p.requires_grad]
        )
        self._finite = [p.detach().clone() for p in self._params]  # last weights with a finite loss
        # diagnostics read one fixed batch, drawn from its own generator so that the training
        # batches are exactly those of a bare loop seeded with config.seed
        self._diag_batch = (
            task.train_batch(config.batch_size, torch.Generator().manual_seed(config.seed + 1))
            if sequence_model and config.diagnostics
            else None
        )
        self.step = 0
        self.history: list[dict] = []
        self.status = "ready"
        self.message = ""
        self.last_eval: Evaluation | None = None
        self.eval_steps: list[int] = []
        self.grad_norms: dict[str, list[float]] = {n: [] for n in self._names}
        self.hidden_grads: np.ndarray | None = None
        self.hidden_grad_history: list[np.ndarray] = []
        self.hidden_grad_steps: list[int] = []
        self.diagnostics_seconds = 0.0
        self.best_val = math.inf
        self._stale = 0  # evaluations since the last improvement of min_delta
        self.elapsed = 0.0
        self._clock = time.perf_counter  # a test may substitute a fake clock
        self._run_start = None  # the clock when the current run() began
        self._diag_end = -math.inf  # training time at the end of the last hidden_grad_norms
        self._diag_cost = math.inf  # the fastest hidden_grad_norms so far, in seconds: the
        # work it takes, which a slow one (the process preempted on a busy machine) overstates
        self._meta_cache: dict = {}  # meta modules for hidden_grad_norms, this trainer's own
        self._callbacks: dict[str, list] = {event: [] for event in EVENTS}

    def __getstate__(self) -> dict:
        """The trainer's state for pickle and ``copy``: everything but its callbacks (see the
        class docstring)."""
        state = self.__dict__.copy()
        state.pop("_callbacks", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._callbacks = {event: [] for event in EVENTS}

    @property
    def done(self) -> bool:
        return self.status in ("done", "diverged")

    # ------------------------------------------------------------------ callbacks
    def _listeners(self, event: str) -> list:
        if event not in EVENTS:
            raise ValueError(f"event must be one of {EVENTS}, got {event!r}")
        return self._callbacks[event]

    def add_callback(self, event: str, callback) -> None:
        """Call ``callback(trainer, *args)`` at each ``event`` (one of :data:`EVENTS`), after
        the callbacks already registered for it.

        Raises:
            ValueError: an unknown event.
        """
        self._listeners(event).append(callback)

    def set_callback(self, event: str, callback) -> None:
        """Make ``callback`` the only one called at ``event`` (see :meth:`add_callback`)."""
        self._listeners(event)[:] = [callback]

    def trigger_callbacks(self, event: str, *args) -> None:
        """Call every callback registered for ``event`` with ``(self, *args)``, in order."""
        for callback in self._listeners(event):
            callback(self, *args)

    # ------------------------------------------------------------------ one step
    def _loss_and_grads(self, x: torch.Tensor, y: torch.Tensor) -> float:
        """Forward and backward over one batch; returns the loss. Gradients land in ``.grad``."""
        self.optimizer.zero_grad(set_to_none=True)
        k = self.config.tbptt
        if k is None or k >= x.shape[0]:
            loss = self.loss_fn(self.model(x), y)
            loss.backward()
            return loss.item()
        rnn, head, W = self.model.rnn, self.model.head, x.shape[0]
        last_only = self.loss_fn.target_steps == "last"
        n = self.loss_fn.count(y)  # the window's mean divides every chunk's sum by this
        state, total = None, 0.0
        for s in range(0, W, k):
            e = min(s + k, W)
            if last_only and e < W:  # no loss in this chunk and no gradient may leave it
                with torch.no_grad():
                    _, state = rnn(x[s:e], state)
                continue
            out, state = rnn(x[s:e], state)  # (e-s, B, H_out)
            if last_only:
                loss = self.loss_fn(head(out), y)
            else:  # the chunk's share of the window's mean
                loss = self.loss_fn.total(head(out), y[s:e]) / n
            loss.backward()
            total += loss.item()
            state = _detach(state)
        return total

    def _advice(self) -> str:
        clip = self.config.clip_norm
        other = f" or a smaller gradient clip (now {clip:g})" if clip else " or gradient clipping"
        return f"Try a lower learning rate (now {self.config.lr:g}){other}"

    def _diverge(self, message: str) -> bool:
        self.status = "diverged"
        self.message = f"{message} {self._advice()}, then Reset."
        return False

    def _roll_back(self, value: float, n: int) -> bool:
        """Step ``n``'s loss ``value`` is not finite: back to the weights of the last finite
        loss, and stop."""
        with torch.no_grad():
            torch._foreach_copy_(list(self._params), self._finite)
        last = (
            f"those that gave step {self.step} its loss of "
            f"{self.history[-1]['train_loss']:.4g}, the last finite one"
            if self.history
            else "the initial ones"
        )
        return self._diverge(
            f"The training loss became {value} at step {n}, so training stopped and the "
            f"weights were rolled back to {last}."
        )

    def _train_step(self) -> bool:
        """One optimiser step, then its events (``on_step_end``, and ``on_evaluate`` when it
        was evaluated). Returns False (and stops the run) on a non-finite loss, rolling the
        weights back, or a non-finite gradient norm, before its update."""
        x, y = self.task.train_batch(self.config.batch_size, self.generator)  # (W, B, ...) each
        value = self._loss_and_grads(x, y)
        n = self.step + 1
        if not math.isfinite(value):
            return self._roll_back(value, n)
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self._params]
        norms = torch._foreach_norm(grads)  # one per parameter tensor
        total = torch.linalg.vector_norm(torch.stack(norms))  # the global norm clipping uses
        grad_norm = total.item()
        if not math.isfinite(grad_norm):
            return self._diverge(
                f"The gradient norm became {grad_norm} at step {n} (its loss, {value:.4g}, was "
                f"finite), so training stopped before that update: the weights are still "
                f"those of step {self.step}, nothing to roll back."
            )
        with torch.no_grad():
            torch._foreach_copy_(self._finite, list(self._params))  # the weights of a finite loss
        if self.config.clip_norm:
            self._clip(grads, total)
        self.optimizer.step()
        self.step = n
        record = {"step": n, "train_loss": value, "grad_norm": grad_norm}
        evaluated = n % self.config.eval_every == 0 or n == self.config.steps
        if evaluated:
            self._evaluate_and_diagnose(record, norms)
        self.history.append(record)
        self.trigger_callbacks("on_step_end", record)
        if evaluated:
            self.trigger_callbacks("on_evaluate", n, self.last_eval)
        return True

    def _clip(self, grads: list[torch.Tensor], total: torch.Tensor) -> None:
        """``torch.nn.utils.clip_grads_with_norm_`` with the norm already at hand: the same
        coefficient ``min(max_norm / (total + 1e-6), 1)`` computed the same way (float32), and
        no multiplication when it is 1 (x · 1 = x exactly), which is most steps of a healthy
        run."""
        coef = torch.clamp(self.config.clip_norm / (total + 1e-6), max=1.0)
        if coef.item() < 1.0:
            torch._foreach_mul_(grads, coef)

    def _training_time(self) -> float:
        """Seconds of :meth:`run` so far, the current call included."""
        running = self._clock() - self._run_start if self._run_start is not None else 0.0
        return self.elapsed + running

    def _diagnostics_due(self, step: int) -> bool:
        """Whether this evaluation takes :func:`hidden_grad_norms` (see
        ``TrainConfig.diagnostics_every``)."""
        every = self.config.diagnostics_every
        if every is None or not self.hidden_grad_steps or step >= self.config.steps or self.done:
            return True
        gap = max(every, self._diag_cost / DIAGNOSTICS_SHARE)  # (cost: the fastest one)
        return self._training_time() - self._diag_end >= gap

    def _evaluate_and_diagnose(self, record: dict, norms: list[torch.Tensor]) -> None:
        self.model.eval()
        self.last_eval = self.task.evaluate(self.model)
        val = float(self.last_eval.val_loss)
        record["val_loss"] = val
        self.eval_steps.append(record["step"])
        for name, norm in zip(self._names, torch.stack(norms).tolist()):
            self.grad_norms[name].append(norm)
        self._early_stop(val, record["step"])  # first: a run that ends here is diagnosed
        if self._diag_batch is not None and self._diagnostics_due(record["step"]):
            start = self._clock()
            self.hidden_grads = _hidden_grad_norms(
                self.model, *self._diag_batch, self.loss_fn, self.config.tbptt, self._meta_cache
            )
            end = self._clock()
            self.hidden_grad_history.append(self.hidden_grads.astype(np.float32))
            self.hidden_grad_steps.append(record["step"])
            self._diag_cost = min(self._diag_cost, end - start)
            self.diagnostics_seconds += end - start
            self._diag_end = self._training_time()
        self.model.train()

    def _early_stop(self, val: float, step: int) -> None:
        cfg = self.config
        best = self.best_val
        threshold = best - cfg.min_delta * abs(best) if math.isfinite(best) else math.inf
        self._stale = 0 if val < threshold else self._stale + 1  # a NaN never improves
        if val < best:
            self.best_val = val
        if cfg.target_loss is not None and val <= cfg.target_loss:
            self.status = "done"
            self.message = (
                f"Reached the target: validation loss {val:.4g} ≤ "
                f"{cfg.target_loss:g} at step {step}."
            )
        elif cfg.patience is not None and self._stale >= cfg.patience:
            self.status = "done"
            self.message = (
                f"Stopped on a plateau at step {step}: the validation loss has not "
                f"improved by {cfg.min_delta * 100:g} % for {cfg.patience} evaluations in "
                f"a row (best {self.best_val:.4g})."
            )

    # ------------------------------------------------------------------ public
    def run(self, max_steps: int | None = None, seconds: float | None = None) -> int:
        """Take steps until ``max_steps`` more were taken, ``seconds`` passed, the budget
        (``config.steps``) is spent or an auto-stop fires. Returns the number of steps taken in
        this call.

        Sets ``status`` to ``"done"`` at the end of the budget or at an auto-stop, to
        ``"diverged"`` on a non-finite loss or gradient norm (see :attr:`message`); otherwise
        leaves it unchanged. Calls the callbacks (see the class docstring): ``on_step_end`` and
        ``on_evaluate`` during the steps, ``on_end`` last when this call ended the run.
        """
        start, taken, ended = self._clock(), 0, self.done
        self._run_start = start
        self.model.train()
        try:
            while self.step < self.config.steps and not self.done:
                if max_steps is not None and taken >= max_steps:
                    break
                if seconds is not None and self._clock() - start >= seconds:
                    break
                if self._train_step():
                    taken += 1
            if self.step >= self.config.steps and not self.done:
                self.status = "done"
                self.message = f"Finished the budget of {self.config.steps:,} steps."
        finally:  # a callback that raises still leaves the time counted
            self.elapsed += self._clock() - start
            self._run_start = None
        if self.done and not ended:
            self.trigger_callbacks("on_end", self.status, self.message)
        return taken

    def extend(self, steps: int) -> None:
        """Raise the step budget by ``steps`` ("train N more steps"): the run goes on as if its
        budget had been larger from the start, the same batches and updates bit for bit (the
        only trace of the old budget is the evaluation it ended with, kept in the history). A
        finished run becomes ``"paused"``.

        Raises:
            ValueError: ``steps`` is not a positive integer, or the run diverged (its
                weights are rolled back: Reset, or lower the learning rate).
        """
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if self.status == "diverged":
            raise ValueError(
                "this run diverged and cannot go on: Reset it (perhaps with a lower learning rate)"
            )
        self.config = replace(self.config, steps=self.config.steps + steps)  # validates
        if self.status == "done":
            self.status, self.message = "paused", ""

    def evaluate(self) -> Evaluation:
        """Validation scores and predictions of the current weights (see the task's
        ``evaluate``)."""
        self.model.eval()
        self.last_eval = self.task.evaluate(self.model)
        return self.last_eval
