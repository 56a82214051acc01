"""The cell diagram: read the figure's shapes and annotations back and check what they say."""

import math

import pytest
from plotly.colors import sample_colorscale

from explorer.diagram import (
    DIAGRAM_QUANTITIES,
    NEUTRAL_FILL,
    SIGMOID_TITLE,
    TANH_TITLE,
    cell_diagram,
)

GATES = {"rnn": {"h"}, "lstm": {"i", "f", "g", "o"}, "gru": {"r", "z", "n"}}
FULL = {
    "rnn": dict(x=0.25, h_prev=-0.4, h=0.53),
    "lstm": dict(x=0.25, h_prev=-0.4, c_prev=1.42, i=0.12, f=0.93, g=-1.0, o=0.5, c=3.0, h=0.71),
    "gru": dict(x=-1.25, h_prev=0.3, r=0.05, z=0.81, n=-0.44, h=0.16),
}


def shapes(fig) -> dict:
    named = [s for s in fig.layout.shapes if s.name]
    names = [s.name for s in named]
    assert len(names) == len(set(names)), "shape names must be unique"
    return {s.name: s for s in named}


def notes(fig) -> dict:
    named = [a for a in fig.layout.annotations if a.name]
    names = [a.name for a in named]
    assert len(names) == len(set(names)), "annotation names must be unique"
    return {a.name: a for a in named}


def viridis(t: float) -> str:
    return sample_colorscale("Viridis", [t])[0]


def rdbu_r(t: float) -> str:
    return sample_colorscale("RdBu_r", [t])[0]


def test_lstm_forget_gate_is_filled_at_its_viridis_colour_and_labelled():
    fig = cell_diagram("lstm", {"f": 0.93})
    assert shapes(fig)["f"].fillcolor == viridis(0.93)
    assert "0.93" in notes(fig)["label_f"].text
    assert shapes(fig)["f"].fillcolor != viridis(0.5)  # the value, not a constant, sets it


def test_sigmoid_gates_of_both_cells_use_viridis_over_zero_to_one():
    lstm = shapes(cell_diagram("lstm", {"i": 0.0, "o": 1.0}))
    assert (lstm["i"].fillcolor, lstm["o"].fillcolor) == (viridis(0.0), viridis(1.0))
    gru = shapes(cell_diagram("gru", {"r": 0.25, "z": 0.75}))
    assert (gru["r"].fillcolor, gru["z"].fillcolor) == (viridis(0.25), viridis(0.75))


def test_tanh_quantities_use_rdbu_r_over_minus_one_to_one():
    lstm = shapes(cell_diagram("lstm", {"g": -1.0, "h": 1.0}))
    assert lstm["g"].fillcolor == rdbu_r(0.0) == "rgb(5, 48, 97)"  # RdBu_r's blue end
    assert lstm["state_h"].fillcolor == rdbu_r(1.0)
    gru = shapes(cell_diagram("gru", {"n": 0.0}))
    assert gru["n"].fillcolor == rdbu_r(0.5)  # 0 sits mid-scale, not at the 0…1 scale's start
    rnn = shapes(cell_diagram("rnn", {"h": -0.5}))
    assert rnn["h"].fillcolor == rnn["state_h"].fillcolor == rdbu_r(0.25)


def test_cell_state_is_clipped_for_colour_only():
    fig = cell_diagram("lstm", {"c": 3.0, "c_prev": -7.5})
    assert shapes(fig)["state_c"].fillcolor == rdbu_r(1.0)
    assert shapes(fig)["state_c_prev"].fillcolor == rdbu_r(0.0)
    assert "3.00" in notes(fig)["label_c"].text
    assert "7.50" in notes(fig)["label_c_prev"].text
    assert shapes(cell_diagram("lstm", {"c": 0.5}))["state_c"].fillcolor == rdbu_r(0.75)


