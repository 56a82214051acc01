"""Memory tasks: the adding problem and delayed recall, whose answer must be carried across
many steps."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F

from ..config import LIMITS, MAX_SEQUENCE_LENGTH
from ..training import IGNORE_INDEX, SequenceLoss
from .base import Evaluation, check_int, fixed_generator, score


@dataclass(frozen=True, eq=False)
class AddingEvaluation(Evaluation):
    """The adding problem's score on its fixed validation set (:meth:`AddingTask.evaluate`).

    Attributes:
        val_loss: MSE of the model's answer at the last step.
        baseline: MSE of always answering 1.0 on this set (≈ 1/6).
        baseline_label: "always 1.0 (the expected sum)".
        prediction: float64 ``(N,)`` the model's answers, for a scatter plot.
        truth: float64 ``(N,)`` the sums of the two marked numbers.
    """

    prediction: np.ndarray
    truth: np.ndarray


@dataclass(frozen=True, eq=False)
class CopyEvaluation(Evaluation):
    """Delayed recall's score on its fixed validation set (:meth:`CopyTask.evaluate`).

    Shape legend: ``N`` validation sequences, ``L`` = ``seq_len`` recall positions.

    Attributes:
        val_loss: cross-entropy over the recall steps, nats per symbol.
        baseline: ``ln(n_symbols)``, the uniform guess's cross-entropy.
        baseline_label: "uniform guess, ln(n_symbols)".
        accuracy: share of symbols recalled right, in [0, 1].
        sequence_accuracy: share of sequences recalled without a mistake, in [0, 1].
        chance_accuracy: ``1 / n_symbols``, a uniform guess's accuracy.
        position_accuracy: float64 ``(L,)`` share right at each recall position.
        shown: int64 ``(N, L)`` the symbols shown.
        recalled: int64 ``(N, L)`` the model's most likely answers.
    """

    accuracy: float = score("accuracy")
    sequence_accuracy: float = score("sequences recalled")
    chance_accuracy: float
    position_accuracy: np.ndarray
    shown: np.ndarray
    recalled: np.ndarray


@dataclass
class AddingTask:
    """The adding problem (Hochreiter & Schmidhuber 1997, in the form of Le et al. 2015): add
    the two marked numbers of a sequence of ``lag`` random ones.

    Input channel 0 holds values ``U(0, 1)``; channel 1 holds a marker, 1 at exactly two steps —
    one in the first half (``t < lag // 2``), one in the second — and 0 elsewhere. The target is
    the sum of the two marked values, scored at the last step only (``target_steps = "last"``:
    compare ``model(x)[-1:]`` with ``y``), so the first value must be carried across up to
    ``lag - 1`` steps. Always answering 1.0, the expected sum, gives MSE ``Var(u1 + u2) = 1/6``.

    Args:
        lag: sequence length T (2 or more).
        seed: draws the fixed validation set.
        val_size: sequences in the validation set.

    Raises:
        ValueError: ``lag < 2`` or above ``MAX_SEQUENCE_LENGTH``, a bad seed or ``val_size``.
    """

    lag: int = 50
    seed: int = 0
    val_size: int = 512

    loss: ClassVar[str] = "mse"
    target_steps: ClassVar[str] = "last"
    input_size: ClassVar[int] = 2
    output_size: ClassVar[int] = 1
    baseline_label: ClassVar[str] = "always 1.0 (the expected sum)"
    evaluation_type: ClassVar[type[AddingEvaluation]] = AddingEvaluation

    def __post_init__(self) -> None:
        self.lag = check_int("lag (the sequence length)", self.lag, 2, MAX_SEQUENCE_LENGTH)
        self.val_size = check_int("val_size", self.val_size, 1, 100_000)
        self.val_x, self.val_y = self._draw(self.val_size, fixed_generator(self.seed))

    def _draw(self, batch: int, generator: torch.Generator):
        T, half = self.lag, self.lag // 2
        values = torch.rand(T, batch, generator=generator)  # (T, B)
        first = torch.randint(0, half, (batch,), generator=generator)  # (B,)
        second = torch.randint(half, T, (batch,), generator=generator)  # (B,)
        b = torch.arange(batch)
        markers = torch.zeros(T, batch)  # (T, B)
        markers[first, b] = 1.0
        markers[second, b] = 1.0
        x = torch.stack([values, markers], dim=-1)  # (T, B, 2)
        y = (values[first, b] + values[second, b]).view(1, batch, 1)  # (1, B, 1)
        return x, y

    def train_batch(self, batch_size: int, generator: torch.Generator):
        """``(x, y)``: float32 ``x`` ``(lag, batch_size, 2)`` and ``y`` ``(1, batch_size, 1)``,
        the target for the model's last output step."""
        return self._draw(batch_size, generator)

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module) -> AddingEvaluation:
        """Score the fixed validation set (the fields and their units:
        :class:`AddingEvaluation`)."""
        out = model(self.val_x)[-1:]  # (1, N, 1)
        truth = self.val_y.double().flatten()  # (N,)
        pred = out.double().flatten()
        return AddingEvaluation(
            val_loss=float(((pred - truth) ** 2).mean()),
            baseline=float(((1.0 - truth) ** 2).mean()),
            baseline_label=self.baseline_label,
            prediction=pred.numpy(),
            truth=truth.numpy(),
        )

    def nearer_number_loss(self) -> float:
        """The MSE of "remember only the nearer number" on the validation set: a network that
        carries the second marked value (at most ``lag / 2`` steps back) but not the first
        answers ``u2 + 0.5`` and scores ``mean((u1 - 0.5)²)`` ≈ Var(U(0,1)) = 1/12 ≈ 0.083,
        half the baseline. A vanilla RNN at lag 50 can get stuck there."""
        x = self.val_x  # (T, N, 2): values, markers
        first = x[:, :, 1].argmax(0)  # (N,) the first marked step (argmax returns the first max)
        u1 = x[first, torch.arange(x.shape[1]), 0].double()  # (N,)
        return float(((u1 - 0.5) ** 2).mean())


