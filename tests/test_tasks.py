"""Training tasks: the registry, shapes and dtypes, targets and baselines recomputed here by hand,
seeding, refusals, and one small learning run on the adding problem."""

import dataclasses
import math
import pickle
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from explorer import build_model
from explorer.datasets import load_series, load_text, synthetic_sine
from explorer.tasks import (
    TASKS,
    AddingTask,
    CharTask,
    CopyTask,
    Evaluation,
    ForecastTask,
    Setting,
    TutorialTask,
    build_task,
)
from explorer.training import IGNORE_INDEX, SequenceLoss


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


class ZeroModel(torch.nn.Module):
    """Outputs zeros of ``(T, B, out)`` (or ``(T, out)``): a known prediction to score."""

    def __init__(self, out):
        super().__init__()
        self.out = out

    def forward(self, x):
        return torch.zeros(*x.shape[:-1], self.out)


def _model_for(task, cell="lstm", hidden=8, seed=0):
    return build_model(cell, task.input_size, hidden, output_size=task.output_size, seed=seed)


# ------------------------------------------------------------------ registry and protocol


@pytest.mark.parametrize("key", list(TASKS))
def test_every_registered_task_speaks_the_protocol(key):
    spec = TASKS[key]
    assert spec.key == key and spec.label and len(spec.about) > 200
    task = build_task(key)
    assert task.loss == spec.loss in ("mse", "ce")
    assert task.target_steps == spec.target_steps in ("all", "last")
    for size in ("input_size", "output_size"):
        assert getattr(spec, size) in (None, getattr(task, size))
    x, y = task.train_batch(4, _gen())
    assert x.dtype == torch.float32 and x.ndim == 3 and x.shape[2] == task.input_size
    if task.loss == "mse":
        assert y.dtype == torch.float32 and y.ndim == 3 and y.shape[2] == task.output_size
    else:
        assert y.dtype == torch.int64 and y.ndim == 2
        scored = y[y != IGNORE_INDEX]
        assert len(scored) and 0 <= int(scored.min()) and int(scored.max()) < task.output_size
    assert y.shape[1] == x.shape[1]
    assert y.shape[0] == (x.shape[0] if task.target_steps == "all" else 1)
    model = _model_for(task)
    with torch.no_grad():
        assert math.isfinite(float(SequenceLoss.for_task(task)(model(x), y)))
    result = task.evaluate(model)
    assert math.isfinite(result.val_loss) and result.baseline > 0
    assert result.baseline_label == task.baseline_label


@pytest.mark.parametrize("key", list(TASKS))
def test_settings_defaults_sit_inside_their_bounds(key):
    for name, s in TASKS[key].settings.items():
        assert isinstance(s, Setting) and s.help, name
        if s.choices is not None:
            assert s.default in s.choices, name
        if s.low is not None:
            assert s.low <= s.default <= s.high, name


def test_build_task_refuses_unknown_keys_and_settings():
    with pytest.raises(ValueError, match="task must be one of"):
        build_task("nope")
    with pytest.raises(ValueError, match="takes settings"):
        build_task("adding", lags=3)
    with pytest.raises(ValueError, match="series must be one of"):
        build_task("forecast", series="nope")


def test_registry_settings_reach_the_task():
    assert build_task("adding", lag=7, seed=3).lag == 7
    task = build_task("forecast", series="seattle_temp_max", k=3)
    assert (task.k, task.season, task.difference) == (3, 365, False)
    assert build_task("forecast", series="co2", difference=False).difference is False
    sine = build_task("sine", period=20, noise=0.0, n=300)
    assert sine.season == 20 and len(sine.values) == 300
    assert build_task("char", text="abcab" * 40, window=8).alphabet == ["a", "b", "c"]
    assert build_task("char").text == load_text()


