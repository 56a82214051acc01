"""The Learn page's figures read back from their Plotly spec: one colour per shared matrix, the
units coloured by the tiny model's values, one heatmap row per quantity of a live trace."""

import numpy as np
import pytest

from explorer import lesson, lesson_figures


def test_unrolled_figure_shares_one_colour_per_matrix():
    fig = lesson_figures.unrolled_figure(5, 2, 3, 1)
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    by_colour = {c: sum(a.arrowcolor == c for a in arrows) for c in lesson.COLOURS.values()}
    # one arrow per step for each matrix, plus one on the folded network
    assert by_colour[lesson.COLOURS["W_xh"]] == by_colour[lesson.COLOURS["W_hy"]] == 6
    assert by_colour[lesson.COLOURS["W_hh"]] == 6  # h_0 -> h_1 … h_4 -> h_5, and the loop
    legend = [t.name for t in fig.data if t.showlegend is not False and t.name]
    assert legend == [
        "W<sub>xh</sub> (H×X = 3×2)",
        "W<sub>hh</sub> (H×H = 3×3)",
        "W<sub>hy</sub> (O×H = 1×3)",
    ]
    markers = [t for t in fig.data if t.mode == "markers" and t.x[0] is not None]
    assert sum(len(t.x) for t in markers) == (2 + 3 + 1) * 6 + 3  # folded + 5 steps + h_0
    with pytest.raises(ValueError, match="T must be"):
        lesson_figures.unrolled_figure(9, 1, 2, 1)


def test_unrolled_figure_with_values_colours_the_units():
    run = lesson.tiny_run(2, 3, 1, 4)
    fig = lesson_figures.unrolled_figure(
        4, 2, 3, 1, values={"x": run.x, "h": run.h, "y": run.y}, step=2
    )
    hidden_2 = [
        t
        for t in fig.data
        if t.mode == "markers" and t.hovertemplate and "h_2" in t.hovertemplate[0]
    ][0]
    np.testing.assert_allclose(hidden_2.marker.color, run.h[2], atol=1e-7)
    assert fig.layout.shapes[0].fillcolor == "#fff3b0"  # the highlighted step


def test_trace_figure_rows():
    x = lesson.lesson_signal("pulse", 12)
    q = lesson.kind_trace("gru", x, 3)
    fig = lesson_figures.trace_figure(x, q, "GRU", lesson_figures.TRACE_ORDER["gru"])
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 4
    np.testing.assert_allclose(heat[0].z, q["z"].T)
    assert (heat[0].zmin, heat[0].zmax) == (0.0, 1.0) and (heat[2].zmin, heat[2].zmax) == (-1, 1)
    assert list(fig.data[0].x) == list(range(1, 13))  # steps t = 1 … T
