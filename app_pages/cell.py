"""Cell & parameters: every tensor of the chosen torch module, counted and explained."""

import pandas as pd
import streamlit as st

from explorer import build_from_config, count_parameters
from explorer.charts import parameter_bars
from explorer.config import CELLS
from explorer.params import BYTES_PER_FLOAT32, count_head, torch_total
from explorer.teaching import PROJECTION, TWO_BIASES, equations, format_bytes
from explorer.ui import current_config, show_chart
from explorer.ui.presenter_mode import presenter


def _textbook(row) -> str:
    """Whether the one-bias textbook form has this tensor, and where it went if not."""
    if row.textbook:
        return "yes"
    if config.cell == "gru":  # bias_hh = b_hr | b_hz | b_hn (PyTorch's r z n order)
        return "b_hr, b_hz: folded into b_ih; b_hn: cannot be (r_t scales it)"
    return "no: folded into b_ih"


config = current_config()
spec = CELLS[config.cell]
st.title(f"{spec.label}: cell & parameters")
if not presenter():
    st.caption("Change the cell and its sizes in the sidebar; everything here follows.")

counts = count_parameters(
    config.cell,
    config.input_size,
    config.hidden_size,
    num_layers=config.num_layers,
    bidirectional=config.bidirectional,
    bias=config.bias,
    proj_size=config.proj_size,
)
head = count_head(config.D * config.H_out, config.output_size)
head_total = sum(r.count for r in head)

c1, c2, c3, c4 = st.columns(4)
c1.metric(
    f"nn.{spec.module.__name__}",
    f"{counts.total:,}",
    help=f"Parameters of torch.nn.{spec.module.__name__}: sum(p.numel()).",
)
fewer = counts.total - counts.textbook_total
textbook_help = (
    "The textbook GRU (Cho et al. 2014): one bias per gate, and the reset gate applied to "
    "h_{t-1} before the product with W_hn. A different cell, not PyTorch's with fewer biases: "
    "PyTorch's b_hn sits inside r_t ⊙ (W_hn h_{t-1} + b_hn) and cannot be folded away."
    if config.cell == "gru"
    else "The same cell with one bias per gate, as textbooks write it: b_h = b_ih + b_hh computes "
    "the same function."
)
c2.metric(
    "Textbook",
    f"{counts.textbook_total:,}",
    delta=f"{fewer:,} fewer (one bias per gate)" if fewer else "no biases to merge",
    delta_color="off",
    delta_arrow="off",
    help=textbook_help,
)
c3.metric(
    "Memory",
    format_bytes(counts.bytes),
    help=f"{counts.bytes:,} bytes: 4 bytes per float32 parameter.",
)
c4.metric(
    "With head",
    f"{counts.total + head_total:,}",
    help=f"Adding the linear head y_t = W_hy h_t + b_y: {head_total:,} parameters.",
)

st.subheader("Every tensor")
rows = counts.rows + head
table = pd.DataFrame(
    {
        "tensor": [r.name for r in rows],
        "shape": [" × ".join(map(str, r.shape)) for r in rows],
        "formula": [r.formula for r in rows],
        "parameters": [r.count for r in rows],
        "bytes (float32)": [BYTES_PER_FLOAT32 * r.count for r in rows],
        "in textbook form": [_textbook(r) for r in rows],
    }
)
if presenter():  # an HTML table: its text grows with the page's (a data grid's does not)
    st.table(table.set_index("tensor"))
else:
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=35 * (len(table) + 1) + 3,
        column_config={
            "in textbook form": st.column_config.TextColumn(
                width="large" if config.cell == "gru" else None
            )
        },
    )
st.markdown(
    f"**Recurrent layer total** = {counts.total_formula} = **{counts.total:,}** parameters, "
    f"{format_bytes(counts.bytes)}. H = hidden_size = {config.hidden_size}, "
    f"input_size = {config.input_size}"
    + (f", proj_size = {config.proj_size}" if config.proj_size else "")
    + f"; in = input_size for layer 0 and {config.D}·H_out for the layers above."
)

if counts.total <= 5_000_000:  # small enough to build on the spot and ask torch itself
    real = torch_total(build_from_config(config).rnn)
    verdict = "matches" if real == counts.total else "DOES NOT match"
    st.success(
        f"Checked against torch: `sum(p.numel() for p in rnn.parameters())` = {real:,}, "
        f"which {verdict} the count above.",
        icon=":material/check_circle:",
    )

left, right = st.columns(2)
with left:
    st.subheader(
        "Textbook form: one bias"
        if config.cell != "gru"
        else "Textbook GRU: one bias, reset before the product"
    )
    for line in equations(config.cell, textbook=True, bias=config.bias):
        st.latex(line)
with right:
    st.subheader(f"PyTorch's nn.{spec.module.__name__}: two biases")
    for line in equations(config.cell, bias=config.bias):
        st.latex(line)
    if config.proj_size:
        st.latex(PROJECTION)
if config.bias:
    st.info(TWO_BIASES, icon=":material/lightbulb:")
else:
    st.info(
        "With `bias=False` the recurrent layer has no biases at all, so the textbook and "
        "PyTorch counts agree. (The linear head keeps its b_y.)",
        icon=":material/lightbulb:",
    )

show_chart(parameter_bars([r.name for r in rows], [r.count for r in rows]), key="param_bars")
