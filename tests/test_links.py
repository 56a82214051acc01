"""Links, presets and presenter mode through the whole app (AppTest).

AppTest plays the server's side of the URL: ``at.query_params`` is the link a run opens with,
and after the run the query string the server last sent. A widget bound with
``bind="query-params"`` is rewritten in the address bar by the browser itself when the reader
changes it, so its round trip from a widget change is checked in the browser test
(tests/test_browser_links.py); here the hand-synced ones (cell, input, weights, source, t) and
everything a link or a preset sets are.
"""

import itertools
import json

import pytest
from apptest import open_link

from explorer.presets import PRESETS, page_state
from explorer.url_params import PAGES, PARAMS

STEP = "app_pages/step_through.py"


def _notes(at) -> str:
    return "\n".join(w.value for w in at.warning)


def _figures(at):
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def _step(at) -> int:
    return at.slider(key="step_t").value


_STOPS = itertools.count(1)


def _player(at, key: str = "step_player") -> dict:
    """What the page sent to the browser's step player (explorer/ui/player.py)."""
    return next(json.loads(c.proto.json) for c in at.get("bidi_component") if c.key == key)


def _heading(at) -> str:
    """The player's line "t = N of M · …" for the step the page settled on."""
    d = _player(at)
    return f"t = {d['t']} of {d['T']} · {d['labels'][d['t'] - 1]}"


def _equations_head(at) -> str:
    d = _player(at, "step_equations")
    return d["head"].replace("{t}", str(d["t"]))


def _stop_at(at, t: int) -> None:
    """What the browser sends when its playback stops at step ``t`` (Pause, or the end)."""
    at.session_state["step_player"] = {"settled": {"t": t, "n": next(_STOPS)}}


# ---------------------------------------------------------------- round trips
def test_cell_link_round_trip():
    at = open_link({"cell": "gru", "input_size": "3", "hidden_size": "7", "bidirectional": "true"})
    assert at.metric[0].value == "504"  # nn.GRU(3, 7, bidirectional=True): 2 · 252
    assert at.sidebar.toggle(key="bidirectional").value is True
    assert dict(at.query_params) == {
        "cell": "gru",
        "input_size": "3",
        "hidden_size": "7",
        "bidirectional": "true",
    }  # kept as written
    assert not at.warning  # nothing was ignored
    at.sidebar.selectbox(key="cell").set_value("rnn").run()  # hand-synced: the server writes it
    assert at.query_params["cell"] == "rnn"
    assert at.metric[0].value == "168"  # nn.RNN(3, 7, bidirectional=True): 2 · (21 + 49 + 14)
    at.sidebar.selectbox(key="cell").set_value("lstm").run()
    assert "cell" not in at.query_params  # the default is not written


def test_step_through_link_round_trip():
    numbers = "0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15"
    at = open_link(
        {
            "input": "typed",
            "numbers": numbers,
            "t": "12",
            "unit": "3",
            "weights": "forget1",
            "h0": "random",
            "clamp_f": "1.0",
            "clamp_from": "5",
            "speed": "4",
        },
        STEP,
    )
    assert at.button_group(key="input").value == "typed"
    assert at.text_input(key="numbers").value == numbers
    assert _step(at) == 12 and at.number_input(key="unit").value == 3
    assert at.radio(key="weights").value == "forget1" and at.radio(key="h0").value == "random"
    assert at.selectbox(key="clamp_f").value == 1.0 and at.number_input(key="clamp_from").value == 5
    assert at.select_slider(key="speed").value == 4
    assert _heading(at) == "t = 12 of 16 · x_t = 11.000"  # t counts 1…T: the 12th number
    assert "Unit 3, layer 0, step t = 12" in _equations_head(at)
    assert not at.warning
    assert at.query_params["t"] == "12" and at.query_params["input"] == "typed"
    # the hand-synced parts follow the widgets
    at.button(key="step_forward").click().run()
    assert _step(at) == 13 and at.query_params["t"] == "13"
    at.button_group(key="input").set_value("random_walk").run()
    at.radio(key="weights").set_value("fresh").run()
    assert at.query_params["input"] == "random_walk" and "weights" not in at.query_params
    at.button(key="step_first").click().run()
    assert "t" not in at.query_params  # t = 1 is the default


