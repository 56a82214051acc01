"""Train: a small training studio. Pick a task, train the sidebar's cell on it live, and watch
the loss, the predictions and the gradients through time."""

import dataclasses

import streamlit as st

from explorer import build_from_config
from explorer.config import CELLS
from explorer.params import torch_total
from explorer.teaching import article
from explorer.training import OPTIMIZER_LABELS, Trainer
from explorer.ui import controller, current_config, runs, task_views
from explorer.ui import train_controls as ui
from explorer.ui.presenter_mode import switch_page
from explorer.ui.session_keys import STEP_OWN_INPUT, STEP_WEIGHTS, TRAIN_FROM_FILE
from explorer.ui.url_sync import url_widget
from explorer.url_params import PAGES
from explorer.weights import describe, differences, load_weights

TRAINER, SIGNATURE, TASK, META = ui.TRAINER, ui.SIGNATURE, ui.TRAINER_TASK, ui.RUN_META
FROM_FILE, WEIGHTS_NOTE, CLOCK = TRAIN_FROM_FILE, "train_weights_note", "train_clock"
UPLOAD, MORE, SPEED = "train_weights", "train_more", "train_speed"  # this page's widgets
LIVE = ui.TRAIN_LIVE  # the LiveRun that trains the session's Trainer in the worker processes
CONTROL = controller.LiveController("train", TRAINER, LIVE)  # its status, progress and redraws

SPEEDS = {"5 steps/s": 5.0, "20 /s": 20.0, "100 /s": 100.0, "full speed": None}  # slow motion

sidebar = current_config()
st.title(f"Train {article(CELLS[sidebar.cell].label)}")
# the buttons, the progress and the charts come first (drawn into this container once the
# settings below are read): the first screen shows Start and the loss curve
stage = st.container()
st.subheader("Task and settings")
chosen = ui.task_controls()
task = config = None
if chosen is not None:
    task_key, settings = chosen
    task = ui.built_task(task_key, settings)
    # the task fixes the ends of the model: what goes in at each step and what comes out
    config = dataclasses.replace(sidebar, input_size=task.input_size, output_size=task.output_size)
    forced = [
        f"{name} = {getattr(config, name)}"
        for name in ("input_size", "output_size")
        if getattr(config, name) != getattr(sidebar, name)
    ]
    st.caption(
        f"**Model:** {describe(config)}, from the sidebar. "
        + (
            f"This task sets {' and '.join(forced)} (the sidebar's value is not used here)."
            if forced
            else "input_size and output_size are the task's."
        )
    )

with st.expander("Training settings", expanded=True, icon=":material/tune:"):
    tbptt_reason = "needs a unidirectional model." if sidebar.bidirectional else None
    train_config = ui.train_controls(seed=sidebar.seed, tbptt_reason=tbptt_reason)


def new_trainer() -> None:
    """A fresh run with the settings on the page (Reset, or settings changed before Start)."""
    if LIVE in st.session_state:
        st.session_state[LIVE].halt()  # the old run's slice in flight is merged, then dropped
        runs.autosave("train", st.session_state[LIVE].job, force=True)  # kept as it ends
    st.session_state[TRAINER] = Trainer(build_from_config(config), task, train_config)
    st.session_state[SIGNATURE] = signature
    st.session_state[TASK] = task_key
    st.session_state[META] = ui.run_meta(task_key, settings, task)
    st.session_state[FROM_FILE] = False
    st.session_state[CLOCK] = []
    runs.new_run("train", task_key=task_key, task_settings=settings, model=config)


def adopt(arrived: runs.Arrival) -> None:
    """A run from a link, a reload or a fork takes the page's place, with its own settings."""
    job = arrived.job
    st.session_state[TRAINER] = job
    st.session_state[SIGNATURE] = (
        arrived.page_run.args["model"],
        job.config,
        ui.settings_signature(arrived.task_key, arrived.settings),
    )
    st.session_state[TASK] = arrived.task_key
    st.session_state[META] = ui.run_meta(arrived.task_key, arrived.settings, job.task)
    st.session_state[FROM_FILE] = False
    st.session_state[CLOCK] = []


