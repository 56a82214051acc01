"""explorer.equations: per-unit terms agree with the trace; hand-computed cells; LaTeX lines."""

import dataclasses
import math
import random
import re

import pytest
import torch

from explorer import trace
from explorer.equations import GateTerms, equation_latex, unit_terms

CONFIGS = [
    (torch.nn.RNN, dict(nonlinearity="tanh")),
    (torch.nn.RNN, dict(nonlinearity="relu", num_layers=2, bidirectional=True)),
    (torch.nn.RNN, dict(bias=False, num_layers=2)),
    (torch.nn.LSTM, dict()),
    (torch.nn.LSTM, dict(proj_size=3)),
    (torch.nn.LSTM, dict(proj_size=2, num_layers=3, bidirectional=True)),
    (torch.nn.LSTM, dict(bias=False, num_layers=2, bidirectional=True)),
    (torch.nn.GRU, dict()),
    (torch.nn.GRU, dict(num_layers=2, bidirectional=True)),
    (torch.nn.GRU, dict(bias=False, num_layers=3)),
]


def _kind(rnn):
    return (
        "lstm"
        if isinstance(rnn, torch.nn.LSTM)
        else "gru"
        if isinstance(rnn, torch.nn.GRU)
        else "rnn"
    )


def _balanced(s):
    depth = 0
    for ch in s:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def _zero_module(cls, **bias_slices):
    """``cls(1, 1)`` with every parameter zero except ``bias_slices = {"bias_ih_l0": (idx, v)}``."""
    rnn = cls(1, 1, **({} if cls is not torch.nn.RNN else {"nonlinearity": "tanh"}))
    with torch.no_grad():
        for p in rnn.parameters():
            p.zero_()
        for name, (idx, v) in bias_slices.items():
            getattr(rnn, name)[idx] = v
    return rnn


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("cls,kwargs", CONFIGS)
def test_unit_terms_match_trace(cls, kwargs, seed):
    torch.manual_seed(seed)
    rng = random.Random(seed)
    H = 4
    rnn = cls(3, H, **kwargs)
    L, D = rnn.num_layers, 2 if rnn.bidirectional else 1
    H_out = kwargs.get("proj_size") or H
    T = rng.choice([1, 2, 6])
    x = torch.randn(T, 3)
    h0 = 0.5 * torch.randn(L * D, H_out) if seed else None  # seed 0: default zero states
    c0 = torch.randn(L * D, H) if seed and cls is torch.nn.LSTM else None
    tr = trace(rnn, x, h0, c0)
    kind = _kind(rnn)
    # every position at both ends (where h0/c0 enter), and random others
    picks = [(l, d, t) for l in range(L) for d in range(D) for t in {0, T - 1}]
    picks += [(rng.randrange(L), rng.randrange(D), rng.randrange(T)) for _ in range(5)]
    for layer, d, t in picks:
        for unit in range(H):
            terms = unit_terms(rnn, tr, layer=layer, direction=d, t=t, unit=unit, h0=h0, c0=c0)
            assert terms["kind"] == kind
            gates = terms["gates"]
            for k, gt in gates.items():
                assert isinstance(gt, GateTerms) and gt.name == k
                if kind != "rnn":
                    assert gt.value == pytest.approx(
                        tr.gates[k][layer, d, t, unit].item(), abs=1e-5
                    )
            if kind == "lstm":
                assert list(gates) == list("ifgo")
                assert terms["c"] == pytest.approx(tr.cell[layer, d, t, unit].item(), abs=1e-5)
                prev = t - 1 if d == 0 else t + 1
                c_prev = (
                    tr.cell[layer, d, prev, unit].item()
                    if 0 <= prev < T
                    else 0.0
                    if c0 is None
                    else c0[layer * D + d, unit].item()
                )
                assert terms["c_prev"] == pytest.approx(c_prev, abs=1e-6)
                assert terms["h_pre_proj"] == pytest.approx(
                    gates["o"].value * math.tanh(terms["c"]), abs=1e-12
                )
            if kind == "gru":
                assert list(gates) == list("rzn")
                gn = gates["n"]
                assert gn.pre == pytest.approx(
                    gn.x_part + gn.b_i + gates["r"].value * (gn.h_part + gn.b_h)
                )
            if kind == "rnn":
                assert list(gates) == ["h"]
                assert terms["h"] == gates["h"].value
            if unit < H_out:
                assert terms["h"] == pytest.approx(tr.hidden[layer, d, t, unit].item(), abs=1e-5)
            else:
                assert terms["h"] is None  # proj_size: this unit has no h_t
            if not rnn.bias:
                assert all(gt.b_i == 0 and gt.b_h == 0 for gt in gates.values())
            lines = equation_latex(kind, terms, nonlinearity=getattr(rnn, "nonlinearity", "tanh"))
            assert all(_balanced(line) for line in lines)


