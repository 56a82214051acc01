"""Checkpoints: a run interrupted at step k, stored, reopened from a new store object and
trained on to step n equals, bit for bit, a run of n steps that was never interrupted."""

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file

from explorer.checkpoint import HISTORY, CheckpointError, checkpoint, restore
from explorer.compare import Comparison, reference_losses
from explorer.config import CELLS, CellConfig
from explorer.models import build_from_config
from explorer.runstore import SQLiteRunStore, new_owner_token
from explorer.tasks import CharEvaluation, ForecastEvaluation, build_task
from explorer.training import TrainConfig, Trainer

N, K = 24, 11  # steps in all; the checkpoint after K (not a multiple of eval_every)


def _train(cell="lstm", optimizer="adam", task_key="sine", settings=None, steps=N, **train):
    settings = {"n": 200, "window": 12} if settings is None else settings
    task = build_task(task_key, **settings)
    config = CellConfig(
        cell=cell, hidden_size=6, input_size=task.input_size, output_size=task.output_size, seed=3
    )
    tc = TrainConfig(
        steps=steps,
        optimizer=optimizer,
        eval_every=5,
        diagnostics_every=None,
        batch_size=8,
        **train,
    )
    return Trainer(build_from_config(config), task, tc), config, task_key, settings


def _through_store(tmp_path, run, config, task_key, settings):
    """checkpoint -> a store -> a NEW store object on the same file -> restore."""
    meta, tensors = checkpoint(run, task_key=task_key, task_settings=settings, model=config)
    owner = new_owner_token()
    store = SQLiteRunStore(tmp_path / "runs.sqlite3")
    run_id = store.create(meta["kind"], owner, meta, tensors)
    del store
    loaded = SQLiteRunStore(tmp_path / "runs.sqlite3").load(run_id)
    return restore(loaded.meta, loaded.tensors)


def _assert_same(a: Trainer, b: Trainer):
    assert b.step == a.step and b.status == a.status and b.message == a.message
    assert b.history == a.history  # every train_loss, grad_norm and val_loss, exactly
    for (name, x), (_, y) in zip(a.model.state_dict().items(), b.model.state_dict().items()):
        assert torch.equal(x, y), name
    sa, sb = a.optimizer.state_dict()["state"], b.optimizer.state_dict()["state"]
    assert sa.keys() == sb.keys()
    for i in sa:
        for key in sa[i]:
            assert torch.equal(torch.as_tensor(sa[i][key]), torch.as_tensor(sb[i][key])), key
    assert torch.equal(a.generator.get_state(), b.generator.get_state())
    assert a.eval_steps == b.eval_steps and a.grad_norms == b.grad_norms
    assert a.hidden_grad_steps == b.hidden_grad_steps
    assert all(np.array_equal(x, y) for x, y in zip(a.hidden_grad_history, b.hidden_grad_history))
    assert len(a.hidden_grad_history) == len(b.hidden_grad_history)
    assert (a.best_val == b.best_val) or (math.isnan(a.best_val) and math.isnan(b.best_val))
    assert a._stale == b._stale


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("optimizer", ["adam", "sgd", "sgd_momentum", "rmsprop"])
def test_resumed_run_equals_uninterrupted_run(tmp_path, cell, optimizer):
    whole, *_ = _train(cell, optimizer)
    whole.run()
    part, config, key, settings = _train(cell, optimizer)
    part.run(max_steps=K)
    resumed = _through_store(tmp_path, part, config, key, settings)
    assert resumed.step == K and len(resumed.history) == K
    resumed.run()
    _assert_same(whole, resumed)


