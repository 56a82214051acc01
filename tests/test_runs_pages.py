"""AppTest of saved runs on the Train and Compare pages (explorer/ui/runs.py): a run is saved as
it trains with run=<id> in the URL; a link brings it back (its settings, curve, weights) in a
new session, paused if it was training; another owner gets a read-only view whose controls are
absent and refused, and a fork; bad ids, expired runs and a broken store give notes, and the
page still trains in memory."""

import sqlite3
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from explorer.runstore import Limits, SQLiteRunStore, open_store
from explorer.ui import runs

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
TRAIN, COMPARE = "app_pages/train.py", "app_pages/compare.py"
TIMEOUT = 60
pytestmark = pytest.mark.usefixtures("slices_by_steps")


@pytest.fixture
def store_dir(tmp_path, monkeypatch):
    """A store of the test's own (the app opens it once per process: cleared around)."""
    monkeypatch.setenv("RNN_EXPLORER_DATA", str(tmp_path / "runs"))
    runs._open.clear()
    yield tmp_path / "runs"
    runs._open.clear()


def _open(page=TRAIN, token=None, **params) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).switch_page(page)
    if token is not None:  # the browser's cookie: the same owner as another session
        at.session_state[runs.TOKEN_KEY] = token
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def _notes(at) -> str:
    return " ".join(str(e.value) for e in [*at.info, *at.warning, *at.error, *at.markdown])


def _train(at, prefix="train", runs_=3):
    at.button(key=f"{prefix}_start").click().run()
    for _ in range(runs_):
        at.run()
    assert not at.exception, at.exception


