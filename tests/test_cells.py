"""The step functions of explorer.cells against torch's own modules (the ground truth)."""

import pytest
import torch

from explorer import cells


def _weights(m, layer=0):
    p = dict(m.named_parameters())
    return {k: p.get(f"{k}_l{layer}") for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("proj", [0, 2])
def test_lstm_step_equals_nn_lstm(bias, proj):
    torch.manual_seed(0)
    m = torch.nn.LSTM(3, 5, bias=bias, proj_size=proj)
    x = torch.randn(9, 3)
    out, (h_n, c_n) = m(x)
    w = _weights(m)
    w_hr = m.weight_hr_l0 if proj else None
    h, c, hs = torch.zeros(proj or 5), torch.zeros(5), []
    with torch.no_grad():
        for x_t in x:
            h, c = cells.lstm_step(x_t, h, c, *w.values(), w_hr)
            hs.append(h)
    torch.testing.assert_close(torch.stack(hs), out.detach(), atol=1e-6, rtol=0)
    torch.testing.assert_close(c, c_n[0].detach(), atol=1e-6, rtol=0)


@pytest.mark.parametrize("bias", [True, False])
def test_gru_and_rnn_steps_equal_torch(bias):
    torch.manual_seed(1)
    x = torch.randn(8, 2, 3)  # (T, B, in): the step functions take leading batch dimensions
    for m, step in (
        (torch.nn.GRU(3, 4, bias=bias), cells.gru_step),
        (torch.nn.RNN(3, 4, bias=bias, nonlinearity="relu"), None),
    ):
        out, _ = m(x)
        h, hs = torch.zeros(2, 4), []
        with torch.no_grad():
            for x_t in x:
                if step is None:
                    h = cells.rnn_step(x_t, h, *_weights(m).values(), nonlinearity="relu")
                else:
                    h = step(x_t, h, *_weights(m).values())
                hs.append(h)
        torch.testing.assert_close(torch.stack(hs), out.detach(), atol=1e-6, rtol=0)


def test_fixed_gates_are_used_before_their_consumers():
    torch.manual_seed(2)
    gi, gh = torch.randn(3 * 4), torch.randn(3 * 4)
    r, z, n = cells.gru_gates(gi, gh, fixed={"r": 0.0})
    assert torch.all(r == 0)
    # with r = 0 the recurrent part of n vanishes: n = tanh(W_in x + b_in)
    torch.testing.assert_close(n, torch.tanh(gi[8:]))
    i, f, g, o = cells.lstm_gates(torch.randn(16), fixed={"f": 1.0, "g": -1.0})
    assert torch.all(f == 1) and torch.all(g == -1)
    h, c = cells.lstm_state(i, f, g, o, torch.full((4,), 0.5))
    torch.testing.assert_close(c, 0.5 - i)  # c' = 1 · 0.5 + i · (-1)
