"""Widgets shared by the Train and Compare pages: the task, its settings, and how to train.

Every widget's key is its URL parameter (``explorer.url_params``): ``task``, the task's
setting names (``series``, ``k``, ``window``, ``lag`` …) and the training ones (``optimizer``,
``lr``, ``batch_size``, ``steps``, ``clip_norm``, ``weight_decay``, ``tbptt``, ``target_loss``,
``patience``), so a link reproduces a run and the two pages show the same values. Numbers use
Streamlit's ``bind="query-params"``; choices shown by a label (``task=adding`` reads "Memory:
the adding problem") are synced by hand so the URL holds the key, not the label. All keep their
value across page switches (``persist_state="session"``).
"""

from __future__ import annotations

import hashlib
import math
import time

import numpy as np
import streamlit as st
import torch

from .. import charts
from ..budget import check_training
from ..datasets import SERIES
from ..readers import read_series, series_from_frame, time_columns, value_columns
from ..tasks import TASKS, USER_SERIES, Setting, TaskSpec, build_task
from ..training import OPTIMIZER_LABELS, TrainConfig
from ..url_params import OFF, PARAMS
from ..weights import save_weights
from . import CONFIG_KEY, plain, show_chart, show_loss_curves, url_sync
from .controller import slow_refresh
from .session_keys import TRAINER_SIGNATURE
from .url_sync import url_widget

SESSION = "session"
TASK_KEY = "task"
CSV = USER_SERIES.key  # "csv": the user's own data, Train page only
CSV_DATA = "train_csv_data"  # (file name, DataFrame) of the last file read without error
CSV_VALUE = "csv_value"  # the uploaded file's column to forecast
TEXT_KEY = "train_text"  # the char task's typed text (too long for a URL)

# Widget labels for the tasks' settings (the key and URL parameter stay the setting's name).
SETTING_LABELS = {
    "series": "series",
    "k": "horizon k (steps ahead)",
    "window": "window (steps per sample)",
    "difference": "model",
    "val_fraction": "validation share",
    "period": "period (steps)",
    "noise": "noise (std)",
    "n": "length n",
    "lag": "lag (steps)",
    "n_symbols": "n_symbols",
    "seq_len": "seq_len (symbols to recall)",
}
AUTO = "auto"
DIFFERENCE_LABELS = {AUTO: "the series' default", True: "changes", False: "levels"}
NOT_WIDGETS = {"seed", "text", "values", "index"}  # seed: the sidebar's; the rest: drawn apart


def _fits(value, name: str) -> bool:
    """Whether ``value`` lies in the widest range any task gives setting ``name`` (the URL
    table's: one widget per key whatever the task, the task itself refusing what it cannot
    use)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    bounds = PARAMS[name].bounds
    return bounds.low <= value <= bounds.high


def _number(name: str, setting: Setting, container, *, slider: bool = False):
    """A number widget for a task setting, bound to the URL: bounds and step from the URL
    table, the default the task's."""
    if name in st.session_state and not _fits(st.session_state[name], name):
        st.session_state[name] = setting.default  # a value left by another task's bounds
    widget = container.slider if slider else container.number_input
    label = SETTING_LABELS.get(name, name)
    return url_widget(widget, name, label, default=setting.default, help=setting.help)


def task_spec(key: str) -> TaskSpec:
    """The registry entry of a task key, ``"csv"`` included."""
    return USER_SERIES if key == CSV else TASKS[key]


def _reset_settings() -> None:
    """On a change of task: its settings start from its own defaults (a lag of 50 that suited
    the adding problem would make the copy task far harder than its default)."""
    spec = task_spec(st.session_state[TASK_KEY])
    for name, setting in spec.settings.items():
        if name not in NOT_WIDGETS:
            st.session_state[name] = AUTO if setting.default is None else setting.default


def _sidebar_seed() -> int:
    config = st.session_state.get(CONFIG_KEY)  # the sidebar's cell, or its seed widget's value
    if config is not None:
        return int(config.seed)
    return int(st.session_state.get(PARAMS["seed"].key, PARAMS["seed"].default))


