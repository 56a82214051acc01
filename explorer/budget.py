"""What one request may cost, checked before the work starts.

Thirty students share one 2-core server, so no single request may take more than about
``CPU_SECONDS`` of its CPU or ``EXTRA_BYTES`` of memory above the server's baseline. The work a
request would cause is estimated from its sizes alone — a CSV's rows and fields; a model's
parameters × sequence length × batch; the points a chart sends — and compared with the caps
below, before anything is parsed, built or run. A request over a cap gets ``ValueError`` saying
what was asked, the cap, and what to lower.

The rates are measured on the project's 2-core machine (``benchmarks/budget.py`` prints them;
they were taken while other work shared the machine, so they lean slow, i.e. safe):

- tracing (``explorer.trace``): the fused forward reads every weight once per step, 0.4 to
  1.1 ns per parameter per step for the big models (the largest, 84 M parameters, took 14 s
  for the Step-through page at T = 400, 3.6 s at T = 64), plus about 0.1 ms per step;
- one training step (forward, backward, Adam): per step of the window, up to 2.5 ns per
  parameter plus 0.3 ns per parameter per sequence of the batch.

No torch or Streamlit here; parameter counts come from :func:`explorer.params.count_parameters`.
"""

from __future__ import annotations

import math

import numpy as np

CPU_SECONDS = 10.0  # the target for any one request
EXTRA_BYTES = 1 << 30  # the target for any one request: 1 GB above the baseline RSS

# ---- uploaded files (explorer.readers.read_series)
# Parsing costs about 2 s per million cells, plus ~7 ms per column (each column's numbers and
# dates are read separately): a 4 MB line of 2,000,000 fields ran 13 minutes and 12.8 GB.
MAX_CSV_ROWS = 1_000_000
MAX_CSV_COLUMNS = 200
MAX_CSV_CELLS = 2_000_000

# ---- models
TRACE_SECONDS = 4.0  # one trace; the Step-through page around it (charts, PCA, saturation) costs
# as much again: the largest model at T = 140 took 7-10 s of server CPU per page view
# one training step (on Compare, one round: a step of every cell): Pause and Stop wait for the
# step under way, then for the run's state to come back from its worker (below); 1 s let the
# largest allowed model take 8 s to pause
STEP_SECONDS = 0.5
# A run trains in a worker process in slices of a quarter of a second (explorer.workers), and
# its weights and optimiser state travel to the worker and back with every slice, pickled:
# 16 bytes a parameter with Adam (weights, gradients and Adam's two moments; 19 MB for Compare's
# three cells of 384 units, 1.2 M parameters), measured 100-200 MB/s each way
# on the shared machine. A GRU of 1024 units in 4 bidirectional layers (63 M parameters, 500 MB
# of state before Adam's first step) never finished one slice in 20 s, took 8.4 s to pause and
# 2.4 GB in the page process. So a trained model's state is capped: its trip costs the page
# process (one core for the whole class) about a tenth of a second per slice at most.
STATE_BYTES_PER_PARAMETER = 16
MAX_STATE_BYTES = 32_000_000  # 2 M parameters: 512 LSTM units, 768 GRU units, 2 layers of 384 LSTM
NS_PER_PARAMETER_STEP = 0.5  # trace, measured (see above)
NS_PER_STEP = 1e5  # trace, per time step and any model size (Python and kernel launches)
# one training step (forward, backward, Adam), CPU seconds of all threads: the weights are read
# once per step of the window and used once per sequence of the batch. Measured 0.4-2.8 ns a
# parameter per step plus 0.09-0.4 ns per sequence (one thread the low end, two threads on a
# shared machine the high end): 0.79 M parameters, window 50, batch 64 took 0.22-1.1 s
NS_PER_TRAINING_STEP = 2.5
NS_PER_TRAINING_SAMPLE = 0.3
BYTES_PER_FLOAT = 4

# ---- charts
MAX_CHART_POINTS = 5_000  # per line: a 200,000-point forecast chart sent 415 MB in 60 s


