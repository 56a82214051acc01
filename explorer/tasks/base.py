"""What every task offers a trainer and a page: the :class:`Task` protocol (the rules are in
:mod:`explorer.tasks`), and the checks the tasks share for their settings."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from ..config import LIMITS


class Task(Protocol):
    """What every task offers a trainer and a page (the rules are in :mod:`explorer.tasks`)."""

    loss: str  # "mse" or "ce"
    target_steps: str  # "all" or "last"
    input_size: int
    output_size: int
    baseline_label: str

    def train_batch(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]: ...

    def evaluate(self, model: torch.nn.Module) -> dict: ...


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
