"""Hostile inputs, generated (Hypothesis): links with odd values for every parameter of the URL
table, CSV files of every size, encoding, separator, magnitude and field count, and weight files
with odd metadata. Whatever comes in, the app answers with a result or a ValueError that says
why; a link's refused value is named in the page's note.

The default run keeps the example counts modest (about a minute); ``python tests/fuzz_long.py``
runs the same properties with many more examples. Examples are never time-limited
(``deadline=None``): the machine's speed must not decide a test.
"""

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from explorer.readers import MAX_MAGNITUDE, MIN_ROWS, read_series
from explorer.url_params import (
    GLOBAL_PARAMS,
    LEARN_PARAMS,
    NUMBERS,
    PAGES,
    SIDEBAR_PARAMS,
    STEP_PARAMS,
    TRAIN_PARAMS,
    refusal,
)

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")

settings.register_profile(
    "default", deadline=None, max_examples=100, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", deadline=None, max_examples=2000, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("RNN_EXPLORER_FUZZ", "default"))
LONG = os.environ.get("RNN_EXPLORER_FUZZ") == "long"

# ---------------------------------------------------------------- hostile text
NUMBERISH = st.sampled_from(
    [
        "inf",
        "-inf",
        "+inf",
        "Infinity",
        "nan",
        "NaN",
        "-nan",
        "1e309",
        "-1e309",
        "1e-400",
        "9" * 5000,
        "-" + "9" * 400,
        "0",
        "-0",
        "-1",
        "1",
        "2.5",
        "1e9",
        "-1e9",
        "0x10",
        "1_000",
        "１２",
        "٣",
        " 7 ",
        "7 ",
        "",
        " ",
        "0.0001",
        "3e38",
        "4e38",
        "1e300",
        "-1e300",
    ]
)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)
MARKUP = st.sampled_from(
    [
        "`",
        "**x**",
        "$x$",
        ":red[x]",
        "<b>x</b>",
        "[a](http://e)",
        "\\",
        "# h",
        "\n",
        "a`b",
        "```",
        ":material/home:",
    ]
)
VALUE = st.one_of(
    NUMBERISH,
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    TEXT,
    st.lists(MARKUP, min_size=1, max_size=3).map("".join),
)
ALL_PARAMS = sorted(
    {*SIDEBAR_PARAMS, *STEP_PARAMS, *TRAIN_PARAMS, *LEARN_PARAMS, *GLOBAL_PARAMS} - {"preset"}
)


@given(name=st.sampled_from(sorted(NUMBERS)), raw=VALUE)
def test_the_link_check_of_every_numeric_parameter_answers_for_any_value(name, raw):
    reason = refusal(name, raw)
    number = NUMBERS[name]
    try:
        value = float(raw)
    except ValueError:
        assert reason is None  # not a number at all: the widget says so itself
        return
    inside = (
        not math.isnan(value)
        and number.low <= value
        and (number.high is None or value <= number.high)
    )
    assert (reason is None) == inside, (name, raw, reason)
    if reason is not None:
        assert (
            reason == "not a number"
            or number.span().split("…")[0].replace("at least ", "") in reason
        )


def _notes(at) -> str:
    return "\n".join(w.value for w in at.warning)


@settings(max_examples=80 if LONG else 4)
@given(
    page=st.sampled_from(list(PAGES)),
    link=st.dictionaries(
        st.one_of(
            st.sampled_from(ALL_PARAMS),
            st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
        ),
        VALUE,
        min_size=1,
        max_size=4,
    ),
)
@example(page="learn", link={"T": "\x85"})  # a line break (NEL) once split a note's item
def test_a_hostile_link_on_any_page_gives_a_page_and_names_what_it_refused(page, link):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(link)
    at.switch_page(PAGES[page].file)
    at.run()
    assert not at.exception, (link, at.exception)
    notes = _notes(at)
    for name, raw in link.items():
        if name in NUMBERS and refusal(name, raw) and name != "t":
            # a number outside its range never reaches a widget silently
            assert f"`{name}=" in notes, (name, raw, notes)
    for line in notes.splitlines()[1:]:
        assert line.startswith("- ") and len(line) < 600, line  # quoted values are clipped


