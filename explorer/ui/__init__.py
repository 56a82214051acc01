"""Shared Streamlit widgets and state helpers: the explorer.ui package is the only part of the
core that imports streamlit.

The sidebar's cell configuration is drawn once by the router (``streamlit_app.py``), so its
widgets live across page switches; pages read it with :func:`current_config`.
"""

from __future__ import annotations

import streamlit as st

from ..config import CELLS, LIMITS, CellConfig

DEFAULT = CellConfig()
# The sidebar's widgets are bound to the URL under the config's field names
# (?cell=gru&input_size=3&hidden_size=7): a link reproduces the cell. Streamlit drops values
# that do not fit a widget (an unknown cell, a size out of range) and keeps the default.
URL = "query-params"
CONFIG_KEY = "cell_config"
ERROR_KEY = "cell_config_error"


def _size(label: str, key: str, help: str) -> int:
    lo, hi = LIMITS[key]
    return int(
        st.number_input(
            label,
            min_value=lo,
            max_value=hi,
            value=getattr(DEFAULT, key),
            step=1,
            key=key,
            help=help,
            bind=URL,
        )
    )


def cell_sidebar() -> CellConfig | None:
    """Draw the cell controls in the sidebar; store and return the resulting
    :class:`CellConfig`, or ``None`` (with the reason shown) when the sizes are inconsistent."""
    # The cell selectbox shows labels ("GRU") but the link says cell=gru, so it is synced by
    # hand: Streamlit's binding would put the label in the URL.
    if "cell" not in st.session_state and st.query_params.get("cell") in CELLS:
        st.session_state["cell"] = st.query_params["cell"]
    with st.sidebar:
        st.header("Cell")
        cell = st.selectbox(
            "Cell type",
            list(CELLS),
            format_func=lambda k: CELLS[k].label,
            index=list(CELLS).index(DEFAULT.cell),
            key="cell",
        )
        if cell == DEFAULT.cell:
            st.query_params.pop("cell", None)
        else:
            st.query_params["cell"] = cell
        nonlinearity = DEFAULT.nonlinearity
        if cell == "rnn":
            nonlinearity = st.radio(
                "nonlinearity",
                ["tanh", "relu"],
                horizontal=True,
                key="nonlinearity",
                help="f in h_t = f(W_ih x_t + W_hh h_{t-1} + b)",
                bind=URL,
            )
        input_size = _size("input_size", "input_size", "Features per time step x_t.")
        hidden_size = _size("hidden_size", "hidden_size", "Units in h_t (and c_t for LSTM).")
        num_layers = _size("num_layers", "num_layers", "Stacked recurrent layers.")
        proj_size = 0
        if cell == "lstm":
            proj_size = _size(
                "proj_size",
                "proj_size",
                "LSTM only: h_t = W_hr (o_t ⊙ tanh(c_t)), 0 for none. "
                "Must be smaller than hidden_size.",
            )
        bidirectional = st.toggle(
            "bidirectional", value=DEFAULT.bidirectional, key="bidirectional", bind=URL
        )
        bias = st.toggle("bias", value=DEFAULT.bias, key="bias", bind=URL)
        output_size = _size("output_size", "output_size", "Outputs of the linear head y_t.")
        seed = _size("seed", "seed", "Same seed, same initial weights.")
        try:
            config = CellConfig(
                cell=cell,
                input_size=input_size,
                hidden_size=hidden_size,
                num_layers=num_layers,
                bidirectional=bidirectional,
                bias=bias,
                nonlinearity=nonlinearity,
                proj_size=proj_size,
                output_size=output_size,
                seed=seed,
            )
            st.session_state[ERROR_KEY] = None
        except ValueError as err:
            st.error(f"These sizes do not make a valid {CELLS[cell].label}: {err}.")
            config = None
            st.session_state[ERROR_KEY] = str(err)
    st.session_state[CONFIG_KEY] = config
    return config


def current_config() -> CellConfig:
    """The sidebar's configuration; if it is invalid, say so on the page and stop the page
    (the sidebar, and everything the user typed, stay as they are)."""
    config = st.session_state.get(CONFIG_KEY)
    if config is None:
        reason = st.session_state.get(ERROR_KEY) or "no cell configured"
        st.warning(f"Fix the cell settings in the sidebar to see this page: {reason}.")
        st.stop()
    return config


def show_chart(fig, key: str) -> None:
    """``st.plotly_chart`` with the project's defaults (full width, no Plotly logo)."""
    st.plotly_chart(fig, width="stretch", key=key, config={"displaylogo": False})


INPUT_KINDS = {
    "wave": "Wave",
    "random_walk": "Random walk",
    "typed": "Typed numbers",
    "text": "Text",
    "series": "Real series",
    "csv": "Your CSV",
}