def test_the_tasks_loss_scores_the_last_step_or_the_unmasked_steps():
    out = torch.randn(6, 3, 4)
    y = torch.randint(0, 4, (6, 3), generator=_gen())
    y[:4] = IGNORE_INDEX
    copy = CopyTask(lag=2, n_symbols=4, seq_len=2, val_size=3)
    manual = -torch.log_softmax(out[-2:], -1).gather(-1, y[-2:, :, None]).mean()
    assert torch.allclose(SequenceLoss.for_task(copy)(out, y), manual)
    adding = AddingTask(lag=6, val_size=3)
    target = torch.randn(1, 3, 1)
    assert torch.allclose(
        SequenceLoss.for_task(adding)(out[..., :1], target),
        ((out[-1:, :, :1] - target) ** 2).mean(),
    )


@pytest.mark.parametrize("key", list(TASKS))
def test_the_trainers_loss_follows_the_task_contract(key):
    """The contract (loss, target_steps, shapes, IGNORE_INDEX) is the one the Trainer reads:
    its loss equals the contract's rules written out here with torch's losses."""
    task = build_task(key)
    x, y = task.train_batch(3, _gen())
    with torch.no_grad():
        out = _model_for(task)(x)
        scored = out[-1:] if task.target_steps == "last" else out
        if task.loss == "ce":
            expected = F.cross_entropy(
                scored.reshape(-1, scored.shape[-1]), y.reshape(-1), ignore_index=IGNORE_INDEX
            )
        else:
            expected = F.mse_loss(scored, y)
        assert torch.allclose(SequenceLoss.for_task(task)(out, y), expected)


# ------------------------------------------------------------------ forecasting


def test_k1_batches_are_the_one_step_scheme():
    """k = 1 keeps the original draws: start ~ randint(0, n_train - window), y = x shifted."""
    task = ForecastTask(load_series("co2").to_numpy())
    x, y = task.train_batch(8, _gen(5))
    starts = torch.randint(0, task.n_train - task.window, (8,), generator=_gen(5))
    idx = starts[None, :] + torch.arange(task.window + 1)[:, None]
    assert torch.equal(x[..., 0], task.z[idx[:-1]]) and torch.equal(y[..., 0], task.z[idx[1:]])


def _starts(task, x):
    """Recover each window's start position in ``task.z`` (values are distinct)."""
    z = task.z.numpy()
    return [int(np.flatnonzero(z == x[0, b, 0].item())[0]) for b in range(x.shape[1])]


@pytest.mark.parametrize("difference", [False, True])
@pytest.mark.parametrize("k", [1, 3, 7])
def test_k_step_targets_are_the_values_k_ahead(difference, k):
    values = np.cumsum(np.random.default_rng(1).standard_normal(400))
    task = ForecastTask(values, window=20, difference=difference, k=k)
    x, y = task.train_batch(64, _gen())
    for b, s in enumerate(_starts(task, x)):
        assert torch.equal(x[:, b, 0], task.z[s : s + 20])
        assert s + 19 + k < task.n_train  # training targets never reach the held-out part
        last = np.arange(s, s + 20) + task.offset  # the last level read at each step
        if difference:  # y is the normalised k-step change
            change = y[:, b, 0].double().numpy() * task.std + k * task.mean
            np.testing.assert_allclose(change, values[last + k] - values[last], atol=1e-4)
        else:
            level = y[:, b, 0].double().numpy() * task.std + task.mean
            np.testing.assert_allclose(level, values[last + k], atol=1e-4)


