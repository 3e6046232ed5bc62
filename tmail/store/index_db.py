"""The index's connections, write transactions and the store-wide writer lock.

:class:`IndexDb` is the floor every job of the store stands on: one SQLite connection per
thread (WAL), ``_tx`` for a write transaction, ``writer_lock`` (``flock``) around every change
of files, and the few helpers several jobs share (``_delete_rows``, ``_advance_stamp``,
:func:`chunks`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Self

from tmail.core.errors import StoreError
from tmail.store import maildir
from tmail.store.diskerrors import index_error
from tmail.store.schema import migrate

INDEX_NAME = "index.sqlite3"
LOCK_NAME = "store.lock"
BATCH = 200  # messages per transaction when (re)indexing: short write locks, little lost on kill

Progress = Callable[[int, str], None]
# An account's name -> its assumed_charsets (see Store.open).
AssumedCharsets = Callable[[str], Sequence[str]]


class IndexDb:
    """The data directory, its SQLite index and its writer lock (see :class:`tmail.store.Store`)."""

    def __init__(
        self, data_dir: Path | str, *, assumed_charsets: AssumedCharsets | None = None
    ) -> None:
        self.data_dir = Path(data_dir)
        # The account's assumed_charsets (mutt's assumed_charset) for the 8-bit text it indexes:
        # an undeclared KOI8-R subject is stored readable, so `tmail list` and search show it.
        self.assumed_charsets: AssumedCharsets = assumed_charsets or _no_assumed_charsets
        self.mail_dir = self.data_dir / "mail"
        self.index_path = self.data_dir / INDEX_NAME
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        try:
            self.mail_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreError(
                f"cannot create the mail directory {self.mail_dir}: {exc.strerror}",
                hint="check the data directory setting and its permissions",
            ) from exc
        self._open_index()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.index_path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed row survives a power cut, so "known" really means on disk.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -16000")
        return conn

    def _open_index(self) -> None:
        """Connect and migrate; a corrupt index is moved aside and rebuilt from the Maildirs."""
        try:
            conn = self._connect()
            migrate(conn)
            conn.execute("SELECT count(*) FROM folders").fetchone()
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                refused = index_error(exc, self.index_path)  # names the cause: EFBIG, ENOSPC..
                raise refused or StoreError(
                    f"cannot open the index {self.index_path}: {exc}"
                ) from exc
            with contextlib.suppress(Exception):
                conn.close()
            self._set_aside_corrupt_index()
            conn = self._connect()
            migrate(conn)
        self._local.conn = conn
        with self._conns_lock:
            self._conns.append(conn)

    def _set_aside_corrupt_index(self) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for suffix in ("", "-wal", "-shm"):
            path = Path(str(self.index_path) + suffix)
            if path.exists():
                os.replace(path, Path(f"{self.index_path}.corrupt-{stamp}{suffix}"))

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection (created on first use in a thread)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this store opened (in any thread)."""
        with self._conns_lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE: waits for other writers up to the timeout)."""
        conn = self.db
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise _db_error(exc, self.index_path) from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise _db_error(exc, self.index_path) from exc
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """The store-wide writer lock (``flock`` on ``store.lock``), for any file rename/write.

        Held by every method here that changes files; take it yourself only to group several
        of them atomically with respect to other processes. Not re-entrant within one thread.
        """
        path = self.data_dir / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _advance_stamp(self, conn: sqlite3.Connection, fid: int, path: Path, before: str) -> None:
        """After our own change: if the folder was in step before it, it is in step after it."""
        conn.execute(
            "UPDATE folders SET stamp = ? WHERE id = ? AND stamp = ?",
            (maildir.dir_stamp(path), fid, before),
        )

    def _delete_rows(
        self, conn: sqlite3.Connection, where: str, params: tuple[Any, ...] = ()
    ) -> None:
        ids = [r[0] for r in conn.execute(f"SELECT id FROM messages WHERE {where}", params)]
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            conn.execute(f"DELETE FROM fts WHERE rowid IN ({marks})", tuple(chunk))
            conn.execute(f"DELETE FROM refs WHERE message IN ({marks})", tuple(chunk))
            conn.execute(f"DELETE FROM messages WHERE id IN ({marks})", tuple(chunk))


def _no_assumed_charsets(account: str) -> tuple[str, ...]:
    return ()


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """``items`` in slices of ``size`` (SQLite limits the parameters of one statement)."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return any(s in text for s in ("not a database", "malformed", "corrupt", "file is encrypted"))


def _db_error(exc: sqlite3.Error, path: Path) -> StoreError:
    text = str(exc)
    refused = index_error(exc, path)  # the real cause: File too large, No space left on device..
    if refused is not None:
        return refused
    if "locked" in text.lower() or "busy" in text.lower():
        return StoreError(
            "the index is busy: another tmail has held it for 30 s",
            hint="wait for the other tmail (a sync?) to finish, then try again",
        )
    return StoreError(f"index error: {text} ({path})")