def task_controls(
    *, default: str = "forecast", allow_csv: bool = True, seed: int | None = None
) -> tuple[str, dict] | None:
    """Draw the task picker, the chosen task's paragraph and its settings' widgets.

    The picker has key ``task`` (one of ``explorer.tasks.TASKS``, plus ``"csv"`` for an
    uploaded file when ``allow_csv``); each setting's widget has the setting's name as key; all
    are bound to the URL. A task setting called ``seed`` takes ``seed`` (default: the sidebar's
    seed), never a widget. Switching task puts its settings back to their defaults.

    Returns:
        ``(task key, settings)`` with ``settings`` ready for
        ``explorer.tasks.build_task(key, **settings)``, or ``None`` when the input cannot make
        a task (no file yet, a bad file, settings the task refuses); the reason is then shown
        on the page in place of the result.
    """
    seed = _sidebar_seed() if seed is None else seed
    keys = list(TASKS) + ([CSV] if allow_csv else [])
    key = url_sync.choice(
        st.selectbox,
        "Task",
        {k: task_spec(k).label for k in keys},
        TASK_KEY,
        default=default if default in keys else keys[0],
        on_change=_reset_settings,
    )
    spec = task_spec(key)
    st.markdown(spec.about)
    settings: dict = {}
    if key == CSV:
        chosen = _csv_series()
        if chosen is None:
            return None
        settings["values"], settings["index"] = chosen.to_numpy(), chosen.index
    if key == "char":
        settings["text"] = _text_choice()
    if "seed" in spec.settings:
        settings["seed"] = seed
    names = [n for n in spec.settings if n not in NOT_WIDGETS]
    columns = st.columns(max(len(names), 3)) if names else []
    for name, column in zip(names, columns):
        setting = spec.settings[name]
        if name == "series":
            settings[name] = url_sync.choice(
                column.selectbox,
                SETTING_LABELS[name],
                {k: SERIES[k].label for k in SERIES},
                name,
                default=setting.default,
                help=setting.help,
            )
        elif name == "difference":  # None ("auto") as a string: a None option looks empty
            value = url_sync.choice(
                column.selectbox,
                SETTING_LABELS[name],
                {
                    AUTO if c is None else c: DIFFERENCE_LABELS[c if c is not None else AUTO]
                    for c in setting.choices
                },
                name,
                default=AUTO if setting.default is None else setting.default,
                help=setting.help,
            )
            settings[name] = None if value == AUTO else value
        else:
            settings[name] = _number(name, setting, column, slider=name == "lag")
    try:
        built_task(key, settings)
    except ValueError as err:
        st.error(f"These settings do not make a task: {err}.", icon=":material/error:")
        return None
    return key, settings


def _text_choice() -> str | None:
    """The char task's text: the shipped sonnets, or one typed or pasted (None: the sonnets)."""
    own = st.toggle("Type or paste your own text", key="train_own_text", persist_state=SESSION)
    if not own:
        return None
    text = st.text_area(
        "Your text (at least a few hundred characters; the model learns its alphabet)",
        key=TEXT_KEY,
        height=120,
        persist_state=SESSION,
        placeholder="Paste a poem, some code, a page of a book…",
    )
    if not text.strip():  # said, not silent: the run would otherwise train on the sonnets
        st.info(
            "The box is empty, so the model trains on Shakespeare's sonnets until you type "
            "or paste a text.",
            icon=":material/edit_note:",
        )
        return None
    return text