def _units(config) -> tuple[int, int]:
    """``(L·D, floats per step of one layer and direction)`` kept by a trace or a backward
    pass: h_t, c_t and the G gate blocks."""
    from .config import cell_spec, directions

    G = cell_spec(config.cell).G
    layers = config.num_layers * directions(config.bidirectional)
    per_step = (config.proj_size or config.hidden_size) + (G + 1) * config.hidden_size
    return layers, per_step


def _mb(n: float) -> str:
    return f"{n / 1e6:,.0f} MB"


def check_trace(config, T: int) -> None:
    """Refuse, before the model is built, a Step-through trace of ``T`` steps through the model
    ``config`` describes when it would take more than ``TRACE_SECONDS`` of CPU or
    ``EXTRA_BYTES`` of memory on the project's machine.

    Args:
        config: a :class:`explorer.config.CellConfig` (or anything with its fields).
        T: the sequence length, in steps.

    Raises:
        ValueError: the estimate is over a cap; the message gives the model's size, T, the
            estimated seconds or bytes, the cap, and the largest T this model is allowed.
    """
    from .params import model_parameters

    P = model_parameters(config)
    layers, per_step = _units(config)
    seconds = T * (P * NS_PER_PARAMETER_STEP + NS_PER_STEP) * 1e-9
    if seconds > TRACE_SECONDS:
        longest = max(
            1, math.floor(TRACE_SECONDS / ((P * NS_PER_PARAMETER_STEP + NS_PER_STEP) * 1e-9))
        )
        raise ValueError(
            f"stepping a model of {P:,} parameters through T = {T:,} steps would take about "
            f"{seconds:,.0f} s of the server's CPU; the limit is {TRACE_SECONDS:g} s: lower T "
            f"to {longest:,} or less, or choose a smaller model (hidden_size, num_layers, "
            f"bidirectional)"
        )
    nbytes = BYTES_PER_FLOAT * (P + T * layers * per_step)
    if nbytes > EXTRA_BYTES:
        raise ValueError(
            f"this view needs about {_mb(nbytes)} of memory, over the "
            f"{_mb(EXTRA_BYTES)} one request may use: lower T or the model's size"
        )


def check_training_step(config, window: int, batch_size: int) -> None:
    """Refuse training settings whose single optimiser step would take more than
    ``STEP_SECONDS`` of CPU (Pause and Stop wait for the step under way), whose weights and
    optimiser state would be more than ``MAX_STATE_BYTES`` (they travel to the training worker
    and back at every slice), or whose model, gradients, Adam's two moments and the activations
    of one batch would need more than ``EXTRA_BYTES``. For the Train page, before anything is
    built; :func:`check_training` for several models trained side by side (Compare).

    Args:
        config: a :class:`explorer.config.CellConfig` (or anything with its fields).
        window: time steps per training sequence (the task's window, lag or length).
        batch_size: sequences per step.

    Raises:
        ValueError: the estimate is over a cap; the message gives the model's size, the
            window and batch, the estimate, the cap, and what to lower.
    """
    check_training([config], window, batch_size)


def check_training(configs, window: int, batch_size: int) -> None:
    """:func:`check_training_step` for ``configs`` trained in lockstep (Compare: one round is
    one step of each): their steps' seconds, states and memory add up.

    Raises:
        ValueError: as :func:`check_training_step`; with several models, the figures are
            their sums.
    """
    from .params import model_parameters

    configs = list(configs)
    P = sum(model_parameters(c) for c in configs)
    what = (
        f"a model of {P:,} parameters"
        if len(configs) == 1
        else f"{len(configs)} models of {P:,} parameters in all"
    )
    per_window = P * window * 1e-9  # seconds per ns of rate
    seconds = per_window * (NS_PER_TRAINING_STEP + NS_PER_TRAINING_SAMPLE * batch_size)
    if seconds > STEP_SECONDS:
        fits = math.floor(
            (STEP_SECONDS / per_window - NS_PER_TRAINING_STEP) / NS_PER_TRAINING_SAMPLE
        )
        raise ValueError(
            f"one training step of {what} on {batch_size:,} sequences of "
            f"{window:,} steps would take about {seconds:,.1f} s of the server's CPU; the limit "
            f"is {STEP_SECONDS:g} s a step (so Pause and Stop answer at once): "
            + (
                f"lower the batch size to {fits:,}, the window, or "
                if fits >= 1
                else "even one sequence is too much: lower the window or "
            )
            + "the model's size (hidden_size, num_layers, bidirectional)"
        )
    state = STATE_BYTES_PER_PARAMETER * P
    if state > MAX_STATE_BYTES:
        raise ValueError(
            f"training {what} moves {_mb(state)} of weights and optimiser state between "
            f"the page and its training worker several times a second; the limit is "
            f"{_mb(MAX_STATE_BYTES)} ({MAX_STATE_BYTES // STATE_BYTES_PER_PARAMETER:,} "
            f"parameters): lower hidden_size, num_layers or bidirectional (Cell & parameters "
            f"and Step through show larger models untrained)"
        )
    nbytes = BYTES_PER_FLOAT * 4 * P + sum(
        BYTES_PER_FLOAT * 2 * batch_size * window * layers * per_step
        for layers, per_step in map(_units, configs)
    )
    if nbytes > EXTRA_BYTES:
        raise ValueError(
            f"training {what} (weights, gradients and Adam's two moments) "
            f"on batches of {batch_size:,} × {window:,} steps needs about {_mb(nbytes)} of "
            f"memory, over the {_mb(EXTRA_BYTES)} one request may use: lower the model's size, "
            f"the batch size or the window"
        )


