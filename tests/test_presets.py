"""The preset registry (explorer.presets): pure data, checked against the URL table
(explorer.url_params), the widgets' options, and torch for the numbers the sentences quote."""

from pathlib import Path

import pytest
import torch

from explorer.config import CellConfig
from explorer.presets import PRESETS, link, page_state
from explorer.url_params import (
    PAGES,
    SIDEBAR_PARAMS,
    STEP_PARAMS,
    owner,
    page_params,
    url_value,
)

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_TITLES = {  # README.md, "Links, presets and presenter mode"
    "forget_gate": "the forget gate at work",
    "vanishing_gradients": "vanishing gradients in a vanilla RNN",
    "long_lag": "LSTM vs RNN on a long lag",
    "gru_vs_lstm_params": "GRU vs LSTM parameter count",
    "exploding_gradients": "exploding gradients in a vanilla RNN",  # issue 10
    "tutorial": "the tutorial's example",
    "temperature": "temperature forecasting",
    "text": "character-level text",
}


def test_the_registry_has_the_contracts_presets():
    assert {k: p.title for k, p in PRESETS.items()} == CONTRACT_TITLES
    assert PRESETS["long_lag"].page == "compare" and PRESETS["long_lag"].params["lag"] == 50
    assert PRESETS["temperature"].params["series"] == "seattle_temp_max"
    assert PRESETS["text"].params["task"] == "char"


@pytest.mark.parametrize("key", list(PRESETS))
def test_each_preset_is_complete_and_speaks_its_pages_names(key):
    preset = PRESETS[key]
    assert preset.key == key and preset.page in PAGES
    assert (ROOT / PAGES[preset.page].file).is_file()
    sentence = preset.look_for.strip()
    assert 60 < len(sentence) < 400 and sentence.endswith(".")
    # Learn's names are all those starting with learn_ (url_params.owner knows them)
    unknown = {
        n for n in set(preset.params) - page_params(preset.page) if preset.page not in owner(n)
    }
    assert not unknown, f"{key} sets {unknown}, which {preset.page or 'the Cell page'} lacks"
    sidebar = {n: v for n, v in page_state(preset).items() if n in SIDEBAR_PARAMS}
    CellConfig(**sidebar)  # the sidebar it sets is a valid cell (raises otherwise)


def test_link_format_and_bad_key():
    assert link("forget_gate") == "./?preset=forget_gate"
    assert link("text") == "./?preset=text"
    with pytest.raises(ValueError, match="preset must be one of"):
        link("nope")


def test_preset_url_spells_values_as_streamlits_binding_does():
    assert url_value(True) == "true" and url_value(False) == "false"
    assert url_value(1.0) == "1.0" and url_value(30) == "30"
    url = PRESETS["forget_gate"].url()
    assert url.startswith("./step_through?") and "clamp_f=1.0" in url and "t=30" in url


def test_page_state_resets_the_rest_to_defaults():
    state = page_state(PRESETS["forget_gate"])
    assert state["hidden_size"] == 16 and state["num_layers"] == 1  # sidebar defaults
    assert state["amplitude"] == STEP_PARAMS["amplitude"] and state["shape"] == "square"
    assert "amplitude" not in page_state(PRESETS["temperature"])  # other pages: not touched


def test_step_defaults_are_options_of_their_widgets():
    from explorer.datasets import SERIES
    from explorer.ui import INPUT_KINDS

    assert STEP_PARAMS["input"] in INPUT_KINDS and STEP_PARAMS["source"] in SERIES
    for key, preset in PRESETS.items():
        params = preset.params
        assert params.get("input", "wave") in INPUT_KINDS
        for gate in "ifgorzn":
            value = params.get(f"clamp_{gate}", "free")
            allowed = ["free", -1.0, 0.0, 1.0] if gate in "gn" else ["free", 0.0, 0.5, 1.0]
            assert value in allowed, (key, gate, value)


def test_gru_vs_lstm_sentence_matches_torch():
    gru, lstm = torch.nn.GRU(3, 7), torch.nn.LSTM(3, 7)
    total = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    sentence = PRESETS["gru_vs_lstm_params"].look_for
    assert f"{total(gru)} parameters" in sentence and str(total(lstm)) in sentence
    assert gru.weight_ih_l0.shape[0] == 21 and lstm.weight_ih_l0.shape[0] == 28
    assert "from 21 to 28 rows" in sentence


def test_preset_sentences_hold_no_raw_latex():
    # shown as plain text (the preset's note, the menu's tooltip): "c_{t−1}" showed its braces
    for preset in PRESETS.values():
        assert "{" not in preset.look_for and "\\" not in preset.look_for, preset.key


def test_forget_gate_sentence_matches_torch():
    """With both forget biases summing to 1 the forget gate of the preset's input sits near
    0.73 (σ(1) ≈ 0.731), against about 0.5 with PyTorch's initialisation."""
    from explorer import build_from_config
    from explorer.inputs import to_features, wave
    from explorer.models import set_forget_bias

    p = PRESETS["forget_gate"].params
    x = to_features(
        wave(p["shape"], p["T"], cycles=p["cycles"], amplitude=1.0, noise=0.0, seed=0), 1
    )  # (T, 1)
    rnn = build_from_config(CellConfig()).rnn
    f_fresh = _forget_gate(rnn, x)
    set_forget_bias(rnn, 1.0)
    f_bias = _forget_gate(rnn, x)
    assert abs(f_bias.mean() - 0.73) < 0.03 and abs(f_fresh.mean() - 0.5) < 0.1


def _forget_gate(lstm: torch.nn.LSTM, x: torch.Tensor) -> torch.Tensor:
    """f_t of every step, with torch's own LSTMCell on torch's weights (rows i f g o)."""
    cell = torch.nn.LSTMCell(lstm.input_size, lstm.hidden_size)
    cell.load_state_dict(
        {
            "weight_ih": lstm.weight_ih_l0,
            "weight_hh": lstm.weight_hh_l0,
            "bias_ih": lstm.bias_ih_l0,
            "bias_hh": lstm.bias_hh_l0,
        }
    )
    H = lstm.hidden_size
    h = c = torch.zeros(1, H)
    out = []
    with torch.no_grad():
        for x_t in x:  # (1,)
            gates = cell.weight_ih @ x_t + cell.bias_ih + cell.weight_hh @ h[0] + cell.bias_hh
            out.append(torch.sigmoid(gates[H : 2 * H]))
            h, c = cell(x_t[None], (h, c))
    return torch.stack(out)  # (T, H)
