"""Where training runs outlive the browser tab: a run store on SQLite.

A run is what :func:`explorer.checkpoint.checkpoint` returns, ``(meta, tensors)``, saved under an
unguessable id with the hash of its owner's secret token::

    store = open_store()                     # $RNN_EXPLORER_DATA/runs.sqlite3
    owner = new_owner_token()                # a secret kept by the browser session
    run_id = store.create("train", owner, meta, tensors)
    store.save_checkpoint(run_id, owner, meta, tensors)   # every few seconds, at pause, at stop
    run = store.load(run_id)                 # anyone with the id: run.meta, run.tensors
    run.owned_by(owner)                      # True only for the session holding the token

**Where.** One SQLite file, ``runs.sqlite3``, in the folder named by the environment variable
``RNN_EXPLORER_DATA`` (``off`` turns persistence off); by default the XDG data folder,
``$XDG_DATA_HOME/rnn-explorer`` or ``~/.local/share/rnn-explorer``, rather than a folder of
the repository: a deployment replaces its code without touching its data, the store can be a
mounted volume, and a checkout (and the tests) never carries anyone's runs.

**Consistency.** WAL journal; every checkpoint is one ``BEGIN IMMEDIATE`` transaction that
checks the owner and the limits and writes the row, so a crash (kill -9 included) leaves each
run at its last committed checkpoint and never half-written. ``synchronous=NORMAL``: in WAL
mode that survives a killed process; a power cut may lose the last checkpoints but not the
file's consistency (``Limits.synchronous="FULL"`` fsyncs every checkpoint instead).

**Rows.** ``runs``: id, kind, owner_hash (SHA-256 of the owner token, never the token), created,
updated, expires, status, step, ``config`` (JSON: model, training settings, task),
``metrics`` (JSON: the rest of the checkpoint's meta: counters, latest scores, messages),
``history`` (safetensors: the columns that grow with the run), ``state`` (safetensors: weights,
optimiser state, generator state), bytes, parent (the run a fork came from). ``tombstones``:
the ids of expired or deleted runs, so that a link to one says so. The schema is created and
migrated by :data:`MIGRATIONS` (``PRAGMA user_version``).

**Limits** (:class:`Limits`): runs expire a set time after their last checkpoint (default 7
days); the store has a total size cap; each owner has a quota of runs and of bytes. Each
refusal raises its own :class:`RunStoreError` subclass whose message a page can show as is.
Faults (a corrupt, read-only or locked file, a full disk) raise a :class:`StoreUnavailable`
subclass: the page says so and keeps training in memory.

**Replicas.** Pages talk to the :class:`RunStore` protocol, not to SQLite. Several replicas
behind a load balancer need a store they all reach: implement the same protocol on a database
server, e.g. PostgreSQL with psycopg (``runs`` as here with ``BYTEA`` blobs and ``JSONB``
columns, ``SELECT … FOR UPDATE`` in place of ``BEGIN IMMEDIATE``, migrations keyed on a
``schema_version`` table), and return it from :func:`open_store` when
``RNN_EXPLORER_DATA`` is a ``postgresql://`` URL. A SQLite file on a network file system is
not a substitute (its locking is unreliable there).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from .checkpoint import HISTORY, KINDS, checkpoint

DATA_ENV = "RNN_EXPLORER_DATA"
DB_FILE = "runs.sqlite3"
OFF = ("off", "none", "0", "false")
RUN_ID_BYTES = 18  # 144 random bits; secrets.token_urlsafe gives 24 characters
RUN_ID_RE = re.compile(r"[A-Za-z0-9_-]{22,86}")
DAY = 24 * 3600.0
JOURNAL_LIMIT = 64 * 1024**2  # bytes the WAL file keeps after a checkpoint of the WAL

MIGRATIONS: list[str] = [
    # 1: runs and tombstones
    """
    CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        owner_hash BLOB NOT NULL,
        created REAL NOT NULL,
        updated REAL NOT NULL,
        expires REAL NOT NULL,
        status TEXT NOT NULL,
        step INTEGER NOT NULL,
        config TEXT NOT NULL,
        metrics TEXT NOT NULL,
        history BLOB NOT NULL,
        state BLOB NOT NULL,
        bytes INTEGER NOT NULL,
        parent TEXT
    );
    CREATE INDEX runs_owner ON runs (owner_hash);
    CREATE INDEX runs_expires ON runs (expires);
    CREATE TABLE tombstones (
        id TEXT PRIMARY KEY,
        created REAL NOT NULL,
        ended REAL NOT NULL,
        reason TEXT NOT NULL
    );
    """,
]


# --------------------------------------------------------------------------- errors


class RunStoreError(Exception):
    """Anything the run store refuses or cannot do; ``str(err)`` is a message for the page."""


class BadRunId(RunStoreError):
    """The ``run=`` value is not a run id at all (wrong length or characters)."""


class RunNotFound(RunStoreError):
    """No run has this id (never had one, or it was deleted)."""


class RunExpired(RunStoreError):
    """The run existed but passed its expiry and was removed."""


class NotOwner(RunStoreError):
    """Only the session that started a run may change it."""


class LimitReached(RunStoreError):
    """A limit of :class:`Limits` refuses the write; the run goes on in memory."""


class RunQuotaExceeded(LimitReached):
    pass


class ByteQuotaExceeded(LimitReached):
    pass


class StoreFull(LimitReached):
    pass


class StoreUnavailable(RunStoreError):
    """The store cannot be used right now (a fault); the run goes on in memory."""


class StoreCorrupt(StoreUnavailable):
    pass


class StoreReadOnly(StoreUnavailable):
    pass


class StoreLocked(StoreUnavailable):
    pass


class DiskFull(StoreUnavailable):
    pass


class RunCorrupt(RunStoreError):
    """One run's stored data cannot be read back."""


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Limits:
    """What the store accepts. Defaults suit one classroom server: 30 students with a few runs
    each of the default size (a few hundred kB) use a few MB; the caps stop one session (or a
    4-layer, 1024-unit model, ~1 GB with its Adam state) from filling the disk.

    Attributes:
        ttl: seconds a run is kept after its last checkpoint (7 days).
        max_total_bytes: all runs' stored bytes together (2 GiB).
        max_runs_per_owner: runs one owner token may keep (20).
        max_bytes_per_owner: stored bytes one owner may keep (256 MiB).
        max_file_bytes: a hard cap on the database file (SQLite's ``max_page_count``), None
            for none; hitting it raises :class:`DiskFull`, as a full disk would.
        busy_timeout: seconds to wait for another writer's lock before :class:`StoreLocked`.
        synchronous: SQLite's ``synchronous`` pragma, ``"NORMAL"`` or ``"FULL"``.
        tombstone_ttl: seconds an expired run's id still answers "expired" (90 days).
    """

    ttl: float = 7 * DAY
    max_total_bytes: int = 2 * 1024**3
    max_runs_per_owner: int = 20
    max_bytes_per_owner: int = 256 * 1024**2
    max_file_bytes: int | None = None
    busy_timeout: float = 2.0
    synchronous: str = "NORMAL"
    tombstone_ttl: float = 90 * DAY


