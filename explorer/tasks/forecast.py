"""Forecasting a univariate series k steps ahead (a shipped series, a noisy sine, a user's CSV),
scored against the naive and seasonal-naive rules."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from .base import Evaluation, check_int, rule, score


@dataclass(frozen=True, eq=False)
class ForecastEvaluation(Evaluation):
    """A forecaster's score on the validation part (:meth:`ForecastTask.evaluate`).

    Shape legend: ``N`` validation values (the forecast positions).

    Attributes:
        val_loss: MSE of the model's target (changes or levels) in normalised units, comparable
            with the training loss.
        baseline: the naive forecast's MSE in the same normalised units.
        baseline_label: "naive forecast (last known value)".
        rmse: the model's root mean squared error, in the series' unit.
        naive_rmse: the naive forecast's ("x_{t+k} = x_t") RMSE, in the series' unit.
        seasonal_naive_rmse: the seasonal-naive forecast's RMSE in the series' unit; None
            without a season.
        seasonal_naive_loss: the seasonal-naive forecast's MSE in normalised units (beside the
            loss curves); None without a season.
        index: int64 ``(N,)`` positions in the task's ``values`` being forecast
            (``task.index[index]`` are their time stamps).
        truth: float64 ``(N,)`` the series' values there, in its unit.
        prediction: float64 ``(N,)`` the model's forecasts, in the series' unit.
        naive: float64 ``(N,)`` the naive forecasts (the value k steps earlier).
        seasonal_naive: float64 ``(N,)`` the seasonal-naive forecasts; None without a season.
    """

    rmse: float = score("RMSE")
    naive_rmse: float = score("naive RMSE")
    seasonal_naive_rmse: float | None = score("seasonal-naive RMSE")
    seasonal_naive_loss: float | None = rule("seasonal-naive forecast", "seasonal naive")
    index: np.ndarray
    truth: np.ndarray
    prediction: np.ndarray
    naive: np.ndarray
    seasonal_naive: np.ndarray | None


@dataclass
class ForecastTask:
    """k-step-ahead forecasting of a univariate series, split in time.

    The model reads z_0 … z_t and predicts, at every step, the value ``k`` steps later
    (``k = 1``: the next value). With ``difference=True`` (the default) z is the change from one
    value to the next and the target at step t is the sum of the next k changes,
    ``x_{t+k} - x_t``, so the forecast is ``x̂_{t+k} = x_t + ẑ``; this keeps a trending series
    (CO2) inside the range the network saw in training. With ``difference=False`` z is the
    series itself and the target is ``z_{t+k}``. z is normalised with the training part's mean
    and standard deviation only; the k-step target is the sum of k normalised changes, so in the
    series' unit it is ``ẑ · std + k · mean``.

    Baselines: the naive forecast "x_{t+k} = x_t" (last known value) and, when ``season`` is
    set, the seasonal-naive forecast "the same time one season earlier",
    ``x_{t+k - m}`` with ``m = season · ceil(k / season)`` (so ``m = season`` when ``k <=
    season``: the latest value of that phase already known at time t).

    Args:
        values: ``(N,)`` the raw series, in its unit.
        val_fraction: the last share of the series held out for validation.
        window: length of the training windows (time steps per sample).
        difference: model changes rather than levels.
        k: forecast horizon in steps (1 or more).
        season: steps in one cycle (12 for monthly CO2, 365 for daily temperatures), or None
            for no seasonal-naive baseline.
        index: ``(N,)`` optional time stamps of ``values`` (dates, or numbers), kept for
            plotting only: ``index[evaluation.index]`` labels the forecasts. None: positions.

    Raises:
        ValueError: fewer than ``2 * window + 2`` points, non-finite values, ``k < 1``, a split
            too small for the window and horizon, or a season longer than the data before the
            validation part.
    """

    values: np.ndarray
    val_fraction: float = 0.2
    window: int = 48
    difference: bool = True
    k: int = 1
    season: int | None = None
    index: object = None

    loss: ClassVar[str] = "mse"
    target_steps: ClassVar[str] = "all"
    input_size: ClassVar[int] = 1
    output_size: ClassVar[int] = 1
    baseline_label: ClassVar[str] = "naive forecast (last known value)"
    evaluation_type: ClassVar[type[ForecastEvaluation]] = ForecastEvaluation

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        if self.values.ndim != 1 or not np.isfinite(self.values).all():
            raise ValueError("the series must be one column of finite numbers")
        if self.index is not None and len(self.index) != len(self.values):
            raise ValueError(
                f"index has {len(self.index)} time stamps for {len(self.values)} values"
            )
        self.window = check_int("window", self.window, 1)
        self.k = check_int("k (the forecast horizon)", self.k, 1)
        if len(self.values) < 2 * self.window + 2:
            raise ValueError(
                f"the series needs at least {2 * self.window + 2} values for windows of "
                f"{self.window}, got {len(self.values)}"
            )
        z = np.diff(self.values) if self.difference else self.values.copy()  # (N-1,) or (N,)
        self.n_train = int(round(len(z) * (1 - self.val_fraction)))
        if self.n_train < self.window + self.k or len(z) - self.n_train < 2:
            raise ValueError(
                f"the split leaves too little data for training or validation (training part "
                f"{self.n_train} steps, window {self.window}, horizon k = {self.k})"
            )
        self.mean = float(z[: self.n_train].mean())
        self.std = float(z[: self.n_train].std()) or 1.0
        self.z = torch.tensor((z - self.mean) / self.std, dtype=torch.float32)  # (M,)
        self.offset = 1 if self.difference else 0  # z[t] belongs to values[t + offset]
        M, k = len(self.z), self.k
        if self.difference:  # target[t] = z[t+1] + … + z[t+k]; k = 1 is exactly z[t+1]
            self.target = torch.stack([self.z[j : M - k + j] for j in range(1, k + 1)]).sum(0)
        else:
            self.target = self.z[k:].clone()  # (M-k,)
        if self.season is not None:
            self.season = check_int("season", self.season, 1)
            if self.n_train + self.offset < self._season_lag:
                raise ValueError(
                    f"a season of {self.season} steps (horizon {k}) reaches before the start "
                    f"of the series: only {self.n_train + self.offset} values precede the "
                    f"validation part"
                )

    @property
    def _season_lag(self) -> int:
        return self.season * math.ceil(self.k / self.season)

    def train_batch(self, batch_size: int, generator: torch.Generator):
        """``(x, y)``, each float32 ``(window, batch_size, 1)``: windows starting at random
        positions inside the training part; ``y[t]`` is the target k steps after ``x[t]`` (for
        ``k = 1``, ``x`` shifted one step ahead)."""
        starts = torch.randint(
            0, self.n_train - self.window - self.k + 1, (batch_size,), generator=generator
        )
        idx = starts[None, :] + torch.arange(self.window)[:, None]  # (W, B)
        return self.z[idx].unsqueeze(-1), self.target[idx].unsqueeze(-1)  # (W, B, 1) each

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module) -> ForecastEvaluation:
        """Run ``model`` over the whole series and score the validation part (the fields and
        their units: :class:`ForecastEvaluation`; the seasonal ones None without a season)."""
        k = self.k
        pred = model(self.z[:-k, None]).squeeze(-1)  # (M-k,) prediction of target[t]
        targets = np.arange(self.n_train, len(self.z))  # z positions held out
        origin = targets - k  # the last step the model has read
        pred_z = pred[origin].double().numpy()
        val_loss = float(np.mean((pred_z - self.target[origin].double().numpy()) ** 2))
        level_idx = targets + self.offset  # positions in values
        # back to the unit: a sum of k normalised changes, or one normalised level
        change = pred_z * self.std + (k if self.difference else 1) * self.mean
        truth = self.values[level_idx]
        naive = self.values[level_idx - k]
        prediction = naive + change if self.difference else change
        naive_mse = float(np.mean((naive - truth) ** 2))
        seasonal = seasonal_rmse = seasonal_loss = None
        if self.season is not None:
            seasonal = self.values[level_idx - self._season_lag]
            seasonal_mse = float(np.mean((seasonal - truth) ** 2))
            seasonal_rmse = math.sqrt(seasonal_mse)
            seasonal_loss = seasonal_mse / self.std**2
        return ForecastEvaluation(
            val_loss=val_loss,
            baseline=naive_mse / self.std**2,
            baseline_label=self.baseline_label,
            rmse=float(np.sqrt(np.mean((prediction - truth) ** 2))),
            naive_rmse=float(np.sqrt(naive_mse)),
            seasonal_naive_rmse=seasonal_rmse,
            seasonal_naive_loss=seasonal_loss,
            index=level_idx,
            truth=truth,
            prediction=prediction,
            naive=naive,
            seasonal_naive=seasonal,
        )
