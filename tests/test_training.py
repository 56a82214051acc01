"""Training on the shipped data: beats the naive baseline, resumes exactly, survives NaN."""
import math

import torch

from explorer import build_model
from explorer.tasks import ForecastTask, load_series
from explorer.training import Trainer, TrainConfig


def _trainer(cell="lstm", key="co2", difference=True, **train):
    task = ForecastTask(load_series(key).to_numpy(), difference=difference)
    return Trainer(build_model(cell, 1, 16, seed=0), task, TrainConfig(**train))


def test_default_budget_beats_naive_on_co2():
    tr = _trainer()
    tr.run()
    assert tr.status == "done" and tr.step == TrainConfig().steps
    result = tr.evaluate()
    # the naive forecast's RMSE on 1993-2001 is about 1.27 ppm; the LSTM should at least halve it
    assert result["rmse"] < 0.5 * result["naive_rmse"]
    assert result["val_loss"] < 0.2


def test_default_budget_beats_naive_on_temperature():
    tr = _trainer(key="seattle_temp_max", difference=False)
    tr.run()
    result = tr.evaluate()
    assert result["rmse"] < result["naive_rmse"]


def test_naive_baseline_is_next_equals_last():
    values = load_series("co2").to_numpy()
    task = ForecastTask(values)
    result = task.evaluate(build_model("lstm", 1, 4))
    idx = result["index"]
    assert idx[-1] == len(values) - 1
    assert (result["naive"] == values[idx - 1]).all() and (result["truth"] == values[idx]).all()
    expected = math.sqrt(((values[idx] - values[idx - 1]) ** 2).mean())
    assert math.isclose(result["naive_rmse"], expected)


def test_pause_and_resume_equals_uninterrupted_run():
    a, b = _trainer(steps=40), _trainer(steps=40)
    a.run()
    for chunk in (7, 1, 13, 100):
        b.run(max_steps=chunk)
    assert a.step == b.step == 40
    for (n, p), (_, q) in zip(a.model.named_parameters(), b.model.named_parameters()):
        assert torch.equal(p, q), n
    assert [r["train_loss"] for r in a.history] == [r["train_loss"] for r in b.history]


def test_nan_loss_stops_and_rolls_back_to_finite_weights():
    task = ForecastTask(load_series("co2").to_numpy())
    model = build_model("rnn", 1, 16, nonlinearity="relu", seed=0)
    tr = Trainer(model, task, TrainConfig(steps=500, lr=10.0, optimizer="sgd", clip_norm=None))
    tr.run()
    assert tr.status == "diverged"
    assert "lower learning rate" in tr.message and "Reset" in tr.message
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert tr.step < 500
    assert all(math.isfinite(r["train_loss"]) for r in tr.history)
