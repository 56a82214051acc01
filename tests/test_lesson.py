"""The Learn page's computations against torch: the tiny model's numbers are nn.RNN's, the
gradient norms are torch.autograd's, the counts are the modules' own, and the from-scratch
cells give the torch modules' outputs."""

import numpy as np
import pytest
import torch
import torch.nn as nn

from explorer import lesson, tutorial
from explorer.equations import latex_number


def _seeded(make, seed):
    """What ``make()`` builds right after ``torch.manual_seed(seed)`` (the global RNG restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make()


# ----------------------------------------------------------------------------- 2. how it runs


@pytest.mark.parametrize(
    "X,H,O,T,seed,f", [(1, 2, 1, 3, 0, "tanh"), (3, 4, 2, 6, 7, "tanh"), (2, 3, 1, 5, 1, "relu")]
)
def test_tiny_run_numbers_are_nn_rnns(X, H, O, T, seed, f):
    run = lesson.tiny_run(X, H, O, T, seed, f)
    # an independent nn.RNN + nn.Linear with the same seed and input
    rnn, head = _seeded(lambda: (nn.RNN(X, H, nonlinearity=f), nn.Linear(H, O)), seed)
    x = lesson.tiny_input(T, X, seed)
    with torch.no_grad():
        out, _ = rnn(x)
        y = head(out)
    np.testing.assert_array_equal(run.W_xh, rnn.weight_ih_l0.detach().numpy())
    np.testing.assert_array_equal(run.W_hh, rnn.weight_hh_l0.detach().numpy())
    np.testing.assert_array_equal(run.W_hy, head.weight.detach().numpy())
    b_h = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy()
    np.testing.assert_allclose(run.b_h, b_h, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(run.x, x.numpy())
    assert (run.h[0] == 0).all()  # h_0
    np.testing.assert_allclose(run.h[1:], out.numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(run.y, y.numpy(), rtol=0, atol=1e-6)
    assert run.max_abs_diff < 1e-6
    # each step, recomputed in float64 from torch's parameters with the one summed bias
    W_hh, W_xh = (w.detach().double().numpy() for w in (rnn.weight_hh_l0, rnn.weight_ih_l0))
    act = np.tanh if f == "tanh" else (lambda a: np.maximum(a, 0))
    h = np.zeros(H)
    for t in range(T):
        a = W_hh @ h + W_xh @ x[t].double().numpy() + b_h
        np.testing.assert_allclose(run.recurrent[t], W_hh @ h, atol=1e-6)
        np.testing.assert_allclose(run.pre[t], a, atol=1e-6)
        h = act(a)
        np.testing.assert_allclose(run.h[t + 1], h, atol=1e-6)


def test_step_latex_shows_the_steps_numbers():
    run = lesson.tiny_run(2, 3, 1, 4, 0)
    lines = lesson.step_latex(run, 3)
    assert lines[0].startswith(r"h_{3} = \tanh(a_{3})")
    products = lines[1] + lines[2]
    for v in [*run.W_hh.ravel(), *run.h[2], *run.W_xh.ravel(), *run.x[2]]:
        assert latex_number(v, 2) in products
    assert lines[3].endswith("= " + lesson.latex_matrix(run.pre[2]))
    assert lines[4].endswith("= " + lesson.latex_matrix(run.h[3]))  # h_3, after tanh
    assert lines[5].endswith("= " + lesson.latex_matrix(run.y[2]))
    with pytest.raises(ValueError, match="between 1 and T = 4"):
        lesson.step_latex(run, 5)


def test_latex_matrix_never_prints_minus_zero():
    text = lesson.latex_matrix(np.array([[-0.001, 0.5], [-1.25, 0.0]]))
    assert "-0.00" not in text and "0.00 & 0.50" in text and "-1.25" in text
    assert r"\begin{array}{rr}" in text


# ----------------------------------------------------------------------------- 3. three kinds


@pytest.mark.parametrize("rho", [0.5, 1.0, 1.5])
def test_scaled_rnn_has_the_spectral_radius(rho):
    rnn = lesson.scaled_rnn(8, rho, seed=3)
    eig = torch.linalg.eigvals(rnn.weight_hh_l0.detach())
    assert eig.abs().max().item() == pytest.approx(rho, rel=1e-9)
    fresh = _seeded(lambda: nn.RNN(1, 8), 3).weight_hh_l0.detach().double()
    ratio = rnn.weight_hh_l0.detach() / fresh  # the same matrix, only scaled
    np.testing.assert_allclose(ratio.numpy(), ratio[0, 0].item(), rtol=1e-6)


@pytest.mark.parametrize("rho,f", [(0.6, "tanh"), (1.0, "tanh"), (1.4, "tanh"), (1.3, "relu")])
def test_gradient_norms_equal_torch_autograd(rho, f):
    T, H = 12, 5
    rnn = lesson.scaled_rnn(H, rho, seed=1, nonlinearity=f)
    x = torch.as_tensor(lesson.lesson_signal("noise", T, seed=2), dtype=torch.float64)[:, None]
    flow = lesson.gradient_flow(rnn, x)
    assert flow.T == T and flow.norms[T] == 1.0 and flow.rho == pytest.approx(rho)
    for t in (0, 3, 7, T - 1):
        with torch.no_grad():
            h_t = rnn(x[:t])[1][0] if t else torch.zeros(H, dtype=torch.float64)

        def to_end(h, t=t):
            return rnn(x[t:], h[None])[1][0]  # nn.RNN from h_t to h_T

        J = torch.autograd.functional.jacobian(to_end, h_t)  # (H, H) = ∂h_T/∂h_t
        assert flow.norms[t] == pytest.approx(torch.linalg.matrix_norm(J, 2).item(), rel=1e-9)
        W_k = torch.linalg.matrix_power(rnn.weight_hh_l0.detach(), T - t)
        assert flow.linear[t] == pytest.approx(torch.linalg.matrix_norm(W_k, 2).item(), rel=1e-9)


def test_gradients_vanish_below_one_and_the_matrix_explodes_above():
    x = torch.as_tensor(lesson.lesson_signal("pulse", 40), dtype=torch.float64)[:, None]
    low = lesson.gradient_flow(lesson.scaled_rnn(6, 0.5), x)
    high = lesson.gradient_flow(lesson.scaled_rnn(6, 1.5), x)
    assert low.norms[0] < 1e-9 and low.linear[0] < 1e-9
    assert high.linear[0] > 1e5  # ‖W_hh^40‖ grows like 1.5^40 ≈ 1e7
    with pytest.raises(ValueError, match="positive"):
        lesson.scaled_rnn(4, 0.0)


def test_kind_trace_is_torchs_run():
    x = lesson.lesson_signal("sine", 20)
    q = lesson.kind_trace("lstm", x, 4, seed=5, gate_bias=("f", 2.0))
    lstm = _seeded(lambda: nn.LSTM(1, 4), 5)
    with torch.no_grad():
        lstm.bias_ih_l0[4:8] = 2.0
        lstm.bias_hh_l0[4:8] = 0.0
        out, (_, c_n) = lstm(torch.as_tensor(x)[:, None])
    np.testing.assert_allclose(q["h"], out.numpy(), atol=1e-6)
    np.testing.assert_allclose(q["c"][-1], c_n[0].numpy(), atol=1e-6)
    assert set(q) == {"h", "c", "i", "f", "g", "o"}


def test_pulse_memory_is_the_distance_between_two_torch_runs():
    x = lesson.lesson_signal("noise", 25, seed=4)
    curves = lesson.pulse_memory(x, 5, seed=2, at=3, rho=0.8)
    assert list(curves) == ["RNN h_t", "LSTM c_t", "LSTM h_t", "GRU h_t"]
    rnn = lesson.scaled_rnn(5, 0.8, seed=2)
    nudged = x.astype(np.float64).copy()
    nudged[2] += 1.0
    with torch.no_grad():
        a = rnn(torch.as_tensor(x, dtype=torch.float64)[:, None])[0]
        b = rnn(torch.as_tensor(nudged)[:, None])[0]
    np.testing.assert_allclose(
        curves["RNN h_t"], torch.linalg.norm(b - a, dim=1).numpy(), rtol=1e-9, atol=1e-12
    )
    assert (curves["GRU h_t"][:2] == 0).all() and curves["GRU h_t"][2] > 0
    # a forget gate held open keeps the nudge in c_t far longer
    keep = lesson.pulse_memory(x, 5, seed=2, forget_bias=5.0)["LSTM c_t"][-1]
    drop = lesson.pulse_memory(x, 5, seed=2, forget_bias=-2.0)["LSTM c_t"][-1]
    assert keep > 100 * drop


def test_lesson_signal():
    pulse = lesson.lesson_signal("pulse", 10)
    assert pulse[2] == 1.0 and pulse.sum() == 1.0  # t = 3, counting from 1
    assert lesson.lesson_signal("square", 8).tolist() == [1, 1, -1, -1, 1, 1, -1, -1]
    with pytest.raises(ValueError, match="input kind"):
        lesson.lesson_signal("chirp", 10)


# ----------------------------------------------------------------------------- 4. counting


@pytest.mark.parametrize("X,H,O", [(10, 20, 1), (3, 7, 2), (1, 1, 1), (256, 64, 5)])
def test_counts_equal_the_modules(X, H, O):
    head = nn.Linear(H, O)
    for row in lesson.parameter_rows(X, H, O):
        module = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[row.cell](X, H)
        real = sum(p.numel() for p in module.parameters())
        assert row.torch_rnn == real
        assert row.torch_total == real + sum(p.numel() for p in head.parameters())
        # the textbook: every tensor but the second bias
        one_bias = sum(p.numel() for n, p in module.named_parameters() if "bias_hh" not in n)
        assert row.textbook == one_bias + H * O + O
        assert row.difference == module.bias_hh_l0.numel() == row.G * H
        assert (row.W_xh, row.W_hh, row.b_h) == (
            module.weight_ih_l0.numel(),
            module.weight_hh_l0.numel(),
            module.bias_ih_l0.numel(),
        )


def test_count_latex_writes_the_numbers():
    rows = lesson.parameter_rows(3, 7, 2)
    gru = next(r for r in rows if r.cell == "gru")
    assert gru.torch_rnn == 252  # nn.GRU(3, 7), as in the README
    text = lesson.count_latex(gru, 3, 7, 2)
    assert r"3\,(7\cdot3 + 7^2 + 7) + 2\cdot7 + 2 = \mathbf{247}" in text
    assert r"247 + 3\cdot 7 = \mathbf{268}" in text
    with pytest.raises(ValueError, match="H must be"):
        lesson.parameter_rows(3, 0, 1)


# ----------------------------------------------------------------------------- 6. the code


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_code_comparison_against_torch(cell):
    run = lesson.code_comparison(cell, seed=3)
    x, _ = tutorial.tutorial_data(3)
    module = _seeded(lambda: {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](10, 20), 3)
    with torch.no_grad():
        out = module(x)[0]
        if cell == "rnn":
            head = _seeded(lambda: (nn.RNN(10, 20), nn.Linear(20, 1))[1], 3)
            out = head(out)
    np.testing.assert_allclose(run.torch, out.numpy(), atol=1e-6)
    assert run.scratch.shape == run.torch.shape == ((5, 1) if cell == "rnn" else (5, 20))
    assert 0 < run.max_abs_diff < 1e-5  # float32 rounding, not bit-equal code paths
    assert f"nn.{ {'rnn': 'RNN', 'lstm': 'LSTM', 'gru': 'GRU'}[cell] }(" in run.torch_code
    assert '"""' not in run.scratch_code and "def " in run.scratch_code


