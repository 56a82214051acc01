"""Learn: the tutorial this project grew from, as a live page a teacher follows top to bottom.

Six sections (structure, how it runs, three kinds, counting parameters, where RNNs are used,
the code), each interactive and each linking to the page that goes deeper. Every widget's key
starts with ``learn_`` and is bound to the URL, so a link reproduces the view. Each section is
a fragment: moving one of its widgets reruns that section only.
"""

import streamlit as st

from explorer import count_parameters, lesson, lesson_figures, tutorial
from explorer.params import built_total
from explorer.presets import PRESETS
from explorer.teaching import TWO_BIASES, equations
from explorer.ui import show_chart
from explorer.ui.presets_menu import preset_link
from explorer.ui.url_sync import url_widget
from explorer.url_params import PAGES, PARAMS

STEP, COMPARE = PAGES["step_through"].file, PAGES["compare"].file  # pages linked to


def _preset_button(key: str, label: str) -> None:
    """A link that opens preset ``key`` on its page, set up, as the sidebar's Presets menu
    does (explorer.presets holds them)."""
    preset_link(key, label, icon=":material/bookmark:", help=PRESETS[key].look_for)


def _slider(key: str, label: str, where=st, **kw):
    """A slider bound to the URL: bounds and default from ``explorer.url_params``."""
    return url_widget(where.slider, key, label, **kw)


def _number(key: str, label: str, where=st, **kw) -> int:
    return int(url_widget(where.number_input, key, label, **kw))


def _link_row(*links: tuple) -> None:
    """Links side by side: ``(preset key, label)`` opens a preset (:func:`_preset_button`),
    ``(page file, label, icon)`` a page."""
    for column, link in zip(st.columns(len(links)), links):
        with column:
            if len(link) == 2:
                _preset_button(*link)
            else:
                st.page_link(link[0], label=link[1], icon=link[2])


def _radio(key: str, label: str, **kw):
    return url_widget(st.radio, key, label, horizontal=True, **kw)


def _choice(key: str, label: str, **kw):
    """A segmented control that always has a choice (its table default when cleared)."""
    return url_widget(st.segmented_control, key, label, required=True, **kw) or PARAMS[key].default


def _bias(key: str, label: str, help: str):
    """A gate-bias slider: ``"fresh"`` (PyTorch's initial biases) or a number from -2 to 5."""
    return url_widget(st.select_slider, key, label, help=help)


def _header(number: int, title: str, anchor: str) -> None:
    st.header(f"{number} · {title}", anchor=anchor, divider="gray")


st.title("Learn: recurrent networks, live")
with st.container(key="explain_learn_contents"):  # for reading: hidden in presenter mode
    st.markdown(
        "A recurrent neural network (RNN) reads a sequence one step at a time and carries a "
        "**hidden state** from each step to the next: its memory of what it has read. This "
        "page is the tutorial the explorer grew from, made live: every number below comes "
        "from a real `torch.nn` module, and every section links to the page that goes deeper."
    )
    st.markdown(
        "[1 Structure](#structure) · [2 How it runs](#how-it-runs) · "
        "[3 Three kinds](#three-kinds) · [4 Counting parameters](#counting-parameters) · "
        "[5 Where RNNs are used](#where-rnns-are-used) · [6 The code](#the-code)"
    )
    st.caption("This page builds its own small models; the sidebar's cell drives the other pages.")


# ---------------------------------------------------------------------------------- 1 and 2
@st.fragment
def structure_and_run() -> None:
    X, H, O, T, seed = _structure()
    _how_it_runs(X, H, O, T, seed)


