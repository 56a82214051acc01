"""Compare: RNN vs LSTM vs GRU on the same task, seed and budget (being built)."""
import streamlit as st

st.title("Compare RNN, LSTM and GRU")
st.caption("This page is being written.")
