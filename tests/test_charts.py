"""Figures read back from their Plotly spec: values, axis titles, colour ranges, markers."""

import numpy as np

from explorer import charts


def test_heatmap_fixed_range_cursor_and_stride():
    values = np.linspace(-2, 2, 600 * 3).reshape(600, 3)
    fig = charts.heatmap(values, charts.QUANTITY_STYLES["f"], step=40, stride=2, unit=1)
    trace = fig.data[0]
    assert (trace.zmin, trace.zmax) == (0.0, 1.0)  # fixed, not rescaled to the data's -2..2
    assert trace.z.shape == (3, 300)  # units × displayed steps
    assert list(trace.x[:3]) == [1, 3, 5]  # x keeps the true t, counted from 1
    shapes = fig.layout.shapes
    assert (shapes[0].x0, shapes[0].x1) == (39, 41)  # cursor one stride wide, centred on t
    assert (shapes[1].y0, shapes[1].y1) == (0.5, 1.5)  # the selected unit
    assert fig.layout.xaxis.title.text == "time step t" and fig.layout.yaxis.title.text == "unit"
    assert "t=%{x}" in trace.hovertemplate and "unit %{y}" in trace.hovertemplate


def test_style_for_unbounded_quantities_is_symmetric():
    style = charts.style_for("c", np.array([[-0.5, 3.0]]))
    assert (style.zmin, style.zmax) == (-3.0, 3.0)
    relu = charts.style_for("h", np.array([[0.0, 4.0]]), nonlinearity="relu")
    assert (relu.zmin, relu.zmax) == (-4.0, 4.0)
    assert charts.style_for("h", np.array([[0.0, 0.2]])).zmax == 1.0


def test_trajectory_axes_name_explained_variance():
    fig = charts.trajectory(np.zeros((4, 2)), np.array([0.8, 0.15]), step=2)
    assert fig.layout.xaxis.title.text == "PC1 (80 % of variance)"
    assert fig.layout.yaxis.title.text == "PC2 (15 % of variance)"
    assert list(fig.data[1].marker.color) == [1, 2, 3, 4]  # coloured by time, t = 1…T


def test_saturation_bars_in_percent():
    fig = charts.saturation_bars({"f": [0.25, 0.0, 0.25, 0.0, 0.5]})
    assert [list(bar.y) for bar in fig.data] == [[25.0], [0.0], [25.0], [0.0], [50.0]]
    assert fig.data[0].name == "below 0.1 (closed)" and fig.data[-1].name == "above 0.9 (open)"
    assert fig.layout.barmode == "stack" and tuple(fig.layout.yaxis.range) == (0, 100)


def test_layer_stack_one_row_per_layer():
    hidden = np.random.default_rng(0).uniform(-1, 1, (3, 2, 10, 4))
    fig = charts.layer_stack(hidden, direction=1, step=5)
    assert len(fig.data) == 3
    np.testing.assert_allclose(fig.data[2].z, hidden[2, 1].T.astype(np.float32))
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (-1.0, 1.0)


def test_parameter_bars_and_forecast_labels():
    fig = charts.parameter_bars(["weight_ih_l0", "bias_ih_l0"], [64, 64])
    assert list(fig.data[0].text) == ["64", "64"]
    fig = charts.forecast(
        [1, 2], np.array([1.0, 2.0]), np.array([1.1, 2.1]), np.array([0.9, 1.0]), unit="ppm"
    )
    assert fig.layout.yaxis.title.text == "ppm"
    assert [d.name for d in fig.data] == ["truth", "naive: next = last", "model forecast"]


def test_log_ticks_stay_readable_over_many_decades():
    fig = charts.hidden_grad_profile(np.logspace(-14, 0, 50), latest_step=300)
    ticks = list(fig.layout.yaxis.tickvals)
    assert fig.layout.yaxis.type == "log" and len(ticks) <= 11
    assert ticks[0] <= 1e-14 and ticks[-1] >= 1
    few = charts.hidden_grad_profile(np.array([0.01, 0.2]), latest_step=10).layout.yaxis
    assert list(few.ticktext)[:3] == ["0.01", "0.02", "0.05"]


def test_gradient_charts_draw_one_line_per_tensor_and_gap_zeros():
    fig = charts.grad_norm_history(
        [10, 20], {"rnn.weight_hh_l0": [0.5, 0.0], "head.bias": [0.1, 0.2]}
    )
    assert [d.name for d in fig.data] == ["weight_hh_l0", "head.bias"]
    assert fig.data[0].y[0] == 0.5 and np.isnan(fig.data[0].y[1])  # 0 has no log: a gap
    prof = charts.hidden_grad_profile(
        np.array([1e-3, 1e-2, 1e-1]), latest_step=20, first=np.ones(3), first_step=10
    )
    assert [d.name for d in prof.data] == ["step 10", "step 20"]
    assert prof.layout.xaxis.title.text == "time step t"


def test_task_prediction_charts():
    fig = charts.sum_scatter(np.array([0.5, 1.5]), np.array([0.6, 1.4]))
    assert list(fig.data[2].x) == [0.5, 1.5] and list(fig.data[1].y) == [1, 1]
    bars = charts.recall_accuracy(np.array([1.0, 0.5]), 0.25)
    assert list(bars.data[0].y) == [100.0, 50.0] and list(bars.data[1].y) == [25.0, 25.0]
    assert bars.data[1].name == "chance: 1/4"
    fc = charts.forecast(
        [1, 2], np.ones(2), np.ones(2), np.ones(2), unit="°C", seasonal_naive=np.zeros(2), k=3
    )
    assert [d.name for d in fc.data] == [
        "truth",
        "naive: x(t+3) = x(t)",
        "seasonal naive: one season earlier",
        "model forecast",
    ]
    assert fc.layout.title.text == "Validation forecasts, 3 steps ahead"