def test_negative_values_show_their_sign():
    assert "−0.44" in notes(cell_diagram("gru", {"n": -0.44}))["label_n"].text


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_each_kind_has_exactly_its_own_gate_boxes(kind):
    names = set(shapes(cell_diagram(kind, FULL[kind])))
    assert GATES[kind] <= names
    assert not (set("ifgorzn") - GATES[kind]) & names


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_every_listed_quantity_is_labelled_with_its_value(kind):
    labels = notes(cell_diagram(kind, FULL[kind]))
    for key in DIAGRAM_QUANTITIES[kind]:
        value = FULL[kind][key]
        assert f"{abs(value):.2f}" in labels[f"label_{key}"].text, key


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_no_values_draws_neutral_boxes_symbols_and_no_colour_bars(kind):
    fig = cell_diagram(kind)
    boxes = shapes(fig)
    assert all(boxes[g].fillcolor == NEUTRAL_FILL for g in GATES[kind])
    labels = notes(fig)
    assert all(" = " not in labels[f"label_{k}"].text for k in DIAGRAM_QUANTITIES[kind])
    assert not any(getattr(t.marker, "showscale", False) for t in fig.data)
    assert fig.layout.title.text == f"{kind.upper()} cell"


def test_missing_and_unusable_values_are_drawn_neutral():
    fig = cell_diagram("lstm", {"f": 0.5, "i": None, "o": math.nan, "g": "n/a"})
    boxes, labels = shapes(fig), notes(fig)
    assert boxes["f"].fillcolor == viridis(0.5)
    for key in "igo":
        assert boxes[key].fillcolor == NEUTRAL_FILL
        assert " = " not in labels[f"label_{key}"].text
    assert " = " not in labels["label_c"].text  # absent entirely
    cell_diagram("gru", {})  # an empty dict draws too
    cell_diagram("rnn", {"x": 1.0})


def test_colour_bars_label_both_fixed_scales():
    bars = [t.marker for t in cell_diagram("lstm", FULL["lstm"]).data if t.marker.showscale]
    by_title = {m.colorbar.title.text: m for m in bars}
    assert set(by_title) == {SIGMOID_TITLE, TANH_TITLE}
    sig, tanh = by_title[SIGMOID_TITLE], by_title[TANH_TITLE]
    assert (sig.cmin, sig.cmax) == (0, 1) and sig.colorscale[-1][1] == "#fde725"  # Viridis
    assert (tanh.cmin, tanh.cmax) == (-1, 1) and tanh.colorscale[0][1] == "rgb(5,48,97)"  # RdBu_r
    rnn_bars = [t.marker for t in cell_diagram("rnn", FULL["rnn"]).data if t.marker.showscale]
    assert [m.colorbar.title.text for m in rnn_bars] == [TANH_TITLE]  # an RNN has no sigmoid


def test_text_on_a_dark_box_is_white_and_on_a_light_box_dark():
    labels = notes(cell_diagram("lstm", {"i": 0.0, "f": 1.0, "g": 0.0}))
    assert labels["label_i"].font.color == "#ffffff"  # Viridis 0: dark purple
    assert labels["label_f"].font.color != "#ffffff"  # Viridis 1: yellow
    assert labels["label_g"].font.color != "#ffffff"  # RdBu_r mid: near white


def test_title_names_unit_and_step():
    assert (
        cell_diagram("lstm", unit=3, step=12).layout.title.text == "LSTM cell, unit 3, step t = 12"
    )
    assert cell_diagram("gru", FULL["gru"], unit=0).layout.title.text == "GRU cell, unit 0"


@pytest.mark.parametrize("kind", ["RNN", "transformer", "", "lstm "])
def test_unknown_kind_raises(kind):
    with pytest.raises(ValueError, match="kind must be one of"):
        cell_diagram(kind)


def test_rnn_nonlinearity_names_the_box():
    relu = notes(cell_diagram("rnn", nonlinearity="relu"))
    assert relu["symbol_h"].text == "ReLU"
    assert notes(cell_diagram("rnn"))["symbol_h"].text == "tanh"
    with pytest.raises(ValueError, match="nonlinearity"):
        cell_diagram("rnn", nonlinearity="sigmoid")


def _centre(shape) -> tuple[float, float]:
    return (shape.x0 + shape.x1) / 2, (shape.y0 + shape.y1) / 2


def test_gru_reset_multiplies_the_hidden_matmul_after_it():
    """PyTorch's placement: r ⊙ (W_hn h + b_hn), so the reset × sits on the W_hn box's output."""
    s = shapes(cell_diagram("gru"))
    (mx, my), (lx, ly) = _centre(s["mul_r"]), _centre(s["lin_hn"])
    assert mx == pytest.approx(lx) and my > ly  # directly above the matmul
    assert _centre(s["r"])[0] < mx  # r comes in from the left
    assert _centre(s["add_n"])[0] > mx  # then it is added to W_in x + b_in
    assert _centre(s["lin_in"])[0] == pytest.approx(_centre(s["add_n"])[0])