def test_series_link_and_layers():
    at = open_link(
        {
            "input": "series",
            "source": "seattle_temp_max",
            "start": "100",
            "length": "365",
            "num_layers": "2",
            "layer": "1",
            "bidirectional": "true",
            "direction": "reverse",
        },
        STEP,
    )
    assert at.selectbox(key="source").value == "seattle_temp_max"
    assert at.number_input(key="length").value == 365 and at.slider(key="step_t").max == 365
    assert at.selectbox(key="layer").value == 1 and at.selectbox(key="direction").value == "reverse"
    assert "Unit 0, layer 1, reverse" in _equations_head(at)
    assert not at.warning


def test_playing_keeps_t_out_of_the_url_until_paused():
    # playback runs in the browser: the server hears nothing per frame, so nothing writes the
    # URL until the player reports where it stopped
    at = open_link({"t": "3"}, STEP)
    at.run()
    assert at.query_params["t"] == "3" and _player(at)["t"] == 3
    _stop_at(at, 17)
    at.run()
    assert _step(at) == 17 and at.query_params["t"] == "17"  # written once it settles


def test_page_switch_drops_a_pages_parameters_and_brings_them_back():
    at = open_link({"input": "text", "chars": "abcabc", "t": "4"}, STEP)
    at.switch_page("app_pages/cell.py").run()
    assert not {"input", "t"} & set(at.query_params)
    assert not at.warning  # a page switch is not a bad link
    at.switch_page(STEP).run()
    assert at.query_params["input"] == "text" and at.query_params["t"] == "4"
    assert at.text_input(key="chars").value == "abcabc" and _step(at) == 4


# ---------------------------------------------------------------- bad links
def test_malformed_cell_link_falls_back_with_a_note():
    at = open_link(
        {
            "cell": "cnn",
            "hidden_size": "99999",
            "num_layers": "two",
            "bias": "maybe",
            "input_size": "2.5",
            "hiden_size": "5",
            "foo": "1",
            "t": "12",
        }
    )
    assert at.sidebar.selectbox(key="cell").value == "lstm"
    assert at.sidebar.number_input(key="hidden_size").value == 16
    assert at.sidebar.number_input(key="num_layers").value == 1
    assert at.sidebar.toggle(key="bias").value is True
    assert at.sidebar.number_input(key="input_size").value == 2  # Streamlit truncates
    notes = _notes(at)
    for expected in [
        "`cell=cnn`: not one of `rnn`, `lstm`, `gru`",
        "`hidden_size=99999`: outside 1…1024; showing `16`",
        "`num_layers=two`: not a number",
        "`bias=maybe`: expected true or false",
        "`input_size=2.5` was read as `2`",
        "`hiden_size` is not a setting of this app (did you mean `hidden_size`?)",
        "`foo` is not a setting of this app",
        "`t=12` is a setting of the Step through page; ignored here",
    ]:
        assert expected in notes, (expected, notes)
    assert dict(at.query_params) == {"input_size": "2"}  # the rest is gone from the link
    assert at.metric[0].value == f"{4 * (16 * 2 + 16 * 16 + 2 * 16):,}"  # the page still works
    at.run()
    assert _notes(at) == notes  # the note stays …
    at.button(key="links_dismiss").click().run()
    assert not at.warning  # … until dismissed