@dataclass(frozen=True)
class RunInfo:
    """A run's row without its data. Times are Unix seconds; ``bytes`` its stored size."""

    id: str
    kind: str
    status: str
    step: int
    created: float
    updated: float
    expires: float
    bytes: int
    parent: str | None


@dataclass(frozen=True)
class StoredRun:
    """A run as loaded: its row, ``meta`` and ``tensors`` as :func:`explorer.checkpoint.restore`
    takes them (with ``history_only``, only the history tensors)."""

    info: RunInfo
    meta: dict
    tensors: dict[str, torch.Tensor]
    owner_hash: bytes = field(repr=False)

    def owned_by(self, owner_token: str | None) -> bool:
        """Whether ``owner_token`` is this run's owner (constant-time comparison)."""
        return bool(owner_token) and hmac.compare_digest(owner_hash(owner_token), self.owner_hash)


@dataclass(frozen=True)
class Usage:
    """Stored runs and bytes, in all and for one owner, beside the limits."""

    runs: int
    bytes: int
    owner_runs: int
    owner_bytes: int
    limits: Limits


def new_run_id() -> str:
    """A fresh run id: 144 random bits, URL-safe (``secrets.token_urlsafe``)."""
    return secrets.token_urlsafe(RUN_ID_BYTES)