def test_numpy_indices_accepted():
    np = pytest.importorskip("numpy")
    rnn = torch.nn.GRU(2, 3)
    tr = trace(rnn, torch.randn(3, 2))
    terms = unit_terms(rnn, tr, layer=np.int64(0), direction=0, t=np.int64(2), unit=np.int32(1))
    assert terms["t"] == 2 and type(terms["t"]) is int
    assert terms["h"] == pytest.approx(tr.hidden[0, 0, 2, 1].item(), abs=1e-6)


def test_gate_terms_are_frozen_floats():
    rnn = torch.nn.GRU(2, 3)
    tr = trace(rnn, torch.randn(3, 2))
    gt = unit_terms(rnn, tr, layer=0, direction=0, t=1, unit=2)["gates"]["z"]
    assert all(
        isinstance(getattr(gt, f.name), float) for f in dataclasses.fields(gt) if f.name != "name"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        gt.pre = 0.0


def test_layer_input_is_previous_layers_output():
    """Layer 1's x_part is W_ih of layer 1 times both directions of layer 0's h_t."""
    torch.manual_seed(0)
    rnn = torch.nn.LSTM(2, 3, num_layers=2, bidirectional=True)
    tr = trace(rnn, torch.randn(5, 2))
    terms = unit_terms(rnn, tr, layer=1, direction=1, t=2, unit=1)
    x_t = torch.cat([tr.hidden[0, 0, 2], tr.hidden[0, 1, 2]])  # (2·H,)
    expected = (rnn.weight_ih_l1_reverse[3 + 1] @ x_t).item()  # the f block, unit 1
    assert terms["gates"]["f"].x_part == pytest.approx(expected, abs=1e-6)


def test_lstm_by_hand():
    """All zero but b_ig = 1: i = f = o = σ(0) = 1/2, g = tanh 1, c = g/2, h = tanh(c)/2."""
    rnn = _zero_module(torch.nn.LSTM, bias_ih_l0=(2, 1.0))
    tr = trace(rnn, torch.tensor([[0.0]]))
    terms = unit_terms(rnn, tr, layer=0, direction=0, t=0, unit=0)
    g = terms["gates"]
    assert g["g"] == GateTerms("g", 0.0, 1.0, 0.0, 0.0, 1.0, pytest.approx(0.761594, abs=1e-6))
    assert [g[k].value for k in "ifo"] == [0.5, 0.5, 0.5]
    assert terms["c_prev"] == 0.0
    assert terms["c"] == pytest.approx(0.380797, abs=1e-6)
    assert terms["h_pre_proj"] == pytest.approx(0.181700, abs=1e-6)
    assert terms["h"] == pytest.approx(0.181700, abs=1e-6)
    lines = equation_latex("lstm", terms)
    assert len(lines) == 6 and all(_balanced(s) for s in lines)
    assert lines[2].startswith(r"g_t = \tanh(")
    assert r"\underbrace{1.000}_{b_{ig}}" in lines[2] and lines[2].endswith(r"\tanh(1.000) = 0.762")
    assert lines[1].endswith(r"\sigma(0.000) = 0.500")
    assert lines[4] == (
        r"c_t = f_t c_{t-1} + i_t g_t = 0.500 \cdot 0.000 + 0.500 \cdot 0.762 = 0.381"
    )
    assert lines[5] == r"h_t = o_t \tanh(c_t) = 0.500 \cdot \tanh(0.381) = 0.182"
    six = equation_latex("lstm", terms, digits=6)
    assert six[4].endswith("= 0.380797") and six[5].endswith("= 0.181700")


def test_gru_by_hand_reset_after_matmul():
    """Only b_hn = 1: r = z = 1/2, n = tanh(r·(0 + 1)) = tanh(1/2), h = n/2 = 0.231059.

    With the reset before the matmul (Cho et al.) it would be n = tanh(1), h = 0.380797.
    """
    rnn = _zero_module(torch.nn.GRU, bias_hh_l0=(2, 1.0))
    tr = trace(rnn, torch.tensor([[0.0]]))
    terms = unit_terms(rnn, tr, layer=0, direction=0, t=0, unit=0)
    n = terms["gates"]["n"]
    assert (n.b_h, n.pre) == (1.0, 0.5)
    assert n.value == pytest.approx(math.tanh(0.5), abs=1e-12)
    assert terms["h"] == pytest.approx(0.231059, abs=1e-6)
    assert terms["h"] != pytest.approx(0.5 * math.tanh(1.0), abs=1e-3)
    assert tr.hidden.item() == pytest.approx(0.231059, abs=1e-6)
    lines = equation_latex("gru", terms)
    assert len(lines) == 4 and all(_balanced(s) for s in lines)
    n_line = lines[2]
    # r_t multiplies the whole bracket (W_hn h + b_hn), in symbols and in numbers
    assert re.search(
        r"r_t \\odot \(\\underbrace\{0\.000\}_\{W_\{hn\}h_\{t-1\}\} \+ "
        r"\\underbrace\{1\.000\}_\{b_\{hn\}\}\)",
        n_line,
    )
    assert r"0.500 \cdot (0.000 + 1.000)" in n_line
    assert n_line.endswith(r"\tanh(0.500) = 0.462")
    assert lines[3].endswith(r"= (1 - 0.500) \cdot 0.462 + 0.500 \cdot 0.000 = 0.231")


def test_rnn_relu_by_hand():
    """h_t = relu(2 x_t - 1 + 0.5 h_{t-1} + 0.25): x = 1 -> 1.25; x = -1 -> relu(-2.125) = 0."""
    rnn = torch.nn.RNN(1, 1, nonlinearity="relu")
    with torch.no_grad():
        rnn.weight_ih_l0.fill_(2.0)
        rnn.weight_hh_l0.fill_(0.5)
        rnn.bias_ih_l0.fill_(-1.0)
        rnn.bias_hh_l0.fill_(0.25)
    tr = trace(rnn, torch.tensor([[1.0], [-1.0]]))
    t0 = unit_terms(rnn, tr, layer=0, direction=0, t=0, unit=0)
    assert t0["gates"]["h"] == GateTerms("h", 2.0, -1.0, 0.0, 0.25, 1.25, 1.25)
    t1 = unit_terms(rnn, tr, layer=0, direction=0, t=1, unit=0)
    assert t1["h_prev"] == 1.25
    assert t1["gates"]["h"] == GateTerms("h", -2.0, -1.0, 0.625, 0.25, -2.125, 0.0)
    assert t1["h"] == 0.0
    (line,) = equation_latex("rnn", t1, nonlinearity="relu")
    assert _balanced(line)
    assert line == (
        r"h_t = \operatorname{ReLU}(\underbrace{-2.000}_{W_{ih}x_t} + "
        r"\underbrace{(-1.000)}_{b_{ih}} + \underbrace{0.625}_{W_{hh}h_{t-1}} + "
        r"\underbrace{0.250}_{b_{hh}}) = \operatorname{ReLU}(-2.125) = 0.000"
    )


def test_rnn_tanh_and_reverse_direction_start():
    """The reverse direction's h_{t-1} at t = T-1 is its h0; a tanh RNN line says tanh."""
    rnn = torch.nn.RNN(1, 1, bidirectional=True)
    with torch.no_grad():
        for p in rnn.parameters():
            p.fill_(0.5)
    h0 = torch.tensor([[0.0], [2.0]])
    tr = trace(rnn, torch.tensor([[1.0], [1.0]]), h0)
    terms = unit_terms(rnn, tr, layer=0, direction=1, t=1, unit=0, h0=h0)
    assert terms["h_prev"] == 2.0
    assert terms["gates"]["h"].pre == pytest.approx(0.5 + 0.5 + 1.0 + 0.5)
    assert terms["h"] == pytest.approx(math.tanh(2.5))
    (line,) = equation_latex("rnn", terms)
    assert line.startswith(r"h_t = \tanh(") and line.endswith(r"\tanh(2.500) = 0.987")


def test_bias_false_lines_leave_biases_out():
    rnn = torch.nn.LSTM(2, 3, bias=False)
    tr = trace(rnn, torch.randn(3, 2))
    lines = equation_latex("lstm", unit_terms(rnn, tr, layer=0, direction=0, t=1, unit=0))
    assert not any("b_{" in s for s in lines)


def test_proj_size_lines():
    torch.manual_seed(0)
    rnn = torch.nn.LSTM(2, 4, proj_size=2)
    tr = trace(rnn, torch.randn(3, 2))
    has = equation_latex("lstm", unit_terms(rnn, tr, layer=0, direction=0, t=2, unit=1))
    hasnt = equation_latex("lstm", unit_terms(rnn, tr, layer=0, direction=0, t=2, unit=3))
    assert len(has) == len(hasnt) == 7
    assert r"W_{hr}" in has[-1] and has[-1].endswith(f"= {tr.hidden[0, 0, 2, 1].item():.3f}")
    assert "no" in hasnt[-1] and all(_balanced(s) for s in has + hasnt)


def test_negative_numbers_parenthesised_and_no_negative_zero():
    rnn = _zero_module(torch.nn.LSTM, bias_ih_l0=(1, -0.0001), bias_hh_l0=(1, -2.0))
    tr = trace(rnn, torch.tensor([[0.0]]))
    f_line = equation_latex("lstm", unit_terms(rnn, tr, layer=0, direction=0, t=0, unit=0))[1]
    assert r"\underbrace{(-2.000)}_{b_{hf}}" in f_line
    assert "-0.000" not in f_line


@pytest.mark.parametrize(
    "kw,err,match",
    [
        (dict(layer=1), IndexError, "layer"),
        (dict(layer=-1), IndexError, "layer"),
        (dict(direction=1), IndexError, "direction"),
        (dict(t=4), IndexError, "t 4"),
        (dict(unit=3), IndexError, "unit"),
        (dict(unit=-1), IndexError, "unit"),
        (dict(t=1.0), TypeError, "t must be an int"),
    ],
)
def test_unit_terms_index_errors(kw, err, match):
    rnn = torch.nn.GRU(2, 3)
    tr = trace(rnn, torch.randn(4, 2))
    args = dict(layer=0, direction=0, t=0, unit=0) | kw
    with pytest.raises(err, match=match):
        unit_terms(rnn, tr, **args)


def test_unit_terms_mismatch_errors():
    tr = trace(torch.nn.GRU(2, 3), torch.randn(4, 2))
    at = dict(layer=0, direction=0, t=0, unit=0)
    with pytest.raises(ValueError, match="GRU"):
        unit_terms(torch.nn.LSTM(2, 3), tr, **at)
    with pytest.raises(ValueError, match="hidden"):
        unit_terms(torch.nn.GRU(2, 5), tr, **at)
    with pytest.raises(ValueError, match="h0"):
        unit_terms(torch.nn.GRU(2, 3), tr, h0=torch.zeros(3), **at)
    with pytest.raises(ValueError, match="c0"):
        unit_terms(torch.nn.GRU(2, 3), tr, c0=torch.zeros(1, 3), **at)
    with pytest.raises(TypeError):
        unit_terms(torch.nn.Linear(2, 3), tr, **at)


def test_array_like_initial_states():
    """h0/c0 may be nested lists or numpy arrays, as explorer.trace accepts them."""
    rnn = torch.nn.LSTM(1, 2)
    h0, c0 = [[0.5, -0.5]], [[1.0, 2.0]]
    tr = trace(rnn, torch.randn(3, 1), torch.tensor(h0), torch.tensor(c0))
    terms = unit_terms(rnn, tr, layer=0, direction=0, t=0, unit=1, h0=h0, c0=c0)
    assert terms["c_prev"] == 2.0
    assert terms["c"] == pytest.approx(tr.cell[0, 0, 0, 1].item(), abs=1e-6)


def test_equation_latex_errors():
    rnn = torch.nn.GRU(2, 3)
    terms = unit_terms(rnn, trace(rnn, torch.randn(2, 2)), layer=0, direction=0, t=0, unit=0)
    with pytest.raises(ValueError, match="kind"):
        equation_latex("transformer", terms)
    with pytest.raises(ValueError, match="for a GRU, not an LSTM"):
        equation_latex("lstm", terms)
    with pytest.raises(ValueError, match="nonlinearity"):
        equation_latex("rnn", {"gates": {}}, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="lack"):
        equation_latex("gru", {"gates": {}})
    with pytest.raises(ValueError, match="digits"):
        equation_latex("gru", terms, digits=-1)


# ---------------------------------------------------------------- every step at once (the player)
@pytest.mark.parametrize("cls,kwargs", CONFIGS)
def test_unit_terms_over_time_equal_unit_terms_at_every_step(cls, kwargs):
    from explorer.equations import unit_terms_over_time

    g = torch.Generator().manual_seed(7)
    H = 4
    rnn = cls(3, H, **kwargs)
    with torch.no_grad():
        for p in rnn.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.6)
    L, D = rnn.num_layers, 2 if rnn.bidirectional else 1
    H_out = kwargs.get("proj_size") or H
    x = torch.randn(5, 3, generator=g)
    h0 = 0.5 * torch.randn(L * D, H_out, generator=g)
    c0 = torch.randn(L * D, H, generator=g) if cls is torch.nn.LSTM else None
    tr = trace(rnn, x, h0, c0)
    for layer in range(L):
        for d in range(D):
            for unit in range(H):
                all_t = unit_terms_over_time(
                    rnn, tr, layer=layer, direction=d, unit=unit, h0=h0, c0=c0
                )
                for t in range(5):
                    one = unit_terms(
                        rnn, tr, layer=layer, direction=d, t=t, unit=unit, h0=h0, c0=c0
                    )
                    for name, gt in one["gates"].items():
                        for field, key in (
                            ("x_part", "x"),
                            ("b_i", "bi"),
                            ("h_part", "h"),
                            ("b_h", "bh"),
                            ("pre", "pre"),
                            ("value", "val"),
                        ):
                            assert all_t[f"{name}.{key}"][t].item() == pytest.approx(
                                getattr(gt, field), abs=1e-9
                            ), (name, key, t)
                    for key in ("h_prev", "c_prev", "c", "h_pre_proj", "h"):
                        if key not in one:
                            continue
                        if one[key] is None:
                            assert math.isnan(all_t[key][t].item())
                        else:
                            assert all_t[key][t].item() == pytest.approx(one[key], abs=1e-9), key