def test_malformed_train_choices_fall_back_with_a_note():
    # the Train page's choices (task, optimiser, a task's series and difference) are synced by
    # the same url_sync.choice as the sidebar's cell: a bad value gets the default and a note
    at = open_link(
        {"task": "no-such-task", "optimizer": "lbfgs", "series": "gold", "difference": "maybe"},
        "app_pages/train.py",
    )
    assert at.selectbox(key="task").value == "forecast"
    assert at.selectbox(key="optimizer").value == "adam"
    assert at.selectbox(key="series").value == "co2"
    assert at.selectbox(key="difference").value == "auto"
    notes = _notes(at)
    for expected in [
        "`task=no-such-task`: not one of `forecast`",
        "`optimizer=lbfgs`: not one of `adam`",
        "`series=gold`: not one of `co2`",
        "`difference=maybe`: not one of `auto`, `true`, `false`",
    ]:
        assert expected in notes, (expected, notes)
    at = open_link(
        {"task": "forecast", "series": "seattle_temp_max", "difference": "false"},
        "app_pages/train.py",
    )
    assert at.selectbox(key="series").value == "seattle_temp_max"
    assert at.selectbox(key="difference").value is False
    assert not _notes(at)


def test_malformed_step_link_falls_back_with_a_note():
    at = open_link(
        {
            "t": "abc",
            "input": "bogus",
            "T": "9999",
            "shape": "circle",
            "unit": "99",
            "clamp_f": "2",
            "weights": "x",
            "h0_values": "1",
        },
        STEP,
    )
    assert at.button_group(key="input").value == "wave" and at.radio(key="weights").value == "fresh"
    assert _step(at) == 1 and at.slider(key="T").value == 60
    assert at.number_input(key="unit").value == 0
    notes = _notes(at)
    for expected in [
        "`t=abc`: this sequence's steps are 1…60",
        "`input=bogus`: not one of",
        "`T=9999`: outside 1…400",
        "`shape=circle`: not one of the choices",
        "`unit=99`: outside 0…15",
        "`clamp_f=2`",
        "`weights=x`",
        "`h0_values=1` is not used in this view",
    ]:
        assert expected in notes, (expected, notes)
    assert not set(at.query_params)  # nothing of it is left in the link
    assert any(f["layout"]["title"]["text"] == "hidden state h_t" for f in _figures(at))


def test_t_beyond_the_sequence_and_an_unknown_preset():
    at = open_link({"t": "500", "preset": "nope"}, STEP)
    assert _step(at) == 1
    notes = _notes(at)
    assert "`t=500`: this sequence's steps are 1…60" in notes
    assert "There is no preset called `nope`" in notes and "`forget_gate`" in notes
    assert not at.info or not any("Preset:" in i.value for i in at.info)


# ---------------------------------------------------------------- presets
@pytest.mark.parametrize("key", list(PRESETS))
def test_every_preset_opens_byopen_link(key):
    preset = PRESETS[key]
    at = open_link({"preset": key})
    assert at.title[0].value  # its page drew
    assert not at.error
    assert any(i.value.startswith(f"**Preset: {preset.title}.**") for i in at.info)
    assert "preset" not in at.query_params
    # the widgets show the preset's values ("t" is the player's position)
    for name, value in preset.params.items():
        key_ = PARAMS[name].key  # "t" lives in the player's position
        assert at.session_state[key_] == value, (name, at.session_state[key_], value)
    expected_page = PAGES[preset.page].title
    assert at.session_state["_links_page"] == preset.page, expected_page


def test_the_step_through_caption_says_which_weights_it_shows():
    """The forget-gate preset applies b_if + b_hf = 1: the caption says so, as the span of the
    forget-gate biases the page reads from the model does; fresh weights say nothing of it."""
    at = open_link({"preset": "forget_gate"})
    captions = [c.value for c in at.caption]
    about = next(c for c in captions if c.startswith("Fresh weights"))
    assert about.startswith("Fresh weights, forget-gate bias 1.0, seed 0;"), about
    spans = next(c for c in captions if c.startswith("Forget-gate bias b_if + b_hf: "))
    assert "1.00…1.00" in spans, spans  # the model's biases: the caption is right
    at = open_link({"cell": "lstm"}, STEP)
    captions = [c.value for c in at.caption]
    about = next(c for c in captions if c.startswith("Fresh weights"))
    assert about.startswith("Fresh weights, seed") and "forget-gate" not in about
    assert not any(c.startswith("Forget-gate bias") for c in captions)


