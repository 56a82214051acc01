"""The Train page's results, one view per task, registered by task key (``RESULT_VIEWS``):
the numbers that say how good the latest evaluation is, and its predictions against the
targets. Adding a task is one view here and one entry in ``RESULT_VIEWS`` (beside its entry in
``explorer.tasks.TASKS``), not a branch in a chain of ``if key ==``.

Every view draws from a :class:`ResultView`: the trainer, its latest evaluation (the task's
``evaluate`` result, of the task's own :class:`~explorer.tasks.Evaluation` type) and the page's
containers. Its figures are rebuilt only at a new evaluation
(:func:`explorer.ui.train_controls.figure_once`): the live loss curve is drawn elsewhere.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from .. import charts
from ..tasks import (
    AddingEvaluation,
    CharEvaluation,
    CopyEvaluation,
    Evaluation,
    ForecastEvaluation,
    TutorialEvaluation,
)
from . import plain, show_chart
from .train_controls import CSV, figure_once, rebuild_due


@dataclass(frozen=True)
class ResultView:
    """What a task's view draws from and into."""

    trainer: object  # the page's explorer.training.Trainer
    evaluation: Evaluation  # its latest: the task's ``evaluate(model)``, of its own type
    meta: dict  # explorer.ui.train_controls.run_meta: unit, x_title, what, loss_title
    metrics: object  # the Streamlit container for the scores
    chart: object  # ... and the one for predictions against targets
    temperature: float | None = None  # the char task's sampling temperature
    seed: int = 0  # the char task's sampling seed


def results(
    trainer,
    key: str,
    meta: dict,
    *,
    metrics,
    chart,
    temperature: float | None = None,
    seed: int = 0,
) -> None:
    """The run's latest evaluation, drawn by task ``key``'s view (:data:`RESULT_VIEWS`): the
    numbers that say how good it is (in the container ``metrics``) and predictions against
    targets (in ``chart``)."""
    evaluation = trainer.last_eval or trainer.evaluate()
    view = ResultView(trainer, evaluation, meta, metrics, chart, temperature, seed)
    RESULT_VIEWS[key](view)


def _gain(model: float, baseline: float) -> str:
    if not baseline or not math.isfinite(model):
        return "–"
    return f"{round(100 * (1 - model / baseline)) + 0} %"  # + 0: no "-0"


def _tiles(container) -> list:
    """Four places for metrics in two rows of two: the results share the page's width with the
    loss curve, and four in a row cut their labels short."""
    return [column for _ in range(2) for column in container.columns(2)]


def sample_text(trainer, *, temperature: float, seed: int, length: int = 300) -> None:
    """A sample of the char model's text at ``temperature``, redrawn after each evaluation
    (not at every redraw: 300 characters cost 300 small forward passes)."""
    stamp = (id(trainer), len(trainer.eval_steps), trainer.status, temperature, seed)
    samples = st.session_state.setdefault("_train_samples", {})
    fresh = "text" in samples and samples["text"][0][3:] != stamp[3:]  # a new temperature
    prime = sample_prime(trainer.task.text)
    if fresh or rebuild_due(samples, "text", stamp, trainer):
        # the page's copy of the weights: the workers train their own, merged between redraws
        text = trainer.task.sample(trainer.model, length, temperature, seed=seed, prime=prime)
        trainer.model.train()
        samples["text"] = (stamp, (trainer.step, text), time.monotonic())
    step, text = samples["text"][1]
    shown = prime.rstrip("\n").replace("`", "'")
    st.markdown(
        f"**Sampled at temperature {temperature:g}** after {step:,} steps. The model "
        f"first reads the prime `{shown}`"
        + (" and a line break" if prime.endswith("\n") else "")
        + " (the text's beginning), then writes on:"
    )
    st.code(text, language=None, wrap_lines=True)


def sample_prime(text: str, longest: int = 40) -> str:
    """What a char model's sample starts from: the text's first line with its line break (at
    most ``longest`` characters), else its first word and the space after it, else its first
    character, so that the sample starts where a line or a word starts (not mid-word)."""
    line, newline, _ = text.partition("\n")
    if newline and 0 < len(line) < longest:
        return line + newline
    word = re.match(r"\S+\s", text)
    return word.group(0) if word and len(word.group(0)) <= longest else text[0]


def _forecast_view(view: ResultView) -> None:
    """Forecast, sine and CSV: the model's RMSE against the naive and seasonal rules, and the
    forecasts over the validation part."""
    r: ForecastEvaluation = view.evaluation
    task = view.trainer.task
    unit = "" if view.meta["unit"] == "value" else f" ({plain(view.meta['unit'])})"
    cols = _tiles(view.metrics)
    cols[0].metric(
        "Model RMSE",
        f"{r.rmse:.3g}",
        help=f"Root mean squared error{unit} of the model's forecasts on the validation part.",
    )
    cols[1].metric(
        "Naive RMSE",
        f"{r.naive_rmse:.3g}",
        help=f'RMSE{unit} of the forecast "x_{{t+k}} = x_t" (the last known '
        "value) on the same validation part.",
    )
    if r.seasonal_naive_rmse is not None:
        cols[2].metric(
            "Seasonal RMSE",
            f"{r.seasonal_naive_rmse:.3g}",
            help=f"RMSE{unit} of the seasonal-naive forecast: the value one season "
            f"({task.season} steps) earlier.",
        )
    best = min(v for v in (r.naive_rmse, r.seasonal_naive_rmse) if v is not None)
    gain_column = cols[3 if r.seasonal_naive_rmse is not None else 2]
    gain_column.metric(
        "Error removed",
        _gain(r.rmse, best),
        help="1 − model RMSE / the better rule's RMSE: how much of the error "
        "of the best rule that needs no training the model removes. "
        "Negative: the model is worse than that rule.",
    )
    if unit:
        view.metrics.caption(
            f"RMSE in {plain(view.meta['unit'])}, on the validation part "
            f"({len(r.truth):,} values the model never trained on)."
        )
    x = task.index[r.index] if task.index is not None else r.index
    with view.chart:
        show_chart(
            figure_once(
                "prediction",
                view.trainer,
                lambda: charts.forecast(
                    x,
                    r.truth,
                    r.prediction,
                    r.naive,
                    unit=view.meta["unit"],
                    seasonal_naive=r.seasonal_naive,
                    k=task.k,
                    x_title=view.meta["x_title"],
                ),
            ),
            key="prediction_chart",
        )