def check_csv(rows: int, columns: int) -> None:
    """Refuse a table of ``rows`` lines × ``columns`` fields before it is parsed.

    Raises:
        ValueError: more than ``MAX_CSV_ROWS`` rows, ``MAX_CSV_COLUMNS`` fields in a line, or
            ``MAX_CSV_CELLS`` cells; the message gives the count, the cap and what to do.
    """
    if columns > MAX_CSV_COLUMNS:
        raise ValueError(
            f"a line of the file has {columns:,} fields; the limit is "
            f"{MAX_CSV_COLUMNS:,} columns: keep the time column and the columns "
            f"you want to use"
        )
    if rows > MAX_CSV_ROWS:
        raise ValueError(
            f"the file has {rows:,} lines; the limit is {MAX_CSV_ROWS:,}: "
            f"use a shorter stretch of the series, or one row per day instead "
            f"of per minute"
        )
    if rows * columns > MAX_CSV_CELLS:
        raise ValueError(
            f"the file has {rows:,} lines × {columns:,} columns = "
            f"{rows * columns:,} cells; the limit is {MAX_CSV_CELLS:,}: keep "
            f"fewer columns or fewer lines"
        )


def thin(n: int, *lines, cap: int = MAX_CHART_POINTS) -> np.ndarray:
    """Indices of at most ``cap`` of ``n`` points that keep the look of every line drawn over
    them: the points are cut into consecutive buckets and each bucket keeps, for each line, its
    lowest and highest point (min-max decimation: a spike survives, unlike taking every k-th
    point); the first and last point are always kept. All ``n`` indices when ``n <= cap``.

    Args:
        n: number of points.
        lines: arrays of length ``n``, the y values of each line (NaN is ignored); with none,
            evenly spaced indices.
        cap: the most indices to return (at least 4).

    Returns:
        Sorted unique int64 indices into ``0 … n-1``, at most ``cap`` of them.
    """
    if n <= cap:
        return np.arange(n)
    if not lines:
        return np.unique(np.linspace(0, n - 1, cap).round().astype(np.int64))
    buckets = max(1, (cap - 2) // (2 * len(lines)))
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)  # (buckets + 1,)
    keep = [np.array([0, n - 1])]
    for y in lines:
        y = np.asarray(y, dtype=np.float64).reshape(n)  # (n,)
        finite = np.isfinite(y)
        low = np.where(finite, y, np.inf)
        high = np.where(finite, y, -np.inf)
        for values, reduce in ((low, np.minimum), (high, np.maximum)):
            extreme = reduce.reduceat(values, edges[:-1])  # (buckets,)
            bucket = np.repeat(np.arange(buckets), np.diff(edges))  # (n,)
            hit = np.flatnonzero(values == extreme[bucket])  # indices reaching their extreme
            first = np.unique(bucket[hit], return_index=True)[1]  # one per bucket
            keep.append(hit[first])
    return np.unique(np.concatenate(keep))[:cap]
