"""Training on the shipped data: beats the naive baseline, resumes exactly, survives NaN; every
setting reaches torch (against a bare loop), tbptt, auto-stop, ce and last-step tasks on tiny toy
tasks, the gradient diagnostics against autograd oracles, and their time-budget schedule (on a fake
clock: no test here is timed)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer import build_model, training
from explorer.datasets import load_series
from explorer.tasks import Evaluation, ForecastTask
from explorer.training import (
    DIAGNOSTICS_SHARE,
    OPTIMIZERS,
    SequenceLoss,
    TrainConfig,
    Trainer,
    hidden_grad_norms,
)

pytestmark = pytest.mark.usefixtures("one_thread")


def _trainer(cell="lstm", key="co2", difference=True, **train):
    task = ForecastTask(load_series(key).to_numpy(), difference=difference)
    return Trainer(build_model(cell, 1, 16, seed=0), task, TrainConfig(**train))


def test_default_budget_beats_naive_on_co2():
    tr = _trainer()
    tr.run()
    assert tr.status == "done" and tr.step == TrainConfig().steps
    result = tr.evaluate()
    # the naive forecast's RMSE on 1993-2001 is about 1.27 ppm; the LSTM should at least halve it
    assert result.rmse < 0.5 * result.naive_rmse
    assert result.val_loss < 0.2


def test_default_budget_beats_naive_on_temperature():
    tr = _trainer(key="seattle_temp_max", difference=False)
    tr.run()
    result = tr.evaluate()
    assert result.rmse < result.naive_rmse


def test_naive_baseline_is_next_equals_last():
    values = load_series("co2").to_numpy()
    task = ForecastTask(values)
    result = task.evaluate(build_model("lstm", 1, 4))
    idx = result.index
    assert idx[-1] == len(values) - 1
    assert (result.naive == values[idx - 1]).all() and (result.truth == values[idx]).all()
    expected = math.sqrt(((values[idx] - values[idx - 1]) ** 2).mean())
    assert math.isclose(result.naive_rmse, expected)


def test_pause_and_resume_equals_uninterrupted_run():
    a, b = _trainer(steps=40), _trainer(steps=40)
    a.run()
    for chunk in (7, 1, 13, 100):
        b.run(max_steps=chunk)
    assert a.step == b.step == 40
    for (n, p), (_, q) in zip(a.model.named_parameters(), b.model.named_parameters()):
        assert torch.equal(p, q), n
    # the default takes hidden_grad_norms on a time budget: only their steps may differ
    assert a.history == b.history and a.grad_norms == b.grad_norms and a.eval_steps == b.eval_steps


def test_nan_loss_stops_and_rolls_back_to_finite_weights():
    task = ForecastTask(load_series("co2").to_numpy())
    model = build_model("rnn", 1, 16, nonlinearity="relu", seed=0)
    tr = Trainer(model, task, TrainConfig(steps=500, lr=10.0, optimizer="sgd", clip_norm=None))
    tr.run()
    assert tr.status == "diverged"
    assert "lower learning rate" in tr.message and "Reset" in tr.message
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert tr.step < 500
    assert all(math.isfinite(r["train_loss"]) for r in tr.history)


# ---------------------------------------------------------------- settings, losses, diagnostics


class ToyTask:
    """Tiny synthetic tasks, fast enough to train in a test.

    ``kind``: ``"delay"`` (mse, all steps: y_t = x_{t-1}), ``"mean"`` (mse, last step: y = the
    window's mean), ``"tokens"`` (ce, all steps: class_t = token_{t-1}) or ``"tokens_last"``
    (ce, last step: the token two steps before the end).
    """

    V = 3
    evaluation_type = Evaluation  # the loss only, no rule to beat

    def __init__(self, kind="delay", W=10, n_val=128, zero_batch=None, nan_batch=None):
        self.kind, self.W = kind, W
        self.loss = "ce" if kind.startswith("tokens") else "mse"
        self.target_steps = "last" if kind in ("mean", "tokens_last") else "all"
        self.zero_batch, self.nan_batch, self.calls = zero_batch, nan_batch, 0
        self.val = self._make(n_val, torch.Generator().manual_seed(999))

    def _make(self, B, gen):
        W = self.W
        if self.loss == "mse":
            x = torch.randn(W, B, 1, generator=gen)  # (W, B, 1)
            if self.kind == "delay":
                y = torch.cat([torch.zeros(1, B, 1), x[:-1]])  # (W, B, 1)
            else:
                y = x.mean(0, keepdim=True)  # (1, B, 1)
            return x, y
        tokens = torch.randint(0, self.V, (W, B), generator=gen)  # (W, B)
        x = F.one_hot(tokens, self.V).float()  # (W, B, V)
        if self.kind == "tokens":
            y = torch.cat([torch.zeros(1, B, dtype=torch.long), tokens[:-1]])  # (W, B)
        else:
            y = tokens[-3:-2]  # (1, B)
        return x, y

    def train_batch(self, batch_size, generator):
        self.calls += 1
        x, y = self._make(batch_size, generator)
        if self.calls == self.zero_batch:
            x = torch.zeros_like(x)
        if self.calls == self.nan_batch:
            x = torch.full_like(x, float("nan"))
        return x, y

    @torch.no_grad()
    def evaluate(self, model):
        x, y = self.val
        out = model(x)
        if self.target_steps == "last":
            out = out[-1:]
        if self.loss == "mse":
            val_loss = float(((out - y) ** 2).mean())
        else:
            val_loss = float(F.cross_entropy(out.reshape(-1, self.V), y.reshape(-1)))
        return Evaluation(val_loss, baseline=math.nan, baseline_label="none")


def _toy(kind="delay", cell="lstm", hidden=8, task=None, model=None, **train):
    task = task or ToyTask(kind)
    inputs = ToyTask.V if task.loss == "ce" else 1
    outputs = ToyTask.V if task.loss == "ce" else 1
    model = model or build_model(cell, inputs, hidden, output_size=outputs, seed=0)
    return Trainer(model, task, TrainConfig(**train))


def _params(model):
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize(
    "name, cls, extra",
    [
        ("adam", torch.optim.Adam, {}),
        ("sgd", torch.optim.SGD, {"momentum": 0}),
        ("sgd_momentum", torch.optim.SGD, {"momentum": 0.8}),
        ("rmsprop", torch.optim.RMSprop, {}),
    ],
)
def test_every_setting_reaches_the_torch_optimizer(name, cls, extra):
    tr = _toy(optimizer=name, lr=0.03, weight_decay=0.002, momentum=0.8)
    assert type(tr.optimizer) is cls and OPTIMIZERS[name] is cls
    (group,) = tr.optimizer.param_groups
    assert group["lr"] == 0.03 and group["weight_decay"] == 0.002
    assert group["foreach"] is True  # the multi-tensor kernels (same numbers, see the next test)
    for key, value in extra.items():
        assert group[key] == value
    assert {id(p) for p in group["params"]} == {id(p) for p in tr.model.parameters()}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("clip", [None, 0.5])
def test_trainer_takes_exactly_the_steps_of_a_bare_loop(name, clip):
    """Same seed, batches, optimiser, weight decay and clipping: the same weights, bit for bit,
    as a plain loop with torch's default (per-tensor) optimiser and ``clip_grad_norm_``, although
    the trainer runs the foreach optimiser and its own clipping. Evaluations and diagnostics in
    between change nothing."""
    cfg = dict(
        steps=12,
        optimizer=name,
        lr=0.02,
        weight_decay=0.01,
        clip_norm=clip,
        eval_every=3,
        batch_size=8,
        diagnostics_every=None,
    )
    tr = _toy(**cfg)
    tr.run()
    if clip:  # both paths of the clipping taken: scaled down, and left alone
        norms = [r["grad_norm"] for r in tr.history]
        assert min(norms) < clip < max(norms)
    model = build_model("lstm", 1, 8, seed=0)
    task, gen = ToyTask(), torch.Generator().manual_seed(0)
    kwargs = dict(lr=0.02, weight_decay=0.01)
    if name == "sgd_momentum":
        kwargs["momentum"] = TrainConfig.momentum
    opt = OPTIMIZERS[name](model.parameters(), **kwargs)  # torch's defaults: no foreach on CPU
    assert not opt.param_groups[0]["foreach"]
    losses = []
    for _ in range(12):
        x, y = task.train_batch(8, gen)
        loss = F.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(loss.item())
    assert [r["train_loss"] for r in tr.history] == losses
    for p, q in zip(tr.model.parameters(), model.parameters()):
        assert torch.equal(p, q)


def test_momentum_sgd_differs_from_plain_sgd():
    plain, heavy = _toy(optimizer="sgd", steps=5), _toy(optimizer="sgd_momentum", steps=5)
    plain.run()
    heavy.run()
    assert plain.history[0]["train_loss"] == heavy.history[0]["train_loss"]  # same start
    # the first step is identical (an empty buffer), the later ones carry momentum
    assert any(
        not torch.equal(p, q) for p, q in zip(plain.model.parameters(), heavy.model.parameters())
    )


def test_weight_decay_shrinks_the_weights():
    norms = {}
    for wd in (0.0, 0.5):
        tr = _toy(optimizer="sgd", lr=0.05, weight_decay=wd, steps=60, clip_norm=None)
        tr.run()
        flat = torch.cat([p.flatten() for p in tr.model.parameters()])
        norms[wd] = torch.linalg.vector_norm(flat)
    assert norms[0.5] < 0.7 * norms[0.0]


def _one_step_grads(trainer):
    x, y = trainer.task.train_batch(8, torch.Generator().manual_seed(5))
    value = trainer._loss_and_grads(x, y)
    return value, [p.grad.clone() for p in trainer.model.parameters()], (x, y)


def test_tbptt_matches_a_manual_chunked_loop_and_differs_from_full_bptt():
    full_value, full, _ = _one_step_grads(_toy(tbptt=None))
    tr = _toy(tbptt=3)
    value, grads, (x, y) = _one_step_grads(tr)
    assert math.isclose(value, full_value, rel_tol=1e-6)  # same forward, same loss
    assert any(not torch.allclose(a, b, atol=1e-6) for a, b in zip(full, grads))
    # oracle: the chunks written out by hand (10 steps = chunks of 3, 3, 3, 1)
    model = build_model("lstm", 1, 8, seed=0)
    state = None
    for s in range(0, 10, 3):
        out, state = model.rnn(x[s : s + 3], state)
        (F.mse_loss(model.head(out), y[s : s + 3], reduction="sum") / y.numel()).backward()
        state = tuple(t.detach() for t in state)
    for a, p in zip(grads, model.parameters()):
        assert torch.allclose(a, p.grad, atol=1e-7)


def test_tbptt_still_learns_a_short_memory_task():
    tr = _toy(tbptt=4, steps=100, lr=0.02)
    start = tr.evaluate().val_loss
    tr.run()
    assert tr.status == "done" and tr.last_eval.val_loss < 0.2 * start


def test_tbptt_needs_a_unidirectional_sequence_model():
    with pytest.raises(ValueError, match="unidirectional"):
        Trainer(build_model("gru", 1, 4, bidirectional=True), ToyTask(), TrainConfig(tbptt=3))
    with pytest.raises(ValueError, match=r"\.rnn and \.head"):
        Trainer(torch.nn.Linear(1, 1), ToyTask(), TrainConfig(tbptt=3))


def test_auto_stop_at_target_validation_loss():
    tr = _toy(steps=2000, lr=0.02, target_loss=0.05)
    tr.run()
    assert tr.status == "done" and tr.step < 2000 and tr.step % 10 == 0
    assert tr.history[-1]["val_loss"] <= 0.05
    assert all(r["val_loss"] > 0.05 for r in tr.history[:-1] if "val_loss" in r)
    assert "target" in tr.message and f"step {tr.step}" in tr.message


def test_auto_stop_on_a_plateau():
    tr = _toy(steps=2000, optimizer="sgd", lr=1e-7, patience=3, min_delta=0.01, eval_every=5)
    tr.run()
    # the first evaluation sets the best; three more without a 1 % improvement stop the run
    assert tr.status == "done" and tr.step == 20
    assert "plateau" in tr.message and "3 evaluations" in tr.message
    improving = _toy(steps=60, lr=0.02, patience=3, eval_every=5)
    improving.run()
    assert improving.step == 60 and "budget" in improving.message


def test_cross_entropy_over_every_step_learns():
    tr = _toy("tokens", steps=100, lr=0.03)
    x, y = tr.task.val
    expected = F.cross_entropy(tr.model(x).reshape(-1, 3), y.reshape(-1))
    assert torch.allclose(tr.loss_fn(tr.model(x), y), expected)
    tr.run()
    assert tr.last_eval.val_loss < 0.3 * math.log(3)  # chance is ln 3


def test_last_step_targets_score_only_the_last_output():
    tr = _toy("tokens_last", steps=150, lr=0.03)
    x, y = tr.task.val
    out = tr.model(x)  # (W, B, V)
    assert y.shape == (1, x.shape[1])
    assert torch.allclose(tr.loss_fn(out, y), F.cross_entropy(out[-1], y[0]))
    tr.run()
    assert tr.last_eval.val_loss < 0.5 * math.log(3)
    mean = _toy("mean", steps=100, lr=0.02)
    start = mean.evaluate().val_loss
    mean.run()
    assert mean.last_eval.val_loss < 0.2 * start


def test_ignored_ce_targets_are_not_scored_and_tbptt_keeps_the_window_mean():
    task = ToyTask("tokens")
    x, y = task.train_batch(6, torch.Generator().manual_seed(1))
    y[:7, :3] = -100  # early steps of half the batch unscored: chunks get unequal counts
    losses, grads = [], []
    for k in (None, 4):
        tr = _toy(task=task, tbptt=k)
        losses.append(tr._loss_and_grads(x, y))
        grads.append([p.grad.clone() for p in tr.model.parameters()])
    out = _toy(task=task).model(x)
    keep = y != -100
    expected = F.cross_entropy(out[keep], y[keep])  # the mean over scored steps only
    assert math.isclose(losses[0], expected.item(), rel_tol=1e-6)
    assert math.isclose(losses[1], expected.item(), rel_tol=1e-6)
    assert any(not torch.allclose(a, b) for a, b in zip(*grads))  # truncated, not the same


def test_loss_shapes_are_checked():
    with pytest.raises(ValueError, match="mse needs targets"):
        SequenceLoss()(torch.zeros(4, 2, 1), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="ce needs long class indices"):
        SequenceLoss("ce")(torch.zeros(4, 2, 3), torch.zeros(4, 2))
    with pytest.raises(ValueError, match="loss must be one of"):
        SequenceLoss("l1")


def _perturbation_oracle(model, x, y, loss_fn, tbptt=None):
    """||dL/dδ_t|| for a zero δ_t added to the last layer's h_t in a loop written from the
    equations (PyTorch's layout), which is the total derivative dL/dh_t."""
    rnn = model.rnn
    D, (T, B, _) = 2 if rnn.bidirectional else 1, x.shape
    H = rnn.hidden_size
    H_out = getattr(rnn, "proj_size", 0) or H
    kind = type(rnn).__name__
    delta = torch.zeros(T, B, D * H_out, requires_grad=True)
    inp = x
    for layer in range(rnn.num_layers):
        outs = []
        for d in range(D):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w_ih, w_hh = getattr(rnn, "weight_ih" + sfx), getattr(rnn, "weight_hh" + sfx)
            b = getattr(rnn, "bias_ih" + sfx) + getattr(rnn, "bias_hh" + sfx)
            b_hn = getattr(rnn, "bias_hh" + sfx)[2 * H :] if kind == "GRU" else None
            w_hr = getattr(rnn, "weight_hr" + sfx, None)
            h, c, res = torch.zeros(B, H_out), torch.zeros(B, H), [None] * T
            for i, t in enumerate(range(T - 1, -1, -1) if d else range(T)):
                if kind == "LSTM":
                    i_, f_, g_, o_ = (inp[t] @ w_ih.T + h @ w_hh.T + b).chunk(4, 1)
                    c = torch.sigmoid(f_) * c + torch.sigmoid(i_) * torch.tanh(g_)
                    h = torch.sigmoid(o_) * torch.tanh(c)
                    h = h @ w_hr.T if w_hr is not None else h
                elif kind == "GRU":
                    gi, gh = inp[t] @ w_ih.T, h @ w_hh[: 2 * H].T
                    r, z = torch.sigmoid(gi[:, : 2 * H] + gh + b[: 2 * H]).chunk(2, 1)
                    b_in = b[2 * H :] - b_hn
                    n = torch.tanh(gi[:, 2 * H :] + b_in + r * (h @ w_hh[2 * H :].T + b_hn))
                    h = (1 - z) * n + z * h
                else:
                    h = torch.tanh(inp[t] @ w_ih.T + h @ w_hh.T + b)
                if layer == rnn.num_layers - 1:
                    h = h + delta[t, :, d * H_out : (d + 1) * H_out]
                res[t] = h
                if tbptt and (i + 1) % tbptt == 0:
                    h, c = h.detach(), c.detach()
            outs.append(torch.stack(res))
        inp = torch.cat(outs, -1)
    (grad,) = torch.autograd.grad(loss_fn(model.head(inp), y), delta)
    return grad.double().pow(2).sum((1, 2)).sqrt().numpy()


@pytest.mark.parametrize(
    "cell, kwargs",
    [
        ("rnn", {}),
        ("lstm", {}),
        ("gru", {}),
        ("lstm", {"num_layers": 2, "bidirectional": True}),
        ("gru", {"bidirectional": True}),
        ("lstm", {"num_layers": 2, "proj_size": 3}),
        ("rnn", {"num_layers": 3}),
    ],
)
@pytest.mark.parametrize("target_steps", ["all", "last"])
def test_hidden_grad_norms_is_the_total_derivative(cell, kwargs, target_steps):
    torch.manual_seed(0)
    model = build_model(cell, 2, 6, seed=3, **kwargs)
    x = torch.randn(11, 4, 2)
    y = torch.randn(11 if target_steps == "all" else 1, 4, 1)
    loss_fn = SequenceLoss("mse", target_steps)
    ours = hidden_grad_norms(model, x, y, loss_fn)
    assert ours.shape == (11,) and all(p.grad is None for p in model.parameters())
    np.testing.assert_allclose(
        ours, _perturbation_oracle(model, x, y, loss_fn), rtol=1e-5, atol=1e-9
    )
    # the gradient w.r.t. the fused output sequence is the part that goes through the head
    out = model.rnn(x)[0]
    out.retain_grad()
    loss_fn(model.head(out), y).backward()
    partial = out.grad.double().pow(2).sum((1, 2)).sqrt().numpy()
    last = 0 if kwargs.get("bidirectional") else -1  # nothing comes after it in the recurrence
    if not kwargs.get("bidirectional"):
        assert math.isclose(ours[last], partial[last], rel_tol=1e-5)
    if target_steps == "last":  # the head alone never reaches the earlier steps
        assert (partial[:-1] == 0).all() and (ours[:-1] > 0).all()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_hidden_grad_norms_stop_at_tbptt_chunk_boundaries(cell):
    model = build_model(cell, 1, 5, seed=1)
    x, y = torch.randn(10, 3, 1), torch.randn(10, 3, 1)
    loss_fn = SequenceLoss()
    ours = hidden_grad_norms(model, x, y, loss_fn, tbptt=4)
    np.testing.assert_allclose(ours, _perturbation_oracle(model, x, y, loss_fn, tbptt=4), rtol=1e-5)
    assert not np.allclose(ours, hidden_grad_norms(model, x, y, loss_fn))
    last = hidden_grad_norms(model, x, y[-1:], SequenceLoss("mse", "last"), tbptt=4)
    assert (last[:8] == 0).all() and (last[8:] > 0).all()  # only the last chunk feels the loss


def test_diagnostics_are_recorded_at_each_evaluation():
    tr = _toy(steps=30, eval_every=10, diagnostics_every=None)
    tr.run()
    assert tr.eval_steps == tr.hidden_grad_steps == [10, 20, 30]
    assert set(tr.grad_norms) == {n for n, _ in tr.model.named_parameters()}
    assert all(len(v) == 3 and all(g >= 0 for g in v) for v in tr.grad_norms.values())
    assert len(tr.hidden_grad_history) == 3 and tr.hidden_grads.shape == (10,)
    assert np.array_equal(tr.hidden_grads.astype(np.float32), tr.hidden_grad_history[-1])
    assert all(r["grad_norm"] > 0 for r in tr.history)
    # the global norm is the norm of the per-tensor norms
    at_30 = math.sqrt(sum(v[-1] ** 2 for v in tr.grad_norms.values()))
    assert math.isclose(tr.history[-1]["grad_norm"], at_30, rel_tol=1e-5)
    off = _toy(steps=10, diagnostics=False)
    off.run()
    assert off.hidden_grads is None and len(off.grad_norms["head.weight"]) == 1
    assert off.hidden_grad_steps == [] and off.diagnostics_seconds == 0


class _FakeClock:
    """Seconds that move only when told: each training batch costs ``step`` and each
    hidden_grad_norms ``diag`` (or the next of a list of costs, the last repeated); powers of
    two: exact sums, no ties decided by rounding."""

    def __init__(self, step, diag):
        self.now, self.step = 0.0, step
        self.costs = list(diag) if isinstance(diag, (list, tuple)) else [diag]

    @property
    def diag(self):
        return self.costs.pop(0) if len(self.costs) > 1 else self.costs[0]

    def __call__(self):
        return self.now


class _ClockedTask(ToyTask):
    def __init__(self, clock, **kw):
        super().__init__(**kw)
        self.clock = clock

    def train_batch(self, batch_size, generator):
        self.clock.now += self.clock.step
        return super().train_batch(batch_size, generator)


def _clocked(monkeypatch, step, diag, **train):
    clock = _FakeClock(step, diag)
    real = training._hidden_grad_norms

    def costly(*args):
        clock.now += clock.diag
        return real(*args)

    monkeypatch.setattr(training, "_hidden_grad_norms", costly)
    tr = _toy(task=_ClockedTask(clock), **train)
    tr._clock = clock
    return tr


@pytest.mark.parametrize(
    "diag, expected",
    [
        # a cheap diagnostic (1/128 s: 5 % of 0.16 s): one at the first evaluation, then at the
        # first evaluation at least 0.2 s of training after the end of the last (6.4 steps of
        # 1/32 s: 9 steps later, at an evaluation every 3), and at the last step
        (1 / 128, [3, 12, 21, 30, 31]),
        # 1/64 s is 5 % of 0.3125 s: the share sets the gap (10 steps: 12 later)
        (1 / 64, [3, 15, 27, 31]),
        # a costly one (0.25 s): the gap stretches to 0.25 / 5 % = 5 s = 160 steps (162 here)
        (1 / 4, [3, 165, 327, 340]),
    ],
)
def test_hidden_grad_norms_are_taken_on_a_time_budget(monkeypatch, diag, expected):
    steps = expected[-1]
    tr = _clocked(monkeypatch, 1 / 32, diag, steps=steps, eval_every=3, diagnostics_every=0.2)
    tr.run()
    assert tr.eval_steps == list(range(3, steps, 3)) + [steps]
    assert tr.hidden_grad_steps == expected
    assert len(tr.hidden_grad_history) == len(expected)
    assert tr.diagnostics_seconds == len(expected) * diag
    assert tr.elapsed == steps / 32 + len(expected) * diag
    # from one to the next, they take at most their share of the training time
    for a, b in zip(expected[:-2], expected[1:-1]):
        assert diag / ((b - a) / 32 + diag) <= DIAGNOSTICS_SHARE
    # every one is the value of an every-evaluation run at that step; training is untouched
    twin = _toy(steps=steps, eval_every=3, diagnostics_every=None)
    twin.run()
    assert twin.hidden_grad_steps == twin.eval_steps
    for s, value in zip(tr.hidden_grad_steps, tr.hidden_grad_history):
        assert np.array_equal(value, twin.hidden_grad_history[twin.eval_steps.index(s)]), s
    assert tr.history == twin.history and tr.grad_norms == twin.grad_norms
    for p, q in zip(tr.model.parameters(), twin.model.parameters()):
        assert torch.equal(p, q)


def test_one_slow_diagnostic_does_not_stretch_the_gap(monkeypatch):
    """The share uses the fastest one so far: the second, slowed down (say the process was
    preempted), does not delay the third by 0.25 / 5 % = 5 s."""
    tr = _clocked(
        monkeypatch,
        1 / 32,
        [1 / 128, 1 / 4, 1 / 128],
        steps=31,
        eval_every=3,
        diagnostics_every=0.2,
    )
    tr.run()
    assert tr.hidden_grad_steps == [3, 12, 21, 30, 31]
    assert tr.diagnostics_seconds == 4 / 128 + 1 / 4


def test_the_gap_counts_training_time_only_and_an_auto_stop_is_diagnosed(monkeypatch):
    # run in slices, as the page does: the time between run() calls does not count
    tr = _clocked(
        monkeypatch,
        1 / 32,
        1 / 128,
        steps=2000,
        lr=0.02,
        eval_every=4,
        diagnostics_every=0.2,
        target_loss=0.05,
    )
    while not tr.done:
        tr.run(max_steps=3)
        tr._clock.now += 100.0  # a long pause
    assert tr.status == "done" and "target" in tr.message
    stop = tr.step
    assert tr.hidden_grad_steps[-1] == stop and tr.hidden_grad_steps[0] == 4
    assert all(b - a == 8 for a, b in zip(tr.hidden_grad_steps[:-2], tr.hidden_grad_steps[1:-1]))
    assert np.array_equal(tr.hidden_grads.astype(np.float32), tr.hidden_grad_history[-1])


def test_the_trainers_cached_diagnostics_equal_the_public_function():
    """The trainer reuses its meta modules across evaluations (two layers, both directions)."""
    model = build_model("gru", 1, 6, num_layers=2, bidirectional=True, seed=2)
    tr = _toy(model=model, steps=20, eval_every=5, diagnostics_every=None)
    tr.run()
    assert tr.hidden_grad_steps == [5, 10, 15, 20] and len(tr._meta_cache) == 2
    fresh = hidden_grad_norms(model, *tr._diag_batch, tr.loss_fn)
    np.testing.assert_array_equal(tr.hidden_grads, fresh)
    np.testing.assert_allclose(
        fresh, _perturbation_oracle(model, *tr._diag_batch, tr.loss_fn), rtol=1e-5
    )


class _SqrtAtZero(torch.nn.Module):
    """A toy model with a finite output but an infinite gradient when the batch is all zeros:
    d sqrt(a·s)/da = s / (2 sqrt(a·s)) is 0/0 at s = 0."""

    def __init__(self):
        super().__init__()
        self.inner = build_model("lstm", 1, 8, seed=0)
        self.a = torch.nn.Parameter(torch.ones(()))

    def forward(self, x):
        return self.inner(x) + 0.0 * torch.sqrt(self.a * x.abs().sum())


def test_a_non_finite_gradient_stops_before_its_update():
    tr = _toy(task=ToyTask(zero_batch=3), model=_SqrtAtZero(), steps=20)
    tr.run()
    assert tr.status == "diverged" and tr.step == 2 and len(tr.history) == 2
    assert "gradient norm became nan at step 3" in tr.message and "Reset" in tr.message
    assert math.isfinite(tr.history[-1]["train_loss"])
    twin = _toy(task=ToyTask(), model=_SqrtAtZero(), steps=2)
    twin.run()
    for p, q in zip(tr.model.parameters(), twin.model.parameters()):
        assert torch.equal(p, q)  # exactly the weights after two steps


def test_a_non_finite_loss_rolls_back_to_the_weights_of_the_last_finite_loss():
    tr = _toy(task=ToyTask(nan_batch=5), steps=20)  # call 1 draws the diagnostics batch
    tr.run()
    assert tr.status == "diverged" and "rolled back" in tr.message and tr.step == 3
    twin = _toy(steps=2)  # the weights that gave step 3 its (finite) loss
    twin.run()
    for p, q in zip(tr.model.parameters(), twin.model.parameters()):
        assert torch.equal(p, q)


def test_pause_and_resume_equals_uninterrupted_run_with_every_feature_on():
    cfg = dict(
        steps=37,
        optimizer="sgd_momentum",
        lr=0.02,
        momentum=0.7,
        weight_decay=1e-3,
        clip_norm=0.5,
        tbptt=3,
        eval_every=4,
        patience=50,
        target_loss=1e-9,
        seed=7,
        diagnostics_every=None,
    )
    a, b = _toy(**cfg), _toy(**cfg)
    a.run()
    for chunk in (5, 1, 3, 11, 100):
        b.run(max_steps=chunk)
    assert a.step == b.step == 37 and a.status == b.status == "done"
    for p, q in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(p, q)
    assert a.history == b.history and a.grad_norms == b.grad_norms
    assert a.hidden_grad_steps == b.hidden_grad_steps == a.eval_steps
    assert all(np.array_equal(u, v) for u, v in zip(a.hidden_grad_history, b.hidden_grad_history))


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(optimizer="adamw"), "optimizer must be one of"),
        (dict(momentum=1.0), "momentum"),
        (dict(weight_decay=-1.0), "weight_decay"),
        (dict(tbptt=0), "tbptt"),
        (dict(tbptt=2.5), "tbptt"),
        (dict(patience=0), "patience"),
        (dict(target_loss=float("nan")), "target_loss"),
        (dict(clip_norm=0.0), "clip_norm"),
        (dict(min_delta=-0.1), "min_delta"),
        (dict(steps=0), "steps"),
        (dict(diagnostics="yes"), "diagnostics"),
        (dict(diagnostics_every=0), "diagnostics_every"),
        (dict(diagnostics_every=-0.5), "diagnostics_every"),
        (dict(diagnostics_every=float("inf")), "diagnostics_every"),
        (dict(diagnostics_every="1"), "diagnostics_every"),
    ],
)
def test_config_refuses_bad_values(bad, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(**bad)
