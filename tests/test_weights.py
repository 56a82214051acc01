"""Weights hand-off: safetensors with the config in the metadata; every malformed file refused."""

import io
import json
import pickle

import pytest
import torch
from safetensors.torch import save

from explorer.config import CellConfig
from explorer.models import build_from_config
from explorer.weights import FORMAT, load_weights, save_weights

CONFIGS = [
    CellConfig(),
    CellConfig("lstm", 3, 6, num_layers=2, proj_size=2, output_size=2, seed=4),
    CellConfig("gru", 2, 5, bidirectional=True, seed=1),
    CellConfig("rnn", 1, 4, bias=False, nonlinearity="relu", num_layers=3),
]


def _trained(config):
    """A model whose weights differ from a fresh build of its config (so a loader that ignored
    the tensors would be caught)."""
    model = build_from_config(config)
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.add_(0.01 * (i + 1))
    return model


def _file(tensors, config=None, **meta):
    metadata = {"format": FORMAT, "version": "1"}
    if config is not None:
        metadata["config"] = config if isinstance(config, str) else json.dumps(config)
    metadata.update(meta)
    return save({k: v.contiguous() for k, v in tensors.items()}, metadata=metadata)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.cell}-{c.num_layers}")
def test_round_trip_keeps_weights_config_and_outputs(config):
    model = _trained(config)
    data = save_weights(model, config)
    assert isinstance(data, bytes)
    loaded, loaded_config = load_weights(data)
    assert loaded_config == config
    assert loaded.state_dict().keys() == model.state_dict().keys()
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), name
    x = torch.randn(7, 3, config.input_size)
    assert torch.equal(model(x), loaded(x))


def test_loading_never_unpickles(monkeypatch):
    data = save_weights(_trained(CONFIGS[0]), CONFIGS[0])

    def refuse(*args, **kwargs):
        raise AssertionError("unpickling was attempted")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(torch, "load", refuse)
    load_weights(data)
    buffer = io.BytesIO()
    torch.save(_trained(CONFIGS[0]).state_dict(), buffer)  # a pickle-based .pt file
    with pytest.raises(ValueError, match="not a weights file"):
        load_weights(buffer.getvalue())


def _state(config=CONFIGS[0]):
    return dict(_trained(config).state_dict())


GOOD = CONFIGS[0].as_dict()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: b"", "not a weights file"),
        (lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not a weights file"),
        (lambda: save_weights(_trained(CONFIGS[0]), CONFIGS[0])[:-5], "not a weights file"),
        (lambda: save(_state()), "not written by RNN Explorer"),
        (lambda: _file(_state()), "no model config"),
        (lambda: _file(_state(), "{cell: lstm"), "not valid JSON"),
        (lambda: _file(_state(), "[1, 2]"), "JSON object"),
        (
            lambda: _file(_state(), {**GOOD, "hidden_size": "16"}),
            "not valid: hidden_size must be an integer",
        ),
        (lambda: _file(_state(), {**GOOD, "hidden_size": 0}), "hidden_size must be between"),
        (lambda: _file(_state(), {**GOOD, "cell": "transformer"}), "cell must be one of"),
        (
            lambda: _file(_state(), {k: v for k, v in GOOD.items() if k != "seed"}),
            r"missing \['seed'\]",
        ),
        (lambda: _file(_state(), {**GOOD, "dropout": 0.1}), r"unknown \['dropout'\]"),
        (lambda: _file(_state(), GOOD, version="2"), "version"),
        # a different cell: an LSTM's tensors under a GRU's config (4H vs 3H rows)
        (lambda: _file(_state(), {**GOOD, "cell": "gru"}), r"rnn.weight_ih_l0 has shape \(64, 1\)"),
        # wrong sizes: the config says 8 units, the tensors have 16
        (lambda: _file(_state(), {**GOOD, "hidden_size": 8}), "has shape"),
        (
            lambda: _file({k: v for k, v in _state().items() if k != "head.bias"}, GOOD),
            r"missing \['head.bias'\]",
        ),
        (lambda: _file({**_state(), "extra": torch.zeros(2)}, GOOD), r"unexpected \['extra'\]"),
        (
            lambda: _file({**_state(), "head.bias": torch.zeros(1, dtype=torch.float64)}, GOOD),
            "torch.float64",
        ),
        (lambda: _file({**_state(), "head.bias": torch.tensor([float("nan")])}, GOOD), "NaN"),
        # a config nested 100,000 deep: json raised RecursionError
        (lambda: _file(_state(), "[" * 100_000 + "]" * 100_000), "nested too deeply"),
        (lambda: _file(_state(), '{"a":' * 100_000 + "1" + "}" * 100_000), "nested too deeply"),
        (lambda: _file(_state(), {**GOOD, "hidden_size": 10**400}), "hidden_size must be between"),
        (lambda: _file(_state(), {**GOOD, "cell": ["lstm"]}), "cell must be one of"),
    ],
)
def test_malformed_files_raise_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        load_weights(make())


def test_not_bytes_and_mismatched_save_are_refused():
    with pytest.raises(ValueError, match="expected the file's bytes"):
        load_weights("weights.safetensors")
    expected = (
        r"not those of a 1-layer bidirectional GRU \(input 2, hidden 5, output 1, bias\): "
        r"missing \['rnn.bias_hh_l0_reverse'"
    )
    with pytest.raises(ValueError, match=expected):
        save_weights(_trained(CellConfig("gru", 2, 5)), CONFIGS[2])


def test_differences_name_every_field_that_does_not_fit_but_the_seed():
    from explorer.weights import describe, differences

    page = CellConfig("lstm", 1, 16, seed=3)
    assert differences(page, CellConfig("lstm", 1, 16, seed=9)) == []  # the file replaces it
    assert differences(page, CellConfig("gru", 1, 8)) == [
        "cell: GRU, not LSTM",
        "hidden_size: 8, not 16",
    ]
    assert differences(page, CellConfig("lstm", 60, 16, output_size=60)) == [
        "input_size: 60, not 1",
        "output_size: 60, not 1",
    ]
    assert describe(CONFIGS[1]) == ("a 2-layer LSTM (input 3, hidden 6, proj 2, output 2, bias)")
