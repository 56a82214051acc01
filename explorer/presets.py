"""Named starting points for a lesson, and the URL vocabulary they are written in.

A preset is data: a title, one sentence of what to look for, the page it opens and the URL
parameters that set that page up. Adding one is one entry in :data:`PRESETS`. A link opens
it (``link("forget_gate") == "./?preset=forget_gate"``), and so does one click in the
sidebar's Presets menu.

The URL vocabulary (:data:`SIDEBAR_PARAMS`, :data:`PAGE_PARAMS`) lists every query parameter
each page understands. Its names are the widgets' keys (a widget bound to the URL uses its key
as the parameter name) and the config's field names (``cell``, ``hidden_size`` …), so
``?cell=gru&input_size=3&hidden_size=7`` reads like ``nn.GRU(3, 7)``. Knowing every name lets
the app say which parts of a link it ignored (an unknown name, or one that belongs to another
page) instead of silently dropping them.

Pure Python: no Streamlit here (``explorer.ui.links`` does the drawing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from difflib import get_close_matches
from urllib.parse import urlencode

from .config import LIMITS, MAX_SEQUENCE_LENGTH, CellConfig
from .tasks import TASKS, USER_SERIES


@dataclass(frozen=True)
class PageInfo:
    """A page of the app: its URL path (``""`` for the start page), source file and title."""

    path: str
    file: str
    title: str


PAGES: dict[str, PageInfo] = {
    p.path: p
    for p in (
        PageInfo("learn", "app_pages/learn.py", "Learn"),
        PageInfo("", "app_pages/cell.py", "Cell & parameters"),
        PageInfo("step_through", "app_pages/step_through.py", "Step through"),
        PageInfo("train", "app_pages/train.py", "Train"),
        PageInfo("compare", "app_pages/compare.py", "Compare cells"),
    )
}

# ---------------------------------------------------------------- the URL vocabulary
_CELL = CellConfig()
SIDEBAR_PARAMS: dict[str, object] = {  # name -> default (the sidebar's cell, on every page)
    "cell": _CELL.cell,
    "nonlinearity": _CELL.nonlinearity,
    "input_size": _CELL.input_size,
    "hidden_size": _CELL.hidden_size,
    "num_layers": _CELL.num_layers,
    "proj_size": _CELL.proj_size,
    "bidirectional": _CELL.bidirectional,
    "bias": _CELL.bias,
    "output_size": _CELL.output_size,
    "seed": _CELL.seed,
}
GLOBAL_PARAMS = ("preset", "presenter")  # understood on every page

# The Step-through page: the input sequence, initial states, clamps, what is shown and where
# the player stands. The widgets take their defaults from here.
STEP_PARAMS: dict[str, object] = {
    "input": "wave",  # wave, random_walk, typed, text, series, csv (an upload: not in a link)
    "shape": "sine",
    "T": 60,
    "cycles": 2.0,
    "amplitude": 1.0,
    "noise_std": 0.0,  # wave
    "step_size": 0.1,  # random walk (its length is T too)
    "numbers": "0, 0.5, 1, 0.5, 0, -0.5, -1, -0.5, 0, 1, 1, 1",  # typed
    "chars": "hello world",  # text, one-hot over its own alphabet
    "source": "co2",
    "start": 0,
    "length": 60,  # a window of a shipped series
    "h0": "zeros",
    "h0_values": "0.5",
    "c0": "zeros",
    "c0_values": "0.5",  # initial states
    "clamp_i": "free",
    "clamp_f": "free",
    "clamp_g": "free",
    "clamp_o": "free",
    "clamp_r": "free",
    "clamp_z": "free",
    "clamp_n": "free",
    "clamp_from": 1,
    "weights": "fresh",  # fresh, forget1 (LSTM forget-gate bias 1.0), trained
    "layer": 0,
    "direction": "forward",
    "unit": 0,
    "t": 1,
    "speed": 2,  # t counts 1…T
}

# Train and Compare share their widgets (explorer/ui/training.py); names from
# notes/contracts.md: the task, its settings under their TASKS names (a task's ``seed`` is the
# sidebar's and ``text`` is typed on the page, not linked), training settings and sampling.
_TASK_SETTINGS = sorted(
    {name for spec in TASKS.values() for name in spec.settings} - {"seed", "text"}
)
TRAIN_PARAMS: tuple[str, ...] = (
    "task",
    *_TASK_SETTINGS,
    "optimizer",
    "lr",
    "batch_size",
    "steps",
    "clip_norm",
    "weight_decay",
    "tbptt",
    "target_loss",
    "patience",
    "temperature",
    "run",
)  # a saved run's id (explorer/ui/runs.py; not a preset's)

# The Learn page's widgets (all start with LEARN_PREFIX; each section's own settings).
LEARN_PREFIX = "learn_"
LEARN_PARAMS: tuple[str, ...] = (
    "learn_x",
    "learn_h",
    "learn_o",
    "learn_T",
    "learn_seed",
    "learn_t",
    "learn_f",  # 1 · 2
    "learn_input",
    "learn_kinds_T",
    "learn_kinds_h",
    "learn_kinds_seed",  # 3 · three kinds
    "learn_rho",
    "learn_rnn_f",
    "learn_forget",
    "learn_update",
    "learn_count_x",
    "learn_count_h",
    "learn_count_o",  # the parameter calculator
    "learn_code_cell",
    "learn_code_seed",  # the tutorial's code next to torch.nn
)

PAGE_PARAMS: dict[str, tuple[str, ...]] = {
    "": (),  # the Cell page is drawn from the sidebar alone
    "step_through": tuple(STEP_PARAMS),
    "train": TRAIN_PARAMS,
    "compare": TRAIN_PARAMS,
    "learn": LEARN_PARAMS,
}

# Names whose value lives under another st.session_state key (the step player's position is
# "step_pos": the slider that shows it is reset by Streamlit when its range changes).
SESSION_KEYS = {"t": "step_pos"}


# ---------------------------------------------------------------- numbers a link may carry
@dataclass(frozen=True)
class Number:
    """The outer range of a numeric URL parameter: every value its widget can take lies in
    ``low … high`` (``high=None``: no upper bound). A page may narrow it for the current model
    (``unit`` below ``hidden_size``), never widen it. ``integer``: the widget holds an int;
    ``widget=False``: the page parses the value itself (:func:`explorer.ui.links.from_url`)."""

    low: float
    high: float | None
    integer: bool = True
    widget: bool = True

    def span(self) -> str:
        """The range as a note spells it: ``1…1024`` or ``at least 0``."""
        if self.high is None:
            return f"at least {_num(self.low)}"
        return f"{_num(self.low)}…{_num(self.high)}"


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _task_numbers() -> dict[str, Number]:
    """The task settings' widest ranges over every task (one widget per name)."""
    found: dict[str, Number] = {}
    for spec in [*TASKS.values(), USER_SERIES]:
        for name, s in spec.settings.items():
            if s.low is None or name in ("seed",):
                continue
            old = found.get(name)
            low = s.low if old is None else min(old.low, s.low)
            high = s.high if old is None else max(old.high, s.high)
            found[name] = Number(low, high, isinstance(s.default, int))
    return found


