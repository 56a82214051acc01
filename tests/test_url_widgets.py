"""Every widget bound to the URL shows what the URL table (explorer.url_params.PARAMS) says.

Each page is rendered with AppTest in the settings that draw all of its bound widgets, and every
widget found with a URL binding (its proto's ``query_param_key``) is read back from the protos
Streamlit sends the browser: its range, step, default and options must be the table's (or the
page's narrower range for the current model, or the page's own default where the table leaves
it to the page). A link value outside a widget's range still gets the note naming the range.
"""

import pytest
from apptest import APP, TIMEOUT, open_link
from streamlit.testing.v1 import AppTest

from explorer.datasets import load_series
from explorer.tasks import TASKS
from explorer.training import TrainConfig
from explorer.url_params import PARAMS, Number

LEARN, STEP, TRAIN, COMPARE = (
    f"app_pages/{p}.py" for p in ("learn", "step_through", "train", "compare")
)
COMPARE_DEFAULTS = TrainConfig(steps=1500, batch_size=64, lr=1e-2, diagnostics=False)  # the page's
# synced by hand (a label shown, the option's key in the URL; or no widget): not bound widgets
HAND_SYNCED = {
    "cell",
    "input",
    "source",
    "weights",
    "t",
    "task",
    "optimizer",
    "series",
    "difference",
    "preset",
    "presenter",
    "run",
}
NUMBER_TYPES = ("slider", "number_input")
CHOICE_TYPES = ("select_slider", "radio", "selectbox", "segmented_control")
ALL_TYPES = (*NUMBER_TYPES, *CHOICE_TYPES, "toggle", "text_input")


def _bound(at) -> dict:
    """``{URL parameter: (widget type, proto)}`` of every widget drawn with a URL binding."""
    found = {}
    for kind in ALL_TYPES:
        for w in getattr(at, kind):
            if w.proto.query_param_key:
                found[w.proto.query_param_key] = (kind, w.proto)
    return found


def _check(name: str, kind: str, proto, *, span=None, default=None) -> None:
    """The widget's proto against the table: ``span`` the page's narrower range, ``default``
    the page's own where the table has none."""
    param = PARAMS[name]
    default = param.default if param.default is not None else default
    if kind in NUMBER_TYPES:
        low, high = span or (param.bounds.low, param.bounds.high)
        assert proto.min == low, (name, proto.min, low)
        if kind == "number_input" and high is None:
            assert not proto.has_max, name
        else:
            assert proto.max == high, (name, proto.max, high)
        shown = proto.default[0] if kind == "slider" else proto.default
        if kind == "number_input" and default is None:
            assert not proto.HasField("default"), name  # empty: off
        else:
            assert shown == pytest.approx(default), (name, shown, default)
        if param.step is not None:
            assert proto.step == pytest.approx(param.step), name
        return
    if kind in CHOICE_TYPES:
        shown = list(proto.options)
        if param.options is None:  # numbered choices (the layers that exist): the span's
            table = list(range(int(span[0]), int(span[1]) + 1))
        else:
            table = list(param.options)
        assert len(shown) == len(table), (name, shown, table)
        index = (
            proto.default[0] if kind in ("select_slider", "segmented_control") else proto.default
        )
        assert index == table.index(default), (name, shown, index, default)
        return
    assert proto.default == default, (name, proto.default, default)


def _check_all(at, spans: dict | None = None, defaults: dict | None = None) -> set[str]:
    found = _bound(at)
    assert found, "no bound widget drawn"
    for name, (kind, proto) in found.items():
        assert name in PARAMS, f"{name} is bound to the URL but not in the table"
        _check(name, kind, proto, span=(spans or {}).get(name), default=(defaults or {}).get(name))
    return set(found)


