"""The URL table (explorer.url_params): every parameter's name, type, default, bounds and
owning page, checked against the config, the tasks and the widgets that read it."""

from pathlib import Path

from explorer.config import CellConfig
from explorer.url_params import (
    PAGE_PARAMS,
    PAGES,
    SIDEBAR_PARAMS,
    STEP_PARAMS,
    TRAIN_PARAMS,
    known,
    owner,
    suggest,
)

ROOT = Path(__file__).resolve().parents[1]


def test_vocabulary():
    assert set(SIDEBAR_PARAMS) == {f for f in CellConfig.__dataclass_fields__}
    contract = {
        "task",
        "series",
        "k",
        "window",
        "difference",
        "val_fraction",
        "period",
        "noise",
        "n",
        "lag",
        "n_symbols",
        "seq_len",
        "optimizer",
        "lr",
        "batch_size",
        "steps",
        "clip_norm",
        "weight_decay",
        "tbptt",
        "target_loss",
        "patience",
        "temperature",
    }
    assert contract <= set(TRAIN_PARAMS) and "seed" not in TRAIN_PARAMS
    assert PAGE_PARAMS["train"] == PAGE_PARAMS["compare"]
    # the Step-through names collide with no other page's (a shared key would share state)
    assert not set(STEP_PARAMS) & (set(TRAIN_PARAMS) | set(SIDEBAR_PARAMS))
    assert owner("t") == ["step_through"] and owner("lag") == ["train", "compare"]
    assert owner("learn_x") == ["learn"] and owner("hidden_size") == []
    assert known("presenter") and known("hidden_size") and not known("hiden_size")
    assert suggest("hiden_size") == "hidden_size" and suggest("zzz") is None


# ---------------------------------------------------------------- the URL table's numbers
def test_refusal_names_the_range_of_hostile_numbers():
    from explorer.url_params import refusal

    assert refusal("hidden_size", "inf") == "outside 1…1024"
    assert refusal("hidden_size", "-inf") == "outside 1…1024"
    assert refusal("hidden_size", "1e309") == "outside 1…1024"  # float overflow: inf
    assert refusal("hidden_size", "9" * 5000) == "outside 1…1024"  # no int() of 5,000 digits
    assert refusal("seed", "nan") == "not a number"
    assert refusal("target_loss", "-1") == "below 0" and refusal("target_loss", "5") is None
    assert refusal("patience", "0") == "outside 1…1000"
    assert refusal("lr", "1e9") == "outside 0.0001…10"
    assert refusal("unit", "20", (0, 15)) == "outside 0…15"  # the page's narrower range
    assert refusal("hidden_size", "7") is None
    assert refusal("clip_norm", "off") is None  # a choice, not a number: the widget judges
    assert refusal("shape", "inf") is None  # not numeric


def test_every_numeric_parameter_is_in_the_table():
    from explorer.url_params import LEARN_PARAMS, NUMBERS

    numeric_defaults = {
        n
        for n, v in {**SIDEBAR_PARAMS, **STEP_PARAMS}.items()
        if isinstance(v, (int, float)) and not isinstance(v, bool)
    }
    assert numeric_defaults <= set(NUMBERS)
    assert {
        "steps",
        "patience",
        "target_loss",
        "lr",
        "batch_size",
        "k",
        "window",
        "period",
        "n",
        "seq_len",
        "n_symbols",
        "lag",
        "noise",
        "val_fraction",
    } <= set(NUMBERS)
    assert {"learn_seed", "learn_count_h", "learn_code_seed"} <= set(NUMBERS) & set(LEARN_PARAMS)
    assert set(NUMBERS) <= {*SIDEBAR_PARAMS, *STEP_PARAMS, *TRAIN_PARAMS, *LEARN_PARAMS}


def test_the_training_widgets_choices_lie_inside_the_table():
    from explorer.url_params import NUMBERS, PARAMS

    for name in ("lr", "batch_size", "clip_norm", "weight_decay", "tbptt", "speed", "learn_rho"):
        numbers = [o for o in PARAMS[name].options if not isinstance(o, str)]
        assert min(numbers) == NUMBERS[name].low and max(numbers) == NUMBERS[name].high, name


# ---------------------------------------------------------------- the table itself
def test_each_parameter_has_an_owner_a_type_and_a_default_of_that_type():
    from explorer.url_params import EVERY_PAGE, PARAMS, SIDEBAR

    for name, param in PARAMS.items():
        assert param.name == name
        assert param.owners and all(o in PAGES or o in (SIDEBAR, EVERY_PAGE) for o in param.owners)
        if param.default is not None:
            assert isinstance(param.default, param.type), name
        if param.options is not None and param.default is not None:
            assert param.default in param.options, name
        if param.bounds is not None and param.default is not None:
            if isinstance(param.default, str):  # a word among numbers (learn_forget=fresh)
                assert param.options and param.default in param.options, name
                continue
            low, high = param.bounds.low, param.bounds.high
            assert low <= param.default and (high is None or param.default <= high), name
    assert PARAMS["hidden_size"].type is int and PARAMS["lr"].type is float
    assert PARAMS["task"].type is str and PARAMS["bias"].type is bool
    assert PARAMS["t"].key == "step_pos" and PARAMS["T"].key == "T"
    # the sidebar's defaults are the config's
    assert CellConfig(**SIDEBAR_PARAMS) == CellConfig()


def test_query_params_is_spelt_once():
    """``bind="query-params"`` is defined in one place, the table; every widget names it URL."""
    import re

    from explorer.url_params import URL

    assert URL == "query-params"
    code = re.compile(r'^\s*\w+\s*=\s*"query-params"|[(,]\s*bind="query-params"', re.M)
    sources = [
        ROOT / "streamlit_app.py",
        *ROOT.glob("explorer/**/*.py"),
        *ROOT.glob("app_pages/*.py"),
    ]
    spelt = [p.relative_to(ROOT).as_posix() for p in sources if code.search(p.read_text())]
    assert spelt == ["explorer/url_params.py"]


def test_one_module_writes_the_url():
    """Every write to ``st.query_params`` goes through explorer/ui/url_sync.py."""
    import re

    write = re.compile(
        r"st\.query_params(\[[^]]*\]\s*=[^=]|\.(pop|update|from_dict|clear)\()|del st\.query_params"
    )
    sources = [
        ROOT / "streamlit_app.py",
        *ROOT.glob("explorer/**/*.py"),
        *ROOT.glob("app_pages/*.py"),
    ]
    writers = [p.relative_to(ROOT).as_posix() for p in sources if write.search(p.read_text())]
    assert writers == ["explorer/ui/url_sync.py"]


def test_one_module_binds_widgets_to_the_url():
    """Every widget bound to the URL is drawn by explorer.ui.url_sync.url_widget, which reads
    its key, default, range and options from the table: no page passes ``bind=`` itself."""
    import re

    bind = re.compile(r'(?<![`\w])bind\s*=\s*(URL\b|"query-params")')
    sources = [
        ROOT / "streamlit_app.py",
        *ROOT.glob("explorer/**/*.py"),
        *ROOT.glob("app_pages/*.py"),
    ]
    binders = [p.relative_to(ROOT).as_posix() for p in sources if bind.search(p.read_text())]
    assert binders == ["explorer/ui/url_sync.py"]
