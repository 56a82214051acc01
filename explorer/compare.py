"""RNN vs LSTM vs GRU: train the three cells on one task, with one seed and one step budget.

A :class:`Comparison` holds one :class:`explorer.training.Trainer` per cell. The three models
share the sizes (``hidden_size``, ``num_layers``, ``bidirectional``, ``bias``), the seed that
initialises their weights, the task, the optimiser settings and, step for step, the training
batches: each trainer draws its batches from its own ``torch.Generator`` seeded with
``TrainConfig.seed``, so batch n is the same for all three. Only the recurrence differs:

* vanilla RNN: ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` (Elman 1990; PyTorch's
  ``nn.RNN``);
* LSTM: gates ``i f g o`` and a cell state ``c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t`` that can carry a
  number unchanged for many steps (Hochreiter & Schmidhuber 1997, forget gate by Gers et al.
  2000; PyTorch's ``nn.LSTM``);
* GRU: gates ``r z n`` and ``h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}`` (Cho et al. 2014; PyTorch's
  ``nn.GRU``, whose reset gate multiplies ``W_hn h_{t-1} + b_hn`` after the matmul).

The classic test is the adding problem (Hochreiter & Schmidhuber 1997, experiment 4; in the
form of Le et al. 2015, :class:`explorer.tasks.AddingTask`): with a lag of 50 the vanilla RNN's
gradient through time fades and it stays near the trivial baseline (always answer 1.0, MSE
≈ 1/6), while the gated cells, whose state can pass a number on unchanged, solve it.

The object knows nothing of Streamlit: a page calls :meth:`Comparison.run` for a slice of time,
reads the trainers' histories and :meth:`Comparison.results`, and draws. Everything lives on the
object, so it can sit in ``st.session_state`` across reruns, and pausing between slices gives the
same weights as one uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import math
import time

import pandas as pd

from .config import CELLS, CellConfig
from .models import build_from_config
from .params import model_parameters
from .tasks import Evaluation
from .training import TrainConfig, Trainer

CELL_KEYS: tuple[str, ...] = tuple(CELLS)  # ("rnn", "lstm", "gru")
STATUSES = ("ready", "running", "paused", "done")

# Columns of the table that score a rule, not a model: the same for the three cells.
BASELINE_COLUMNS = ("baseline", "naive RMSE", "seasonal-naive RMSE")


PERCENT_COLUMNS = ("accuracy", "sequences recalled")  # shares (0…1) shown as percentages


def shown_results(table: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The Compare page's table of :meth:`Comparison.results` as it is shown: ``status`` and
    the columns the three cells share (the task's rules, :data:`BASELINE_COLUMNS` present in
    ``table``) dropped, the shares in :data:`PERCENT_COLUMNS` in percent, and ``below
    baseline`` in whole percent (``-0`` written ``0``). Returns ``(shown table, the shared
    columns dropped)``; ``table`` is not modified."""
    same = [c for c in BASELINE_COLUMNS if c in table]
    shown = table.drop(columns=["status", *same])
    for column in PERCENT_COLUMNS:
        if column in shown:
            shown[column] = 100 * shown[column]
    shown["below baseline"] = (100 * shown["below baseline"]).round() + 0  # + 0: no "-0 %"
    return shown, same


def cell_configs(
    config: CellConfig, task, cells: tuple[str, ...] = CELL_KEYS
) -> dict[str, CellConfig]:
    """The three models' configurations: ``config``'s sizes and seed with each cell type.

    ``input_size`` and ``output_size`` are the task's; ``proj_size`` is dropped (0), since only
    the LSTM has it and it would make the LSTM a different size from the others;
    ``nonlinearity`` is kept (it reaches the vanilla RNN only). ``config.cell`` is ignored.

    Raises:
        ValueError: an unknown cell, or sizes :class:`~explorer.config.CellConfig` refuses
            (the task's input_size or output_size above ``LIMITS``).
    """
    unknown = [c for c in cells if c not in CELLS]
    if unknown or not cells:
        raise ValueError(f"cells must be some of {list(CELLS)}, got {list(cells)}")
    return {
        c: dataclasses.replace(
            config, cell=c, proj_size=0, input_size=task.input_size, output_size=task.output_size
        )
        for c in cells
    }


def reference_losses(task, evaluation: Evaluation) -> list[tuple[str, float]]:
    """Losses of rules that need no training, to draw beside the three curves, as
    ``(label, loss)`` in the task's loss units, the task's baseline first.

    From the task's evaluation (:meth:`~explorer.tasks.Evaluation.rules`): ``baseline`` (its
    trivial rule), and when its type has them the seasonal-naive forecast (a forecaster with a
    season) and the letter-frequency model (characters); for the adding problem also "remember
    only the nearer number" (:meth:`~explorer.tasks.AddingTask.nearer_number_loss`, about half
    the baseline: a vanilla RNN at lag 50 can get stuck there).
    """
    rules = evaluation.rules()
    nearer = getattr(task, "nearer_number_loss", None)  # the adding problem's
    if nearer is not None:
        rules.append(("remember only the nearer number", nearer()))
    return rules


