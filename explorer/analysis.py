"""Summaries of a trace for the teaching views: PCA trajectory, gate saturation, downsampling."""

from __future__ import annotations

import math

import numpy as np

MAX_DISPLAY_STEPS = 300  # heatmaps above this many steps show every k-th step


def pca_2d(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project ``(T, H)`` states onto their first two principal components.

    Returns ``(coords (T, 2), explained (2,))``: the centred states' coordinates along the
    top two right-singular vectors, and each component's share of the total variance (0…1).
    With H = 1 or T = 1 the second coordinate (and its share) is 0; non-finite states (a
    diverging ReLU RNN) give zeros rather than an SVD error.
    """
    X = np.asarray(states, dtype=np.float64)
    X = X - X.mean(axis=0, keepdims=True)
    coords = np.zeros((X.shape[0], 2))
    explained = np.zeros(2)
    if X.shape[0] < 2 or not np.any(X) or not np.isfinite(X).all():
        return coords, explained
    U, S, _ = np.linalg.svd(X, full_matrices=False)
    k = min(2, len(S))
    coords[:, :k] = U[:, :k] * S[:k]
    # a component's sign is arbitrary; fix it so the path starts on the negative side
    for j in range(k):
        if coords[0, j] > 0:
            coords[:, j] *= -1
    explained[:k] = S[:k] ** 2 / np.sum(S**2)
    return coords, explained


def saturation(
    gates: dict[str, np.ndarray], low: float = 0.1, high: float = 0.9
) -> dict[str, tuple[float, float]]:
    """For each sigmoid gate (any shape), the share of values below ``low`` (closed) and above
    ``high`` (open): ``{gate: (share_low, share_high)}``, shares in 0…1.

    A forget gate mostly above 0.9 holds its memory; mostly below 0.1 it clears it. Tanh
    quantities (``g``, ``n``) are left out: their range is −1…1, not a gate's 0…1.
    """
    out = {}
    for name, values in gates.items():
        if name in ("g", "n"):
            continue
        v = np.asarray(values)
        out[name] = (float(np.mean(v < low)), float(np.mean(v > high)))
    return out


def display_stride(T: int, max_steps: int = MAX_DISPLAY_STEPS) -> int:
    """Show every k-th step so that at most ``max_steps`` columns are drawn (k ≥ 1)."""
    return max(1, math.ceil(T / max_steps))


SATURATION_EDGES = (0.1, 0.3, 0.7, 0.9)  # closed < 0.1 … 0.3–0.7 undecided … > 0.9 open


def gate_bands(
    gates: dict[str, np.ndarray], edges: tuple[float, ...] = SATURATION_EDGES
) -> dict[str, list[float]]:
    """For each sigmoid gate (any shape), the share of its values in each band between
    ``edges`` (0 … e1, e1 … e2, …, e_last … 1): ``{gate: [share, …]}``, ``len(edges) + 1``
    shares in 0…1 that sum to 1 (a value on an edge counts in the band above it).

    Unlike :func:`saturation`, never empty: a fresh cell's gates all sit in the middle band,
    which is itself the lesson (nothing has learnt to open or close yet). Tanh quantities
    (``g``, ``n``) are left out.
    """
    out = {}
    for name, values in gates.items():
        if name in ("g", "n"):
            continue
        v = np.asarray(values, dtype=np.float64).ravel()
        band = np.searchsorted(np.asarray(edges), v, side="right")  # 0 … len(edges)
        counts = np.bincount(band, minlength=len(edges) + 1)
        out[name] = (counts / max(v.size, 1)).tolist()
    return out
