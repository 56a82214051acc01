"""explorer.stepping: the Step-through view's numbers, checked against torch's own modules."""

import math

import numpy as np
import pytest
import torch

from explorer import trace
from explorer.models import set_forget_bias
from explorer.stepping import (
    clamp_comparison,
    forget_bias_spans,
    hidden_layers,
    step_labels,
    step_numbers,
    textbook_rnn_difference,
)


def _lstm(**kw):
    gen = torch.Generator().manual_seed(3)
    rnn = torch.nn.LSTM(2, 4, **kw)
    with torch.no_grad():
        for p in rnn.parameters():
            p.copy_(torch.rand(p.shape, generator=gen) - 0.5)
    x = torch.randn(6, 2, generator=gen)
    return rnn, x


@pytest.mark.parametrize("direction", [0, 1])
def test_step_numbers_are_torchs_outputs(direction):
    rnn, x = _lstm(num_layers=2, bidirectional=True)
    with torch.no_grad():
        out, (h_n, c_n) = rnn(x)  # torch's own outputs: (T, D·H), last layer
    numbers = step_numbers(rnn, trace(rnn, x), x, cell="lstm", layer=1, direction=direction, unit=2)
    h = numbers.quantities["h"]
    assert h.shape == (6, 4) and h.dtype == np.float32
    np.testing.assert_allclose(h, out[:, 4 * direction : 4 * direction + 4].numpy(), atol=1e-6)
    last = 5 if direction == 0 else 0  # the reverse direction ends at position 0
    np.testing.assert_allclose(numbers.quantities["c"][last], c_n[2 + direction], atol=1e-6)
    np.testing.assert_allclose(numbers.diagram["h"], h[:, 2], atol=1e-6)
    assert set(numbers.diagram) >= {"i", "f", "g", "o", "c", "c_prev", "h_prev"}
    assert "x" not in numbers.diagram  # above layer 0, x_t is the layer below's h_t
    assert numbers.at(3)["h"].tolist() == h[2].tolist()


def test_layer_zero_shows_the_signal_and_labels_each_step():
    rnn, x = _lstm()
    numbers = step_numbers(rnn, trace(rnn, x), x, cell="lstm", layer=0, direction=0, unit=0)
    np.testing.assert_array_equal(numbers.diagram["x"], x[:, 0].numpy())
    assert numbers.labels[1] == f"x_t = {x[1, 0].item():.3f}"
    lo, hi = numbers.value_range()
    every = np.concatenate([v.ravel() for v in numbers.quantities.values()])
    assert lo == pytest.approx(1.1 * min(0.0, every.min()))
    assert hi == pytest.approx(1.1 * max(1.0, every.max()))


def test_text_labels_name_the_character():
    x = torch.eye(3)[[2, 0, 1, 2]]
    assert step_labels(x, ["a", "b", " "]) == ["input ' '", "input 'a'", "input 'b'", "input ' '"]


def test_textbook_rnn_matches_nn_rnn():
    gen = torch.Generator().manual_seed(0)
    rnn = torch.nn.RNN(3, 5, num_layers=2)
    x, h0 = torch.randn(7, 3, generator=gen), torch.randn(2, 5, generator=gen)
    diff = textbook_rnn_difference(rnn, x, trace(rnn, x, h0), h0)
    assert 0 <= diff < 1e-5
    other = trace(rnn, x)  # from zeros: not the run the textbook loop started from h0
    assert textbook_rnn_difference(rnn, x, other, h0) > 1e-3


def test_forget_bias_spans_and_layers():
    rnn, x = _lstm(num_layers=2)
    set_forget_bias(rnn, 1.0)
    spans = forget_bias_spans(rnn)
    assert set(spans) == {"l0", "l1"}
    assert all(
        math.isclose(lo, 1.0, abs_tol=1e-6) and math.isclose(hi, 1.0, abs_tol=1e-6)
        for lo, hi in spans.values()
    )
    with torch.no_grad():
        out, _ = rnn(x)
    np.testing.assert_allclose(hidden_layers(trace(rnn, x))[1, 0], out.numpy(), atol=1e-6)


def test_clamp_comparison_takes_the_cell_state_of_a_unit():
    rnn, x = _lstm(proj_size=2)
    tr = trace(rnn, x)
    name, u, normal, clamped = clamp_comparison(tr, tr, layer=0, direction=0, unit=3)
    assert (name, u) == ("c", 3)  # c_t keeps H = 4 units with proj_size 2
    np.testing.assert_array_equal(normal, tr.cell[0, 0, :, 3].numpy())
    np.testing.assert_array_equal(clamped, normal)
