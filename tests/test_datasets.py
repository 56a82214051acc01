"""The shipped data: each file matches its provenance note, each series its season, and the
synthetic sine is seeded and has the noise it was asked for."""

import hashlib

import numpy as np
import pytest

from explorer.datasets import SERIES, load_text, synthetic_sine


def test_series_seasons():
    assert SERIES["co2"].season == 12 and SERIES["seattle_temp_max"].season == 365


def test_synthetic_sine():
    a = synthetic_sine(500, period=25, noise=0.2, seed=4)
    assert a.shape == (500,) and a.dtype == np.float64
    np.testing.assert_array_equal(a, synthetic_sine(500, period=25, noise=0.2, seed=4))
    assert not np.array_equal(a, synthetic_sine(500, period=25, noise=0.2, seed=5))
    clean = np.sin(2 * np.pi * np.arange(500) / 25)
    np.testing.assert_allclose(synthetic_sine(500, 25, 0.0), clean)
    noise = a - clean
    assert abs(noise.std() - 0.2) < 0.03 and abs(noise.mean()) < 0.03
    for bad in (dict(n=1), dict(period=0), dict(noise=-0.1), dict(period=float("nan"))):
        with pytest.raises(ValueError):
            synthetic_sine(**bad)


def test_shipped_text_matches_its_provenance():
    text = load_text("sonnets")
    data = text.encode("utf-8")
    assert hashlib.md5(data).hexdigest() == "e347ae5c9e0d63a969655ab3fbda22c5"
    assert len(text) == 31_355 and text.isascii() and "gutenberg" not in text.lower()
    assert text.startswith("THE SONNETS\nby William Shakespeare\n")
    assert len(set(text)) == 60
    with pytest.raises(ValueError, match="text must be one of"):
        load_text("nope")