# Every numeric parameter of every page, with the widest range its widget ever offers. A link's
# value outside it (inf, 1e309, a 5,000-digit number) is dropped before any widget reads it
# (Streamlit's number_input raises OverflowError on a non-finite URL value). Choice widgets
# holding numbers (lr, batch_size …) are listed by the range of their choices, so a note can
# say it; tests/test_presets.py checks that every drawn widget stays inside its entry.
NUMBERS: dict[str, Number] = {
    **{
        name: Number(*LIMITS[name])
        for name in ("input_size", "hidden_size", "num_layers", "proj_size", "output_size", "seed")
    },
    # Step through
    "T": Number(1, 400),
    "cycles": Number(0.5, 10.0, False),
    "amplitude": Number(0.1, 3.0, False),
    "noise_std": Number(0.0, 1.0, False),
    "step_size": Number(0.01, 0.5, False),
    "start": Number(0, MAX_SEQUENCE_LENGTH - 1),
    "length": Number(1, 2000),
    "clamp_from": Number(0, MAX_SEQUENCE_LENGTH - 1),
    "layer": Number(0, LIMITS["num_layers"][1] - 1),
    "unit": Number(0, LIMITS["hidden_size"][1] - 1),
    "speed": Number(0.5, 8, False),
    "t": Number(0, MAX_SEQUENCE_LENGTH - 1, widget=False),
    # Train and Compare
    **_task_numbers(),
    "lr": Number(1e-4, 10.0, False),
    "batch_size": Number(1, 256),
    "steps": Number(10, 20_000),
    "clip_norm": Number(0.1, 10.0, False),
    "weight_decay": Number(0.0, 0.1, False),
    "tbptt": Number(1, 100),
    "target_loss": Number(0.0, None, False),
    "patience": Number(1, 1000),
    "temperature": Number(0.1, 2.0, False),
    # Learn
    "learn_x": Number(1, 3),
    "learn_h": Number(2, 4),
    "learn_o": Number(1, 2),
    "learn_T": Number(1, 6),
    "learn_t": Number(1, 6),
    "learn_seed": Number(0, 9999),
    "learn_kinds_T": Number(10, 100),
    "learn_kinds_h": Number(2, 12),
    "learn_kinds_seed": Number(0, 9999),
    "learn_rho": Number(0.5, 1.5, False),
    "learn_forget": Number(-2, 5),
    "learn_update": Number(-2, 5),
    "learn_count_x": Number(*LIMITS["input_size"]),
    "learn_count_h": Number(*LIMITS["hidden_size"]),
    "learn_count_o": Number(*LIMITS["output_size"]),
    "learn_code_seed": Number(0, 9999),
}


