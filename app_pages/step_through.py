"""Step through: watch h_t, c_t and every gate of the chosen cell, one time step at a time."""

import dataclasses
import time

import numpy as np
import streamlit as st

from explorer import build_from_config, charts, trace
from explorer.cells import TextbookRNN
from explorer.analysis import display_stride, pca_2d, saturation
from explorer.clamps import clamped_trace
from explorer.config import CELLS, GATE_NAMES
from explorer.diagram import cell_diagram
from explorer.equations import equation_latex, unit_terms
from explorer.inputs import initial_state, to_features
from explorer.models import forget_bias, set_forget_bias
from explorer.tasks import example_input
from explorer.teaching import article
from explorer.weights import describe
from explorer.presets import STEP_PARAMS as DEFAULTS
from explorer.ui import current_config, links, sequence_input, show_chart

SPEEDS = [0.5, 1, 2, 4, 8]  # steps per second
URL = "query-params"  # each setting is in the URL under its key: a link reproduces the view
WEIGHTS = {
    "fresh": "fresh, seeded initialisation",
    "forget1": "fresh, forget-gate bias 1.0",
    "trained": "trained on the Train page",
}
presenting = links.presenter()

config = current_config()
title = st.empty()  # filled once the weights (and so the cell) are known

# ---------------------------------------------------------------- weights: fresh or trained
trained = st.session_state.get("trainer")
own = None  # with trained weights: explorer.tasks.Example of the model's own task
trained_config = (st.session_state.get("trainer_signature") or (None,))[0]
weights = links.choice(
    st.radio,
    "Weights",
    WEIGHTS,
    "weights",
    DEFAULTS["weights"],
    horizontal=True,
    help="The forget-gate bias trick applies to LSTMs: b_if + b_hf = 1 in every layer and direction.",
)
if weights == "trained":
    from_file = st.session_state.get("train_from_file", False)  # weights uploaded on Train
    if trained is None or (trained.step == 0 and not from_file):
        st.info(
            "Nothing has been trained yet: train a model on the **Train** page first. Showing "
            "fresh weights meanwhile.",
            icon=":material/info:",
        )
        weights = "fresh"
    else:
        config = trained_config
        own = example_input(trained.task)  # the data the model was trained on
if weights == "forget1" and (config.cell != "lstm" or not config.bias):
    st.info(
        "The forget-gate bias belongs to an LSTM with biases; choose LSTM with bias in the "
        "sidebar. Showing fresh weights.",
        icon=":material/info:",
    )
    weights = "fresh"
spec = CELLS[config.cell]
title.title(f"Step through {article(spec.label)}")

# ---------------------------------------------------------------- the input sequence
labels = None  # what each step reads, for the heatmaps' time axis (a text's characters)
if own is not None and st.toggle(
    "Its own task's data", value=True, key="step_own_input",
    help="A held-out sequence of the task the model was trained on (the char model reads "
         "text, the forecaster its series). Off: choose any input below.",
):
    x, labels, description = own.x, own.labels, own.description
    alphabet = trained.task.alphabet if labels else None
