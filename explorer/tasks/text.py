"""A character-level language model: read a text one character at a time, predict the next,
and sample new text from the trained model."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F

from ..config import LIMITS, MAX_SEQUENCE_LENGTH
from ..training import SequenceLoss
from .base import Evaluation, check_fraction, check_int, fixed_generator, rule, score

MAX_TEXT_LENGTH = 200_000  # characters a CharTask accepts; the shipped text has 31,355


@dataclass(frozen=True, eq=False)
class CharEvaluation(Evaluation):
    """A character model's score on the held-out text (:meth:`CharTask.evaluate`).

    Attributes:
        val_loss: cross-entropy, nats per character.
        baseline: ``ln(V)``, a uniform guess's cross-entropy.
        baseline_label: "uniform guess, ln(V)".
        accuracy: share of next characters that are the model's most likely, in [0, 1].
        bits_per_char: ``val_loss / ln 2``, bits per character.
        unigram_loss: cross-entropy (nats per character) of always predicting the training
            part's character frequencies (add-one smoothed): a stronger baseline.
    """

    accuracy: float = score("accuracy")
    bits_per_char: float = score("bits per character")
    unigram_loss: float = rule("letter frequencies")


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
    evaluation_type: ClassVar[type[CharEvaluation]] = CharEvaluation

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError(f"text must be a string, got {type(self.text).__name__}")
        self.window = check_int("window", self.window, 1, MAX_SEQUENCE_LENGTH)
        self.val_fraction = check_fraction(self.val_fraction)
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
    def evaluate(self, model: torch.nn.Module) -> CharEvaluation:
        """Score the held-out text (the fields and their units: :class:`CharEvaluation`)."""
        logits = model(self.val_x)  # (W, N, V)
        val_loss = float(SequenceLoss.for_task(self)(logits, self.val_y))
        counts = torch.bincount(self.indices[: self.n_train], minlength=len(self.alphabet))
        log_freq = torch.log((counts + 1.0).double() / (counts.sum() + len(self.alphabet)))  # (V,)
        return CharEvaluation(
            val_loss=val_loss,
            baseline=math.log(len(self.alphabet)),
            baseline_label=self.baseline_label,
            accuracy=float((logits.argmax(-1) == self.val_y).double().mean()),
            bits_per_char=val_loss / math.log(2),
            unigram_loss=float(-log_freq[self.val_y].mean()),
        )

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
        length = check_int("length", length, 1, MAX_SEQUENCE_LENGTH)
        if not (
            isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0
        ):
            raise ValueError(f"temperature must be a positive number, got {temperature!r}")
        prime = self.text[0] if prime is None else prime
        if not prime:
            raise ValueError("prime must have at least one character")
        context = self.encode(prime)  # (P,)
        generator = fixed_generator(seed)
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
