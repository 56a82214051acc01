"""Step through: watch h_t, c_t and every gate of the chosen cell, one time step at a time.

Steps are counted t = 1…T (as on the Learn page); h_0 (and c_0) is the state before step 1.
Playback runs in the browser (explorer/ui/player.py): the server draws the page for one
settled step and sends every step's numbers once; it hears from the player when it stops.
"""

import dataclasses

import streamlit as st

from explorer import budget, build_from_config, charts, trace
from explorer.analysis import SATURATION_EDGES, display_stride, gate_bands, pca_2d
from explorer.clamps import clamped_trace
from explorer.config import CELLS
from explorer.diagram import cell_diagram, diagram_animation
from explorer.equations import equation_html
from explorer.inputs import initial_state, to_features
from explorer.models import set_forget_bias
from explorer.stepping import (
    StepNumbers,
    clamp_comparison,
    forget_bias_spans,
    hidden_layers,
    step_numbers,
    textbook_rnn_difference,
)
from explorer.tasks import example_input
from explorer.teaching import GATE_NAMES, article
from explorer.ui import (
    current_config,
    drop_page_data,
    own_page_globals,
    presenter_mode,
    sequence_input,
    show_chart,
    url_sync,
)
from explorer.ui.player import (
    EQUATIONS,
    PLAYER,
    VALUES,
    follow,
    per_step,
    player_controls,
    player_equations,
    player_head,
    select_unit,
)
from explorer.ui.session_keys import STEP_OWN_INPUT, TRAIN_FROM_FILE, TRAINER_SIGNATURE
from explorer.ui.train_controls import latest_trainer
from explorer.ui.url_sync import url_widget  # each setting is in the URL under its key
from explorer.url_params import STEP_PARAMS as DEFAULTS
from explorer.weights import describe

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
    bias = ""
    if weights == "forget1":
        set_forget_bias(rnn, 1.0)
        bias = ", forget-gate bias 1.0"  # as the Weights choice says (WEIGHTS)
    about = f"Fresh weights{bias}, seed {config.seed}; {description}."
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
    kind = url_widget(st.radio, key, name, horizontal=True)
    text = ""
    if kind == "typed":
        text = url_widget(
            st.text_input, f"{key}_values", f"typed {name}: one number, or {shape[1]} numbers"
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
    st.caption(
        "Forget-gate bias b_if + b_hf: "
        + ", ".join(
            f"{name}: {lo:.2f}…{hi:.2f}" for name, (lo, hi) in forget_bias_spans(rnn).items()
        )
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
            choice = url_widget(col.selectbox, f"clamp_{g}", GATE_NAMES[g])
            if choice != "free":
                clamps[g] = float(choice)
        clamp_from = int(
            url_widget(cols[-1].number_input, "clamp_from", "from step t", low=1, high=T)
        )
        clamp_from = min(max(clamp_from, 1), T)
        if clamps:
            clamp_run = clamped_trace(rnn, x, clamps, clamp_from - 1, h0=h0, c0=c0)


# ---------------------------------------------------------------- where the player stands
t, speed, unit, layer, direction = player_controls(T, H=H, L=L, D=D)

# ---------------------------------------------------------------- every step's numbers, once
numbers = step_numbers(
    rnn,
    tr,
    x,
    cell=config.cell,
    layer=layer,
    direction=direction,
    unit=unit,
    h0=h0,
    c0=c0,
    alphabet=alphabet,
)


def _player(numbers: StepNumbers, t: int, speed: float) -> None:
    """The player (Play, the step's label), the cell diagram and the unit's equations, which
    follow the player in the browser; drawn for the settled step ``t``."""
    player_head(
        key=PLAYER,
        T=T,
        t=t,
        speed=speed,
        labels=numbers.labels,
        diagram=diagram_animation(
            config.cell, {k: per_step(v) for k, v in numbers.diagram.items()}
        ),
    )
    diagram = cell_diagram(
        config.cell,
        {k: float(v[t - 1]) for k, v in numbers.diagram.items()},
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
        key=EQUATIONS,
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
        frames={k: per_step(v) for k, v in numbers.terms.items()},
    )
    if not presenting:
        st.caption(
            "Play runs in your browser; pause, or move with the buttons and the slider, and the "
            "whole page shows that step. The diagram, the equations and the heatmap cursors "
            "follow the player. Hover a heatmap for t, unit and value; click a bar of the last "
            "chart to follow that unit."
        )


# ---------------------------------------------------------------- heatmaps at the settled step
def _heatmaps(numbers: StepNumbers, t: int, stride: int) -> None:
    """The input and every quantity over time (every ``stride``-th step), a cursor at ``t``,
    and every unit's values at ``t`` (a click on a bar selects its unit)."""
    if stride > 1:
        st.caption(f"The sequence has {T} steps: the heatmaps show every {stride}th step.")
    if direction == 1:
        st.caption("Reverse direction: the state at position t has read x_T … x_t.")
    cols = st.columns(2)
    if alphabet is None:  # the signal with the cursor (a one-hot text is shown by its letter)
        with cols[0]:
            show_chart(
                follow(charts.sequence(numbers.signal, t, height=260), "cursor", t),
                key="input_chart",
            )
    for k, (name, vals) in enumerate(numbers.quantities.items(), start=alphabet is None):
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
    st.plotly_chart(
        presenter_mode.for_screen(
            follow(
                charts.step_values(numbers.at(t), t, y_range=numbers.value_range()), "settled", t
            )
        ),
        width="stretch",
        key=VALUES,
        on_select=select_unit,
        selection_mode="points",
        config={"displaylogo": False},
    )


# ---------------------------------------------------------------- whole-sequence views
def _whole_sequence(numbers: StepNumbers, stride: int) -> None:
    """The state's trajectory, the gates' saturation and the layer stack, over all steps."""
    st.subheader("The whole sequence")
    a, b = st.columns(2)
    with a:
        coords, explained = pca_2d(numbers.quantities["h"])
        show_chart(charts.trajectory(coords, explained), key="trajectory")
    with b:
        if spec.gates:
            show_chart(
                charts.saturation_bars(
                    gate_bands({g: numbers.quantities[g] for g in spec.gates}), SATURATION_EDGES
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
            charts.layer_stack(hidden_layers(tr), direction=direction, stride=stride),
            key="layer_stack",
        )


def _clamped() -> None:
    """The normal run next to the clamped one, for the chosen unit."""
    st.subheader("Normal vs clamped run")
    name, u, normal, clamped = clamp_comparison(
        tr, clamp_run, layer=layer, direction=direction, unit=unit
    )
    show_chart(
        charts.compare_runs(
            normal,
            clamped,
            label=f"{charts.QUANTITY_STYLES[name].label}, unit {u}",
            from_step=clamp_from,
        ),
        key="clamp_compare",
    )


def _textbook_rnn() -> None:
    """The tutorial's one-bias loop next to ``nn.RNN``, on this input."""
    with st.expander("The tutorial's textbook RNN next to nn.RNN"):
        diff = textbook_rnn_difference(rnn, x, tr, h0)
        act = r"\tanh" if config.nonlinearity == "tanh" else r"\operatorname{ReLU}"
        st.latex(
            rf"h_t = {act}(x_t W_{{xh}} + h_{{t-1}} W_{{hh}} + b_h), \quad "
            r"W_{xh} = W_{ih}^\top,\ W_{hh}^{\text{textbook}} = W_{hh}^\top,\ b_h = b_{ih} + b_{hh}"
        )
        st.markdown(
            f"Layer 0, forward: the one-bias loop and `nn.RNN` differ by at most "
            f"**{diff:.1e}** over all {T} steps and {H} units (float32 rounding)."
        )


_player(numbers, t, speed)
stride = display_stride(T)
_heatmaps(numbers, t, stride)
_whole_sequence(numbers, stride)
if clamp_run is not None:
    _clamped()
if config.cell == "rnn" and alphabet is None:
    _textbook_rnn()

drop_page_data(globals())  # drawn: the model and traces are not kept until the next rerun