def test_preset_opened_mid_session_resets_the_rest():
    at = open_link({"hidden_size": "9", "num_layers": "2"}, STEP)
    at.slider(key="amplitude").set_value(2.0).run()
    at.query_params.clear()
    at.query_params["preset"] = "forget_gate"  # what the sidebar's preset link sends
    at.run()
    assert not at.exception
    assert at.sidebar.number_input(key="hidden_size").value == 16  # the sidebar's defaults
    assert at.sidebar.number_input(key="num_layers").value == 1
    assert at.slider(key="amplitude").value == 1.0  # Step through's defaults
    assert at.selectbox(key="shape").value == "square" and _step(at) == 30
    state = page_state(PRESETS["forget_gate"])
    assert at.selectbox(key="clamp_i").value == state["clamp_i"] == 0.0
    fig = next(
        f for f in _figures(at) if f["layout"]["title"]["text"].endswith("normal vs clamped")
    )
    assert fig["data"][1]["name"] == "clamped run"  # the clamp comparison is on the page
    at.switch_page("app_pages/cell.py").run()
    assert not any("Preset:" in i.value for i in at.info)  # the sentence stays on its page


def test_preset_link_with_other_parameters_says_they_were_ignored():
    at = open_link({"preset": "gru_vs_lstm_params", "hidden_size": "30"})
    assert at.metric[0].value == "252"
    assert "ignored `hidden_size`" in _notes(at)


# ---------------------------------------------------------------- presenter mode
def _font_sizes(fig: dict) -> list[float]:
    sizes = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "size" and key.endswith("font") and isinstance(v, (int, float)):
                    sizes.append(v)
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)

    walk(fig)
    return sizes


def test_presenter_flag_enlarges_and_hides():
    normal = open_link({"t": "5"}, STEP)
    shown = open_link({"t": "5", "presenter": "1"}, STEP)
    assert shown.sidebar.toggle(key="presenter").value is True
    assert shown.query_params["presenter"] == "1"
    css = "".join(h.proto.body for h in shown.get("html"))
    # text 1.5 times Streamlit's 16 px; the live settings stay (a teacher changes the clamps
    # and the initial state live: on Step through they sit in popovers), only the marked
    # explanations go
    assert "html { font-size: 24px; }" in css and "stExpander" not in css
    assert "st-key-explain" in css
    assert "font-size: 24px" not in "".join(h.proto.body for h in normal.get("html"))
    assert {"What if… clamp a gate", "Initial state"} <= {
        p.proto.popover.label for p in shown.get("popover")
    }
    caption = "Play runs in your browser"
    assert any(caption in c.value for c in normal.caption)
    assert not any(caption in c.value for c in shown.caption)  # the long explanation goes
    big, small = _figures(shown), _figures(normal)
    assert len(big) == len(small)
    for b, s in zip(big, small):
        assert b["layout"]["title"]["text"] == s["layout"]["title"]["text"]
        assert max(_font_sizes(b)) == pytest.approx(1.5 * max(_font_sizes(s)), rel=0.01)
        if "height" in s["layout"]:
            assert b["layout"]["height"] == round(1.5 * s["layout"]["height"])
    shown.sidebar.toggle(key="presenter").set_value(False).run()
    assert "presenter" not in shown.query_params


def test_bad_presenter_flag_is_noted():
    at = open_link({"presenter": "maybe"})
    assert at.sidebar.toggle(key="presenter").value is False
    assert "`presenter=maybe`" in _notes(at)