def new_owner_token() -> str:
    """A fresh owner secret: 256 random bits. Keep it in the session and a cookie, never in a
    link."""
    return secrets.token_urlsafe(32)


def owner_hash(owner_token: str) -> bytes:
    """SHA-256 of the token: what the store keeps. The tokens are 256 random bits, so no salt
    or slow hash is needed: the hash cannot be reversed or guessed."""
    if not isinstance(owner_token, str) or len(owner_token) < 16:
        raise NotOwner("This session has no valid owner token, so it cannot change runs.")
    return hashlib.sha256(owner_token.encode()).digest()


def check_run_id(run_id) -> str:
    """``run_id`` if it has the form of a run id, else :class:`BadRunId`."""
    if not isinstance(run_id, str) or not RUN_ID_RE.fullmatch(run_id):
        shown = repr(run_id)[:40]
        raise BadRunId(
            f"The link's run id {shown} is not a valid run id (expected 22 or more "
            f"letters, digits, '-' or '_'). The page opens with its defaults."
        )
    return run_id


def _days(seconds: float) -> str:
    d = seconds / DAY
    return f"{d:g} day" + ("" if d == 1 else "s")


# --------------------------------------------------------------------------- the interface


class RunStore(Protocol):
    """What pages use. :class:`SQLiteRunStore` is the implementation; a shared database server
    for replicas would be another (see the module docstring)."""

    limits: Limits

    def create(
        self,
        kind: str,
        owner_token: str,
        meta: dict,
        tensors: Mapping[str, torch.Tensor],
        parent: str | None = None,
    ) -> str: ...

    def save_checkpoint(
        self, run_id: str, owner_token: str, meta: dict, tensors: Mapping[str, torch.Tensor]
    ) -> RunInfo: ...

    def load(self, run_id: str, history_only: bool = False) -> StoredRun: ...

    def info(self, run_id: str) -> RunInfo: ...

    def fork(self, run_id: str, owner_token: str) -> str: ...

    def list_for_owner(self, owner_token: str) -> list[RunInfo]: ...

    def delete(self, run_id: str, owner_token: str) -> None: ...

    def expire(self, now: float | None = None) -> int: ...

    def usage(self, owner_token: str | None = None) -> Usage: ...


def data_dir() -> Path | None:
    """The folder of the store: ``$RNN_EXPLORER_DATA``, else ``$XDG_DATA_HOME/rnn-explorer``,
    else ``~/.local/share/rnn-explorer``; None when ``RNN_EXPLORER_DATA`` is ``off``."""
    value = os.environ.get(DATA_ENV, "").strip()
    if value.lower() in OFF and value:
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "rnn-explorer"


def open_store(
    folder: str | os.PathLike | None = None, limits: Limits = Limits(), clock=time.time
) -> SQLiteRunStore | None:
    """The store in ``folder`` (default :func:`data_dir`), created and migrated if needed; None
    when persistence is off.

    Raises:
        StoreUnavailable: the folder or file cannot be created, read or written, or the file
            is not a run store (see its subclasses).
    """
    folder = data_dir() if folder is None else Path(folder)
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StoreUnavailable(
            f"The run store's folder {folder} cannot be created "
            f"({err.strerror}). Runs are kept in this tab only."
        ) from None
    return SQLiteRunStore(folder / DB_FILE, limits, clock)


# --------------------------------------------------------------------------- SQLite