class Comparison:
    """Train a vanilla RNN, an LSTM and a GRU side by side (see the module docstring).

    Args:
        task: any task of :mod:`explorer.tasks` (one object, shared: tasks keep no state
            between batches; each trainer has its own batch generator).
        config: the sizes and seed (the sidebar's :class:`~explorer.config.CellConfig`); its
            ``cell`` is ignored, see :func:`cell_configs`.
        train: optimiser, learning rate, batch size, step budget, seed of the batch order.
        cells: which cells to train, in order.

    Attributes:
        configs: ``{cell: CellConfig}`` as built.
        trainers: ``{cell: Trainer}``; ``trainers[c].history`` is that cell's loss curve.
        train: the :class:`~explorer.training.TrainConfig` shared by all three.

    Raises:
        ValueError: as :func:`cell_configs`, or a setting the trainer refuses (e.g. ``tbptt``
            with a bidirectional model).
    """

    def __init__(
        self,
        task,
        config: CellConfig,
        train: TrainConfig = TrainConfig(),
        cells: tuple[str, ...] = CELL_KEYS,
    ):
        self.task, self.train = task, train
        self.configs = cell_configs(config, task, cells)
        self.trainers: dict[str, Trainer] = {
            c: Trainer(build_from_config(cfg), task, train) for c, cfg in self.configs.items()
        }
        self._status = "ready"

    # ------------------------------------------------------------------ state
    @property
    def status(self) -> str:
        """``"ready"``, ``"running"``, ``"paused"``, or ``"done"`` once every trainer has
        finished its budget, stopped early or diverged."""
        if all(t.done for t in self.trainers.values()):
            return "done"
        return self._status

    @status.setter
    def status(self, value: str) -> None:
        if value not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {value!r}")
        self._status = value
        for t in self.trainers.values():
            if not t.done:
                t.status = value

    @property
    def step(self) -> int:
        """Steps every unfinished cell has taken (the trainers move in lockstep)."""
        active = [t.step for t in self.trainers.values() if not t.done]
        return min(active) if active else max(t.step for t in self.trainers.values())

    @property
    def elapsed(self) -> float:
        """Seconds spent training, all cells together."""
        return sum(t.elapsed for t in self.trainers.values())

    def extend(self, steps: int) -> None:
        """Raise the three cells' budget by ``steps`` (see :meth:`Trainer.extend`); a cell that
        diverged stays stopped. A finished comparison becomes ``"paused"``.

        Raises:
            ValueError: as :meth:`Trainer.extend` for ``steps``.
        """
        finished = self.status == "done"
        for t in self.trainers.values():
            if t.status != "diverged":
                t.extend(steps)
        self.train = dataclasses.replace(self.train, steps=self.train.steps + steps)
        if finished:
            self._status = "paused"

    # ------------------------------------------------------------------ training
    def run(self, seconds: float | None = None, max_steps: int | None = None) -> int:
        """Advance the cells in turn, one optimiser step each per round, until ``seconds``
        passed, each took ``max_steps`` more steps, or every one is done. Returns the rounds
        taken.

        Lockstep rather than equal time slices: at every moment the three curves reach the same
        step, so a chart compares like with like even though an LSTM or GRU step costs more
        than an RNN step. A cell that finishes early (budget, auto-stop, divergence) drops out;
        the others go on.
        """
        start, rounds = time.perf_counter(), 0
        while True:
            active = [t for t in self.trainers.values() if not t.done]
            if not active or (max_steps is not None and rounds >= max_steps):
                break
            if seconds is not None and time.perf_counter() - start >= seconds:
                break
            if self._status == "paused":  # paused from another thread (a page's Pause button)
                break
            target = min(t.step for t in active) + 1
            for t in active:
                if t.step < target:
                    t.run(max_steps=target - t.step)
            rounds += 1
        return rounds

    # ------------------------------------------------------------------ results
    def results(self) -> pd.DataFrame:
        """One row per cell, indexed by the cell's label ("Vanilla RNN", "LSTM", "GRU").

        Columns: ``parameters`` (recurrent layer + head, as torch counts them), ``steps``,
        ``steps/s`` (the trainer's own rate, evaluations included), ``validation loss`` (the
        latest evaluation; NaN before the first), ``best validation loss``, the task's own
        scores when its evaluation type has them (``accuracy``, ``sequences recalled``, ``bits
        per character``, ``RMSE``, ``naive RMSE``, ``seasonal-naive RMSE``; see
        :meth:`explorer.tasks.Evaluation.scores`),
        ``baseline`` (the task's trivial rule, in loss units: the adding problem's "always 1.0"
        ≈ 1/6, ln(V) for a classifier, the naive forecast's MSE), ``below baseline`` (``1 -
        validation loss / baseline``: 0 means no better than the trivial rule, 1 a perfect
        model), and ``status``.
        """
        rows = []
        for cell, tr in self.trainers.items():
            ev = tr.last_eval
            val = math.nan if ev is None else float(ev.val_loss)
            baseline = math.nan if ev is None else float(ev.baseline)
            row = {
                "parameters": model_parameters(self.configs[cell]),
                "steps": tr.step,
                "steps/s": tr.step / tr.elapsed if tr.elapsed else math.nan,
                "validation loss": val,
                "best validation loss": tr.best_val if math.isfinite(tr.best_val) else math.nan,
            }
            if ev is not None:
                row |= ev.scores()
            row["baseline"] = baseline
            row["below baseline"] = (1 - val / baseline) if baseline > 0 else math.nan
            row["status"] = tr.status
            rows.append((CELLS[cell].label, row))
        frame = pd.DataFrame([r for _, r in rows], index=[label for label, _ in rows])
        frame.index.name = "cell"
        return frame