@pytest.mark.parametrize("difference", [False, True])
@pytest.mark.parametrize("k,season", [(1, 12), (5, 12), (12, 12), (13, 12), (30, 12), (2, None)])
def test_evaluate_baselines_by_hand(difference, k, season):
    values = np.random.default_rng(2).standard_normal(600).cumsum()
    task = ForecastTask(values, window=24, difference=difference, k=k, season=season)
    model = build_model("gru", 1, 6, seed=1)
    r = task.evaluate(model)
    idx = r.index
    assert idx[-1] == len(values) - 1 and idx[0] == task.n_train + task.offset
    np.testing.assert_array_equal(r.truth, values[idx])
    np.testing.assert_array_equal(r.naive, values[idx - k])
    naive_mse = np.mean((values[idx] - values[idx - k]) ** 2)
    assert math.isclose(r.naive_rmse, math.sqrt(naive_mse))
    assert math.isclose(r.baseline, naive_mse / task.std**2)
    # val_loss is the same error as rmse, in normalised units
    assert math.isclose(r.val_loss, (r.rmse / task.std) ** 2, rel_tol=1e-6)
    if season is None:
        assert r.seasonal_naive is None and r.seasonal_naive_rmse is None
    else:
        back = season * math.ceil(k / season)  # = season whenever k <= season
        if k <= season:
            assert back == season
        np.testing.assert_array_equal(r.seasonal_naive, values[idx - back])
        sn_mse = np.mean((values[idx] - values[idx - back]) ** 2)
        assert math.isclose(r.seasonal_naive_rmse, math.sqrt(sn_mse))
        assert math.isclose(r.seasonal_naive_loss, sn_mse / task.std**2)


@pytest.mark.parametrize("difference", [False, True])
def test_a_zero_output_forecasts_the_training_mean(difference):
    values = np.random.default_rng(3).standard_normal(300).cumsum()
    k = 4
    task = ForecastTask(values, window=16, difference=difference, k=k)
    r = task.evaluate(ZeroModel(1))
    idx = r.index
    expected = values[idx - k] + k * task.mean if difference else np.full(len(idx), task.mean)
    np.testing.assert_allclose(r.prediction, expected)
    z = (np.diff(values) if difference else values)[: task.n_train]
    assert math.isclose(task.mean, z.mean()) and math.isclose(task.std, z.std())


def test_forecast_refusals():
    values = np.random.default_rng(0).standard_normal(200)
    for k in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="k"):
            ForecastTask(values, window=10, k=k)
    with pytest.raises(ValueError, match="season"):
        ForecastTask(values, window=10, season=0)
    with pytest.raises(ValueError, match="season of 190"):
        ForecastTask(values, window=10, season=190)
    with pytest.raises(ValueError, match="too little data"):
        ForecastTask(values, window=10, k=160)
    with pytest.raises(ValueError, match="at least"):
        ForecastTask(values, window=100)
    with pytest.raises(ValueError, match="finite"):
        ForecastTask(np.r_[values, np.nan])


def test_sine_seasonal_naive_pays_the_noise_twice():
    noise = 0.3
    task = ForecastTask(synthetic_sine(5000, 50, noise, seed=0), difference=False, season=50)
    r = task.evaluate(ZeroModel(1))
    assert abs(r.seasonal_naive_rmse - noise * math.sqrt(2)) < 0.03
    assert r.naive_rmse > r.seasonal_naive_rmse  # naive also pays for the slope


# ------------------------------------------------------------------ adding problem


def test_adding_shapes_markers_and_targets():
    task = AddingTask(lag=11, val_size=16)
    x, y = task.train_batch(200, _gen())
    assert x.shape == (11, 200, 2) and y.shape == (1, 200, 1)
    assert x.dtype == y.dtype == torch.float32
    values, markers = x[..., 0], x[..., 1]
    assert ((0 <= values) & (values < 1)).all()
    assert set(markers.unique().tolist()) == {0.0, 1.0}
    assert (markers.sum(0) == 2).all()
    for b in range(200):
        first, second = torch.nonzero(markers[:, b]).flatten().tolist()
        assert first < 11 // 2 <= second
        assert math.isclose(
            y[0, b, 0].item(), (values[first, b] + values[second, b]).item(), rel_tol=1e-6
        )
    assert x[:, :, 1].sum(1)[5:].sum() > 0  # second markers spread over the second half


