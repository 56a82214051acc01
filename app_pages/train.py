"""Train: one-step-ahead forecasting of a real series, with the loss curve drawn live."""

import dataclasses

import streamlit as st

from explorer import build_from_config, charts
from explorer.config import CELLS
from explorer.tasks import SERIES, ForecastTask, load_series
from explorer.training import OPTIMIZER_LABELS, OPTIMIZERS, Trainer, TrainConfig
from explorer.teaching import article
from explorer.ui import current_config, show_chart

TRAINER, SIGNATURE = "trainer", "trainer_signature"
LEARNING_RATES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0, 10.0]

config = dataclasses.replace(current_config(), input_size=1, output_size=1)
st.title(f"Train {article(CELLS[config.cell].label)} to forecast")
st.caption(
    "The model reads a real series one value at a time and predicts the next value at "
    "every step. It is scored on the last 20 % of the series, which it never trains on, "
    'against the naive forecast "next = last". The cell and its sizes come from the '
    "sidebar (input_size and output_size are 1 here: one series in, one forecast out)."
)

a, b = st.columns([2, 1])
series_key = a.selectbox(
    "Series",
    list(SERIES),
    format_func=lambda k: SERIES[k].label,
    key="train_series",
    persist_state="session",
)
spec = SERIES[series_key]
difference = b.toggle(
    "Model the changes",
    value=spec.difference,
    key=f"train_diff_{series_key}",
    persist_state="session",
    help="Predict x_{t+1} - x_t and add it to x_t. Right for a trending series "
    "(CO2) whose future values lie above anything seen in training.",
)
st.caption(spec.about)
with st.expander("Training settings", expanded=False):
    c1, c2, c3, c4, c5 = st.columns(5)
    steps = int(
        c1.number_input(
            "steps", 10, 20_000, TrainConfig.steps, 10, key="train_steps", persist_state="session"
        )
    )
    lr = c2.select_slider(
        "learning rate",
        LEARNING_RATES,
        TrainConfig.lr,
        key="train_lr",
        persist_state="session",
        format_func=lambda v: f"{v:g}",
    )
    batch_size = c3.select_slider(
        "batch size",
        [1, 4, 8, 16, 32, 64, 128],
        TrainConfig.batch_size,
        key="train_batch",
        persist_state="session",
    )
    window = int(
        c4.number_input(
            "window (steps per sample)", 4, 200, 48, key="train_window", persist_state="session"
        )
    )
    optimizer = c5.selectbox(
        "optimiser",
        list(OPTIMIZERS),
        format_func=OPTIMIZER_LABELS.get,
        key="train_optimizer",
        persist_state="session",
    )
    clip = st.toggle(
        "clip gradient norm at 1.0", value=True, key="train_clip", persist_state="session"
    )
train_config = TrainConfig(
    steps=steps,
    batch_size=batch_size,
    lr=lr,
    optimizer=optimizer,
    clip_norm=1.0 if clip else None,
    seed=config.seed,
)
signature = (config, train_config, series_key, difference, window)


def new_trainer() -> None:
    try:
        task = ForecastTask(
            load_series(series_key).to_numpy(), window=window, difference=difference
        )
    except ValueError as err:
        st.session_state[TRAINER], st.session_state[SIGNATURE] = None, signature
        st.session_state["train_error"] = str(err)
        return
    st.session_state["train_error"] = None
    st.session_state[TRAINER] = Trainer(build_from_config(config), task, train_config)
    st.session_state[SIGNATURE] = signature


trainer: Trainer | None = st.session_state.get(TRAINER)
if trainer is None or (st.session_state.get(SIGNATURE) != signature and trainer.status == "ready"):
    new_trainer()  # nothing trained yet: follow the settings silently
    trainer = st.session_state.get(TRAINER)
if trainer is None:
    st.error(
        f"This series cannot be trained with these settings: {st.session_state['train_error']}."
    )
    st.stop()
if st.session_state.get(SIGNATURE) != signature:
    st.info(
        "The settings changed since this run started. The run below keeps its own "
        "settings; press **Reset** to start over with the new ones.",
        icon=":material/info:",
    )


def set_status(status: str) -> None:
    st.session_state[TRAINER].status = status


status = trainer.status
b1, b2, b3, b4 = st.columns(4)
b1.button(
    "Start",
    type="primary",
    disabled=status != "ready",
    key="train_start",
    width="stretch",
    on_click=set_status,
    args=("running",),
    icon=":material/play_arrow:",
)
b2.button(
    "Pause",
    disabled=status != "running",
    key="train_pause",
    width="stretch",
    on_click=set_status,
    args=("paused",),
    icon=":material/pause:",
)
b3.button(
    "Resume",
    disabled=status != "paused",
    key="train_resume",
    width="stretch",
    on_click=set_status,
    args=("running",),
    icon=":material/resume:",
)
b4.button(
    "Reset", key="train_reset", on_click=new_trainer, icon=":material/restart_alt:", width="stretch"
)
log_y = st.toggle("log-scale loss", value=True, key="train_log", persist_state="session")


@st.fragment(run_every=0.5 if status == "running" else None)
def live() -> None:
    """Train for a slice of time, then redraw; reruns on its own twice a second while running."""
    tr: Trainer = st.session_state[TRAINER]
    run_series = SERIES[st.session_state[SIGNATURE][2]]  # the run's own series, not the widget's
    was_running = tr.status == "running"
    if was_running:
        tr.run(seconds=0.3)
    rate = tr.step / tr.elapsed if tr.elapsed else 0.0
    left = (tr.config.steps - tr.step) / rate if rate else float("nan")
    st.progress(
        tr.step / tr.config.steps,
        text=f"step {tr.step:,} / {tr.config.steps:,} · {rate:,.0f} steps/s"
        + (f" · about {left:,.0f} s left" if tr.status == "running" else "")
        + f" · {tr.status}",
    )
    if tr.status == "diverged":
        st.error(tr.message, icon=":material/warning:")
    elif tr.status == "done" and tr.message:
        st.success(tr.message, icon=":material/check_circle:")
    if tr.history:
        show_chart(charts.loss_curve(tr.history, log_y=log_y), key="loss_chart")
        result = tr.last_eval or tr.evaluate()
        m1, m2, m3 = st.columns(3)
        m1.metric(f"Model RMSE ({run_series.unit})", f"{result['rmse']:.3f}")
        m2.metric(
            f"Naive RMSE ({run_series.unit})",
            f"{result['naive_rmse']:.3f}",
            help='The forecast "next value = last value" on the same validation part.',
        )
        gain = round(100 * (1 - result["rmse"] / result["naive_rmse"])) + 0  # + 0: no "-0"
        m3.metric(
            "Error removed vs naive",
            f"{gain} %",
            help="1 − model RMSE / naive RMSE: how much of the naive forecast's error the "
            "model removes. Negative: the model is worse than naive.",
        )
        dates = load_series(run_series.key).index[result["index"]]
        show_chart(
            charts.forecast(
                dates, result["truth"], result["prediction"], result["naive"], unit=run_series.unit
            ),
            key="forecast_chart",
        )
    else:
        st.caption("Press **Start**: the loss curve appears here and grows while training runs.")
    if was_running and tr.status != "running":
        st.rerun()  # finished: redraw the buttons


live()
