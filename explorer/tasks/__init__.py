"""Training tasks for the explorer: a registry (``TASKS``) and the tasks, one job per module.

Every task speaks one protocol (:class:`~explorer.tasks.base.Task`), so a trainer needs no ``if`` per task:

* ``train_batch(batch_size, generator) -> (x, y)`` with ``x`` float32 ``(W, B, input_size)``;
* ``evaluate(model) ->`` an :class:`~explorer.tasks.base.Evaluation` (frozen; the task's own
  subclass, its ``evaluation_type``) with at least ``val_loss`` (same loss and units as
  training), ``baseline`` (a simple rule's score in the same units, to draw beside the loss
  curve) and ``baseline_label`` (what that rule is, in a few words);
* ``loss``: ``"mse"`` — ``y`` is float32 ``(W_y, B, output_size)`` — or ``"ce"`` — ``y`` is
  int64 class indices ``(W_y, B)``, the model's outputs are logits over ``output_size`` classes,
  and a target equal to ``IGNORE_INDEX`` (-100, PyTorch's default ``ignore_index``) marks a step
  that is not scored;
* ``target_steps``: ``"all"`` — ``W_y = W``, every output step is scored (but the ignored
  ones) — or ``"last"`` — ``W_y = 1``, only the model's last output step is scored
  (``model(x)[-1:]``).

``explorer.training.SequenceLoss`` applies those rules. The model
is any module mapping ``(W, B, input_size)`` to ``(W, B, output_size)``, one output per step
(:func:`explorer.build_model`).

Shape legend: ``W`` time steps of a sample, ``B`` batch, ``V`` classes (characters, symbols),
``N`` validation samples.

The data the tasks train on (the shipped series and text) is in :mod:`explorer.datasets`; a
user's own file is read by :mod:`explorer.readers`. Adding a task is a class speaking the
protocol and one entry in ``TASKS``.

Modules: ``base`` (the protocol, the :class:`Evaluation` every task returns, the settings'
checks), ``forecast`` (a series k steps ahead), ``memory`` (the adding problem, delayed
recall), ``text`` (characters), ``tutorial`` (the tutorial's one sequence), ``example`` (one
input sequence of a task, for Step through), ``registry`` (``TASKS``, ``USER_SERIES``,
:func:`build_task`). Each task's evaluation type lives with the task. This package's names are
the public ones.
"""

from .base import Evaluation, Task
from .example import Example, example_input
from .forecast import ForecastEvaluation, ForecastTask
from .memory import AddingEvaluation, AddingTask, CopyEvaluation, CopyTask
from .registry import TASKS, USER_SERIES, Setting, TaskSpec, build_task
from .text import MAX_TEXT_LENGTH, CharEvaluation, CharTask
from .tutorial import TutorialEvaluation, TutorialTask

__all__ = [
    "MAX_TEXT_LENGTH",
    "TASKS",
    "USER_SERIES",
    "AddingEvaluation",
    "AddingTask",
    "CharEvaluation",
    "CharTask",
    "CopyEvaluation",
    "CopyTask",
    "Evaluation",
    "Example",
    "ForecastEvaluation",
    "ForecastTask",
    "Setting",
    "Task",
    "TaskSpec",
    "TutorialEvaluation",
    "TutorialTask",
    "build_task",
    "example_input",
]