def refusal(name: str, raw: str, span: tuple[float, float | None] | None = None) -> str | None:
    """Why the URL text ``raw`` cannot be the number ``name`` holds, or None if it can (or
    ``name`` is not numeric, or ``raw`` is not a number at all: a choice such as ``off`` is
    the widget's to judge). ``span`` narrows the range (the page's, for the current model).

    >>> refusal("hidden_size", "inf")
    'outside 1…1024'
    >>> refusal("hidden_size", "7") is None
    True
    """
    number = NUMBERS.get(name)
    if number is None:
        return None
    if span is not None:
        number = Number(span[0], span[1], number.integer)
    try:
        value = float(raw)  # a 5,000-digit integer reads as inf: no int() of it
    except (TypeError, ValueError):
        return None
    if math.isnan(value):
        return "not a number"
    if number.low <= value and (number.high is None or value <= number.high):
        return None
    return ("below " if number.high is None else "outside ") + (
        _num(number.low) if number.high is None else number.span()
    )


def page_params(path: str) -> set[str]:
    """Every parameter name page ``path`` understands, the sidebar's and the global ones
    included."""
    return set(SIDEBAR_PARAMS) | set(GLOBAL_PARAMS) | set(PAGE_PARAMS.get(path, ()))


def owner(name: str) -> list[str]:
    """The paths of the pages whose own settings include ``name`` (empty for the sidebar's,
    the global ones and unknown names)."""
    return [path for path, names in PAGE_PARAMS.items() if name in names]


def known(name: str) -> bool:
    """True if some page (or the sidebar) understands the parameter ``name``."""
    return name in SIDEBAR_PARAMS or name in GLOBAL_PARAMS or bool(owner(name))


def suggest(name: str) -> str | None:
    """The known name closest to a mistyped one (``hiden_size`` -> ``hidden_size``), if any."""
    names = [*SIDEBAR_PARAMS, *GLOBAL_PARAMS, *STEP_PARAMS, *TRAIN_PARAMS, *LEARN_PARAMS]
    match = get_close_matches(name, names, n=1, cutoff=0.75)
    return match[0] if match else None


