"""The data that ships with the explorer, and its loaders: the real series (``SERIES``,
:func:`load_series`), the text for the character model (``TEXTS``, :func:`load_text`) and a
synthetic sine whose answer is known (:func:`synthetic_sine`).

The files live in ``explorer/data`` (``DATA_DIR``); ``explorer/data/PROVENANCE.md`` says where
each came from, under which licence and how it was extracted. Adding a series is a CSV, a section
in ``PROVENANCE.md`` and one entry in ``SERIES``; the tasks that use them are in
:mod:`explorer.tasks`, a user's own file is read by :mod:`explorer.readers`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class SeriesSpec:
    """A shipped real series: file, value column, what it measures and in which unit."""

    key: str
    label: str
    file: str
    column: str
    unit: str
    step: str  # the time between two values, e.g. "month"
    about: str
    difference: bool  # forecast changes (a trending series) rather than levels (a stationary one)
    season: int | None = None  # steps in one cycle, for the seasonal-naive forecast


SERIES: dict[str, SeriesSpec] = {
    "co2": SeriesSpec(
        "co2",
        "Atmospheric CO2, Mauna Loa (monthly, 1958–2001)",
        "co2_mauna_loa_monthly.csv",
        "co2_ppm",
        "ppm",
        "month",
        "A rising trend with a yearly cycle: plants in the northern hemisphere take up CO2 each "
        "summer. Keeling & Whorf (2004), public domain.",
        difference=True,
        season=12,
    ),
    "seattle_temp_max": SeriesSpec(
        "seattle_temp_max",
        "Daily maximum temperature, Seattle (2012–2015)",
        "seattle_weather_daily.csv",
        "temp_max_c",
        "°C",
        "day",
        "Four summers and winters of daily highs: a yearly cycle under day-to-day weather noise. "
        "NOAA, public domain.",
        difference=False,
        season=365,
    ),
}


@cache
def _read(file: str) -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / file, parse_dates=["date"])


def load_series(key: str) -> pd.Series:
    """Return a shipped series as a float ``pandas.Series`` indexed by date, in time order.

    Raises:
        ValueError: ``key`` is not in ``SERIES``.
    """
    if key not in SERIES:
        raise ValueError(f"series must be one of {sorted(SERIES)}, got {key!r}")
    spec = SERIES[key]
    frame = _read(spec.file)
    return pd.Series(frame[spec.column].to_numpy(float), index=frame["date"], name=spec.label)


def synthetic_sine(
    n: int = 1000, period: float = 50, noise: float = 0.1, seed: int = 0
) -> np.ndarray:
    """``(n,)`` float64: ``sin(2π t / period) + noise · ε_t`` with ``ε_t ~ N(0, 1)`` drawn from
    ``numpy.random.default_rng(seed)``; a series for :class:`ForecastTask` whose answer is known.

    Raises:
        ValueError: ``n < 2``, ``period <= 0`` or ``noise < 0`` (or either not finite).
    """
    if int(n) != n or n < 2:
        raise ValueError(f"n must be a whole number of at least 2, got {n}")
    if not (math.isfinite(period) and period > 0):
        raise ValueError(f"period must be a positive number of steps, got {period}")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a number >= 0, got {noise}")
    t = np.arange(int(n))
    eps = np.random.default_rng(seed).standard_normal(int(n))  # (n,)
    return np.sin(2 * np.pi * t / period) + noise * eps


@dataclass(frozen=True)
class TextSpec:
    """A shipped plain-text file for the character-level language model."""

    key: str
    label: str
    file: str
    about: str


TEXTS: dict[str, TextSpec] = {
    "sonnets": TextSpec(
        "sonnets",
        "Shakespeare, Sonnets I–L (1609)",
        "shakespeare_sonnets_1-50.txt",
        "The first fifty of Shakespeare's 154 sonnets: 31,355 characters of fourteen-line "
        "poems, 60 distinct characters. Public domain.",
    ),
}


def load_text(key: str = "sonnets") -> str:
    """Return a shipped text (``TEXTS``) as one string with ``\\n`` line ends.

    Raises:
        ValueError: ``key`` is not in ``TEXTS``.
    """
    if key not in TEXTS:
        raise ValueError(f"text must be one of {sorted(TEXTS)}, got {key!r}")
    return (DATA_DIR / TEXTS[key].file).read_text(encoding="utf-8")
