"""RNN Explorer: the router. Run with ``streamlit run streamlit_app.py``."""
import streamlit as st

from explorer.ui import cell_sidebar

st.set_page_config(page_title="RNN Explorer", page_icon=":material/cycle:", layout="wide")
page = st.navigation([
    st.Page("app_pages/learn.py", title="Learn", icon=":material/school:"),
    st.Page("app_pages/cell.py", title="Cell & parameters", icon=":material/grid_on:", default=True),
    st.Page("app_pages/step_through.py", title="Step through", icon=":material/play_circle:"),
    st.Page("app_pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("app_pages/compare.py", title="Compare cells", icon=":material/compare_arrows:"),
])
cell_sidebar()
page.run()