def test_a_request_carrying_the_address_before_pause_does_not_move_the_step():
    # ?t=2, play, pause: the pause's run writes the step to the URL; a request sent before the
    # browser applied that write still carries t=2: no jump back there
    at = open_link({"t": "2"}, STEP)
    _stop_at(at, 6)
    at.run()
    paused = _step(at)
    assert paused > 2 and at.query_params["t"] == str(paused)
    # the stale request comes right after the write, however long the runs above took on
    # this machine (the guard holds for url_sync.STALE_SECONDS after the write)
    import time

    from explorer.ui.url_sync import REPLACED

    at.session_state[REPLACED] = {
        **at.session_state[REPLACED],
        "t": (at.session_state[REPLACED]["t"][0], time.monotonic()),
    }
    at.query_params["t"] = "2"  # the stale request's address
    at.run()
    assert _step(at) == paused


# ---------------------------------------------------------------- hostile links
HOSTILE = ["inf", "-inf", "1e309", "9" * 5000, "nan"]


@pytest.mark.parametrize("raw", HOSTILE)
def test_non_finite_and_huge_numbers_are_dropped_before_any_widget_reads_them(raw):
    at = open_link({"hidden_size": raw, "seed": raw, "num_layers": raw})  # _link: no exception
    assert at.sidebar.number_input(key="hidden_size").value == 16
    notes = _notes(at)
    why = "not a number" if raw == "nan" else "outside 1…1024"
    assert f"`hidden_size={raw[:30]}" in notes and f"{why}; showing `16`" in notes, notes
    assert "(5,000 characters)" in notes if len(raw) > 40 else raw in notes
    assert not set(at.query_params)


def test_hostile_numbers_on_every_page_get_a_note_with_the_range():
    at = open_link({"unit": "inf", "clamp_from": "-inf", "T": "1e309"}, STEP)
    notes = _notes(at)
    for expected in [
        "`unit=inf`: outside 0…15; showing `0`",
        "`clamp_from=-inf`: outside 1…60; showing `1`",
        "`T=1e309`: outside 1…400; showing `60`",
    ]:
        assert expected in notes, notes
    at = open_link(
        {"steps": "inf", "target_loss": "-1", "patience": "0", "lr": "1e9", "period": "inf"},
        "app_pages/train.py",
    )
    notes = _notes(at)
    for expected in [
        "`steps=inf`: outside 10…20000; showing `300`",
        "`target_loss=-1`: below 0; showing empty (off)",
        "`patience=0`: outside 1…1000; showing empty (off)",
        "`lr=1e9`: outside 0.0001…10; showing `0.01`",
        "`period=inf`: outside 4…500; ignored",
    ]:  # a setting of another task
        assert expected in notes, notes
    at = open_link(
        {
            "learn_seed": "inf",
            "learn_count_h": "1e309",
            "learn_code_seed": "-inf",
            "learn_bogus": "1",
        },
        "app_pages/learn.py",
    )
    notes = _notes(at)
    for expected in [
        "`learn_seed=inf`: outside 0…9999; showing `0`",
        "`learn_count_h=1e309`: outside 1…1024; showing `20`",
        "`learn_code_seed=-inf`: outside 0…9999; showing `0`",
        "`learn_bogus` is not a setting of this app",
    ]:
        assert expected in notes, notes


def test_a_repeated_name_says_which_value_was_used():
    at = open_link({"hidden_size": ["3", "7"]})
    assert at.sidebar.number_input(key="hidden_size").value == 7
    assert "`hidden_size` is in the link 2 times (`3`, `7`); used the last one, `7`." in _notes(at)
    assert at.query_params["hidden_size"] in ("7", ["7"])


def test_backticks_in_a_link_do_not_break_out_of_the_note():
    at = open_link({"foo`**x**": "1", "cell": "`<b>`"})
    notes = _notes(at)
    assert "`foo'**x**` is not a setting" in notes and "`cell='<b>'`" in notes, notes


def test_a_refused_number_of_another_page_is_called_another_pages_setting():
    at = open_link({"T": "inf", "learn_seed": "-inf"}, "app_pages/learn.py")  # found by test_fuzz
    notes = _notes(at)
    assert "`T=inf` is a setting of the Step through page; ignored here." in notes, notes
    assert "`learn_seed=-inf`: outside 0…9999; showing `0`." in notes