_FAULTS = {
    "SQLITE_BUSY": (StoreLocked, "is locked by another process (busy for more than {t:g} s)"),
    "SQLITE_LOCKED": (StoreLocked, "is locked by another process (busy for more than {t:g} s)"),
    "SQLITE_READONLY": (StoreReadOnly, "is read-only"),
    "SQLITE_FULL": (DiskFull, "is full (no space left on the disk or past its size cap)"),
    "SQLITE_NOTADB": (StoreCorrupt, "is not a database (damaged or another kind of file)"),
    "SQLITE_CORRUPT": (StoreCorrupt, "is damaged"),
    "SQLITE_CANTOPEN": (StoreUnavailable, "cannot be opened"),
    "SQLITE_IOERR": (StoreUnavailable, "cannot be read or written (an I/O error)"),
    "SQLITE_PERM": (StoreReadOnly, "may not be written (permission denied)"),
}


def _fault(err: sqlite3.Error, path: Path, timeout: float) -> StoreUnavailable:
    """The :class:`StoreUnavailable` subclass for a SQLite error, with a message for the page."""
    name = getattr(err, "sqlite_errorname", "") or ""
    text = str(err).lower()
    for key, (cls, what) in _FAULTS.items():  # noqa: B007 - the match is used after the loop
        if name.startswith(key):
            break
    else:
        if "locked" in text or "busy" in text:
            cls, what = _FAULTS["SQLITE_BUSY"]
        elif "readonly" in text or "read-only" in text:
            cls, what = _FAULTS["SQLITE_READONLY"]
        elif "full" in text:
            cls, what = _FAULTS["SQLITE_FULL"]
        elif "not a database" in text or "malformed" in text:
            cls, what = _FAULTS["SQLITE_NOTADB"]
        else:
            cls, what = StoreUnavailable, "failed ({e})"
    what = what.format(t=timeout, e=err)
    return cls(
        f"The run store {path} {what}: runs are not being saved, and training goes on "
        f"in this tab only."
    )


