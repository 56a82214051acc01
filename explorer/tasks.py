"""Training tasks for the explorer: a registry (``TASKS``), the tasks, and the data they use.

Every task speaks one protocol (:class:`Task`), so a trainer needs no ``if`` per task:

* ``train_batch(batch_size, generator) -> (x, y)`` with ``x`` float32 ``(W, B, input_size)``;
* ``evaluate(model) -> dict`` with at least ``val_loss`` (same loss and units as training),
  ``baseline`` (a simple rule's score in the same units, to draw beside the loss curve) and
  ``baseline_label`` (what that rule is, in a few words);
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
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np
import torch
import torch.nn.functional as F

from .config import LIMITS, MAX_SEQUENCE_LENGTH
from .datasets import SERIES, load_series, load_text, synthetic_sine
from .training import IGNORE_INDEX, SequenceLoss

MAX_TEXT_LENGTH = 200_000  # characters a CharTask accepts; the shipped text has 31,355


# --------------------------------------------------------------------------- the protocol


class Task(Protocol):
    """What every task offers a trainer and a page (see the module docstring for the rules)."""

    loss: str  # "mse" or "ce"
    target_steps: str  # "all" or "last"
    input_size: int
    output_size: int
    baseline_label: str

    def train_batch(
        self, batch_size: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]: ...

    def evaluate(self, model: torch.nn.Module) -> dict: ...


def _check_int(name: str, value, low: int, high: int | None = None) -> int:
    """``value`` as an ``int`` if it is a whole number in ``[low, high]``, else ValueError."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{name} must be a whole number {bound}, got {value!r}")
    return int(value)


def _check_fraction(value: float) -> float:
    if not (isinstance(value, (int, float)) and 0 < value < 1):
        raise ValueError(f"val_fraction must be a number between 0 and 1, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------- forecasting


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
            plotting only: ``index[result["index"]]`` labels the forecasts. None: positions.

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

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float64)
        if self.values.ndim != 1 or not np.isfinite(self.values).all():
            raise ValueError("the series must be one column of finite numbers")
        if self.index is not None and len(self.index) != len(self.values):
            raise ValueError(
                f"index has {len(self.index)} time stamps for {len(self.values)} values"
            )
        self.window = _check_int("window", self.window, 1)
        self.k = _check_int("k (the forecast horizon)", self.k, 1)
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
            self.season = _check_int("season", self.season, 1)
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
    def evaluate(self, model: torch.nn.Module) -> dict:
        """Run ``model`` over the whole series and score the validation part.

        Returns a dict with ``val_loss`` (MSE in normalised units, comparable with the training
        loss), ``baseline`` (the naive forecast's MSE in the same units), ``baseline_label``,
        ``rmse``, ``naive_rmse`` and ``seasonal_naive_rmse`` (in the series' unit;
        ``seasonal_naive_rmse`` and ``seasonal_naive_loss`` — its normalised MSE — are None
        without a season), and for plotting ``index`` (positions in ``values`` being forecast),
        ``truth``, ``prediction``, ``naive`` and ``seasonal_naive`` (None without a season)
        arrays in the series' unit.
        """
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
        result = {
            "val_loss": val_loss,
            "rmse": float(np.sqrt(np.mean((prediction - truth) ** 2))),
            "naive_rmse": float(np.sqrt(naive_mse)),
            "index": level_idx,
            "truth": truth,
            "prediction": prediction,
            "naive": naive,
            "baseline": naive_mse / self.std**2,
            "baseline_label": self.baseline_label,
            "seasonal_naive_rmse": None,
            "seasonal_naive_loss": None,
            "seasonal_naive": None,
        }
        if self.season is not None:
            seasonal = self.values[level_idx - self._season_lag]
            seasonal_mse = float(np.mean((seasonal - truth) ** 2))
            result.update(
                seasonal_naive=seasonal,
                seasonal_naive_rmse=math.sqrt(seasonal_mse),
                seasonal_naive_loss=seasonal_mse / self.std**2,
            )
        return result


# --------------------------------------------------------------------------- memory