# ---------------------------------------------------------------- CSV files
@st.composite
def csv_files(draw):
    # a few columns, or just past the cap (refused before parsing: 200 parsed columns cost
    # seconds each example)
    columns = draw(st.one_of(st.integers(1, 6), st.integers(201, 210)))
    rows = draw(st.integers(0, 40))
    sep = draw(st.sampled_from([",", ";", "\t", "|", " ", "  "]))
    cell = st.one_of(
        st.floats(allow_nan=True, allow_infinity=True, width=64).map(repr),
        st.floats(-1e6, 1e6).map(lambda x: f"{x:.3f}"),
        st.integers(-(10**40), 10**40).map(str),
        NUMBERISH,
        TEXT.map(lambda s: s.replace("\n", " ")),
        MARKUP,
        st.dates().map(str),
    )
    header = draw(
        st.one_of(st.none(), st.lists(st.one_of(TEXT, MARKUP), min_size=columns, max_size=columns))
    )
    lines = [] if header is None else [sep.join(h.replace("\n", " ") for h in header)]
    for _ in range(rows):
        lines.append(sep.join(draw(st.lists(cell, min_size=columns, max_size=columns))))
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)
    encoding = draw(
        st.sampled_from(
            ["utf-8", "utf-8-sig", "utf-16", "utf-32", "latin-1", "cp1252", "utf-16-le"]
        )
    )
    data = text.encode(encoding, errors="replace")
    if draw(st.booleans()):  # damage it
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=20)) + data[cut:]
    return data


def _check_frame(frame):
    values = frame.to_numpy()
    assert values.dtype == np.float64 and len(frame) >= MIN_ROWS
    assert np.isfinite(values).all() and (np.abs(values) <= MAX_MAGNITUDE).all()


@settings(max_examples=2000 if LONG else 50)
@given(data=csv_files())
def test_read_series_reads_or_says_why_for_any_file(data):
    try:
        frame = read_series(data)
    except ValueError as err:
        assert str(err).strip(), "a refusal must say why"
        # read_series wraps what it did not foresee as "could not read the file (TypeError…"
        assert not str(err).startswith("could not read the file ("), str(err)
        return
    _check_frame(frame)


@settings(max_examples=40 if LONG else 3)
@given(fields=st.integers(201, 2_000_000), width=st.integers(1, 3))
def test_huge_field_counts_are_refused_before_parsing(fields, width):
    line = ",".join(["1" * width] * fields).encode()
    if len(line) > 5_000_000:
        with pytest.raises(ValueError, match="over the limit"):
            read_series(line)
        return
    with pytest.raises(ValueError, match=f"{fields:,} fields; the limit is 200"):
        read_series(line)


# ---------------------------------------------------------------- weight files
def _tensors(config):
    from explorer.models import build_from_config

    return {k: v.contiguous() for k, v in build_from_config(config).state_dict().items()}


JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**400), 10**400),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=8,
)


@st.composite
def weight_files(draw):
    from safetensors.torch import save

    from explorer.config import CellConfig
    from explorer.weights import FORMAT, VERSION

    good = CellConfig(cell=draw(st.sampled_from(["rnn", "lstm", "gru"])), hidden_size=3)
    config = good.as_dict()
    for name in draw(st.lists(st.sampled_from(sorted(config)), max_size=3, unique=True)):
        config[name] = draw(JSON)
    if draw(st.booleans()):
        config[draw(TEXT)] = draw(JSON)
    text = draw(
        st.one_of(
            st.just(json.dumps(config)),
            st.sampled_from(
                [
                    "[" * 100_000 + "]" * 100_000,
                    '{"a":' * 50_000 + "1" + "}" * 50_000,
                    "",
                    "null",
                    "{",
                    "[]",
                    '"x"',
                ]
            ),
            TEXT,
        )
    )
    metadata = {
        "format": draw(st.sampled_from([FORMAT, FORMAT, "other", ""])),
        "version": draw(st.sampled_from([VERSION, VERSION, "2", ""])),
        "config": text,
    }
    for key in draw(st.lists(st.sampled_from(["format", "version", "config"]), max_size=1)):
        del metadata[key]
    return save(_tensors(good), metadata=metadata), text


@given(file=weight_files())
def test_load_weights_loads_or_says_why_for_any_metadata(file):
    from explorer.weights import load_weights

    data, text = file
    try:
        model, config = load_weights(data)
    except ValueError as err:
        assert str(err).strip()
        return
    assert json.loads(text) == config.as_dict()  # only a well-formed config loads
    assert isinstance(model, torch.nn.Module)