@pytest.mark.parametrize(
    "task_key, settings, train",
    [
        ("adding", {"lag": 12}, {}),  # target_steps "last"
        ("char", {"text": "to be or not to be, that is the question. " * 6, "window": 16}, {}),
        ("copy", {"lag": 3}, {"tbptt": 4}),  # ce with ignored steps, truncated BPTT
        ("forecast", {"k": 3}, {"weight_decay": 1e-3, "clip_norm": None}),
        ("tutorial", {}, {"patience": 1, "min_delta": 0.5}),  # stops early on a plateau
    ],
)
def test_tasks_and_options_resume_exactly(tmp_path, task_key, settings, train):
    whole, *_ = _train(task_key=task_key, settings=settings, **train)
    whole.run()
    part, config, key, s = _train(task_key=task_key, settings=settings, **train)
    part.run(max_steps=K)
    resumed = _through_store(tmp_path, part, config, key, s)
    resumed.run()
    _assert_same(whole, resumed)
    assert type(resumed.last_eval) is type(whole.last_eval) is whole.task.evaluation_type
    assert whole.last_eval.as_dict().keys() == resumed.last_eval.as_dict().keys()


def test_early_stop_counters_survive(tmp_path):
    """A plateau counter half-way to its patience at the checkpoint stops at the same step."""
    whole, *_ = _train("gru", "sgd", steps=200, lr=1e-4, patience=3, min_delta=0.5)
    whole.run()
    assert whole.status == "done" and "plateau" in whole.message and whole.step < 200
    part, config, key, s = _train("gru", "sgd", steps=200, lr=1e-4, patience=3, min_delta=0.5)
    part.run(max_steps=whole.step - 7)
    assert part._stale > 0
    resumed = _through_store(tmp_path, part, config, key, s)
    assert resumed._stale == part._stale and resumed.best_val == part.best_val
    resumed.run()
    _assert_same(whole, resumed)


def test_divergence_rolls_back_to_the_same_weights(tmp_path):
    """The last finite weights are part of the checkpoint: a run that diverges after a resume
    rolls back to the same weights as one that never stopped."""
    kwargs = dict(steps=60, lr=50.0, clip_norm=None)
    whole, *_ = _train("rnn", "sgd", **kwargs)
    whole.run()
    assert whole.status == "diverged", whole.history[-3:]
    stop = whole.step
    part, config, key, s = _train("rnn", "sgd", **kwargs)
    part.run(max_steps=stop)  # the step before the one whose loss is not finite
    resumed = _through_store(tmp_path, part, config, key, s)
    resumed.run()
    _assert_same(whole, resumed)


def test_user_csv_series_is_stored_with_its_dates(tmp_path):
    dates = pd.date_range("2001-01-01", periods=150, freq="D", name="day")
    values = np.cumsum(np.random.default_rng(0).standard_normal(150))
    settings = {"values": values, "index": dates, "difference": True, "window": 12}
    whole, *_ = _train(task_key="csv", settings=settings)
    whole.run()
    part, config, key, s = _train(task_key="csv", settings=settings)
    part.run(max_steps=K)
    resumed = _through_store(tmp_path, part, config, key, s)
    np.testing.assert_array_equal(resumed.task.values, values)
    pd.testing.assert_index_equal(resumed.task.index, dates, exact=False, check_freq=False)
    assert resumed.task.index.name == "day"
    resumed.run()
    _assert_same(whole, resumed)


def test_comparison_resumes_exactly(tmp_path):
    def make():
        task = build_task("adding", lag=8, seed=1)
        return Comparison(
            task,
            CellConfig(hidden_size=5, seed=2),
            TrainConfig(steps=20, eval_every=5, batch_size=8, diagnostics_every=None),
        )

    whole = make()
    whole.run()
    part = make()
    part.run(max_steps=9)
    part.status = "running"  # the session ended while it trained
    meta, tensors = checkpoint(part, task_key="adding", task_settings={"lag": 8, "seed": 1})
    assert any(k.startswith(HISTORY + "gru/") for k in tensors)
    store = SQLiteRunStore(tmp_path / "runs.sqlite3")
    run_id = store.create("compare", new_owner_token(), meta, tensors)
    loaded = SQLiteRunStore(tmp_path / "runs.sqlite3").load(run_id)
    resumed = restore(loaded.meta, loaded.tensors)
    assert isinstance(resumed, Comparison) and resumed.status == "paused"
    assert loaded.meta["status"] == "running"  # what the page reads to say "resumed paused"
    resumed.status = "running"  # the owner presses Resume
    resumed.run()
    for cell in whole.trainers:
        _assert_same(whole.trainers[cell], resumed.trainers[cell])


