"""Learn: the RNN tutorial as a live page (being built)."""
import streamlit as st

st.title("Learn: recurrent networks, live")
st.caption("This page is being written.")