else:
    chosen = sequence_input(config.seed)
    if chosen is None:
        st.stop()
    signal, alphabet, description = chosen
    if alphabet is not None:  # text: one feature per character of the alphabet
        if weights == "trained" and len(alphabet) != config.input_size:
            st.error(
                f"The trained model reads {config.input_size} input(s) per step; this text's "
                f"one-hot code has {len(alphabet)}. Switch on “Its own task's data” above, or "
                "pick fresh weights."
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

if weights == "trained":
    rnn = trained.model.rnn
    origin = f"trained for {trained.step} steps on the Train page"
    if from_file:
        origin = "loaded from a file on the Train page" + (
            f", then trained {trained.step} more steps" if trained.step else "")
    st.caption(
        f"Weights: the {CELLS[config.cell].label} {origin} "
        f"(hidden_size {config.hidden_size}). Input: {description}."
    )
    st.sidebar.info(f"This page shows the model trained on the Train page: "
                    f"{describe(trained_config)}. The cell settings above apply to fresh "
                    "weights.", icon=":material/model_training:")
else:
    rnn = build_from_config(config).rnn
    if weights == "forget1":
        set_forget_bias(rnn, 1.0)
    st.caption(f"Weights: fresh, seed {config.seed}. Input: {description}.")

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
        st.error(f"{name}: {err}. Using zeros.", icon=":material/error:")
        return initial_state("zeros", shape)


with st.expander("Initial state h₀" + (" and c₀" if config.cell == "lstm" else "")):
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
if spec.gates:
    with st.expander("What if… clamp a gate"):
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
        from_step = cols[-1].number_input(
            "from step",
            *links.bounds("clamp_from", 0, T - 1),
            DEFAULTS["clamp_from"],
            key="clamp_from",
            bind=URL,
            persist_state="session",
        )
        if clamps:
            clamp_run = clamped_trace(rnn, x, clamps, int(min(from_step, T - 1)), h0=h0, c0=c0)

# ---------------------------------------------------------------- selectors
sel = st.columns(3)
layer = (
    sel[0].selectbox("layer", list(range(L)), key="layer", bind=URL, persist_state="session")
    if L > 1
    else 0
)
direction = (
    ["forward", "reverse"].index(
        sel[1].selectbox(
            "direction", ["forward", "reverse"], key="direction", bind=URL, persist_state="session"
        )
    )
    if D == 2
    else 0
)
if st.session_state.get("unit", 0) >= H:
    st.session_state["unit"] = 0
stride = display_stride(T)

quantities = tr.quantities(layer, direction)
quantities = {k: v.numpy() for k, v in quantities.items()}
x_np = x.numpy()
low = min(0.0, min(float(v.min()) for v in quantities.values()))
value_range = (1.1 * low, 1.1 * max(1.0, max(float(v.max()) for v in quantities.values())))

# ---------------------------------------------------------------- playback (a fragment)
# The position lives in "step_pos": the slider widget ("step_t") is reset by Streamlit whenever
# its range changes (a new length T), and the position must survive that. In the URL it is
# ``t``, synced by hand: written when it settles, never on every frame while playing (each
# write from Python adds a Back-button entry).
links.from_url(
    "t",
    links.int_in(0, T - 1),
    DEFAULTS["t"],
    key="step_pos",
    expected=f"this sequence's steps are 0…{T - 1}",
)
st.session_state["step_pos"] = int(np.clip(st.session_state.get("step_pos", 0), 0, T - 1))


def _move(delta: int = 0, to: int | None = None) -> None:
    pos = st.session_state["step_pos"] if to is None else to
    st.session_state["step_pos"] = int(np.clip(pos + delta, 0, T - 1))


def _slid() -> None:
    st.session_state["step_pos"] = st.session_state["step_t"]


def _select_unit() -> None:
    """A click on a bar of the "values at step t" chart selects that bar's unit."""
    points = st.session_state["step_values"].selection.points
    if points:
        st.session_state["unit"] = int(points[0]["point_index"])  # bars sit at x = unit


def _play_changed() -> None:
    if not st.session_state["step_playing"]:
        return
    stale_window = 0.5 + 1.2 / st.session_state.get("speed", DEFAULTS["speed"])  # about one timer tick
    if time.monotonic() - st.session_state.get("step_ended", -1e9) < stale_window:
        # a timer frame sent before playback stopped itself at the end still carries the
        # toggle's old "on": it is not the user asking to replay
        st.session_state["step_playing"] = False
    elif st.session_state["step_pos"] >= T - 1:
        st.session_state["step_pos"] = 0  # playing from the end starts over, at t = 0
        st.session_state["step_hold"] = True


# Play and speed sit outside the fragment: changing them reruns the page once, which re-arms
# the fragment's timer; every frame after that reruns the fragment only. Play is a toggle, not
# a button: a toggle's value travels with every message to the server, so a pause cannot be
# lost in a race with a timer-driven frame (a button's one-shot click can be).
if st.session_state.pop("step_stop", False):
    st.session_state["step_playing"] = False
    st.session_state["step_ended"] = time.monotonic()
top = st.columns([2, 3, 5])
playing = top[0].toggle(
    "Play",
    key="step_playing",
    on_change=_play_changed,
    help="Play the sequence at the chosen speed; switch off to pause.",
)
speed = top[1].select_slider(
    "speed (steps/s)",
    SPEEDS,
    value=DEFAULTS["speed"],
    key="speed",
    bind=URL,
    persist_state="session",
)


@st.fragment(run_every=1 / speed if playing else None)
def player() -> None:
    """Step controls, diagram, equations and heatmaps: they move together, without a page
    rerun."""
    if st.session_state.get("step_playing"):
        if st.session_state["step_pos"] >= T - 1:
            # the end: the toggle's state may only be written before the toggle is drawn, so
            # ask the next full run to switch it off (and with it the timer)
            st.session_state["step_stop"] = True
            st.rerun()
        if not st.session_state.pop("step_hold", False):  # a replay shows t = 0 first
            _move(+1)
    c = st.columns([1, 1, 1, 2, 6])
    c[0].button(
        "",
        icon=":material/first_page:",
        key="step_first",
        help="jump to t = 0",
        on_click=_move,
        kwargs={"to": 0},
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
    unit = c[3].number_input(
        "unit",
        *links.bounds("unit", 0, H - 1),
        DEFAULTS["unit"],
        key="unit",
        bind=URL,
        persist_state="session",
        help="The unit shown in the diagram and the equations; clicking a "
        "bar of the chart at the bottom selects its unit too.",
    )
    seen, st.session_state["step_unit_seen"] = st.session_state.get("step_unit_seen"), unit
    if clamp_run is not None and seen is not None and seen != unit:
        st.rerun()  # the clamp comparison below the player follows the unit
    st.session_state["step_t"] = st.session_state["step_pos"]
    t = c[4].slider("time step t", 0, T - 1, key="step_t", on_change=_slid)
    if not st.session_state.get("step_playing"):  # settled: the URL says where we are
        # a timer or button rerun of this fragment alone never reaches the script's end,
        # where the other settings are written: write t now
        links.to_url("t", t, DEFAULTS["t"], now=not st.session_state.get("step_full_run"))
    st.markdown(
        f"#### t = {t} of {T - 1}"
        + (
            f" · input {alphabet[int(x_np[t].argmax())]!r}"
            if alphabet
            else f" · x_t = {x_np[t, 0]:.3f}"
        )
    )
    if alphabet is None:  # the signal with the cursor (a one-hot text is shown by its letter)
        show_chart(charts.sequence(x_np[:, :1], t), key="input_chart")

    terms = unit_terms(rnn, tr, layer=layer, direction=direction, t=t, unit=unit, h0=h0, c0=c0)
    values = {k: float(v[t, unit]) for k, v in quantities.items() if v.shape[1] > unit}
    if layer == 0 and alphabet is None:  # above layer 0, or for one-hot text, x_t is a vector
        values["x"] = float(x_np[t, 0])
    prev = t - 1 if direction == 0 else t + 1
    start = h0[layer * D + direction]
    values["h_prev"] = (
        float(quantities["h"][prev, unit] if 0 <= prev < T else start[unit])
        if unit < H_out
        else float("nan")
    )
    if "c" in quantities:
        values["c_prev"] = float(
            quantities["c"][prev, unit] if 0 <= prev < T else c0[layer * D + direction][unit]
        )
    st.plotly_chart(
        links.for_screen(
            cell_diagram(
                config.cell, values, unit=unit, step=t, height=420,
                nonlinearity=config.nonlinearity,
            )
        ),
        width="content",
        key="diagram",
        config={"displaylogo": False},
    )
    st.markdown(
        f"**Unit {unit}, layer {layer}"
        + (", reverse" if direction else "")
        + f", step t = {t}**, in PyTorch's form:"
    )
    for line in equation_latex(config.cell, terms, nonlinearity=config.nonlinearity):
        st.latex(line)

    if stride > 1:
        st.caption(f"The sequence has {T} steps: the heatmaps show every {stride}th step.")
    if direction == 1:
        st.caption("Reverse direction: the state at position t has read x_{T-1} … x_t.")
    cols = st.columns(2)
    for k, (name, vals) in enumerate(quantities.items()):
        with cols[k % 2]:
            style = charts.style_for(name, vals, config.nonlinearity)
            show_chart(
                charts.heatmap(
                    vals, style, step=t, stride=stride, unit=unit if vals.shape[1] > unit else None,
                    labels=labels,
                ),
                key=f"heatmap_{name}",
            )
    now = {name: vals[t] for name, vals in quantities.items()}
    st.plotly_chart(
        links.for_screen(charts.step_values(now, t, y_range=value_range)),
        width="stretch",
        key="step_values",
        on_select=_select_unit,
        selection_mode="points",
        config={"displaylogo": False},
    )


st.subheader("Step by step")
if not presenting:
    st.caption(
        "Play, or move with the buttons and the slider: the diagram, the equations and the "
        "heatmap cursors follow. Hover a heatmap for t, unit and value; click a bar of the "
        "last chart to follow that unit."
    )
st.session_state["step_full_run"] = True
player()
st.session_state["step_full_run"] = False

# ---------------------------------------------------------------- whole-sequence views
st.subheader("The whole sequence")
a, b = st.columns(2)
with a:
    coords, explained = pca_2d(quantities["h"])
    show_chart(charts.trajectory(coords, explained), key="trajectory")
with b:
    if spec.gates:
        show_chart(
            charts.saturation_bars(saturation({g: quantities[g] for g in spec.gates})),
            key="saturation",
        )
        if not presenting:
            st.caption(
                "A forget gate mostly above 0.9 holds its memory; mostly below 0.1 it clears it."
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
    u = min(st.session_state.get("unit", 0), normal.shape[-1] - 1)
    show_chart(
        charts.compare_runs(
            normal[layer, direction, :, u].numpy(),
            clamped[layer, direction, :, u].numpy(),
            label=f"{charts.QUANTITY_STYLES[name].label}, unit {u}",
            from_step=int(st.session_state.get("clamp_from", 0)),
        ),
        key="clamp_compare",
    )

if config.cell == "rnn" and alphabet is None:
    with st.expander("The tutorial's textbook RNN next to nn.RNN"):
        textbook = TextbookRNN.from_torch(rnn)
        ours = textbook.forward(x, h0[0] if L * D >= 1 else None)
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
