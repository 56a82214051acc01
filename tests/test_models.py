"""build_model returns torch's own modules, seeded, and refuses bad sizes."""

import pytest
import torch

from explorer import build_model, count_parameters


@pytest.mark.parametrize(
    "cell,cls", [("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)]
)
def test_real_torch_modules(cell, cls):
    model = build_model(cell, 3, 5, num_layers=2, bidirectional=True, output_size=4, seed=1)
    assert type(model.rnn) is cls
    assert isinstance(model.head, torch.nn.Linear)
    assert model.head.in_features == 10 and model.head.out_features == 4
    y = model(torch.randn(7, 2, 3))
    assert y.shape == (7, 2, 4)
    assert (
        sum(p.numel() for p in model.rnn.parameters())
        == count_parameters(cell, 3, 5, num_layers=2, bidirectional=True).total
    )


def test_seed_reproduces_weights_and_leaves_global_rng_alone():
    torch.manual_seed(99)
    before = torch.rand(1)
    torch.manual_seed(99)
    a = build_model("lstm", 2, 4, seed=7)
    assert torch.equal(torch.rand(1), before)  # building did not consume the caller's RNG
    b = build_model("lstm", 2, 4, seed=7)
    c = build_model("lstm", 2, 4, seed=8)
    for (n, p), (_, q), (_, r) in zip(
        a.named_parameters(), b.named_parameters(), c.named_parameters()
    ):
        assert torch.equal(p, q), n
        assert not torch.equal(p, r), n


def test_options_reach_torch():
    m = build_model("rnn", 2, 4, nonlinearity="relu", bias=False)
    assert m.rnn.nonlinearity == "relu" and m.rnn.bias is False
    m = build_model("lstm", 2, 4, proj_size=2)
    assert m.rnn.proj_size == 2 and m.head.in_features == 2


@pytest.mark.parametrize(
    "kwargs",
    [dict(hidden_size=0), dict(num_layers=9), dict(proj_size=3), dict(nonlinearity="sigmoid")],
)
def test_bad_input_raises_value_error(kwargs):
    args = dict(cell="rnn", input_size=2, hidden_size=4) | kwargs
    with pytest.raises(ValueError):
        build_model(args.pop("cell"), args.pop("input_size"), args.pop("hidden_size"), **args)


def test_non_boolean_flags_rejected():
    with pytest.raises(ValueError, match="bidirectional"):
        build_model("lstm", 1, 2, bidirectional=2)
    with pytest.raises(ValueError, match="bias"):
        build_model("lstm", 1, 2, bias=None)


def _weights(model):
    return {n: p.detach().clone() for n, p in model.state_dict().items()}


def test_sixteen_threads_building_at_once_each_get_their_seeds_weights():
    """Sessions share one process: builds that overlap must not draw from each other's RNG."""
    import threading

    configs = [("lstm", 16), ("gru", 12), ("rnn", 20), ("lstm", 32)] * 4  # 16 builds
    solo = [
        _weights(build_model(c, 3, h, num_layers=2, seed=s)) for s, (c, h) in enumerate(configs)
    ]
    # the reference: torch's own modules after torch.manual_seed, built one at a time
    torch.manual_seed(5)
    ref = torch.nn.LSTM(3, 16, num_layers=2)
    head = torch.nn.Linear(16, 1)
    assert all(
        torch.equal(
            getattr(ref, n), _weights(build_model("lstm", 3, 16, num_layers=2, seed=5))["rnn." + n]
        )
        for n, _ in ref.named_parameters()
    )
    assert torch.equal(head.weight, build_model("lstm", 3, 16, num_layers=2, seed=5).head.weight)
    barrier, got, errors = threading.Barrier(16), [None] * 16, []

    def build(i):
        try:
            c, h = configs[i]
            barrier.wait()
            for _ in range(5):  # overlap for longer than one build takes
                got[i] = _weights(build_model(c, 3, h, num_layers=2, seed=i))
                torch.rand(100)  # another session drawing from the process-wide generator
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=build, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(16):
        assert got[i].keys() == solo[i].keys()
        for name in solo[i]:
            assert torch.equal(got[i][name], solo[i][name]), (i, name)


def test_tutorial_code_run_in_threads_equals_solo():
    """The Learn page's code comparison runs the tutorial's own `torch.manual_seed` idiom:
    serialised, so concurrent sessions each see their seed's numbers."""
    import threading

    from explorer.lesson import code_comparison

    solo = {s: code_comparison("lstm", s).torch for s in range(6)}
    got, barrier = {}, threading.Barrier(6)

    def run(s):
        barrier.wait()
        got[s] = code_comparison("lstm", s).torch

    threads = [threading.Thread(target=run, args=(s,)) for s in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in range(6):
        assert (got[s] == solo[s]).all()


def test_set_gate_bias_sets_the_sum_of_both_biases():
    from explorer.models import set_gate_bias

    gru = torch.nn.GRU(1, 3)
    H = 3
    r_before = gru.bias_ih_l0[:H].detach().clone()
    set_gate_bias(gru, "z", 4.0)
    assert (gru.bias_ih_l0[H : 2 * H] == 4.0).all() and (gru.bias_hh_l0[H : 2 * H] == 0).all()
    assert torch.equal(gru.bias_ih_l0[:H], r_before)  # the other gates untouched
    with pytest.raises(ValueError, match="gates"):
        set_gate_bias(gru, "f", 1.0)
