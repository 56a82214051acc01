"""explorer.clamps.clamped_trace: no clamp == explorer.trace; clamps checked by their algebra and
by weight surgery (a gate whose weights are zero and whose bias is act^{-1}(v) *is* clamped to v).
"""

import math

import pytest
import torch

from explorer import trace
from explorer.clamps import clamped_trace

CONFIGS = [
    (torch.nn.RNN, dict(nonlinearity="tanh")),
    (torch.nn.RNN, dict(nonlinearity="relu", num_layers=2)),
    (torch.nn.RNN, dict(bias=False, bidirectional=True)),
    (torch.nn.RNN, dict(nonlinearity="relu", num_layers=2, bidirectional=True)),
    (torch.nn.LSTM, dict()),
    (torch.nn.LSTM, dict(proj_size=3)),
    (torch.nn.LSTM, dict(proj_size=2, num_layers=3, bidirectional=True)),
    (torch.nn.LSTM, dict(bias=False, num_layers=2)),
    (torch.nn.LSTM, dict(batch_first=True, bidirectional=True)),
    (torch.nn.GRU, dict()),
    (torch.nn.GRU, dict(num_layers=2, bidirectional=True)),
    (torch.nn.GRU, dict(bias=False, num_layers=3)),
]


def _states(rnn, seed=0):
    """Random (h0, c0) in torch's (L·D, ·) layout; c0 None unless LSTM."""
    g = torch.Generator().manual_seed(seed)
    L, D = rnn.num_layers, 2 if rnn.bidirectional else 1
    H_out = getattr(rnn, "proj_size", 0) or rnn.hidden_size
    h0 = 0.5 * torch.randn(L * D, H_out, generator=g)
    c0 = (
        torch.randn(L * D, rnn.hidden_size, generator=g) if isinstance(rnn, torch.nn.LSTM) else None
    )
    return h0, c0


def _assert_traces_close(a, b, atol=1e-5):
    torch.testing.assert_close(a.hidden, b.hidden, atol=atol, rtol=0)
    assert (a.cell is None) == (b.cell is None)
    if a.cell is not None:
        torch.testing.assert_close(a.cell, b.cell, atol=atol, rtol=0)
    assert a.gates.keys() == b.gates.keys()
    for k in a.gates:
        torch.testing.assert_close(a.gates[k], b.gates[k], atol=atol, rtol=0)
    assert a.kind == b.kind


@pytest.mark.parametrize("T", [1, 2, 13])
@pytest.mark.parametrize("cls,kwargs", CONFIGS)
@pytest.mark.parametrize("from_step", [0, "last"])
def test_no_clamp_equals_trace(cls, kwargs, T, from_step):
    torch.manual_seed(T)
    rnn = cls(3, 5, **kwargs)
    x = torch.randn(T, 3)
    h0, c0 = _states(rnn, T)
    s = T - 1 if from_step == "last" else 0
    _assert_traces_close(clamped_trace(rnn, x, {}, s, h0=h0, c0=c0), trace(rnn, x, h0, c0))
    _assert_traces_close(clamped_trace(rnn, x, {}), trace(rnn, x))  # default zero states


@pytest.mark.parametrize("s", [0, 1, 4, 9])
@pytest.mark.parametrize(
    "kwargs", [dict(), dict(num_layers=2, proj_size=2), dict(bias=False, num_layers=2)]
)
def test_lstm_f1_i0_freezes_cell(s, kwargs):
    torch.manual_seed(s)
    rnn = torch.nn.LSTM(2, 4, **kwargs)
    x = torch.randn(10, 2)
    h0, c0 = _states(rnn, s)
    tr = clamped_trace(rnn, x, {"f": 1.0, "i": 0.0}, s, h0=h0, c0=c0)
    for layer in range(rnn.num_layers):
        c = tr.cell[layer, 0]  # (T, H)
        frozen = c0[layer] if s == 0 else c[s - 1]  # (H,)
        assert torch.equal(c[s:], frozen.expand_as(c[s:]))  # exactly: 1·c + 0·g == c
        assert torch.all(tr.gates["f"][layer, 0, s:] == 1.0)
        assert torch.all(tr.gates["i"][layer, 0, s:] == 0.0)
        # h_t = o_t tanh(c) still follows the (unclamped) output gate
        m = tr.gates["o"][layer, 0, s:] * torch.tanh(frozen)  # (T-s, H)
        h = m @ rnn.weight_hr_l0.t() if layer == 0 and rnn.proj_size else m
        if not rnn.proj_size:
            torch.testing.assert_close(tr.hidden[layer, 0, s:], h)


