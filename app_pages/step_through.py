"""Step through: watch h_t, c_t and every gate of the chosen cell, one time step at a time.

Steps are counted t = 1…T (as on the Learn page); h_0 (and c_0) is the state before step 1.
Playback runs in the browser (explorer/ui/player.py): the server draws the page for one
settled step and sends every step's numbers once; it hears from the player when it stops.
"""

import dataclasses

import numpy as np
import streamlit as st

from explorer import budget, build_from_config, charts, trace
from explorer.analysis import SATURATION_EDGES, display_stride, gate_bands, pca_2d
from explorer.cells import TextbookRNN
from explorer.clamps import clamped_trace
from explorer.config import CELLS, GATE_NAMES
from explorer.diagram import DIAGRAM_QUANTITIES, cell_diagram, diagram_animation
from explorer.equations import equation_html, unit_terms_over_time
from explorer.inputs import initial_state, to_features
from explorer.models import forget_bias, set_forget_bias
from explorer.tasks import example_input
from explorer.weights import describe
from explorer.url_params import STEP_PARAMS as DEFAULTS
from explorer.url_params import URL  # each setting is in the URL under its key
from explorer.teaching import article
from explorer.ui import (
    current_config,
    drop_page_data,
    links,
    presenter_mode,
    own_page_globals,
    sequence_input,
    show_chart,
    url_sync,
)
from explorer.ui.session_keys import STEP_OWN_INPUT, TRAIN_FROM_FILE, TRAINER_SIGNATURE
from explorer.ui.training import latest_trainer
from explorer.ui.player import follow, per_step, player_equations, player_head, settled_step

SPEEDS = [0.5, 1, 2, 4, 8]  # steps per second
WEIGHTS = {
    "fresh": "fresh, seeded initialisation",
    "forget1": "fresh, forget-gate bias 1.0",
    "trained": "trained on the Train page",
}
own_page_globals(globals())  # freed by refcounting at the next full run (no GC cycle)
presenting = presenter_mode.presenter()

config = current_config()
title = st.empty()  # filled once the weights (and so the cell) are known
# The settings a teacher changes least sit in popovers on one row, so that the player and the
# diagram fill the first screen; popovers (unlike expanders) stay in presenter mode.
row = st.container(horizontal=True, key="step_settings")
notes = st.container()  # what a setting could not do, in the page where it is seen
pop_input = row.popover("Input sequence", icon=":material/timeline:")
pop_weights = row.popover("Weights", icon=":material/tune:")
pop_state = row.popover("Initial state", icon=":material/start:")

# ---------------------------------------------------------------- weights: fresh or trained
trained = latest_trainer()  # the Train page's run, with the newest weights its workers sent
own = None  # with trained weights: explorer.tasks.Example of the model's own task
trained_config = (st.session_state.get(TRAINER_SIGNATURE) or (None,))[0]
with pop_weights:
    weights = url_sync.choice(
        st.radio,
        "Weights",
        WEIGHTS,
        "weights",
        DEFAULTS["weights"],
        help="The forget-gate bias trick applies to LSTMs: b_if + b_hf = 1 in every layer and "
        "direction.",
    )
if weights == "trained":
    from_file = st.session_state.get(TRAIN_FROM_FILE, False)  # weights uploaded on Train
    if trained is None or (trained.step == 0 and not from_file):
        notes.info(
            "Nothing has been trained yet: train a model on the **Train** page first. Showing "
            "fresh weights meanwhile.",
            icon=":material/info:",
        )
        weights = "fresh"
    else:
        config = trained_config
        own = example_input(trained.task)  # the data the model was trained on
if weights == "forget1" and (config.cell != "lstm" or not config.bias):
    notes.info(
        "The forget-gate bias belongs to an LSTM with biases; choose LSTM with bias in the "
        "sidebar. Showing fresh weights.",
        icon=":material/info:",
    )
    weights = "fresh"
