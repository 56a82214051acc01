"""The run store: ids, ownership, expiry, limits and faults, each with its own error; a process
killed in the middle of a write leaves the last committed checkpoint."""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from explorer import runstore
from explorer.checkpoint import HISTORY, restore
from explorer.config import CellConfig
from explorer.models import build_from_config
from explorer.runstore import (
    DAY,
    MIGRATIONS,
    BadRunId,
    ByteQuotaExceeded,
    DiskFull,
    Limits,
    NotOwner,
    RunCorrupt,
    RunExpired,
    RunNotFound,
    RunQuotaExceeded,
    SQLiteRunStore,
    StoreCorrupt,
    StoreFull,
    StoreLocked,
    StoreReadOnly,
    StoreUnavailable,
    new_owner_token,
    open_store,
)
from explorer.tasks import build_task
from explorer.training import TrainConfig, Trainer

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    """A settable clock (Unix seconds)."""

    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def _meta(step=0, status="paused", kind="train", pad=0):
    """A small checkpoint-shaped run: ``pad`` float32 numbers of 'weights'."""
    meta = {
        "kind": kind,
        "status": status,
        "step": step,
        "config": {"model": {"x": 1}},
        "note": "hello",
    }
    tensors = {
        "model.w": torch.arange(pad, dtype=torch.float32),
        HISTORY + "train_loss": torch.full((step,), 0.5),
    }
    return meta, tensors


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    return SQLiteRunStore(tmp_path / "runs.sqlite3", Limits(), clock)


def test_round_trip_on_a_new_store_object(tmp_path, store):
    owner = new_owner_token()
    meta, tensors = _meta(step=4, pad=10)
    run_id = store.create("train", owner, meta, tensors)
    again = SQLiteRunStore(tmp_path / "runs.sqlite3")
    run = again.load(run_id)
    assert run.meta == meta
    assert run.tensors.keys() == tensors.keys()
    assert all(torch.equal(run.tensors[k], tensors[k]) for k in tensors)
    assert run.info.step == 4 and run.info.kind == "train" and run.info.status == "paused"
    curve = again.load(run_id, history_only=True)
    assert set(curve.tensors) == {HISTORY + "train_loss"}


def test_ids_are_long_random_and_the_token_is_never_stored(tmp_path, store):
    owner = new_owner_token()
    ids = {store.create("train", owner, *_meta()) for _ in range(5)}
    assert len(ids) == 5
    assert all(len(i) >= 22 for i in ids)  # 22 base64 characters = 132 bits; we use 144
    assert runstore.RUN_ID_BYTES * 8 >= 128
    raw = (tmp_path / "runs.sqlite3").read_bytes() + b"".join(
        p.read_bytes() for p in tmp_path.glob("runs.sqlite3-*")
    )
    assert owner.encode() not in raw  # only its hash


def test_only_the_owner_may_change_a_run(store):
    owner, other = new_owner_token(), new_owner_token()
    run_id = store.create("train", owner, *_meta(step=1))
    run = store.load(run_id)
    assert run.owned_by(owner) and not run.owned_by(other) and not run.owned_by(None)
    with pytest.raises(NotOwner, match="another session"):
        store.save_checkpoint(run_id, other, *_meta(step=2))
    with pytest.raises(NotOwner):
        store.delete(run_id, other)
    with pytest.raises(NotOwner, match="no valid owner token"):
        store.save_checkpoint(run_id, "", *_meta(step=2))
    assert store.load(run_id).info.step == 1  # nothing changed
    store.save_checkpoint(run_id, owner, *_meta(step=2))
    assert store.load(run_id).info.step == 2


@pytest.mark.parametrize(
    "bad",
    ["", "abc", "../../etc/passwd" + "x" * 10, "a" * 200, "x" * 21 + "!", None, 123, "é" * 24],
)
def test_malformed_ids_are_refused(store, bad):
    with pytest.raises(BadRunId, match="not a valid run id"):
        store.load(bad)