class SQLiteRunStore:
    """:class:`RunStore` on one SQLite file (see the module docstring). Safe to share between
    threads and processes: every call opens its own short-lived connection.

    Args:
        path: the database file (created with its schema if missing).
        limits: see :class:`Limits`.
        clock: Unix seconds now (a test may pass a fake one).
        read_only: open the file read-only (``mode=ro``): loads work, writes raise
            :class:`StoreReadOnly`.

    Raises:
        StoreUnavailable: as :func:`open_store`; :class:`StoreCorrupt` for a file that is not
            a run store or was written by a newer version of the app.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        limits: Limits = Limits(),
        clock=time.time,
        read_only: bool = False,
    ):
        self.path, self.limits, self.clock, self.read_only = Path(path), limits, clock, read_only
        if limits.synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be 'NORMAL' or 'FULL', got {limits.synchronous!r}")
        self._migrate()

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def _connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode; with ``write`` inside one ``BEGIN IMMEDIATE``
        transaction, committed at the end or rolled back on any error. SQLite errors come out
        as :class:`StoreUnavailable` subclasses."""
        conn = None
        try:
            if self.read_only:
                conn = sqlite3.connect(
                    self.path.resolve().as_uri() + "?mode=ro",
                    uri=True,
                    timeout=self.limits.busy_timeout,
                    isolation_level=None,
                )
            else:
                conn = sqlite3.connect(
                    self.path, timeout=self.limits.busy_timeout, isolation_level=None
                )
            conn.execute(f"PRAGMA synchronous={self.limits.synchronous}")
            conn.execute(f"PRAGMA journal_size_limit={JOURNAL_LIMIT}")
            if self.limits.max_file_bytes is not None:
                size = conn.execute("PRAGMA page_size").fetchone()[0]
                conn.execute(f"PRAGMA max_page_count={max(1, self.limits.max_file_bytes // size)}")
            if write:
                conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if write and conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            if write:
                conn.execute("COMMIT")
        except sqlite3.Error as err:
            if conn is not None and conn.in_transaction:
                try:
                    conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            raise _fault(err, self.path, self.limits.busy_timeout) from None
        finally:
            if conn is not None:
                conn.close()

    def _migrate(self) -> None:
        """Create the schema, or bring an older one up to :data:`MIGRATIONS`."""
        with self._connect() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise StoreCorrupt(
                    f"The run store {self.path} was written by a newer version "
                    f"of the app (schema {version}, this one knows "
                    f"{len(MIGRATIONS)}): runs are not being saved."
                )
            if (
                version
                and not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone()
            ):
                raise StoreCorrupt(
                    f"The run store {self.path} is a database of something "
                    f"else (no runs table): runs are not being saved."
                )
            if version == len(MIGRATIONS):
                return
            if self.read_only:
                raise StoreReadOnly(
                    f"The run store {self.path} is read-only and needs its "
                    f"schema created or updated."
                )
            if not version and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise StoreCorrupt(
                    f"{self.path} is a database of something else, not a run "
                    f"store: runs are not being saved."
                )
            if not version:  # before the first table: freed pages can be given back
                conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
            conn.execute("PRAGMA journal_mode=WAL")  # persistent: a property of the file
            conn.execute("BEGIN IMMEDIATE")
            version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process?
            for number in range(version, len(MIGRATIONS)):
                for statement in _statements(MIGRATIONS[number]):  # (executescript commits)
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version={len(MIGRATIONS)}")
            conn.execute("COMMIT")

    _INFO = "id, kind, status, step, created, updated, expires, bytes, parent"

    def _gone(self, conn: sqlite3.Connection, run_id: str) -> RunStoreError:
        """The error for an id with no live row: expired (with when), deleted, or unknown."""
        grave = conn.execute(
            "SELECT ended, reason FROM tombstones WHERE id = ?", (run_id,)
        ).fetchone()
        if grave is None:
            return RunNotFound(
                f"No run has the id {run_id} (it may have been mistyped). The "
                f"page opens with its defaults."
            )
        ended, reason = grave
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(ended))
        if reason == "expired":
            return RunExpired(
                f"Run {run_id} expired on {when}: runs are kept for "
                f"{_days(self.limits.ttl)} after their last change. The page "
                f"opens with its defaults."
            )
        return RunNotFound(
            f"Run {run_id} was deleted by its owner on {when}. The page opens with its defaults."
        )

    def _live(self, conn: sqlite3.Connection, run_id: str, columns: str):
        """The run's row (``columns``), or the error saying why there is none; a row past its
        expiry counts as expired (the next :meth:`expire` removes it)."""
        check_run_id(run_id)
        row = conn.execute(
            f"SELECT expires, {columns} FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        if row is None:
            raise self._gone(conn, run_id)
        if row[0] <= self.clock():
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(row[0]))
            raise RunExpired(
                f"Run {run_id} expired on {when}: runs are kept for "
                f"{_days(self.limits.ttl)} after their last change. The page opens "
                f"with its defaults."
            )
        return row[1:]

    def _sweep(self, conn: sqlite3.Connection, now: float) -> int:
        """Inside a write transaction: expired runs become tombstones; old tombstones go."""
        conn.execute(
            "INSERT OR REPLACE INTO tombstones (id, created, ended, reason) "
            "SELECT id, created, expires, 'expired' FROM runs WHERE expires <= ?",
            (now,),
        )
        gone = conn.execute("DELETE FROM runs WHERE expires <= ?", (now,)).rowcount
        conn.execute("DELETE FROM tombstones WHERE ended <= ?", (now - self.limits.tombstone_ttl,))
        return gone

    def _check_limits(
        self, conn, owner: bytes, new_bytes: int, old_bytes: int, new_run: bool
    ) -> None:
        lim = self.limits
        runs, used = conn.execute(
            "SELECT count(*), coalesce(sum(bytes), 0) FROM runs WHERE owner_hash = ?", (owner,)
        ).fetchone()
        if new_run and runs + 1 > lim.max_runs_per_owner:
            raise RunQuotaExceeded(
                f"This session already keeps {runs} runs, the most allowed "
                f"({lim.max_runs_per_owner}): delete one to save another. This run trains on "
                f"in this tab but is not saved."
            )
        if used - old_bytes + new_bytes > lim.max_bytes_per_owner:
            raise ByteQuotaExceeded(
                f"Saving this run ({_mb(new_bytes)}) would bring this session's runs to "
                f"{_mb(used - old_bytes + new_bytes)}, above its quota of "
                f"{_mb(lim.max_bytes_per_owner)}: delete a run or train a smaller model. It "
                f"trains on in this tab but is not saved."
            )
        total = conn.execute("SELECT coalesce(sum(bytes), 0) FROM runs").fetchone()[0]
        if total - old_bytes + new_bytes > lim.max_total_bytes:
            raise StoreFull(
                f"The run store is full ({_mb(total)} of {_mb(lim.max_total_bytes)}): this "
                f"run ({_mb(new_bytes)}) trains on in this tab but is not saved."
            )

    @staticmethod
    def _encode(meta: dict, tensors: Mapping[str, torch.Tensor]) -> tuple:
        """``(kind, status, step, config JSON, metrics JSON, history blob, state blob)``."""
        try:
            kind, status, step = meta["kind"], meta["status"], int(meta["step"])
            config = json.dumps(meta["config"], allow_nan=False, separators=(",", ":"))
            metrics = json.dumps(
                {k: v for k, v in meta.items() if k != "config"},
                allow_nan=False,
                separators=(",", ":"),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ValueError(
                f"a run's meta needs kind, status, step and config, all JSON "
                f"(strict: no NaN): {err}"
            ) from None
        if kind not in KINDS:
            raise ValueError(f"a run's kind must be one of {KINDS}, got {kind!r}")
        history = {k: v for k, v in tensors.items() if k.startswith(HISTORY)}
        state = {k: v for k, v in tensors.items() if not k.startswith(HISTORY)}
        return (kind, status, step, config, metrics, st_save(history), st_save(state))

    # ------------------------------------------------------------------ the interface
    def create(
        self,
        kind: str,
        owner_token: str,
        meta: dict,
        tensors: Mapping[str, torch.Tensor],
        parent: str | None = None,
    ) -> str:
        """Store a new run with its first checkpoint; returns its id.

        Raises:
            RunQuotaExceeded, ByteQuotaExceeded, StoreFull: a limit refuses it.
            StoreUnavailable: a fault (see the subclasses).
            ValueError: ``meta`` is not a checkpoint's (kind, status, step, config; JSON).
        """
        owner = owner_hash(owner_token)
        if meta.get("kind") != kind:
            raise ValueError(f"the checkpoint is of a {meta.get('kind')!r} run, not {kind!r}")
        row = self._encode(meta, tensors)
        size = sum(len(x) for x in row[3:])
        run_id = new_run_id()
        with self._connect(write=True) as conn:
            now = self.clock()
            self._sweep(conn, now)
            self._check_limits(conn, owner, size, 0, new_run=True)
            conn.execute(
                "INSERT INTO runs (id, kind, status, step, config, metrics, history, "
                "state, owner_hash, created, updated, expires, bytes, parent) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, *row, owner, now, now, now + self.limits.ttl, size, parent),
            )
        return run_id

    def save_checkpoint(
        self, run_id: str, owner_token: str, meta: dict, tensors: Mapping[str, torch.Tensor]
    ) -> RunInfo:
        """Replace a run's checkpoint with a newer one, in one transaction, and push its expiry
        to ``ttl`` from now.

        Raises:
            BadRunId, RunNotFound, RunExpired: no live run has this id.
            NotOwner: ``owner_token`` is not the run's owner's.
            ByteQuotaExceeded, StoreFull: the new checkpoint does not fit.
            StoreUnavailable: a fault.
        """
        owner = owner_hash(owner_token)
        row = self._encode(meta, tensors)
        size = sum(len(x) for x in row[3:])
        with self._connect(write=True) as conn:
            kind, stored_owner, old = self._live(conn, run_id, "kind, owner_hash, bytes")
            if not hmac.compare_digest(stored_owner, owner):
                raise NotOwner(
                    f"Run {run_id} belongs to another session: this one can watch "
                    f"it or fork it, not change it."
                )
            if row[0] != kind:
                raise ValueError(f"run {run_id} is a {kind} run, not {row[0]}")
            self._check_limits(conn, owner, size, old, new_run=False)
            now = self.clock()
            conn.execute(
                "UPDATE runs SET status = ?, step = ?, config = ?, metrics = ?, "
                "history = ?, state = ?, updated = ?, expires = ?, bytes = ? "
                "WHERE id = ?",
                (*row[1:], now, now + self.limits.ttl, size, run_id),
            )
            info = conn.execute(f"SELECT {self._INFO} FROM runs WHERE id = ?", (run_id,)).fetchone()
        return RunInfo(*info)

    def load(self, run_id: str, history_only: bool = False) -> StoredRun:
        """A run's latest checkpoint; anyone with the id may load it (a read-only view).
        ``history_only`` leaves out the weights and optimiser state (a curve, faster).

        Raises:
            BadRunId, RunNotFound, RunExpired: no live run has this id.
            RunCorrupt: its stored data cannot be read.
            StoreUnavailable: a fault.
        """
        blobs = "history" if history_only else "history, state"
        with self._connect() as conn:
            row = self._live(conn, run_id, f"{self._INFO}, owner_hash, config, metrics, {blobs}")
        info, (owner, config, metrics, *data) = RunInfo(*row[:9]), row[9:]
        try:
            meta = json.loads(metrics) | {"config": json.loads(config)}
            tensors: dict[str, torch.Tensor] = {}
            for blob in data:
                tensors.update(st_load(bytes(blob)))
        except (ValueError, SafetensorError, OverflowError) as err:
            raise RunCorrupt(
                f"Run {run_id}'s stored data cannot be read ({err}); it cannot be brought back."
            ) from None
        return StoredRun(info, meta, tensors, owner)

    def info(self, run_id: str) -> RunInfo:
        """A run's row without its data (see :meth:`load` for the errors)."""
        with self._connect() as conn:
            return RunInfo(*self._live(conn, run_id, self._INFO))

    def fork(self, run_id: str, owner_token: str) -> str:
        """A copy of a run owned by ``owner_token`` ("continue as my own copy"); returns the new
        id. The copy starts paused if the original was running.

        Raises:
            as :meth:`load` and :meth:`create`.
        """
        owner = owner_hash(owner_token)
        new_id = new_run_id()
        with self._connect(write=True) as conn:
            (size,) = self._live(conn, run_id, "bytes")
            now = self.clock()
            self._sweep(conn, now)
            self._check_limits(conn, owner, size, 0, new_run=True)
            conn.execute(
                "INSERT INTO runs (id, kind, status, step, config, metrics, history, "
                "state, owner_hash, created, updated, expires, bytes, parent) "
                "SELECT ?, kind, CASE status WHEN 'running' THEN 'paused' "
                "ELSE status END, step, config, metrics, history, state, ?, ?, ?, ?, "
                "bytes, id FROM runs WHERE id = ?",
                (new_id, owner, now, now, now + self.limits.ttl, run_id),
            )
        return new_id

    def list_for_owner(self, owner_token: str) -> list[RunInfo]:
        """The owner's live runs, the latest change first."""
        owner = owner_hash(owner_token)
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {self._INFO} FROM runs WHERE owner_hash = ? AND "
                f"expires > ? ORDER BY updated DESC",
                (owner, self.clock()),
            ).fetchall()
        return [RunInfo(*r) for r in rows]

    def delete(self, run_id: str, owner_token: str) -> None:
        """Remove a run (its id then answers "deleted").

        Raises:
            BadRunId, RunNotFound, RunExpired, NotOwner, StoreUnavailable.
        """
        owner = owner_hash(owner_token)
        with self._connect(write=True) as conn:
            stored_owner, created = self._live(conn, run_id, "owner_hash, created")
            if not hmac.compare_digest(stored_owner, owner):
                raise NotOwner(
                    f"Run {run_id} belongs to another session: only its owner can delete it."
                )
            conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            conn.execute(
                "INSERT OR REPLACE INTO tombstones VALUES (?, ?, ?, 'deleted')",
                (run_id, created, self.clock()),
            )

    def expire(self, now: float | None = None) -> int:
        """Remove the runs past their expiry (leaving tombstones) and give the freed pages back
        to the disk; returns how many runs went."""
        with self._connect(write=True) as conn:
            gone = self._sweep(conn, self.clock() if now is None else now)
        if gone:
            with self._connect() as conn:
                conn.executescript("PRAGMA incremental_vacuum;")  # (execute frees one page)
        return gone

    def usage(self, owner_token: str | None = None) -> Usage:
        """Live runs and stored bytes, in all and for ``owner_token``."""
        with self._connect() as conn:
            now = self.clock()
            runs, total = conn.execute(
                "SELECT count(*), coalesce(sum(bytes), 0) FROM runs WHERE expires > ?", (now,)
            ).fetchone()
            mine = (0, 0)
            if owner_token is not None:
                mine = conn.execute(
                    "SELECT count(*), coalesce(sum(bytes), 0) FROM runs WHERE "
                    "owner_hash = ? AND expires > ?",
                    (owner_hash(owner_token), now),
                ).fetchone()
        return Usage(runs, total, mine[0], mine[1], self.limits)