spec = CELLS[config.cell]
title.title(f"Step through {article(spec.label)}")

# ---------------------------------------------------------------- the input sequence
axis_labels = None  # what each step reads, for the heatmaps' time axis (a text's characters)
with pop_input:
    use_own = own is not None and st.toggle(
        "Its own task's data",
        value=True,
        key=STEP_OWN_INPUT,
        help="A held-out sequence of the task the model was trained on (the char model reads "
        "text, the forecaster its series). Off: choose any input below.",
    )
    chosen = None if use_own else sequence_input(config.seed)
if use_own:
    x, axis_labels, description = own.x, own.labels, own.description
    alphabet = trained.task.alphabet if axis_labels else None
else:
    if chosen is None:
        notes.info(
            "Choose a usable input under **Input sequence** to step through it.",
            icon=":material/timeline:",
        )
        st.stop()
    signal, alphabet, description = chosen
    if alphabet is not None:  # text: one feature per character of the alphabet
        if weights == "trained" and len(alphabet) != config.input_size:
            st.error(
                f"The trained model reads {config.input_size} input(s) per step; this text's "
                f"one-hot code has {len(alphabet)}. Switch on “Its own task's data” under "
                "**Input sequence**, or pick fresh weights."
            )
            st.stop()
        x = signal
        config = dataclasses.replace(config, input_size=len(alphabet))
    else:
        x = to_features(signal, config.input_size)
T = x.shape[0]
if T < 2:
    st.warning(
        "A sequence of one step has nothing to step through: give at least two values.",
        icon=":material/warning:",
    )
    st.stop()
try:  # before the model is built: the largest one at T = 400 took 37 s of CPU
    budget.check_trace(config, T)
except ValueError as err:
    st.error(f"This view would take too long: {err}.", icon=":material/timer:")
    st.stop()

if weights == "trained":
    rnn = trained.model.rnn
    origin = f"trained for {trained.step} steps on the Train page"
    if from_file:
        origin = "loaded from a file on the Train page" + (
            f", then trained {trained.step} more steps" if trained.step else ""
        )
    about = (
        f"Weights: the {CELLS[config.cell].label} {origin} "
        f"(hidden_size {config.hidden_size}). Input: {description}."
    )
    st.sidebar.info(
        f"This page shows the model trained on the Train page: "
        f"{describe(trained_config)}. The cell settings above apply to fresh "
        "weights.",
        icon=":material/model_training:",
    )
else:
    rnn = build_from_config(config).rnn
    if weights == "forget1":
        set_forget_bias(rnn, 1.0)
    about = f"Fresh weights, seed {config.seed}; {description}."
st.caption(
    about
    + " Steps count t = 1…T, as on Learn; h₀"
    + (", c₀ are" if config.cell == "lstm" else " is")
    + " the state before step 1."
)  # the app's one convention, said once

L, D, H, H_out = config.num_layers, config.D, config.hidden_size, config.H_out


def _initial_state(name: str, key: str, shape: tuple[int, int], seed: int):
    """Widgets for one initial state (h₀ or c₀) and the ``(L·D, size)`` tensor they give; a
    typed value that does not parse gives zeros, with the reason, and leaves the other alone."""
    kind = st.radio(
        name,
        ["zeros", "random", "typed"],
        horizontal=True,
        key=key,
        bind=URL,
        persist_state="session",
    )
    text = ""
    if kind == "typed":
        text = st.text_input(
            f"typed {name}: one number, or {shape[1]} numbers",
            DEFAULTS[f"{key}_values"],
            key=f"{key}_values",
            bind=URL,
            persist_state="session",
        )
    try:
        return initial_state(kind, shape, seed=seed, text=text)
    except ValueError as err:
        notes.error(f"{name}: {err}. Using zeros.", icon=":material/error:")
        return initial_state("zeros", shape)