def test_unknown_id(store):
    with pytest.raises(RunNotFound, match="No run has the id"):
        store.load(runstore.new_run_id())


def test_expiry_slides_with_checkpoints_and_leaves_a_tombstone(store, clock):
    owner = new_owner_token()
    run_id = store.create("train", owner, *_meta())
    clock.now += 6 * DAY
    store.save_checkpoint(run_id, owner, *_meta(step=1))  # kept 7 days from now
    clock.now += 6 * DAY
    assert store.load(run_id).info.step == 1
    clock.now += 1.01 * DAY
    with pytest.raises(RunExpired, match="7 days"):  # past expiry, not yet swept
        store.load(run_id)
    with pytest.raises(RunExpired):
        store.save_checkpoint(run_id, owner, *_meta(step=2))
    assert store.expire() == 1
    with pytest.raises(RunExpired, match="expired on"):  # the tombstone answers
        store.load(run_id)
    assert store.usage(owner).owner_runs == 0 and store.list_for_owner(owner) == []
    clock.now += 91 * DAY
    store.expire()
    with pytest.raises(RunNotFound):  # tombstones go too, eventually
        store.load(run_id)


def test_deleted_run_says_so(store):
    owner = new_owner_token()
    run_id = store.create("train", owner, *_meta())
    store.delete(run_id, owner)
    with pytest.raises(RunNotFound, match="deleted by its owner"):
        store.load(run_id)


def test_quota_of_runs_per_owner(tmp_path, clock):
    store = SQLiteRunStore(tmp_path / "r.sqlite3", Limits(max_runs_per_owner=2), clock)
    owner = new_owner_token()
    store.create("train", owner, *_meta())
    store.create("train", owner, *_meta())
    with pytest.raises(RunQuotaExceeded, match="already keeps 2 runs"):
        store.create("train", owner, *_meta())
    store.create("train", new_owner_token(), *_meta())  # another session is not affected
    assert store.usage(owner).owner_runs == 2 and store.usage().runs == 3


def test_byte_quota_and_total_cap_refuse_and_keep_the_last_checkpoint(tmp_path, clock):
    limits = Limits(max_bytes_per_owner=50_000, max_total_bytes=80_000)
    store = SQLiteRunStore(tmp_path / "r.sqlite3", limits, clock)
    owner = new_owner_token()
    run_id = store.create("train", owner, *_meta(step=1, pad=1000))  # ~4 kB
    with pytest.raises(ByteQuotaExceeded, match="above its quota"):
        store.save_checkpoint(run_id, owner, *_meta(step=2, pad=20_000))  # 80 kB
    assert store.load(run_id).info.step == 1  # the refused write changed nothing
    store.create("train", new_owner_token(), *_meta(pad=12_000))
    with pytest.raises(StoreFull, match="run store is full"):
        store.create("train", new_owner_token(), *_meta(pad=12_000))
    assert isinstance(StoreFull("x"), runstore.LimitReached)


def test_fork_is_an_independent_copy(store):
    owner, viewer = new_owner_token(), new_owner_token()
    run_id = store.create("train", owner, *_meta(step=3, status="running", pad=5))
    copy_id = store.fork(run_id, viewer)
    copy = store.load(copy_id)
    assert copy_id != run_id and copy.owned_by(viewer) and not copy.owned_by(owner)
    assert copy.info.parent == run_id and copy.info.status == "paused"
    assert torch.equal(copy.tensors[HISTORY + "train_loss"], torch.full((3,), 0.5))
    store.save_checkpoint(copy_id, viewer, *_meta(step=9))
    assert store.load(run_id).info.step == 3  # the original is untouched


