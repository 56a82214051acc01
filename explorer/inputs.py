"""Input sequences for the Step-through page: synthetic waves, typed numbers, real windows.

Each builder returns a 1-D ``(T,)`` float32 signal; :func:`to_features` turns it into the
``(T, input_size)`` tensor a model reads.
"""
from __future__ import annotations

import re

import numpy as np
import torch

from .config import MAX_SEQUENCE_LENGTH
from .tasks import load_series

MAX_TYPED_LENGTH = 500


def sine(T: int, *, cycles: float = 2.0, amplitude: float = 1.0, noise: float = 0.0,
         seed: int = 0) -> np.ndarray:
    """``(T,)`` samples of ``amplitude · sin(2π · cycles · t / T)`` plus Gaussian noise of
    standard deviation ``noise`` (seeded).

    Raises:
        ValueError: ``T`` outside 1 … ``MAX_SEQUENCE_LENGTH``.
    """
    _check_length(T)
    t = np.arange(T)
    wave = amplitude * np.sin(2 * np.pi * cycles * t / T)
    wave += noise * np.random.default_rng(seed).standard_normal(T)
    return wave.astype(np.float32)


def parse_numbers(text: str) -> np.ndarray:
    """Parse a typed list such as ``"0.5, 1, -2"`` or ``"1 2 3"`` into a ``(T,)`` array.

    Separators: commas, semicolons, whitespace. Raises ``ValueError`` naming the first token
    that is not a finite number, or if the list is empty or longer than ``MAX_TYPED_LENGTH``.
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
        values.append(v)
    return np.asarray(values, dtype=np.float32)


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
            f"(positions 0…{len(values) - 1})")
    w = values[start:start + length].copy()
    if standardise:
        w = (w - w.mean()) / (w.std() or 1.0)
    return w


def to_features(signal: np.ndarray, input_size: int) -> torch.Tensor:
    """``(T,)`` signal to the ``(T, input_size)`` model input ``x_t = [s_t, 0, …, 0]``: the
    signal is feature 0, any further features are zero."""
    x = torch.zeros(len(signal), input_size)
    x[:, 0] = torch.tensor(signal, dtype=torch.float32)
    return x


def _check_length(T: int) -> None:
    if not 1 <= T <= MAX_SEQUENCE_LENGTH:
        raise ValueError(f"sequence length must be between 1 and {MAX_SEQUENCE_LENGTH}, got {T}")
