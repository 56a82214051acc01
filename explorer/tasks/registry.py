"""The task registry: each task's key, label, prose, settings (with the widgets' bounds) and
factory (``TASKS``), the user's own series (``USER_SERIES``) and :func:`build_task`.
Adding a task is a class speaking the :class:`~explorer.tasks.base.Task` protocol and one
entry in ``TASKS``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..config import LIMITS
from ..datasets import SERIES, load_series, load_text, synthetic_sine
from .base import Task, check_fraction, check_int
from .forecast import ForecastTask
from .memory import AddingTask, CopyTask
from .text import CharTask
from .tutorial import TutorialTask


@dataclass(frozen=True)
class Setting:
    """One keyword of a task's factory: its default, the range or choices a page should offer,
    and a one-line help. The task itself validates values; these are the widgets' bounds."""

    default: object
    low: float | None = None
    high: float | None = None
    choices: tuple | None = None
    help: str = ""


@dataclass(frozen=True)
class TaskSpec:
    """A registry entry: what a task is, what it needs from the model, and how to build it.

    ``input_size`` / ``output_size`` are None when they depend on the settings (the text's
    alphabet, the number of symbols); the built task's attributes always have them.
    """

    key: str
    label: str
    about: str  # one paragraph for the page: the task, what to look for, the baseline
    loss: str  # "mse" or "ce"
    target_steps: str  # "all" or "last"
    input_size: int | None
    output_size: int | None
    settings: dict[str, Setting]  # keyword -> default and widget bounds
    factory: Callable[..., Task]

    def build(self, **settings) -> Task:
        """The task with ``settings`` (the rest at their defaults).

        Raises:
            ValueError: an unknown setting name, or a value the task refuses.
        """
        unknown = sorted(set(settings) - set(self.settings))
        if unknown:
            raise ValueError(f"{self.key} takes settings {sorted(self.settings)}, got {unknown}")
        return self.factory(**{name: s.default for name, s in self.settings.items()} | settings)


def _forecast(
    series: str = "co2",
    k: int = 1,
    window: int = 48,
    difference: bool | None = None,
    val_fraction: float = 0.2,
) -> ForecastTask:
    """A shipped series (``SERIES``); ``difference=None`` takes the series' own choice."""
    values = load_series(series)  # raises ValueError on an unknown key
    spec = SERIES[series]
    return ForecastTask(
        values.to_numpy(),
        val_fraction,
        window,
        spec.difference if difference is None else difference,
        k,
        spec.season,
        index=values.index,
    )


def _sine(
    period: int = 50, noise: float = 0.1, n: int = 1000, k: int = 1, window: int = 48, seed: int = 0
) -> ForecastTask:
    return ForecastTask(
        synthetic_sine(n, period, noise, seed),
        window=window,
        difference=False,
        k=k,
        season=check_int("period", period, 1),
    )


def _char(text: str | None = None, window: int = 64, val_fraction: float = 0.1) -> CharTask:
    """``text=None`` (or empty) trains on the shipped sonnets."""
    return CharTask(text or load_text("sonnets"), window, val_fraction)


_K = Setting(1, 1, 100, help="forecast horizon: predict the value k steps ahead")
_WINDOW = Setting(48, 4, 200, help="time steps per training sample")
_SEED = Setting(0, 0, LIMITS["seed"][1], help="draws the fixed validation set")