with pop_state:
    h0 = _initial_state("h₀", "h0", (L * D, H_out), config.seed)
    c0 = _initial_state("c₀", "c0", (L * D, H), config.seed + 1) if config.cell == "lstm" else None

if weights == "forget1":
    fb = forget_bias(rnn)
    st.caption(
        "Forget-gate bias b_if + b_hf: "
        + ", ".join(f"{name}: {v.min().item():.2f}…{v.max().item():.2f}" for name, v in fb.items())
    )

tr = trace(rnn, x, h0, c0)

# ---------------------------------------------------------------- what-if clamps
clamp_run = None
clamp_from = DEFAULTS["clamp_from"]
if spec.gates:
    with row.popover("What if… clamp a gate", icon=":material/lock:"):
        st.caption(
            "Force gates to a constant from a chosen step on, in every layer and "
            "direction, and compare with the normal run. Try forget = 1 and input = 0: "
            "the LSTM's cell state freezes."
        )
        cols = st.columns(len(spec.gates) + 1)
        clamps = {}
        for col, g in zip(cols, spec.gates):
            choice = col.selectbox(
                GATE_NAMES[g],
                ["free", 0.0, 0.5, 1.0] if g not in "gn" else ["free", -1.0, 0.0, 1.0],
                key=f"clamp_{g}",
                bind=URL,
                persist_state="session",
            )
            if choice != "free":
                clamps[g] = float(choice)
        clamp_from = int(
            cols[-1].number_input(
                "from step t",
                *links.bounds("clamp_from", 1, T),
                DEFAULTS["clamp_from"],
                key="clamp_from",
                bind=URL,
                persist_state="session",
            )
        )
        clamp_from = min(max(clamp_from, 1), T)
        if clamps:
            clamp_run = clamped_trace(rnn, x, clamps, clamp_from - 1, h0=h0, c0=c0)

# ---------------------------------------------------------------- where the player stands
# The position t (1…T) lives in "step_pos": the slider widget ("step_t") is reset by Streamlit
# whenever its range changes (a new length T), and the position must survive that. In the URL
# it is ``t``, synced by hand; the browser's player reports where it stopped (never a frame).
url_sync.from_url(
    "t",
    url_sync.int_in(1, T),
    DEFAULTS["t"],
    key="step_pos",
    expected=f"this sequence's steps are 1…{T}",
)
stopped = settled_step("step_player")
if stopped is not None:
    st.session_state["step_pos"] = stopped
st.session_state["step_pos"] = int(np.clip(st.session_state.get("step_pos", 1), 1, T))


def _move(delta: int = 0, to: int | None = None) -> None:
    pos = st.session_state["step_pos"] if to is None else to
    st.session_state["step_pos"] = int(np.clip(pos + delta, 1, T))


def _slid() -> None:
    st.session_state["step_pos"] = st.session_state["step_t"]


def _select_unit() -> None:
    """A click on a bar of the "values at step t" chart selects that bar's unit."""
    points = st.session_state["step_values"].selection.points
    if points:
        st.session_state["unit"] = int(points[0]["point_index"])  # bars sit at x = unit


if st.session_state.get("unit", 0) >= H:
    st.session_state["unit"] = 0