# ---------------------------------------------------------------- every bound widget
def test_every_bound_widget_shows_the_tables_range_default_and_options():
    seen: set[str] = set()
    # Learn: every section's widgets; the step t runs 1…learn_T (4)
    seen |= _check_all(open_link({}, LEARN), spans={"learn_t": (1, PARAMS["learn_T"].default)})
    # Step through, an LSTM of 2 bidirectional layers with typed initial states: the sidebar,
    # the wave's widgets, the clamps, the player's unit (0…H-1) and clamp_from (1…T)
    sizes = {"num_layers": "2", "bidirectional": "true", "h0": "typed", "c0": "typed"}
    H, T = PARAMS["hidden_size"].default, PARAMS["T"].default
    player = {"unit": (0, H - 1), "clamp_from": (1, T), "layer": (0, 1)}  # T: wave, walk
    seen |= _check_all(open_link({"cell": "lstm", **sizes}, STEP), spans=player)
    seen |= _check_all(open_link({"cell": "gru", "input": "random_walk"}, STEP), spans=player)
    seen |= _check_all(open_link({"cell": "rnn", "input": "typed"}, STEP), spans=player)
    text = len(PARAMS["chars"].default)  # one step per character
    seen |= _check_all(open_link({"input": "text"}, STEP), spans=player | {"clamp_from": (1, text)})
    n = len(load_series(PARAMS["source"].default))
    series = player | {"length": (1, min(2000, n)), "start": (0, n - 1)}
    seen |= _check_all(open_link({"input": "series"}, STEP), spans=series)
    # Train and Compare: every task's settings (defaults the task's), the training settings
    # (defaults the page's TrainConfig)
    train = {
        f: getattr(TrainConfig(), f)
        for f in ("lr", "batch_size", "steps", "weight_decay", "target_loss", "patience")
    }
    train |= {"clip_norm": TrainConfig().clip_norm or "off", "tbptt": TrainConfig().tbptt or "off"}
    for key, spec in TASKS.items():
        own = {n: s.default for n, s in spec.settings.items()}
        seen |= _check_all(open_link({"task": key}, TRAIN), defaults=train | own)
    compare = {f: getattr(COMPARE_DEFAULTS, f) for f in train if f not in ("clip_norm", "tbptt")}
    compare |= {"clip_norm": COMPARE_DEFAULTS.clip_norm or "off", "tbptt": "off"}
    own = {n: s.default for n, s in TASKS["adding"].settings.items()}
    seen |= _check_all(open_link({}, COMPARE), defaults=compare | own)
    # every parameter of the table was drawn somewhere (temperature: under a char model's
    # samples, checked below)
    missing = set(PARAMS) - seen - HAND_SYNCED - {"temperature"}
    assert not missing, missing


def test_the_sampling_temperature_is_the_tables():
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).switch_page(TRAIN)
    at.query_params.update({"task": "char", "steps": "10"})
    at.run()
    at.button(key="train_start").click().run()
    found = _bound(at)
    assert "temperature" in found, sorted(found)
    _check("temperature", *found["temperature"])


# ---------------------------------------------------------------- a value out of range
def _outside(number: Number) -> str:
    return str(number.high + 1 if number.high is not None else number.low - 1)


@pytest.mark.parametrize(
    "page, params",
    [
        (LEARN, ("learn_x", "learn_h", "learn_o", "learn_T", "learn_kinds_T", "learn_kinds_h")),
        (STEP, ("T", "cycles", "amplitude", "noise_std", "input_size", "hidden_size")),
        (TRAIN, ("steps", "patience", "target_loss", "lag", "window")),
    ],
)
def test_a_link_value_outside_a_widgets_range_gets_the_note(page, params):
    link = {name: _outside(PARAMS[name].bounds) for name in params}
    at = open_link(link, page)
    notes = "\n".join(w.value for w in at.warning)
    for name in params:
        number = PARAMS[name].bounds
        why = "below 0" if number.high is None else f"outside {number.span()}"
        assert f"`{name}={link[name]}`: {why}" in notes, (name, notes)
    found = _bound(at)
    for name in params:
        if name in found and PARAMS[name].default is not None:
            _check(name, *found[name])  # the widget kept its default


def test_a_value_outside_the_pages_narrower_range_names_that_range():
    at = open_link({"learn_T": "3", "learn_t": "5"}, LEARN)
    notes = "\n".join(w.value for w in at.warning)
    assert "`learn_t=5`: outside 1…3" in notes, notes
    assert at.slider(key="learn_t").value == 1