TASKS: dict[str, TaskSpec] = {
    "forecast": TaskSpec(
        "forecast",
        "Forecast a real series",
        "The network reads a real series one value at a time and, at every step, predicts the "
        "value k steps ahead. It trains on the first 80 % of the series and is scored on the "
        "last 20 %, which it never sees in training; the series is normalised with the "
        "training part's mean and spread, and a trending series (CO2) is modelled as changes. "
        "Beside it are two rules that need no training: the naive forecast (the last known "
        "value) and the seasonal-naive forecast (the value one season earlier: 12 months for "
        "CO2, 365 days for temperatures). A model worth having beats both; watch how the "
        "naive rule gets worse as k grows while the seasonal one does not.",
        "mse",
        "all",
        1,
        1,
        {
            "series": Setting("co2", choices=tuple(SERIES), help="which shipped series"),
            "k": _K,
            "window": _WINDOW,
            "difference": Setting(
                None,
                choices=(None, True, False),
                help="model changes rather than levels (None: the series' default)",
            ),
            "val_fraction": Setting(0.2, 0.05, 0.5, help="last share held out for validation"),
        },
        _forecast,
    ),
    "sine": TaskSpec(
        "sine",
        "Forecast a noisy sine wave",
        "A synthetic signal whose answer is known: a sine wave of the chosen period plus "
        "Gaussian noise of the chosen size. The network predicts the value k steps ahead; the "
        "best any model can do is the clean sine, whose error is the noise itself (an RMSE "
        "about the noise level; on a finite validation part it can land a little below). The "
        "naive forecast (last value) pays for the wave's slope "
        "and for the noise twice; the seasonal-naive forecast (one period earlier) pays for "
        "the noise twice. Raise the noise to see the network learn to smooth rather than "
        "copy.",
        "mse",
        "all",
        1,
        1,
        {
            "period": Setting(50, 4, 500, help="steps per cycle (also the season)"),
            "noise": Setting(0.1, 0.0, 2.0, help="standard deviation of the added noise"),
            "n": Setting(1000, 200, 5000, help="length of the series"),
            "k": _K,
            "window": _WINDOW,
            "seed": Setting(0, 0, LIMITS["seed"][1], help="draws the noise"),
        },
        _sine,
    ),
    "char": TaskSpec(
        "char",
        "Character-level language model",
        "The network reads a text one character at a time (each a one-hot vector over the "
        "text's alphabet) and predicts the next character: a classifier over the V characters, "
        "trained with cross-entropy. The shipped text is the first fifty of Shakespeare's "
        "sonnets; you can type your own. Guessing uniformly costs ln(V) nats per character; "
        "knowing only how often each letter occurs is already much better, and a network that "
        "has learnt spelling, spaces and line breaks goes well below that. Sample from it at "
        "a low temperature for safe, repetitive text and at a high one for adventurous "
        "misspellings.",
        "ce",
        "all",
        None,
        None,
        {
            "text": Setting(None, help="the training text; empty for the shipped sonnets"),
            "window": Setting(64, 8, 400, help="characters per training sample"),
            "val_fraction": Setting(0.1, 0.05, 0.5, help="last share held out for validation"),
        },
        _char,
    ),
    "adding": TaskSpec(
        "adding",
        "Memory: the adding problem",
        "Each sequence is lag random numbers between 0 and 1, two of them marked, one in each "
        "half; at the last step the network must output the sum of the two marked numbers. It "
        "has to notice the first mark and hold that number across up to lag steps of "
        "distraction. Always answering 1.0 (the expected sum) scores an MSE of about 0.167; "
        "that is the line to beat. As the lag grows, a vanilla RNN's gradient through time "
        "fades and it stays on that line, while gated cells, which can pass their memory on "
        "unchanged, get below it (Hochreiter & Schmidhuber 1997) — though they may need more "
        "steps: in our runs at lag 50 (hidden 16, Adam 0.01, batches of 64) a GRU solved it "
        "within 300 steps, an LSTM had not after 300 but had after 1,000, and the vanilla "
        "RNN was still on the baseline after 1,000. At lag 10 an LSTM solves it in 300 "
        "steps.",
        "mse",
        "last",
        2,
        1,
        {
            "lag": Setting(50, 2, 400, help="sequence length: how far apart the marks can be"),
            "seed": _SEED,
        },
        AddingTask,
    ),
    "copy": TaskSpec(
        "copy",
        "Memory: delayed recall",
        "The network is shown a few symbols, waits lag blank steps, and when the recall "
        "marker comes on must output the same symbols in the same order: each symbol has to "
        "survive seq_len + lag steps. It is a classifier over the symbols, trained with "
        "cross-entropy on the recall steps only. Guessing scores ln(n_symbols) nats and an "
        "accuracy of 1/n_symbols. Lengthen the lag and compare cells. In our runs (3 symbols "
        "out of 4, hidden 32, Adam 0.01, batches of 64) every cell recalled perfectly at lag "
        "5; at lag 10, after 1,000 steps, the GRU was perfect, the LSTM right 94 % of the time "
        "and the vanilla RNN 77 %; at lag 20 only the GRU left chance within 1,500 steps.",
        "ce",
        "all",
        None,
        None,
        {
            "lag": Setting(10, 1, 400, help="blank steps between showing and recalling"),
            "n_symbols": Setting(4, 2, 32, help="how many different symbols"),
            "seq_len": Setting(3, 1, 20, help="symbols to remember"),
            "seed": _SEED,
        },
        CopyTask,
    ),
    "tutorial": TaskSpec(
        "tutorial",
        "The tutorial's example",
        "The classic first PyTorch RNN example: one sequence of five time steps, each a vector "
        "of ten random numbers, with one random target number per step, and mean-squared "
        "error. There is nothing to generalise: the network (input 10, output 1) learns this "
        "sequence by heart, and the loss can go to zero. The baseline is answering the mean "
        "of the five targets at every step.",
        "mse",
        "all",
        10,
        1,
        {"seed": Setting(0, 0, LIMITS["seed"][1], help="torch.manual_seed of the example")},
        TutorialTask,
    ),
}