def test_schema_is_created_in_wal_mode_and_migrated(tmp_path, monkeypatch):
    path = tmp_path / "runs.sqlite3"
    store = SQLiteRunStore(path)
    run_id = store.create("train", new_owner_token(), *_meta(step=2))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    monkeypatch.setattr(
        runstore, "MIGRATIONS", MIGRATIONS + ["ALTER TABLE runs ADD COLUMN note TEXT"]
    )
    again = SQLiteRunStore(path)
    assert again.load(run_id).info.step == 2  # data kept through the migration
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) + 1
        assert "note" in [r[1] for r in conn.execute("PRAGMA table_info(runs)")]
    monkeypatch.setattr(runstore, "MIGRATIONS", MIGRATIONS)
    with pytest.raises(StoreCorrupt, match="newer version"):
        SQLiteRunStore(path)


def test_data_folder_setting(tmp_path, monkeypatch):
    monkeypatch.setenv(runstore.DATA_ENV, str(tmp_path / "d"))
    store = open_store()
    assert store.path == tmp_path / "d" / "runs.sqlite3" and store.path.exists()
    monkeypatch.setenv(runstore.DATA_ENV, "off")
    assert runstore.data_dir() is None and open_store() is None
    monkeypatch.delenv(runstore.DATA_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert runstore.data_dir() == tmp_path / "xdg" / "rnn-explorer"


# --------------------------------------------------------------------------- faults


def test_corrupt_file(tmp_path):
    path = tmp_path / "runs.sqlite3"
    path.write_bytes(b"this is not a database, just some bytes " * 200)
    with pytest.raises(StoreCorrupt, match="not a database") as err:
        SQLiteRunStore(path)
    assert "training goes on in this tab" in str(err.value)


def test_a_database_of_something_else(tmp_path):
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE songs (title TEXT)")
    with pytest.raises(StoreCorrupt, match="something else"):
        SQLiteRunStore(path)


def test_damaged_pages_inside_the_file(tmp_path):
    path = tmp_path / "runs.sqlite3"
    store = SQLiteRunStore(path)
    run_id = store.create("train", new_owner_token(), *_meta(step=1, pad=50_000))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[4096 : len(data) - 4096] = b"\xff" * (len(data) - 8192)  # every page but the first
    path.write_bytes(bytes(data))
    with pytest.raises(StoreUnavailable, match="damaged|not a database|I/O"):
        SQLiteRunStore(path).load(run_id)


def test_a_run_whose_blob_is_damaged(tmp_path):
    path = tmp_path / "runs.sqlite3"
    store = SQLiteRunStore(path)
    run_id = store.create("train", new_owner_token(), *_meta(step=1, pad=10))
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE runs SET state = x'0011223344' WHERE id = ?", (run_id,))
    with pytest.raises(RunCorrupt, match="cannot be read"):
        store.load(run_id)


def test_read_only_store(tmp_path):
    path = tmp_path / "runs.sqlite3"
    owner = new_owner_token()
    run_id = SQLiteRunStore(path).create("train", owner, *_meta(step=1))
    ro = SQLiteRunStore(path, read_only=True)
    assert ro.load(run_id).info.step == 1  # reading works
    with pytest.raises(StoreReadOnly, match="read-only"):
        ro.save_checkpoint(run_id, owner, *_meta(step=2))


def _make_read_only(path: Path) -> bool:
    """chmod 444, or for root (who writes such files anyway) the immutable flag; False when
    neither can make the file read-only here."""
    if os.geteuid() != 0:
        os.chmod(path, 0o444)
        return True
    return subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0


def test_read_only_file(tmp_path):
    path = tmp_path / "runs.sqlite3"
    owner = new_owner_token()
    run_id = SQLiteRunStore(path).create("train", owner, *_meta(step=1))
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if not _make_read_only(path):
        pytest.skip("cannot make a file read-only here (root, no chattr)")
    try:
        store = SQLiteRunStore(path)
        assert store.load(run_id).info.step == 1
        with pytest.raises(StoreReadOnly, match="read-only"):
            store.save_checkpoint(run_id, owner, *_meta(step=2))
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)])