def test_a_run_is_saved_as_it_trains_and_a_link_brings_it_back(store_dir):
    at = _open(steps="20000", lr="0.003")
    assert "run" not in at.query_params  # a visit makes no run: only Start does
    _train(at)
    run_id = at.query_params["run"]
    assert len(run_id) >= 24  # 144 random bits
    at.button(key="train_pause").click().run()
    trainer = at.session_state["trainer"]
    store = open_store(store_dir)
    stored = store.load(run_id)
    assert stored.info.status == "paused" and stored.info.step == trainer.step > 0
    token = at.session_state[runs.TOKEN_KEY]
    assert stored.owned_by(token)
    # a new session of the same browser (a reload): the run, its settings and weights
    again = _open(token=token, run=run_id)
    back = again.session_state["trainer"]
    assert back is not trainer and back.step == trainer.step and back.status == "paused"
    assert [r["train_loss"] for r in back.history] == [r["train_loss"] for r in trainer.history]
    for (name, a), b in zip(trainer.model.state_dict().items(), back.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert again.number_input(key="steps").value == 20000
    assert again.select_slider(key="lr").value == 0.003
    assert again.query_params["run"] == run_id
    assert not again.button(key="train_resume").disabled  # the owner's controls
    assert not again.button(key="train_to_step").disabled  # "Open in Step through"
    # it trains on from there, saved under the same id
    again.button(key="train_resume").click().run()
    again.run()
    again.button(key="train_pause").click().run()
    assert again.session_state["trainer"].step > trainer.step
    assert store.load(run_id).info.step == again.session_state["trainer"].step


def test_a_run_training_when_its_session_ended_comes_back_paused_with_a_note(store_dir):
    at = _open(steps="20000")
    _train(at)
    run_id = at.query_params["run"]
    assert open_store(store_dir).info(run_id).status == "running"  # saved at Start
    again = _open(token=at.session_state[runs.TOKEN_KEY], run=run_id)
    assert again.session_state["trainer"].status == "paused"
    assert "was training when its page was closed" in _notes(again)
    assert not again.button(key="train_resume").disabled


def test_another_browser_gets_a_read_only_view_and_a_fork(store_dir):
    at = _open(steps="20000")
    _train(at)
    at.button(key="train_pause").click().run()
    run_id = at.query_params["run"]
    owner_step = at.session_state["trainer"].step
    other = _open(run=run_id)  # another browser: another owner token
    assert other.session_state["trainer"].step == owner_step
    keys = {b.key for b in other.button}
    assert not keys & {
        "train_start",
        "train_pause",
        "train_resume",
        "train_stop",
        "train_reset",
        "train_one_step",
    }
    assert other.button(key="train_extend").disabled
    assert "read-only" in _notes(other)
    # the view saves nothing: the owner's run is as the owner left it
    other.run()
    store = open_store(store_dir)
    before = store.info(run_id)
    assert before.step == owner_step
    # editing the URL gives no control: ownership is the browser's secret, not the link's
    forged = _open(run=run_id, owner=at.session_state[runs.TOKEN_KEY][:20], status="running")
    assert "train_pause" not in {b.key for b in forged.button}
    # "Continue as my own copy": an independent run with the same history, owned here
    other.button(key="train_fork").click().run()
    fork_id = other.query_params["run"]
    assert fork_id != run_id
    mine = other.session_state["trainer"]
    original = at.session_state["trainer"]
    assert [r["train_loss"] for r in mine.history] == [r["train_loss"] for r in original.history]
    assert open_store(store_dir).info(fork_id).parent == run_id
    other.button(key="train_resume").click().run()
    other.run()
    other.button(key="train_pause").click().run()
    assert other.session_state["trainer"].step > owner_step
    assert store.info(fork_id).step == other.session_state["trainer"].step
    assert store.info(run_id).step == owner_step and store.info(run_id).updated == before.updated


def test_refused_controls_on_the_server_side(store_dir):
    """A control's callback checks ownership itself (a message that names a control the
    page did not draw changes nothing)."""
    at = _open(steps="20000")
    _train(at)
    run_id = at.query_params["run"]
    other = _open(run=run_id)
    view = other.session_state[runs._state("train")]
    assert not view.owned and view.saver is None

    def press() -> None:  # what a forged Pause would run in the viewer's session
        import streamlit as st

        from explorer.ui import runs as r

        st.text(f"refused {r.refuse('train')}")

    script = AppTest.from_function(press, default_timeout=TIMEOUT)
    script.session_state[runs._state("train")] = view
    script.run()
    assert script.text[0].value == "refused True" and "belongs to another browser" in view.error


@pytest.mark.parametrize(
    "value, said",
    [
        ("not-a-run", "not a valid run id"),
        ("A" * 24, "No run has the id"),
    ],
)
def test_malformed_or_unknown_run_gets_a_note_and_the_defaults(store_dir, value, said):
    at = _open(run=value)
    assert said in _notes(at)
    assert "run" not in at.query_params
    assert at.session_state["trainer"].status == "ready"
    _train(at)  # the page works: a new run, saved under a new id
    assert at.query_params["run"] != value


def test_expired_run_says_so(store_dir):
    at = _open(steps="20000")
    _train(at)
    run_id = at.query_params["run"]
    import time

    open_store(store_dir, clock=lambda: time.time() + 8 * 86400).expire()
    again = _open(token=at.session_state[runs.TOKEN_KEY], run=run_id)
    assert "expired on" in _notes(again) and "kept for 7 days" in _notes(again)
    assert again.session_state["trainer"].status == "ready"


def test_quota_says_so_and_training_goes_on(store_dir, monkeypatch):
    monkeypatch.setattr(
        runs, "open_store", lambda: open_store(store_dir, Limits(max_runs_per_owner=1))
    )
    runs._open.clear()
    at = _open(steps="20000")
    _train(at)
    first = at.query_params["run"]
    at.button(key="train_pause").click().run()
    at.button(key="train_reset").click().run()
    _train(at)
    assert "most allowed (1)" in _notes(at)
    assert at.session_state["trainer"].step > 0  # trains on, in memory
    assert at.query_params.get("run") in (None, first)


@pytest.mark.parametrize("damage", ["corrupt", "read-only", "locked", "full disk"])
def test_a_broken_store_gives_a_message_and_the_page_trains_in_memory(
    store_dir, monkeypatch, damage
):
    store_dir.mkdir(parents=True)
    db = store_dir / "runs.sqlite3"
    hold = None
    if damage == "corrupt":
        db.write_bytes(b"this is not a database" * 100)
    else:
        open_store(store_dir)
        if damage == "read-only":  # (chmod does not stop root: the store opened read-only)
            monkeypatch.setattr(runs, "open_store", lambda: SQLiteRunStore(db, read_only=True))
        elif damage == "full disk":  # (a file size cap fails as a full disk does)
            monkeypatch.setattr(
                runs, "open_store", lambda: open_store(store_dir, Limits(max_file_bytes=20_000))
            )
        else:  # another process holds the write lock
            monkeypatch.setattr(
                runs, "open_store", lambda: open_store(store_dir, Limits(busy_timeout=0.05))
            )
            hold = sqlite3.connect(db, isolation_level=None)
            hold.execute("BEGIN EXCLUSIVE")
        runs._open.clear()
    try:
        at = _open(steps="20000")
        _train(at)
        said = _notes(at)
        assert "in this tab only" in said, said
        assert {
            "corrupt": "is not a database",
            "read-only": "read-only",
            "locked": "locked",
            "full disk": "is full",
        }[damage] in said
        assert at.session_state["trainer"].step > 0 and "run" not in at.query_params
    finally:
        if hold is not None:
            hold.execute("ROLLBACK")
            hold.close()


def test_compare_saves_and_comes_back(store_dir):
    at = _open(COMPARE, steps="20000")
    _train(at, "compare")
    run_id = at.query_params["run"]
    at.button(key="compare_pause").click().run()
    comp = at.session_state["compare"]
    again = _open(COMPARE, token=at.session_state[runs.TOKEN_KEY], run=run_id)
    back = again.session_state["compare"]
    assert back.step == comp.step > 0 and back.status == "paused"
    for cell in comp.trainers:
        assert [r["train_loss"] for r in back.trainers[cell].history] == [
            r["train_loss"] for r in comp.trainers[cell].history
        ]
    assert not again.button(key="compare_resume").disabled
    other = _open(COMPARE, run=run_id)
    assert "compare_pause" not in {b.key for b in other.button}
    assert "read-only" in _notes(other)
    wrong = _open(TRAIN, token=at.session_state[runs.TOKEN_KEY], run=run_id)
    assert "run of the Compare cells page" in _notes(wrong)


def test_a_read_only_view_follows_the_run_its_owner_trains(store_dir):
    """A teacher's projector on a student's link: the view follows what the owner saves."""
    at = _open(steps="20000")
    _train(at)
    run_id = at.query_params["run"]
    view = _open(run=run_id)
    assert "Its owner is training it" in _notes(view)
    first = view.session_state["trainer"].step
    at.run()
    at.button(key="train_pause").click().run()  # saved at Pause
    owner_step = at.session_state["trainer"].step
    assert owner_step > first
    view.run()  # the follow fragment's next look (run_every does not fire under AppTest)
    assert view.session_state["trainer"].step == owner_step
    assert "shows it as its owner last saved it" in _notes(view)
    assert "train_pause" not in {b.key for b in view.button}


def test_a_second_tab_of_the_owner_takes_the_run_over_with_every_step(store_dir):
    """A reload (or the link in another tab of the same browser) on the same server takes the
    run over from the tab that held it, with the steps that tab took since its last save;
    the old tab then only shows it (one tab controls a run)."""
    at = _open(steps="20000")
    at.button(key="train_start").click().run()  # saved at Start, then not for a long while:
    at.session_state[runs._state("train")].saver.every = 1e9  # (whatever the machine's pace)
    at.run()
    at.run()
    run_id = at.query_params["run"]
    held = at.session_state["trainer"].step
    saved = open_store(store_dir).info(run_id).step
    assert held > saved  # saved at Start; its 5-second save is not due yet
    tab = _open(token=at.session_state[runs.TOKEN_KEY], run=run_id)
    back = tab.session_state["trainer"]
    assert back.step >= held and back.status == "paused"
    assert open_store(store_dir).info(run_id).step == back.step  # and it was saved
    assert not tab.button(key="train_resume").disabled
    at.run()  # the first tab: watching only, its controls gone
    assert "train_pause" not in {b.key for b in at.button}
    assert "now controls it" in _notes(at)


def test_the_link_names_the_run_again_after_a_visit_to_another_page(store_dir):
    at = _open(steps="20000")
    _train(at)
    at.button(key="train_pause").click().run()
    run_id = at.query_params["run"]
    at.switch_page("app_pages/cell.py").run()
    assert "run" not in at.query_params  # not a setting of that page
    at.switch_page(TRAIN).run()
    assert at.query_params["run"] == run_id
    assert at.session_state["trainer"].step > 0 and not at.exception


def test_saving_turned_off_is_said_quietly_and_the_page_trains(monkeypatch):
    monkeypatch.setenv("RNN_EXPLORER_DATA", "off")
    runs._open.clear()
    try:
        at = _open(steps="20000")
        _train(at)
        assert "not saved on this server" in " ".join(i.value for i in at.info)
        assert not at.warning and "run" not in at.query_params
        assert at.session_state["trainer"].step > 0
        linked = _open(run="B" * 24)
        assert "cannot be opened" in _notes(linked)
    finally:
        runs._open.clear()


def test_a_run_brought_back_by_its_link_trains_on_bit_for_bit(store_dir):
    """Saved at Pause, opened in a new session, resumed to the end of its budget: the same
    losses and weights as one uninterrupted run of the same length (torch's own loop is the
    Trainer's; tests/test_checkpoint.py checks every optimiser and cell)."""
    from explorer.training import Trainer

    at = _open(steps="60")
    at.button(key="train_start").click().run()
    at.run()
    at.button(key="train_pause").click().run()
    first = at.session_state["trainer"]
    assert 0 < first.step < 60
    again = _open(token=at.session_state[runs.TOKEN_KEY], run=at.query_params["run"])
    again.button(key="train_resume").click().run()
    for _ in range(20):
        if again.session_state["trainer"].status == "done":
            break
        again.run()
    resumed = again.session_state["trainer"]
    assert resumed.status == "done" and resumed.step == 60
    config, train, _ = again.session_state["trainer_signature"]
    from explorer import build_from_config

    whole = Trainer(build_from_config(config), resumed.task, train)
    whole.run()
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in whole.history]
    for (name, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name


def test_reset_leaves_the_saved_run_and_the_next_start_saves_a_new_one(store_dir):
    at = _open(steps="20000")
    at.button(key="train_start").click().run()
    at.session_state[runs._state("train")].saver.every = 1e9  # no timed save from here on
    at.run()
    at.run()
    first = at.query_params["run"]
    old = at.session_state["trainer"]
    at.button(key="train_reset").click().run()  # while it trains: its last steps are saved
    step = old.step
    assert "run" not in at.query_params and at.session_state["trainer"].step == 0
    _train(at)
    second = at.query_params["run"]
    assert second != first
    store = open_store(store_dir)
    assert store.info(first).step == step > 0  # the old run is kept, as it ended
    assert store.info(second).step > 0