def _fixed_generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(_check_int("seed", seed, 0, LIMITS["seed"][1]))


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

    def __post_init__(self) -> None:
        self.lag = _check_int("lag (the sequence length)", self.lag, 2, MAX_SEQUENCE_LENGTH)
        self.val_size = _check_int("val_size", self.val_size, 1, 100_000)
        self.val_x, self.val_y = self._draw(self.val_size, _fixed_generator(self.seed))

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
    def evaluate(self, model: torch.nn.Module) -> dict:
        """Score the fixed validation set: ``val_loss`` (MSE at the last step), ``baseline``
        (MSE of always answering 1.0 on this set, ≈ 1/6), ``baseline_label``, and
        ``prediction`` and ``truth`` arrays ``(val_size,)`` for a scatter plot."""
        out = model(self.val_x)[-1:]  # (1, N, 1)
        truth = self.val_y.double().flatten()  # (N,)
        pred = out.double().flatten()
        return {
            "val_loss": float(((pred - truth) ** 2).mean()),
            "baseline": float(((1.0 - truth) ** 2).mean()),
            "baseline_label": self.baseline_label,
            "prediction": pred.numpy(),
            "truth": truth.numpy(),
        }


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

    def __post_init__(self) -> None:
        self.lag = _check_int("lag", self.lag, 1, MAX_SEQUENCE_LENGTH)
        self.n_symbols = _check_int("n_symbols", self.n_symbols, 2, LIMITS["input_size"][1] - 1)
        self.seq_len = _check_int("seq_len", self.seq_len, 1, MAX_SEQUENCE_LENGTH)
        self.val_size = _check_int("val_size", self.val_size, 1, 100_000)
        if self.length > MAX_SEQUENCE_LENGTH:
            raise ValueError(
                f"2 * seq_len + lag must be at most {MAX_SEQUENCE_LENGTH} steps, got {self.length}"
            )
        self.input_size = self.n_symbols + 1
        self.output_size = self.n_symbols
        self.val_x, self.val_y = self._draw(self.val_size, _fixed_generator(self.seed))

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
    def evaluate(self, model: torch.nn.Module) -> dict:
        """Score the fixed validation set: ``val_loss`` (cross-entropy over the recall steps,
        nats per symbol), ``accuracy`` (share of symbols recalled), ``sequence_accuracy``
        (share of sequences recalled without a mistake), ``baseline`` ``ln(n_symbols)``,
        ``baseline_label``, ``chance_accuracy`` ``1 / n_symbols``, ``position_accuracy``
        ``(seq_len,)`` (share right at each recall position), and ``shown`` and ``recalled``,
        int64 ``(N, seq_len)``: the symbols shown and the model's most likely answers."""
        logits = model(self.val_x)  # (T, N, V)
        L = self.seq_len
        recalled = logits[-L:].argmax(-1)  # (L, N)
        right = recalled == self.val_y[-L:]  # (L, N)
        return {
            "position_accuracy": right.double().mean(1).numpy(),
            "shown": self.val_y[-L:].T.numpy(),
            "recalled": recalled.T.numpy(),
            "val_loss": float(SequenceLoss.for_task(self)(logits, self.val_y)),
            "accuracy": float(right.double().mean()),
            "sequence_accuracy": float(right.all(0).double().mean()),
            "baseline": math.log(self.n_symbols),
            "baseline_label": self.baseline_label,
            "chance_accuracy": 1 / self.n_symbols,
        }


# --------------------------------------------------------------------------- text


