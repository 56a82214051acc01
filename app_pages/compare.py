"""Compare cells: a vanilla RNN, an LSTM and a GRU trained side by side on one task, with one
seed and one step budget; their loss curves overlaid, live."""

import dataclasses
import math

import streamlit as st

from explorer.compare import Comparison, cell_configs, reference_losses, shown_results
from explorer.config import CELLS
from explorer.training import TrainConfig
from explorer.ui import controller, current_config, runs, show_loss_curves
from explorer.ui import train_controls as ui

RUN, SIGNATURE, META, CLOCK, ERROR, LIVE, UNTRAINED = (
    "compare",
    "compare_signature",
    "compare_meta",
    "compare_clock",
    "compare_error",
    "compare_live",
    "compare_untrained",
)
CONTROL = controller.LiveController("compare", RUN, LIVE)  # its status, progress and redraws
# Adam 1e-2 on batches of 64: at lag 50 (hidden 16, seeds 0-4) the GRU solved the adding
# problem after 200-300 steps, the LSTM after 500-1,000, the RNN stayed near the baseline to
# 2,000. 1,500 steps show all three outcomes in about a minute on a laptop CPU.
DEFAULTS = TrainConfig(steps=1500, batch_size=64, lr=1e-2, diagnostics=False)

sidebar = current_config()
st.title("Compare RNN, LSTM and GRU")
sizes = (
    f"hidden_size {sidebar.hidden_size}, {sidebar.num_layers} layer"
    f"{'s' if sidebar.num_layers > 1 else ''}"
    + (", bidirectional" if sidebar.bidirectional else "")
    + ("" if sidebar.bias else ", no bias")
    + f", seed {sidebar.seed}"
)
notes = [
    f"the sidebar's cell type ({CELLS[sidebar.cell].label}) is not used: all three are trained"
]
if sidebar.proj_size:
    notes.append(
        f"its proj_size ({sidebar.proj_size}) is not used either, so that the LSTM has "
        "the same hidden size as the others"
    )
if sidebar.nonlinearity != "tanh":
    notes.append(f"the vanilla RNN uses {sidebar.nonlinearity}, as the sidebar says")
st.caption(
    "Three networks learn the same task from the same seed, on the same batches in the same "
    f"order; only the recurrent cell differs. Sizes from the sidebar: **{sizes}**; "
    f"{'; '.join(notes)}. The task and the training settings are below the chart."
)
# the buttons, the progress and the chart come first (drawn into this container once the
# settings below are read): the first screen shows the chart, before Start and while training
stage = st.container()
st.subheader("Task and settings")
with st.container(key="explain_compare_cells"):  # for reading: hidden in presenter mode
    st.caption(
        "input_size and output_size are the task's. The LSTM (Hochreiter & Schmidhuber 1997) "
        "and the GRU (Cho et al. 2014) carry their state through gates; the vanilla RNN "
        "multiplies it by the same matrix at every step."
    )

chosen = ui.task_controls(default="adding", allow_csv=False)
task = None
if chosen is not None:
    task_key, settings = chosen
    task = ui.built_task(task_key, settings)

with st.expander(
    "Training settings (shared by the three cells)", expanded=False, icon=":material/tune:"
):
    tbptt_reason = "needs a unidirectional model." if sidebar.bidirectional else None
    train_config = ui.train_controls(
        seed=sidebar.seed, defaults=DEFAULTS, tbptt_reason=tbptt_reason
    )
if chosen is not None and task_key == "adding" and train_config.steps < 1000:
    st.caption(
        f":material/info: With {train_config.steps:,} steps you may see only the GRU get below "
        "the baseline: in our runs at lag 50 (hidden 16, Adam 0.01, batches of 64) the LSTM "
        "needed 500 to 1,000 steps."
    )

signature = configs = refusal = None
if chosen is not None:
    try:
        configs = cell_configs(sidebar, task)
    except ValueError as err:
        st.error(f"These settings cannot train the three cells: {err}.", icon=":material/error:")
    else:
        refusal = ui.cost_refusal(configs.values(), task, train_config.batch_size)
        if refusal:  # nothing is built: the comparison there was (if any) stays
            st.error(refusal, icon=":material/block:")
    if configs is not None and not refusal:  # plain values: equal across a reload of the classes
        signature = (
            tuple(dataclasses.astuple(c) for c in configs.values()),
            dataclasses.astuple(train_config),
            ui.settings_signature(task_key, settings),
        )


def new_run() -> None:
    """A fresh comparison with the settings on the page (Reset, or settings changed before
    Start): three seeded models at step 0."""
    st.session_state[CLOCK] = []
    st.session_state[SIGNATURE] = signature
    if LIVE in st.session_state:
        st.session_state[LIVE].halt()  # the old comparison's slice in flight is dropped
        runs.autosave("compare", st.session_state[LIVE].job, force=True)  # kept as it ends
    try:
        st.session_state[RUN] = Comparison(task, sidebar, train_config)
    except ValueError as err:
        st.session_state[RUN], st.session_state[ERROR] = None, str(err)
        return
    st.session_state[ERROR] = None
    st.session_state[META] = ui.run_meta(task_key, settings, task) | {"key": task_key}
    runs.new_run("compare", task_key=task_key, task_settings=settings)


