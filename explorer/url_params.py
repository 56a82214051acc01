"""Every URL parameter of the app, in one table: its name, type, default, bounds and owner.

Like TensorFlow Playground's ``State`` properties, a link is this table's values: each
:class:`Param` is one query parameter, and every widget bound to the URL, every hand-synced
value (:mod:`explorer.ui.url_sync`) and every check of an opened link (:mod:`explorer.ui.links`)
reads it here. Adding a parameter is one entry in :data:`PARAMS`.

The names are the widgets' keys (a widget bound to the URL uses its key as the parameter name)
and the config's field names (``cell``, ``hidden_size`` …), so ``?cell=gru&input_size=3&
hidden_size=7`` reads like ``nn.GRU(3, 7)``. Knowing every name lets the app say which parts of
a link it ignored (an unknown name, or one that belongs to another page) instead of silently
dropping them.

Pure Python: no Streamlit here (``explorer.ui`` does the syncing and the drawing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from difflib import get_close_matches

from .config import CELLS, LIMITS, MAX_SEQUENCE_LENGTH, CellConfig
from .lesson import INPUTS as LESSON_INPUTS
from .lesson import RHO_CHOICES
from .tasks import TASKS, USER_SERIES
from .training import OPTIMIZERS

URL = "query-params"  # Streamlit's ``bind=`` value: the widget's key is its URL parameter
OFF = "off"  # the first choice of a setting that can be switched off (clip_norm=off)


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


# ---------------------------------------------------------------- numbers a link may carry
@dataclass(frozen=True)
class Number:
    """The outer range of a numeric URL parameter: every value its widget can take lies in
    ``low … high`` (``high=None``: no upper bound). A page may narrow it for the current model
    (``unit`` below ``hidden_size``), never widen it. ``integer``: the widget holds an int;
    ``widget=False``: the page parses the value itself (:func:`explorer.ui.url_sync.from_url`)."""

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


# ---------------------------------------------------------------- the table
SIDEBAR = "sidebar"  # owner of the sidebar's cell settings: understood on every page
EVERY_PAGE = "every page"  # owner of the app-wide flags (preset, presenter)
# Train and Compare share their widgets (explorer/ui/train_controls.py)
TRAINING = ("train", "compare")


@dataclass(frozen=True)
class Param:
    """One URL parameter.

    Attributes:
        name: the query parameter, and the widget's key (``hidden_size``).
        owners: the paths of the pages whose own setting it is (keys of :data:`PAGES`), or
            ``(SIDEBAR,)`` / ``(EVERY_PAGE,)``.
        default: the value a page shows when the link does not say (also what a preset resets
            it to); ``None`` where the page derives it (a task setting's default is the
            task's, ``TASKS[key].settings``; a training setting's the page's ``TrainConfig``).
        bounds: the widest range of a numeric value (:class:`Number`); ``None`` for choices
            and text.
        session_key: the ``st.session_state`` key holding the value when it is not ``name``.
        options: the choices of a choice widget, in the order shown (``None`` for numbers
            and text); a numeric choice's ``bounds`` are the range of its numbers.
        step: a number widget's step (``None``: Streamlit's, 1 for an integer).

    Every widget bound to the URL is drawn through :func:`explorer.ui.url_sync.url_widget`,
    which reads its key, default, bounds, step and options here.
    """

    name: str
    owners: tuple[str, ...]
    default: object = None
    bounds: Number | None = None
    session_key: str | None = None
    options: tuple | None = None
    step: float | None = None

    @property
    def type(self) -> type:
        """The type of the value: the default's, else ``int``/``float`` from the bounds, else
        ``str`` (a choice such as ``clip_norm=off`` is spelt as text)."""
        if self.default is not None:
            return type(self.default)
        if self.bounds is not None:
            return int if self.bounds.integer else float
        return str

    @property
    def key(self) -> str:
        """The ``st.session_state`` key of its value."""
        return self.session_key or self.name


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


def _task_step(number: Number) -> float | None:
    """A task setting widget's step: Streamlit's 1 for a count, else 0.05 on a short range,
    0.5 on a long one."""
    if number.integer:
        return None
    return 0.05 if number.high - number.low <= 2 else 0.5


def _limit(name: str) -> Number:
    return Number(*LIMITS[name])


def _choices(name: str, owners: tuple[str, ...], options: tuple, default=None) -> Param:
    """A choice whose options hold numbers (``OFF`` aside): its bounds are their range, so a
    note can say it (``lr`` outside 0.0001…10)."""
    numbers = [o for o in options if not isinstance(o, str)]
    integer = all(isinstance(o, int) for o in numbers)
    return Param(
        name, owners, default, Number(min(numbers), max(numbers), integer), options=options
    )


_CELL = CellConfig()
_STEP = ("step_through",)
_LEARN = ("learn",)
_TASK = _task_numbers()
_TASK_STEP = {name: _task_step(number) for name, number in _TASK.items()}
_STATES = ("zeros", "random", "typed")  # an initial state h0, c0
_CLAMPS = ("free", 0.0, 0.5, 1.0)  # a sigmoid gate forced to a constant
_CLAMPS_TANH = ("free", -1.0, 0.0, 1.0)  # a tanh candidate (g, n) forced to a constant
_BIASES = ("fresh", -2, -1, 0, 1, 2, 3, 4, 5)
# the task settings under their TASKS names (a task's ``seed`` is the sidebar's and ``text`` is
# typed on the page, not linked)
_TASK_SETTINGS = sorted({n for spec in TASKS.values() for n in spec.settings} - {"seed", "text"})

# Every parameter of every page. A number's bounds are the widest range its widget ever offers:
# a link's value outside them (inf, 1e309, a 5,000-digit number) is dropped before any widget
# reads it (Streamlit's number_input raises OverflowError on a non-finite URL value). Choice
# widgets holding numbers (lr, batch_size …) are listed by the range of their choices, so a
# note can say it; tests/test_url_params.py checks that every drawn widget stays inside them.
PARAMS: dict[str, Param] = {
    p.name: p
    for p in (
        # the sidebar's cell, on every page
        Param("cell", (SIDEBAR,), _CELL.cell, options=tuple(CELLS)),
        Param("nonlinearity", (SIDEBAR,), _CELL.nonlinearity, options=("tanh", "relu")),
        Param("input_size", (SIDEBAR,), _CELL.input_size, _limit("input_size")),
        Param("hidden_size", (SIDEBAR,), _CELL.hidden_size, _limit("hidden_size")),
        Param("num_layers", (SIDEBAR,), _CELL.num_layers, _limit("num_layers")),
        Param("proj_size", (SIDEBAR,), _CELL.proj_size, _limit("proj_size")),
        Param("bidirectional", (SIDEBAR,), _CELL.bidirectional),
        Param("bias", (SIDEBAR,), _CELL.bias),
        Param("output_size", (SIDEBAR,), _CELL.output_size, _limit("output_size")),
        Param("seed", (SIDEBAR,), _CELL.seed, _limit("seed")),
        # understood on every page
        Param("preset", (EVERY_PAGE,)),
        Param("presenter", (EVERY_PAGE,)),
        # Step through: the input sequence, initial states, clamps, what is shown and where the
        # player stands. The widgets take their defaults from here.
        # input: wave, random_walk, typed, text, series, csv (an upload: not in a link)
        Param("input", _STEP, "wave"),
        Param("shape", _STEP, "sine", options=("sine", "square", "sawtooth")),
        Param("T", _STEP, 60, Number(1, 400)),
        Param("cycles", _STEP, 2.0, Number(0.5, 10.0, False), step=0.5),
        Param("amplitude", _STEP, 1.0, Number(0.1, 3.0, False), step=0.1),
        Param("noise_std", _STEP, 0.0, Number(0.0, 1.0, False), step=0.05),  # wave
        # random walk (its length is T too)
        Param("step_size", _STEP, 0.1, Number(0.01, 0.5, False), step=0.01),
        Param("numbers", _STEP, "0, 0.5, 1, 0.5, 0, -0.5, -1, -0.5, 0, 1, 1, 1"),  # typed
        Param("chars", _STEP, "hello world"),  # text, one-hot over its own alphabet
        Param("source", _STEP, "co2"),  # a window of a shipped series
        Param("start", _STEP, 0, Number(0, MAX_SEQUENCE_LENGTH - 1)),
        Param("length", _STEP, 60, Number(1, 2000)),
        Param("h0", _STEP, "zeros", options=_STATES),  # initial states
        Param("h0_values", _STEP, "0.5"),
        Param("c0", _STEP, "zeros", options=_STATES),
        Param("c0_values", _STEP, "0.5"),
        # a gate clamped to a constant: sigmoid gates in 0…1, the candidates g, n in -1…1
        *(
            Param(f"clamp_{g}", _STEP, "free", options=_CLAMPS_TANH if g in "gn" else _CLAMPS)
            for g in "ifgorzn"
        ),
        Param("clamp_from", _STEP, 1, Number(0, MAX_SEQUENCE_LENGTH - 1)),
        # fresh, forget1 (LSTM forget-gate bias 1.0), trained
        Param("weights", _STEP, "fresh"),
        Param("layer", _STEP, 0, Number(0, LIMITS["num_layers"][1] - 1)),
        Param("direction", _STEP, "forward", options=("forward", "reverse")),
        Param("unit", _STEP, 0, Number(0, LIMITS["hidden_size"][1] - 1)),
        # t counts 1…T; its value lives in "step_pos" (the slider that shows it is reset by
        # Streamlit when its range changes) and the page parses it itself
        Param("t", _STEP, 1, Number(0, MAX_SEQUENCE_LENGTH - 1, widget=False), "step_pos"),
        _choices("speed", _STEP, (0.5, 1, 2, 4, 8), 2),  # steps per second
        # Train and Compare: the task, its settings, training settings and sampling
        Param("task", TRAINING),
        # (the defaults are the page's TrainConfig: Train's and Compare's differ)
        *(
            Param(name, TRAINING, bounds=_TASK.get(name), step=_TASK_STEP.get(name))
            for name in _TASK_SETTINGS
        ),
        Param("optimizer", TRAINING, options=tuple(OPTIMIZERS)),
        _choices("lr", TRAINING, (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0, 10.0)),
        _choices("batch_size", TRAINING, (1, 2, 4, 8, 16, 32, 64, 128, 256)),
        Param("steps", TRAINING, bounds=Number(10, 20_000), step=10),
        _choices("clip_norm", TRAINING, (OFF, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)),
        _choices("weight_decay", TRAINING, (0.0, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)),
        _choices("tbptt", TRAINING, (OFF, 1, 2, 5, 10, 20, 50, 100)),
        Param("target_loss", TRAINING, bounds=Number(0.0, None, False), step=0.01),
        Param("patience", TRAINING, bounds=Number(1, 1000)),
        Param("temperature", TRAINING, 0.8, Number(0.1, 2.0, False), step=0.1),
        Param("run", TRAINING),  # a saved run's id (explorer/ui/runs.py; not a preset's)
        # Learn: every name starts with LEARN_PREFIX; each section's own settings
        Param("learn_x", _LEARN, 2, Number(1, 3)),  # 1 · 2: the unrolled network
        Param("learn_h", _LEARN, 3, Number(2, 4)),
        Param("learn_o", _LEARN, 1, Number(1, 2)),
        Param("learn_T", _LEARN, 4, Number(1, 6)),
        Param("learn_seed", _LEARN, 0, Number(0, 9999)),
        Param("learn_t", _LEARN, 1, Number(1, 6)),  # the step shown, 1…learn_T
        Param("learn_f", _LEARN, "tanh", options=("tanh", "relu")),
        Param("learn_input", _LEARN, "pulse", options=tuple(LESSON_INPUTS)),  # 3 · three kinds
        Param("learn_kinds_T", _LEARN, 40, Number(10, 100)),
        Param("learn_kinds_h", _LEARN, 6, Number(2, 12)),
        Param("learn_kinds_seed", _LEARN, 0, Number(0, 9999)),
        _choices("learn_rho", _LEARN, RHO_CHOICES, 0.9),  # spectral radius of W_hh
        Param("learn_rnn_f", _LEARN, "tanh", options=("tanh", "relu")),
        # a gate's bias: "fresh" (PyTorch's initial biases) or a number
        _choices("learn_forget", _LEARN, _BIASES, "fresh"),
        _choices("learn_update", _LEARN, _BIASES, "fresh"),
        Param("learn_count_x", _LEARN, 10, _limit("input_size")),  # the parameter calculator
        Param("learn_count_h", _LEARN, 20, _limit("hidden_size")),
        Param("learn_count_o", _LEARN, 1, _limit("output_size")),
        # the tutorial's code next to torch.nn
        Param("learn_code_cell", _LEARN, "RNN", options=("RNN", "LSTM", "GRU")),
        Param("learn_code_seed", _LEARN, 0, Number(0, 9999)),
    )
}
LEARN_PREFIX = "learn_"


# ---------------------------------------------------------------- views of the table
def _owned_by(owner: str) -> dict[str, Param]:
    return {n: p for n, p in PARAMS.items() if owner in p.owners}


SIDEBAR_PARAMS: dict[str, object] = {n: p.default for n, p in _owned_by(SIDEBAR).items()}
GLOBAL_PARAMS: tuple[str, ...] = tuple(_owned_by(EVERY_PAGE))
STEP_PARAMS: dict[str, object] = {n: p.default for n, p in _owned_by("step_through").items()}
TRAIN_PARAMS: tuple[str, ...] = tuple(_owned_by("train"))
LEARN_PARAMS: tuple[str, ...] = tuple(_owned_by("learn"))
PAGE_PARAMS: dict[str, tuple[str, ...]] = {path: tuple(_owned_by(path)) for path in PAGES}
NUMBERS: dict[str, Number] = {n: p.bounds for n, p in PARAMS.items() if p.bounds is not None}


def session_key(name: str) -> str:
    """The ``st.session_state`` key that holds URL parameter ``name``'s value: its own name,
    unless the table gives it another (:attr:`Param.key`)."""
    return PARAMS[name].key if name in PARAMS else name


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
    return name in PARAMS


def suggest(name: str) -> str | None:
    """The known name closest to a mistyped one (``hiden_size`` -> ``hidden_size``), if any."""
    match = get_close_matches(name, list(PARAMS), n=1, cutoff=0.75)
    return match[0] if match else None


def url_value(value: object) -> str:
    """How a widget value is spelt in a URL, as Streamlit's query-parameter binding spells it
    (``True`` -> ``"true"``, ``1.0`` -> ``"1.0"``, ``12`` -> ``"12"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