def load_uploaded() -> None:
    """Weights from a file replace the run, if they fit the model this page would train."""
    upload = st.session_state.get(UPLOAD)
    if upload is None:
        return
    try:
        model, found = load_weights(upload.getvalue())
    except ValueError as err:
        st.session_state[WEIGHTS_NOTE] = ("error", f"**{upload.name}** cannot be loaded: {err}.")
        return
    if config is None:
        st.session_state[WEIGHTS_NOTE] = (
            "error",
            "Choose a task that can be built before loading weights for it.",
        )
        return
    mismatch = differences(config, found)
    if mismatch:
        st.session_state[WEIGHTS_NOTE] = (
            "error",
            f"**{upload.name}** holds {describe(found)}, but this page trains "
            f"{describe(config)} ({'; '.join(mismatch)}). Set the sidebar (and the task) to "
            "match the file, then upload it again.",
        )
        return
    new_trainer()
    st.session_state[TRAINER] = Trainer(model, task, train_config)
    st.session_state[FROM_FILE] = True
    st.session_state[WEIGHTS_NOTE] = (
        "success",
        f"Loaded **{upload.name}**: {describe(found)}. The charts show what it has learnt; "
        "Start trains on from these weights.",
    )


signature = None
refusal = None if chosen is None else ui.cost_refusal([config], task, train_config.batch_size)
if refusal:  # nothing is built: the run there was (if any) stays
    stage.error(refusal, icon=":material/block:")
elif chosen is not None:
    signature = (config, train_config, ui.settings_signature(task_key, settings))
arrived = runs.arrival("train")  # a run= link, a reload or a fork: that run, as it was saved
if arrived is not None:
    adopt(arrived)
trainer: Trainer | None = st.session_state.get(TRAINER)
if signature is not None and (
    trainer is None
    or (
        st.session_state.get(SIGNATURE) != signature
        and trainer.status == "ready"
        and not st.session_state.get(FROM_FILE)
    )
):
    new_trainer()  # nothing trained yet: follow the settings silently
    trainer = st.session_state[TRAINER]
if trainer is None or (
    signature is None and trainer.status == "ready" and not st.session_state.get(FROM_FILE)
):
    # the task controls said why (e.g. no CSV uploaded yet); an untouched run of the task
    # chosen before is not offered in its place
    if not refusal:
        stage.info(
            "The loss curve appears here once the settings below make a task.",
            icon=":material/arrow_downward:",
        )
    st.stop()
if st.session_state.get(SIGNATURE) != signature:
    stage.info(
        "The settings on the page differ from those of the run below "
        f"({ui.task_spec(st.session_state[TASK]).label}), which keeps its own while it lasts. "
        + (
            "The settings below cannot be trained (see there); this run stays."
            if signature is None
            else "Press **Reset** to start a new run with the new ones."
            if runs.owned("train")
            else "It is another browser's: continue from your own copy, "
            "then press **Reset** to start a new run with the new ones."
        ),
        icon=":material/info:",
    )


def stop() -> None:
    if runs.refuse("train"):
        return
    run = CONTROL.run()
    run.halt()  # every step taken is merged first, so the message names the last one
    controller.set_status(
        run, "done", f"Stopped at step {run.job.step:,}, as you asked. Reset starts a new run."
    )


def one_step() -> None:
    """One optimiser step, then paused: a teacher narrates an update at a time."""
    if runs.refuse("train"):
        return
    run = CONTROL.run()
    run.step_once()
    if run.job.status == "ready":
        run.job.status = "paused"


def more_steps() -> None:
    """Raise the budget of a finished or paused run and go on (the same run, bit for bit)."""
    if runs.refuse("train"):
        return
    run = CONTROL.run()
    run.halt()
    run.job.extend(int(st.session_state[MORE]))
    controller.set_status(run, "running")


