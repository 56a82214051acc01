"""Named starting points for a lesson: the presets.

A preset is data: a title, one sentence of what to look for, the page it opens and the URL
parameters that set that page up, named as in the URL table (:mod:`explorer.url_params`).
Adding one is one entry in :data:`PRESETS`. A link opens it
(``link("forget_gate") == "./?preset=forget_gate"``), and so does one click in the sidebar's
Presets menu. Their titles and sentences are listed for readers in README.md ("Links, presets
and presenter mode").

Pure Python: no Streamlit here (``explorer.ui.presets_menu`` opens and lists them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from .url_params import SIDEBAR_PARAMS, STEP_PARAMS, url_value


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
