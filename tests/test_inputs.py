"""Input sequences: typed numbers, waves and windows of the shipped series."""
import numpy as np
import pytest

from explorer.inputs import parse_numbers, series_window, sine, to_features
from explorer.tasks import SERIES, load_series


def test_parse_numbers_accepts_common_separators():
    np.testing.assert_allclose(parse_numbers("1, 2.5;-3  4e-1\n5"), [1, 2.5, -3, 0.4, 5])


@pytest.mark.parametrize("text,match", [
    ("", "at least one number"),
    ("1, two, 3", "item 2, 'two'"),
    ("1, nan", "not a finite number"),
    (" ".join(["1"] * 501), "at most 500"),
])
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
