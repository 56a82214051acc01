"""Oracle tests: explorer.trace against torch's own forward and its documented equations."""

import random

import pytest
import torch
from reference import reference

from explorer import trace

CONFIGS = [
    (torch.nn.RNN, dict(nonlinearity="tanh")),
    (torch.nn.RNN, dict(nonlinearity="relu", num_layers=2)),
    (torch.nn.RNN, dict(bias=False, bidirectional=True)),
    (torch.nn.LSTM, dict()),
    (torch.nn.LSTM, dict(proj_size=3)),
    (torch.nn.LSTM, dict(proj_size=2, num_layers=3, bidirectional=True)),
    (torch.nn.LSTM, dict(bias=False, num_layers=2)),
    (torch.nn.LSTM, dict(batch_first=True, bidirectional=True)),
    (torch.nn.GRU, dict()),
    (torch.nn.GRU, dict(num_layers=2, bidirectional=True)),
    (torch.nn.GRU, dict(bias=False, num_layers=3)),
]


def _torch_forward(rnn, x, h0, c0):
    xb = x.unsqueeze(0) if rnn.batch_first else x.unsqueeze(1)
    hx = (h0.unsqueeze(1), c0.unsqueeze(1)) if isinstance(rnn, torch.nn.LSTM) else h0.unsqueeze(1)
    with torch.no_grad():
        out, hn = rnn(xb, hx)
    out = out.squeeze(0) if rnn.batch_first else out.squeeze(1)
    if isinstance(hn, tuple):
        return out, hn[0].squeeze(1), hn[1].squeeze(1)
    return out, hn.squeeze(1), None


def _last(states, D):
    """h_n / c_n in torch's (L·D, ·) layout: forward ends at t = T-1, reverse at t = 0."""
    L = states.shape[0]
    return torch.stack([states[l, d, -1 if d == 0 else 0] for l in range(L) for d in range(D)])


@pytest.mark.parametrize("T", [1, 2, 17])
@pytest.mark.parametrize("cls,kwargs", CONFIGS)
def test_trace_matches_torch(cls, kwargs, T):
    torch.manual_seed(T)
    rnn = cls(3, 5, **kwargs)
    D, L = (2 if rnn.bidirectional else 1), rnn.num_layers
    H_out = kwargs.get("proj_size") or 5
    x = torch.randn(T, 3)
    h0 = 0.5 * torch.randn(L * D, H_out)
    c0 = 0.5 * torch.randn(L * D, 5)
    tr = trace(rnn, x, h0, c0 if cls is torch.nn.LSTM else None)
    out, h_n, c_n = _torch_forward(rnn, x, h0, c0)

    assert tr.hidden.shape == (L, D, T, H_out)
    # last layer's h_t, both directions side by side, is torch's output
    torch.testing.assert_close(
        tr.hidden[-1].permute(1, 0, 2).reshape(T, -1), out, atol=1e-5, rtol=0
    )
    torch.testing.assert_close(_last(tr.hidden, D), h_n, atol=1e-5, rtol=0)
    if cls is torch.nn.LSTM:
        assert tr.cell.shape == (L, D, T, 5)
        torch.testing.assert_close(_last(tr.cell, D), c_n, atol=1e-5, rtol=0)
    else:
        assert tr.cell is None

    ref_hidden, ref_cell, ref_gates = reference(rnn, x, h0, c0)
    torch.testing.assert_close(
        ref_hidden, tr.hidden, atol=1e-5, rtol=0
    )  # the oracle agrees with torch too
    assert set(tr.gates) == set(ref_gates)
    for k, v in ref_gates.items():
        torch.testing.assert_close(tr.gates[k], v, atol=1e-5, rtol=0, msg=f"gate {k}")
    if ref_cell is not None:
        torch.testing.assert_close(tr.cell, ref_cell, atol=1e-5, rtol=0)


def test_gate_keys_follow_pytorch_order():
    assert list(trace(torch.nn.LSTM(1, 2), torch.zeros(3, 1)).gates) == ["i", "f", "g", "o"]
    assert list(trace(torch.nn.GRU(1, 2), torch.zeros(3, 1)).gates) == ["r", "z", "n"]
    assert trace(torch.nn.RNN(1, 2), torch.zeros(3, 1)).gates == {}