def _structure() -> tuple[int, int, int, int, int]:
    """Section 1: the unrolled network and its sliders; returns ``(X, H, O, T, seed)``."""
    with st.container():
        _header(1, "Structure", "structure")
        st.markdown(
            "Three layers: the **input** $x_t$ (X numbers per step), the **recurrent hidden "
            "layer** $h_t$ (H units), which also receives its own previous state $h_{t-1}$, and "
            "the **output** $y_t$ (O numbers). Unrolled over time, the network is a deep "
            "feed-forward network with one column per step, whose columns all share the same "
            "three weight matrices: $W_{xh}$ (input to hidden), $W_{hh}$ (hidden to hidden) "
            "and $W_{hy}$ (hidden to output)."
        )
        # the drawing first, its sliders under it: the first screen shows a figure
        figure = st.container()
        c = st.columns([1, 1, 1, 1.3, 1])
        X = _slider("learn_x", "input size X", where=c[0])
        H = _slider("learn_h", "hidden size H", where=c[1])
        O = _slider("learn_o", "output size O", where=c[2])
        T = _slider("learn_T", "steps unrolled T", where=c[3])
        with c[4]:
            seed = _number(
                "learn_seed",
                "seed",
                help="Seeds the weights and the input of sections 1 and 2.",
            )
        with figure:
            show_chart(lesson_figures.unrolled_figure(T, X, H, O), key="learn_unrolled")
        rnn = lesson.parameter_rows(X, H, O)[0]  # the vanilla RNN's (G = 1) textbook terms
        st.markdown(
            f"However long the sequence, the network has the same "
            f"{H}·{X} + {H}·{H} + {O}·{H} = **{rnn.weights}** weights and "
            f"{H} + {O} = **{rnn.biases}** biases (textbook form): a longer sequence means more "
            "columns, not more parameters."
        )
        st.page_link(
            PAGES[""].file,
            label="Every tensor of a real torch.nn module: Cell & parameters",
            icon=":material/grid_on:",
        )
    return X, H, O, T, seed


def _how_it_runs(X: int, H: int, O: int, T: int, seed: int) -> None:
    """Section 2: the same network with its numbers, one step at a time."""
    with st.container():
        _header(2, "How it runs", "how-it-runs")
        st.latex(r" \qquad ".join(equations("rnn", textbook=True)))
        st.markdown(
            "The network drawn above, with its numbers: a seeded `nn.RNN` "
            f"({X} → {H}) and `nn.Linear` ({H} → {O}), starting from $h_0 = 0$. Here $f$ is "
            "the hidden layer's nonlinearity and $g$ is the identity (a regression output, as "
            "in the tutorial; a classifier would use softmax). Move through the steps: each "
            "$h_t$ is computed from $h_{t-1}$ with the same matrices."
        )
        a, b = st.columns([3, 1])
        with a:
            t = _slider("learn_t", "step t", high=T) if T > 1 else 1
        with b:
            f = _radio("learn_f", "f")
        try:
            run = lesson.tiny_run(X, H, O, T, seed, f)
        except ValueError as err:
            st.error(f"This model cannot be built: {err}.")
            return
        values = {"x": run.x, "h": run.h, "y": run.y}
        show_chart(
            lesson_figures.unrolled_figure(T, X, H, O, values=values, step=t, height=400),
            key="learn_unrolled_values",
        )
        st.markdown(
            "PyTorch keeps two biases, $b_{ih}$ and $b_{hh}$; the textbook's $b_h$ is their sum:"
        )
        st.latex(lesson.bias_latex(run))
        st.markdown(
            f"**Step t = {t}**, every number substituted ($a_t$ is the "
            "pre-activation; numbers rounded to two decimals; red $W_{hh}$, blue "
            "$W_{xh}$, green $W_{hy}$ as in the drawing):"
        )
        for line in lesson.step_latex(run, t):
            st.latex(line)
        torch_h = ", ".join(f"{v:.3f}" for v in run.torch_h[t - 1])
        torch_y = ", ".join(f"{v:.3f}" for v in run.torch_y[t - 1])
        st.success(
            f"`nn.RNN` returns h_{t} = ({torch_h}) and `nn.Linear` y_{t} = ({torch_y}). "
            f"Over all {T} steps the hand computation above and torch differ by at most "
            f"**{run.max_abs_diff:.1e}** (float32 rounding).",
            icon=":material/check_circle:",
        )
        st.page_link(
            STEP,
            label="Every unit at every step, for any cell and input: Step through",
            icon=":material/play_circle:",
        )


