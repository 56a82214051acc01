"""AppTest of the Train page: every task trains and draws, reruns and page switches keep the
run, pause / resume / stop, the NaN path, URL parameters, and the weights file."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer.tasks import TASKS
from explorer.weights import load_weights

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
TRAIN = "app_pages/train.py"
TIMEOUT = 60
# every live slice of training takes a fixed number of steps, not a slice of time (conftest)
pytestmark = pytest.mark.usefixtures("slices_by_steps")


def _open(**params) -> AppTest:
    """The app opened on the Train page's URL with these query parameters."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).switch_page(TRAIN)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _figures(at) -> dict:
    """Figures by their title."""
    figures = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return {f["layout"]["title"]["text"]: f for f in figures}


def _loss(at):
    """The live loss chart: its rows (one per point: step, loss, curve, kind) and its spec."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    (proto,) = [c.proto for c in at.get("vega_lite_chart")]
    return convert_arrow_bytes_to_pandas_df(proto.data.data), json.loads(proto.spec)


def _train(at, runs: int = 3):
    at.button(key="train_start").click().run()
    for _ in range(runs):
        at.run()
    assert not at.exception, at.exception
    return at.session_state["trainer"]


@pytest.mark.parametrize("task", list(TASKS))
def test_every_task_trains_and_draws_its_results(task):
    at = _open(task=task, steps="20000")  # a budget no machine finishes in a few reruns
    assert at.selectbox(key="task").value == task
    assert any(TASKS[task].about[:60] in m.value for m in at.markdown)  # its paragraph
    trainer = _train(at)
    at.button(key="train_pause").click().run()  # paused: every chart shows the latest numbers
    assert at.session_state["trainer_task"] == task
    assert trainer.step > 0 and len(trainer.history) == trainer.step
    loss, _ = _loss(at)
    # the training curve holds one point per step so far, the last being the latest step
    train = loss[loss["kind"] == "train"]
    drawn = [r["step"] for r in trainer.history if r["train_loss"] > 0]  # log axis: no zeros
    # (every step for all but the tutorial's one sequence, whose float32 loss can reach 0)
    assert train["step"].tolist() == drawn and drawn
    assert train["loss"].iloc[-1] == pytest.approx(
        next(r["train_loss"] for r in trainer.history if r["step"] == drawn[-1])
    )
    # the task's own baseline is drawn beside the loss, at the value its evaluate() gives
    baseline = loss[loss["curve"].str.startswith("baseline")]
    assert baseline["loss"].iloc[0] == pytest.approx(trainer.last_eval.baseline)
    # the model is built for the task: its ends are the task's, not the sidebar's
    config = at.session_state["trainer_signature"][0]
    assert (config.input_size, config.output_size) == (
        trainer.task.input_size,
        trainer.task.output_size,
    )
    assert trainer.model.rnn.input_size == trainer.task.input_size
    if task == "char":
        sample = at.get("code")[0].value
        assert len(sample) == 300 and set(sample) <= set(trainer.task.alphabet)
        return
    title = next(t for t in _figures(at) if t.startswith(PREDICTIONS[task]))
    shown = _figures(at)[title]["data"][-1]
    if task in ("forecast", "sine", "tutorial", "adding"):  # the model's latest predictions
        assert len(_array(shown["y"])) == len(trainer.last_eval.prediction)
        assert _array(shown["y"])[-1] == pytest.approx(trainer.last_eval.prediction[-1], rel=1e-5)
    else:  # copy: accuracy per recall position, in %
        bars = _figures(at)[title]["data"][0]
        assert list(_array(bars["y"])) == pytest.approx(
            list(100 * trainer.last_eval.position_accuracy)
        )


PREDICTIONS = {
    "forecast": "Validation forecasts",
    "sine": "Validation forecasts",
    "adding": "Predicted vs true sums",
    "copy": "Recalled right, by position",
    "tutorial": "Targets and your model's outputs",
}


def test_forecast_draws_model_and_both_baselines_on_the_validation_part():
    at = _open(steps="20000")  # Stop needs a run that is still going
    trainer = _train(at, runs=1)
    at.button(key="train_stop").click().run()
    fig = _figures(at)["Validation forecasts, 1 step ahead"]
    names = [d["name"] for d in fig["data"]]
    assert names == [
        "truth",
        "naive: next = last",
        "seasonal naive: one season earlier",
        "model forecast",
    ]
    r = trainer.last_eval
    assert len(fig["data"][0]["x"]) == len(r.truth)  # every validation month
    co2 = {m.label: m.value for m in at.metric}
    assert co2["Naive RMSE"] == f"{r.naive_rmse:.3g}"
    assert co2["Seasonal RMSE"] == f"{r.seasonal_naive_rmse:.3g}"
    assert any("RMSE in ppm" in c.value for c in at.caption)


def test_rerun_mid_training_keeps_points_and_steps():
    at = _open(task="adding", steps="20000")
    trainer = _train(at, runs=1)
    step, points = trainer.step, [dict(r) for r in trainer.history]
    at.toggle(key="train_log").set_value(False).run()  # an unrelated widget: a full rerun
    assert not at.exception
    assert at.session_state["trainer"] is trainer
    assert trainer.step > step and trainer.history[:step] == points  # kept, and still going
    assert "type" not in _loss(at)[1]["layer"][0]["encoding"]["y"]["scale"]  # linear y
    # leaving the page and coming back keeps the run and its curve
    at.switch_page("app_pages/cell.py").run()
    at.switch_page(TRAIN).run()
    assert at.session_state["trainer"] is trainer and trainer.step >= step
    assert at.selectbox(key="task").value == "adding"
    loss, spec = _loss(at)
    assert loss[loss["kind"] == "train"]["step"].max() == trainer.step


def test_pause_resume_and_stop():
    at = _open(task="tutorial", steps="20000")
    trainer = _train(at, runs=1)
    at.button(key="train_pause").click().run()
    paused = trainer.step
    at.run().run()
    assert trainer.status == "paused" and trainer.step == paused
    assert at.button(key="train_resume").disabled is False
    at.button(key="train_resume").click().run()
    assert trainer.status == "running" and trainer.step > paused
    at.button(key="train_stop").click().run()
    stopped = trainer.step
    at.run()
    assert trainer.status == "done" and trainer.step == stopped
    assert any(f"Stopped at step {stopped:,}" in s.value for s in at.success)
    assert at.button(key="train_start").disabled and at.button(key="train_pause").disabled


def test_changed_settings_keep_the_run_until_reset():
    at = _open(task="copy", steps="20000")
    trainer = _train(at, runs=1)
    at.slider(key="lag").set_value(20).run()
    assert at.session_state["trainer"] is trainer and trainer.task.lag == 10
    assert any("Press **Reset**" in i.value for i in at.info)
    at.button(key="train_reset").click().run()
    fresh = at.session_state["trainer"]
    assert fresh is not trainer and fresh.step == 0 and fresh.task.lag == 20
    assert not any("Press **Reset**" in i.value for i in at.info)


def test_nan_loss_stops_with_a_message_and_finite_weights():
    at = _open(
        cell="rnn", nonlinearity="relu", task="sine", lr="10", optimizer="sgd", clip_norm="off"
    )
    trainer = at.session_state["trainer"]
    assert (trainer.config.lr, trainer.config.optimizer, trainer.config.clip_norm) == (
        10.0,
        "sgd",
        None,
    )
    at.button(key="train_start").click().run()
    for _ in range(20):
        if trainer.status == "diverged":
            break
        at.run()
    assert not at.exception
    assert trainer.status == "diverged"
    message = next(e.value for e in at.error if "Training stopped" in e.value)
    assert "rolled back" in message and "lower learning rate" in message
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    assert at.button(key="train_reset").disabled is False  # the way out is on the page


def test_url_parameters_open_a_task_with_its_settings():
    at = _open(task="adding", lag="20", lr="0.003", batch_size="64", steps="500")
    assert at.selectbox(key="task").value == "adding" and at.slider(key="lag").value == 20
    trainer = at.session_state["trainer"]
    assert trainer.task.lag == 20
    assert (trainer.config.lr, trainer.config.batch_size, trainer.config.steps) == (0.003, 64, 500)
    # a value out of range is ignored, and the default used
    at = _open(task="no-such-task", lag="100000")
    assert at.selectbox(key="task").value == "forecast"


def test_switching_task_starts_its_settings_from_its_defaults():
    at = _open(task="adding", lag="50")
    at.selectbox(key="task").set_value("copy").run()
    assert at.slider(key="lag").value == TASKS["copy"].settings["lag"].default


def test_weights_download_round_trips_through_load_weights():
    from explorer.ui.train_controls import weights_file

    at = _open(task="copy", steps="20000")
    trainer = _train(at, runs=1)
    at.button(key="train_pause").click().run()
    assert at.get("download_button")
    model, config = load_weights(
        weights_file(at.session_state["train_live"], at.session_state["trainer_signature"][0])
    )
    assert config == at.session_state["trainer_signature"][0]
    for (name, want), (_, got) in zip(
        trainer.model.state_dict().items(), model.state_dict().items()
    ):
        assert torch.equal(want, got), name
    x = trainer.task.val_x[:, :4]
    torch.testing.assert_close(model(x), trainer.model(x))


def test_bad_settings_say_why_and_keep_the_page():
    at = _open()
    at.number_input(key="window").set_value(300).run()  # CO2 has 526 months: too few
    assert not at.exception
    assert any("needs at least 602 values" in e.value for e in at.error)
    assert at.sidebar.selectbox(key="cell").value == "lstm"
    at.number_input(key="window").set_value(48).run()
    assert not at.error


def test_csv_task_asks_for_a_file():
    at = _open(task="csv")
    assert any("Upload a CSV" in i.value for i in at.info)
    assert not at.exception and not at.error


def test_switching_to_csv_without_a_file_offers_no_run_of_the_task_before():
    at = _open()  # the default forecast, untouched
    assert at.button(key="train_start").disabled is False
    at.selectbox(key="task").set_value("csv").run()
    assert any("Upload a CSV" in i.value for i in at.info)
    assert not at.exception and not at.error
    # no Start that would train the CO2 series under the CSV task's name
    assert not [b for b in at.button if b.key == "train_start"]


def test_tutorial_draws_its_from_scratch_and_nn_rnn_curves():
    from explorer.tutorial import run_tutorial

    at = _open(task="tutorial")
    _train(at, runs=1)
    loss, _ = _loss(at)
    ref = run_tutorial(0)
    scratch = loss[loss["curve"] == "tutorial, from scratch (one bias)"]["loss"].to_numpy()
    concise = loss[loss["curve"] == "tutorial, nn.RNN"]["loss"].to_numpy()
    assert len(scratch) == len(concise) == 100  # the tutorial's 100 epochs
    assert list(scratch) == pytest.approx(ref.scratch, rel=1e-6)
    assert list(concise) == pytest.approx(ref.torch, rel=1e-6)
    assert any("The tutorial's printout" in e.label for e in at.expander)


def _array(values):
    """A plotly array from its JSON: a list, or a typed array (``bdata``)."""
    import base64

    import numpy as np

    if isinstance(values, dict):
        out = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        return (
            out.reshape([int(n) for n in values["shape"].split(",")]) if "shape" in values else out
        )
    return np.asarray(values)


def test_open_in_step_through_with_settings_changed_in_the_url():
    # any bound setting off its default made switch_page refuse to clear the URL (an error box)
    at = _open(task="adding", steps="20000", hidden_size="8")
    _train(at, runs=1)
    at.button(key="train_pause").click().run()
    at.button(key="train_to_step").click().run()
    assert not at.exception, at.exception
    assert at.session_state["weights"] == "trained"
    assert at.title[0].value.startswith("Step through"), at.title[0].value
    assert at.radio(key="weights").value == "trained"


def test_own_text_switched_on_with_an_empty_box_says_it_trains_on_the_sonnets():
    at = _open(task="char")
    assert not any("box is empty" in i.value for i in at.info)
    at.toggle(key="train_own_text").set_value(True).run()
    assert any(
        "box is empty, so the model trains on Shakespeare's sonnets" in i.value for i in at.info
    )
    at.text_area(key="train_text").input("   \n ").run()  # blank is empty too
    assert any("box is empty" in i.value for i in at.info)


def test_plain_escapes_what_markdown_would_read():
    from explorer.ui import plain

    assert plain("**x** $y$ :red[z]\n# h") == r"\*\*x\*\* \$y\$ \:red\[z\] \# h"
    assert plain("temp_max (°C)") == r"temp\_max \(°C\)"
    assert plain("co2") == "co2"


def test_the_largest_model_is_refused_before_it_is_built_and_the_run_stays():
    """A link asking for the largest model with big batches of long windows: one step would cost
    the shared server far too much; the page says so, builds nothing, and keeps the run."""
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page("app_pages/train.py")
    at.run()
    before = at.session_state["trainer"]
    at.query_params.update(
        hidden_size=1024,
        num_layers=4,
        bidirectional="true",
        task="char",
        batch_size=256,
        window=200,
    )
    at.sidebar.number_input(key="hidden_size").set_value(1024)
    at.sidebar.number_input(key="num_layers").set_value(4)
    at.run()
    assert not at.exception
    refused = [e.value for e in at.error if "too large for a shared server" in e.value]
    assert refused and "parameters" in refused[0]
    assert at.session_state["trainer"] is before  # nothing built, nothing lost


def test_char_sample_names_its_prime_and_the_caption_ties_bits_to_nats():
    from explorer.ui.task_views import sample_prime

    at = _open(task="char", steps="20000")
    trainer = _train(at, runs=1)
    at.button(key="train_pause").click().run()
    prime = sample_prime(trainer.task.text)
    assert prime == "THE SONNETS\n"  # the sonnets' first line: the sample starts a new line
    assert any("the prime `THE SONNETS` and a line break" in m.value for m in at.markdown)
    sample = at.get("code")[0].value
    assert sample == trainer.task.sample(
        trainer.model, 300, 0.8, seed=trainer.config.seed, prime=prime
    )
    bits = trainer.last_eval.bits_per_char
    assert any(
        f"{bits:.2f} bits are {bits * 0.6931471805599453:.2f} nats" in c.value for c in at.caption
    )
    assert sample_prime("no line break here") == "no " and sample_prime("x") == "x"


def test_gradient_caption_describes_the_chart_it_sits_under():
    at = _open(task="adding", steps="20000")
    trainer = _train(at, runs=1)
    while not trainer.eval_steps:  # the gradient charts come with the first evaluation
        at.run()
    at.button(key="train_pause").click().run()
    fig = _figures(at)["Gradient norm of each parameter tensor"]
    assert fig["layout"]["yaxis"]["type"] == "log"
    (caption,) = [c.value for c in at.caption if "What to look for" in c.value]
    assert "absolute norms" in caption and "log axis" in caption
    assert "tensor's share of the gradient" not in caption  # what it used to say


@pytest.mark.parametrize("task", list(TASKS))
def test_open_in_step_through_shows_the_model_on_its_own_task_data(task):
    from explorer.tasks import example_input

    at = _open(task=task, steps="20000")
    trainer = _train(at, runs=1)
    at.button(key="train_pause").click().run()
    at.button(key="train_to_step").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value.startswith("Step through") and not at.error
    assert at.toggle(key="step_own_input").value is True
    example = example_input(trainer.task)
    assert any(example.description in c.value for c in at.caption)
    # the sidebar says which model is shown (the char task's has input_size 60, not 1)
    config = at.session_state["trainer_signature"][0]
    assert any(f"(input {config.input_size}, hidden" in i.value for i in at.sidebar.info), [
        i.value for i in at.sidebar.info
    ]
    # the hidden-state heatmap is the trained model's own h_t on that sequence
    heat = _figures(at)["hidden state h_t"]
    with torch.no_grad():
        out, _ = trainer.model.rnn(example.x[:, None])  # (T, 1, H)
    z = _array(heat["data"][0]["z"])  # (unit, t): every step of these short sequences
    np.testing.assert_allclose(z, out[:, 0].T.numpy(), atol=1e-5)
    if task == "char":  # the characters read label the time axis
        ticks = heat["layout"]["xaxis"]["ticktext"]
        assert ticks[0] == example.labels[0].replace(" ", "␣").replace("\n", "↵")