def test_locked_store(tmp_path):
    path = tmp_path / "runs.sqlite3"
    store = SQLiteRunStore(path, Limits(busy_timeout=0.05))
    owner = new_owner_token()
    run_id = store.create("train", owner, *_meta(step=1))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        with pytest.raises(StoreLocked, match="locked"):
            store.save_checkpoint(run_id, owner, *_meta(step=2))
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.save_checkpoint(run_id, owner, *_meta(step=2))  # works again once released
    assert store.load(run_id).info.step == 2


def test_full_disk(tmp_path):
    path = tmp_path / "runs.sqlite3"
    store = SQLiteRunStore(path, Limits(max_file_bytes=200_000))
    owner = new_owner_token()
    run_id = store.create("train", owner, *_meta(step=1, pad=1000))
    with pytest.raises(DiskFull, match="full"):
        store.save_checkpoint(run_id, owner, *_meta(step=2, pad=100_000))  # 400 kB
    run = store.load(run_id)
    assert run.info.step == 1 and run.tensors["model.w"].numel() == 1000


def test_folder_that_cannot_be_made(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailable, match="cannot be created"):
        open_store(blocker / "sub")


# --------------------------------------------------------------------------- kill -9

WRITER = """
import sys, torch
from explorer.checkpoint import checkpoint
from explorer.config import CellConfig
from explorer.models import build_from_config
from explorer.runstore import SQLiteRunStore
from explorer.tasks import build_task
from explorer.training import TrainConfig, Trainer

path, owner = sys.argv[1], sys.argv[2]
config = CellConfig(hidden_size=8)
task = build_task("sine", n=200, window=12)
tr = Trainer(build_from_config(config), task, TrainConfig(steps=100000, batch_size=4,
                                                          diagnostics=False))
store = SQLiteRunStore(path)
pad = torch.arange(1_000_000, dtype=torch.float32)  # 4 MB per checkpoint, so that most of the time is a write
meta, tensors = checkpoint(tr, task_key="sine", task_settings={"n": 200, "window": 12},
                           model=config)
run_id = store.create("train", owner, meta, tensors | {"pad": pad})
print("id", run_id, flush=True)
while True:
    tr.run(max_steps=1)
    meta, tensors = checkpoint(tr, task_key="sine", task_settings={"n": 200, "window": 12},
                               model=config)
    store.save_checkpoint(run_id, owner, meta, tensors | {"pad": pad + tr.step})
    print("committed", tr.step, flush=True)
"""


@pytest.mark.parametrize("wait", [0.3, 0.7, 1.3])
def test_kill_9_during_writes_leaves_the_last_checkpoint(tmp_path, wait):
    path, owner = tmp_path / "runs.sqlite3", new_owner_token()
    SQLiteRunStore(path)  # schema first
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), owner],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()  # list.extend from an iterator appends line by line as they come
    try:
        start = time.monotonic()
        while time.monotonic() - start < wait or not any(l.startswith("committed") for l in lines):
            assert time.monotonic() - start < 120, "the writer made no checkpoint"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)  # wherever it is: most of its time is a 4 MB write
        proc.wait(10)
        reader.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert lines[0].startswith("id "), lines[:3]
    run_id = lines[0].split()[1]
    committed = [int(l.split()[1]) for l in lines if l.startswith("committed")]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    run = SQLiteRunStore(path).load(run_id)
    # the last commit it reported, or the one after it (committed, killed before printing)
    assert run.info.step in (committed[-1], committed[-1] + 1)
    assert run.meta["step"] == run.info.step
    pad = run.tensors["pad"]  # arange + step: written in the same transaction as the step
    assert pad[0].item() == run.info.step and pad[-1].item() == 999_999 + run.info.step
    restored = restore(run.meta, run.tensors)
    assert restored.step == run.info.step and len(restored.history) == run.info.step
    # and that state is the real one: a fresh run to the same step has the same weights
    config = CellConfig(hidden_size=8)
    fresh = Trainer(
        build_from_config(config),
        build_task("sine", n=200, window=12),
        TrainConfig(steps=100000, batch_size=4, diagnostics=False),
    )
    fresh.run(max_steps=run.info.step)
    for (name, a), b in zip(fresh.model.state_dict().items(), restored.model.state_dict().values()):
        assert torch.equal(a, b), name