arrived = runs.arrival("compare")  # a run= link, a reload or a fork: that comparison, as saved
if arrived is not None:
    comp = arrived.job
    st.session_state[RUN], st.session_state[ERROR], st.session_state[CLOCK] = comp, None, []
    st.session_state[SIGNATURE] = (
        tuple(dataclasses.astuple(c) for c in comp.configs.values()),
        dataclasses.astuple(comp.train),
        ui.settings_signature(arrived.task_key, arrived.settings),
    )
    st.session_state[META] = ui.run_meta(arrived.task_key, arrived.settings, comp.task) | {
        "key": arrived.task_key
    }
run: Comparison | None = st.session_state.get(RUN)
if (
    signature is not None
    and st.session_state.get(SIGNATURE) != signature
    and (run is None or run.status == "ready")
):
    new_run()  # nothing trained yet: follow the settings silently
    run = st.session_state[RUN]
if run is None:
    if st.session_state.get(ERROR) and signature is not None:
        st.error(
            f"These settings cannot train the three cells: {st.session_state[ERROR]}.",
            icon=":material/error:",
        )
    with stage:
        st.info(
            "The chart appears here once the settings below make a task.",
            icon=":material/arrow_downward:",
        )
    st.stop()  # otherwise the task controls said why
if st.session_state.get(SIGNATURE) != signature:
    with stage:
        st.info(
            "The settings on the page differ from this comparison's (it keeps its own task, "
            "sizes and settings). "
            + (
                "Press **Reset**"
                if runs.owned("compare")
                else "Continue from your own copy, then press **Reset**,"
            )
            + " to start a new one with the new settings.",
            icon=":material/info:",
        )


status = run.status
buttons = stage.columns([1, 1, 1, 1, 1.6])
if runs.owned("compare"):
    CONTROL.status_buttons(buttons, status)
    buttons[3].button(
        "Reset",
        key="compare_reset",
        width="stretch",
        disabled=signature is None,
        on_click=new_run,
        icon=":material/restart_alt:",
        help="Three new seeded models at step 0, with the settings on the page.",
    )
else:  # another browser's comparison: no controls, a copy to continue instead
    runs.read_only_bar("compare", stage)
log_y = buttons[4].toggle("log-scale loss", value=True, key="compare_log", persist_state="session")


def progress(comp: Comparison) -> None:
    """Steps done (the three cells move in lockstep), the wall-clock rate, time left."""
    rate = controller.clock_rate(st.session_state.setdefault(CLOCK, []), comp)
    budget = comp.train.steps
    text = f"step {comp.step:,} / {budget:,} for each cell"
    if rate is not None and rate > 0:
        left = (budget - comp.step) / rate
        # the wall clock's rate of the three taking turns (the table has each one's own)
        text += f" · {rate:,.0f} steps/s with the three in turn · about {left:,.0f} s left"
    names = {"ready": "ready", "running": "training", "paused": "paused", "done": "finished"}
    st.progress(min(1.0, comp.step / budget), text=f"{text} · {names[comp.status]}")


def headline(key: str, row, meta: dict) -> tuple[str, str]:
    """The number a class looks at for this task, as (name, text)."""
    if key == "copy" and not math.isnan(row.get("accuracy", math.nan)):
        return "symbols recalled", f"{100 * row['accuracy']:.1f} %"
    if key == "char" and not math.isnan(row.get("bits per character", math.nan)):
        return "validation loss", f"{row['bits per character']:.2f} bits/char"
    if key in ("forecast", "sine") and not math.isnan(row.get("RMSE", math.nan)):
        unit = "" if meta["unit"] == "value" else f" {meta['unit']}"
        return "validation RMSE", f"{row['RMSE']:.3g}{unit}"
    value = row["validation loss"]
    name = "validation MSE" if "squared" in meta["loss_title"] else "validation loss"
    return name, "–" if math.isnan(value) else f"{value:.4f}"


def cards(comp: Comparison, table, meta: dict) -> None:
    """One bordered card per cell: the task's headline number and how it stands against the
    rule that needs no training."""
    for column, (label, row) in zip(st.columns(len(table)), table.iterrows()):
        name, text = headline(meta["key"], row, meta)
        gain, delta, colour = row["below baseline"], None, "off"
        if not math.isnan(gain):
            percent = round(100 * gain)
            delta = f"{abs(percent)} % {'below' if percent >= 0 else 'above'} the baseline"
            colour = "off" if abs(percent) < 5 else "normal" if percent > 0 else "inverse"
        column.metric(
            f"{label}: {name}",
            text,
            delta=delta,
            delta_color=colour,
            delta_arrow="off",
            border=True,
            help="How much lower the validation loss is than the loss of the rule that needs "
            "no training (1 − validation loss / baseline loss): about 0 % is no better "
            "than the rule, 100 % a perfect model.",
        )
        rate = row["steps/s"]
        column.caption(
            f"{row['parameters']:,} parameters · "
            + ("–" if math.isnan(rate) else f"{rate:,.0f}")
            + " steps/s"
        )