# --------------------------------------------------------------------------- your own data


def _csv(
    values=None,
    k: int = 1,
    window: int = 24,
    difference: bool = False,
    val_fraction: float = 0.2,
    index=None,
) -> ForecastTask:
    """A user's series (``(N,)`` numbers, e.g. :func:`explorer.readers.series_from_frame`),
    forecast like a shipped one but with no seasonal-naive baseline (its season is unknown)."""
    if values is None:
        raise ValueError("no series given: upload a file and choose its value column")
    return ForecastTask(
        np.asarray(values, dtype=np.float64),
        check_fraction(val_fraction),
        window,
        bool(difference),
        k,
        index=index,
    )


# Not in TASKS (it needs the user's file, so it has no default to build, compare or test with);
# build_task("csv", values=...) builds it like the others.
USER_SERIES = TaskSpec(
    "csv",
    "Your own data (CSV)",
    "Upload a table of numbers (comma, semicolon or tab separated; decimal commas, a title "
    "line or one column per month are fine), pick the column that orders it in time and the "
    "column to forecast. The network reads the series one value at a time and predicts the "
    "value k steps ahead; it trains on the first part and is scored on the last, which it "
    "never sees in training, beside the naive forecast (the last known value). Choose "
    '"changes" for a series that trends, so the forecasts can leave the range seen in '
    "training.",
    "mse",
    "all",
    1,
    1,
    {
        "values": Setting(None, help="the series, in time order"),
        "k": _K,
        "window": Setting(24, 4, 200, help="time steps per training sample"),
        "difference": Setting(
            False,
            choices=(False, True),
            help="model changes rather than levels (for a trending series)",
        ),
        "val_fraction": Setting(0.2, 0.05, 0.5, help="last share held out for validation"),
        "index": Setting(None, help="time stamps, for plotting only"),
    },
    _csv,
)


def build_task(key: str, **settings) -> Task:
    """``TASKS[key].build(**settings)``; ``key = "csv"`` builds ``USER_SERIES`` (a forecast of
    ``values``).

    Raises:
        ValueError: an unknown task key or setting, or a value the task refuses.
    """
    if key == USER_SERIES.key:
        return USER_SERIES.build(**settings)
    if key not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)} or 'csv', got {key!r}")
    return TASKS[key].build(**settings)
