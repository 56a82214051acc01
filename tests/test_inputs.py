"""Input sequences: typed numbers, waves, random walks, text, initial states and windows of the
shipped series."""

import numpy as np
import pytest
import torch

from explorer.config import MAX_SEQUENCE_LENGTH
from explorer.datasets import SERIES, load_series
from explorer.inputs import (
    INITIAL_STATES,
    WAVES,
    describe_char,
    initial_state,
    parse_numbers,
    random_walk,
    series_window,
    sine,
    text_one_hot,
    to_features,
    wave,
)


def test_parse_numbers_accepts_common_separators():
    np.testing.assert_allclose(parse_numbers("1, 2.5;-3  4e-1\n5"), [1, 2.5, -3, 0.4, 5])


@pytest.mark.parametrize(
    "text,match",
    [
        ("", "at least one number"),
        ("1, two, 3", "item 2, 'two'"),
        ("1, nan", "not a finite number"),
        (" ".join(["1"] * 501), "at most 500"),
    ],
)
def test_parse_numbers_errors(text, match):
    with pytest.raises(ValueError, match=match):
        parse_numbers(text)


def test_sine_shape_and_values():
    s = sine(8, cycles=1, amplitude=2)
    np.testing.assert_allclose(s, 2 * np.sin(2 * np.pi * np.arange(8) / 8), atol=1e-6)
    with pytest.raises(ValueError):
        sine(0)


def test_series_window_standardised_and_bounds():
    w = series_window("co2", 10, 50)
    assert w.shape == (50,) and abs(w.mean()) < 1e-5 and abs(w.std() - 1) < 1e-4
    raw = series_window("co2", 10, 5, standardise=False)
    np.testing.assert_allclose(raw, load_series("co2").to_numpy()[10:15], rtol=1e-6)
    with pytest.raises(ValueError, match="does not fit"):
        series_window("co2", 520, 50)


def test_to_features_puts_signal_in_feature_zero():
    x = to_features(np.array([1.0, 2.0]), 3)
    assert x.shape == (2, 3) and x[:, 0].tolist() == [1.0, 2.0] and x[:, 1:].abs().sum() == 0


def test_shipped_series_are_real_and_complete():
    co2 = load_series("co2")
    assert len(co2) == 526 and co2.index.is_monotonic_increasing
    assert 310 < co2.iloc[0] < 320 and 365 < co2.iloc[-1] < 375  # ppm, 1958 and 2001
    temp = load_series("seattle_temp_max")
    assert len(temp) == 1461 and temp.between(-10, 45).all()
    assert set(SERIES) == {"co2", "seattle_temp_max"}


# ---- waves and random walks -----------------------------------------------------------------


def test_wave_sine_is_sine_exactly():
    for kwargs in ({}, {"cycles": 3.5, "amplitude": 0.7, "noise": 0.2, "seed": 4}):
        np.testing.assert_array_equal(wave("sine", 50, **kwargs), sine(50, **kwargs))


def test_square_is_plus_minus_amplitude_in_half_periods():
    s = wave("square", 40, cycles=2, amplitude=1.5)
    assert s.dtype == np.float32 and s.shape == (40,)
    assert set(np.unique(s)) == {-1.5, 1.5}
    np.testing.assert_array_equal(s[:20], [1.5] * 10 + [-1.5] * 10)  # one period = 20 steps
    np.testing.assert_array_equal(s[20:], s[:20])
    ref = sine(40, cycles=2)
    away_from_zero = np.abs(ref) > 1e-3  # the sine is 0 where the square jumps
    np.testing.assert_array_equal(np.sign(s)[away_from_zero], np.sign(ref)[away_from_zero])


def test_sawtooth_rises_from_minus_to_plus_amplitude():
    s = wave("sawtooth", 100, cycles=4, amplitude=2.0)
    assert s.min() == -2.0 and s.max() < 2.0 and s.max() > 1.8
    period = s[:25]
    assert np.all(np.diff(period) > 0)  # linear rise inside a period
    slope = 2 * 2.0 / 25  # 2A per period of 25 steps
    np.testing.assert_allclose(np.diff(period), slope * np.ones(24), rtol=1e-5)
    np.testing.assert_array_equal(s[25:50], period)


def test_wave_noise_is_seeded():
    a = wave("square", 30, noise=0.3, seed=1)
    np.testing.assert_array_equal(a, wave("square", 30, noise=0.3, seed=1))
    assert not np.array_equal(a, wave("square", 30, noise=0.3, seed=2))


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: wave("triangle", 10), r"one of \['sine', 'square', 'sawtooth'\], got 'triangle'"),
        (lambda: wave("square", 0), f"between 1 and {MAX_SEQUENCE_LENGTH}, got 0"),
        (lambda: wave("sawtooth", MAX_SEQUENCE_LENGTH + 1), f"between 1 and {MAX_SEQUENCE_LENGTH}"),
        (lambda: wave("sine", 10.5), "whole number, got 10.5"),
        (lambda: wave("sine", 10, noise=-1), "noise must be a standard deviation >= 0, got -1"),
        (lambda: wave("sine", 10, cycles=float("nan")), "cycles must be a finite number"),
        (lambda: random_walk(0), f"between 1 and {MAX_SEQUENCE_LENGTH}, got 0"),
        (lambda: random_walk(MAX_SEQUENCE_LENGTH + 1), f"between 1 and {MAX_SEQUENCE_LENGTH}"),
        (lambda: random_walk(10, step=float("inf")), "step must be a standard deviation >= 0"),
    ],
)
def test_builder_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_waves_registry_and_limits():
    assert WAVES == ("sine", "square", "sawtooth")
    for kind in WAVES:
        assert wave(kind, 1).shape == (1,)
        assert wave(kind, MAX_SEQUENCE_LENGTH).shape == (MAX_SEQUENCE_LENGTH,)


