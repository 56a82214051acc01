"""The tutorial's example as a task: one fixed sequence the model learns by heart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from ..config import LIMITS
from ..tutorial import INPUT_SIZE, OUTPUT_SIZE, tutorial_data
from .base import Evaluation, check_int


@dataclass(frozen=True, eq=False)
class TutorialEvaluation(Evaluation):
    """The tutorial's score on its one sequence (:meth:`TutorialTask.evaluate`).

    Attributes:
        val_loss: MSE on the sequence itself (there is no held-out data).
        baseline: MSE of answering the five targets' mean at every step.
        baseline_label: "the mean of the five targets".
        prediction: float64 ``(5,)`` the model's outputs.
        truth: float64 ``(5,)`` the targets.
    """

    prediction: np.ndarray
    truth: np.ndarray


@dataclass
class TutorialTask:
    """The tutorial's example: one fixed sequence of 5 random steps, input 10, output 1, MSE.

    ``x`` ``(5, 1, 10)`` and ``y`` ``(5, 1, 1)`` are the tutorial's own numbers
    (:func:`explorer.tutorial.tutorial_data`, with a batch of one): those that
    ``torch.manual_seed(seed); x = torch.randn(5, 1, 10); y = torch.randn(5, 1, 1)`` gives, drawn
    from a private generator so the global random state is untouched. There is no held-out
    data: the model learns this one sequence by heart, and ``evaluate`` scores it again.
    """

    seed: int = 0

    loss: ClassVar[str] = "mse"
    target_steps: ClassVar[str] = "all"
    input_size: ClassVar[int] = INPUT_SIZE
    output_size: ClassVar[int] = OUTPUT_SIZE
    baseline_label: ClassVar[str] = "the mean of the five targets"
    evaluation_type: ClassVar[type[TutorialEvaluation]] = TutorialEvaluation

    def __post_init__(self) -> None:
        self.seed = check_int("seed", self.seed, 0, LIMITS["seed"][1])
        x, y = tutorial_data(self.seed)  # the tutorial's own numbers: (T, in), (T, out)
        self.x, self.y = x.unsqueeze(1), y.unsqueeze(1)  # (T, B=1, in), (T, B=1, out)

    def train_batch(self, batch_size: int, generator: torch.Generator):
        """The fixed ``(x, y)`` every time; ``batch_size`` and ``generator`` are ignored (the
        tutorial trains on a batch of one sequence)."""
        return self.x, self.y

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module) -> TutorialEvaluation:
        """Score the sequence itself (the fields and their units: :class:`TutorialEvaluation`)."""
        pred = model(self.x).double().flatten()  # (5,)
        truth = self.y.double().flatten()
        return TutorialEvaluation(
            val_loss=float(((pred - truth) ** 2).mean()),
            baseline=float(((truth - truth.mean()) ** 2).mean()),
            baseline_label=self.baseline_label,
            prediction=pred.numpy(),
            truth=truth.numpy(),
        )