def test_lstm_reverse_direction_reads_clamped_positions_first():
    """Reverse reads T-1 … s first: with f=1, i=0 from s its cell never leaves c0 there."""
    torch.manual_seed(3)
    rnn = torch.nn.LSTM(2, 4, bidirectional=True, num_layers=2)
    x = torch.randn(9, 2)
    h0, c0 = _states(rnn, 3)
    s = 5
    tr = clamped_trace(rnn, x, {"f": 1.0, "i": 0.0}, s, h0=h0, c0=c0)
    free = trace(rnn, x, h0, c0)
    for layer in range(2):
        c = tr.cell[layer, 1]  # (T, H), reverse, by input position
        assert torch.equal(c[s:], c0[2 * layer + 1].expand_as(c[s:]))
        assert not torch.allclose(c[:s], free.cell[layer, 1, :s])  # it does run on afterwards
    # layer 0 forward: the prefix before s is untouched by the clamps (bit for bit vs the same
    # loop without clamps; torch's fused kernel may differ in the last float bit)
    loop = clamped_trace(rnn, x, {}, s, h0=h0, c0=c0)
    assert torch.equal(tr.hidden[0, 0, :s], loop.hidden[0, 0, :s])
    torch.testing.assert_close(tr.hidden[0, 0, :s], free.hidden[0, 0, :s], atol=1e-6, rtol=0)


@pytest.mark.parametrize("s", [0, 3, 7])
@pytest.mark.parametrize(
    "kwargs", [dict(), dict(num_layers=2), dict(bias=False, bidirectional=True)]
)
def test_gru_z1_freezes_hidden(s, kwargs):
    torch.manual_seed(s)
    rnn = torch.nn.GRU(2, 4, **kwargs)
    x = torch.randn(8, 2)
    h0, _ = _states(rnn, s)
    D = 2 if rnn.bidirectional else 1
    tr = clamped_trace(rnn, x, {"z": 1.0}, s, h0=h0)
    for layer in range(rnn.num_layers):
        h = tr.hidden[layer, 0]  # (T, H)
        frozen = h0[layer * D] if s == 0 else h[s - 1]
        assert torch.equal(h[s:], frozen.expand_as(h[s:]))  # exactly: 0·n + 1·h == h
        if D == 2:  # reverse: positions T-1 … s all keep its h0
            assert torch.equal(tr.hidden[layer, 1, s:], h0[layer * D + 1].expand_as(h[s:]))


@pytest.mark.parametrize(
    "cls,clamps", [(torch.nn.LSTM, {"f": 0.3, "o": 1.0}), (torch.nn.GRU, {"r": 0.0, "n": -0.5})]
)
@pytest.mark.parametrize("num_layers", [1, 3])
def test_prefix_before_from_step_is_unclamped(cls, clamps, num_layers):
    torch.manual_seed(num_layers)
    rnn = cls(2, 4, num_layers=num_layers)
    x = torch.randn(12, 2)
    s = 6
    tr, free = clamped_trace(rnn, x, clamps, s), trace(rnn, x)
    loop = clamped_trace(rnn, x, {}, s)
    assert torch.equal(tr.hidden[:, :, :s], loop.hidden[:, :, :s])  # same loop: bit for bit
    torch.testing.assert_close(tr.hidden[:, :, :s], free.hidden[:, :, :s], atol=1e-6, rtol=0)
    for k in free.gates:
        torch.testing.assert_close(
            tr.gates[k][:, :, :s], free.gates[k][:, :, :s], atol=1e-6, rtol=0
        )
    assert not torch.allclose(tr.hidden[:, :, s:], free.hidden[:, :, s:])
    for k, v in clamps.items():
        assert torch.all(tr.gates[k][:, :, s:] == v)


@pytest.mark.parametrize("kwargs", [dict(), dict(num_layers=2, bidirectional=True, proj_size=3)])
def test_lstm_f0_forgets(kwargs):
    torch.manual_seed(1)
    rnn = torch.nn.LSTM(3, 5, **kwargs)
    x = torch.randn(7, 3)
    h0, c0 = _states(rnn)
    s = 2
    tr = clamped_trace(rnn, x, {"f": 0.0}, s, h0=h0, c0=c0)
    ig = tr.gates["i"] * tr.gates["g"]  # (L, D, T, H)
    torch.testing.assert_close(tr.cell[:, :, s:], ig[:, :, s:], atol=0, rtol=0)


def _surgery(rnn, clamps):
    """A copy of ``rnn`` whose clamped gates have zero weights and bias act^{-1}(value)."""
    mod = type(rnn)(
        rnn.input_size, rnn.hidden_size, num_layers=rnn.num_layers, bidirectional=rnn.bidirectional
    )
    mod.load_state_dict(rnn.state_dict())
    order = "ifgo" if isinstance(rnn, torch.nn.LSTM) else "rzn"
    H = rnn.hidden_size
    with torch.no_grad():
        for name, p in mod.named_parameters():
            for k, v in clamps.items():
                rows = slice(order.index(k) * H, (order.index(k) + 1) * H)
                if name.startswith("weight"):
                    p[rows] = 0
                elif name.startswith("bias_ih"):
                    p[rows] = math.atanh(v) if k in "gn" else math.log(v / (1 - v))
                else:
                    p[rows] = 0
    return mod


