"""The Learn page under AppTest: it renders on defaults, after widget changes and from a link,
and the numbers it prints are torch's."""

import base64
import json
import re

import numpy as np
import pytest
import torch
from apptest import APP, TIMEOUT, open_link
from streamlit.testing.v1 import AppTest

from explorer import lesson

LEARN = "app_pages/learn.py"
SECTIONS = {
    "structure": "1 · Structure",
    "how-it-runs": "2 · How it runs",
    "three-kinds": "3 · Three kinds",
    "counting-parameters": "4 · Counting parameters",
    "where-rnns-are-used": "5 · Where RNNs are used",
    "the-code": "6 · The code",
}


def _open(params: dict | None = None) -> AppTest:
    return open_link(params, LEARN)


def _figures(at) -> dict[str, dict]:
    out = {}
    for chart in at.get("plotly_chart"):
        fig = json.loads(chart.proto.spec)
        out[fig["layout"]["title"]["text"]] = fig
    return out


def _array(value):
    """A figure array from its JSON: a list, or plotly's typed-array dict (``bdata``)."""
    if isinstance(value, dict):
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return out.reshape([int(n) for n in value["shape"].split(",")]) if "shape" in value else out
    return np.asarray(value)


def _torch_tiny(X, H, O, T, seed, f="tanh"):
    """The tiny model as torch computes it, built independently of the page."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        rnn, head = torch.nn.RNN(X, H, nonlinearity=f), torch.nn.Linear(H, O)
    with torch.no_grad():
        out, _ = rnn(lesson.tiny_input(T, X, seed))
        return out.numpy(), head(out).numpy()


def _printed_vector(text: str, name: str) -> np.ndarray:
    numbers = re.search(rf"{name} = \(([^)]*)\)", text).group(1)
    return np.array([float(v) for v in numbers.split(",")])


def test_renders_on_defaults_with_every_section():
    at = _open()
    assert not at.error
    headers = {h.proto.anchor: h.value for h in at.header if h.proto.anchor}
    assert headers == SECTIONS
    titles = set(_figures(at))
    assert {
        "Folded (left), and unrolled over T = 4 steps",
        "Step t = 1 of 4 (highlighted)",
        "How much h_T still feels h_t: ‖∂h_T/∂h_t‖",
        "Vanilla RNN (ρ = 0.90): h_t",
        "LSTM",
        "GRU",
        "How long a nudge at t = 3 is remembered",
        "Where the parameters are",
    } <= titles
    assert len(at.latex) > 15
    # the hand computation's step 1 is nn.RNN's
    h, y = _torch_tiny(2, 3, 1, 4, 0)
    ran = next(s.value for s in at.success if "nn.RNN` returns" in s.value)
    np.testing.assert_allclose(_printed_vector(ran, "h_1"), h[0], atol=6e-4)
    np.testing.assert_allclose(_printed_vector(ran, "y_1"), y[0], atol=6e-4)
    counted = next(s.value for s in at.success if s.value.startswith("Checked against torch"))
    assert "all equal" in counted and "= 661" in counted and "= 2,581" in counted
    # every section links deeper
    targets = {link.proto.label for link in at.get("page_link")}
    for label in (
        "Every tensor of a real torch.nn module: Cell & parameters",
        "Every unit at every step, for any cell and input: Step through",
        "Train the three cells side by side: Compare cells",
        "Your own data: Train page",
        "Preset: the forget gate at work (Step through)",
        "Preset: temperature forecasting (Train)",
        "Preset: character-level text (Train)",
    ):
        assert label in targets, label
    assert float(at.metric[0].value) < 1e-5  # the tutorial's loop vs nn.RNN + nn.Linear


def test_changed_widgets_follow_torch():
    at = _open()
    at.slider(key="learn_h").set_value(4).run()
    at.slider(key="learn_x").set_value(3).run()
    at.slider(key="learn_T").set_value(6).run()
    at.slider(key="learn_t").set_value(6).run()
    at.radio(key="learn_f").set_value("relu").run()
    assert not at.exception and not at.error
    h, y = _torch_tiny(3, 4, 1, 6, 0, "relu")
    ran = next(s.value for s in at.success if "nn.RNN` returns" in s.value)
    np.testing.assert_allclose(_printed_vector(ran, "h_6"), h[5], atol=6e-4)
    lines = [l.value.strip("$\n") for l in at.latex]
    assert any(l.startswith(r"h_{6} = \operatorname{ReLU}(a_{6})") for l in lines)
    assert "Step t = 6 of 6 (highlighted)" in _figures(at)

    at.select_slider(key="learn_rho").set_value(1.5).run()
    at.button_group(key="learn_input").set_value("noise").run()
    at.slider(key="learn_kinds_T").set_value(60).run()
    at.slider(key="learn_kinds_h").set_value(12).run()
    at.select_slider(key="learn_forget").set_value(5).run()
    assert not at.exception and not at.error
    figs = _figures(at)
    grad = figs["How much h_T still feels h_t: ‖∂h_T/∂h_t‖"]
    dashed = next(t for t in grad["data"] if t.get("name", "").startswith("W_hh alone"))
    assert "1.50" in dashed["name"] and _array(dashed["y"])[-1] > 1e6  # 1.5^60 ≈ 4e10
    lstm = figs["LSTM"]
    forget = _array(lstm["data"][1]["z"])  # (units, T): the forget gate's row
    assert forget.shape == (12, 60) and np.median(forget) > 0.9  # bias 5: σ(5 + …) ≈ 1
    assert any("ρ = 1.50, T = 60" in c.value for c in at.caption)

    at.number_input(key="learn_count_x").set_value(256).run()
    at.number_input(key="learn_count_h").set_value(1024).run()
    at.number_input(key="learn_count_o").set_value(3).run()
    table = at.dataframe[0].value
    lstm_row = table[table["cell"].str.startswith("LSTM")].iloc[0]
    real = sum(p.numel() for p in torch.nn.LSTM(256, 1024).parameters()) + 1024 * 3 + 3
    assert lstm_row["torch.nn"] == real and lstm_row["+ b_hh"] == 4 * 1024
    assert any("all equal" in s.value for s in at.success)

    at.button_group(key="learn_code_cell").set_value("GRU").run()
    assert not at.exception
    assert any("def torch_gru" in c.value for c in at.code)
    assert float(at.metric[0].value) < 1e-5
    assert "Every h_t (100 numbers):<br>from scratch vs nn.GRU" in _figures(at)  # two lines


def test_a_link_reproduces_the_view():
    params = {
        "learn_x": "3",
        "learn_h": "4",
        "learn_o": "2",
        "learn_T": "5",
        "learn_t": "4",
        "learn_f": "relu",
        "learn_rho": "1.2",
        "learn_input": "square",
        "learn_update": "3",
        "learn_count_h": "7",
        "learn_count_x": "3",
        "learn_code_cell": "LSTM",
        "learn_code_seed": "5",
    }
    at = _open(params)
    assert not at.error
    assert [
        at.slider(key=k).value for k in ("learn_x", "learn_h", "learn_o", "learn_T", "learn_t")
    ] == [3, 4, 2, 5, 4]
    assert at.select_slider(key="learn_rho").value == 1.2
    assert at.button_group(key="learn_input").value == "square"
    assert at.button_group(key="learn_code_cell").value == "LSTM"
    h, _ = _torch_tiny(3, 4, 2, 5, 0, "relu")
    ran = next(s.value for s in at.success if "nn.RNN` returns" in s.value)
    np.testing.assert_allclose(_printed_vector(ran, "h_4"), h[3], atol=6e-4)
    gru_row = at.dataframe[0].value.iloc[2]
    assert gru_row["torch.nn"] == 252 + 7 * 1 + 1  # nn.GRU(3, 7) + nn.Linear(7, 1)
    assert any("def torch_lstm" in c.value for c in at.code)
    assert dict(at.query_params).get("learn_code_cell") == "LSTM"  # the link keeps saying it


def test_bad_values_in_a_link_fall_back_to_defaults():
    at = _open(
        {
            "learn_h": "99",
            "learn_rho": "abc",
            "learn_T": "-3",
            "learn_code_cell": "CNN",
            "learn_count_h": "1e9",
        }
    )
    assert not at.error
    assert at.slider(key="learn_h").value == 3 and at.slider(key="learn_T").value == 4
    assert at.select_slider(key="learn_rho").value == 0.9
    assert at.button_group(key="learn_code_cell").value == "RNN"
    assert at.number_input(key="learn_count_h").value == 20


def test_state_survives_a_visit_to_another_page():
    at = _open()
    at.slider(key="learn_h").set_value(4).run()
    at.button_group(key="learn_code_cell").set_value("GRU").run()
    at.switch_page("app_pages/cell.py").run()
    at.switch_page(LEARN).run()
    assert not at.exception
    assert at.slider(key="learn_h").value == 4
    assert at.button_group(key="learn_code_cell").value == "GRU"


@pytest.mark.parametrize("kind", list(lesson.INPUTS))
def test_every_input_kind(kind):
    at = _open({"learn_input": kind})
    assert not at.exception and not at.error
    fig = _figures(at)["GRU"]
    np.testing.assert_allclose(
        _array(fig["data"][0]["y"]), lesson.lesson_signal(kind, 40), atol=1e-6
    )


def test_exploding_gradients_preset_explodes_in_the_real_network():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["preset"] = "exploding_gradients"
    at.run()
    at.run()  # the preset's second run sets its values
    assert not at.exception, at.exception
    (caption,) = [c.value for c in at.caption if "‖∂h_T/∂h_0‖" in c.value]
    assert "exploded" in caption, caption
    # the same network built independently, its Jacobian from torch.autograd
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        rnn = torch.nn.RNN(1, 4, nonlinearity="relu").double()
    with torch.no_grad():
        rnn.weight_hh_l0 *= 1.4 / torch.linalg.eigvals(rnn.weight_hh_l0).abs().max()
    x = torch.as_tensor(lesson.lesson_signal("pulse", 40, 1), dtype=torch.float64)[:, None]
    J = torch.autograd.functional.jacobian(
        lambda h0: rnn(x, h0[None])[1][0], torch.zeros(4, dtype=torch.float64)
    )  # (H, H) = ∂h_T/∂h_0
    norm = float(torch.linalg.matrix_norm(J, 2))
    assert norm > 1e2 and f"‖∂h_T/∂h_0‖ = {norm:.1e}" in caption, (norm, caption)


def test_sidebar_says_its_cell_is_not_used_on_learn():
    at = _open()
    note = "Not used on this page"
    assert any(note in c.value for c in at.sidebar.caption)
    at.switch_page("app_pages/cell.py").run()
    assert not any(note in c.value for c in at.sidebar.caption)