def test_running_comes_back_paused_and_meta_is_strict_json():
    tr, config, key, s = _train()
    tr.run(max_steps=3)
    tr.status = "running"
    meta, tensors = checkpoint(tr, task_key=key, task_settings=s, model=config)
    text = json.dumps(meta, allow_nan=False)  # inf best_val etc. encoded, not bare Infinity
    back = restore(json.loads(text), tensors)
    assert back.status == "paused" and back.step == 3
    assert restore(json.loads(text), tensors, pause=False).status == "running"


def test_fresh_trainer_round_trips():
    tr, config, key, s = _train()
    meta, tensors = checkpoint(tr, task_key=key, task_settings=s, model=config)
    back = restore(json.loads(json.dumps(meta, allow_nan=False)), tensors)
    assert back.step == 0 and back.history == [] and back.best_val == math.inf
    back.run()
    fresh, *_ = _train()
    fresh.run()
    _assert_same(fresh, back)


def test_bad_checkpoints_are_refused_with_a_reason():
    tr, config, key, s = _train()
    tr.run(max_steps=2)
    meta, tensors = checkpoint(tr, task_key=key, task_settings=s, model=config)
    with pytest.raises(CheckpointError, match="not an RNN Explorer run"):
        restore({"format": "x"}, tensors)
    with pytest.raises(CheckpointError, match="version"):
        restore(meta | {"version": 99}, tensors)
    missing = {k: v for k, v in tensors.items() if k != "rng"}
    with pytest.raises(CheckpointError, match="'rng'"):
        restore(meta, missing)
    other = dict(tensors, **{"model.rnn.weight_hh_l0": torch.zeros(3, 3)})
    with pytest.raises(CheckpointError, match="do not fit"):
        restore(meta, other)
    bad_task = json.loads(json.dumps(meta))
    bad_task["config"]["task"]["key"] = "nope"
    with pytest.raises(CheckpointError, match="task cannot be rebuilt"):
        restore(bad_task, tensors)
    with pytest.raises(CheckpointError, match="CellConfig"):
        checkpoint(tr, task_key=key, task_settings=s)
    with pytest.raises(CheckpointError, match="cannot store"):
        checkpoint(tr, task_key=key, task_settings={"x": object()}, model=config)


# --------------------------------------------------------------------------- fuzzing

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from explorer.checkpoint import _history_columns, _history_records  # noqa: E402

_numbers = st.one_of(
    st.integers(-(2**62), 2**62),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(width=32),
)
_records = st.lists(
    st.dictionaries(
        st.sampled_from(["step", "train_loss", "grad_norm", "val_loss", "lr"]), _numbers, max_size=5
    ),
    max_size=30,
)


def _same(a, b):
    """Records equal value for value and type, NaN equal to NaN."""
    if a.keys() != b.keys():
        return False
    return all(
        type(a[k]) is type(b[k]) and (a[k] == b[k] or (a[k] != a[k] and b[k] != b[k])) for k in a
    )


@settings(max_examples=200, deadline=None)
@given(_records)
def test_history_columns_are_lossless(records):
    """Whatever numbers the records hold (ints, float64, float32, NaN, inf, keys missing from
    some records), the columns give them back exactly, through safetensors."""
    from safetensors.torch import load, save

    arrays: dict = {}
    spec = json.loads(json.dumps(_history_columns(records, HISTORY, arrays), allow_nan=False))
    back = _history_records(spec, HISTORY, load(save(arrays)) if arrays else {})
    assert len(back) == len(records)
    assert all(_same(r, b) for r, b in zip(records, back)), (records, back)


