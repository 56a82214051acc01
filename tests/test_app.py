"""Headless app tests with streamlit.testing.v1.AppTest: every page, cell changes, bad input,
and live training."""

import dataclasses
import itertools
import json
import types
from pathlib import Path

import pytest
import torch
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from explorer.ui.session_keys import STEP_POS

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
PAGES = ["app_pages/cell.py", "app_pages/step_through.py", "app_pages/train.py"]
TIMEOUT = 60  # importing torch alone exceeds AppTest's 3 s default


def _open(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _array(value):
    """A figure array from its JSON: a list, or plotly's typed-array dict (``bdata``)."""
    import base64

    import numpy as np

    if isinstance(value, dict):
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return out.reshape([int(n) for n in value["shape"].split(",")]) if "shape" in value else out
    return np.asarray(value)


def _figures(at):
    import json

    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


_STOPS = itertools.count(1)


def _player(at, key: str = "step_player") -> dict:
    """What the page sent to the browser's step player (explorer/ui/player.py)."""
    return next(json.loads(c.proto.json) for c in at.get("bidi_component") if c.key == key)


def _equation(at, slot: str, t: int) -> float:
    """Slot ``slot`` of the equations at step ``t`` (1…T), as the page sent it."""
    values = _player(at, "step_equations")["frames"][slot]
    return values[t - 1] if isinstance(values, list) else values


def _stop_at(at, t: int) -> None:
    """What the browser sends when playback stops at step ``t``: a new report each time."""
    at.session_state["step_player"] = {"settled": {"t": t, "n": next(_STOPS)}}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_page_renders_for_every_cell(page, cell):
    at = _open(page)
    at.sidebar.selectbox(key="cell").set_value(cell).run()
    assert not at.exception, at.exception
    assert not at.error
    assert at.title[0].value  # the page drew its heading
    if page != PAGES[2]:
        assert _figures(at)


def test_parameter_page_follows_sizes_and_torch():
    at = _open()
    at.sidebar.selectbox(key="cell").set_value("gru").run()
    at.sidebar.number_input(key="input_size").set_value(3).run()
    at.sidebar.number_input(key="hidden_size").set_value(7).run()
    assert at.metric[0].value == "252"  # nn.GRU(3, 7): 3·(7·3 + 7·7 + 2·7)
    assert at.metric[1].value == "231"  # one bias per gate
    assert "= 252" in at.success[0].value and "matches" in at.success[0].value
    table = at.dataframe[0].value
    assert list(table["tensor"]) == [
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
        "head.weight",
        "head.bias",
    ]
    assert list(table["shape"][:2]) == ["21 × 3", "21 × 7"]
    # the GRU's b_hn sits inside r_t ⊙ (W_hn h + b_hn): it cannot be folded into b_in
    hh = table.set_index("tensor")["in textbook form"]["bias_hh_l0"]
    assert "b_hn: cannot be" in hh and "b_hr, b_hz: folded" in hh
    assert at.metric[1].delta == "21 fewer (one bias per gate)"  # 3·7, no "↓ -21"
    at.sidebar.selectbox(key="cell").set_value("lstm").run()
    assert at.metric[1].delta == "28 fewer (one bias per gate)"  # 4·7
    assert (
        at.dataframe[0].value.set_index("tensor")["in textbook form"]["bias_hh_l0"]
        == "no: folded into b_ih"
    )


def test_sidebar_state_survives_page_switches():
    at = _open()
    at.sidebar.number_input(key="hidden_size").set_value(9).run()
    at.switch_page(PAGES[1]).run()
    assert at.sidebar.number_input(key="hidden_size").value == 9
    heatmap = next(f for f in _figures(at) if f["data"][0]["type"] == "heatmap")
    assert (
        len(
            heatmap["data"][0]["y"]["bdata"]
            if isinstance(heatmap["data"][0]["y"], dict)
            else heatmap["data"][0]["y"]
        )
        > 0
    )


def test_invalid_sizes_show_message_and_keep_state():
    at = _open()
    at.sidebar.number_input(key="hidden_size").set_value(4).run()
    at.sidebar.number_input(key="proj_size").set_value(6).run()
    assert not at.exception
    assert any("proj_size must be smaller than hidden_size" in e.value for e in at.sidebar.error)
    assert any("Fix the cell settings" in w.value for w in at.warning)
    # state kept: fixing the one bad value brings the page back with the other choices intact
    at.sidebar.number_input(key="proj_size").set_value(2).run()
    assert not at.warning and at.sidebar.number_input(key="hidden_size").value == 4
    assert at.metric[0].value == f"{4 * (4 * 1 + 4 * 2 + 2 * 4) + 2 * 4:,}"


def test_step_through_inputs_and_bad_typed_numbers():
    at = _open(PAGES[1])
    at.button_group(key="input").set_value("typed").run()
    at.text_input(key="numbers").set_value("1, 2, oops").run()
    assert not at.exception
    assert "item 3, 'oops', is not a number" in at.error[0].value
    assert at.sidebar.selectbox(key="cell").value == "lstm"  # the rest of the app is intact
    at.text_input(key="numbers").set_value("1, 2, 3, 4").run()
    assert not at.error
    assert at.slider(key="step_t").max == 4  # t = 1…T
    at.button_group(key="input").set_value("series").run()
    assert not at.exception and not at.error
    at.slider(key="step_t").set_value(5).run()
    assert not at.exception


def test_step_through_marks_the_chosen_step():
    at = _open(PAGES[1])
    at.slider(key="step_t").set_value(12).run()
    heatmaps = [f for f in _figures(at) if f["data"][0]["type"] == "heatmap"]
    assert {f["layout"]["title"]["text"] for f in heatmaps} == {
        "hidden state h_t",
        "cell state c_t",
        "input gate i_t",
        "forget gate f_t",
        "cell candidate g_t",
        "output gate o_t",
    }
    heatmaps.sort(key=lambda f: "hcifgo".index(f["layout"]["title"]["text"].split()[-1][0]))
    for fig in heatmaps:
        shape = fig["layout"]["shapes"][0]
        assert (shape["x0"], shape["x1"]) == (11.5, 12.5)
        assert fig["layout"]["xaxis"]["title"]["text"] == "time step t"
    gate = heatmaps[3]["data"][0]
    assert (gate["zmin"], gate["zmax"]) == (0.0, 1.0)  # sigmoid gates on a fixed 0..1 scale


@pytest.mark.usefixtures("slices_by_steps")  # each slice: a fixed number of steps
def test_training_adds_loss_points_and_rerun_keeps_them():
    at = _open(PAGES[2])
    at.number_input(key="steps").set_value(20_000).run()  # Pause needs a run still going
    at.button(key="train_start").click().run()
    assert not at.exception
    trainer = at.session_state["trainer"]
    first = trainer.step
    assert first > 0
    (chart,) = at.get("vega_lite_chart")  # the live loss curve
    assert json.loads(chart.proto.spec)["title"]["text"] == "Loss"
    assert convert_arrow_bytes_to_pandas_df(chart.proto.data.data)["kind"].eq("train").any()
    at.toggle(key="train_log").set_value(False).run()  # a widget rerun in the middle of training
    assert at.session_state["trainer"] is trainer and trainer.step > first
    at.button(key="train_pause").click().run()
    paused = trainer.step
    at.run()
    assert trainer.status == "paused" and trainer.step == paused
    at.button(key="train_resume").click().run()
    assert trainer.step > paused


@pytest.mark.usefixtures("slices_by_steps")
def test_training_nan_shows_message_and_keeps_page():
    at = _open()
    at.sidebar.selectbox(key="cell").set_value("rnn").run()
    at.sidebar.radio(key="nonlinearity").set_value("relu").run()
    at.switch_page(PAGES[2]).run()
    at.select_slider(key="lr").set_value(10.0).run()
    at.selectbox(key="optimizer").set_value("sgd").run()
    at.select_slider(key="clip_norm").set_value("off").run()
    at.button(key="train_start").click().run()
    for _ in range(20):
        if at.session_state["trainer"].status == "diverged":
            break
        at.run()
    assert not at.exception
    assert at.session_state["trainer"].status == "diverged"
    assert any("rolled back" in e.value for e in at.error)
    assert at.button(key="train_reset")  # the way out is on the page


STEP = PAGES[1]


@pytest.mark.parametrize("kind", ["wave", "random_walk", "typed", "text", "series"])
def test_step_through_every_input_kind(kind):
    at = _open(STEP)
    at.button_group(key="input").set_value(kind).run()
    assert not at.exception and not at.error
    assert at.slider(key="step_t").max >= 1
    titles = {f["layout"]["title"]["text"] for f in _figures(at)}
    assert "hidden state h_t" in titles and any(t.startswith("LSTM cell") for t in titles)


def test_step_through_csv_upload_good_and_bad():
    at = _open(STEP)
    at.button_group(key="input").set_value("csv").run()
    assert not at.exception
    assert any("Upload a CSV" in i.value for i in at.info)


def test_playback_controls_move_everything_together():
    at = _open(STEP)
    assert at.slider(key="step_t").value == 1 and at.slider(key="step_t").min == 1  # t = 1…T
    at.button(key="step_forward").click().run()
    at.button(key="step_forward").click().run()
    assert at.slider(key="step_t").value == 3
    at.button(key="step_back").click().run()
    assert at.slider(key="step_t").value == 2
    diagram = next(f for f in _figures(at) if f["layout"]["title"]["text"].startswith("LSTM cell"))
    assert diagram["layout"]["title"]["text"].endswith("step t = 2")
    heat = next(f for f in _figures(at) if f["layout"]["title"]["text"] == "forget gate f_t")
    assert heat["layout"]["shapes"][0]["x0"] == 1.5  # the cursor sits on t = 2
    assert _player(at)["t"] == 2 and _player(at, "step_equations")["t"] == 2  # the browser's too
    # Play runs in the browser; when it stops (Pause, or the end) the page hears where
    _stop_at(at, 9)
    at.run()
    assert at.slider(key="step_t").value == 9 and at.query_params["t"] == "9"
    diagram = next(f for f in _figures(at) if f["layout"]["title"]["text"].startswith("LSTM cell"))
    assert diagram["layout"]["title"]["text"].endswith("step t = 9")
    at.button(key="step_first").click().run()  # a report already heard does not move it again
    assert at.slider(key="step_t").value == 1 and _player(at)["t"] == 1


def test_equations_show_live_numbers_of_the_selected_unit():
    at = _open(STEP)
    at.number_input(key="unit").set_value(3).run()
    at.slider(key="step_t").set_value(5).run()
    assert not at.exception
    lines = _player(at, "step_equations")["lines"]
    assert any(l.startswith("<i>f</i>") for l in lines) and any(
        l.startswith("<i>c</i>") for l in lines
    )
    assert "Unit 3, layer 0, step t = {t}" in _player(at, "step_equations")["head"]
    heat = next(f for f in _figures(at) if f["layout"]["title"]["text"] == "forget gate f_t")
    assert heat["layout"]["shapes"][1]["y0"] == 2.5  # the selected unit is outlined
    z = _array(heat["data"][0]["z"])  # (unit, t): column k is t = k + 1
    for t in (1, 5, 60):  # the equation's f_t at every step is the heatmap's number
        assert _equation(at, "f.val", t) == pytest.approx(float(z[3, t - 1]), abs=6e-5)  # 4 dp sent
    c = _equation(at, "f.val", 5) * _equation(at, "c_prev", 5) + _equation(
        at, "i.val", 5
    ) * _equation(at, "g.val", 5)
    assert _equation(at, "c", 5) == pytest.approx(c, abs=3e-4)  # c_t = f c_{t-1} + i g


def test_clamps_show_the_comparison():
    at = _open(STEP)
    at.selectbox(key="clamp_f").set_value(1.0).run()
    at.selectbox(key="clamp_i").set_value(0.0).run()
    at.number_input(key="clamp_from").set_value(10).run()  # from t = 10: position 9
    assert not at.exception
    fig = next(
        f for f in _figures(at) if f["layout"]["title"]["text"].endswith("normal vs clamped")
    )
    normal, clamped = _array(fig["data"][0]["y"]), _array(fig["data"][1]["y"])
    assert fig["data"][1]["name"] == "clamped run"
    assert (clamped[9:] == clamped[8]).all()  # forget = 1, input = 0: c_t frozen from t = 10
    import numpy as np

    np.testing.assert_allclose(normal[:9], clamped[:9], atol=1e-5)  # same run before the clamp
    assert np.abs(normal[9:] - clamped[8]).max() > 1e-3  # the free run keeps moving
    assert list(_array(fig["data"][0]["x"])[:2]) == [1, 2]  # the time axis counts t = 1…T


def test_long_sequence_is_downsampled_with_a_note():
    at = _open(STEP)
    at.button_group(key="input").set_value("series").run()
    at.selectbox(key="source").set_value("seattle_temp_max").run()
    at.number_input(key="length").set_value(1000).run()
    assert not at.exception
    assert any("every 4th step" in c.value for c in at.caption)


@pytest.mark.usefixtures("slices_by_steps")
def test_weights_options():
    at = _open(STEP)
    at.radio(key="weights").set_value("forget1").run()
    assert not at.exception and any("b_if + b_hf" in c.value for c in at.caption)
    at.radio(key="weights").set_value("trained").run()
    assert any("Nothing has been trained yet" in i.value for i in at.info)
    at.switch_page(PAGES[2]).run()
    at.button(key="train_start").click().run()
    at.switch_page(STEP).run()
    at.radio(key="weights").set_value("trained").run()
    assert not at.exception
    assert any("trained for" in c.value for c in at.caption)


def test_link_reproduces_the_cell():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"cell": "gru", "input_size": "3", "hidden_size": "7"})
    at.run()
    assert not at.exception
    assert at.metric[0].value == "252"  # nn.GRU(3, 7)
    assert at.sidebar.selectbox(key="cell").value == "gru"