def test_randomised_configurations():
    """Fifty random shapes and options, each compared with torch and the reference."""
    rng = random.Random(1234)
    for _ in range(50):
        cls = rng.choice([torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU])
        H = rng.randint(1, 9)
        kwargs = dict(
            num_layers=rng.randint(1, 3), bidirectional=rng.random() < 0.5, bias=rng.random() < 0.7
        )
        if cls is torch.nn.RNN:
            kwargs["nonlinearity"] = rng.choice(["tanh", "relu"])
        if cls is torch.nn.LSTM and H > 1 and rng.random() < 0.4:
            kwargs["proj_size"] = rng.randint(1, H - 1)
        I, T = rng.randint(1, 6), rng.randint(1, 40)
        torch.manual_seed(rng.randint(0, 10_000))
        rnn = cls(I, H, **kwargs)
        x = 2 * torch.randn(T, I)
        tr = trace(rnn, x)
        ref_hidden, ref_cell, ref_gates = reference(rnn, x)
        torch.testing.assert_close(tr.hidden, ref_hidden, atol=1e-5, rtol=0)
        out, _, c_n = _torch_forward(
            rnn,
            x,
            torch.zeros(rnn.num_layers * (1 + rnn.bidirectional), kwargs.get("proj_size") or H),
            torch.zeros(rnn.num_layers * (1 + rnn.bidirectional), H),
        )
        torch.testing.assert_close(
            tr.hidden[-1].permute(1, 0, 2).reshape(T, -1), out, atol=1e-5, rtol=0
        )
        for k, v in ref_gates.items():
            torch.testing.assert_close(tr.gates[k], v, atol=1e-5, rtol=0)
        if ref_cell is not None:
            torch.testing.assert_close(tr.cell, ref_cell, atol=1e-5, rtol=0)


def test_long_sequence_cell_state_stays_accurate():
    """The parallel scan of c_t over 2,000 steps stays within 1e-5 of torch's c_n."""
    torch.manual_seed(0)
    rnn = torch.nn.LSTM(4, 16)
    with torch.no_grad():
        rnn.bias_ih_l0[16:32] += 3.0  # forget gate near 1: long memory, the hard case for a scan
    x = torch.randn(2000, 4)
    with torch.no_grad():
        _, (_, c_n) = rnn(x.unsqueeze(1))
    tr = trace(rnn, x)
    torch.testing.assert_close(tr.cell[0, 0, -1], c_n[0, 0], atol=1e-5, rtol=1e-5)


def test_bad_arguments_raise():
    with pytest.raises(TypeError, match="RNN, LSTM or GRU"):
        trace(torch.nn.Linear(2, 2), torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        trace(torch.nn.LSTM(2, 3), torch.zeros(3, 5))
    with pytest.raises(ValueError):
        trace(torch.nn.LSTM(2, 3), torch.zeros(0, 2))


def test_initial_state_checked_and_cast():
    rnn = torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    x = torch.randn(4, 3)
    with pytest.raises(ValueError, match=r"h0 must have shape .* \(4, 5\), got \(6, 5\)"):
        trace(rnn, x, torch.randn(6, 5), torch.randn(4, 5))
    with pytest.raises(ValueError, match=r"c0 must have shape"):
        trace(rnn, x, torch.randn(4, 5), torch.randn(4, 1, 5))
    with pytest.raises(ValueError, match="has none"):
        trace(torch.nn.GRU(3, 5), x, c0=torch.zeros(1, 5))
    h0 = torch.randn(4, 5, dtype=torch.float64)  # cast to the module's dtype, as x is
    out = trace(rnn, x.numpy(), h0, torch.zeros(4, 5))  # numpy input accepted too
    ref, _, _ = reference(rnn, x, h0.float(), torch.zeros(4, 5))
    torch.testing.assert_close(out.hidden, ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize(
    "x, match",
    [
        ("abc", "x must be a tensor of real numbers, got str"),
        (None, "x must be a tensor of real numbers, got NoneType"),
        ([["a"]], "x must be a tensor of real numbers, got list"),
        (torch.zeros(3, 1, device="meta"), "x must be on the CPU, got a tensor on meta"),
        (torch.ones(3, 1, dtype=torch.complex64), "imaginary part would be dropped"),
        (torch.zeros(5001, 1), "T = 5,001 steps; the limit is 5,000"),
    ],
)
def test_inputs_that_are_not_a_real_sequence_raise_value_error(x, match):
    rnn = torch.nn.LSTM(1, 3)
    with pytest.raises(ValueError, match=match):
        trace(rnn, x)


@pytest.mark.parametrize(
    "h0, match",
    [
        ("abc", "h0 must be a tensor of real numbers, got str"),
        (torch.ones(1, 3, dtype=torch.complex64), "h0 must be real"),
        (torch.zeros(1, 3, device="meta"), "h0 must be on the CPU"),
    ],
)
def test_initial_states_that_are_not_real_numbers_raise_value_error(h0, match):
    with pytest.raises(ValueError, match=match):
        trace(torch.nn.GRU(1, 3), torch.zeros(4, 1), h0)