structure_and_run()


# ---------------------------------------------------------------------------------- 3
@st.fragment
def three_kinds() -> None:
    _header(3, "Three kinds", "three-kinds")
    st.markdown(
        "The same short input goes through a vanilla RNN, an LSTM and a GRU, each freshly "
        "initialised (PyTorch's default, seeded). The equations are PyTorch's, with its two "
        "biases per gate. Try the pulse: how long does each cell remember it?"
    )
    x, H, seed = _kinds_input()
    rnn = _vanilla_rnn(x, H, seed)
    if rnn is None:
        return
    rho, f = rnn
    fb = _lstm(x, H, seed)
    zb = _gru(x, H, seed)
    _memory(x, H, seed, rho, f, fb, zb)


def _kinds_input():
    """The input the three cells read: ``(x, H, seed)``, ``x`` a ``(T,)`` signal."""
    # options without a format_func: the URL binding writes what the button shows
    kind = _choice(
        "learn_input",
        "input",
        help=" · ".join(f"{k}: {v}" for k, v in lesson.INPUTS.items()),
    )
    c = st.columns([1.3, 1.3, 1])
    T = _slider("learn_kinds_T", "length T", where=c[0])
    H = _slider("learn_kinds_h", "hidden units", where=c[1])
    seed = _number("learn_kinds_seed", "seed", where=c[2])
    x = lesson.lesson_signal(kind, T, seed)
    return x, H, seed


def _vanilla_rnn(x, H: int, seed: int) -> tuple[float, str] | None:
    """The vanilla RNN: its gradients back through time and its states; ``(rho, f)``, or
    ``None`` when the run cannot be computed (the reason shown)."""
    T = len(x)
    st.subheader("Vanilla RNN, and why long-range learning fails")
    for line in equations("rnn")[:1]:
        st.latex(line)
    st.markdown(
        "Training by backpropagation through time multiplies, for every step back, by the "
        r"step's Jacobian $\partial h_t/\partial h_{t-1} = \mathrm{diag}(f'(a_t))\,W_{hh}$, "
        r"so $\partial h_T/\partial h_t$ is a product of $T - t$ such factors. The matrix "
        r"$W_{hh}$ alone (dashed; grey for other values) shrinks or grows like $\rho^{T-t}$, "
        "where ρ is its spectral radius (its largest |eigenvalue|): below 1 the gradient "
        "from the end **vanishes** before it reaches the early steps, above 1 it can "
        "**explode** (Bengio et al. 1994; Pascanu et al. 2013). The real network (black) also "
        "multiplies by $f'$, at most 1 for tanh and 0 or 1 for ReLU, and saturated units "
        "pass almost nothing back: vanishing is the rule, exploding needs ρ > 1 *and* "
        "unsaturated states."
    )
    a, b = st.columns([3, 1])
    with a:
        rho = url_widget(
            st.select_slider,
            "learn_rho",
            "spectral radius ρ of W_hh",
            help="W_hh of the fresh nn.RNN, rescaled so that its largest |eigenvalue| is ρ.",
        )
    with b:
        f = _radio("learn_rnn_f", "f")
    try:
        flow, refs = lesson.gradient_flows(x, H, rho, seed, f)
        rnn_q = lesson.kind_trace("rnn", x, H, seed, rho=rho, nonlinearity=f)
    except ValueError as err:
        st.error(f"This run cannot be computed: {err}.")
        return None
    g1, g2 = st.columns(2)
    with g1:
        show_chart(lesson_figures.gradient_figure(flow, refs), key="learn_gradient")
    with g2:
        show_chart(
            lesson_figures.trace_figure(x, rnn_q, f"Vanilla RNN (ρ = {rho:.2f}): h_t"),
            key="learn_trace_rnn",
        )
    far, bound = flow.norms[0], flow.linear[0]
    st.caption(
        f"ρ = {rho:.2f}, T = {T}: from the last step back to the initial state, "
        f"‖∂h_T/∂h_0‖ = {far:.1e} ({flow.verdict}); W_hh alone gives {bound:.1e}."
    )
    _link_row(
        ("vanishing_gradients", "Preset: vanishing gradients in a vanilla RNN"),
        ("exploding_gradients", "Preset: exploding gradients (here)"),
        ("long_lag", "Preset: LSTM vs RNN on a long lag (Compare)"),
    )
    return rho, f