def test_count_row_weights_and_biases_are_the_textbook_terms():
    rnn, lstm = lesson.parameter_rows(3, 5, 2)[:2]
    assert (rnn.cell, rnn.weights, rnn.biases) == ("rnn", 5 * 3 + 5 * 5 + 2 * 5, 5 + 2)
    assert (lstm.cell, lstm.weights, lstm.biases) == ("lstm", 4 * 5 * 3 + 4 * 5 * 5 + 10, 20 + 2)
    assert rnn.weights + rnn.biases == rnn.textbook


def test_gradient_flows_are_the_scaled_nets_flows():
    x = lesson.lesson_signal("pulse", 12, 0)
    flow, refs = lesson.gradient_flows(x, 4, 0.75, 1, "tanh")
    one = lesson.gradient_flow(lesson.scaled_rnn(4, 0.75, 1, "tanh"), x[:, None])
    np.testing.assert_array_equal(flow.norms, one.norms)
    assert len(refs) == len(lesson.REFERENCE_RHOS) - 1  # 0.75 is one of them
    assert sorted(r.rho for r in refs) == pytest.approx([0.5, 1.0, 1.25, 1.5], abs=1e-4)


def test_gradient_verdicts():
    def flow(far):
        return lesson.GradientFlow(np.array([far, 1.0]), np.array([far, 1.0]), 1.0, "tanh")

    assert flow(1e-3).verdict.startswith("vanished: a loss at step T can teach")
    assert flow(1e3).verdict.startswith("exploded")
    assert flow(0.5).verdict == "neither vanished nor exploded over this length"


def test_count_table_columns_are_the_rows_terms():
    rows = lesson.parameter_rows(10, 20, 1)
    table = lesson.count_table(rows)
    assert list(table) == [
        *("cell", "W_xh", "W_hh", "b_h", "W_hy", "b_y", "textbook", "torch.nn", "+ b_hh")
    ]
    assert table["cell"] == ["Vanilla RNN (G = 1)", "LSTM (G = 4)", "GRU (G = 3)"]
    assert table["W_hh"] == [400, 1600, 1200] and table["torch.nn"][1] == 4 * (20 * 30 + 40) + 21
    assert table["+ b_hh"] == [20, 80, 60]