def test_malformed_link_falls_back_to_defaults():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update({"cell": "cnn", "hidden_size": "99999", "num_layers": "two"})
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox(key="cell").value == "lstm"
    assert at.sidebar.number_input(key="hidden_size").value == 16
    assert at.metric[0].value == "1,216"


def test_playback_stopped_at_the_end_settles_there():
    # (the replay from t = 1 happens in the browser: tests/test_browser_player.py)
    at = _open(STEP)
    at.button_group(key="input").set_value("typed").run()
    at.text_input(key="numbers").set_value("1 2 3").run()
    _stop_at(at, 3)  # playback ran to the end
    at.run()
    assert at.slider(key="step_t").value == 3 and at.query_params["t"] == "3"
    assert _player(at)["t"] == 3 and _player(at)["T"] == 3
    _stop_at(at, 99)  # a report from a longer sequence (another tab's page): clipped
    at.run()
    assert at.slider(key="step_t").value == 3 and not at.exception


def test_bad_typed_initial_state_says_why_and_keeps_the_other():
    at = _open(STEP)
    at.radio(key="h0").set_value("typed").run()
    at.text_input(key="h0_values").set_value("1 2").run()
    assert any("h₀" in e.value and "got 2" in e.value for e in at.error)
    at.text_input(key="h0_values").set_value("0.3").run()
    at.radio(key="c0").set_value("typed").run()
    at.text_input(key="c0_values").set_value("x").run()
    assert [e.value.split(":")[0] for e in at.error] == ["c₀"]  # h₀ = 0.3 is still used
    assert not at.exception