def test_a_run_trained_through_the_pool_checkpoints_and_resumes_exactly(tmp_path):
    """The page's way: slices merged into the session's trainer (explorer.workers, inline as
    under AppTest), a checkpoint between two polls, the run restored and trained on through
    the pool: the same as one uninterrupted run."""
    from explorer.workers import LiveRun, TrainingPool

    whole, *_ = _train()
    whole.run()
    pool = TrainingPool(inline=True)
    pool.inline_steps = 5
    job, config, key, settings = _train()
    live = LiveRun(job, pool)
    job.status = "running"
    live.start()
    while job.step < 10:
        live.poll()
    live.halt()
    assert job.step == 10
    resumed = _through_store(tmp_path, job, config, key, settings)
    assert resumed.status == "paused"  # it was "running": its session ended
    resumed.status = "running"
    again = LiveRun(resumed, pool)
    again.start()
    while not resumed.done:
        again.poll()
    _assert_same(whole, resumed)


OLD = Path(__file__).resolve().parent / "data" / "checkpoint_v1"  # written before typed results


def _old(name: str):
    meta = json.loads((OLD / f"{name}.json").read_text())
    return meta, load_file(OLD / f"{name}.safetensors")


def _same_evaluation(a, b):
    assert type(a) is type(b)
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), f.name
        else:
            assert x == y, f.name


def test_a_run_saved_before_evaluations_were_typed_loads_typed():
    """``last_eval`` stored as the old dict (by the code before Evaluation, on main) comes back
    as the task's own evaluation type, each field the number stored; evaluating the restored
    weights again gives the same evaluation bit for bit (the old code computed the stored one)."""
    meta, tensors = _old("train_sine")
    stored = meta["trainer"]["last_eval"]
    assert set(stored) >= {"val_loss", "rmse", "seasonal_naive_loss", "index"}  # the old form
    tr = restore(meta, tensors)
    ev = tr.last_eval
    assert isinstance(ev, ForecastEvaluation) and tr.step == 10 and tr.eval_steps[-1] == 10
    assert ev.val_loss == stored["val_loss"] == tr.history[-1]["val_loss"]
    assert ev.seasonal_naive_rmse == stored["seasonal_naive_rmse"]
    assert ev.baseline_label == "naive forecast (last known value)"
    assert np.array_equal(ev.truth, tensors["last_eval.truth"].numpy())
    assert ev.index.dtype == np.int64 and len(ev.index) == len(ev.prediction) == 40
    _same_evaluation(ev, tr.task.evaluate(tr.model))
    tr.run()  # and it trains on
    assert tr.step == tr.config.steps


def test_a_comparison_saved_before_evaluations_were_typed_loads_typed():
    meta, tensors = _old("compare_char")
    comp = restore(meta, tensors)
    table = comp.results()
    for cell, tr in comp.trainers.items():
        stored = meta["trainers"][cell]["last_eval"]
        assert isinstance(tr.last_eval, CharEvaluation)
        assert tr.last_eval.as_dict() == stored  # scalars only: the same dict
        _same_evaluation(tr.last_eval, tr.task.evaluate(tr.model))
        row = table.loc[CELLS[cell].label]
        assert row["bits per character"] == stored["bits_per_char"]
        assert row["accuracy"] == stored["accuracy"]
        assert row["validation loss"] == stored["val_loss"]
    last = comp.trainers["gru"].last_eval
    assert reference_losses(comp.task, last) == [
        ("uniform guess, ln(V)", math.log(len(comp.task.alphabet))),
        ("letter frequencies", last.unigram_loss),
    ]


def test_a_stored_evaluation_with_unknown_fields_is_refused():
    meta, tensors = _old("train_sine")
    meta["trainer"]["last_eval"]["surprise"] = 1.0
    with pytest.raises(CheckpointError, match="last evaluation.*surprise"):
        restore(meta, tensors)
    del meta["trainer"]["last_eval"]["surprise"], meta["trainer"]["last_eval"]["rmse"]
    with pytest.raises(CheckpointError, match="missing.*rmse"):
        restore(meta, tensors)
