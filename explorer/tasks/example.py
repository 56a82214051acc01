"""One sequence of a task's own input, as its trained model reads it (what "Open this model in
Step through" shows)."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Example:
    """One sequence of a task's own input, as its trained model reads it.

    Attributes:
        x: float32 ``(T, input_size)``.
        labels: what each step reads, for the time axis (the characters, for text); None
            where the step number says it all.
        description: a few words on where the sequence comes from.
    """

    x: torch.Tensor
    labels: list[str] | None
    description: str


def example_input(task) -> Example:
    """The first held-out sequence of ``task`` (what "Open this model in Step through" shows):
    the char task's first validation window of text (labels: its characters); a forecaster's
    first ``window`` steps of the validation part of its normalised series (changes when it
    models them); the adding and recall tasks' first validation sequence; the tutorial's one
    sequence. By attributes, not class (a dev server may reload this module under a live task).

    Raises:
        TypeError: ``task`` is none of these.
    """
    if hasattr(task, "alphabet"):  # CharTask
        x = task.val_x[:, 0]  # (W, V)
        return Example(
            x,
            list(task.decode(x.argmax(-1))),
            f"the first {len(x)} characters of the held-out text, one-hot over the "
            f"task's alphabet of {task.input_size}",
        )
    if hasattr(task, "z") and hasattr(task, "n_train"):  # ForecastTask (series, sine, csv)
        x = task.z[task.n_train : task.n_train + task.window].unsqueeze(-1)  # (W, 1)
        what = "changes" if task.difference else "values"
        return Example(
            x,
            None,
            f"the first {len(x)} steps of the validation part of the series "
            f"({what}, normalised as in training)",
        )
    if hasattr(task, "val_x"):  # AddingTask, CopyTask: (T, N, input_size)
        return Example(
            task.val_x[:, 0],
            None,
            f"the first validation sequence of the task ({task.val_x.shape[0]} "
            f"steps, {task.input_size} inputs per step)",
        )
    if hasattr(task, "x"):  # TutorialTask: (5, 1, 10)
        return Example(task.x[:, 0], None, "the tutorial's one sequence (5 steps, 10 inputs)")
    raise TypeError(f"no example input for a {type(task).__name__}")