def _csv_series():
    """Upload a file, pick its time axis and value column. Returns a ``pandas.Series`` in time
    order, or None with the reason shown. A file that cannot be read leaves the previous one
    (and everything else) in place."""
    upload = st.file_uploader(
        "A CSV file: a time column (dates, years, or none) and at least one numeric column",
        type=["csv", "txt", "tsv"],
        key="train_csv",
    )
    failed = False
    if upload is not None:
        stored = st.session_state.get(CSV_DATA)
        if stored is None or stored[0] != upload.file_id:
            try:
                st.session_state[CSV_DATA] = (upload.file_id, upload.name, read_series(upload))
            except ValueError as err:
                st.error(
                    f"**{plain(upload.name)}** cannot be used: {plain(err)}.",
                    icon=":material/error:",
                )
                failed = True
    stored = st.session_state.get(CSV_DATA)
    if stored is None:
        if not failed:
            st.info(
                "Upload a CSV file to forecast one of its columns.", icon=":material/upload_file:"
            )
        return None
    _, name, frame = stored
    if upload is None or failed:
        st.caption(f"Using **{plain(name)}**, uploaded earlier ({len(frame):,} rows).")
    a, b = st.columns(2)
    times = time_columns(frame)
    time = a.selectbox(
        "time column",
        times,
        key="csv_time",
        persist_state=SESSION,
        help="What orders the rows in time. Dates found in the file come first.",
    )
    values = value_columns(frame, time)
    if not values:
        st.error(
            f"{plain(name)} has no numeric column besides {plain(repr(time))} to forecast.",
            icon=":material/error:",
        )
        return None
    if st.session_state.get(CSV_VALUE) not in values:
        st.session_state[CSV_VALUE] = values[0]
    value = b.selectbox("value column", values, key=CSV_VALUE, persist_state=SESSION)
    return series_from_frame(frame, time, value)


def _freeze(value):
    """A hashable, comparable stand-in for a setting (arrays and indexes by their digest)."""
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    data = np.asarray(value)
    if data.dtype == object:
        data = data.astype(str)
    return ("array", data.shape, hashlib.sha1(data.tobytes()).hexdigest())


def settings_signature(key: str, settings: dict) -> tuple:
    """``(key, ((name, value), ...))`` with arrays replaced by digests: equal for equal inputs,
    safe to compare with ``==`` (an array in a tuple is not)."""
    return key, tuple(sorted((n, _freeze(v)) for n, v in settings.items()))


def built_task(key: str, settings: dict):
    """``build_task(key, **settings)``, kept in this session for the same inputs (a rerun
    does not rebuild it). Raises ValueError as ``build_task`` does."""
    sig = settings_signature(key, settings)
    cached = st.session_state.get("_built_task")
    if cached is None or cached[0] != sig:
        st.session_state["_built_task"] = (sig, build_task(key, **settings))
    return st.session_state["_built_task"][1]


def _number_format(v) -> str:
    return v if v == OFF else f"{v:g}"


def train_controls(
    *, seed: int, defaults: TrainConfig | None = None, tbptt_reason: str | None = None
) -> TrainConfig:
    """Draw the training settings and return the :class:`TrainConfig` they describe (seeded
    with ``seed``, the sidebar's).

    Widgets (key = URL parameter; choices and bounds from ``explorer.url_params``): a first
    row for the optimiser (:func:`_optimiser_row`), a second for weight decay, truncated BPTT
    and auto-stop (:func:`_stopping_row`). Unset widgets start from ``defaults``
    (``TrainConfig()``).
    """
    d = defaults or TrainConfig()
    chosen = _optimiser_row(st.columns(5), d) | _stopping_row(st.columns(5), d, tbptt_reason)
    return TrainConfig(
        **chosen,
        eval_every=d.eval_every,
        seed=seed,
        momentum=d.momentum,
        min_delta=d.min_delta,
        diagnostics=d.diagnostics,
        diagnostics_every=d.diagnostics_every,
    )