@dataclass
class CharTask:
    """A character-level language model: read a text one character at a time, predict the next.

    The alphabet is the sorted distinct characters of the whole ``text`` (code-point order, as
    :func:`explorer.inputs.text_one_hot`); ``V`` is its size, the model's ``input_size`` and
    ``output_size``. Inputs are one-hot float32 ``(W, B, V)``; targets are the next characters'
    indices, int64 ``(W, B)``; the loss is cross-entropy over the model's ``V`` logits at every
    step (``loss = "ce"``, ``target_steps = "all"``). The text is split in time: the first
    ``1 - val_fraction`` trains, the rest is scored in non-overlapping windows of ``window``
    characters, each read from a zero state as in training. A uniform guess scores
    ``ln(V)`` nats per character.

    Args:
        text: the training text (2 or more distinct characters, at most ``MAX_TEXT_LENGTH``).
        window: characters per training sample.
        val_fraction: the last share of the text held out for validation.

    Raises:
        ValueError: a text too short for ``window`` and ``val_fraction`` (both parts need
            ``window + 1`` characters), too long, with fewer than 2 or more than 256 distinct
            characters; a bad ``window`` or ``val_fraction``.
    """

    text: str
    window: int = 64
    val_fraction: float = 0.1

    loss: ClassVar[str] = "ce"
    target_steps: ClassVar[str] = "all"
    baseline_label: ClassVar[str] = "uniform guess, ln(V)"

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError(f"text must be a string, got {type(self.text).__name__}")
        self.window = _check_int("window", self.window, 1, MAX_SEQUENCE_LENGTH)
        self.val_fraction = _check_fraction(self.val_fraction)
        if len(self.text) > MAX_TEXT_LENGTH:
            raise ValueError(
                f"text must have at most {MAX_TEXT_LENGTH:,} characters, got {len(self.text):,}"
            )
        self.alphabet = sorted(set(self.text))
        V = len(self.alphabet)
        if not 2 <= V <= LIMITS["input_size"][1]:
            raise ValueError(
                f"text must use between 2 and {LIMITS['input_size'][1]} distinct "
                f"characters, got {V}"
            )
        self.input_size = self.output_size = V
        self._position = {c: i for i, c in enumerate(self.alphabet)}
        self.n_train = round(len(self.text) * (1 - self.val_fraction))
        n_val = len(self.text) - self.n_train
        if min(self.n_train, n_val) < self.window + 1:
            raise ValueError(
                f"text too short: {len(self.text)} characters split {self.n_train} / {n_val} "
                f"(val_fraction {self.val_fraction:g}), and each part needs at least "
                f"window + 1 = {self.window + 1}; use a longer text or a smaller window"
            )
        self.indices = self.encode(self.text)  # (N,)
        n_windows = (n_val - 1) // self.window
        idx = (
            self.n_train
            + torch.arange(n_windows)[None, :] * self.window
            + torch.arange(self.window + 1)[:, None]
        )  # (W+1, n_windows)
        seq = self.indices[idx]
        self.val_x, self.val_y = self.one_hot(seq[:-1]), seq[1:]  # (W, N, V), (W, N)

    def encode(self, text: str) -> torch.Tensor:
        """int64 ``(len(text),)`` alphabet positions. Raises ValueError on a character outside
        the alphabet."""
        unknown = sorted(set(text) - set(self._position))
        if unknown:
            raise ValueError(f"characters not in this text's alphabet: {unknown!r}")
        return torch.tensor([self._position[c] for c in text], dtype=torch.int64)

    def decode(self, indices) -> str:
        """The characters at the alphabet positions ``indices``."""
        return "".join(self.alphabet[int(i)] for i in torch.as_tensor(indices).flatten())

    def one_hot(self, indices: torch.Tensor) -> torch.Tensor:
        """float32 ``(*indices.shape, V)``."""
        return F.one_hot(indices, len(self.alphabet)).to(torch.float32)

    def train_batch(self, batch_size: int, generator: torch.Generator):
        """``(x, y)``: one-hot float32 ``x`` ``(window, B, V)`` of training-part windows and
        int64 ``y`` ``(window, B)``, each step's next character."""
        starts = torch.randint(0, self.n_train - self.window, (batch_size,), generator=generator)
        seq = self.indices[starts[None, :] + torch.arange(self.window + 1)[:, None]]  # (W+1, B)
        return self.one_hot(seq[:-1]), seq[1:]

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module) -> dict:
        """Score the held-out text: ``val_loss`` (cross-entropy, nats per character),
        ``bits_per_char``, ``accuracy`` (next character right), ``baseline`` ``ln(V)``,
        ``baseline_label``, and ``unigram_loss``: the cross-entropy of always predicting the
        training part's character frequencies (add-one smoothed), a stronger baseline."""
        logits = model(self.val_x)  # (W, N, V)
        val_loss = float(SequenceLoss.for_task(self)(logits, self.val_y))
        counts = torch.bincount(self.indices[: self.n_train], minlength=len(self.alphabet))
        log_freq = torch.log((counts + 1.0).double() / (counts.sum() + len(self.alphabet)))  # (V,)
        return {
            "val_loss": val_loss,
            "bits_per_char": val_loss / math.log(2),
            "accuracy": float((logits.argmax(-1) == self.val_y).double().mean()),
            "baseline": math.log(len(self.alphabet)),
            "baseline_label": self.baseline_label,
            "unigram_loss": float(-log_freq[self.val_y].mean()),
        }

    @torch.no_grad()
    def sample(
        self,
        model: torch.nn.Module,
        length: int = 200,
        temperature: float = 1.0,
        seed: int = 0,
        prime: str | None = None,
    ) -> str:
        """Generate ``length`` characters after ``prime`` and return them (without ``prime``).

        The model reads ``prime`` (default: the text's first character), then repeatedly draws
        the next character from ``softmax(logits / temperature)`` and reads it. A model with
        ``rnn`` and ``head`` (:class:`explorer.models.SequenceModel`) carries its state
        forward; any other module is re-run over the last ``window`` characters each step.
        The same model, settings and ``seed`` give the same text.

        ``temperature`` 1 samples the model's own distribution, above 1 flattens it towards
        uniform, below 1 sharpens it; as it approaches 0 every draw becomes the most likely
        character (greedy decoding, which tends to repeat a phrase), exact ties being broken at
        random. Computed in float64, so even tiny temperatures stay finite.

        Raises:
            ValueError: ``length`` outside 1 … ``MAX_SEQUENCE_LENGTH``, ``temperature`` not a
                positive finite number, an empty ``prime`` or one with unknown characters.
        """
        length = _check_int("length", length, 1, MAX_SEQUENCE_LENGTH)
        if not (
            isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0
        ):
            raise ValueError(f"temperature must be a positive number, got {temperature!r}")
        prime = self.text[0] if prime is None else prime
        if not prime:
            raise ValueError("prime must have at least one character")
        context = self.encode(prime)  # (P,)
        generator = _fixed_generator(seed)
        stateful = hasattr(model, "rnn") and hasattr(model, "head")
        state = None

        def next_logits(new: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
            nonlocal state
            if stateful:
                out, state = model.rnn(self.one_hot(new)[:, None], state)  # (n, 1, H)
                return model.head(out[-1, 0])  # (V,)
            return model(self.one_hot(history[-self.window :])[:, None])[-1, 0]  # (V,)

        logits = next_logits(context, context)
        drawn = []
        for _ in range(length):
            probs = torch.softmax(logits.double() / temperature, dim=-1)  # (V,)
            nxt = torch.multinomial(probs, 1, generator=generator)  # (1,)
            drawn.append(int(nxt))
            context = torch.cat([context, nxt])
            logits = next_logits(nxt, context)
        return self.decode(drawn)


# --------------------------------------------------------------------------- tutorial


@dataclass
class TutorialTask:
    """The tutorial's example: one fixed sequence of 5 random steps, input 10, output 1, MSE.

    ``x`` ``(5, 1, 10)`` and ``y`` ``(5, 1, 1)`` are the numbers that
    ``torch.manual_seed(seed); x = torch.randn(5, 1, 10); y = torch.randn(5, 1, 1)`` gives, drawn
    from a private generator so the global random state is untouched. There is no held-out
    data: the model learns this one sequence by heart, and ``evaluate`` scores it again.
    """

    seed: int = 0

    loss: ClassVar[str] = "mse"
    target_steps: ClassVar[str] = "all"
    input_size: ClassVar[int] = 10
    output_size: ClassVar[int] = 1
    baseline_label: ClassVar[str] = "the mean of the five targets"

    def __post_init__(self) -> None:
        generator = _fixed_generator(self.seed)
        self.x = torch.randn(5, 1, 10, generator=generator)  # (T, B, in)
        self.y = torch.randn(5, 1, 1, generator=generator)  # (T, B, out)

    def train_batch(self, batch_size: int, generator: torch.Generator):
        """The fixed ``(x, y)`` every time; ``batch_size`` and ``generator`` are ignored (the
        tutorial trains on a batch of one sequence)."""
        return self.x, self.y

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module) -> dict:
        """``val_loss`` (MSE on the sequence itself), ``baseline`` (MSE of answering the
        targets' mean), ``baseline_label``, and ``prediction`` and ``truth`` ``(5,)``."""
        pred = model(self.x).double().flatten()  # (5,)
        truth = self.y.double().flatten()
        return {
            "val_loss": float(((pred - truth) ** 2).mean()),
            "baseline": float(((truth - truth.mean()) ** 2).mean()),
            "baseline_label": self.baseline_label,
            "prediction": pred.numpy(),
            "truth": truth.numpy(),
        }


# --------------------------------------------------------------------------- one example


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


# --------------------------------------------------------------------------- the registry


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
        season=_check_int("period", period, 1),
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
        _check_fraction(val_fraction),
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