def _adding_view(view: ResultView) -> None:
    """The adding problem: validation MSE against always answering 1.0, and the sums found."""
    r: AddingEvaluation = view.evaluation
    task = view.trainer.task
    cols = _tiles(view.metrics)
    cols[0].metric("Validation MSE", f"{r.val_loss:.4f}")
    cols[1].metric(
        "Baseline MSE", f"{r.baseline:.4f}", help="Always answering 1.0, the expected sum."
    )
    cols[2].metric(
        "Error removed vs baseline",
        _gain(r.val_loss, r.baseline),
        help="Near 0 %: the model has not found the marked numbers and answers "
        "about 1.0 whatever the sequence.",
    )
    cols[3].metric("Lag", f"{task.lag} steps")
    with view.chart:
        show_chart(
            figure_once(
                "prediction", view.trainer, lambda: charts.sum_scatter(r.truth, r.prediction)
            ),
            key="prediction_chart",
        )


def _copy_view(view: ResultView) -> None:
    """The copy task: symbols and whole sequences recalled against chance, and five examples."""
    r: CopyEvaluation = view.evaluation
    task = view.trainer.task
    cols = _tiles(view.metrics)
    cols[0].metric("Symbols recalled right", f"{100 * r.accuracy:.1f} %")
    cols[1].metric(
        "Whole sequences right",
        f"{100 * r.sequence_accuracy:.1f} %",
        help="Sequences recalled without a single mistake.",
    )
    cols[2].metric(
        "Chance",
        f"{100 * r.chance_accuracy:.0f} %",
        help=f"Guessing one of the {task.n_symbols} symbols at random.",
    )
    cols[3].metric(
        "Each symbol waits",
        f"{task.seq_len + task.lag} steps",
        help="seq_len + lag: from being shown to being asked for.",
    )
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
    rows = [
        {
            "shown": " ".join(letters[i] for i in s),
            "recalled": " ".join(letters[i] for i in c),
            "right": "✓" if (s == c).all() else "✗",
        }
        for s, c in zip(r.shown[:5], r.recalled[:5])
    ]
    with view.chart:
        show_chart(
            figure_once(
                "prediction",
                view.trainer,
                lambda: charts.recall_accuracy(r.position_accuracy, r.chance_accuracy),
            ),
            key="prediction_chart",
        )
        st.caption("The first validation sequences (symbols as letters):")
        st.dataframe(rows, hide_index=True, width="stretch")


def _char_view(view: ResultView) -> None:
    """Characters: bits per character against letter frequencies and a uniform guess, and a
    sample of the model's text."""
    r: CharEvaluation = view.evaluation
    task = view.trainer.task
    cols = _tiles(view.metrics)
    cols[0].metric(
        "Model",
        f"{r.bits_per_char:.2f}",
        help="Cross-entropy of the model on the held-out text.",
    )
    cols[1].metric(
        "Letter frequencies",
        f"{r.unigram_loss / math.log(2):.2f}",
        help="Predicting each character from how often it occurs in the training "
        "part, ignoring what came before.",
    )
    cols[2].metric(
        "Uniform guess",
        f"{r.baseline / math.log(2):.2f}",
        help=f"log2 of the alphabet's {task.input_size} characters.",
    )
    cols[3].metric(
        "Next char right",
        f"{100 * r.accuracy:.1f} %",
        help="How often the most likely next character is the right one.",
    )
    view.metrics.caption(
        f"Bits per character on the held-out text (the last {task.val_fraction:.0%}); "
        "lower is better. The loss chart counts the same cross-entropy in nats (bits = "
        f"nats / ln 2): the model's {r.bits_per_char:.2f} bits are "
        f"{r.bits_per_char * math.log(2):.2f} nats there."
    )
    with view.chart:
        sample_text(view.trainer, temperature=view.temperature or 1.0, seed=view.seed)


def _tutorial_view(view: ResultView) -> None:
    """The tutorial: its five-step MSE against the targets' mean, and outputs against targets."""
    r: TutorialEvaluation = view.evaluation
    cols = _tiles(view.metrics)
    cols[0].metric(
        "Loss (MSE)",
        f"{r.val_loss:.3g}",
        help="Mean squared error of the model on the five steps it trains on.",
    )
    cols[1].metric(
        "Targets' mean",
        f"{r.baseline:.3g}",
        help="The MSE of answering the mean of the five targets at every step.",
    )
    with view.chart:
        show_chart(
            figure_once(
                "prediction",
                view.trainer,
                lambda: charts.targets_vs_predictions(
                    r.truth, r.prediction, title="Targets and your model's outputs"
                ),
            ),
            key="prediction_chart",
        )


RESULT_VIEWS: dict[str, Callable[[ResultView], None]] = {
    "forecast": _forecast_view,
    "sine": _forecast_view,
    CSV: _forecast_view,
    "adding": _adding_view,
    "copy": _copy_view,
    "char": _char_view,
    "tutorial": _tutorial_view,
}