wide = [0.55, 0.55, 0.55, 5, 2.6, 1.4] + [1.4] * (L > 1) + [1.9] * (D == 2)
c = st.columns(wide, vertical_alignment="bottom")
c[0].button(
    "",
    icon=":material/first_page:",
    key="step_first",
    help="jump to t = 1",
    on_click=_move,
    kwargs={"to": 1},
    width="stretch",
)
c[1].button(
    "",
    icon=":material/chevron_left:",
    key="step_back",
    help="one step back",
    on_click=_move,
    args=(-1,),
    width="stretch",
)
c[2].button(
    "",
    icon=":material/chevron_right:",
    key="step_forward",
    help="one step forward",
    on_click=_move,
    args=(+1,),
    width="stretch",
)
st.session_state["step_t"] = st.session_state["step_pos"]
t = c[3].slider("time step t", 1, T, key="step_t", on_change=_slid)
speed = c[4].select_slider(
    "speed (steps/s)",
    SPEEDS,
    value=DEFAULTS["speed"],
    key="speed",
    bind=URL,
    persist_state="session",
)
unit = c[5].number_input(
    "unit",
    *links.bounds("unit", 0, H - 1),
    DEFAULTS["unit"],
    key="unit",
    bind=URL,
    persist_state="session",
    help="The unit shown in the diagram and the equations; clicking a bar of the chart "
    "“Values at step t” selects its unit too.",
)
layer = (
    c[6].selectbox("layer", list(range(L)), key="layer", bind=URL, persist_state="session")
    if L > 1
    else 0
)
direction = (
    ["forward", "reverse"].index(
        c[-1].selectbox(
            "direction",
            ["forward", "reverse"],
            key="direction",
            bind=URL,
            persist_state="session",
        )
    )
    if D == 2
    else 0
)
url_sync.to_url("t", t, DEFAULTS["t"])  # settled: the URL says where we are

# ---------------------------------------------------------------- every step's numbers, once
quantities = {k: v.numpy() for k, v in tr.quantities(layer, direction).items()}  # (T, ·)
x_np = x.numpy()
terms = {
    k: v.numpy()
    for k, v in unit_terms_over_time(
        rnn, tr, layer=layer, direction=direction, unit=unit, h0=h0, c0=c0
    ).items()
}  # (T,) each
over_time = {k: terms[f"{k}.val"] for k in spec.gates}  # the diagram's numbers, step by step
over_time.update({k: terms[k] for k in ("h", "h_prev", "c", "c_prev") if k in terms})
if layer == 0 and alphabet is None:  # above layer 0, or for one-hot text, x_t is a vector
    over_time["x"] = x_np[:, 0]
over_time = {k: v for k, v in over_time.items() if k in DIAGRAM_QUANTITIES[config.cell]}
labels = [
    f"input {alphabet[int(x_t.argmax())]!r}" if alphabet else f"x_t = {x_t[0]:.3f}" for x_t in x_np
]

player_head(
    key="step_player",
    T=T,
    t=t,
    speed=speed,
    labels=labels,
    diagram=diagram_animation(config.cell, {k: per_step(v) for k, v in over_time.items()}),
)
diagram = cell_diagram(
    config.cell,
    {k: float(v[t - 1]) for k, v in over_time.items()},
    unit=unit,
    step=t,
    height=420,
    nonlinearity=config.nonlinearity,
)
st.plotly_chart(
    presenter_mode.for_screen(follow(diagram, "diagram", t)),
    width="content",
    key="diagram",
    config={"displaylogo": False},
)
player_equations(
    key="step_equations",
    T=T,
    t=t,
    head=f"<b>Unit {unit}, layer {layer}"
    + (", reverse" if direction else "")
    + ", step t = {t}</b>, in PyTorch's form:",
    lines=equation_html(
        config.cell,
        bias=config.bias,
        nonlinearity=config.nonlinearity,
        proj_size=config.proj_size,
        unit=unit,
        H_out=H_out,
    ),
    frames={k: per_step(v) for k, v in terms.items()},
)
if not presenting:
    st.caption(
        "Play runs in your browser; pause, or move with the buttons and the slider, and the "
        "whole page shows that step. The diagram, the equations and the heatmap cursors "
        "follow the player. Hover a heatmap for t, unit and value; click a bar of the last "
        "chart to follow that unit."
    )

# ---------------------------------------------------------------- heatmaps at the settled step
stride = display_stride(T)
low = min(0.0, min(float(v.min()) for v in quantities.values()))
value_range = (1.1 * low, 1.1 * max(1.0, max(float(v.max()) for v in quantities.values())))
if stride > 1:
    st.caption(f"The sequence has {T} steps: the heatmaps show every {stride}th step.")