def test_weights_loaded_from_a_file_open_in_step_through_before_any_training():
    """A model uploaded on the Train page (a trainer at step 0, flagged as from a file) is shown
    with its own weights, not replaced by fresh ones."""
    import torch

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page("app_pages/train.py").run()
    trainer = at.session_state["trainer"]
    with torch.no_grad():
        trainer.model.rnn.weight_hh_l0.fill_(0.01)  # unlike any fresh initialisation
    at.session_state["train_from_file"] = True
    at.switch_page("app_pages/step_through.py").run()
    at.radio(key="weights").set_value("trained").run()
    assert not at.exception
    assert any("loaded from a file on the Train page" in c.value for c in at.caption)
    assert not any("Nothing has been trained yet" in i.value for i in at.info)


@pytest.mark.usefixtures("slices_by_steps")
def test_one_step_then_train_more_continue_the_same_run_bit_for_bit():
    """A teacher's narration: one update at a time, then a finished run given more steps; the
    weights and losses are those of one run with the larger budget."""
    from explorer import build_from_config
    from explorer.training import Trainer

    at = _open(PAGES[2])
    at.number_input(key="steps").set_value(20).run()
    at.button(key="train_one_step").click().run()
    trainer = at.session_state["trainer"]
    assert (trainer.step, trainer.status) == (1, "paused")
    at.button(key="train_resume").click().run()
    for _ in range(20):
        if trainer.status == "done":
            break
        at.run()
    assert trainer.status == "done" and trainer.step == 20
    at.number_input(key="train_more").set_value(30).run()
    at.button(key="train_extend").click().run()
    for _ in range(40):
        if trainer.status == "done":
            break
        at.run()
    assert not at.exception
    assert trainer.status == "done" and trainer.step == 50
    config = at.session_state["trainer_signature"][0]
    solo = Trainer(
        build_from_config(config), trainer.task, dataclasses.replace(trainer.config, steps=50)
    )
    solo.run()
    assert [r["train_loss"] for r in trainer.history] == [r["train_loss"] for r in solo.history]
    for p, q in zip(trainer.model.state_dict().values(), solo.model.state_dict().values()):
        assert torch.equal(p, q)


