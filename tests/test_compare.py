"""RNN vs LSTM vs GRU (explorer.compare) against torch: parameter counts, seeds, batches,
pause/resume, a small run that learns, the adding problem's lesson, and the results table."""

import math

import pytest
import torch
import torch.nn.functional as F

from explorer.compare import CELL_KEYS, Comparison, cell_configs
from explorer.config import CellConfig
from explorer.params import model_parameters
from explorer.tasks import build_task
from explorer.training import TrainConfig

pytestmark = pytest.mark.usefixtures("one_thread")


def _comparison(task="adding", config=CellConfig(), **train):
    settings = {"adding": dict(lag=10)}.get(task, {})
    train = dict(steps=20, batch_size=8, diagnostics=False) | train
    return Comparison(build_task(task, **settings), config, TrainConfig(**train))


def _numel(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_parameter_counts_equal_torch_modules_and_known_values():
    comp = _comparison()  # adding problem: input_size 2, output_size 1, hidden 16
    table = comp.results()
    # built here from torch alone: the recurrent layer plus Linear(16, 1)
    expected = {
        "rnn": torch.nn.RNN(2, 16),
        "lstm": torch.nn.LSTM(2, 16),
        "gru": torch.nn.GRU(2, 16),
    }
    for cell, label in zip(CELL_KEYS, ["Vanilla RNN", "LSTM", "GRU"]):
        torch_count = _numel(expected[cell]) + _numel(torch.nn.Linear(16, 1))
        assert table.loc[label, "parameters"] == torch_count
        assert _numel(comp.trainers[cell].model) == torch_count
    assert list(table["parameters"]) == [337, 1297, 977]  # G·(16·2 + 16·16 + 2·16) + 17


@pytest.mark.parametrize(
    "sizes",
    [
        dict(hidden_size=7, num_layers=2),
        dict(hidden_size=5, bidirectional=True, num_layers=3),
        dict(hidden_size=9, bias=False),
        dict(hidden_size=8, proj_size=3, cell="lstm"),  # proj_size is dropped for the comparison
    ],
)
@pytest.mark.parametrize("task", ["copy", "sine"])
def test_parameter_count_matches_model_for_other_sizes_and_tasks(sizes, task):
    comp = _comparison(task, CellConfig(**sizes))
    for cell, tr in comp.trainers.items():
        assert model_parameters(comp.configs[cell]) == _numel(tr.model)
        assert comp.configs[cell].proj_size == 0
        assert tr.model.rnn.input_size == comp.task.input_size
        assert tr.model.head.out_features == comp.task.output_size


def test_same_seed_same_initial_weights_as_torch():
    comp = _comparison(config=CellConfig(cell="gru", seed=3, hidden_size=6))  # sidebar says GRU
    for cell, module in [("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)]:
        torch.manual_seed(3)
        rnn, head = module(2, 6), torch.nn.Linear(6, 1)
        model = comp.trainers[cell].model
        assert isinstance(model.rnn, module)
        for ours, theirs in zip(model.parameters(), [*rnn.parameters(), *head.parameters()]):
            assert torch.equal(ours, theirs)


def test_identical_seeds_give_identical_batches_for_every_cell():
    comp = _comparison(seed=5)
    drawn = []
    draw = comp.task.train_batch
    comp.task.train_batch = lambda b, g: drawn.append(draw(b, g)) or drawn[-1]
    comp.run(max_steps=2)
    assert len(drawn) == 6  # two rounds of three cells
    reference = torch.Generator().manual_seed(5)
    for round_ in range(2):
        x, y = draw(8, reference)  # what a bare loop seeded with 5 draws
        for cell in range(3):
            bx, by = drawn[3 * round_ + cell]
            assert torch.equal(bx, x) and torch.equal(by, y)
    assert [t.step for t in comp.trainers.values()] == [2, 2, 2]


def test_pause_resume_equals_uninterrupted_run():
    a, b = _comparison(steps=30), _comparison(steps=30)
    a.run()
    b.status = "running"
    for chunk in (4, 1, 9):
        b.run(max_steps=chunk)
        b.status = "paused"  # a page pausing and resuming between slices
        b.status = "running"
    while b.status != "done":
        b.run(seconds=0.01)
    assert a.status == b.status == "done"
    for cell in CELL_KEYS:
        ta, tb = a.trainers[cell], b.trainers[cell]
        assert ta.step == tb.step == 30
        assert [r["train_loss"] for r in ta.history] == [r["train_loss"] for r in tb.history]
        for (name, p), q in zip(ta.model.state_dict().items(), tb.model.state_dict().values()):
            assert torch.equal(p, q), (cell, name)


def test_lockstep_and_a_finished_cell_drops_out():
    comp = _comparison(steps=50)
    comp.run(max_steps=3)
    assert comp.step == 3 and [t.step for t in comp.trainers.values()] == [3, 3, 3]
    comp.trainers["rnn"].status = "diverged"  # as a NaN would leave it
    comp.run(max_steps=4)
    assert [t.step for t in comp.trainers.values()] == [3, 7, 7]
    assert comp.step == 7 and comp.status == "ready"
    comp.run()
    assert comp.status == "done" and comp.results()["status"].tolist() == [
        "diverged",
        "done",
        "done",
    ]


def test_status_is_shared_and_checked():
    comp = _comparison()
    comp.status = "running"
    assert {t.status for t in comp.trainers.values()} == {"running"}
    with pytest.raises(ValueError, match="status must be one of"):
        comp.status = "flying"


def test_a_pause_from_another_thread_stops_the_run_between_rounds():
    comp = _comparison(steps=10_000)
    comp.status = "running"
    comp.run(max_steps=2)
    comp.status = "paused"  # what the page's Pause button does while a slice is in flight
    assert comp.run(seconds=5.0) == 0
    assert [t.step for t in comp.trainers.values()] == [2, 2, 2]


def test_small_seeded_run_lowers_every_cells_validation_loss():
    task = build_task("sine", period=20, noise=0.05, n=400, window=24)
    comp = Comparison(
        task,
        CellConfig(hidden_size=8),
        TrainConfig(steps=60, batch_size=16, eval_every=10, diagnostics=False),
    )
    comp.run()
    table = comp.results()
    for cell, tr in comp.trainers.items():
        val = [r["val_loss"] for r in tr.history if "val_loss" in r]
        assert len(val) == 6
        assert val[-1] < 0.5 * val[0], (cell, val)
        assert table.loc[table.index[CELL_KEYS.index(cell)], "validation loss"] == val[-1]
    # the forecasting task's own scores are in the table, its baselines the same for all
    assert {"RMSE", "naive RMSE", "seasonal-naive RMSE"} <= set(table.columns)
    assert table["naive RMSE"].nunique() == 1 and table["baseline"].nunique() == 1


def test_results_against_torch_on_the_adding_problem():
    comp = _comparison(steps=10)
    comp.run()
    table = comp.results()
    task = comp.task
    baseline = float(((1.0 - task.val_y.double()) ** 2).mean())  # always answer 1.0
    assert 0.12 < baseline < 0.22  # Var(u1 + u2) = 1/6 for this finite set
    for cell, label in zip(CELL_KEYS, table.index):
        model = comp.trainers[cell].model
        with torch.no_grad():
            mse = F.mse_loss(model(task.val_x)[-1:].double(), task.val_y.double()).item()
        assert table.loc[label, "validation loss"] == pytest.approx(mse, rel=1e-9)
        assert table.loc[label, "baseline"] == pytest.approx(baseline, rel=1e-12)
        assert table.loc[label, "below baseline"] == pytest.approx(1 - mse / baseline)
        assert table.loc[label, "steps"] == 10 and table.loc[label, "steps/s"] > 0


def test_results_before_training_and_copy_task_metrics():
    comp = _comparison("copy", CellConfig(hidden_size=8), steps=10)
    table = comp.results()
    assert table["validation loss"].isna().all() and (table["steps"] == 0).all()
    comp.run()
    table = comp.results()
    assert {"accuracy", "sequences recalled"} <= set(table.columns)
    assert table["baseline"].iloc[0] == pytest.approx(math.log(4))  # ln(n_symbols)
    assert ((table["accuracy"] >= 0) & (table["accuracy"] <= 1)).all()


def test_bad_settings_raise_value_error():
    with pytest.raises(ValueError, match="cells must be some of"):
        cell_configs(CellConfig(), build_task("adding"), ("rnn", "transformer"))
    with pytest.raises(ValueError, match="tbptt needs a unidirectional model"):
        _comparison(config=CellConfig(bidirectional=True), tbptt=5)


def test_the_adding_problem_at_lag_50_separates_gru_from_rnn():
    """The page's lesson, seeded (hidden 16, Adam 1e-2, batches of 64): after 300 steps the
    GRU has solved the adding problem, the vanilla RNN is still at the trivial baseline."""
    comp = Comparison(
        build_task("adding", lag=50),
        CellConfig(),
        TrainConfig(steps=300, batch_size=64, lr=1e-2, diagnostics=False),
        cells=("rnn", "gru"),
    )
    comp.run()
    table = comp.results()
    assert table.loc["GRU", "validation loss"] < 0.1 * table.loc["GRU", "baseline"]
    assert table.loc["Vanilla RNN", "below baseline"] < 0.1


# --------------------------------------------------------------------------- the page (AppTest)


def _page():
    """The Compare page under AppTest, and a function returning its loss chart's rows (the
    data of the Vega-Lite chart, as a DataFrame; None before the chart is drawn)."""
    import json
    from pathlib import Path

    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(
        str(Path(__file__).resolve().parents[1] / "streamlit_app.py"), default_timeout=60
    ).run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception, at.exception

    def chart():
        charts = at.get("vega_lite_chart")
        if not charts:
            return None
        (proto,) = [c.proto for c in charts]
        assert json.loads(proto.spec)["title"]["text"] == "Loss of each cell"
        return convert_arrow_bytes_to_pandas_df(proto.data.data)

    return at, chart


def _curve_lengths(data) -> dict[str, int]:
    """Points in each cell's training curve (the rows of loss_chart.loss_curves)."""
    return data[data["kind"] == "train"].groupby("cell").size().to_dict()


def test_page_defaults_to_the_adding_problem_with_lag_50():
    at, chart = _page()
    comp = at.session_state["compare"]
    assert type(comp.task).__name__ == "AddingTask" and comp.task.lag == 50
    assert comp.status == "ready" and comp.train.steps == 1500 and comp.train.batch_size == 64
    assert [m.label for m in at.metric] == [
        f"{c}: validation MSE" for c in ("Vanilla RNN", "LSTM", "GRU")
    ]
    assert list(at.dataframe[0].value["parameters"]) == [337, 1297, 977]
    # not evaluated yet: the table's empty cells show a dash, not Python's None
    assert at.dataframe[0].value["validation loss"].isna().all()
    assert at.dataframe[0].proto.placeholder == "–"
    assert any("cell type (LSTM) is not used" in c.value for c in at.caption)
    # the chart's place before Start: the rules' lines (the baseline to beat), no curve yet
    before = chart()
    assert set(before["kind"]) == {"reference"}
    assert before["loss"].iloc[0] == pytest.approx(
        comp.task.evaluate(comp.trainers["rnn"].model).baseline
    )


@pytest.mark.usefixtures("slices_by_steps")  # rounds per slice, not time
def test_page_run_adds_points_to_three_curves_and_a_rerun_keeps_them():
    at, chart = _page()
    at.button(key="compare_start").click().run()
    comp = at.session_state["compare"]
    assert comp.status == "running" and comp.step > 0
    before = _curve_lengths(chart())
    assert set(before) == {"Vanilla RNN", "LSTM", "GRU"} and min(before.values()) > 0
    at.run()  # run_every never fires under AppTest: each run is one tick of the fragment
    at.run()
    after = _curve_lengths(chart())
    assert all(after[c] > before[c] for c in before), (before, after)
    assert len(set(after.values())) == 1  # lockstep
    # widget reruns in the middle of training (log scale; the sidebar's cell type, which this
    # page ignores): same comparison, nothing lost, still training
    steps = comp.step
    at.toggle(key="compare_log").set_value(False).run()
    at.sidebar.selectbox(key="cell").set_value("gru").run()
    assert at.session_state["compare"] is comp and comp.step > steps
    assert not at.info  # no "settings differ": the cell type is not a setting here
    assert _curve_lengths(chart())["GRU"] == comp.step
    # leaving the page and coming back: the same run, still training
    at.switch_page("app_pages/cell.py").run()
    steps = comp.step
    at.switch_page("app_pages/compare.py").run()
    assert at.session_state["compare"] is comp and comp.status == "running"
    assert comp.step > steps and _curve_lengths(chart())["LSTM"] == comp.step
    at.button(key="compare_pause").click().run()
    paused = comp.step
    at.run()
    assert comp.status == "paused" and comp.step == paused
    at.button(key="compare_resume").click().run()
    assert comp.step > paused
    at.button(key="compare_reset").click().run()
    fresh = at.session_state["compare"]
    assert fresh is not comp and fresh.step == 0 and fresh.status == "ready"


@pytest.mark.usefixtures("slices_by_steps")  # rounds per slice, not time
def test_page_changed_settings_wait_for_reset():
    at, _ = _page()
    at.button(key="compare_start").click().run()
    comp = at.session_state["compare"]
    at.sidebar.number_input(key="hidden_size").set_value(8).run()
    assert at.session_state["compare"] is comp  # the running comparison is kept
    assert any("Press **Reset**" in i.value for i in at.info)
    at.button(key="compare_reset").click().run()
    assert at.session_state["compare"].configs["lstm"].hidden_size == 8
    assert list(at.dataframe[0].value["parameters"]) == [
        8 * (2 + 8 + 2) + 9,
        4 * 8 * (2 + 8 + 2) + 9,
        3 * 8 * (2 + 8 + 2) + 9,
    ]


# --------------------------------------------------------------------------- chart and rules


def test_loss_chart_rows_and_a_spec_that_does_not_change_with_the_data():
    from explorer.loss_chart import loss_curves

    def history(n, scale):
        return [
            {"step": s, "train_loss": scale / s, **({"val_loss": scale} if s % 10 == 0 else {})}
            for s in range(1, n + 1)
        ]

    labels = {"rnn": "Vanilla RNN", "lstm": "LSTM", "gru": "GRU"}
    refs = (("always 1.0", 0.16), ("nearer number", 0.08), ("broken", float("nan")))
    data, spec = loss_curves(
        {"rnn": history(30, 1.0), "lstm": history(30, 2.0), "gru": history(30, 3.0)},
        labels=labels,
        references=refs,
        max_points=1000,
    )  # as the Compare page draws it
    train = data[data["kind"] == "train"]
    assert train.groupby("cell").size().to_dict() == {"Vanilla RNN": 30, "LSTM": 30, "GRU": 30}
    gru_val = data[(data["kind"] == "validation") & (data["cell"] == "GRU")]
    assert gru_val["step"].tolist() == [10, 20, 30] and (gru_val["loss"] == 3.0).all()
    ref = data[data["kind"] == "reference"]
    assert ref["curve"].tolist() == ["always 1.0"] * 2 + ["nearer number"] * 2  # NaN left out
    assert ref["step"].tolist() == [0, 30, 0, 30]
    # a longer run: new rows, the same spec (so the browser updates the chart in place)
    data2, spec2 = loss_curves(
        {c: history(5000, 1.0) for c in labels}, labels=labels, references=refs, max_points=1000
    )
    assert spec2 == spec
    counts = data2[data2["kind"] == "train"].groupby("cell").size()
    assert (counts <= 1001).all() and (counts >= 1000).all()  # every 5th step, and the last
    assert data2[data2["kind"] == "train"]["step"].max() == 5000  # the last step is kept
    assert (data2[data2["kind"] == "validation"].groupby("cell").size() == 500).all()
    colour = spec["layer"][1]["encoding"]["color"]["scale"]
    assert colour["domain"] == ["Vanilla RNN", "LSTM", "GRU"]
    assert spec["layer"][0]["encoding"]["y"]["scale"]["type"] == "log"
    _, linear = loss_curves({"rnn": history(3, 1.0)}, log_y=False)
    assert "type" not in linear["layer"][0]["encoding"]["y"]["scale"]


def test_reference_losses_of_the_adding_problem():
    import numpy as np

    from explorer import build_model
    from explorer.compare import reference_losses

    task = build_task("adding", lag=50)
    rules = dict(reference_losses(task, task.evaluate(build_model("gru", 2, 4))))
    values, markers = task.val_x[..., 0].numpy(), task.val_x[..., 1].numpy()  # (T, N) each
    first = np.array([np.flatnonzero(markers[:, n])[0] for n in range(markers.shape[1])])
    u1 = values[first, np.arange(len(first))].astype(np.float64)
    assert rules["remember only the nearer number"] == pytest.approx(((u1 - 0.5) ** 2).mean())
    assert rules["remember only the nearer number"] == pytest.approx(1 / 12, abs=0.01)
    sums = task.val_y.double().numpy().ravel()
    assert rules["always 1.0 (the expected sum)"] == pytest.approx(((sums - 1) ** 2).mean())


@pytest.mark.usefixtures("slices_by_steps")  # rounds per slice, not time
def test_page_other_task_and_bad_input_keep_the_page():
    at, chart = _page()
    at.selectbox(key="task").set_value("copy").run()
    comp = at.session_state["compare"]
    assert type(comp.task).__name__ == "CopyTask" and comp.status == "ready"
    assert [m.label for m in at.metric][0] == "Vanilla RNN: validation loss"
    at.button(key="compare_start").click().run()
    at.run()
    assert [m.label for m in at.metric][0] == "Vanilla RNN: symbols recalled"
    assert "accuracy" in at.dataframe[0].value.columns
    # a text the char task refuses: the reason in place of a new run, the old run kept
    at.selectbox(key="task").set_value("char").run()
    at.toggle(key="train_own_text").set_value(True).run()
    at.text_area(key="train_text").input("ab").run()
    assert not at.exception
    assert any("do not make a task" in e.value for e in at.error)
    assert at.session_state["compare"] is comp and len(at.metric) == 3 and chart() is not None
    assert any("Press **Reset**" in i.value for i in at.info)
    assert at.button(key="compare_reset").disabled


def test_shown_results_is_the_table_in_percent_without_the_shared_rules():
    import pandas as pd

    from explorer.compare import shown_results

    table = pd.DataFrame(
        {
            "validation loss": [0.5, 0.1],
            "accuracy": [0.25, 0.875],
            "baseline": [1.0, 1.0],
            "naive RMSE": [2.0, 2.0],
            "below baseline": [-0.004, 0.8749],
            "status": ["done", "done"],
        },
        index=["LSTM", "GRU"],
    )
    shown, same = shown_results(table)
    assert same == ["baseline", "naive RMSE"]
    assert list(shown.columns) == ["validation loss", "accuracy", "below baseline"]
    assert shown["accuracy"].tolist() == [25.0, 87.5]
    assert shown["validation loss"].tolist() == [0.5, 0.1]
    # whole percent, and a share just under zero shows as 0, never "-0"
    assert shown["below baseline"].tolist() == [0.0, 87.0]
    assert str(shown["below baseline"].iloc[0]) == "0.0"
    assert table["accuracy"].tolist() == [0.25, 0.875]  # the caller's table is left alone