def test_adding_is_seeded_and_its_baseline_is_the_variance_of_the_sum():
    a, b = AddingTask(lag=20, seed=1), AddingTask(lag=20, seed=1)
    assert torch.equal(a.val_x, b.val_x) and a.val_x.shape == (20, 512, 2)
    assert not torch.equal(a.val_x, AddingTask(lag=20, seed=2).val_x)
    assert torch.equal(a.train_batch(8, _gen(3))[0], b.train_batch(8, _gen(3))[0])
    r = a.evaluate(ZeroModel(1))
    sums = (a.val_x[..., 0] * a.val_x[..., 1]).sum(0).double()  # marked values, added
    assert math.isclose(r.baseline, float(((sums - 1) ** 2).mean()), rel_tol=1e-9)
    assert abs(r.baseline - 1 / 6) < 0.03  # Var(U + U) = 2/12
    assert math.isclose(r.val_loss, float((sums**2).mean()), rel_tol=1e-6)
    np.testing.assert_allclose(r.truth, sums.numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "bad",
    [
        dict(lag=1),
        dict(lag=0),
        dict(lag=-3),
        dict(lag=2.5),
        dict(lag=5001),
        dict(seed=-1),
        dict(val_size=0),
    ],
)
def test_adding_refusals(bad):
    with pytest.raises(ValueError):
        AddingTask(**bad)


