"""Real series that ship with the app, and the one-step-ahead forecasting task built on them.

Every series is a registry entry (``SERIES``): adding one is a CSV in ``explorer/data`` with a
line in ``PROVENANCE.md`` and one entry here.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch

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


SERIES: dict[str, SeriesSpec] = {
    "co2": SeriesSpec(
        "co2", "Atmospheric CO2, Mauna Loa (monthly, 1958–2001)", "co2_mauna_loa_monthly.csv",
        "co2_ppm", "ppm", "month",
        "A rising trend with a yearly cycle: plants in the northern hemisphere take up CO2 each "
        "summer. Keeling & Whorf (2004), public domain.",
        difference=True,
    ),
    "seattle_temp_max": SeriesSpec(
        "seattle_temp_max", "Daily maximum temperature, Seattle (2012–2015)",
        "seattle_weather_daily.csv", "temp_max_c", "°C", "day",
        "Four summers and winters of daily highs: a yearly cycle under day-to-day weather noise. "
        "NOAA, public domain.",
        difference=False,
    ),
}


@lru_cache(maxsize=None)
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


@dataclass
class ForecastTask:
    """One-step-ahead forecasting of a univariate series, split in time.

    The model reads z_0 … z_t and predicts z_{t+1} at every step. With ``difference=True``
    (the default) z is the change from one value to the next, so the forecast is
    ``x̂_{t+1} = x_t + ẑ`` and the naive "next = last" baseline is the prediction ẑ = 0; this
    keeps a trending series (CO2) inside the range the network saw in training. z is
    normalised with the training part's mean and standard deviation only.

    Args:
        values: ``(N,)`` the raw series, in its unit.
        val_fraction: the last share of the series held out for validation.
        window: length of the training windows (time steps per sample).
        difference: model changes rather than levels.

    Raises:
        ValueError: fewer than ``2 * window`` points, or non-finite values.
    """

    values: np.ndarray
    val_fraction: float = 0.2
    window: int = 48
    difference: bool = True

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        if self.values.ndim != 1 or not np.isfinite(self.values).all():
            raise ValueError("the series must be one column of finite numbers")
        if len(self.values) < 2 * self.window + 2:
            raise ValueError(
                f"the series needs at least {2 * self.window + 2} values for windows of "
                f"{self.window}, got {len(self.values)}")
        z = np.diff(self.values) if self.difference else self.values.copy()  # (N-1,) or (N,)
        self.n_train = int(round(len(z) * (1 - self.val_fraction)))
        if self.n_train < self.window + 1 or len(z) - self.n_train < 2:
            raise ValueError("the split leaves too little data for training or validation")
        self.mean = float(z[: self.n_train].mean())
        self.std = float(z[: self.n_train].std()) or 1.0
        self.z = torch.tensor((z - self.mean) / self.std, dtype=torch.float32)  # (M,)
        self.offset = 1 if self.difference else 0  # z[t] belongs to values[t + offset]

    def train_batch(self, batch_size: int, generator: torch.Generator):
        """``(x, y)``, each ``(window, batch_size, 1)``: windows starting at random positions
        inside the training part, ``y`` being ``x`` shifted one step ahead."""
        starts = torch.randint(0, self.n_train - self.window, (batch_size,), generator=generator)
        idx = starts[None, :] + torch.arange(self.window + 1)[:, None]  # (W+1, B)
        seq = self.z[idx].unsqueeze(-1)  # (W+1, B, 1)
        return seq[:-1], seq[1:]

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module) -> dict:
        """Run ``model`` over the whole series and score the validation part.

        Returns a dict with ``val_loss`` (MSE in normalised units, comparable with the training
        loss), ``rmse`` and ``naive_rmse`` (in the series' unit), and for plotting
        ``index`` (positions in ``values`` being forecast), ``truth``, ``prediction`` and
        ``naive`` arrays in the series' unit.
        """
        pred = model(self.z[:-1, None]).squeeze(-1)  # (M-1,) prediction of z[t+1]
        targets = np.arange(self.n_train, len(self.z))  # z positions held out
        pred_z = pred[targets - 1].double().numpy()
        val_loss = float(np.mean((pred_z - self.z[targets].double().numpy()) ** 2))
        level_idx = targets + self.offset  # positions in values
        change = pred_z * self.std + self.mean
        truth = self.values[level_idx]
        naive = self.values[level_idx - 1]
        prediction = naive + change if self.difference else change
        return {
            "val_loss": val_loss,
            "rmse": float(np.sqrt(np.mean((prediction - truth) ** 2))),
            "naive_rmse": float(np.sqrt(np.mean((naive - truth) ** 2))),
            "index": level_idx,
            "truth": truth,
            "prediction": prediction,
            "naive": naive,
        }
