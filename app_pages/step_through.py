"""Step through: watch h_t, c_t and every gate of the chosen cell, one time step at a time."""
import numpy as np
import pandas as pd
import streamlit as st

from explorer import charts
from explorer.config import CELLS, GATE_NAMES
from explorer.inputs import parse_numbers, series_window, sine
from explorer.tasks import SERIES, load_series
from explorer.teaching import article
from explorer.ui import cached_trace, current_config, show_chart

config = current_config()
spec = CELLS[config.cell]
st.title(f"Step through {article(spec.label)}")
st.caption("Feed one sequence through the cell and move along time: every heatmap is time × "
           "unit, with the chosen step outlined. The weights are the sidebar's, freshly "
           "initialised with its seed.")

KINDS = {"sine": "Sine wave", "typed": "Typed numbers", "series": "Window of a real series"}
kind = st.segmented_control("Input sequence", list(KINDS), format_func=KINDS.get,
                            default="sine", key="step_input_kind") or "sine"
signal = None
try:
    if kind == "sine":
        a, b, c, d = st.columns(4)
        T = a.slider("length T", 2, 400, 60, key="sine_T")
        cycles = b.slider("cycles", 0.5, 10.0, 2.0, 0.5, key="sine_cycles")
        amplitude = c.slider("amplitude", 0.1, 3.0, 1.0, 0.1, key="sine_amplitude")
        noise = d.slider("noise (std)", 0.0, 1.0, 0.0, 0.05, key="sine_noise")
        signal = sine(T, cycles=cycles, amplitude=amplitude, noise=noise, seed=config.seed)
    elif kind == "typed":
        text = st.text_input("Numbers, separated by commas or spaces",
                             "0, 0.5, 1, 0.5, 0, -0.5, -1, -0.5, 0, 1, 1, 1", key="typed_numbers")
        signal = parse_numbers(text)
    else:
        a, b, c = st.columns([2, 1, 1])
        key = a.selectbox("Series", list(SERIES), format_func=lambda k: SERIES[k].label,
                          key="step_series")
        n = len(load_series(key))
        length = b.number_input("length T", 2, min(400, n), 60, key="window_length")
        start = c.number_input("start position", 0, n - 2, 0, key="window_start")
        signal = series_window(key, int(start), int(length))
        st.caption(f"{SERIES[key].about} Standardised over the window (mean 0, std 1).")
except ValueError as err:
    st.error(f"This input cannot be used: {err}.", icon=":material/error:")
    st.stop()

if len(signal) < 2:
    st.warning("A sequence of one step has nothing to step through: give at least two values.")
T = len(signal)
data = cached_trace(config, signal.astype(np.float32).tobytes(), T)

layer, direction = 0, 0
sel = st.columns(3)
if config.num_layers > 1:
    layer = sel[0].selectbox("layer", range(config.num_layers), key="step_layer",
                             format_func=lambda l: f"layer {l}")
if config.bidirectional:
    direction = sel[1].selectbox("direction", [0, 1], key="step_direction",
                                 format_func=lambda d: ["forward", "reverse"][d])
step = st.slider("time step t", 0, T - 1, 0, key="step_t") if T > 1 else 0

show_chart(charts.sequence(data["x"], step), key="input_chart")

quantities = {"h": data["hidden"][layer, direction]}
if data["cell"] is not None:
    quantities["c"] = data["cell"][layer, direction]
quantities.update({k: v[layer, direction] for k, v in data["gates"].items()})

st.subheader("Over time")
if direction == 1:
    st.caption("Reverse direction: the state at position t has read x_{T-1} … x_t.")
columns = st.columns(2)
for k, (name, values) in enumerate(quantities.items()):
    with columns[k % 2]:
        style = charts.style_for(name, values, config.nonlinearity)
        show_chart(charts.heatmap(values, style, step=step), key=f"heatmap_{name}")

st.subheader(f"At step t = {step}")
now = {name: values[step] for name, values in quantities.items()}
show_chart(charts.step_values(now, step), key="step_values")
table = pd.DataFrame({charts.QUANTITY_STYLES[name].label: v for name, v in now.items()})
table.index.name = "unit"
st.dataframe(table.style.format("{:.4f}"), width="stretch")
if spec.gates:
    st.caption("Gates in PyTorch's order: " + ", ".join(GATE_NAMES[g] for g in spec.gates) + ".")