@pytest.mark.parametrize(
    "kind,kwargs",
    [
        ("rnn", {}),
        ("rnn", {"nonlinearity": "relu", "bias": False}),
        ("lstm", {}),
        ("lstm", {"proj_size": 2}),
        ("gru", {}),
        ("gru", {"bias": False}),
    ],
)
def test_equation_html_slots_are_the_terms_keys(kind, kwargs):
    from explorer.equations import equation_html, unit_terms_over_time

    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    rnn = cls(2, 3, **kwargs)
    tr = trace(rnn, torch.randn(4, 2))
    keys = set(unit_terms_over_time(rnn, tr, layer=0, direction=0, unit=1))
    lines = equation_html(
        kind,
        bias=rnn.bias,
        nonlinearity=kwargs.get("nonlinearity", "tanh"),
        proj_size=kwargs.get("proj_size", 0),
        unit=1,
        H_out=3,
    )
    latex = equation_latex(kind, unit_terms(rnn, tr, layer=0, direction=0, t=0, unit=1))
    assert len(lines) == len(latex)  # one HTML line per LaTeX line
    slots = set(re.findall(r'data-v="([^"]+)"', "".join(lines)))
    assert slots <= keys and slots  # every slot has its numbers
    if not rnn.bias:
        assert not any(k.endswith((".bi", ".bh")) for k in slots)


def test_format_number_writes_numbers_as_the_latex_lines_do():
    from explorer.equations import format_number

    assert format_number(-0.0512) == "−0.051" and format_number(-0.0512, "term") == "(−0.051)"
    assert format_number(-0.0001, "term") == "0.000" and format_number(0.5) == "0.500"
