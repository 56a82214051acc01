"""Shared Streamlit widgets and state helpers: the only explorer module that imports streamlit.

The sidebar's cell configuration is drawn once by the router (``streamlit_app.py``), so its
widgets live across page switches; pages read it with :func:`current_config`.
"""
from __future__ import annotations

import streamlit as st

from .config import CELLS, LIMITS, CellConfig

DEFAULT = CellConfig()
CONFIG_KEY = "cell_config"
ERROR_KEY = "cell_config_error"


def _size(label: str, key: str, help: str) -> int:
    lo, hi = LIMITS[key]
    return int(st.number_input(label, min_value=lo, max_value=hi, value=getattr(DEFAULT, key),
                               step=1, key=key, help=help))


def cell_sidebar() -> CellConfig | None:
    """Draw the cell controls in the sidebar; store and return the resulting
    :class:`CellConfig`, or ``None`` (with the reason shown) when the sizes are inconsistent."""
    with st.sidebar:
        st.header("Cell")
        cell = st.selectbox("Cell type", list(CELLS), format_func=lambda k: CELLS[k].label,
                            index=list(CELLS).index(DEFAULT.cell), key="cell")
        nonlinearity = DEFAULT.nonlinearity
        if cell == "rnn":
            nonlinearity = st.radio("nonlinearity", ["tanh", "relu"], horizontal=True,
                                    key="nonlinearity", help="f in h_t = f(W_ih x_t + W_hh h_{t-1} + b)")
        input_size = _size("input_size", "input_size", "Features per time step x_t.")
        hidden_size = _size("hidden_size", "hidden_size", "Units in h_t (and c_t for LSTM).")
        num_layers = _size("num_layers", "num_layers", "Stacked recurrent layers.")
        proj_size = 0
        if cell == "lstm":
            proj_size = _size("proj_size", "proj_size",
                              "LSTM only: h_t = W_hr (o_t ⊙ tanh(c_t)), 0 for none. "
                              "Must be smaller than hidden_size.")
        bidirectional = st.toggle("bidirectional", value=DEFAULT.bidirectional, key="bidirectional")
        bias = st.toggle("bias", value=DEFAULT.bias, key="bias")
        output_size = _size("output_size", "output_size", "Outputs of the linear head y_t.")
        seed = _size("seed", "seed", "Same seed, same initial weights.")
        try:
            config = CellConfig(cell=cell, input_size=input_size, hidden_size=hidden_size,
                                num_layers=num_layers, bidirectional=bidirectional, bias=bias,
                                nonlinearity=nonlinearity, proj_size=proj_size,
                                output_size=output_size, seed=seed)
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


@st.cache_data(max_entries=32, show_spinner=False)
def cached_trace(config: CellConfig, signal: bytes, T: int) -> dict:
    """Trace a freshly initialised model (``config``'s seed) over ``signal`` (float32 bytes of a
    ``(T,)`` array) and return numpy arrays, cached per input. Only untrained, seeded models
    are cached here: the cache is shared by every browser session."""
    import numpy as np

    from .inputs import to_features
    from .models import build_from_config
    from .trace import trace

    values = np.frombuffer(signal, dtype=np.float32, count=T)
    x = to_features(values, config.input_size)
    tr = trace(build_from_config(config).rnn, x)
    return {
        "x": x.numpy(),
        "hidden": tr.hidden.numpy(),
        "cell": None if tr.cell is None else tr.cell.numpy(),
        "gates": {k: v.numpy() for k, v in tr.gates.items()},
    }