def _optimiser_row(row: list, d: TrainConfig) -> dict:
    """``optimizer``; ``lr`` on a log scale (1e-4 … 10); ``batch_size``; ``steps``;
    ``clip_norm`` (off or a norm). Returns those :class:`TrainConfig` fields."""
    optimizer = url_sync.choice(
        row[0].selectbox,
        "optimiser",
        {o: OPTIMIZER_LABELS[o] for o in PARAMS["optimizer"].options},
        "optimizer",
        default=d.optimizer,
        help="SGD + momentum uses momentum 0.9. Adam and RMSprop scale each "
        "weight's step by its recent gradient size.",
    )
    lr = url_widget(
        row[1].select_slider,
        "lr",
        "learning rate",
        default=d.lr,
        format_func=_number_format,
        help="Log scale: each notch multiplies it by about 3.",
    )
    batch_size = url_widget(
        row[2].select_slider,
        "batch_size",
        "batch size",
        default=d.batch_size,
        help="Sequences per optimiser step.",
    )
    steps = url_widget(
        row[3].number_input,
        "steps",
        "steps",
        default=d.steps,
        help="The budget of optimiser steps (each one batch).",
    )
    clip = url_widget(
        row[4].select_slider,
        "clip_norm",
        "clip gradient norm",
        default=d.clip_norm or OFF,
        format_func=_number_format,
        help="Scale the whole gradient down when its L2 norm exceeds this value "
        "(torch.nn.utils.clip_grad_norm_). Off: no clipping.",
    )
    return dict(
        optimizer=optimizer,
        lr=float(lr),
        batch_size=int(batch_size),
        steps=int(steps),
        clip_norm=None if clip == OFF else float(clip),
    )


def _stopping_row(row: list, d: TrainConfig, tbptt_reason: str | None) -> dict:
    """``weight_decay``; ``tbptt`` (off or a chunk length, not drawn when ``tbptt_reason``
    says why it does not apply); auto-stop at ``target_loss`` (validation loss, empty = off)
    or after ``patience`` evaluations without a 1 % improvement (empty = off). Returns those
    :class:`TrainConfig` fields."""
    weight_decay = url_widget(
        row[0].select_slider,
        "weight_decay",
        "weight decay",
        default=d.weight_decay,
        format_func=lambda v: f"{v:g}",
        help="L2 penalty through the optimiser's weight_decay (coupled, also for Adam).",
    )
    tbptt = None
    if tbptt_reason is None:
        tbptt = url_widget(
            row[1].select_slider,
            "tbptt",
            "truncated BPTT",
            default=d.tbptt or OFF,
            format_func=_number_format,
            help="Backpropagate through at most this many steps: the window is run in chunks, "
            "the state carried over but detached. Off: through the whole window.",
        )
    else:
        row[1].caption(f"Truncated BPTT: {tbptt_reason}")
    target = url_widget(
        row[2].number_input,
        "target_loss",
        "stop at validation loss",
        default=d.target_loss,
        placeholder="off",
        format="%g",
        help="Auto-stop once the validation loss reaches this value. Empty: off.",
    )
    patience = url_widget(
        row[3].number_input,
        "patience",
        "stop after a plateau of",
        default=d.patience,
        placeholder="off",
        help=f"Auto-stop after this many evaluations in a row (one every {d.eval_every} steps) "
        f"without a {d.min_delta:.0%} improvement of the best validation loss. Empty: off.",
    )
    return dict(
        weight_decay=float(weight_decay),
        tbptt=None if tbptt in (None, OFF) else int(tbptt),
        target_loss=None if target is None or not math.isfinite(target) else float(target),
        patience=None if patience is None else int(patience),
    )