# --------------------------------------------------------------------------- RunSaver


def _tiny_trainer():
    config = CellConfig(hidden_size=4)
    task = build_task("sine", n=200, window=12)
    return Trainer(
        build_from_config(config), task, TrainConfig(steps=50, batch_size=4, diagnostics=False)
    ), config


def test_saver_writes_at_a_bounded_rate_and_at_every_status_change(store, clock):
    tick = Clock(0.0)
    owner = new_owner_token()
    tr, config = _tiny_trainer()
    saver = runstore.RunSaver(store, owner, every=5.0, clock=tick)
    kw = dict(task_key="sine", task_settings={"n": 200, "window": 12}, model=config)
    assert not saver.save(tr, **kw) and saver.run_id is None  # not started: no run
    tr.status = "running"
    assert saver.save(tr, **kw) and saver.run_id is not None  # Start: created at once
    tr.run(max_steps=3)
    tick.now = 4.9
    assert not saver.save(tr, **kw)  # too soon
    tick.now = 5.0
    assert saver.save(tr, **kw) and store.info(saver.run_id).step == 3
    tr.run(max_steps=1)
    tr.status = "paused"
    tick.now = 5.1
    assert saver.save(tr, **kw)  # Pause: at once
    assert store.info(saver.run_id).status == "paused" and store.info(saver.run_id).step == 4
    tick.now = 100
    assert not saver.save(tr, **kw)  # nothing new
    assert saver.save(tr, **kw, force=True)
    back = restore(store.load(saver.run_id).meta, store.load(saver.run_id).tensors)
    assert back.step == 4 and back.history == tr.history


def test_saver_reports_limits_and_faults_and_recreates_an_expired_run(tmp_path, clock):
    tick = Clock(0.0)
    owner = new_owner_token()
    store = SQLiteRunStore(tmp_path / "r.sqlite3", Limits(max_bytes_per_owner=1000), clock)
    tr, config = _tiny_trainer()
    tr.status = "running"
    kw = dict(task_key="sine", task_settings={"n": 200, "window": 12}, model=config)
    saver = runstore.RunSaver(store, owner, clock=tick)
    assert not saver.save(tr, **kw) and "quota" in saver.error and saver.run_id is None
    saver = runstore.RunSaver(None, owner, clock=tick)
    assert not saver.save(tr, **kw) and saver.error is None  # persistence off
    store = SQLiteRunStore(tmp_path / "r2.sqlite3", Limits(), clock)
    saver = runstore.RunSaver(store, owner, clock=tick)
    assert saver.save(tr, **kw)
    old = saver.run_id
    clock.now += 8 * DAY  # the tab stayed open for over a week
    tr.status = "paused"
    assert saver.save(tr, **kw) and saver.run_id != old and saver.error is None
    with pytest.raises(RunExpired):
        store.load(old)
    stranger = runstore.RunSaver(store, new_owner_token(), run_id=saver.run_id, clock=tick)
    with pytest.raises(NotOwner):
        stranger.save(tr, **kw)


def test_expired_runs_give_their_space_back(tmp_path, clock):
    path = tmp_path / "runs.sqlite3"
    store = SQLiteRunStore(path, Limits(), clock)
    for _ in range(3):
        store.create("train", new_owner_token(), *_meta(pad=250_000))  # 1 MB each
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        full = conn.execute("PRAGMA page_count").fetchone()[0]
    clock.now += 8 * DAY
    assert store.expire() == 3
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
        assert conn.execute("PRAGMA page_count").fetchone()[0] < full / 10