def _lstm(x, H: int, seed: int):
    """The LSTM with its forget-gate bias slider; returns the slider's value."""
    st.subheader("LSTM: a cell state as long-lived memory")
    for line in equations("lstm"):
        st.latex(line)
    e, r = st.columns([1, 1.3])
    with e:
        st.markdown(
            "The **cell state** $c_t$ is changed only by elementwise scaling and adding: the "
            "**forget gate** $f_t$ decides how much of $c_{t-1}$ to keep, the **input gate** "
            "$i_t$ how much of the candidate $g_t$ to write, the **output gate** $o_t$ how much "
            "of $\\tanh(c_t)$ to show as $h_t$. With $f_t \\approx 1$ the gradient along $c_t$ "
            "passes back almost unchanged (Hochreiter & Schmidhuber 1997; forget gate: Gers et "
            "al. 2000). Raise the forget-gate bias and watch the pulse stay in $c_t$."
        )
        fb = _bias(
            "learn_forget",
            "forget-gate bias b_if + b_hf",
            "'fresh' keeps PyTorch's random initial biases; a number "
            "sets every unit's forget-gate bias to it.",
        )
    with r:
        lstm_q = lesson.kind_trace(
            "lstm", x, H, seed, gate_bias=None if fb == "fresh" else ("f", float(fb))
        )
        show_chart(
            lesson_figures.trace_figure(
                x, lstm_q, "LSTM", lesson_figures.TRACE_ORDER["lstm"], unit_px=12
            ),
            key="learn_trace_lstm",
        )
    _preset_button("forget_gate", "Preset: the forget gate at work (Step through)")
    return fb


def _gru(x, H: int, seed: int):
    """The GRU with its update-gate bias slider; returns the slider's value."""
    st.subheader("GRU: two gates, fewer parameters")
    for line in equations("gru"):
        st.latex(line)
    e, r = st.columns([1, 1.3])
    counts = {c: count_parameters(c, 1, H).total for c in ("lstm", "gru")}
    with e:
        st.markdown(
            "The **update gate** $z_t$ blends the old state with the new candidate $n_t$ "
            "(no separate cell state); the **reset gate** $r_t$ decides how much of the old "
            "state the candidate may use. PyTorch applies $r_t$ after the product "
            "$W_{hn} h_{t-1} + b_{hn}$ (Cho et al. 2014 reset before it). Three blocks of "
            f"weights instead of four: with these sizes an `nn.GRU` has "
            f"**{counts['gru']:,}** parameters, an `nn.LSTM` **{counts['lstm']:,}** (3/4)."
        )
        zb = _bias(
            "learn_update",
            "update-gate bias b_iz + b_hz",
            "A high update bias makes z_t ≈ 1: the GRU keeps its state.",
        )
    with r:
        gru_q = lesson.kind_trace(
            "gru", x, H, seed, gate_bias=None if zb == "fresh" else ("z", float(zb))
        )
        show_chart(
            lesson_figures.trace_figure(
                x, gru_q, "GRU", lesson_figures.TRACE_ORDER["gru"], unit_px=12
            ),
            key="learn_trace_gru",
        )
    _preset_button("gru_vs_lstm_params", "Preset: GRU vs LSTM parameter count")
    return zb


