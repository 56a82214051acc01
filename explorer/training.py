"""Resumable, seeded training of any model on any task, one chunk of steps at a time.

The trainer knows nothing of Streamlit: a page calls :meth:`Trainer.run` for a slice of time,
reads :attr:`Trainer.history`, and draws. Everything the run needs (model, optimiser, the
batch generator's state) lives on the object, so pausing between chunks and resuming gives the
same weights as one uninterrupted run, and the object can sit in ``st.session_state`` across
reruns.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
}


@dataclass(frozen=True)
class TrainConfig:
    """How to train. Defaults reach below the naive baseline on the shipped CO2 series in about
    two seconds on a laptop CPU (LSTM, hidden 16)."""

    steps: int = 300
    batch_size: int = 32
    lr: float = 1e-2  # Adam's 1e-3 is slow for a 300-step classroom demo; 1e-2 is stable here
    optimizer: str = "adam"
    clip_norm: float | None = 1.0  # gradient clipping by global norm; None for off
    eval_every: int = 10  # steps between validation scores
    seed: int = 0

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {self.optimizer!r}")
        if not (self.steps >= 1 and self.batch_size >= 1 and self.eval_every >= 1):
            raise ValueError("steps, batch_size and eval_every must be at least 1")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number, got {self.lr}")


class Trainer:
    """Train ``model`` on ``task`` (anything with ``train_batch(batch_size, generator)`` and
    ``evaluate(model) -> {"val_loss": ...}``) with mean-squared error.

    Attributes:
        step: optimiser steps taken so far.
        history: one dict per logged step: ``step``, ``train_loss`` (MSE of that step's batch)
            and, every ``eval_every`` steps, ``val_loss``.
        status: ``"ready"``, ``"running"``, ``"paused"``, ``"done"`` or ``"diverged"``.
        message: why training stopped when ``status == "diverged"``.
    """

    def __init__(self, model: torch.nn.Module, task, config: TrainConfig = TrainConfig()):
        self.model, self.task, self.config = model, task, config
        self.optimizer = OPTIMIZERS[config.optimizer](model.parameters(), lr=config.lr)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.loss_fn = torch.nn.MSELoss()
        self.step = 0
        self.history: list[dict] = []
        self.status = "ready"
        self.message = ""
        self.last_eval: dict | None = None
        self._finite = [p.detach().clone() for p in model.parameters()]  # last finite weights
        self.elapsed = 0.0  # seconds spent inside run()

    @property
    def done(self) -> bool:
        return self.status in ("done", "diverged")

    def _rollback(self) -> None:
        with torch.no_grad():
            for p, saved in zip(self.model.parameters(), self._finite):
                p.copy_(saved)

    def _train_step(self) -> bool:
        """One optimiser step. Returns False (and rolls back) if the loss is not finite."""
        x, y = self.task.train_batch(self.config.batch_size, self.generator)  # (W, B, 1) each
        self.model.train()
        loss = self.loss_fn(self.model(x), y)
        value = loss.item()
        if not math.isfinite(value):
            self._rollback()
            self.status = "diverged"
            advice = (f"Try a lower learning rate (now {self.config.lr:g})"
                      + (f" or a smaller gradient clip (now {self.config.clip_norm:g})"
                         if self.config.clip_norm else " or gradient clipping"))
            self.message = (
                f"The training loss became {value} at step {self.step + 1}, so training stopped "
                f"and the weights were rolled back to step {self.step}, the last with a finite "
                f"loss. {advice}, then Reset.")
            return False
        with torch.no_grad():
            for saved, p in zip(self._finite, self.model.parameters()):
                saved.copy_(p)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.clip_norm:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.clip_norm)
        self.optimizer.step()
        self.step += 1
        record = {"step": self.step, "train_loss": value}
        if self.step % self.config.eval_every == 0 or self.step == self.config.steps:
            self.model.eval()
            self.last_eval = self.task.evaluate(self.model)
            record["val_loss"] = self.last_eval["val_loss"]
        self.history.append(record)
        return True

    def run(self, max_steps: int | None = None, seconds: float | None = None) -> int:
        """Take steps until ``max_steps`` more were taken, ``seconds`` passed, or the budget
        (``config.steps``) is spent. Returns the number of steps taken in this call.

        Sets ``status`` to ``"done"`` at the end of the budget, ``"diverged"`` on a non-finite
        loss (see :attr:`message`); otherwise leaves it unchanged.
        """
        start, taken = time.perf_counter(), 0
        while self.step < self.config.steps and not self.done:
            if max_steps is not None and taken >= max_steps:
                break
            if seconds is not None and time.perf_counter() - start >= seconds:
                break
            if self._train_step():
                taken += 1
        if self.step >= self.config.steps and self.status != "diverged":
            self.status = "done"
        self.elapsed += time.perf_counter() - start
        return taken

    def evaluate(self) -> dict:
        """Validation scores and predictions of the current weights (see the task's
        ``evaluate``)."""
        self.model.eval()
        self.last_eval = self.task.evaluate(self.model)
        return self.last_eval