@pytest.fixture
def one_thread():
    """Tiny models run faster on one thread, and far faster when other processes share the
    cores (two OpenMP threads then wait on each other: 1 s becomes 20 s here)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_an_lstm_learns_the_adding_problem(one_thread):
    """Plain torch loop (not the Trainer): LSTM, hidden 16, Adam 1e-2, 300 steps of 64."""
    task = AddingTask(lag=10, seed=0)
    model = build_model("lstm", 2, 16, seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    generator = _gen(0)
    for _ in range(300):
        x, y = task.train_batch(64, generator)
        loss = torch.nn.functional.mse_loss(model(x)[-1:], y)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    r = task.evaluate(model)
    assert r.val_loss < 0.5 * r.baseline, r


# ------------------------------------------------------------------ delayed recall


def test_copy_targets_decode_back_to_the_shown_symbols():
    task = CopyTask(lag=7, n_symbols=5, seq_len=4, val_size=10)
    x, y = task.train_batch(50, _gen())
    assert x.shape == (2 * 4 + 7, 50, 6) and x.dtype == torch.float32
    assert y.shape == (15, 50) and y.dtype == torch.int64
    assert (y[:11] == IGNORE_INDEX).all()  # nothing is scored before the recall phase
    shown = x[:4, :, :5]
    assert (shown.sum(-1) == 1).all() and torch.equal(shown.argmax(-1), y[11:])
    assert (x[:4, :, 5] == 0).all()
    assert (x[4:11] == 0).all()  # blanks
    assert (x[11:, :, 5] == 1).all() and (x[11:, :, :5] == 0).all()  # recall phase
    assert task.input_size == 6 and task.output_size == 5 and task.length == 15


def test_copy_baseline_is_a_uniform_guess_and_seeding():
    task = CopyTask(lag=3, n_symbols=6, seq_len=3, seed=2)
    r = task.evaluate(ZeroModel(6))  # equal logits: the uniform guess
    assert math.isclose(r.val_loss, math.log(6), rel_tol=1e-6)
    assert math.isclose(r.baseline, math.log(6)) and r.chance_accuracy == 1 / 6
    assert torch.equal(task.val_y, CopyTask(lag=3, n_symbols=6, seq_len=3, seed=2).val_y)
    assert not torch.equal(task.val_y, CopyTask(lag=3, n_symbols=6, seq_len=3, seed=3).val_y)
    assert task.val_y.shape == (9, 512)

    class Oracle(torch.nn.Module):  # reads the answer off the shown symbols
        def forward(self, x):
            logits = torch.zeros(*x.shape[:2], 6)
            logits[-3:] = 10 * x[:3, :, :6]
            return logits

    r = task.evaluate(Oracle())
    assert r.accuracy == r.sequence_accuracy == 1.0 and r.val_loss < 1e-3


@pytest.mark.parametrize(
    "bad",
    [
        dict(lag=0),
        dict(n_symbols=1),
        dict(seq_len=0),
        dict(n_symbols=256),
        dict(lag=4000, seq_len=600),
    ],
)
def test_copy_refusals(bad):
    with pytest.raises(ValueError):
        CopyTask(**bad)


# ------------------------------------------------------------------ characters


def test_char_alphabet_and_one_hot_round_trip():
    text = "the cat sat on the mat.\n" * 10
    task = CharTask(text, window=8, val_fraction=0.2)
    assert task.alphabet == sorted(set(text)) and task.input_size == task.output_size == 12
    idx = task.encode(text)
    assert task.decode(idx) == text
    oh = task.one_hot(idx)
    assert oh.shape == (len(text), 12) and oh.dtype == torch.float32 and (oh.sum(-1) == 1).all()
    assert task.decode(oh.argmax(-1)) == text
    with pytest.raises(ValueError, match="not in this text's alphabet"):
        task.encode("dog")


def test_char_batches_are_windows_of_the_training_text():
    text = load_text()
    task = CharTask(text, window=32)
    x, y = task.train_batch(16, _gen(1))
    assert x.shape == (32, 16, 60) and y.shape == (32, 16) and y.dtype == torch.int64
    train = text[: task.n_train]
    for b in range(16):
        chunk = task.decode(x[:, b].argmax(-1)) + task.decode(y[-1:, b])
        assert chunk in train and task.decode(y[:, b]) == chunk[1:]
    # validation windows tile the held-out part, each target the next character
    held = text[task.n_train :]
    flat_x = "".join(task.decode(task.val_x[:, j].argmax(-1)) for j in range(task.val_x.shape[1]))
    assert held.startswith(flat_x) and len(held) - len(flat_x) <= 32
    assert task.decode(task.val_y[:, 0]) == held[1:33]


def test_char_baselines_by_hand():
    text = load_text()
    task = CharTask(text, window=64)
    r = task.evaluate(ZeroModel(60))
    assert math.isclose(r.baseline, math.log(60)) and math.isclose(
        r.val_loss, math.log(60), rel_tol=1e-6
    )
    assert math.isclose(r.bits_per_char, r.val_loss / math.log(2))
    counts = Counter(text[: task.n_train])
    total = sum(counts.values()) + 60
    scored = "".join(task.decode(task.val_y[:, j]) for j in range(task.val_y.shape[1]))
    unigram = -np.mean([math.log((counts[c] + 1) / total) for c in scored])
    assert math.isclose(r.unigram_loss, unigram, rel_tol=1e-9)
    assert r.unigram_loss < 0.8 * r.baseline


def test_sample_is_seeded_and_greedy_at_tiny_temperature(one_thread):
    task = CharTask(load_text(), window=32)
    model = _model_for(task, hidden=16, seed=3)
    a = task.sample(model, 80, temperature=1.0, seed=7, prime="Thy ")
    assert len(a) == 80 and set(a) <= set(task.alphabet)
    assert a == task.sample(model, 80, temperature=1.0, seed=7, prime="Thy ")
    assert a != task.sample(model, 80, temperature=1.0, seed=8, prime="Thy ")
    # greedy decoding by hand, re-running the whole context each step
    context = task.encode("Thy ")
    for _ in range(30):
        logits = model(task.one_hot(context)[:, None])[-1, 0]
        context = torch.cat([context, logits.argmax().view(1)])
    greedy = task.decode(context[4:])
    assert task.sample(model, 30, temperature=1e-6, seed=0, prime="Thy ") == greedy
    assert task.sample(model, 30, temperature=1e-6, seed=99, prime="Thy ") == greedy


def test_sample_without_a_recurrent_state_reruns_the_window():
    task = CharTask("abcabcabcabc" * 20, window=6)
    inner = _model_for(task, hidden=8)

    class Plain(torch.nn.Module):  # no .rnn/.head: sample re-runs the last `window` characters
        def forward(self, x):
            return inner(x)

    s = task.sample(Plain(), 20, temperature=0.5, seed=1)
    assert len(s) == 20 and s == task.sample(Plain(), 20, temperature=0.5, seed=1)


@pytest.mark.parametrize(
    "bad",
    [
        dict(temperature=0),
        dict(temperature=-1.0),
        dict(temperature=float("nan")),
        dict(length=0),
        dict(prime=""),
        dict(prime="Z!@"),
    ],
)
def test_sample_refusals(bad):
    task = CharTask("hello world, " * 30, window=10)
    with pytest.raises(ValueError):
        task.sample(_model_for(task), **bad)


@pytest.mark.parametrize(
    "text,settings,match",
    [
        ("short text", {}, "too short"),
        ("ab" * 40, dict(window=64), "too short"),
        ("aaaa" * 100, {}, "distinct"),
        ("ab" * 200, dict(window=0), "window"),
        ("ab" * 200, dict(val_fraction=1.0), "val_fraction"),
    ],
)
def test_char_refusals(text, settings, match):
    with pytest.raises(ValueError, match=match):
        CharTask(text, **settings)
    with pytest.raises(TypeError, match="string"):
        CharTask(None)


# ------------------------------------------------------------------ tutorial


def test_tutorial_example_is_manual_seed_randn_and_leaves_global_rng_alone():
    before = torch.random.get_rng_state()
    task = TutorialTask(seed=0)
    assert torch.equal(torch.random.get_rng_state(), before)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        x, y = torch.randn(5, 1, 10), torch.randn(5, 1, 1)
    assert torch.equal(task.x, x) and torch.equal(task.y, y)
    bx, by = task.train_batch(32, _gen())
    assert bx.shape == (5, 1, 10) and by.shape == (5, 1, 1) and torch.equal(bx, x)
    r = task.evaluate(ZeroModel(1))
    assert math.isclose(r.val_loss, float((y.double() ** 2).mean()), rel_tol=1e-9)
    assert math.isclose(r.baseline, float(y.double().var(unbiased=False)), rel_tol=1e-9)
    assert not torch.equal(TutorialTask(seed=1).x, x)


# ------------------------------------------------------------------ your own data (CSV)


def test_csv_task_forecasts_the_chosen_column():
    values = np.sin(np.arange(200) / 5.0) + np.arange(200) / 100  # (200,)
    index = pd.date_range("2000-01-01", periods=200, freq="D")
    task = build_task("csv", values=values, index=index, window=20, difference=True)
    assert isinstance(task, ForecastTask) and task.season is None and task.difference
    r = task.evaluate(ZeroModel(1))  # zero change: exactly the naive forecast
    np.testing.assert_allclose(r.prediction, values[r.index - 1] + task.mean * 1)
    assert list(task.index[r.index]) == list(index[r.index])
    assert r.seasonal_naive_rmse is None
    with pytest.raises(ValueError, match="no series"):
        build_task("csv")
    with pytest.raises(ValueError, match="time stamps"):
        build_task("csv", values=values, index=index[:10])
    with pytest.raises(ValueError, match="at least 402 values"):
        build_task("csv", values=values, window=200)


def test_shipped_forecast_keeps_its_dates():
    task = build_task("forecast", series="seattle_temp_max")
    assert list(task.index) == list(load_series("seattle_temp_max").index)


def test_copy_evaluate_reports_what_was_shown_and_recalled():
    task = CopyTask(lag=3, n_symbols=5, seq_len=4, val_size=64)
    model = _model_for(task, hidden=8, seed=3)
    r = task.evaluate(model)
    with torch.no_grad():
        logits = model(task.val_x)  # (T, N, V)
    recalled = logits[-4:].argmax(-1).T.numpy()  # (N, L)
    shown = task.val_x[:4, :, :5].argmax(-1).T.numpy()  # the one-hot symbols of the input
    np.testing.assert_array_equal(r.recalled, recalled)
    np.testing.assert_array_equal(r.shown, shown)
    np.testing.assert_allclose(r.position_accuracy, (recalled == shown).mean(0))
    assert math.isclose(r.accuracy, float((recalled == shown).mean()))


@pytest.mark.parametrize("key", list(TASKS))
def test_example_input_is_the_tasks_own_held_out_data(key):
    from explorer.tasks import example_input

    task = build_task(key)
    ex = example_input(task)
    assert ex.x.dtype == torch.float32 and ex.x.shape[1] == task.input_size and len(ex.x) >= 2
    if key == "char":
        start = task.n_train
        text = task.text[start : start + task.window]
        assert "".join(ex.labels) == text  # the held-out text, character by character
        assert torch.equal(
            ex.x,
            torch.nn.functional.one_hot(
                torch.tensor([task.alphabet.index(c) for c in text]), task.input_size
            ).float(),
        )
    elif key in ("forecast", "sine"):
        z = (task.values - task.values[: task.n_train].mean()) if not task.difference else None
        if z is not None:  # levels: (x - training mean) / training std, independently
            std = task.values[: task.n_train].std()
            want = z[task.n_train : task.n_train + task.window] / std
            np.testing.assert_allclose(ex.x[:, 0].numpy(), want, rtol=1e-5, atol=1e-5)
    elif key == "tutorial":
        assert torch.equal(ex.x, task.x[:, 0])
    else:  # adding, copy: the first validation sequence
        assert torch.equal(ex.x, task.val_x[:, 0])


@pytest.mark.parametrize("key", list(TASKS))
def test_evaluations_are_typed_frozen_and_cross_processes(key):
    """Each task returns its own frozen Evaluation; it survives a pickle (to and from the
    training workers) and a trip through its stored dict form, field for field."""
    task = build_task(key)
    ev = task.evaluate(_model_for(task))
    assert type(ev) is task.evaluation_type and isinstance(ev, Evaluation)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.val_loss = 0.0
    for copy in (pickle.loads(pickle.dumps(ev)), type(ev).from_dict(ev.as_dict())):
        assert type(copy) is type(ev)
        for f in dataclasses.fields(ev):
            x, y = getattr(ev, f.name), getattr(copy, f.name)
            assert np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y, f.name
    assert list(ev.as_dict())[:3] == ["val_loss", "baseline", "baseline_label"]
    with pytest.raises(ValueError, match="unknown.*extra"):
        type(ev).from_dict(ev.as_dict() | {"extra": 1})


def test_what_each_evaluation_type_gives_beside_the_loss():
    """The table's scores and the rules' losses come from the evaluation's type: a forecaster
    with a season gives the seasonal rule, one without does not; characters give letter
    frequencies; the memory tasks only their baseline."""
    season = build_task("forecast")
    ev = season.evaluate(ZeroModel(1))
    assert list(ev.scores()) == ["RMSE", "naive RMSE", "seasonal-naive RMSE"]
    assert ev.scores()["RMSE"] == ev.rmse
    assert ev.rules() == [
        (ev.baseline_label, ev.baseline),
        ("seasonal-naive forecast", ev.seasonal_naive_loss),
    ]
    assert ev.rules(short=True)[1] == ("seasonal naive", ev.seasonal_naive_loss)
    plain = ForecastTask(load_series("co2").to_numpy(), window=24)  # no season
    ev = plain.evaluate(ZeroModel(1))
    assert ev.seasonal_naive_rmse is None and ev.seasonal_naive is None
    assert list(ev.scores()) == ["RMSE", "naive RMSE"] and len(ev.rules()) == 1
    char = build_task("char")
    ev = char.evaluate(ZeroModel(char.output_size))
    assert ev.scores() == {"accuracy": ev.accuracy, "bits per character": ev.bits_per_char}
    assert ev.rules()[1] == ("letter frequencies", ev.unigram_loss)
    copy = build_task("copy")
    ev = copy.evaluate(ZeroModel(copy.output_size))
    assert ev.scores() == {"accuracy": ev.accuracy, "sequences recalled": ev.sequence_accuracy}
    for key in ("adding", "tutorial"):
        task = build_task(key)
        ev = task.evaluate(ZeroModel(1))
        assert ev.scores() == {} and ev.rules() == [(task.baseline_label, ev.baseline)]
