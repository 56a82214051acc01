"""The ``st.session_state`` keys that more than one page reads or writes, each named once.

A key that one module alone uses stays beside its code (the link machinery's at the top of
:mod:`explorer.ui.links` and its neighbours, a page's private ones at the top of the page); a
key that crosses pages is defined here, so its writer and its reader cannot drift apart. A URL
parameter's value lives under its own name, or under the ``session_key`` the URL table gives
it (:data:`explorer.url_params.PARAMS`).
"""

from __future__ import annotations

from ..url_params import PARAMS

# written by the Train page, read by Step through
TRAINER_SIGNATURE = "trainer_signature"  # (CellConfig, …) of the Train page's run: its cell
TRAIN_FROM_FILE = "train_from_file"  # True when the Train page's weights came from a file
# Step through's own settings, which the Train page's "Step through" button sets
STEP_WEIGHTS = PARAMS["weights"].key  # fresh, forget1 or trained
STEP_OWN_INPUT = "step_own_input"  # the trained model's own task data as the input
STEP_POS = PARAMS["t"].key  # the step player's position t (1…T)