def test_slow_motion_slices_take_the_rate_in_steps():
    """At 5 steps a second, each slice of the (inline) pool takes 5 · 0.5 s = 2 or 3 steps, not
    a slice of time: the rate is an upper bound the workers' chain keeps to."""
    at = _open(PAGES[2])
    at.number_input(key="steps").set_value(20_000).run()
    at.segmented_control(key="train_speed").set_value("5 steps/s").run()
    at.button(key="train_start").click().run()
    trainer = at.session_state["trainer"]
    steps = [trainer.step]
    for _ in range(3):
        at.run()
        steps.append(trainer.step)
    assert not at.exception
    assert all(0 < b - a <= 3 for a, b in zip(steps, steps[1:])), steps


def test_a_step_through_run_is_freed_by_refcounting_at_the_next_full_run():
    """The page's functions and its module dict form a cycle; Streamlit's post-run GC is off,
    so without the router emptying the previous run's dict every run's trace stayed alive. The
    page drops its model and traces as soon as it is drawn (explorer.ui.drop_page_data); its
    callbacks still work."""
    import gc

    from explorer.trace import Trace

    def traces() -> int:
        return sum(type(o) is Trace for o in gc.get_objects())

    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.switch_page("app_pages/step_through.py")
    gc.collect()
    gc.disable()
    try:
        alive = traces()
        at.run()
        first = at.session_state["_page_globals"].namespace
        assert "tr" not in first and "rnn" not in first and first["T"] == 60
        assert traces() == alive  # this run's trace is gone already, without a collection
        position = at.session_state[STEP_POS]
        for _ in range(3):
            at.button(key="step_forward").click().run()  # callbacks, then full reruns
        assert at.session_state[STEP_POS] == position + 3
        assert first == {}  # the first run's remaining variables are gone too
        assert traces() == alive
        assert at.session_state["_page_globals"].namespace["T"] == 60
    finally:
        gc.enable()


