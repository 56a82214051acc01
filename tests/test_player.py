"""explorer.ui.player: what the step player sends to the browser."""

import math

import numpy as np

from explorer.ui.player import follow, per_step


def test_per_step_rounds_keeps_gaps_and_folds_constants():
    assert per_step(np.array([0.123456, -1.0, math.nan, math.inf])) == [0.1235, -1.0, None, None]
    assert per_step(np.full(5, 0.25)) == 0.25  # a bias: one number for every step
    assert per_step(np.full(3, math.nan)) == [None, None, None]


def test_follow_marks_the_figure_for_the_player():
    import plotly.graph_objects as go

    fig = follow(go.Figure(), "cursor", 7)
    assert fig.layout.meta == {"player": "cursor", "group": "step", "t": 7}