def _memory(x, H: int, seed: int, rho: float, f: str, fb, zb) -> None:
    """The three cells' memory of a nudge at one step, side by side, with the same settings."""
    st.subheader("Which one remembers longest?")
    at = 3
    curves = lesson.pulse_memory(
        x,
        H,
        seed,
        at=at,
        rho=rho,
        nonlinearity=f,
        forget_bias=None if fb == "fresh" else float(fb),
        update_bias=None if zb == "fresh" else float(zb),
    )
    m1, m2 = st.columns([1.3, 1])
    with m1:
        show_chart(lesson_figures.memory_figure(curves, at), key="learn_memory")
    with m2:
        st.markdown(
            f"Add 1 to the input at t = {at} and run each cell again: the curves are how "
            "far the nudged states lie from the original ones, step after step. Fresh weights "
            "forget fast, gates or not: memory is something a gated cell *can* hold (raise the "
            "forget- or update-gate bias above, as training often does), while a vanilla RNN "
            f"forgets at a rate set by ρ (now {rho:.2f}). The same settings as above."
        )
    _link_row(
        (STEP, "Watch every gate step by step: Step through", ":material/play_circle:"),
        (COMPARE, "Train the three cells side by side: Compare cells", ":material/compare_arrows:"),
    )


three_kinds()


# ---------------------------------------------------------------------------------- 4
@st.fragment
def counting() -> None:
    _header(4, "Counting parameters", "counting-parameters")
    st.markdown(
        "Input size X, hidden size H, output size O. The textbook RNN has $W_{xh}$ (H×X), "
        "$W_{hh}$ (H×H), $W_{hy}$ (O×H), $b_h$ (H) and $b_y$ (O). An LSTM has four such "
        "blocks in its recurrent layer (gates i, f, g, o), a GRU three (r, z, n). The "
        "defaults are the tutorial's: X = 10, H = 20, O = 1."
    )
    c = st.columns(3)
    X = _number("learn_count_x", "input size X", where=c[0])
    H = _number("learn_count_h", "hidden size H", where=c[1])
    O = _number("learn_count_o", "output size O", where=c[2])
    rows = lesson.parameter_rows(X, H, O)
    table = lesson.count_table(rows)
    number = st.column_config.NumberColumn(format="localized")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={k: number for k in table if k != "cell"},
    )
    st.markdown(
        "With G = 1 (RNN), 4 (LSTM) or 3 (GRU) blocks: $W_{xh}$ is G·H×X, $W_{hh}$ "
        "G·H×H, $b_h$ G·H; the head's $W_{hy}$ is O×H and $b_y$ O."
    )
    st.latex(lesson.COUNT_FORMULAS)
    for r in rows:
        st.latex(lesson.count_latex(r, X, H, O))
    show_chart(lesson_figures.count_figure(rows), key="learn_counts")
    # ask torch itself (the sizes are capped, so building is quick)
    checked = [(r, built_total(r.cell, X, H, O)) for r in rows]
    ok = all(real == r.torch_total for r, real in checked)
    names = {"rnn": "nn.RNN", "lstm": "nn.LSTM", "gru": "nn.GRU"}
    st.success(
        "Checked against torch: `sum(p.numel())` of "
        + ", ".join(
            f"`{names[r.cell]}({X}, {H})` + `nn.Linear({H}, {O})` = {real:,}" for r, real in checked
        )
        + (": all equal the torch.nn totals above." if ok else ": THEY DO NOT MATCH."),
        icon=":material/check_circle:",
    )
    st.info(TWO_BIASES, icon=":material/lightbulb:")
    st.page_link(
        PAGES[""].file,
        label="Every tensor, for any number of layers, directions and proj_size: Cell & parameters",
        icon=":material/grid_on:",
    )


counting()


