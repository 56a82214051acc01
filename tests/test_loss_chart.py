"""The live loss chart (Vega-Lite): its rows, thinning, log-axis labels, references, extra curves
and presenter scale."""

from explorer import loss_chart


def test_loss_curve_of_one_model_log_scale_and_validation_points():
    history = [{"step": 1, "train_loss": 1.0}, {"step": 2, "train_loss": 0.5, "val_loss": 0.7}]
    data, spec = loss_chart.loss_curves({"model": history})
    train, val = data[data["kind"] == "train"], data[data["kind"] == "validation"]
    assert train["loss"].tolist() == [1.0, 0.5] and val["step"].tolist() == [2]
    train_layer, val_layer = spec["layer"][:2]
    assert train_layer["encoding"]["y"]["scale"]["type"] == "log"
    # one model: the colour tells training (blue) from validation (red)
    assert val_layer["encoding"]["color"]["field"] == "curve"
    assert val_layer["encoding"]["color"]["scale"]["range"][:2] == ["#1f77b4", "#d62728"]
    _, linear = loss_chart.loss_curves({"model": history}, log_y=False)
    assert "type" not in linear["layer"][0]["encoding"]["y"]["scale"]


def test_log_axis_labels_1_2_5_only_over_a_decade_or_more():
    def labels(losses):
        history = [{"step": s, "train_loss": v} for s, v in enumerate(losses, 1)]
        return loss_chart.loss_curves({"model": history})[1]["layer"][0]["encoding"]["y"]["axis"]

    assert "labelExpr" in labels([2.0, 0.1])  # 20x: 1-2-5 labels
    assert "labelExpr" not in labels([4.5, 1.9])  # within a decade: Vega's round ticks


def test_long_loss_curve_is_thinned_but_keeps_validation_and_last_step():
    history = [{"step": s, "train_loss": 1.0 / s} for s in range(1, 5002)]
    for r in history[9::10]:
        r["val_loss"] = 2.0 / r["step"]
    data, _ = loss_chart.loss_curves({"model": history})
    x = data[data["kind"] == "train"]["step"].tolist()
    assert len(x) <= loss_chart.MAX_CURVE_POINTS + 1 and x[0] == 1 and x[-1] == 5001
    assert (data["kind"] == "validation").sum() == 500  # every validation point


def test_loss_curve_baselines_extra_curves_unit_and_presenter_scale():
    history = [{"step": 1, "train_loss": 1.0}, {"step": 2, "train_loss": 0.5, "val_loss": 0.7}]
    options = dict(
        y_title="cross-entropy (nats per step)",
        references=(("baseline: uniform", 1.6), ("broken", float("nan"))),
        extra=(("tutorial", [0.9, 0.8, 0.7]),),
    )
    data, spec = loss_chart.loss_curves({"model": history}, **options)
    assert spec["layer"][0]["encoding"]["y"]["title"] == "cross-entropy (nats per step)"
    tutorial = data[data["curve"] == "tutorial"]
    assert tutorial["step"].tolist() == [1, 2, 3] and tutorial["loss"].tolist() == [0.9, 0.8, 0.7]
    ref = data[data["kind"] == "reference"]
    assert ref["curve"].tolist() == ["baseline: uniform"] * 2  # the NaN one is left out
    assert ref["step"].tolist() == [0, 3] and ref["loss"].tolist() == [1.6, 1.6]  # longest curve
    assert [layer["transform"][0]["filter"] for layer in spec["layer"]] == [
        f"datum.kind === '{k}'" for k in ("train", "validation", "extra", "reference")
    ]
    _, big = loss_chart.loss_curves({"model": history}, scale=1.5, **options)
    assert big["height"] == round(1.5 * spec["height"])
    assert big["title"]["fontSize"] == round(1.5 * spec["title"]["fontSize"])
