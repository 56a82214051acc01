"""The tutorial's example: the from-scratch RNN and nn.RNN give the same loss at every epoch."""

import numpy as np
import pytest
import torch

from explorer.textbook import TextbookRNN
from explorer.tutorial import (
    run_tutorial,
    scratch_forward,
    textbook_parameters,
    torch_modules,
    tutorial_data,
)


def _plain_loop(seed=0, epochs=100, lr=0.01):
    """The tutorial written out once more, independently: torch.optim.SGD on the leaf tensors."""
    x, y = tutorial_data(seed)
    p = textbook_parameters(seed)
    W_xh, W_hh, b_h, W_hy, b_y = (p[k] for k in ("W_xh", "W_hh", "b_h", "W_hy", "b_y"))
    optimizer = torch.optim.SGD([W_xh, W_hh, b_h, W_hy, b_y], lr=lr)
    losses = []
    for _ in range(epochs):
        h, outputs = torch.zeros(20), []
        for t in range(x.shape[0]):
            h = torch.tanh(x[t] @ W_xh + h @ W_hh + b_h)
            outputs.append(h @ W_hy + b_y)
        loss = torch.nn.functional.mse_loss(torch.stack(outputs), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_setup_is_the_tutorials():
    x, y = tutorial_data()
    assert x.shape == (5, 10) and y.shape == (5, 1)
    p = textbook_parameters()
    assert {k: tuple(v.shape) for k, v in p.items()} == {
        "W_xh": (10, 20),
        "W_hh": (20, 20),
        "b_h": (20,),
        "W_hy": (20, 1),
        "b_y": (1,),
    }
    assert all(v.is_leaf and v.requires_grad for v in p.values())


def test_nn_rnn_holds_the_same_numbers():
    x, _ = tutorial_data()
    p = textbook_parameters()
    rnn, head = torch_modules(p)
    assert torch.allclose(head(rnn(x)[0]), scratch_forward(p, x), atol=1e-6)
    textbook = TextbookRNN.from_torch(rnn)  # the app's own conversion goes back to p
    assert torch.equal(textbook.W_xh, p["W_xh"]) and torch.equal(textbook.b_h, p["b_h"])


def test_both_curves_match_each_other_and_a_plain_loop_at_every_epoch():
    lines = []
    run = run_tutorial(print_fn=lines.append)
    assert len(run.scratch) == len(run.torch) == 100
    np.testing.assert_allclose(run.scratch, run.torch, rtol=0, atol=1e-6)
    np.testing.assert_allclose(run.scratch, _plain_loop(), rtol=0, atol=1e-6)
    assert run.scratch[-1] < 0.1 * run.scratch[0]
    assert all(b < a for a, b in zip(run.scratch, run.scratch[1:]))  # decreases every epoch
    assert lines == run.log and len(lines) == 10
    assert lines[0].startswith("Epoch  10/100, loss ") and f"{run.scratch[9]:.6f}" in lines[0]


def test_training_both_pytorch_biases_is_not_the_one_bias_rnn():
    run = run_tutorial(seed=1)
    assert run.torch_two_biases[0] == run.torch[0]  # same start
    assert max(abs(a - b) for a, b in zip(run.torch, run.torch_two_biases)) > 1e-3


def test_the_tutorials_torch_mm_line_fails_and_the_corrected_line_runs():
    from explorer.tutorial import CORRECTED_LINE, ORIGINAL_LINE, original_error

    x, _ = tutorial_data()
    p = textbook_parameters()
    scope = {"torch": torch, "x": x, "t": 0, "x_t": x[0], "h": torch.zeros(20), **p}
    with pytest.raises(RuntimeError) as err:
        exec(ORIGINAL_LINE, dict(scope))
    assert str(err.value) == original_error()  # the message the Learn page shows
    exec(CORRECTED_LINE, scope)
    rnn, _ = torch_modules(p)
    with torch.no_grad():
        assert torch.allclose(scope["h"], rnn(x[:1])[0][0], atol=1e-6)  # h_1, as nn.RNN


def test_textbook_from_torch_inverts_torch_modules():
    from explorer.tutorial import textbook_from_torch

    p = textbook_parameters(2)
    rnn, head = torch_modules(p)
    with torch.no_grad():
        rnn.bias_hh_l0.fill_(0.25)  # two biases: the textbook's b_h is their sum
    back = textbook_from_torch(rnn, head)
    for name in ("W_xh", "W_hh", "W_hy", "b_y"):
        assert torch.equal(back[name], p[name].detach()), name
    assert torch.allclose(back["b_h"], p["b_h"].detach() + 0.25)
    x, _ = tutorial_data(2)
    with torch.no_grad():
        assert torch.allclose(scratch_forward(back, x), head(rnn(x)[0]), atol=1e-6)