CONTROL.run().poll(train=False)  # the newest state: the buttons follow it
status = trainer.status
CONTROL.run().rate = SPEEDS[st.session_state.get(SPEED) or "full speed"]
mine = runs.owned("train")
buttons = stage.columns(6) if mine else None
if not mine:  # another browser's run: no controls, a copy to continue instead
    runs.read_only_bar("train", stage)
else:
    CONTROL.status_buttons(buttons, status)
    buttons[3].button(
        "Stop",
        disabled=status not in ("running", "paused"),
        key="train_stop",
        width="stretch",
        on_click=stop,
        icon=":material/stop:",
    )
    buttons[4].button(
        "Reset",
        key="train_reset",
        width="stretch",
        disabled=signature is None,
        on_click=new_trainer,
        icon=":material/restart_alt:",
        help="A new run with the settings on the page: fresh seeded weights, step 0.",
    )
    buttons[5].button(
        "One step",
        key="train_one_step",
        width="stretch",
        on_click=one_step,
        disabled=status not in ("ready", "paused"),
        icon=":material/skip_next:",
        help="Take one optimiser step, then pause: one update at a time.",
    )
run_key = st.session_state[TASK]
options = stage.columns([2.2, 1.1, 1.1, 1.3], vertical_alignment="bottom")
options[0].segmented_control(
    "speed",
    list(SPEEDS),
    default="full speed",
    key=SPEED,
    persist_state="session",
    label_visibility="collapsed",
    width="stretch",
    help="Slow motion, to talk over a run: at most this many optimiser steps a second.",
)
options[1].number_input(
    "more steps",
    10,
    20_000,
    300,
    10,
    key=MORE,
    persist_state="session",
    label_visibility="collapsed",
    help="How many steps **Train more** adds to the budget.",
)
options[2].button(
    "Train more",
    key="train_extend",
    width="stretch",
    on_click=more_steps,
    disabled=status not in ("paused", "done")
    or trainer.status == "diverged"
    or trainer.step == 0
    or not mine,
    icon=":material/add:",
    help="Raise this run's step budget by the number beside and go on: the same "
    "run, as if the budget had been larger from the start.",
)
log_y = options[3].toggle("log-scale loss", value=True, key="train_log", persist_state="session")


@st.cache_data(show_spinner=False)
def tutorial_curves(seed: int) -> tuple[list[float], list[float], list[str]]:
    from explorer.tutorial import run_tutorial

    run = run_tutorial(seed)
    return run.scratch, run.torch, run.log


TICK = controller.tick()  # seconds between redraws while training: longer when the server is busy
SLOW = controller.slow_refresh()  # for the charts that change only at evaluations
GRADIENTS = controller.slow_refresh(0.61)  # ... out of step with SLOW too


@st.fragment(run_every=TICK if status == "running" else None)
def live() -> None:
    """Merge the steps the workers took, then redraw the progress and the loss curve; reruns on
    its own every TICK while the run trains (the training itself never waits for a redraw)."""
    # light: the curve and the step; the weights at the slower redraws
    tr, run, was_running = CONTROL.begin_redraw(TICK, light=True)
    controller.progress(tr, st.session_state.setdefault(CLOCK, []))
    controller.worker_messages(run)
    ui.status_message(tr)
    runs.messages("train", tr)
    if tr.last_eval is None:
        tr.evaluate()  # the untrained model: its predictions, and the baselines' losses
    extra = ()
    if run_key == "tutorial":
        scratch, concise, log = tutorial_curves(tr.task.seed)
        extra = (("tutorial, from scratch (one bias)", scratch), ("tutorial, nn.RNN", concise))
    ui.loss_chart(tr, st.session_state[META], log_y=log_y, extra=extra)
    if not tr.history:
        st.caption("Press **Start**: the loss curve grows here while training runs.")
    CONTROL.end_redraw(was_running)  # finished: redraw the buttons


