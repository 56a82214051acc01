"""What every task offers a trainer and a page: the :class:`Task` protocol (the rules are in
:mod:`explorer.tasks`), the :class:`Evaluation` every ``evaluate`` returns (each task's own
subclass lives with the task), and the checks the tasks share for their settings."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import ClassVar, Protocol

import numpy as np
import torch

from ..config import LIMITS


def score(column: str, **kwargs):
    """A field of an :class:`Evaluation` that scores the model, shown in the Compare table's
    column ``column`` (when its value is a number)."""
    return dataclasses.field(metadata={"column": column}, **kwargs)


def rule(label: str, short: str | None = None, **kwargs):
    """A field of an :class:`Evaluation` that holds the loss of a rule needing no training (in
    loss units; None when the task has no such rule), drawn beside the loss curves as ``label``
    (Compare) or ``short`` (Train; default ``label``)."""
    return dataclasses.field(metadata={"rule": label, "short": short or label}, **kwargs)


@dataclasses.dataclass(frozen=True, eq=False)
class Evaluation:
    """What every task's ``evaluate(model)`` returns: the model's score on held-out data and
    the score of a rule that needs no training, in the same units. Each task returns its own
    subclass with more fields (:class:`~explorer.tasks.forecast.ForecastEvaluation` …).

    Frozen: an evaluation is a record of one moment of a run. Compared by identity (``eq``
    off): pages cache their figures on the evaluation object, and array fields have no single
    truth value.

    Attributes:
        val_loss: the validation loss, the same loss and units as the training loss (MSE for
            ``loss = "mse"``, nats per scored step for ``"ce"``).
        baseline: the loss of the task's trivial rule on the same data, same units.
        baseline_label: what that rule is, in a few words (the task's ``baseline_label``).
    """

    val_loss: float
    baseline: float
    baseline_label: str

    def as_dict(self) -> dict:
        """``{field name: value}``, the values themselves (arrays not copied): the form a
        checkpoint stores, the same keys as the dicts ``evaluate`` returned before it was
        typed."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, values: Mapping) -> Evaluation:
        """The evaluation :meth:`as_dict` gave (or a stored dict of the untyped form).

        Raises:
            ValueError: a name that is not a field of ``cls``, or a field missing.
        """
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(names))
        missing = [n for n in names if n not in values]
        if unknown or missing:
            raise ValueError(
                f"a {cls.__name__} has the fields {names}; got unknown {unknown}, missing {missing}"
            )
        return cls(**values)

    def scores(self) -> dict[str, float]:
        """The task's own scores for a table, ``{column: value}`` in field order: the fields
        declared with :func:`score` that hold a number (e.g. ``{"RMSE": 0.4, "naive RMSE":
        0.6}``)."""
        return {
            f.metadata["column"]: float(getattr(self, f.name))
            for f in dataclasses.fields(self)
            if "column" in f.metadata and isinstance(getattr(self, f.name), (int, float))
        }

    def rules(self, short: bool = False) -> list[tuple[str, float]]:
        """``(label, loss)`` of the rules that need no training, in loss units, to draw beside
        the loss curves: the baseline first (labelled ``baseline_label``), then the fields
        declared with :func:`rule` that hold a number (``short``: their short labels)."""
        key = "short" if short else "rule"
        return [(self.baseline_label, self.baseline)] + [
            (f.metadata[key], getattr(self, f.name))
            for f in dataclasses.fields(self)
            if "rule" in f.metadata and isinstance(getattr(self, f.name), (int, float))
        ]


class Task(Protocol):
    """What every task offers a trainer and a page (the rules are in :mod:`explorer.tasks`)."""

    loss: str  # "mse" or "ce"
    target_steps: str  # "all" or "last"
    input_size: int
    output_size: int
    baseline_label: str
    evaluation_type: ClassVar[type[Evaluation]]  # what ``evaluate`` returns

    def train_batch(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]: ...

    def evaluate(self, model: torch.nn.Module) -> Evaluation: ...


def check_int(name: str, value, low: int, high: int | None = None) -> int:
    """``value`` as an ``int`` if it is a whole number in ``[low, high]``, else ValueError."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be a whole number {bound}, got {value!r}")
    return int(value)


def check_fraction(value: float) -> float:
    """``val_fraction`` as a ``float`` strictly between 0 and 1, else ValueError."""
    if not (isinstance(value, (int, float)) and 0 < value < 1):
        raise ValueError(f"val_fraction must be a number between 0 and 1, got {value!r}")
    return float(value)


def fixed_generator(seed: int) -> torch.Generator:
    """A new ``torch.Generator`` seeded with ``seed`` (a whole number within the seed limits,
    else ValueError): the draws of a task's fixed data, never the global random state."""
    return torch.Generator().manual_seed(check_int("seed", seed, 0, LIMITS["seed"][1]))