def test_lstm_belt_forgets_before_it_adds():
    s = shapes(cell_diagram("lstm"))
    (fx, fy), (ax, ay) = _centre(s["mul_f"]), _centre(s["add_c"])
    assert fy == pytest.approx(ay) == pytest.approx(_centre(s["state_c_prev"])[1])
    assert _centre(s["state_c_prev"])[0] < fx < ax < _centre(s["state_c"])[0]
    assert _centre(s["f"])[0] == pytest.approx(fx)  # f feeds the belt's × from below
    assert _centre(s["g"])[0] == pytest.approx(ax)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_projector_readable_fixed_aspect_no_axes(kind):
    fig = cell_diagram(kind, FULL[kind])
    texts = [a for a in fig.layout.annotations if a.text]
    assert texts and all(a.font.size >= 14 for a in texts)
    lines = [s.line.width for s in fig.layout.shapes if s.line.color != "#ffffff"]
    assert min(lines) >= 2
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False
    assert fig.layout.plot_bgcolor == fig.layout.paper_bgcolor == "#ffffff"
    # shapes drawn in data units must fit inside the fixed axis ranges (nothing cut off)
    (x0, x1), (y0, y1) = fig.layout.xaxis.range, fig.layout.yaxis.range
    for s in fig.layout.shapes:
        if s.type in ("rect", "circle"):
            assert x0 <= s.x0 and s.x1 <= x1 and y0 <= s.y0 and s.y1 <= y1, s.name


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_diagram_animation_names_what_the_drawing_has(kind):
    """The browser repaints shapes and texts by these names: each must exist in the figure,
    and each repainted quantity has a fixed colour scale."""
    from explorer.diagram import diagram_animation

    fig = cell_diagram(kind, FULL[kind])
    animation = diagram_animation(kind, {k: [v] for k, v in FULL[kind].items()})
    assert set(animation["shapes"]) <= set(shapes(fig))
    assert set(animation["inside"]) <= set(notes(fig))
    assert set(animation["shapes"].values()) <= set(animation["scale_of"])
    assert "x" not in animation["scale_of"]  # x_t has no fixed range: never coloured


@pytest.mark.parametrize(
    "key,value",
    [("f", 0.0), ("f", 0.37), ("o", 0.999), ("i", 1.7), ("g", -0.42), ("c", 3.0), ("h", 0.05)],
)
def test_diagram_animation_scales_give_colour_for(key, value):
    """Linear interpolation between the scale's stops (what the browser does) is colour_for."""
    from plotly.colors import unlabel_rgb

    from explorer.diagram import colour_for, diagram_animation

    animation = diagram_animation("lstm", {})
    lo, hi, stops = animation["scales"][animation["scale_of"][key]]
    u = min(max((value - lo) / (hi - lo), 0.0), 1.0)
    k = next(k for k in range(1, len(stops)) if stops[k][0] >= u or k == len(stops) - 1)
    (p0, c0), (p1, c1) = stops[k - 1], stops[k]
    w = (u - p0) / (p1 - p0)
    ours = [a + w * (b - a) for a, b in zip(c0, c1)]
    assert ours == pytest.approx(list(unlabel_rgb(colour_for(key, value))), abs=0.6)


def test_hover_text_is_drawn_from_the_displayed_equations():
    from explorer.diagram import _HOVER
    from explorer.teaching import EQUATIONS

    # the hover text and EQUATIONS are written by one builder (explorer.teaching.gate_line)
    assert r"r_t \odot (W_{hn} h_{t-1} + b_{hn})" in EQUATIONS["gru"][2]
    assert _HOVER["n"] == (
        "new gate n<sub>t</sub> = tanh(W<sub>in</sub> x<sub>t</sub> + b<sub>in</sub> + "
        "r<sub>t</sub> ⊙ (W<sub>hn</sub> h<sub>t−1</sub> + b<sub>hn</sub>))"
    )
    assert _HOVER["f"].startswith("forget gate f<sub>t</sub> = σ(W<sub>if</sub> x<sub>t</sub>")
    assert _HOVER["h_rnn"].format(act="ReLU").startswith("h<sub>t</sub> = ReLU(W<sub>ih</sub>")