@st.fragment(run_every=SLOW if status == "running" else None)
def predictions() -> None:
    """The latest evaluation's scores and predictions (they change only at evaluations)."""
    tr: Trainer = st.session_state[TRAINER]
    if tr.status == "running" and controller.slow_refresh() != SLOW:
        controller.rearm(controller.slow_refresh())  # the server's load changed (see live)
    CONTROL.run().poll(train=False)  # the newest weights and evaluation
    temperature = None
    if run_key == "char":  # here, not above: moving it redraws only this part of the page
        temperature = url_widget(
            st.slider,
            "temperature",
            "Sampling temperature",
            help="The samples below divide the model's logits by this before the softmax: low "
            "is safe and repetitive, 1 is the model's own distribution, high is adventurous.",
        )
    metrics = st.container()
    task_views.results(
        tr,
        run_key,
        st.session_state[META],
        metrics=metrics,
        chart=st.container(),
        temperature=temperature,
        seed=tr.config.seed,
    )


@st.fragment(run_every=GRADIENTS if status == "running" and TICK == controller.TICK else None)
def gradients() -> None:
    """Below the first screen: redrawn live only while the server is not busy (otherwise at
    Pause, at the end, or at any rerun)."""
    tr: Trainer = st.session_state[TRAINER]
    if tr.status == "running" and controller.tick() != controller.TICK:
        controller.rearm(None)  # the server got busy: no more live redraws of this part (see live)
    if run_key == "tutorial":
        _, _, log = tutorial_curves(tr.task.seed)
        st.caption(
            "The dotted and dashed curves are the tutorial's own loop (hidden 20, plain SGD at "
            "lr 0.01, 100 epochs): once written from scratch with one bias, once with nn.RNN "
            "started from the same numbers. They lie on top of each other. The solid curves are "
            f"your model: {describe(st.session_state[SIGNATURE][0])}, "
            f"{OPTIMIZER_LABELS[tr.config.optimizer]} at lr {tr.config.lr:g}."
        )
        with st.expander("The tutorial's printout"):
            st.code("\n".join(log), language=None)
    st.subheader("Gradients through time")
    ui.diagnostics(tr, run_key)


with stage:
    left, right = st.columns(2)
    with left:
        live()
    with right:
        predictions()
gradients()

st.subheader("Weights")
run_config = st.session_state[SIGNATURE][0]
a, b = st.columns(2)
with a:
    st.download_button(
        "Download the weights (safetensors)",
        # called when clicked, outside the script (no session state there): bind what it needs
        data=lambda run=CONTROL.run(), cfg=run_config: ui.weights_file(run, cfg),  # noqa: B008
        file_name=f"rnn-explorer-{run_config.cell}-{run_key}.safetensors",
        mime="application/octet-stream",
        key="train_download",
        on_click="ignore",
        icon=":material/download:",
        help="The model's state_dict in the safetensors format, its configuration in the "
        "header: no code inside, nothing to unpickle.",
    )
    st.caption(
        f"A{describe(run_config)[1:]}: {torch_total(trainer.model):,} parameters, "
        "saved as they are when you click."
    )
    if st.button(
        "Open this model in Step through",
        key="train_to_step",
        icon=":material/play_circle:",
        disabled=trainer.step == 0,
        help="Watch the trained cell's gates and states step by step.",
    ):
        st.session_state[STEP_WEIGHTS] = "trained"  # the Step-through page's weights choice
        st.session_state[STEP_OWN_INPUT] = True  # on the data of the task it learnt
        # only unbound parameters may be passed: without any, switch_page clears the URL and
        # refuses when a widget is bound to one (any setting not at its default); bound widgets
        # put their own values back in the URL when drawn
        switch_page(PAGES["step_through"].file, {"weights": "trained"})
with b:
    st.file_uploader(
        "Load weights saved here (.safetensors)",
        type=["safetensors"],
        key=UPLOAD,
        on_change=load_uploaded,
        help="A file from Download, for the same cell, sizes and task. Only tensors and a "
        "JSON config are read; nothing is unpickled.",
    )
    note = st.session_state.get(WEIGHTS_NOTE)
    if note:
        (st.error if note[0] == "error" else st.success)(note[1])