def widget_state(kind: str, config: dict, task_key: str, settings: dict) -> dict:
    """The inverse of the controls: ``{widget key: value}`` that makes the sidebar,
    :func:`task_controls` and :func:`train_controls` show a stored run's settings.

    Args:
        kind: ``"train"`` (``config["model"]``: the cell) or ``"compare"``
            (``config["configs"]``: the three cells, sized alike).
        config: a checkpoint's ``meta["config"]`` (``train``, and the model or models).
        task_key, settings: its task (:func:`explorer.checkpoint.task_settings`); a CSV's
            values and a task's seed have no widget here (the file, the sidebar's seed).
    """
    train = config["train"]
    if kind == "train":
        cell = dict(config["model"])
        for name in ("input_size", "output_size"):  # the task's, not the sidebar's
            cell.pop(name, None)
    else:
        cells = config["configs"]
        cell = {
            k: v
            for k, v in next(iter(cells.values())).items()
            if k in ("hidden_size", "num_layers", "bidirectional", "bias", "seed")
        }
        if "rnn" in cells:
            cell["nonlinearity"] = cells["rnn"]["nonlinearity"]
    state = dict(cell)
    state[TASK_KEY] = task_key
    state.update(
        optimizer=train["optimizer"],
        lr=train["lr"],
        batch_size=train["batch_size"],
        steps=train["steps"],
        clip_norm=OFF if train["clip_norm"] is None else train["clip_norm"],
        weight_decay=train["weight_decay"],
        tbptt=OFF if train["tbptt"] is None else train["tbptt"],
        target_loss=train["target_loss"],
        patience=train["patience"],
    )
    for name, value in settings.items():
        if name == "text":
            state["train_own_text"] = value is not None
            if value is not None:
                state[TEXT_KEY] = value
        elif name == "difference":
            state[name] = AUTO if value is None else value
        elif name not in NOT_WIDGETS:
            state[name] = value
    return state


# --------------------------------------------------------------------------- the Train page's
# pieces: what a run is, its progress, its gradients and its weights (its results per task:
# explorer/ui/task_views.py).

TRAINER, SIGNATURE, TRAINER_TASK, RUN_META = (
    "trainer",
    TRAINER_SIGNATURE,
    "trainer_task",
    "trainer_meta",
)
TRAIN_LIVE = "train_live"  # the LiveRun that trains the Train page's Trainer in the workers
LOSS_TITLES = {
    "mse": "mean squared error",
    "ce": "cross-entropy, nats per step (1 nat = 1.44 bits)",
}


def run_meta(key: str, settings: dict, task) -> dict:
    """What the page needs to label a run's results: ``unit`` of the forecast values, ``x_title``
    of its time axis, ``what`` (a few words on the data) and ``loss_title``."""
    meta = {
        "unit": "value",
        "x_title": "time step",
        "what": task_spec(key).label,
        "loss_title": LOSS_TITLES[task.loss],
    }
    if key == "forecast":
        spec = SERIES[settings.get("series", TASKS["forecast"].settings["series"].default)]
        meta.update(unit=spec.unit, x_title="date", what=spec.label)
    elif key == CSV:
        stored = st.session_state.get(CSV_DATA)
        name = stored[1] if stored else "your file"
        column = st.session_state.get(CSV_VALUE, "value")
        index = settings.get("index")
        meta.update(
            unit=str(column),
            what=f"{name}: {column}",
            x_title=str(getattr(index, "name", None) or "time step"),
        )
    if task.loss == "mse" and key in ("forecast", "sine", CSV):
        meta["loss_title"] = "mean squared error (normalised)"
    return meta


def status_message(trainer) -> None:
    """Why the run stopped, said plainly: an error (with the rollback and what to try) for a
    non-finite loss, a success note for a target, plateau, budget or Stop."""
    if trainer.status == "diverged":
        st.error(f"**Training stopped.** {trainer.message}", icon=":material/warning:")
    elif trainer.status == "done" and trainer.message:
        st.success(trainer.message, icon=":material/check_circle:")


LIVE_POINTS = 800  # training-loss points drawn at most: more than half a page's width has pixels


def loss_chart(trainer, meta: dict, *, log_y: bool, extra=()) -> None:
    """The live loss curve with the task's rule-based baselines as dashed lines."""
    rules = () if trainer.last_eval is None else trainer.last_eval.rules(short=True)
    baselines = [(f"baseline: {label}", loss) for label, loss in rules]
    show_loss_curves(
        {"model": trainer.history},
        log_y=log_y,
        y_title=meta["loss_title"],
        references=tuple(baselines),
        extra=tuple(extra),
        max_points=LIVE_POINTS,
        alt="Training and validation loss of the model",
    )