def sequence_input(seed: int, key: str = "step") -> tuple[object, list[str] | None, str] | None:
    """Widgets that choose an input sequence. Returns ``(signal, alphabet, description)``:
    ``signal`` a ``(T,)`` float32 array, or for text a ``(T, V)`` one-hot tensor with its
    ``alphabet``; ``None`` (with the reason shown in place of the charts) when the input is
    unusable. Keys are prefixed with ``key`` so state survives reruns and page switches."""
    import numpy as np

    from .. import inputs
    from ..readers import read_series
    from ..tasks import SERIES, load_series

    kind = (
        st.segmented_control(
            "Input sequence",
            list(INPUT_KINDS),
            format_func=INPUT_KINDS.get,
            default="wave",
            key=f"{key}_input_kind",
            persist_state="session",
        )
        or "wave"
    )
    try:
        if kind == "wave":
            a, b, c, d, e = st.columns(5)
            shape = a.selectbox(
                "shape",
                ["sine", "square", "sawtooth"],
                key=f"{key}_wave_shape",
                persist_state="session",
            )
            T = b.slider("length T", 1, 400, 60, key=f"{key}_wave_T", persist_state="session")
            cycles = c.slider(
                "cycles", 0.5, 10.0, 2.0, 0.5, key=f"{key}_wave_cycles", persist_state="session"
            )
            amplitude = d.slider(
                "amplitude",
                0.1,
                3.0,
                1.0,
                0.1,
                key=f"{key}_wave_amplitude",
                persist_state="session",
            )
            noise = e.slider(
                "noise (std)", 0.0, 1.0, 0.0, 0.05, key=f"{key}_wave_noise", persist_state="session"
            )
            signal = inputs.wave(
                shape, T, cycles=cycles, amplitude=amplitude, noise=noise, seed=seed
            )
            return (
                signal,
                None,
                f"{shape} wave, {cycles:g} cycles, amplitude {amplitude:g}, noise {noise:g}",
            )
        if kind == "random_walk":
            a, b = st.columns(2)
            T = a.slider("length T", 1, 400, 100, key=f"{key}_walk_T", persist_state="session")
            step = b.slider(
                "step size (std)",
                0.01,
                0.5,
                0.1,
                0.01,
                key=f"{key}_walk_step",
                persist_state="session",
            )
            return inputs.random_walk(T, step=step, seed=seed), None, f"random walk, seed {seed}"
        if kind == "typed":
            text = st.text_input(
                "Numbers, separated by commas or spaces",
                "0, 0.5, 1, 0.5, 0, -0.5, -1, -0.5, 0, 1, 1, 1",
                key=f"{key}_typed",
                persist_state="session",
            )
            return inputs.parse_numbers(text), None, "typed numbers"
        if kind == "text":
            text = st.text_input(
                "A short text (each character one-hot over the text's own alphabet)",
                "hello world",
                key=f"{key}_text",
                persist_state="session",
            )
            x, alphabet = inputs.text_one_hot(text)
            return x, alphabet, f"text of {len(text)} characters, alphabet of {len(alphabet)}"
        if kind == "series":
            a, b, c = st.columns([2, 1, 1])
            series = a.selectbox(
                "series",
                list(SERIES),
                format_func=lambda k: SERIES[k].label,
                key=f"{key}_series",
                persist_state="session",
            )
            n = len(load_series(series))
            length = int(
                b.number_input(
                    "length T", 1, min(2000, n), 60, key=f"{key}_series_T", persist_state="session"
                )
            )
            start = int(
                c.number_input(
                    "start position",
                    0,
                    n - 1,
                    0,
                    key=f"{key}_series_start",
                    persist_state="session",
                )
            )
            st.caption(f"{SERIES[series].about} Standardised over the window (mean 0, std 1).")
            return inputs.series_window(series, start, length), None, SERIES[series].label
        upload = st.file_uploader(
            "A CSV file with at least one numeric column",
            type=["csv", "txt", "tsv"],
            key=f"{key}_csv",
        )
        if upload is None:
            st.info("Upload a CSV file to use one of its columns.", icon=":material/upload_file:")
            return None
        frame = read_series(upload)
        column = st.selectbox(
            "column", list(frame.columns), key=f"{key}_csv_column", persist_state="session"
        )
        values = frame[column].to_numpy(np.float64)
        from ..config import MAX_SEQUENCE_LENGTH

        if len(values) > MAX_SEQUENCE_LENGTH:
            raise ValueError(
                f"the column has {len(values):,} values; the limit is {MAX_SEQUENCE_LENGTH:,}"
            )
        values = (values - values.mean()) / (values.std() or 1.0)  # float64: no overflow
        if not np.isfinite(values).all() or np.abs(values).max() > 1e6:
            raise ValueError(f"the column {column!r} has values too large to standardise")
        return values.astype(np.float32), None, f"{upload.name}: {column} (standardised)"
    except ValueError as err:
        st.error(f"This input cannot be used: {err}.", icon=":material/error:")
        return None