@dataclass
class CopyTask:
    """Delayed recall: see ``seq_len`` symbols, wait ``lag`` blank steps, then say them back in
    order.

    Each sequence has ``T = 2 · seq_len + lag`` steps and ``n_symbols + 1`` input channels:
    steps ``0 … seq_len-1`` show a symbol one-hot in channels ``0 … n_symbols-1``; the next
    ``lag`` steps are blank (all zeros); the last ``seq_len`` steps are the recall phase,
    marked by a 1 in channel ``n_symbols``. Symbol i is shown at step i and asked for at step
    ``seq_len + lag + i``, ``seq_len + lag`` steps later. It is classification (``loss =
    "ce"``: the model's ``n_symbols`` outputs are logits) scored on the recall phase only: the
    target ``y`` ``(T, B)`` is ``IGNORE_INDEX`` before it and the shown symbols' indices during
    it (``target_steps = "all"``, the mask doing the selecting). Guessing uniformly scores
    cross-entropy ``ln(n_symbols)`` and accuracy ``1 / n_symbols``.

    Args:
        lag: blank steps between the last symbol shown and the first recall step (1 or more).
        n_symbols: alphabet size V (2 or more).
        seq_len: symbols to remember (1 or more).
        seed: draws the fixed validation set.
        val_size: sequences in the validation set.

    Raises:
        ValueError: a setting below its minimum, a sequence longer than ``MAX_SEQUENCE_LENGTH``
            or more channels than the largest ``input_size``.
    """

    lag: int = 10
    n_symbols: int = 4
    seq_len: int = 3
    seed: int = 0
    val_size: int = 512

    loss: ClassVar[str] = "ce"
    target_steps: ClassVar[str] = "all"
    baseline_label: ClassVar[str] = "uniform guess, ln(n_symbols)"
    evaluation_type: ClassVar[type[CopyEvaluation]] = CopyEvaluation

    def __post_init__(self) -> None:
        self.lag = check_int("lag", self.lag, 1, MAX_SEQUENCE_LENGTH)
        self.n_symbols = check_int("n_symbols", self.n_symbols, 2, LIMITS["input_size"][1] - 1)
        self.seq_len = check_int("seq_len", self.seq_len, 1, MAX_SEQUENCE_LENGTH)
        self.val_size = check_int("val_size", self.val_size, 1, 100_000)
        if self.length > MAX_SEQUENCE_LENGTH:
            raise ValueError(
                f"2 * seq_len + lag must be at most {MAX_SEQUENCE_LENGTH} steps, got {self.length}"
            )
        self.input_size = self.n_symbols + 1
        self.output_size = self.n_symbols
        self.val_x, self.val_y = self._draw(self.val_size, fixed_generator(self.seed))

    @property
    def length(self) -> int:
        """Steps per sequence: shown symbols, blanks, recall phase."""
        return 2 * self.seq_len + self.lag

    def _draw(self, batch: int, generator: torch.Generator):
        L, n = self.seq_len, self.n_symbols
        symbols = torch.randint(0, n, (L, batch), generator=generator)  # (L, B)
        x = torch.zeros(self.length, batch, n + 1)  # (T, B, n+1)
        x[:L, :, :n] = F.one_hot(symbols, n).to(torch.float32)
        x[L + self.lag :, :, n] = 1.0  # the recall marker
        y = torch.full((self.length, batch), IGNORE_INDEX)  # (T, B)
        y[L + self.lag :] = symbols
        return x, y

    def train_batch(self, batch_size: int, generator: torch.Generator):
        """``(x, y)``: float32 ``x`` ``(T, B, n_symbols + 1)`` and int64 ``y`` ``(T, B)``,
        ``T = 2·seq_len + lag``: ``IGNORE_INDEX`` but for the last ``seq_len`` steps, which hold
        the symbols to recall."""
        return self._draw(batch_size, generator)

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module) -> CopyEvaluation:
        """Score the fixed validation set (the fields and their units:
        :class:`CopyEvaluation`)."""
        logits = model(self.val_x)  # (T, N, V)
        L = self.seq_len
        recalled = logits[-L:].argmax(-1)  # (L, N)
        right = recalled == self.val_y[-L:]  # (L, N)
        return CopyEvaluation(
            val_loss=float(SequenceLoss.for_task(self)(logits, self.val_y)),
            baseline=math.log(self.n_symbols),
            baseline_label=self.baseline_label,
            accuracy=float(right.double().mean()),
            sequence_accuracy=float(right.all(0).double().mean()),
            chance_accuracy=1 / self.n_symbols,
            position_accuracy=right.double().mean(1).numpy(),
            shown=self.val_y[-L:].T.numpy(),
            recalled=recalled.T.numpy(),
        )