def test_random_walk_starts_at_zero_and_is_seeded():
    w = random_walk(2000, step=0.5, seed=3)
    assert w.dtype == np.float32 and w.shape == (2000,) and w[0] == 0
    np.testing.assert_array_equal(w, random_walk(2000, step=0.5, seed=3))
    assert not np.array_equal(w, random_walk(2000, step=0.5, seed=4))
    assert np.diff(w).std() == pytest.approx(0.5, rel=0.05)  # steps ~ N(0, step²)
    assert random_walk(1).tolist() == [0.0]
    assert np.all(random_walk(20, step=0) == 0)


# ---- typed numbers and text -----------------------------------------------------------------


def test_parse_numbers_rejects_float32_overflow():
    with pytest.raises(ValueError, match=r"item 2, '1e39', is beyond float32's range"):
        parse_numbers("1, 1e39")


def test_text_one_hot_rows_and_alphabet():
    x, alphabet = text_one_hot("hello world")
    assert alphabet == [" ", "d", "e", "h", "l", "o", "r", "w"]  # sorted unique characters
    assert x.dtype == torch.float32 and x.shape == (11, 8)
    assert torch.equal(x.sum(dim=1), torch.ones(11))
    assert "".join(alphabet[k] for k in x.argmax(dim=1)) == "hello world"
    x, alphabet = text_one_hot("aaa")
    assert alphabet == ["a"] and x.shape == (3, 1) and x.sum() == 3


@pytest.mark.parametrize(
    "text,kwargs,match",
    [
        ("", {}, "at least one character"),
        ("x" * 501, {}, "at most 500 characters, got 501"),
        ("abcd", {"max_length": 3}, "at most 3 characters, got 4"),
        (
            "x" * (MAX_SEQUENCE_LENGTH + 1),
            {"max_length": 10**6},
            f"between 1 and {MAX_SEQUENCE_LENGTH}",
        ),
        (
            "".join(chr(0x100 + k) for k in range(257)),
            {},
            "at most 256 distinct characters.*got 257",
        ),
    ],
)
def test_text_one_hot_errors(text, kwargs, match):
    with pytest.raises(ValueError, match=match):
        text_one_hot(text, **kwargs)


def test_text_one_hot_accepts_256_distinct_characters():
    x, alphabet = text_one_hot("".join(chr(0x100 + k) for k in range(256)))
    assert x.shape == (256, 256) and len(alphabet) == 256


def test_describe_char_makes_whitespace_visible():
    assert [describe_char(c) for c in " \n\ta\x00\u00a0\u2003é"] == [
        "␣",
        "⏎",
        "⇥",
        "a",
        "␀",
        "⍽",
        "U+2003",
        "é",
    ]
    with pytest.raises(ValueError, match="a single character, got 'ab'"):
        describe_char("ab")


# ---- initial state --------------------------------------------------------------------------


def test_initial_state_zeros_and_random():
    assert INITIAL_STATES == ("zeros", "random", "typed")
    z = initial_state("zeros", (2, 4))
    assert z.dtype == torch.float32 and z.shape == (2, 4) and z.abs().sum() == 0
    r = initial_state("random", (3, 1000), seed=5)
    assert r.dtype == torch.float32 and torch.equal(r, initial_state("random", (3, 1000), seed=5))
    assert not torch.equal(r, initial_state("random", (3, 1000), seed=6))
    assert r.std().item() == pytest.approx(0.5, rel=0.05)


def test_initial_state_typed_broadcasts():
    one = initial_state("typed", (2, 3), text="0.25")
    assert torch.equal(one, torch.full((2, 3), 0.25))
    per_unit = initial_state("typed", (2, 3), text="1, -2, 0.5")
    assert torch.equal(per_unit, torch.tensor([[1.0, -2.0, 0.5]] * 2))
    batched = initial_state("typed", (4, 1, 3), text="1 2 3")
    assert batched.shape == (4, 1, 3) and torch.equal(batched[3, 0], torch.tensor([1.0, 2, 3]))
    batched[0, 0, 0] = 9  # a real tensor, not a view sharing memory across layers
    assert batched[1, 0, 0] == 1


@pytest.mark.parametrize(
    "kind,shape,text,match",
    [
        ("typed", (2, 3), "1, 2", r"type 1 number \(for every unit\) or 3 numbers .*got 2"),
        ("typed", (2, 3), "", "at least one number"),
        ("typed", (2, 3), "1, x, 3", "item 2, 'x'"),
        ("ones", (2, 3), "", r"one of \['zeros', 'random', 'typed'\], got 'ones'"),
        ("zeros", (), "", "non-empty tuple of positive integers"),
        ("zeros", (2, 0), "", r"positive integers, got \(2, 0\)"),
    ],
)
def test_initial_state_errors(kind, shape, text, match):
    with pytest.raises(ValueError, match=match):
        initial_state(kind, shape, text=text)


def test_column_signal_standardises_in_float64_and_refuses_what_it_cannot():
    from explorer.inputs import column_signal

    values = np.array([1e150, -1e150, 5e149, 0.0])  # float32 would overflow
    got = column_signal(values, "price")
    assert got.dtype == np.float32
    scaled = values / 1e150
    expected = (scaled - scaled.mean()) / scaled.std()
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_array_equal(column_signal(np.full(3, 7.0), "flat"), np.zeros(3))
    with pytest.raises(ValueError, match="limit"):
        column_signal(np.zeros(MAX_SEQUENCE_LENGTH + 1), "long")
    with pytest.raises(ValueError, match="'big' has values too large"):
        column_signal(np.array([np.inf, 1.0]), "big")