def url_value(value: object) -> str:
    """How a widget value is spelt in a URL, as Streamlit's query-parameter binding spells it
    (``True`` -> ``"true"``, ``1.0`` -> ``"1.0"``, ``12`` -> ``"12"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------- the presets
@dataclass(frozen=True)
class Preset:
    """A named state of one page.

    Attributes:
        key: the name in ``?preset=<key>``.
        title: a few words for the menu ("the forget gate at work").
        look_for: one sentence shown on arrival: what to look at, and what it shows.
        page: the path of the page it opens (a key of :data:`PAGES`).
        params: URL parameter -> value; the sidebar's and the page's, everything else at its
            default (the Train and Compare pages keep their other settings).
    """

    key: str
    title: str
    look_for: str
    page: str
    params: dict[str, object] = field(default_factory=dict)

    def query(self) -> dict[str, str]:
        """The parameters as a URL spells them."""
        return {name: url_value(value) for name, value in self.params.items()}

    def url(self) -> str:
        """The relative URL of the state itself, without the preset (what a link to the view
        looks like once the preset is open)."""
        query = urlencode(self.query())
        return f"./{self.page}" + (f"?{query}" if query else "")


PRESETS: dict[str, Preset] = {
    p.key: p
    for p in (
        Preset(
            "forget_gate",
            "the forget gate at work",
            "The forget gate f_t decides how much of the last step's cell state survives: with "
            "its bias at "
            "1 it sits near 0.73 instead of 0.5, so the cell state c_t keeps more of its past; "
            "from t = 30 the clamp forces f = 1 and i = 0, and in “Normal vs clamped run” the "
            "cell state goes flat: the memory is held exactly.",
            "step_through",
            {
                "cell": "lstm",
                "weights": "forget1",
                "input": "wave",
                "shape": "square",
                "T": 60,
                "cycles": 2.0,
                "clamp_f": 1.0,
                "clamp_i": 0.0,
                "clamp_from": 30,
                "t": 30,
            },
        ),
        Preset(
            "vanishing_gradients",
            "vanishing gradients in a vanilla RNN",
            "Press Start and watch how much the loss at the last step still feels each earlier "
            "state: for a vanilla RNN the gradient shrinks by orders of magnitude on its way back "
            "over the 50 steps, so it never learns that the first mark matters and its loss stays "
            "on the “always answer 1.0” line (MSE ≈ 0.167).",
            "train",
            {"cell": "rnn", "task": "adding", "lag": 50},
        ),
        Preset(
            "exploding_gradients",
            "exploding gradients in a vanilla RNN",
            "Scroll to section 3, Three kinds: a ReLU RNN whose W_hh has spectral radius 1.4. "
            "The black line climbs with every step back: ‖∂h_T/∂h_0‖ is about 2·10⁶ over 40 "
            "steps, so one update could throw the weights far away. Move ρ below 1 and it "
            "vanishes instead.",
            "learn",
            {
                "learn_rho": 1.4,
                "learn_rnn_f": "relu",
                "learn_input": "pulse",
                "learn_kinds_T": 40,
                "learn_kinds_h": 4,
                "learn_kinds_seed": 1,
            },
        ),
        Preset(
            "long_lag",
            "LSTM vs RNN on a long lag",
            "The adding problem with marks up to 50 steps apart: the gated cells get below the "
            "“always answer 1.0” line (MSE ≈ 0.167) because they can carry the first number "
            "unchanged, while the vanilla RNN stays on it. The GRU gets there within about 250 "
            "steps, the LSTM within about 1,000; the vanilla RNN not in 2,000.",
            "compare",
            {
                "task": "adding",
                "lag": 50,
                "steps": 1500,
                "batch_size": 64,
                "lr": 0.01,
                "hidden_size": 16,
            },
        ),
        Preset(
            "gru_vs_lstm_params",
            "GRU vs LSTM parameter count",
            "nn.GRU(3, 7) has 252 parameters: three blocks (r, z, n) of 7·3 + 7·7 + 2·7 = 84. "
            "Switch the cell type to LSTM: a fourth block makes it 336, and every weight matrix "
            "grows from 21 to 28 rows.",
            "",
            {"cell": "gru", "input_size": 3, "hidden_size": 7},
        ),
        Preset(
            "tutorial",
            "the tutorial's example",
            "The tutorial's vanilla RNN (input 10, hidden 20, output 1) trained with plain SGD at "
            "learning rate 0.01 on its one five-step sequence: there is nothing to generalise, so "
            "the loss falls towards zero, well below answering the mean of the targets.",
            "train",
            {
                "cell": "rnn",
                "hidden_size": 20,
                "task": "tutorial",
                "optimizer": "sgd",
                "lr": 0.01,
                "steps": 100,
                "clip_norm": "off",
            },  # the tutorial's loop clips nothing
        ),
        Preset(
            "temperature",
            "temperature forecasting",
            "An LSTM learns Seattle's daily maximum temperature, one day ahead: compare its error on "
            "the last 20 % (never trained on) with the naive forecast “tomorrow = today” and the "
            "seasonal one “same day last year”.",
            "train",
            {"cell": "lstm", "task": "forecast", "series": "seattle_temp_max"},
        ),
        Preset(
            "text",
            "character-level text",
            "An LSTM reads Shakespeare's sonnets one character at a time and learns to predict the "
            "next: watch the loss fall below the letter-frequency baseline, then sample at a low "
            "and a high temperature.",
            "train",
            {"cell": "lstm", "hidden_size": 64, "task": "char"},
        ),
    )
}


def link(key: str) -> str:
    """The relative URL that opens preset ``key``: ``"./?preset=<key>"`` (the app then goes to
    the preset's page and sets it up).

    Raises:
        ValueError: ``key`` is not a preset.
    """
    if key not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {key!r}")
    return f"./?{urlencode({'preset': key})}"


def page_state(preset: Preset) -> dict[str, object]:
    """Every value opening ``preset`` sets: the sidebar at its defaults, Step through's
    settings at their defaults when it opens there, then the preset's own parameters."""
    state = dict(SIDEBAR_PARAMS)
    if preset.page == "step_through":
        state |= STEP_PARAMS
    return state | preset.params