def test_sessions_disconnected_long_enough_are_dropped(monkeypatch):
    """The janitor's sweep against Streamlit's own session store (a stand-in runtime)."""
    import threading

    from streamlit.runtime import Runtime
    from streamlit.runtime.memory_session_storage import MemorySessionStorage

    from explorer import ui

    closed = []

    class Session:
        def __init__(self, id):
            self.id = id
            self._session_state = {"model": id}  # what a page keeps: emptied once shut down
            self._state = types.SimpleNamespace(name="APP_NOT_RUNNING")

        def shutdown(self):
            closed.append(self.id)
            self._state.name = "SHUTDOWN_REQUESTED"

    class Info:
        def __init__(self, id):
            self.session = Session(id)

    storage = MemorySessionStorage()
    for sid in ("gone", "blip", "back"):
        storage.save(Info(sid))

    class Manager:
        _session_storage = storage
        _storage_lock = threading.Lock()

        active = [Info("back"), Info("here")]  # "back" reconnected

        def get_active_session_info(self, sid):
            return object() if sid in ("back", "here") else None

        def list_active_sessions(self):
            return list(self.active)

    class FakeRuntime:
        _session_mgr = Manager()

    monkeypatch.setattr(Runtime, "instance", classmethod(lambda cls: FakeRuntime()))
    first_seen = {}
    assert ui._sweep(first_seen) == 0  # just found disconnected: kept for a reconnection
    assert set(first_seen) - {ui._KNOWN} == {"gone", "blip", "back"}
    first_seen["gone"] -= ui.KEEP_DISCONNECTED
    first_seen["back"] -= ui.KEEP_DISCONNECTED
    gone = storage.get("gone").session
    assert ui._sweep(first_seen) == 1 and closed == ["gone"]  # shut down, as Streamlit does
    assert storage.get("gone") is None
    assert storage.get("blip") is not None and storage.get("back") is not None
    assert "gone" not in first_seen
    # its state is emptied: Streamlit's runtime loop may keep the session object itself
    assert gone._session_state == {}
    assert storage.get("blip").session._session_state == {"model": "blip"}
    here, back = Manager.active[1].session, Manager.active[0].session
    here.shutdown()
    Manager.active = [Manager.active[0]]  # "here" closed by Streamlit itself: collect after it
    assert ui._sweep(first_seen) == 1 and closed == ["gone", "here"]
    assert here._session_state == {} and back._session_state == {"model": "back"}
    assert ui._sweep(first_seen) == 0
    # a session gone from both maps but not shut down (a reconnection under way) keeps its state
    storage.delete("back")
    Manager.active = []
    assert ui._sweep(first_seen) == 1 and back._session_state == {"model": "back"}