@pytest.mark.parametrize(
    "cls,clamps",
    [
        (torch.nn.LSTM, {"f": 0.9}),
        (torch.nn.LSTM, {"i": 0.2, "g": -0.6}),
        (torch.nn.LSTM, {"o": 0.7}),
        (torch.nn.GRU, {"r": 0.25}),
        (torch.nn.GRU, {"z": 0.8}),
        (torch.nn.GRU, {"n": 0.4, "r": 0.6}),
    ],
)
@pytest.mark.parametrize("s", [0, 4])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_clamp_equals_weight_surgery(cls, clamps, s, num_layers):
    """Oracle: from s on, the clamped run is the free run of a model whose gate is constant."""
    torch.manual_seed(s + 10 * num_layers)
    rnn = cls(3, 4, num_layers=num_layers)
    mod = _surgery(rnn, clamps)
    x = torch.randn(9, 3)
    h0, c0 = _states(rnn)
    got = clamped_trace(rnn, x, clamps, s, h0=h0, c0=c0)
    if s == 0:
        _assert_traces_close(got, trace(mod, x, h0, c0))
        return
    head = trace(rnn, x[:s], h0, c0)
    tail = trace(
        mod,
        x[s:],
        head.hidden[:, 0, -1],  # start from the states at s-1
        head.cell[:, 0, -1] if head.cell is not None else None,
    )
    torch.testing.assert_close(
        got.hidden, torch.cat([head.hidden, tail.hidden], 2), atol=1e-5, rtol=0
    )
    if got.cell is not None:
        torch.testing.assert_close(
            got.cell, torch.cat([head.cell, tail.cell], 2), atol=1e-5, rtol=0
        )
    for k in got.gates:
        torch.testing.assert_close(
            got.gates[k], torch.cat([head.gates[k], tail.gates[k]], 2), atol=1e-5, rtol=0
        )


def test_double_precision_module():
    torch.manual_seed(0)
    rnn = torch.nn.GRU(2, 3).double()
    x = torch.randn(5, 2)  # float32 input is cast to the module's dtype, as trace does
    tr = clamped_trace(rnn, x, {})
    assert tr.hidden.dtype == torch.float64
    _assert_traces_close(tr, trace(rnn, x), atol=1e-12)


@pytest.mark.parametrize(
    "cls,clamps,match",
    [
        (torch.nn.LSTM, {"r": 0.5}, "i, f, g, o"),
        (torch.nn.GRU, {"f": 0.5}, "r, z, n"),
        (torch.nn.RNN, {"h": 0.5}, "no gates"),
        (torch.nn.LSTM, {"f": 1.5}, r"\[0, 1\]"),
        (torch.nn.LSTM, {"i": -0.1}, r"\[0, 1\]"),
        (torch.nn.GRU, {"z": float("nan")}, r"\[0, 1\]"),
        (torch.nn.LSTM, {"g": -1.01}, r"\[-1, 1\]"),
        (torch.nn.GRU, {"n": 2}, r"\[-1, 1\]"),
        (torch.nn.GRU, {"n": "0.5"}, "number"),
    ],
)
def test_bad_clamps_raise(cls, clamps, match):
    rnn = cls(2, 3)
    with pytest.raises(ValueError, match=match):
        clamped_trace(rnn, torch.randn(4, 2), clamps)


def test_edge_values_accepted():
    rnn = torch.nn.LSTM(2, 3)
    tr = clamped_trace(rnn, torch.randn(4, 2), {"i": 0, "f": 1, "g": -1.0, "o": 1.0})
    assert torch.all(tr.gates["g"] == -1.0)
    clamped_trace(torch.nn.GRU(2, 3), torch.randn(4, 2), {"n": 1.0, "r": 0.0})


@pytest.mark.parametrize("from_step", [-1, 4, 10, 1.0, True])
def test_bad_from_step_raises(from_step):
    with pytest.raises(ValueError, match="from_step"):
        clamped_trace(torch.nn.LSTM(2, 3), torch.randn(4, 2), {"f": 1.0}, from_step)


def test_bad_module_and_inputs_raise():
    with pytest.raises(TypeError, match="RNN, LSTM or GRU"):
        clamped_trace(torch.nn.Linear(2, 3), torch.randn(4, 2), {})
    with pytest.raises(TypeError):
        clamped_trace(torch.nn.LSTMCell(2, 3), torch.randn(4, 2), {})
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        clamped_trace(torch.nn.LSTM(2, 3), torch.randn(4, 3), {})
    with pytest.raises(ValueError, match="h0"):
        clamped_trace(torch.nn.GRU(2, 3), torch.randn(4, 2), {}, h0=torch.zeros(2, 3))
    with pytest.raises(ValueError, match="c0"):
        clamped_trace(torch.nn.GRU(2, 3), torch.randn(4, 2), {}, c0=torch.zeros(1, 3))


def test_array_like_inputs():
    """x, h0 and c0 may be lists or numpy arrays, as explorer.trace accepts them."""
    rnn = torch.nn.LSTM(1, 2)
    x, h0, c0 = [[0.1], [-0.3], [0.7]], [[0.5, -0.5]], [[1.0, 2.0]]
    _assert_traces_close(
        clamped_trace(rnn, x, {}, h0=h0, c0=c0),
        trace(rnn, torch.tensor(x), torch.tensor(h0), torch.tensor(c0)),
    )