def rebuild_due(cache: dict, name: str, stamp, trainer) -> bool:
    """Whether the cached item ``name`` must be rebuilt: its ``stamp`` changed and, while the run
    trains, :func:`slow_refresh` seconds have passed since the last rebuild. The loss curve moves
    at every redraw; the predictions and gradients need not, and a Plotly chart whose figure
    changes is redrawn in the browser, which a busy machine shows as a blink."""
    if name not in cache:
        return True
    old_stamp, _, built = cache[name]
    if old_stamp == stamp:
        return False
    return trainer.status != "running" or time.monotonic() - built >= slow_refresh()


def figure_once(name: str, trainer, build):
    """The figure ``build()`` makes, rebuilt only when the run has a new evaluation (and then
    at most every :func:`slow_refresh` seconds while it trains): building a Plotly figure costs
    more than sending it."""
    stamp = (id(trainer), len(trainer.eval_steps), id(trainer.last_eval), trainer.status)
    figures = st.session_state.setdefault("_train_figures", {})
    if rebuild_due(figures, name, stamp, trainer):
        figures[name] = (stamp, build(), time.monotonic())
    return figures[name][1]


def diagnostics(trainer, key: str) -> None:
    """Gradient norms of each parameter tensor over training, and ||dL/dh_t|| over the time
    steps of one fixed batch (first evaluation faded, latest bold), with what to look for."""
    if not trainer.eval_steps:
        st.caption(
            f"The gradient charts appear at the first evaluation (step "
            f"{trainer.config.eval_every})."
        )
        return
    a, b = st.columns(2)
    with a:
        show_chart(
            figure_once(
                "grad_norms",
                trainer,
                lambda: charts.grad_norm_history(trainer.eval_steps, trainer.grad_norms),
            ),
            key="grad_norm_chart",
        )
    with b:
        if trainer.hidden_grads is not None:
            history = trainer.hidden_grad_history
            show_chart(
                figure_once(
                    "hidden_grads",
                    trainer,
                    lambda: charts.hidden_grad_profile(
                        trainer.hidden_grads,
                        latest_step=trainer.hidden_grad_steps[-1],
                        first=history[0] if len(history) > 1 else None,
                        first_step=trainer.hidden_grad_steps[0],
                    ),
                ),
                key="hidden_grad_chart",
            )
    where = (
        "only at the last step"
        if trainer.task.target_steps == "last"
        else "at the recall steps"
        if key == "copy"
        else "at every step"
    )
    st.caption(
        f"**What to look for.** The loss is scored {where}; the right-hand chart follows its "
        "gradient back in time, right to left. A line that falls by orders of magnitude "
        "towards t = 0 is a vanishing gradient: the early steps barely learn (a vanilla RNN "
        "on a long lag; an LSTM's or GRU's stays flatter). A line that climbs is an "
        "exploding one: clip the gradient or lower the learning rate. The left chart shows "
        "the size of each parameter tensor's gradient, ‖∂L/∂θ‖ before clipping, at each "
        "evaluation: absolute norms (not shares of a total) on a log axis, one grid decade "
        "being a factor of ten."
    )


def weights_file(run, config) -> bytes:
    """The run's weights as a safetensors file with its config (what Download serves): the
    newest the workers returned, merged whole (between two steps)."""
    run.poll(train=False)
    return save_weights(run.job.model, config)


def latest_trainer():
    """The Train page's trainer with the newest weights the workers returned (for another page
    that reads it, such as Step through), or None."""
    run = st.session_state.get(TRAIN_LIVE)
    if run is not None and run.job is st.session_state.get(TRAINER):
        run.poll(train=False)
    return st.session_state.get(TRAINER)


def cost_refusal(configs, task, batch_size: int) -> str | None:
    """Why training ``configs`` (CellConfigs) on ``task`` at ``batch_size`` would cost one
    request too much (:func:`explorer.budget.check_training`), or None: checked before any
    model is built, so the largest settings answer at once."""
    window = task.train_batch(1, torch.Generator().manual_seed(0))[0].shape[0]
    try:
        check_training(configs, window, batch_size)  # Compare: the cells' costs add up
    except ValueError as err:
        return f"These settings are too large for a shared server: {err}."
    return None
