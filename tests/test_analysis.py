"""PCA trajectory, gate saturation, display stride, the textbook RNN and the forget-bias trick."""

import numpy as np
import pytest
import torch

from explorer import build_model, trace
from explorer.analysis import display_stride, pca_2d, saturation
from explorer.models import forget_bias, set_forget_bias
from explorer.textbook import TextbookRNN


def test_pca_recovers_a_planar_path():
    t = np.linspace(0, 2 * np.pi, 50)
    basis = np.linalg.qr(np.random.default_rng(0).standard_normal((6, 2)))[
        0
    ].T  # (2, 6) orthonormal
    states = np.c_[3 * np.cos(t), np.sin(t)] @ basis + 5.0  # an ellipse inside 6-D, offset
    coords, explained = pca_2d(states)
    assert explained.sum() == pytest.approx(1.0)
    assert explained[0] == pytest.approx(9 / 10, abs=0.02)  # variance 9/2 vs 1/2
    np.testing.assert_allclose(
        np.abs(coords[:, 0]), np.abs(3 * np.cos(t) - (3 * np.cos(t)).mean()), atol=1e-6
    )


def test_pca_degenerate_inputs():
    coords, explained = pca_2d(np.ones((5, 3)))
    assert not coords.any() and not explained.any()
    coords, explained = pca_2d(np.arange(4.0)[:, None])  # H = 1
    assert explained[1] == 0 and np.ptp(coords[:, 0]) == pytest.approx(3.0)


def test_saturation_counts_and_skips_tanh_quantities():
    gates = {
        "f": np.array([0.95, 0.99, 0.5, 0.05]),
        "g": np.array([-1.0, 1.0]),
        "i": np.array([0.1, 0.9]),
    }
    stats = saturation(gates)
    assert stats["f"] == (0.25, 0.5)
    assert stats["i"] == (0.0, 0.0)  # 0.1 is not below 0.1, 0.9 is not above 0.9
    assert "g" not in stats


def test_display_stride():
    assert display_stride(300) == 1 and display_stride(301) == 2 and display_stride(5000) == 17


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_textbook_rnn_equals_nn_rnn(nonlinearity):
    torch.manual_seed(0)
    rnn = torch.nn.RNN(10, 20, nonlinearity=nonlinearity)
    x = torch.randn(5, 10)
    with torch.no_grad():
        out, _ = rnn(x.unsqueeze(1))
        ours = TextbookRNN.from_torch(rnn).forward(x)
    torch.testing.assert_close(ours, out.squeeze(1), atol=1e-6, rtol=0)
    textbook = TextbookRNN.from_torch(rnn)
    assert textbook.W_xh.shape == (10, 20)  # the transposed layout
    torch.testing.assert_close(textbook.b_h, (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach())
    with pytest.raises(TypeError):
        TextbookRNN.from_torch(torch.nn.LSTM(2, 3))


def test_forget_bias_trick_sets_every_layer_and_direction():
    model = build_model("lstm", 2, 5, num_layers=2, bidirectional=True, seed=3)
    before = {n: p.clone() for n, p in model.rnn.named_parameters()}
    set_forget_bias(model.rnn, 1.0)
    effective = forget_bias(model.rnn)
    assert set(effective) == {"l0", "l0_reverse", "l1", "l1_reverse"}
    for v in effective.values():
        torch.testing.assert_close(v, torch.ones(5))
    for n, p in model.rnn.named_parameters():  # only the f slice of the biases changed
        if n.startswith("bias"):
            assert torch.equal(p[:5], before[n][:5]) and torch.equal(p[10:], before[n][10:])
        else:
            assert torch.equal(p, before[n])
    # with zero input and state the forget gate is σ(1) everywhere
    tr = trace(model.rnn, torch.zeros(1, 2))
    torch.testing.assert_close(
        tr.gates["f"][0, :, 0],
        torch.full((2, 5), float(torch.sigmoid(torch.tensor(1.0)))),
        atol=1e-6,
        rtol=0,
    )
    with pytest.raises(TypeError):
        set_forget_bias(torch.nn.GRU(1, 2))
    with pytest.raises(ValueError):
        set_forget_bias(torch.nn.LSTM(1, 2, bias=False))


def test_gate_bands_share_every_value_once():
    from explorer.analysis import gate_bands

    f = np.array([0.05, 0.1, 0.2, 0.5, 0.8, 0.95, 0.99, 0.5])
    bands = gate_bands({"f": f, "g": f})
    assert list(bands) == ["f"]  # tanh quantities are not gates
    assert bands["f"] == [1 / 8, 2 / 8, 2 / 8, 1 / 8, 2 / 8]  # 0.1 counts in the band above
