"""explorer.budget: the caps are checked against independent counts (torch's own parameter
count, a hand-computed estimate), the messages say what was asked, the cap and what to lower,
and thinning keeps the extremes of every line."""

import re

import numpy as np
import pytest

from explorer import budget, build_from_config
from explorer.config import CellConfig
from explorer.params import model_parameters

LARGEST = CellConfig("lstm", 1, 1024, num_layers=4, bidirectional=True)


@pytest.mark.parametrize(
    "config",
    [
        CellConfig(),
        CellConfig("gru", 3, 7, output_size=2),
        CellConfig("lstm", 2, 6, num_layers=2, bidirectional=True, proj_size=3, bias=False),
        CellConfig("rnn", 1, 5, num_layers=3),
    ],
)
def test_model_parameters_equals_torchs_count(config):
    model = build_from_config(config)
    assert model_parameters(config) == sum(p.numel() for p in model.parameters())


def test_the_largest_model_is_refused_at_t_400_with_the_longest_t_it_may_have():
    with pytest.raises(ValueError) as err:
        budget.check_trace(LARGEST, 400)
    text = str(err.value)
    P = model_parameters(LARGEST)
    seconds = 400 * (P * budget.NS_PER_PARAMETER_STEP + budget.NS_PER_STEP) * 1e-9
    longest = int(
        budget.TRACE_SECONDS / ((P * budget.NS_PER_PARAMETER_STEP + budget.NS_PER_STEP) * 1e-9)
    )
    assert f"{P:,} parameters through T = 400 steps" in text
    assert f"about {seconds:,.0f} s" in text and f"lower T to {longest:,} or less" in text
    budget.check_trace(LARGEST, longest)  # the T it names is allowed
    with pytest.raises(ValueError):
        budget.check_trace(LARGEST, longest + 1)


def test_default_models_pass_at_every_length_the_app_offers():
    for config in (CellConfig(), CellConfig("gru", 1, 64, num_layers=2, bidirectional=True)):
        budget.check_trace(config, 5000)


def test_training_step_is_refused_with_the_batch_that_fits():
    config = CellConfig("lstm", 1, 256, num_layers=2)
    P = model_parameters(config)
    with pytest.raises(ValueError, match="lower the batch size to") as err:
        budget.check_training_step(config, 200, 256)
    fits = int(re.search(r"lower the batch size to (\d+)", str(err.value)).group(1))
    assert (
        P * 200 * (budget.NS_PER_TRAINING_STEP + budget.NS_PER_TRAINING_SAMPLE * fits)
        <= budget.STEP_SECONDS * 1e9
    )
    budget.check_training_step(config, 200, fits)
    with pytest.raises(ValueError, match="even one sequence is too much"):
        budget.check_training_step(LARGEST, 200, 256)
    budget.check_training_step(CellConfig("lstm", 1, 64), 64, 32)  # the text preset


def test_training_memory_counts_weights_gradients_and_adam():
    config = CellConfig("lstm", 256, 1024, num_layers=2)  # 4 · P · 4 bytes > 1 GB? no: check
    P = model_parameters(config)
    need = 4 * (4 * P)  # weights, gradients, two moments
    assert need < budget.EXTRA_BYTES  # so this one is refused for time, not memory
    with pytest.raises(ValueError, match="s of the server's CPU"):
        budget.check_training_step(config, 100, 64)


@pytest.mark.parametrize(
    "rows, columns, match",
    [
        (10, 201, "has 201 fields; the limit is 200"),
        (1_000_001, 1, "1,000,001 lines; the limit is 1,000,000"),
        (20_000, 101, "2,020,000 cells; the limit is 2,000,000"),
    ],
)
def test_csv_caps(rows, columns, match):
    with pytest.raises(ValueError, match=match):
        budget.check_csv(rows, columns)
    budget.check_csv(budget.MAX_CSV_ROWS, 2)


def test_thin_keeps_every_lines_extremes_and_the_ends():
    rng = np.random.default_rng(0)
    n = 200_000
    a = np.cumsum(rng.normal(size=n))
    b = np.sin(np.arange(n) / 50.0)
    b[123_457] = 40.0  # a spike that every-k-th sampling would miss
    a[5] = np.nan
    keep = budget.thin(n, a, b, cap=5000)
    assert len(keep) <= 5000 and keep[0] == 0 and keep[-1] == n - 1
    assert np.all(np.diff(keep) > 0)
    assert 123_457 in keep and int(np.nanargmax(a)) in keep and int(np.nanargmin(a)) in keep
    # each bucket's min and max of a survive: the thinned line spans the same range per bucket
    assert np.nanmax(a[keep]) == np.nanmax(a) and np.nanmin(a[keep]) == np.nanmin(a)
    assert list(budget.thin(5, a[:5])) == [0, 1, 2, 3, 4]


def test_forecast_chart_sends_at_most_the_cap():
    from explorer import charts

    n = 200_000
    x = np.arange(n)
    truth = np.sin(x / 100.0)
    truth[77_777] = 9.0
    fig = charts.forecast(
        x, truth, truth * 0.9, np.roll(truth, 1), unit="ppm", seasonal_naive=np.roll(truth, 12)
    )
    sizes = [len(t.y) for t in fig.data]
    assert max(sizes) <= budget.MAX_CHART_POINTS and min(sizes) > 1000
    truth_trace = next(t for t in fig.data if t.name == "truth")
    assert 9.0 in truth_trace.y and 77_777 in truth_trace.x


def test_training_state_is_capped_with_the_parameters_it_allows():
    """Weights and Adam's moments travel to the training worker and back at every slice."""
    big = CellConfig("lstm", 1, 1024)  # 4.2 M parameters: 67 MB of state
    P = model_parameters(big)
    assert budget.STATE_BYTES_PER_PARAMETER * P > budget.MAX_STATE_BYTES
    with pytest.raises(ValueError) as err:
        budget.check_training_step(big, 4, 1)  # cheap steps: refused for the state alone
    text = str(err.value)
    assert f"{P:,} parameters" in text
    assert f"{budget.STATE_BYTES_PER_PARAMETER * P / 1e6:,.0f} MB" in text
    assert f"{budget.MAX_STATE_BYTES // budget.STATE_BYTES_PER_PARAMETER:,} parameters" in text
    budget.check_training_step(CellConfig("lstm", 1, 512), 4, 1)  # 1.06 M: allowed


def test_compare_adds_its_cells_costs():
    config = CellConfig("gru", 1, 512)  # 0.8 M parameters: alone it fits
    budget.check_training([config], 4, 1)
    with pytest.raises(ValueError, match=r"3 models of [\d,]+ parameters in all"):
        budget.check_training([config, config, config], 4, 1)  # 2.4 M together
    small = CellConfig("gru", 1, 128)
    window, batch = 1000, 16  # one cell's step fits, a round of three does not
    alone = (
        model_parameters(small)
        * window
        * (budget.NS_PER_TRAINING_STEP + budget.NS_PER_TRAINING_SAMPLE * batch)
    )
    assert alone <= budget.STEP_SECONDS * 1e9 < 3 * alone
    budget.check_training([small], window, batch)
    with pytest.raises(ValueError, match="s of the server's CPU"):
        budget.check_training([small] * 3, window, batch)
