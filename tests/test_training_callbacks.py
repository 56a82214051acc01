"""The trainer's callbacks (minGPT's add_callback / set_callback / trigger_callbacks): what each
event hears and when, that listening changes nothing in the run (bit for bit), that a callback
that raises stops the run after a complete step, and that callbacks never travel with a pickled
or copied trainer (trainers go to worker processes)."""

import copy
import pickle

import pytest
import torch

from explorer import build_model
from explorer.datasets import load_series
from explorer.tasks import ForecastTask, build_task
from explorer.training import EVENTS, TrainConfig, Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


def _trainer(steps=25, task=None, cell="lstm", **train):
    task = task or build_task("sine")
    model = build_model(cell, task.input_size, 8, output_size=task.output_size, seed=3)
    train = dict(dict(steps=steps, eval_every=10, seed=3), **train)
    return Trainer(model, task, TrainConfig(**train))


def _transcript(tr) -> list:
    """Every event ``tr`` fires from now on, as ``(event, step or status)``, with what the
    trainer holds at that moment checked on the way."""
    heard = []

    def step_end(t, record):
        assert t is tr and record is t.history[-1]
        assert record["step"] == t.step == len(t.history)  # the step is complete
        heard.append(("on_step_end", record["step"]))

    def evaluate(t, step, evaluation):
        assert evaluation is t.last_eval and t.eval_steps[-1] == step == t.step
        assert "val_loss" in t.history[-1]  # after that step's on_step_end
        heard.append(("on_evaluate", step))

    def end(t, status, message):
        assert (status, message) == (t.status, t.message) and t.done
        heard.append(("on_end", status))

    for event, callback in zip(EVENTS, (step_end, evaluate, end)):
        tr.add_callback(event, callback)
    return heard


def test_each_event_hears_its_step_evaluation_and_end_in_order():
    tr = _trainer(steps=25)
    heard = _transcript(tr)
    tr.run(max_steps=12)  # the end of a slice is not an end
    assert heard[-1] == ("on_step_end", 12) and not any(e == "on_end" for e, _ in heard)
    tr.run()
    expected = []
    for n in range(1, 26):
        expected.append(("on_step_end", n))
        if n % 10 == 0 or n == 25:  # eval_every, and the budget's last step
            expected.append(("on_evaluate", n))
    assert heard == expected + [("on_end", "done")]
    tr.run()  # a finished run takes no step and does not end again
    assert len(heard) == len(expected) + 1


def test_on_end_hears_an_auto_stop_and_a_divergence_once():
    stopped = _trainer(steps=200, target_loss=1e9)  # any validation loss reaches it
    heard = _transcript(stopped)
    stopped.run()
    assert heard[-3:] == [("on_step_end", 10), ("on_evaluate", 10), ("on_end", "done")]
    assert "target" in stopped.message
    # the divergence of tests/test_training.py: relu RNN, SGD at lr 10, no clipping
    task = ForecastTask(load_series("co2").to_numpy())
    model = build_model("rnn", 1, 16, nonlinearity="relu", seed=0)
    diverged = Trainer(
        model, task, TrainConfig(steps=500, lr=10.0, optimizer="sgd", clip_norm=None)
    )
    heard = _transcript(diverged)
    diverged.run()
    assert diverged.status == "diverged" and diverged.step < 500
    # the step that diverged is not taken: no on_step_end for it, then the end
    assert heard[-1] == ("on_end", "diverged") and heard[-2][1] == diverged.step
    assert [e for e, _ in heard].count("on_end") == 1


def test_listening_changes_nothing_in_the_run():
    """Bit for bit: a trainer whose callbacks fire at every step (in slices) and one with none
    (in one go) take the same steps."""
    quiet, heard_run = _trainer(steps=40), _trainer(steps=40)
    heard = _transcript(heard_run)
    quiet.run()
    for chunk in (7, 1, 13, 100):
        heard_run.run(max_steps=chunk)
    assert quiet.history == heard_run.history and quiet.eval_steps == heard_run.eval_steps
    assert quiet.grad_norms == heard_run.grad_norms and quiet.message == heard_run.message
    for p, q in zip(quiet.model.parameters(), heard_run.model.parameters()):
        assert torch.equal(p, q)
    assert len(heard) == 40 + 4 + 1


class Stop(Exception):
    pass


def test_a_callback_that_raises_stops_after_a_complete_step_and_the_run_goes_on_exactly():
    tr = _trainer(steps=30)

    def stop_at_7(t, record):
        if record["step"] == 7:
            raise Stop

    tr.add_callback("on_step_end", stop_at_7)
    with pytest.raises(Stop):
        tr.run()
    assert tr.step == len(tr.history) == 7 and tr._run_start is None and tr.elapsed > 0
    tr.set_callback("on_step_end", lambda t, record: None)  # replaces the one that raised
    tr.run()
    solo = _trainer(steps=30)
    solo.run()
    assert tr.history == solo.history and tr.status == solo.status == "done"
    for p, q in zip(tr.model.parameters(), solo.model.parameters()):
        assert torch.equal(p, q)


def test_an_unknown_event_is_refused():
    tr = _trainer()
    for register in (tr.add_callback, tr.set_callback):
        with pytest.raises(ValueError, match="on_batch_end"):
            register("on_batch_end", print)  # minGPT's name; ours say which end
    with pytest.raises(ValueError, match="on_step_end"):
        tr.trigger_callbacks("on_batch_end")


@pytest.mark.parametrize("duplicate", [lambda tr: pickle.loads(pickle.dumps(tr)), copy.copy])
def test_callbacks_stay_behind_when_a_trainer_is_pickled_or_copied(duplicate):
    tr = _trainer()
    heard = []
    tr.add_callback("on_end", lambda t, status, message: heard.append((t, status)))  # no pickle
    twin = duplicate(tr)
    twin.trigger_callbacks("on_end", "done", "")
    assert heard == []  # the copy has none
    tr.trigger_callbacks("on_end", "done", "")
    assert heard == [(tr, "done")]  # the original keeps its own
    twin.add_callback("on_end", lambda t, status, message: heard.append((t, status)))
    twin.trigger_callbacks("on_end", "diverged", "")  # and a copy takes callbacks of its own
    assert heard[-1] == (twin, "diverged") and len(heard) == 2