if direction == 1:
    st.caption("Reverse direction: the state at position t has read x_T … x_t.")
cols = st.columns(2)
if alphabet is None:  # the signal with the cursor (a one-hot text is shown by its letter)
    with cols[0]:
        show_chart(
            follow(charts.sequence(x_np[:, :1], t, height=260), "cursor", t), key="input_chart"
        )
for k, (name, vals) in enumerate(quantities.items(), start=alphabet is None):
    with cols[k % 2]:
        style = charts.style_for(name, vals, config.nonlinearity)
        show_chart(
            follow(
                charts.heatmap(
                    vals,
                    style,
                    step=t,
                    stride=stride,
                    unit=unit if vals.shape[1] > unit else None,
                    labels=axis_labels,
                ),
                "cursor",
                t,
            ),
            key=f"heatmap_{name}",
        )
now = {name: vals[t - 1] for name, vals in quantities.items()}
st.plotly_chart(
    presenter_mode.for_screen(
        follow(charts.step_values(now, t, y_range=value_range), "settled", t)
    ),
    width="stretch",
    key="step_values",
    on_select=_select_unit,
    selection_mode="points",
    config={"displaylogo": False},
)

# ---------------------------------------------------------------- whole-sequence views
st.subheader("The whole sequence")
a, b = st.columns(2)
with a:
    coords, explained = pca_2d(quantities["h"])
    show_chart(charts.trajectory(coords, explained), key="trajectory")
with b:
    if spec.gates:
        show_chart(
            charts.saturation_bars(
                gate_bands({g: quantities[g] for g in spec.gates}), SATURATION_EDGES
            ),
            key="saturation",
        )
        st.caption(
            "A saturated gate sits near 0 (closed: it blocks) or near 1 (open: it passes), in "
            "the dark and yellow bands. All in the middle band means no gate commits yet, as "
            "with fresh weights: train the model, or set the forget-gate bias to 1, and watch "
            "the bars move. A forget gate mostly above 0.9 holds its memory; below 0.1 it "
            "clears it."
        )
    else:
        st.info("A vanilla RNN has no gates: its only state is h_t.")
if L > 1:
    show_chart(
        charts.layer_stack(tr.hidden.numpy(), direction=direction, stride=stride), key="layer_stack"
    )

if clamp_run is not None:
    st.subheader("Normal vs clamped run")
    name = "c" if clamp_run.cell is not None else "h"
    normal = tr.cell if name == "c" else tr.hidden
    clamped = clamp_run.cell if name == "c" else clamp_run.hidden
    u = min(unit, normal.shape[-1] - 1)
    show_chart(
        charts.compare_runs(
            normal[layer, direction, :, u].numpy(),
            clamped[layer, direction, :, u].numpy(),
            label=f"{charts.QUANTITY_STYLES[name].label}, unit {u}",
            from_step=clamp_from,
        ),
        key="clamp_compare",
    )

if config.cell == "rnn" and alphabet is None:
    with st.expander("The tutorial's textbook RNN next to nn.RNN"):
        textbook = TextbookRNN.from_torch(rnn)
        ours = textbook.forward(x, h0[0])
        diff = float((ours - tr.hidden[0, 0]).abs().max())
        act = r"\tanh" if config.nonlinearity == "tanh" else r"\operatorname{ReLU}"
        st.latex(
            rf"h_t = {act}(x_t W_{{xh}} + h_{{t-1}} W_{{hh}} + b_h), \quad "
            r"W_{xh} = W_{ih}^\top,\ W_{hh}^{\text{textbook}} = W_{hh}^\top,\ b_h = b_{ih} + b_{hh}"
        )
        st.markdown(
            f"Layer 0, forward: the one-bias loop and `nn.RNN` differ by at most "
            f"**{diff:.1e}** over all {T} steps and {H} units (float32 rounding)."
        )

drop_page_data(globals())  # drawn: the model and traces are not kept until the next rerun