def results_table(table, meta: dict) -> None:
    """The numbers behind the cards, one row per cell; the columns that are the same for the
    three (the task's baselines) go into a caption under the table."""
    shown, same = shown_results(table)
    unit = "" if meta["unit"] == "value" else f" ({meta['unit']})"
    config = {
        "parameters": st.column_config.NumberColumn(format="localized"),
        "steps/s": st.column_config.NumberColumn(format="%.0f"),
        "validation loss": st.column_config.NumberColumn(format="%.4g"),
        "best validation loss": st.column_config.NumberColumn(format="%.4g"),
        "below baseline": st.column_config.NumberColumn(
            format="%.0f %%", help="1 − validation loss / baseline loss."
        ),
        "accuracy": st.column_config.NumberColumn(format="%.1f %%"),
        "sequences recalled": st.column_config.NumberColumn(format="%.1f %%"),
        "bits per character": st.column_config.NumberColumn(format="%.3f"),
        "RMSE": st.column_config.NumberColumn("RMSE" + unit, format="%.4g"),
    }
    st.dataframe(
        shown, column_config=config, width="stretch", placeholder="–"
    )  # not yet evaluated (Streamlit would print None)
    first = table.iloc[0]
    if not math.isnan(first["baseline"]):
        parts = [
            f"the baseline, {meta['baseline_label']}, scores a validation loss of "
            f"{first['baseline']:.4g}"
        ]
        for column in same[1:]:
            if not math.isnan(first[column]):
                parts.append(f"the {column} is {first[column]:.4g}{unit}")
        st.caption(
            f"Rules that need no training, the same for the three cells: "
            f"{'; '.join(parts)}. The steps/s column is each cell's own training rate: "
            "on a CPU, PyTorch runs the LSTM through a fused oneDNN kernel but the GRU "
            "through its generic code, so the GRU, with fewer parameters than the LSTM, "
            "can train more slowly (about three times at hidden_size 16)."
        )


def reading_the_chart() -> None:
    st.caption(
        "**Reading the chart.** The dashed line is the MSE of always answering 1.0, the "
        "expected sum; the dotted one is what a network scores if it remembers only the "
        "second, nearer marked number (about 1/12). The first marked number sits in the first "
        "half of the sequence, so a network must carry it across up to lag − 1 steps. The "
        "gradient that would teach a vanilla RNN to do so shrinks at every step back "
        "(vanishing gradients): it stays near the dashed line, or gets stuck on the dotted "
        "one. The LSTM's cell state and the GRU's update gate can pass a number on unchanged, "
        "so their curves fall to near zero once they find the marks."
    )


TICK = controller.tick()  # seconds between redraws while training: longer when the server is busy


def untrained_scores(comp: Comparison):
    """The task's ``Evaluation`` of one untrained model, kept for this comparison: before the
    first evaluation it gives the rules' lines (the baseline to beat) on the empty chart. The
    cells' own results stay empty until training evaluates them."""
    cached = st.session_state.get(UNTRAINED)
    if cached is None or cached[0] is not comp:
        model = next(iter(comp.trainers.values())).model  # the page's copy: workers train theirs
        cached = (comp, comp.task.evaluate(model))
        model.train()
        st.session_state[UNTRAINED] = cached
    return cached[1]


@st.fragment(run_every=TICK if status == "running" else None)
def live() -> None:
    """Merge the rounds the workers took (the three cells in lockstep), then redraw; reruns on
    its own every TICK while running."""
    comp, run, was_running = CONTROL.begin_redraw(TICK)
    meta = st.session_state[META]
    progress(comp)
    controller.worker_messages(run)
    runs.messages("compare", comp)
    for cell, tr in comp.trainers.items():
        if tr.status == "diverged":
            st.error(f"**{CELLS[cell].label} stopped.** {tr.message}", icon=":material/warning:")
        elif tr.status == "done" and tr.step < comp.train.steps:  # target loss or plateau
            st.info(f"**{CELLS[cell].label}:** {tr.message}", icon=":material/flag:")
    table = comp.results()
    evaluation = next((t.last_eval for t in comp.trainers.values() if t.last_eval), None)
    meta = meta | {"baseline_label": evaluation.baseline_label if evaluation else ""}
    refs = tuple(reference_losses(comp.task, evaluation or untrained_scores(comp)))
    # drawn before Start too (empty): the chart's place on the screen does not move
    show_loss_curves(
        {c: t.history for c, t in comp.trainers.items()},
        labels={c: CELLS[c].label for c in comp.trainers},
        references=refs,
        log_y=log_y,
        y_title=meta["loss_title"],
        title="Loss of each cell",
        height=420,
        max_points=1000,
        alt="Loss curves of the three cells",
    )
    started = comp.step or any(t.history for t in comp.trainers.values())
    if not started:
        st.caption("Press **Start**: the three loss curves grow here while training runs.")
    cards(comp, table, meta)
    if meta["key"] == "adding" and started:
        reading_the_chart()
    results_table(table, meta)
    CONTROL.end_redraw(was_running)  # finished: redraw the buttons


with stage:
    live()