# --------------------------------------------------------------------------- saving as it trains


class RunSaver:
    """When and where a page saves its run: at most every ``every`` seconds while the step
    count moves, and at once when the status changes (start, pause, stop, done, diverged). One
    per run, kept in the session with the run (it holds the run's id, not the run).

    Args:
        store: a :class:`RunStore`, or None (persistence off: nothing is saved).
        owner_token: the session's token (:func:`new_owner_token`).
        run_id: the id of a run this session owns already (after a reload), else None: the
            first save creates the run.
        every: seconds between two saves of a running run (5: a reload loses at most ~5 s of
            training; a save of the default run costs a few ms, see benchmarks/runstore.py).
        clock: seconds, monotonic (a test may pass a fake one).

    Attributes:
        run_id: the run's id once saved (show it in the URL); a new one if the old run expired.
        error: the last refusal or fault as a message for the page, None after a good save.
        saved_step, saved_status: what the last good save held.
    """

    def __init__(
        self,
        store: RunStore | None,
        owner_token: str,
        run_id: str | None = None,
        every: float = 5.0,
        clock=time.monotonic,
    ):
        self.store, self.owner_token, self.run_id = store, owner_token, run_id
        self.every, self.clock = every, clock
        self.error: str | None = None
        self.saved_step: int | None = None
        self.saved_status: str | None = None
        self._last = -math.inf

    def due(self, run) -> bool:
        """Whether :meth:`save` would write now. A run that has not started (``"ready"``) is
        not saved until it starts: a page visit makes no run."""
        if self.run_id is None:
            return run.status != "ready"
        if run.status != self.saved_status:
            return True
        return run.step != self.saved_step and self.clock() - self._last >= self.every

    def save(
        self, run, *, task_key: str, task_settings: Mapping, model=None, force: bool = False
    ) -> bool:
        """Save ``run`` (a Trainer or a Comparison, between two slices) if :meth:`due` or
        ``force``; returns whether it was written. A limit or a fault sets :attr:`error` and
        returns False: the run goes on in memory, and the next due save tries again.

        Raises:
            NotOwner: the run belongs to another session (fork it first).
            explorer.checkpoint.CheckpointError: the run cannot be checkpointed.
        """
        if self.store is None or not (force or self.due(run)):
            return False
        meta, tensors = checkpoint(run, task_key=task_key, task_settings=task_settings, model=model)
        self._last = self.clock()  # a refused or failed save also waits its turn
        try:
            if self.run_id is not None:
                try:
                    self.store.save_checkpoint(self.run_id, self.owner_token, meta, tensors)
                except (RunExpired, RunNotFound):
                    self.run_id = None  # removed while the tab stayed open: save it anew
            if self.run_id is None:
                self.run_id = self.store.create(meta["kind"], self.owner_token, meta, tensors)
        except (LimitReached, StoreUnavailable) as err:
            self.error = str(err)
            return False
        self.error = None
        self.saved_step, self.saved_status = run.step, run.status
        return True


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _mb(n: int) -> str:
    return f"{n / 1024**2:.1f} MB" if n >= 100 * 1024 else f"{math.ceil(n / 1024)} kB"
