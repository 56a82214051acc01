"""count_parameters against the torch module's named_parameters()."""

import itertools

import pytest
import torch

from explorer import count_parameters
from explorer.params import count_head

MODULES = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


def _torch_module(cell, input_size, hidden_size, **kw):
    if not kw.get("proj_size"):
        kw.pop("proj_size", None)
    return MODULES[cell](input_size, hidden_size, **kw)


CASES = [
    (cell, layers, bidir, bias, proj)
    for cell, layers, bidir, bias, proj in itertools.product(
        MODULES, [1, 2, 3], [False, True], [True, False], [0, 4]
    )
    if not (proj and cell != "lstm")
]


@pytest.mark.parametrize("cell,num_layers,bidirectional,bias,proj_size", CASES)
def test_counts_equal_named_parameters(cell, num_layers, bidirectional, bias, proj_size):
    kw = dict(num_layers=num_layers, bidirectional=bidirectional, bias=bias, proj_size=proj_size)
    counts = count_parameters(cell, 3, 7, **kw)
    module = _torch_module(cell, 3, 7, **kw)
    named = {name: p.numel() for name, p in module.named_parameters()}
    assert counts.by_tensor == named
    assert list(counts.by_tensor) == list(named)  # same order as torch lists them
    assert counts.total == sum(p.numel() for p in module.parameters())
    assert counts.bytes == 4 * counts.total
    shapes = {name: tuple(p.shape) for name, p in module.named_parameters()}
    assert {r.name: r.shape for r in counts.rows} == shapes
    # the textbook cell drops bias_hh: G·H per layer and direction
    G = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    D = 2 if bidirectional else 1
    assert counts.total - counts.textbook_total == (G * 7 * num_layers * D if bias else 0)


def test_known_totals():
    assert count_parameters("gru", 3, 7).total == 252  # 3·(7·3 + 7·7 + 2·7)
    assert count_parameters("rnn", 10, 20).total == 20 * 10 + 20 * 20 + 2 * 20
    assert count_parameters("rnn", 10, 20).textbook_total == 20 * 10 + 20 * 20 + 20
    assert count_parameters("lstm", 1, 8).total == 4 * (8 + 64 + 16)


def test_weight_hr_and_reverse_names_present():
    counts = count_parameters("lstm", 2, 6, num_layers=2, bidirectional=True, proj_size=3)
    assert counts.by_tensor["weight_hr_l0"] == 3 * 6
    assert counts.by_tensor["weight_ih_l1_reverse"] == 4 * 6 * (2 * 3)
    assert counts.by_tensor["bias_hh_l1_reverse"] == 4 * 6


def test_head_rows_match_linear():
    head = torch.nn.Linear(14, 3)
    rows = count_head(14, 3)
    assert [r.count for r in rows] == [p.numel() for p in head.parameters()]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(cell="cnn", input_size=1, hidden_size=2), "cell must be one of"),
        (dict(cell="rnn", input_size=0, hidden_size=2), "input_size must be at least 1"),
        (dict(cell="lstm", input_size=1, hidden_size=4, proj_size=4), "proj_size must be smaller"),
        (dict(cell="gru", input_size=1, hidden_size=4, proj_size=2), "only defined for LSTM"),
        (
            dict(cell="lstm", input_size=1, hidden_size=4, num_layers=0),
            "num_layers must be at least 1",
        ),
    ],
)
def test_bad_sizes_raise_value_error(kwargs, match):
    cell = kwargs.pop("cell")
    with pytest.raises(ValueError, match=match):
        count_parameters(cell, kwargs.pop("input_size"), kwargs.pop("hidden_size"), **kwargs)


def test_counting_has_no_upper_limit_but_checks_types():
    big = count_parameters("gru", 300, 5000)  # bigger than the app builds; counting is free
    assert big.total == 3 * (5000 * 300 + 5000 * 5000 + 2 * 5000)
    with pytest.raises(ValueError, match="bidirectional must be True or False"):
        count_parameters("lstm", 1, 2, bidirectional="yes")
    with pytest.raises(ValueError, match="bias must be True or False"):
        count_parameters("lstm", 1, 2, bias=None)


def test_a_non_string_cell_and_too_many_layers_raise_value_error():
    with pytest.raises(ValueError, match=r"cell must be one of .*, got \['lstm'\]"):
        count_parameters(["lstm"], 1, 8)  # raised "unhashable type"
    with pytest.raises(ValueError, match="num_layers must be between 1 and 4"):
        count_parameters("lstm", 1, 8, num_layers=10**6)  # took 62 s and 1.9 GB
    assert count_parameters("lstm", 1, 8, num_layers=4).total == 4 * (8 + 64 + 16) + 3 * 4 * (
        8 * 8 + 64 + 16
    )


def test_built_total_is_torchs_count_of_the_built_model():
    from explorer.params import built_total

    for cell, module in (("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
        rnn, head = module(10, 20), torch.nn.Linear(20, 3)
        expected = sum(p.numel() for p in [*rnn.parameters(), *head.parameters()])
        assert built_total(cell, 10, 20, 3) == expected