# ---------------------------------------------------------------------------------- 5
USES = [  # (what it is, the preset that opens it, or None: bring your own data as a CSV)
    (
        "**Text.** A character-level language model reads a text one character "
        "at a time and predicts the next; sampling from it writes new text. The "
        "app ships the first fifty of Shakespeare's sonnets.",
        ("text", "Preset: character-level text (Train)"),
    ),
    (
        "**Time series: temperature.** Forecast tomorrow's maximum temperature "
        "from the days before, and compare with the naive 'same as today'. The "
        "app ships Seattle's daily maxima 2012–2015 (NOAA).",
        ("temperature", "Preset: temperature forecasting (Train)"),
    ),
    (
        "**Speech.** Recognisers read audio as a sequence of short frames "
        "(e.g. 100 per second, each a vector of spectral features); bidirectional "
        "LSTMs were the standard before Transformers. **No speech data ship with "
        "this app** (audio is large and its licences vary): export features to a "
        "CSV and load it as your own data.",
        None,
    ),
    (
        "**Time series: stock prices.** A classic example, and a humbling one: "
        "daily prices are close to a random walk, so 'tomorrow = today' is very "
        "hard to beat. **No stock prices ship with this app**: load a CSV of your "
        "own (one row per day, a numeric price column).",
        None,
    ),
]


def uses() -> None:
    _header(5, "Where RNNs are used", "where-rnns-are-used")
    st.markdown(
        "Anywhere data come as a sequence and the past helps to predict what comes "
        "next. Items with data in the app open a working preset."
    )
    for pair in (USES[:2], USES[2:]):
        for column, (text, link) in zip(st.columns(2), pair):
            with column.container(border=True):
                st.markdown(text)
                if link:
                    _preset_button(*link)
                else:  # no data ship for it: the reader's own CSV
                    st.page_link(
                        PAGES["train"].file,
                        label="Your own data: Train page",
                        query_params={"task": "csv"},
                        icon=":material/upload_file:",
                    )


uses()


# ---------------------------------------------------------------------------------- 6
@st.fragment
def the_code() -> None:
    _header(6, "The code", "the-code")
    st.markdown(
        "The tutorial wrote its vanilla RNN from scratch in row-vector form, "
        "$h_t = \\tanh(x_t W_{xh} + h_{t-1} W_{hh} + b_h)$, trained on one sequence of 5 steps "
        "(input 10, hidden 20, output 1). Its loop multiplied with `torch.mm`, and did not "
        "run (the first line below, run here on the tutorial's data):"
    )
    st.code(
        tutorial.ORIGINAL_LINE
        + "\n# RuntimeError: "
        + tutorial.original_error()
        + "\n\n"
        + tutorial.CORRECTED_LINE
        + "  # corrected: @ takes a 1-D row",
        language="python",
    )
    st.markdown(
        "`torch.mm` multiplies two 2-D matrices; `x[t]` is a 1-D row of 10 numbers. The "
        "corrected loop (`@`) runs below next to `torch.nn`, on the same input. PyTorch "
        "stores `weight_ih` as (H, X) and multiplies from the left, and keeps two biases: "
        "transpose the weights and sum the biases, and the numbers agree."
    )
    a, b = st.columns([2, 1])
    with a:
        cell = _choice("learn_code_cell", "cell").lower()
    with b:
        seed = _number(
            "learn_code_seed",
            "seed",
            help="torch.manual_seed before building the module, and the input.",
        )
    run = lesson.code_comparison(cell, seed)
    st.markdown(
        "**From scratch** (`explorer/tutorial.py`, `explorer/textbook.py`): the loop, "
        "then the bridge from torch's parameters"
    )
    st.code(run.scratch_code, language="python", wrap_lines=True)
    left, right = st.columns([1, 1])
    with left:
        st.markdown("**torch.nn**, on the same input")
        st.code(run.torch_code, language="python", wrap_lines=True)
        st.metric(
            "max |from scratch − torch.nn|",
            f"{run.max_abs_diff:.1e}",
            help="Over every output of every step: float32 rounding.",
        )
    with right:
        show_chart(lesson_figures.agreement_figure(run), key="learn_agreement")
    _link_row(
        ("tutorial", "Preset: train the tutorial's example (Train)"),
        (
            STEP,
            "The one-bias loop next to nn.RNN on any input: Step through",
            ":material/play_circle:",
        ),
    )


the_code()
