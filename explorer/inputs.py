"""Input sequences for the Step-through page: synthetic waves, random walks, typed numbers and
text, windows of real series, and the initial state ``h_0`` / ``c_0``.

Each signal builder returns a 1-D ``(T,)`` float32 signal; :func:`to_features` turns it into the
``(T, input_size)`` tensor a model reads. :func:`text_one_hot` builds a ``(T, V)`` input
directly, one feature per character of the text's alphabet. Every builder takes a ``seed``
where it draws random numbers, so the same arguments give the same sequence.
"""

from __future__ import annotations

import math
import re

import numpy as np
import torch

from .config import LIMITS, MAX_SEQUENCE_LENGTH
from .datasets import load_series

MAX_TYPED_LENGTH = 500
WAVES = ("sine", "square", "sawtooth")
INITIAL_STATES = ("zeros", "random", "typed")
RANDOM_STATE_SCALE = 0.5  # std of a "random" h_0: inside tanh's unsaturated range
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_VISIBLE = {" ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍", "\u00a0": "⍽"}


def wave(
    kind: str,
    T: int,
    *,
    cycles: float = 2.0,
    amplitude: float = 1.0,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """``(T,)`` samples of a periodic wave with ``cycles`` periods over the ``T`` steps, plus
    Gaussian noise of standard deviation ``noise`` (seeded).

    With the phase ``p_t = cycles · t / T`` (in periods, ``t = 0 … T-1``):

    - ``"sine"``: ``amplitude · sin(2π p_t)``
    - ``"square"``: ``+amplitude`` in the first half of each period, ``-amplitude`` in the second
      (the sign of the sine; scipy's ``square``)
    - ``"sawtooth"``: rises linearly from ``-amplitude`` to ``+amplitude`` over each period, then
      drops (scipy's ``sawtooth``); values lie in ``[-amplitude, amplitude)``

    Raises:
        ValueError: unknown ``kind``; ``T`` outside 1 … ``MAX_SEQUENCE_LENGTH``; a non-finite
            ``cycles`` or ``amplitude``; a negative or non-finite ``noise``.
    """
    if kind not in WAVES:
        raise ValueError(f"wave kind must be one of {list(WAVES)}, got {kind!r}")
    _check_length(T)
    _check_finite(cycles=cycles, amplitude=amplitude)
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a standard deviation >= 0, got {noise}")
    t = np.arange(T)
    if kind == "sine":
        signal = amplitude * np.sin(2 * np.pi * cycles * t / T)
    else:
        frac = np.mod(cycles * t / T, 1.0)  # (T,) position inside the current period, [0, 1)
        if kind == "square":
            signal = amplitude * np.where(frac < 0.5, 1.0, -1.0)
        else:
            signal = amplitude * (2 * frac - 1)
    signal += noise * np.random.default_rng(seed).standard_normal(T)
    return signal.astype(np.float32)


def sine(
    T: int, *, cycles: float = 2.0, amplitude: float = 1.0, noise: float = 0.0, seed: int = 0
) -> np.ndarray:
    """``(T,)`` samples of ``amplitude · sin(2π · cycles · t / T)`` plus Gaussian noise of
    standard deviation ``noise`` (seeded). Same as ``wave("sine", ...)``.

    Raises:
        ValueError: ``T`` outside 1 … ``MAX_SEQUENCE_LENGTH``, or a bad ``cycles``,
            ``amplitude`` or ``noise`` (see :func:`wave`).
    """
    return wave("sine", T, cycles=cycles, amplitude=amplitude, noise=noise, seed=seed)


def random_walk(T: int, *, step: float = 0.1, seed: int = 0) -> np.ndarray:
    """``(T,)`` random walk ``x_0 = 0, x_t = x_{t-1} + step · ε_t`` with ``ε_t ~ N(0, 1)``
    (seeded): a series with no cycle whose next value is the last one plus noise.

    Raises:
        ValueError: ``T`` outside 1 … ``MAX_SEQUENCE_LENGTH``; a negative or non-finite ``step``.
    """
    _check_length(T)
    if not (math.isfinite(step) and step >= 0):
        raise ValueError(f"step must be a standard deviation >= 0, got {step}")
    steps = step * np.random.default_rng(seed).standard_normal(T - 1)  # (T-1,)
    return np.concatenate([[0.0], np.cumsum(steps)]).astype(np.float32)


def parse_numbers(text: str) -> np.ndarray:
    """Parse a typed list such as ``"0.5, 1, -2"`` or ``"1 2 3"`` into a ``(T,)`` float32 array.

    Separators: commas, semicolons, whitespace. Raises ``ValueError`` naming the first token
    that is not a finite number (or does not fit in float32, beyond ±3.4e38), or if the list
    is empty or longer than ``MAX_TYPED_LENGTH``.
    """
    tokens = [tok for tok in re.split(r"[,;\s]+", text.strip()) if tok]
    if not tokens:
        raise ValueError("type at least one number, e.g. 0.5, 1, -0.3")
    if len(tokens) > MAX_TYPED_LENGTH:
        raise ValueError(f"at most {MAX_TYPED_LENGTH} typed numbers, got {len(tokens)}")
    values = []
    for k, tok in enumerate(tokens, start=1):
        try:
            v = float(tok)
        except ValueError:
            raise ValueError(f"item {k}, {tok!r}, is not a number") from None
        if not np.isfinite(v):
            raise ValueError(f"item {k}, {tok!r}, is not a finite number")
        if abs(v) > _FLOAT32_MAX:
            raise ValueError(f"item {k}, {tok!r}, is beyond float32's range (±3.4e38)")
        values.append(v)
    return np.asarray(values, dtype=np.float32)


def text_one_hot(
    text: str, *, max_length: int = MAX_TYPED_LENGTH
) -> tuple[torch.Tensor, list[str]]:
    """One-hot encode ``text`` character by character over its own alphabet.

    The alphabet is the sorted list of the distinct characters of ``text`` (code-point order,
    so ``" "`` and digits come before letters and ``"A"`` before ``"a"``); ``V`` is its size.
    Row ``t`` of ``x`` has a single 1 at the alphabet position of ``text[t]``.

    Returns:
        ``(x, alphabet)``: ``x`` a float32 tensor of shape ``(T, V)`` with ``T = len(text)``,
        and ``alphabet`` the ``V`` characters in feature order (label them with
        :func:`describe_char`).

    Raises:
        ValueError: empty text; more than ``max_length`` (or ``MAX_SEQUENCE_LENGTH``)
            characters; more than 256 distinct characters (the largest ``input_size``).
    """
    if not text:
        raise ValueError("type at least one character")
    if len(text) > max_length:
        raise ValueError(f"at most {max_length} characters, got {len(text)}")
    _check_length(len(text))
    alphabet = sorted(set(text))
    max_v = LIMITS["input_size"][1]
    if len(alphabet) > max_v:
        raise ValueError(
            f"at most {max_v} distinct characters (the largest input_size), got {len(alphabet)}"
        )
    position = {c: k for k, c in enumerate(alphabet)}
    index = torch.tensor([position[c] for c in text])  # (T,)
    x = torch.nn.functional.one_hot(index, len(alphabet)).to(torch.float32)  # (T, V)
    return x, alphabet


def describe_char(c: str) -> str:
    """A label for one character that stays visible on an axis: ``" "`` -> ``"␣"``,
    ``"\\n"`` -> ``"⏎"``, ``"\\t"`` -> ``"⇥"``, ``"\\r"`` -> ``"␍"``, no-break space ->
    ``"⍽"``, other control characters -> their Unicode control picture (``"\\x00"`` ->
    ``"␀"``), other invisible spaces -> ``"U+XXXX"``; any other character is returned as is.

    Raises:
        ValueError: ``c`` is not exactly one character.
    """
    if not isinstance(c, str) or len(c) != 1:
        raise ValueError(f"expected a single character, got {c!r}")
    if c in _VISIBLE:
        return _VISIBLE[c]
    if ord(c) < 0x20:
        return chr(0x2400 + ord(c))  # Unicode "control pictures" block
    if ord(c) == 0x7F:
        return "␡"
    if c.isspace() or not c.isprintable():
        return f"U+{ord(c):04X}"
    return c


def initial_state(
    kind: str, shape: tuple[int, ...], *, seed: int = 0, text: str = ""
) -> torch.Tensor:
    """The initial state ``h_0`` (or ``c_0``) of a recurrent module, a float32 tensor of
    ``shape``, typically ``(num_layers · D, H_out)`` (``D`` directions) or with a batch
    dimension ``(num_layers · D, B, H_out)``.

    - ``"zeros"``: all zeros, PyTorch's default when no state is passed.
    - ``"random"``: standard normal times 0.5 (``RANDOM_STATE_SCALE``), seeded.
    - ``"typed"``: :func:`parse_numbers` of ``text``: one number fills the whole tensor, or
      exactly ``shape[-1]`` numbers (one per unit) are repeated for every layer / direction.

    Raises:
        ValueError: unknown ``kind``; ``shape`` not a non-empty tuple of positive integers;
            for ``"typed"``, text that :func:`parse_numbers` rejects or a count of numbers other
            than 1 or ``shape[-1]``.
    """
    if kind not in INITIAL_STATES:
        raise ValueError(f"initial state must be one of {list(INITIAL_STATES)}, got {kind!r}")
    shape = tuple(shape)
    if not shape or not all(_is_int(n) and n > 0 for n in shape):
        raise ValueError(f"shape must be a non-empty tuple of positive integers, got {shape}")
    if kind == "zeros":
        return torch.zeros(shape)
    if kind == "random":
        generator = torch.Generator().manual_seed(seed)
        return RANDOM_STATE_SCALE * torch.randn(shape, generator=generator)
    values = torch.from_numpy(parse_numbers(text))  # (1,) or (H,)
    if len(values) == 1:
        return torch.full(shape, float(values[0]))
    if len(values) != shape[-1]:
        raise ValueError(
            f"type 1 number (for every unit) or {shape[-1]} numbers (one per "
            f"unit), got {len(values)}"
        )
    return values.expand(shape).clone()  # (..., H) the same row for every layer / direction


def series_window(key: str, start: int, length: int, *, standardise: bool = True) -> np.ndarray:
    """``(length,)`` values of a shipped series from position ``start``, standardised over the
    window (mean 0, standard deviation 1) unless ``standardise`` is False, so that the values
    fall where tanh and sigmoid are not saturated.

    Raises:
        ValueError: unknown series, or a window that does not fit inside it.
    """
    values = load_series(key).to_numpy(np.float32)
    _check_length(length)
    if start < 0 or start + length > len(values):
        raise ValueError(
            f"the window {start}…{start + length - 1} does not fit in the series "
            f"(positions 0…{len(values) - 1})"
        )
    w = values[start : start + length].copy()
    return standardised(w) if standardise else w


def standardised(values: np.ndarray) -> np.ndarray:
    """``(values - mean) / std`` (std 0 counts as 1): mean 0 and standard deviation 1, so that
    the values fall where tanh and sigmoid are not saturated; computed in ``values``' dtype."""
    return (values - values.mean()) / (values.std() or 1.0)


def column_signal(values: np.ndarray, column: str) -> np.ndarray:
    """A CSV column's ``(T,)`` numbers as a float32 signal, standardised (in float64: no
    overflow) as :func:`series_window` does a shipped series.

    Raises:
        ValueError: more than ``MAX_SEQUENCE_LENGTH`` values, or values so large that the
            standardised ones are not finite or exceed 1e6 in size.
    """
    values = np.asarray(values, dtype=np.float64)
    if len(values) > MAX_SEQUENCE_LENGTH:
        raise ValueError(
            f"the column has {len(values):,} values; the limit is {MAX_SEQUENCE_LENGTH:,}"
        )
    values = standardised(values)
    if not np.isfinite(values).all() or np.abs(values).max() > 1e6:
        raise ValueError(f"the column {column!r} has values too large to standardise")
    return values.astype(np.float32)


def to_features(signal: np.ndarray, input_size: int) -> torch.Tensor:
    """``(T,)`` signal to the ``(T, input_size)`` model input ``x_t = [s_t, 0, …, 0]``: the
    signal is feature 0, any further features are zero."""
    x = torch.zeros(len(signal), input_size)
    x[:, 0] = torch.tensor(signal, dtype=torch.float32)
    return x


def _is_int(n) -> bool:
    return isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))


def _check_length(T: int) -> None:
    if not _is_int(T):
        raise ValueError(f"sequence length must be a whole number, got {T!r}")
    if not 1 <= T <= MAX_SEQUENCE_LENGTH:
        raise ValueError(f"sequence length must be between 1 and {MAX_SEQUENCE_LENGTH}, got {T}")


def _check_finite(**values: float) -> None:
    for name, v in values.items():
        if not math.isfinite(v):
            raise ValueError(f"{name} must be a finite number, got {v}")
