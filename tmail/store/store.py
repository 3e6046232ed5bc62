"""The store: Maildir folders on disk joined with a SQLite index. Start at :class:`Store`."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tmail.core.errors import StoreError
from tmail.core.models import Address, Flag, MessageSummary, flags_from_maildir, flags_to_maildir
from tmail.store import maildir
from tmail.store.diskerrors import index_error
from tmail.store.models import (
    MessageRow,
    NewMessage,
    PendingChange,
    SortKey,
    StoredFolder,
    ThreadEntry,
    ThreadInfo,
)
from tmail.store.schema import migrate

INBOX = "INBOX"
INDEX_NAME = "index.sqlite3"
LOCK_NAME = "store.lock"
BODY_CAP = 100_000  # characters of body text indexed per message (bounds index size and memory)
_BATCH = 200  # messages per transaction when (re)indexing: short write locks, little lost on kill

_ROW_COLUMNS = (
    "m.id, f.account, f.name, m.fname, m.flags, m.uid, m.uidl, m.message_id, m.in_reply_to, "
    "m.refs, m.date, m.tz, m.from_json, m.to_json, m.cc_json, m.subject, m.size, "
    "m.has_attachment, m.charset, m.snippet, m.thread_id, m.parse_errors, f.dir"
)
_SORT_SQL: dict[str, str] = {
    "date": "m.date {dir}, m.id {dir}",
    "from": "m.sender {dir}, m.date DESC, m.id DESC",
    "subject": "m.subject COLLATE NOCASE {dir}, m.date DESC, m.id DESC",
    "size": "m.size {dir}, m.id {dir}",
}

Progress = Callable[[int, str], None]
# An account's name -> its assumed_charsets (see Store.open).
AssumedCharsets = Callable[[str], Sequence[str]]


def normalize_folder(name: str) -> str:
    """Folder names as the index keeps them: the inbox is always ``INBOX`` (RFC 3501 5.1)."""
    return INBOX if name.upper() == INBOX else name


class Store:
    """Mail on disk: one Maildir per (account, folder) plus a SQLite index over all of them.

    Layout under ``data_dir``: ``mail/<account>/<folder>/{cur,new,tmp}`` (names made safe by
    :func:`tmail.store.maildir.encode_name`), ``index.sqlite3`` (WAL) and ``store.lock``.

    **Threads and processes.** One ``Store`` may be shared by threads: each thread gets its own
    SQLite connection (WAL, busy timeout 30 s). Every change that renames or writes files runs
    under an exclusive ``flock`` on ``store.lock``, so a TUI and ``tmail sync --watch`` in two
    processes never move the same file at once. Reads never take that lock.

    **Truth.** The Maildir files are the truth. A message is *known* (returned by any lookup)
    only after its file is renamed into ``cur/``/``new/`` *and* its index row is committed; a
    crash in between leaves a file that :meth:`check` indexes at the next start.

    **Local versus server changes.** Methods that change messages take ``record``: ``True``
    (the default, for the user's own actions in the TUI/CLI) also writes a row in the pending
    changes table for the next sync to push; the sync engine passes ``record=False`` when it
    applies what the server said. See :meth:`pending` and :class:`PendingChange`.

    Open with :meth:`Store.open`, which also repairs the index; close with :meth:`close` (or use
    it as a context manager).
    """

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

    @classmethod
    def open(
        cls,
        data_dir: Path | str,
        *,
        check: bool = True,
        assumed_charsets: AssumedCharsets | None = None,
    ) -> Store:
        """Open (creating if needed) the store in ``data_dir`` and bring the index in step.

        With ``check`` (the default) a missing or corrupt index is rebuilt and folders changed
        by other tools since the last run are rescanned (cheap when nothing changed: one
        ``stat`` per folder). See :meth:`check`.

        ``assumed_charsets(account)`` gives an account's charsets to try first for 8-bit text
        that declares none (the config's ``assumed_charsets``); it is called only when a message
        of that account is indexed. Messages indexed before a change of that setting keep their
        old text until ``tmail reindex``.
        """
        store = cls(data_dir, assumed_charsets=assumed_charsets)
        if check:
            store.check()
        return store

    def _assumed(self, account: str) -> tuple[str, ...]:
        return tuple(self.assumed_charsets(account))

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ connections

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

    # ------------------------------------------------------------------ folders

    def folder_path(self, account: str, folder: str) -> Path:
        """The Maildir directory of ``account``/``folder`` (it may not exist yet).

        tmail's own folders live at ``mail/<account>/<encoded folder>``; a folder another tool
        laid out differently (mbsync nested directories, Maildir++ ``.Sub``) stays where it is.
        """
        row = self.db.execute(
            "SELECT dir FROM folders WHERE account = ? AND name = ?",
            (account, normalize_folder(folder)),
        ).fetchone()
        if row and row[0]:
            return self.mail_dir / str(row[0])
        return self._default_path(account, folder)

    def _default_path(self, account: str, folder: str) -> Path:
        return (
            self.mail_dir
            / maildir.encode_name(account)
            / maildir.encode_name(normalize_folder(folder))
        )

    def _folder_id(self, conn: sqlite3.Connection, account: str, folder: str) -> int:
        folder = normalize_folder(folder)
        row = conn.execute(
            "SELECT id FROM folders WHERE account = ? AND name = ?", (account, folder)
        ).fetchone()
        if row:
            return int(row[0])
        cur = conn.execute("INSERT INTO folders (account, name) VALUES (?, ?)", (account, folder))
        assert cur.lastrowid is not None
        return int(cur.lastrowid)

    def _find_folder(self, account: str, folder: str) -> int | None:
        row = self.db.execute(
            "SELECT id FROM folders WHERE account = ? AND name = ?",
            (account, normalize_folder(folder)),
        ).fetchone()
        return int(row[0]) if row else None

    def ensure_folder(self, account: str, folder: str) -> None:
        """Create the folder's Maildir and index entry if missing (sync calls this per folder)."""
        path = self.folder_path(account, folder)
        maildir.ensure_maildir(path)
        with self._tx() as conn:
            fid = self._folder_id(conn, account, folder)
            conn.execute(
                "UPDATE folders SET stamp = ? WHERE id = ? AND stamp = ''",
                (maildir.dir_stamp(path), fid),
            )

    def folders(self, account: str | None = None) -> list[StoredFolder]:
        """Folders with total, unread and flagged counts, INBOX first then by name.

        Counted from the (folder, flags) index: about 25 ms for 100,000 messages.
        """
        counts: dict[int, list[int]] = {}
        for fid, flags, n in self.db.execute(
            "SELECT folder_id, flags, count(*) FROM messages GROUP BY folder_id, flags"
        ):
            c = counts.setdefault(int(fid), [0, 0, 0])
            c[0] += n
            if "S" not in flags:
                c[1] += n
            if "F" in flags:
                c[2] += n
        sql = "SELECT id, account, name FROM folders"
        params: tuple[Any, ...] = ()
        if account is not None:
            sql += " WHERE account = ?"
            params = (account,)
        sql += " ORDER BY account, name != 'INBOX', name COLLATE NOCASE"
        out = []
        for fid, acc, name in self.db.execute(sql, params):
            total, unread, flagged = counts.get(int(fid), (0, 0, 0))
            out.append(StoredFolder(acc, name, total, unread, flagged))
        return out

    def accounts(self) -> list[str]:
        """Accounts that have at least one folder in the store."""
        return [r[0] for r in self.db.execute("SELECT DISTINCT account FROM folders ORDER BY 1")]

    def rename_folder(self, account: str, old: str, new: str) -> None:
        """Rename a folder (its Maildir directory and index entry); the server already did."""
        src, dst = self.folder_path(account, old), self._default_path(account, new)
        with self.writer_lock(), self._tx() as conn:
            if self._find_folder(account, new) is not None:
                raise StoreError(f"folder {new!r} already exists", account=account)
            if src.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.rename(src, dst)
                maildir.fsync_dir(dst.parent)
            conn.execute(
                "UPDATE folders SET name = ?, dir = NULL WHERE account = ? AND name = ?",
                (normalize_folder(new), account, normalize_folder(old)),
            )
            # Changes not yet pushed follow the folder (they name it, not its id).
            conn.execute(
                "UPDATE pending SET folder = ? WHERE account = ? AND folder = ?",
                (normalize_folder(new), account, normalize_folder(old)),
            )
            conn.execute(
                "UPDATE pending SET data = json_set(data, '$.to', ?) "
                "WHERE account = ? AND json_extract(data, '$.to') = ?",
                (normalize_folder(new), account, normalize_folder(old)),
            )

    def delete_folder(self, account: str, folder: str) -> None:
        """Remove a folder, its files and its rows (the server deleted it; nothing recorded)."""
        path = self.folder_path(account, folder)
        with self.writer_lock(), self._tx() as conn:
            fid = self._find_folder(account, folder)
            if fid is not None:
                self._delete_rows(conn, f"folder_id = {fid}")
                conn.execute("DELETE FROM folders WHERE id = ?", (fid,))
            if path.exists():
                import shutil

                shutil.rmtree(path)

    # ------------------------------------------------------------------ adding

    def add_message(
        self,
        account: str,
        folder: str,
        raw: bytes,
        flags: frozenset[Flag] = frozenset(),
        *,
        uid: int | None = None,
        uidl: str | None = None,
        record_append: bool = False,
        received: datetime | None = None,
    ) -> int:
        """Store ``raw`` in ``account``/``folder`` and index it; return the message id.

        The file is written the Maildir way (tmp, fsync, rename, fsync dir) and then the row is
        committed; when this returns, the message survives a crash. Unparseable messages are
        stored all the same and indexed by whatever headers could be read.

        For the sync engine: ``uid`` is the server UID in this folder (under the folder's
        current UIDVALIDITY, see :meth:`folder_state`); ``uidl`` the POP3 UIDL, which is also
        recorded in the account's stored-UIDL set (:meth:`pop3_stored`) in the same commit.
        Adding a ``uid`` that the folder already has returns the existing id and writes nothing,
        so replaying a fetch after a crash is harmless; a message that was stored but whose
        commit was lost (found again by :meth:`check`, without UID) is adopted by Message-ID
        and size instead of duplicated.

        ``received`` (IMAP INTERNALDATE) dates the message when its Date header is missing or
        broken (default: now). ``flags`` are the server's flags (the last-synced flags too). With
        ``record_append`` (local drafts, sent copies) a pending ``append`` is recorded so the
        next sync uploads the message. Raises :class:`StoreError` on a full disk, with no
        partial file left behind.
        """
        folder = normalize_folder(folder)
        summary = _summarize(raw, self._assumed(account))
        path = self.folder_path(account, folder)
        with self.writer_lock():
            if uid is not None:
                row = self.db.execute(
                    "SELECT m.id FROM messages m JOIN folders f ON f.id = m.folder_id "
                    "WHERE f.account = ? AND f.name = ? AND m.uid = ?",
                    (account, folder, uid),
                ).fetchone()
                if row:
                    return int(row[0])
                adopted = self._adopt(account, folder, summary, uid, uidl, flags)
                if adopted is not None:
                    return adopted
            maildir.ensure_maildir(path)
            before = maildir.dir_stamp(path)
            rel = maildir.deliver(path, raw, flags)
            try:
                with self._tx() as conn:
                    fid = self._folder_id(conn, account, folder)
                    mid = self._insert(
                        conn,
                        fid,
                        rel,
                        flags,
                        summary,
                        uid=uid,
                        uidl=uidl,
                        synced=flags,
                        fallback_time=received.timestamp() if received else None,
                    )
                    if uidl is not None:
                        conn.execute(
                            "INSERT OR REPLACE INTO pop3_uidls (account, uidl, stored) "
                            "VALUES (?, ?, ?)",
                            (account, uidl, time.time()),
                        )
                    if record_append:
                        self._record(conn, account, folder, "append", mid, None, {})
                    self._advance_stamp(conn, fid, path, before)
            except BaseException:
                # The row is not committed: take the file back so the caller's retry does not
                # leave a duplicate for check() to find.
                with contextlib.suppress(OSError):
                    os.unlink(path / rel)
                raise
        return mid

    def add_messages(self, account: str, folder: str, items: Sequence[NewMessage]) -> list[int]:
        """:meth:`add_message` for a batch, in one commit: the sync engine's bulk path.

        Each file is written, fsynced and renamed into the Maildir; then the directories are
        fsynced once and every row is committed in one transaction. When this returns, every
        message survives a crash; a crash before leaves files that :meth:`check` indexes and a
        later ``add_message(uid=...)`` adopts, never a duplicate. UIDs the folder already has
        return their existing ids and write nothing. Returns the ids in the order of ``items``.
        """
        folder = normalize_folder(folder)
        assumed = self._assumed(account)
        summaries = [_summarize(it.raw, assumed) for it in items]  # outside the lock: the slow part
        path = self.folder_path(account, folder)
        ids: list[int | None] = [None] * len(items)
        with self.writer_lock():
            todo: list[int] = []
            fid0 = self._find_folder(account, folder)
            known: dict[int, int] = {}
            orphans = False  # messages without UID that a fetched one may be (adoption)
            if fid0 is not None:
                wanted = [it.uid for it in items if it.uid is not None]
                for chunk in _chunks(wanted, 500):
                    marks = ",".join("?" * len(chunk))
                    known.update(
                        (int(u), int(m))
                        for u, m in self.db.execute(
                            "SELECT uid, id FROM messages WHERE folder_id = ? "
                            f"AND uid IN ({marks})",
                            (fid0, *chunk),
                        )
                    )
                # POP3 messages never have a UID: for them an orphan is a row with no UIDL
                # either (a file check() indexed after a kill between rename and commit).
                pop3 = all(it.uid is None and it.uidl is not None for it in items)
                orphans = (
                    self.db.execute(
                        "SELECT 1 FROM messages WHERE folder_id = ? AND uid IS NULL "
                        + ("AND uidl IS NULL " if pop3 else "")
                        + "LIMIT 1",
                        (fid0,),
                    ).fetchone()
                    is not None
                )
            for i, it in enumerate(items):
                if it.uid is not None and it.uid in known:
                    ids[i] = known[it.uid]
                    continue
                if orphans and (it.uid is not None or it.uidl is not None):
                    adopted = self._adopt(account, folder, summaries[i], it.uid, it.uidl, it.flags)
                    if adopted is not None:
                        ids[i] = adopted
                        continue
                todo.append(i)
            if todo:
                maildir.ensure_maildir(path)
                before = maildir.dir_stamp(path)
                rels = maildir.deliver_many(path, [(items[i].raw, items[i].flags) for i in todo])
                try:
                    with self._tx() as conn:
                        fid = self._folder_id(conn, account, folder)
                        now = time.time()
                        for i, rel in zip(todo, rels, strict=True):
                            it = items[i]
                            ids[i] = self._insert(
                                conn,
                                fid,
                                rel,
                                it.flags,
                                summaries[i],
                                uid=it.uid,
                                uidl=it.uidl,
                                synced=it.flags,
                                fallback_time=it.received.timestamp() if it.received else None,
                            )
                            if it.uidl is not None:
                                conn.execute(
                                    "INSERT OR REPLACE INTO pop3_uidls (account, uidl, stored) "
                                    "VALUES (?, ?, ?)",
                                    (account, it.uidl, now),
                                )
                        self._advance_stamp(conn, fid, path, before)
                except BaseException:
                    for rel in rels:
                        with contextlib.suppress(OSError):
                            os.unlink(path / rel)
                    raise
        return [int(i) for i in ids if i is not None]

    def _adopt(
        self,
        account: str,
        folder: str,
        summary: MessageSummary,
        uid: int | None,
        uidl: str | None,
        flags: frozenset[Flag],
    ) -> int | None:
        """Take over a row without UID (and, for a POP3 message, without UIDL) that holds the
        same message (Message-ID and size): a file whose commit a crash lost."""
        if not summary.message_id:
            return None
        row = self.db.execute(
            "SELECT m.id FROM messages m JOIN folders f ON f.id = m.folder_id "
            "WHERE f.account = ? AND f.name = ? AND m.uid IS NULL AND m.message_id = ? "
            + ("AND m.uidl IS NULL " if uid is None else "")
            + "AND m.size = ? AND m.id NOT IN (SELECT message FROM pending WHERE message "
            "IS NOT NULL) LIMIT 1",
            (account, folder, summary.message_id, summary.size),
        ).fetchone()
        if not row:
            return None
        mid = int(row[0])
        with self._tx() as conn:
            conn.execute(
                "UPDATE messages SET uid = ?, uidl = coalesce(?, uidl), synced_flags = ? "
                "WHERE id = ?",
                (uid, uidl, flags_to_maildir(flags), mid),
            )
            if uidl is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO pop3_uidls (account, uidl, stored) VALUES (?, ?, ?)",
                    (account, uidl, time.time()),
                )
        return mid

    def _insert(
        self,
        conn: sqlite3.Connection,
        fid: int,
        rel: str,
        flags: frozenset[Flag],
        s: MessageSummary,
        *,
        uid: int | None = None,
        uidl: str | None = None,
        synced: frozenset[Flag] | None = None,
        thread_id: int | None = None,
        fallback_time: float | None = None,
        mid: int | None = None,
    ) -> int:
        base = maildir.split_name(rel.split("/", 1)[1])[0]
        if s.date is not None:
            ts = int(s.date.timestamp())
            off = s.date.utcoffset()
            tz = int(off.total_seconds()) if off is not None else 0
        else:
            ts, tz = int(fallback_time or time.time()), 0
        refs = list(s.references)
        if s.in_reply_to:
            # In-Reply-To may carry junk around the id; keep the <...> parts.
            for ref in re.findall(r"<[^<>\s]+>", s.in_reply_to) or [s.in_reply_to]:
                if ref not in refs:
                    refs.append(ref)
        cur = conn.execute(
            "INSERT INTO messages (id, folder_id, fname, base, flags, synced_flags, uid, uidl, "
            "message_id, in_reply_to, refs, date, tz, from_json, to_json, cc_json, sender, "
            "subject, size, has_attachment, charset, snippet, parse_errors) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                mid,
                fid,
                rel,
                base,
                flags_to_maildir(flags),
                flags_to_maildir(synced) if synced is not None and uid is not None else None,
                uid,
                uidl,
                s.message_id,
                s.in_reply_to,
                " ".join(s.references),
                ts,
                tz,
                _addr_json(s.from_),
                _addr_json(s.to),
                _addr_json(s.cc),
                (s.from_[0].name or s.from_[0].addr).lower() if s.from_ else "",
                s.subject,
                s.size,
                int(s.has_attachment),
                s.charset,
                s.snippet,
                "\n".join(s.parse_errors),
            ),
        )
        assert cur.lastrowid is not None
        mid = int(cur.lastrowid)
        from tmail.store.query import fold

        conn.execute(
            "INSERT INTO fts (rowid, subject, sender, tos, ccs, body) VALUES (?,?,?,?,?,?)",
            (
                mid,
                fold(s.subject),
                fold(_addr_text(s.from_)),
                fold(_addr_text(s.to)),
                fold(_addr_text(s.cc)),
                fold(s.body_text[:BODY_CAP]),
            ),
        )
        if refs:
            conn.executemany(
                "INSERT INTO refs (message, ref) VALUES (?, ?)", [(mid, r) for r in refs]
            )
        tid = self._thread_for(conn, mid, s.message_id, refs, s.subject, ts, thread_id)
        conn.execute("UPDATE messages SET thread_id = ? WHERE id = ?", (tid, mid))
        return mid

    def _thread_for(
        self,
        conn: sqlite3.Connection,
        mid: int,
        message_id: str | None,
        refs: list[str],
        subject: str,
        ts: int,
        preferred: int | None,
    ) -> int:
        """The thread of a new message: JWZ links first, then the subject; merges threads.

        Links: a message whose Message-ID is among my references; a message that references
        my Message-ID (a reply that came first); a message sharing a reference with me (a
        sibling under a parent we do not have). Threads joined by this message merge into the
        oldest one, so a thread id only ever changes by merging into an older thread.
        """
        found: set[int] = set()
        keys = list(refs)
        if message_id:
            keys.append(message_id)
        for chunk in _chunks(keys, 400):
            marks = ",".join("?" * len(chunk))
            for (tid,) in conn.execute(
                f"SELECT DISTINCT m.thread_id FROM refs r JOIN messages m ON m.id = r.message "
                f"WHERE r.ref IN ({marks}) AND m.id != ?",
                (*chunk, mid),
            ):
                found.add(int(tid))
            for (tid,) in conn.execute(
                f"SELECT DISTINCT thread_id FROM messages WHERE message_id IN ({marks}) "
                f"AND id != ?",
                (*chunk, mid),
            ):
                found.add(int(tid))
        found.discard(0)
        from tmail.store.threads import base_subject

        key = base_subject(subject)
        if not found and key and (preferred is None or preferred == 0):
            # JWZ's subject fallback, for replies from clients that drop References: only a
            # thread with the same base subject and a message within 30 days.
            is_reply = key != subject.strip().lower()
            if is_reply:
                row = conn.execute(
                    "SELECT t.id FROM threads t JOIN messages m ON m.thread_id = t.id "
                    "WHERE t.subject = ? AND m.date BETWEEN ? AND ? AND m.id != ? "
                    "ORDER BY t.id LIMIT 1",
                    (key, ts - 30 * 86400, ts + 30 * 86400, mid),
                ).fetchone()
                if row:
                    found.add(int(row[0]))
        if preferred:
            found.add(preferred)
        if not found:
            cur = conn.execute("INSERT INTO threads (subject) VALUES (?)", (key,))
            assert cur.lastrowid is not None
            return int(cur.lastrowid)
        keep = min(found)
        if (
            preferred
            and conn.execute("SELECT 1 FROM threads WHERE id = ?", (preferred,)).fetchone() is None
        ):
            conn.execute("INSERT INTO threads (id, subject) VALUES (?, ?)", (preferred, key))
        others = found - {keep}
        if others:
            marks = ",".join("?" * len(others))
            conn.execute(
                f"UPDATE messages SET thread_id = ? WHERE thread_id IN ({marks})",
                (keep, *others),
            )
            conn.execute(f"DELETE FROM threads WHERE id IN ({marks})", tuple(others))
        return keep

    # ------------------------------------------------------------------ reading

    def get(self, message: int) -> MessageRow | None:
        """The row of message ``message``, or None when it is not (or no longer) in the store."""
        row = self.db.execute(
            f"SELECT {_ROW_COLUMNS} FROM messages m JOIN folders f ON f.id = m.folder_id "
            "WHERE m.id = ?",
            (message,),
        ).fetchone()
        return self._row(row) if row else None

    def get_many(self, ids: Sequence[int]) -> list[MessageRow]:
        """Rows for ``ids`` in the order given (ids not in the store are left out)."""
        out: dict[int, MessageRow] = {}
        for chunk in _chunks(list(ids), 500):
            marks = ",".join("?" * len(chunk))
            for row in self.db.execute(
                f"SELECT {_ROW_COLUMNS} FROM messages m JOIN folders f ON f.id = m.folder_id "
                f"WHERE m.id IN ({marks})",
                tuple(chunk),
            ):
                r = self._row(row)
                out[r.id] = r
        return [out[i] for i in ids if i in out]

    def _require(self, message: int) -> MessageRow:
        row = self.get(message)
        if row is None:
            raise StoreError(
                f"no message with id {message}", hint="list ids with 'tmail list' or 'tmail search'"
            )
        return row

    def path(self, message: int) -> Path:
        """Where the message's file is now (found again if another tool renamed it)."""
        row = self._require(message)
        if row.path.exists():
            return row.path
        found = self._relocate(row)
        if found is None:
            raise StoreError(
                f"the file of message {message} is gone ({row.path})",
                account=row.account,
                hint="run 'tmail reindex' to bring the index in step with the files",
            )
        return found

    def read_raw(self, message: int) -> bytes:
        """The message's bytes exactly as stored."""
        for _ in range(3):
            try:
                return self.path(message).read_bytes()
            except FileNotFoundError:
                continue  # renamed between locating and opening: look again
        raise StoreError(f"the file of message {message} keeps moving; try again")

    def _relocate(self, row: MessageRow) -> Path | None:
        folder = self.folder_path(row.account, row.folder)
        base = maildir.split_name(row.path.name)[0]
        rel = maildir.locate(folder, base)
        if rel is None:
            return None
        flags = maildir.file_flags(rel.split("/", 1)[1])
        with contextlib.suppress(StoreError), self._tx() as conn:
            conn.execute(
                "UPDATE messages SET fname = ?, flags = ? WHERE id = ?",
                (rel, flags_to_maildir(flags), row.id),
            )
        return folder / rel

    def by_uid(self, account: str, folder: str, uid: int) -> MessageRow | None:
        """The message with server ``uid`` in ``account``/``folder``."""
        return self._one(
            "f.account = ? AND f.name = ? AND m.uid = ?", (account, normalize_folder(folder), uid)
        )

    def by_uidl(self, account: str, uidl: str) -> MessageRow | None:
        """The message fetched by POP3 with ``uidl`` (in any folder of ``account``)."""
        return self._one("f.account = ? AND m.uidl = ?", (account, uidl))

    def by_message_id(self, message_id: str, account: str | None = None) -> list[MessageRow]:
        """Messages with this Message-ID (``<...>`` as in the header), in any folder."""
        sql, params = "m.message_id = ?", [message_id]
        if account is not None:
            sql += " AND f.account = ?"
            params.append(account)
        return self._many(sql, tuple(params))

    def _one(self, where: str, params: tuple[Any, ...]) -> MessageRow | None:
        row = self.db.execute(
            f"SELECT {_ROW_COLUMNS} FROM messages m JOIN folders f ON f.id = m.folder_id "
            f"WHERE {where} LIMIT 1",
            params,
        ).fetchone()
        return self._row(row) if row else None

    def _many(self, where: str, params: tuple[Any, ...]) -> list[MessageRow]:
        return [
            self._row(r)
            for r in self.db.execute(
                f"SELECT {_ROW_COLUMNS} FROM messages m JOIN folders f ON f.id = m.folder_id "
                f"WHERE {where} ORDER BY m.id",
                params,
            )
        ]

    def uid_flags(self, account: str, folder: str) -> dict[int, frozenset[Flag]]:
        """``{uid: flags}`` of every message of the folder that has a server UID.

        With :meth:`tombstones` this is the planner's ``local_now``.
        """
        fid = self._find_folder(account, folder)
        if fid is None:
            return {}
        return {
            int(uid): flags_from_maildir(flags)
            for uid, flags in self.db.execute(
                "SELECT uid, flags FROM messages WHERE folder_id = ? AND uid IS NOT NULL", (fid,)
            )
        }

    def synced_flags(self, account: str, folder: str) -> dict[int, frozenset[Flag]]:
        """``{uid: flags}`` both sides agreed on at the last sync: the planner's ``last_synced``.

        Set by ``add_message(uid=...)``, by ``set_flags(record=False)`` and by
        :meth:`mark_synced`; a UID without a known base is left out.
        """
        fid = self._find_folder(account, folder)
        if fid is None:
            return {}
        return {
            int(uid): flags_from_maildir(flags)
            for uid, flags in self.db.execute(
                "SELECT uid, synced_flags FROM messages WHERE folder_id = ? AND uid IS NOT NULL "
                "AND synced_flags IS NOT NULL",
                (fid,),
            )
        }

    def tombstones(self, account: str, folder: str) -> set[int]:
        """UIDs the user deleted locally that the server still has to expunge (pending deletes)."""
        return {
            int(r[0])
            for r in self.db.execute(
                "SELECT uid FROM pending WHERE account = ? AND folder = ? AND kind = 'delete' "
                "AND uid IS NOT NULL",
                (account, normalize_folder(folder)),
            )
        }

    def without_uid(self, account: str, folder: str) -> list[MessageRow]:
        """Messages of the folder with no server UID yet (moved in or added locally)."""
        return self._many(
            "f.account = ? AND f.name = ? AND m.uid IS NULL", (account, normalize_folder(folder))
        )

    # ------------------------------------------------------------------ sync state

    def folder_state(self, account: str, folder: str) -> dict[str, Any]:
        """The sync engine's JSON state of a folder (``{}`` when none), e.g.
        ``{"uidvalidity": 7, "highestmodseq": 1234, "uidnext": 99}``. The store does not
        interpret it."""
        row = self.db.execute(
            "SELECT sync_state FROM folders WHERE account = ? AND name = ?",
            (account, normalize_folder(folder)),
        ).fetchone()
        return dict(json.loads(row[0])) if row else {}

    def set_folder_state(self, account: str, folder: str, state: Mapping[str, Any]) -> None:
        """Replace the folder's sync state (creates the folder entry if needed)."""
        with self._tx() as conn:
            fid = self._folder_id(conn, account, folder)
            conn.execute(
                "UPDATE folders SET sync_state = ? WHERE id = ?", (json.dumps(dict(state)), fid)
            )

    def account_state(self, account: str) -> dict[str, Any]:
        """The sync engine's JSON state of an account (``{}`` when none)."""
        row = self.db.execute(
            "SELECT state FROM account_state WHERE account = ?", (account,)
        ).fetchone()
        return dict(json.loads(row[0])) if row else {}

    def set_account_state(self, account: str, state: Mapping[str, Any]) -> None:
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO account_state (account, state) VALUES (?, ?) "
                "ON CONFLICT (account) DO UPDATE SET state = excluded.state",
                (account, json.dumps(dict(state))),
            )

    def pop3_stored(self, account: str) -> dict[str, float]:
        """``{uidl: time stored}`` of every POP3 message safely stored: ``plan_pop3``'s ``stored``.

        Entries stay when the user deletes the local copy (so it is not downloaded again); drop
        them with :meth:`forget_uidls` once the server no longer lists them.
        """
        return {
            u: float(t)
            for u, t in self.db.execute(
                "SELECT uidl, stored FROM pop3_uidls WHERE account = ?", (account,)
            )
        }

    def forget_uidls(self, account: str, uidls: Iterable[str]) -> None:
        with self._tx() as conn:
            conn.executemany(
                "DELETE FROM pop3_uidls WHERE account = ? AND uidl = ?",
                [(account, u) for u in uidls],
            )

    def set_uid(
        self, message: int, uid: int | None, *, synced_flags: frozenset[Flag] | None = None
    ) -> None:
        """Give a message its server UID (after APPEND/MOVE with APPENDUID/COPYUID), or clear
        it (``None``, e.g. after a UIDVALIDITY change). ``synced_flags`` sets the agreed base."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE messages SET uid = ?, synced_flags = coalesce(?, synced_flags) "
                "WHERE id = ?",
                (
                    uid,
                    flags_to_maildir(synced_flags) if synced_flags is not None else None,
                    message,
                ),
            )

    def clear_uids(self, account: str, folder: str) -> None:
        """Forget every UID of a folder (UIDVALIDITY changed: all of them are void)."""
        with self._tx() as conn:
            fid = self._folder_id(conn, account, folder)
            conn.execute(
                "UPDATE messages SET uid = NULL, synced_flags = NULL WHERE folder_id = ?", (fid,)
            )

    def mark_synced(self, message: int, flags: frozenset[Flag]) -> None:
        """Record ``flags`` as agreed with the server (after pushing the local change)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE messages SET synced_flags = ? WHERE id = ?",
                (flags_to_maildir(flags), message),
            )

    def has_pending(self, account: str, folder: str) -> bool:
        """True when the folder has local changes the server has not seen."""
        return (
            self.db.execute(
                "SELECT 1 FROM pending WHERE account = ? AND folder = ? LIMIT 1",
                (account, normalize_folder(folder)),
            ).fetchone()
            is not None
        )

    def local_identities(self, account: str, folder: str) -> list[tuple[int, str | None, int]]:
        """``(uid, message_id, size)`` of each message with a UID: for re-association after a
        UIDVALIDITY change (match the server's Message-ID and RFC822.SIZE)."""
        fid = self._find_folder(account, folder)
        if fid is None:
            return []
        return [
            (int(u), m, int(z))
            for u, m, z in self.db.execute(
                "SELECT uid, message_id, size FROM messages WHERE folder_id = ? "
                "AND uid IS NOT NULL ORDER BY uid",
                (fid,),
            )
        ]

    def reassign_uids(self, account: str, folder: str, mapping: Mapping[int, int | None]) -> None:
        """Replace old UIDs by new ones (``None``: the message has no UID now), atomically.

        Pending changes that name an old UID follow it (or are dropped with it).
        """
        fid = self._find_folder(account, folder)
        if fid is None or not mapping:
            return
        folder = normalize_folder(folder)
        with self._tx() as conn:
            ids = {
                int(u): int(i)
                for u, i in conn.execute(
                    "SELECT uid, id FROM messages WHERE folder_id = ? AND uid IS NOT NULL", (fid,)
                )
            }
            for old, new in mapping.items():
                mid = ids.get(old)
                if mid is not None:
                    conn.execute(
                        "UPDATE messages SET uid = ?, synced_flags = CASE WHEN ? IS NULL "
                        "THEN NULL ELSE synced_flags END WHERE id = ?",
                        (new, new, mid),
                    )
                if new is None:
                    conn.execute(
                        "DELETE FROM pending WHERE account = ? AND folder = ? AND uid = ? "
                        "AND kind = 'delete'",
                        (account, folder, old),
                    )
                conn.execute(
                    "UPDATE pending SET uid = ? WHERE account = ? AND folder = ? AND uid = ?",
                    (new, account, folder, old),
                )

    def forget_folder_state(self, account: str, folder: str) -> None:
        """Drop the folder's sync state (the next sync starts it afresh)."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE folders SET sync_state = '{}' WHERE account = ? AND name = ?",
                (account, normalize_folder(folder)),
            )

    def synced_folders(self, account: str) -> list[str]:
        """Folders of the account that have a sync state."""
        return [
            r[0]
            for r in self.db.execute(
                "SELECT name FROM folders WHERE account = ? AND sync_state != '{}' ORDER BY name",
                (account,),
            )
        ]

    def forget_local_deletions(self, account: str, folder: str, uids: Iterable[int]) -> None:
        """The server expunged these UIDs too: their pending ``delete`` rows are done."""
        with self._tx() as conn:
            conn.executemany(
                "DELETE FROM pending WHERE account = ? AND folder = ? AND kind = 'delete' "
                "AND uid = ?",
                [(account, normalize_folder(folder), u) for u in uids],
            )

    def clear_pending_flags(self, account: str, folder: str) -> None:
        """The folder's local flag changes were pushed: drop them and make the current flags
        the last-synced ones."""
        folder = normalize_folder(folder)
        with self._tx() as conn:
            conn.execute(
                "UPDATE messages SET synced_flags = flags WHERE id IN (SELECT message FROM "
                "pending WHERE account = ? AND folder = ? AND kind = 'flags')",
                (account, folder),
            )
            conn.execute(
                "DELETE FROM pending WHERE account = ? AND folder = ? AND kind = 'flags'",
                (account, folder),
            )

    # ------------------------------------------------------------------ changing

    def set_flags(self, message: int, flags: frozenset[Flag], *, record: bool = True) -> None:
        """Give the message exactly ``flags`` (renames its file into ``cur/`` with ``:2,``).

        ``record=True``: a user's change, merged into the pending ``flags`` row for the next sync.
        ``record=False``: the server's flags, also stored as the last-synced flags.
        """
        with self.writer_lock():
            row = self._require(message)
            self._rename_flags(row, flags, record=record)

    def change_flags(
        self,
        messages: Iterable[int],
        add: frozenset[Flag] = frozenset(),
        remove: frozenset[Flag] = frozenset(),
        *,
        record: bool = True,
    ) -> list[int]:
        """Add and remove flags on several messages; returns the ids that changed."""
        changed = []
        with self.writer_lock():
            for mid in messages:
                row = self._require(mid)
                new = (row.flags | add) - remove
                if new != row.flags:
                    self._rename_flags(row, new, record=record)
                    changed.append(mid)
        return changed

    def set_server_flags(
        self, account: str, folder: str, flags_by_uid: Mapping[int, frozenset[Flag]]
    ) -> int:
        """The server's flags for many messages of a folder at once (as ``set_flags`` with
        ``record=False``: they also become the last-synced flags): the renames, then one fsync
        per directory and one commit. Messages whose file is gone are skipped (the next
        :meth:`check` notices). Returns how many rows were updated."""
        folder = normalize_folder(folder)
        fid = self._find_folder(account, folder)
        if fid is None or not flags_by_uid:
            return 0
        path = self.folder_path(account, folder)
        with self.writer_lock():
            rows: dict[int, tuple[int, str]] = {}
            for chunk in _chunks(list(flags_by_uid), 500):
                marks = ",".join("?" * len(chunk))
                for mid, uid, fname in self.db.execute(
                    f"SELECT id, uid, fname FROM messages WHERE folder_id = ? AND uid IN ({marks})",
                    (fid, *chunk),
                ):
                    rows[int(uid)] = (int(mid), str(fname))
            before = maildir.dir_stamp(path)
            updates: list[tuple[str, str, str, int]] = []
            touched: set[str] = set()
            for uid, flags in flags_by_uid.items():
                if uid not in rows:
                    continue
                mid, rel = rows[uid]
                new_rel = "cur/" + maildir.name_with_flags(rel.split("/", 1)[1], flags)
                if new_rel != rel:
                    try:
                        os.rename(path / rel, path / new_rel)
                    except FileNotFoundError:
                        found = maildir.locate(path, maildir.split_name(rel.split("/", 1)[1])[0])
                        if found is None:
                            continue
                        rel = found
                        new_rel = "cur/" + maildir.name_with_flags(rel.split("/", 1)[1], flags)
                        os.rename(path / rel, path / new_rel)
                    touched.update({rel.split("/", 1)[0], "cur"})
                letters = flags_to_maildir(flags)
                updates.append((new_rel, letters, letters, mid))
            for sub in sorted(touched):
                maildir.fsync_dir(path / sub)
            with self._tx() as conn:
                conn.executemany(
                    "UPDATE messages SET fname = ?, flags = ?, synced_flags = ? WHERE id = ?",
                    updates,
                )
                self._advance_stamp(conn, fid, path, before)
        return len(updates)

    def _rename_flags(self, row: MessageRow, flags: frozenset[Flag], *, record: bool) -> None:
        folder = self.folder_path(row.account, row.folder)
        old_rel = f"{row.path.parent.name}/{row.path.name}"
        new_rel = "cur/" + maildir.name_with_flags(row.path.name, flags)
        before = maildir.dir_stamp(folder)
        if new_rel != old_rel:
            try:
                os.rename(folder / old_rel, folder / new_rel)
            except FileNotFoundError:
                found = self._relocate(row)
                if found is None:
                    raise StoreError(
                        f"the file of message {row.id} is gone", account=row.account
                    ) from None
                old_rel = f"{found.parent.name}/{found.name}"
                new_rel = "cur/" + maildir.name_with_flags(found.name, flags)
                os.rename(folder / old_rel, folder / new_rel)
            maildir.fsync_dir(folder / "cur")
            if old_rel.startswith("new/"):
                maildir.fsync_dir(folder / "new")
        with self._tx() as conn:
            letters = flags_to_maildir(flags)
            if record:
                conn.execute(
                    "UPDATE messages SET fname = ?, flags = ? WHERE id = ?",
                    (new_rel, letters, row.id),
                )
                self._record_flags(conn, row, flags)
            else:
                conn.execute(
                    "UPDATE messages SET fname = ?, flags = ?, synced_flags = ? WHERE id = ?",
                    (new_rel, letters, letters, row.id),
                )
            fid = self._folder_id(conn, row.account, row.folder)
            self._advance_stamp(conn, fid, folder, before)

    def _record_flags(
        self, conn: sqlite3.Connection, row: MessageRow, flags: frozenset[Flag]
    ) -> None:
        """Merge a local flag change into the message's one pending ``flags`` row.

        The row keeps the flags the message had before the first unpushed change (``base``),
        so changing a flag back cancels the change instead of pushing both.
        """
        old = conn.execute(
            "SELECT id, data FROM pending WHERE message = ? AND kind = 'flags'", (row.id,)
        ).fetchone()
        base = flags_from_maildir(json.loads(old[1]).get("base", "")) if old else row.flags
        add, remove = flags - base, base - flags
        data = {
            "add": flags_to_maildir(add),
            "remove": flags_to_maildir(remove),
            "base": flags_to_maildir(base),
        }
        if old and not add and not remove:
            conn.execute("DELETE FROM pending WHERE id = ?", (old[0],))
        elif old:
            conn.execute("UPDATE pending SET data = ? WHERE id = ?", (json.dumps(data), old[0]))
        elif add or remove:
            self._record(conn, row.account, row.folder, "flags", row.id, row.uid, data)

    def _record(
        self,
        conn: sqlite3.Connection,
        account: str,
        folder: str,
        kind: str,
        message: int | None,
        uid: int | None,
        data: Mapping[str, Any],
    ) -> None:
        conn.execute(
            "INSERT INTO pending (account, folder, kind, message, uid, data, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                account,
                normalize_folder(folder),
                kind,
                message,
                uid,
                json.dumps(dict(data)),
                time.time(),
            ),
        )

    def move(self, message: int, folder: str, *, record: bool = True) -> None:
        """Move the message to another folder of its account (a rename between Maildirs).

        The id stays the same; the UID is cleared (the target folder gives a new one).
        ``record=True`` records a pending ``move`` carrying the old folder and UID (when it had
        one; a message never synced just moves). ``record=False`` is the server's move: pass
        the new ``uid`` afterwards with :meth:`set_uid`.
        """
        target = normalize_folder(folder)
        with self.writer_lock():
            row = self._require(message)
            if row.folder == target:
                return
            src = self.folder_path(row.account, row.folder)
            dst = self.folder_path(row.account, target)
            maildir.ensure_maildir(dst)
            rel = f"{row.path.parent.name}/{row.path.name}"
            if not (src / rel).exists():
                found = self._relocate(row)
                if found is None:
                    raise StoreError(f"the file of message {row.id} is gone", account=row.account)
                rel = f"{found.parent.name}/{found.name}"
            src_before, dst_before = maildir.dir_stamp(src), maildir.dir_stamp(dst)
            try:
                os.rename(src / rel, dst / rel)
            except OSError as exc:
                raise StoreError(f"could not move message {row.id}: {exc.strerror}") from exc
            maildir.fsync_dir(dst / rel.split("/")[0])
            maildir.fsync_dir(src / rel.split("/")[0])
            with self._tx() as conn:
                fid = self._folder_id(conn, row.account, target)
                src_fid = self._folder_id(conn, row.account, row.folder)
                # The flags the server has for it: the sync sets what changed here on the
                # server's copy before it moves it (the move carries the flags there).
                (base,) = conn.execute(
                    "SELECT synced_flags FROM messages WHERE id = ?", (row.id,)
                ).fetchone()
                conn.execute(
                    "UPDATE messages SET folder_id = ?, fname = ?, uid = NULL, synced_flags = NULL "
                    "WHERE id = ?",
                    (fid, rel, row.id),
                )
                if record:
                    self._record_move(conn, row, target, base)
                self._advance_stamp(conn, fid, dst, dst_before)
                self._advance_stamp(conn, src_fid, src, src_before)

    def _record_move(
        self, conn: sqlite3.Connection, row: MessageRow, target: str, base: str | None
    ) -> None:
        prior = conn.execute(
            "SELECT id, kind, folder, uid, data FROM pending WHERE message = ? "
            "AND kind IN ('move', 'append')",
            (row.id,),
        ).fetchone()
        if prior:
            pid, kind, pfolder, _puid, pdata = prior
            if kind == "append":
                conn.execute("UPDATE pending SET folder = ? WHERE id = ?", (target, pid))
            elif pfolder == target:  # moved back where it was on the server
                conn.execute("DELETE FROM pending WHERE id = ?", (pid,))
                back = replace(row, folder=target, uid=_puid)
                self._restore_base(conn, back, json.loads(pdata).get("base"))
            else:
                data = json.loads(pdata)
                data["to"] = target
                conn.execute("UPDATE pending SET data = ? WHERE id = ?", (json.dumps(data), pid))
            return
        # Pending flag changes go with the message: its flags travel in the file name (and the
        # move's "base", the server's flags, tells the sync what to set before moving it).
        conn.execute("DELETE FROM pending WHERE message = ? AND kind = 'flags'", (row.id,))
        if row.uid is None:
            self._record(conn, row.account, target, "append", row.id, None, {})
            return
        data = {"to": target} | ({"base": base} if base is not None else {})
        self._record(conn, row.account, row.folder, "move", row.id, row.uid, data)

    def _restore_base(self, conn: sqlite3.Connection, row: MessageRow, base: str | None) -> None:
        """A message moved back before a sync: its UID and the server's flags again, and its
        flags changed meanwhile as a pending change."""
        conn.execute(
            "UPDATE messages SET uid = ?, synced_flags = ? WHERE id = ?", (row.uid, base, row.id)
        )
        if base is not None:
            conn.execute("DELETE FROM pending WHERE message = ? AND kind = 'flags'", (row.id,))
            self._record_flags(conn, replace(row, flags=flags_from_maildir(base)), row.flags)

    def remove(self, message: int, *, record: bool = True) -> None:
        """Delete the message's file and row for good (expunge).

        ``record=True`` (the user's ``delete --purge``) records a pending ``delete`` with the
        UID the server knows it by — the planner's tombstone; ``record=False`` is the server's
        expunge. Moving to Trash is :meth:`move`.
        """
        with self.writer_lock():
            row = self.get(message)
            if row is None:
                return
            folder = self.folder_path(row.account, row.folder)
            before = maildir.dir_stamp(folder)
            target = row.path if row.path.exists() else self._relocate(row)
            with self._tx() as conn:
                if record:
                    self._record_delete(conn, row)
                self._delete_rows(conn, "id = ?", (row.id,))
                fid = self._folder_id(conn, row.account, row.folder)
                if target is not None:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(target)
                    maildir.fsync_dir(target.parent)
                self._advance_stamp(conn, fid, folder, before)

    def _record_delete(self, conn: sqlite3.Connection, row: MessageRow) -> None:
        prior = conn.execute(
            "SELECT id, kind, folder, uid FROM pending "
            "WHERE message = ? AND kind IN ('move', 'append')",
            (row.id,),
        ).fetchone()
        conn.execute("DELETE FROM pending WHERE message = ?", (row.id,))
        if prior and prior[1] == "append":
            return  # never reached the server
        if prior:  # moved locally, then purged: delete it where the server still has it
            self._record(conn, row.account, prior[2], "delete", row.id, prior[3], {})
        elif row.uid is not None:
            self._record(conn, row.account, row.folder, "delete", row.id, row.uid, {})

    def _delete_rows(
        self, conn: sqlite3.Connection, where: str, params: tuple[Any, ...] = ()
    ) -> None:
        ids = [r[0] for r in conn.execute(f"SELECT id FROM messages WHERE {where}", params)]
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            conn.execute(f"DELETE FROM fts WHERE rowid IN ({marks})", tuple(chunk))
            conn.execute(f"DELETE FROM refs WHERE message IN ({marks})", tuple(chunk))
            conn.execute(f"DELETE FROM messages WHERE id IN ({marks})", tuple(chunk))

    # ------------------------------------------------------------------ pending changes

    def pending(self, account: str | None = None, folder: str | None = None) -> list[PendingChange]:
        """Local changes not yet pushed, oldest first (optionally for one account/folder)."""
        sql = "SELECT id, account, folder, kind, message, uid, data, created FROM pending"
        conds, params = [], []
        if account is not None:
            conds.append("account = ?")
            params.append(account)
        if folder is not None:
            conds.append("folder = ?")
            params.append(normalize_folder(folder))
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        sql += " ORDER BY id"
        return [
            PendingChange(int(i), a, f, k, m, u, dict(json.loads(d)), float(c))
            for i, a, f, k, m, u, d, c in self.db.execute(sql, tuple(params))
        ]

    def clear_pending(self, ids: Iterable[int]) -> None:
        """Drop pending changes the sync has carried out (by :attr:`PendingChange.id`)."""
        with self._tx() as conn:
            conn.executemany("DELETE FROM pending WHERE id = ?", [(i,) for i in ids])

    # ------------------------------------------------------------------ listing

    def _scope(
        self, account: str | None, folder: str | None, unread_only: bool = False
    ) -> tuple[str, list[Any]]:
        conds: list[str] = []
        params: list[Any] = []
        if account is not None:
            conds.append("f.account = ?")
            params.append(account)
        if folder is not None:
            conds.append("f.name = ?")
            params.append(normalize_folder(folder))
        if unread_only:
            conds.append("instr(m.flags, 'S') = 0")
        return (" AND ".join(conds) or "1"), params

    def list_messages(
        self,
        account: str | None = None,
        folder: str | None = None,
        *,
        sort: SortKey = "date",
        reverse: bool = True,
        offset: int = 0,
        limit: int = 50,
        unread_only: bool = False,
    ) -> list[MessageRow]:
        """One page of messages, newest first by default; reads only that page from SQLite.

        ``account=None`` spans accounts: ``list_messages(folder="INBOX")`` is the unified inbox.
        ``sort`` is ``date``, ``from``, ``subject`` or ``size``; ``reverse=True`` puts the
        largest (newest, Z, biggest) first. Pair with :meth:`count` for a scroll bar.
        """
        where, params = self._scope(account, folder, unread_only)
        order = _SORT_SQL[sort].format(dir="DESC" if reverse else "ASC")
        sql = (
            f"SELECT {_ROW_COLUMNS} FROM messages m JOIN folders f ON f.id = m.folder_id "
            f"WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
        )
        return [self._row(r) for r in self.db.execute(sql, (*params, limit, offset))]

    def count(
        self, account: str | None = None, folder: str | None = None, *, unread_only: bool = False
    ) -> int:
        """How many messages :meth:`list_messages` would page through."""
        where, params = self._scope(account, folder, unread_only)
        row = self.db.execute(
            f"SELECT count(*) FROM messages m JOIN folders f ON f.id = m.folder_id WHERE {where}",
            params,
        ).fetchone()
        return int(row[0])

    def _folder_ids(self, account: str | None, folder: str | None) -> list[int] | None:
        """Ids of the folders in scope; None when every folder is."""
        if account is None and folder is None:
            return None
        conds, params = [], []
        if account is not None:
            conds.append("account = ?")
            params.append(account)
        if folder is not None:
            conds.append("name = ?")
            params.append(normalize_folder(folder))
        return [
            int(r[0])
            for r in self.db.execute(
                f"SELECT id FROM folders WHERE {' AND '.join(conds)}", tuple(params)
            )
        ]

    def _search_sql(
        self, query: str, account: str | None, folder: str | None
    ) -> tuple[str, list[Any], str | None, list[int] | None]:
        from tmail.store.query import compile_query, parse

        compiled = compile_query(parse(query))
        fids = self._folder_ids(account, folder)
        where, params = compiled.where, list(compiled.params)
        if fids is not None:
            where = f"m.folder_id IN ({','.join(str(i) for i in fids) or 'NULL'}) AND {where}"
        return where, params, compiled.fts, fids

    def search(
        self,
        query: str,
        *,
        account: str | None = None,
        folder: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        sort: SortKey = "date",
        reverse: bool = True,
    ) -> list[int]:
        """Ids of the messages matching ``query`` (see :mod:`tmail.store.query`), newest first.

        Raises :class:`tmail.store.query.QueryError` (a UsageError) for a malformed query.
        """
        where, params, fts, fids = self._search_sql(query, account, folder)
        order = _SORT_SQL[sort].format(dir="DESC" if reverse else "ASC")
        hint = ""
        if sort == "date" and limit is not None and limit + offset <= 1000:
            # A page of a common word: walk the date index and stop at the page's end instead
            # of sorting every match (57,000 of 100,000 for "budget": 30 ms instead of 190).
            # A rare word: sort its few matches (the walk would visit every message).
            few = fts is not None and self._fts_count(fts, 1000) < 1000
            if not few:
                hint = (
                    "INDEXED BY messages_folder_date"
                    if fids is not None and len(fids) == 1
                    else "INDEXED BY messages_date"
                )
        sql = f"SELECT m.id FROM messages m {hint} WHERE {where} ORDER BY {order}"
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            params += [-1 if limit is None else limit, offset]
        try:
            return [int(r[0]) for r in self.db.execute(sql, params)]
        except sqlite3.OperationalError as exc:
            from tmail.store.query import QueryError

            raise QueryError(f"the search could not run: {exc}") from exc

    def _fts_count(self, match: str, cap: int) -> int:
        """How many messages match the FTS expression, counting no further than ``cap``."""
        try:
            row = self.db.execute(
                "SELECT count(*) FROM (SELECT rowid FROM fts WHERE fts MATCH ? LIMIT ?)",
                (match, cap),
            ).fetchone()
        except sqlite3.OperationalError:
            return cap
        return int(row[0])

    def count_search(
        self, query: str, *, account: str | None = None, folder: str | None = None
    ) -> int:
        """How many messages match ``query``."""
        where, params, _fts, _fids = self._search_sql(query, account, folder)
        row = self.db.execute(f"SELECT count(*) FROM messages m WHERE {where}", params).fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ threads

    def threads(
        self,
        account: str | None = None,
        folder: str | None = None,
        *,
        offset: int = 0,
        limit: int = 50,
    ) -> list[ThreadInfo]:
        """One page of threads, the thread with the newest message first.

        Counts and the newest message are within the scope (account/folder) given. Walks the
        scope's messages newest first and stops once the page is full, so the first page of a
        100,000-message folder costs a few dozen rows, not a pass over all of them.
        """
        fids = self._folder_ids(account, folder)
        # "+m.folder_id": the per-thread lookups below must use the thread index, not walk
        # the whole folder for each thread (SQLite prefers the folder index otherwise).
        scope = "1" if fids is None else f"+m.folder_id IN ({','.join(map(str, fids)) or 'NULL'})"
        walk = "1" if fids is None else f"m.folder_id IN ({','.join(map(str, fids)) or 'NULL'})"
        need = max(0, offset) + max(0, limit)
        order: list[int] = []
        seen: set[int] = set()
        if need:
            cur = self.db.execute(
                f"SELECT m.thread_id FROM messages m WHERE {walk} ORDER BY m.date DESC, m.id DESC"
            )
            for (tid,) in cur:
                if tid not in seen:
                    seen.add(tid)
                    order.append(int(tid))
                    if len(order) >= need:
                        break
            cur.close()
        out: list[ThreadInfo] = []
        for tid in order[max(0, offset) :]:
            latest = self._one(
                f"m.thread_id = ? AND {scope} ORDER BY m.date DESC, m.id DESC", (tid,)
            )
            count, unread = self.db.execute(
                "SELECT count(*), coalesce(sum(instr(m.flags, 'S') = 0), 0) FROM messages m "
                f"WHERE m.thread_id = ? AND {scope}",
                (tid,),
            ).fetchone()
            first = self.db.execute(
                "SELECT subject FROM messages WHERE thread_id = ? ORDER BY date, id LIMIT 1", (tid,)
            ).fetchone()
            assert latest is not None
            out.append(ThreadInfo(tid, int(count), int(unread), latest, first[0] if first else ""))
        return out

    def count_threads(self, account: str | None = None, folder: str | None = None) -> int:
        """How many threads :meth:`threads` pages through."""
        fids = self._folder_ids(account, folder)
        where = "1" if fids is None else f"folder_id IN ({','.join(map(str, fids)) or 'NULL'})"
        row = self.db.execute(
            f"SELECT count(DISTINCT thread_id) FROM messages WHERE {where}"
        ).fetchone()
        return int(row[0])

    def thread(self, thread_id: int) -> list[ThreadEntry]:
        """Every message of a thread (all folders), in reply-tree order with depths (JWZ)."""
        from tmail.store.threads import thread_order

        rows = self._many("m.thread_id = ?", (thread_id,))
        return thread_order(rows)

    # ------------------------------------------------------------------ repair

    def check(self, progress: Progress | None = None) -> int:
        """Bring the index in step with the Maildirs; return how many rows changed.

        Folders whose ``cur/``/``new/`` changed since last seen (another tool delivered,
        renamed or deleted files; a crash between rename and commit) are rescanned: new files
        are indexed, vanished ones dropped, renamed ones (flags changed elsewhere) followed.
        Folders whose directory disappeared are forgotten; Maildirs that appeared (any directory
        with ``cur`` and ``new`` under ``mail/<account>/``) are added. Unchanged folders cost
        one ``stat`` pair each.
        """
        changed = 0
        seen: set[tuple[str, str]] = set()
        for account, folder, path in self._disk_folders():
            seen.add((account, folder))
            maildir.clean_tmp(path)
            row = self.db.execute(
                "SELECT id, stamp FROM folders WHERE account = ? AND name = ?", (account, folder)
            ).fetchone()
            if row and row[1] and row[1] == maildir.dir_stamp(path):
                continue
            changed += self._rescan(account, folder, path, progress)
        for fid, account, folder in self.db.execute(
            "SELECT id, account, name FROM folders"
        ).fetchall():
            if (account, folder) not in seen:
                n = self.db.execute(
                    "SELECT count(*) FROM messages WHERE folder_id = ?", (fid,)
                ).fetchone()[0]
                if n or not self.folder_path(account, folder).exists():
                    with self.writer_lock(), self._tx() as conn:
                        self._delete_rows(conn, "folder_id = ?", (fid,))
                        if not self.db.execute(
                            "SELECT 1 FROM pending WHERE account = ? AND folder = ?",
                            (account, folder),
                        ).fetchone():
                            conn.execute(
                                "DELETE FROM folders WHERE id = ? AND sync_state = '{}'", (fid,)
                            )
                    changed += int(n)
        return changed

    def _disk_folders(self) -> Iterator[tuple[str, str, Path]]:
        """Every Maildir under ``mail/<account>/``: ``(account, folder, path)``.

        Besides tmail's own one-level layout this finds what other tools write: nested
        directories (mbsync ``SubFolders Verbatim``: ``Work/Projects``), an account directory
        that is itself the inbox with Maildir++ subfolders (``.Work.Projects`` is the folder
        ``Work.Projects``), offlineimap's ``Work.Projects``.
        """
        try:
            accounts = sorted(os.scandir(self.mail_dir), key=lambda e: e.name)
        except FileNotFoundError:
            return
        for acc in accounts:
            if acc.name.startswith(".") or not acc.is_dir():
                continue
            account = maildir.decode_name(acc.name)
            root = Path(acc.path)
            seen: set[str] = set()
            if maildir.is_maildir(root):  # Maildir++: the account directory is the inbox
                seen.add(INBOX)
                yield account, INBOX, root
            for path, parts in _walk_maildirs(root, (), maildir.is_maildir(root)):
                name = normalize_folder("/".join(parts))
                if name in seen:
                    continue
                seen.add(name)
                yield account, name, path

    def _register_dir(
        self, conn: sqlite3.Connection, fid: int, account: str, name: str, path: Path
    ) -> None:
        """Remember where a folder found on disk lives when that is not the default place."""
        rel = (
            None
            if path == self._default_path(account, name)
            else str(path.relative_to(self.mail_dir))
        )
        conn.execute("UPDATE folders SET dir = ? WHERE id = ? AND dir IS NOT ?", (rel, fid, rel))

    def _rescan(self, account: str, folder: str, path: Path, progress: Progress | None) -> int:
        """Make the folder's rows match its files (under the writer lock, in batches)."""
        with self.writer_lock():
            stamp = maildir.dir_stamp(path)  # taken before listing: later changes rescan again
            with self._tx() as conn:
                fid = self._folder_id(conn, account, folder)
                self._register_dir(conn, fid, account, folder, path)
            rows = {
                base: (mid, fname, flags, uid)
                for mid, base, fname, flags, uid in self.db.execute(
                    "SELECT id, base, fname, flags, uid FROM messages WHERE folder_id = ?", (fid,)
                )
            }
            files = {f.base: f for f in maildir.scan(path)}
            gone = [rows[b][0] for b in rows.keys() - files.keys()]
            new = [files[b] for b in files.keys() - rows.keys()]
            moved = [
                (rows[b], files[b])
                for b in rows.keys() & files.keys()
                if rows[b][1] != files[b].rel
            ]
            changed = 0
            with self._tx() as conn:
                for chunk in _chunks(gone, 500):
                    marks = ",".join("?" * len(chunk))
                    self._delete_rows(conn, f"id IN ({marks})", tuple(chunk))
                for (mid, _fname, flags, uid), found in moved:
                    letters = flags_to_maildir(found.flags)
                    conn.execute(
                        "UPDATE messages SET fname = ?, flags = ? WHERE id = ?",
                        (found.rel, letters, mid),
                    )
                    if letters != flags and uid is not None:
                        # Another tool (mutt) changed flags: the user's change, push it.
                        old = self._one("m.id = ?", (mid,))
                        if old is not None:
                            self._record_flags(
                                conn,
                                _replace_flags(old, flags_from_maildir(flags)),
                                found.flags,
                            )
            changed += len(gone) + len(moved)
            changed += self._index_files(account, folder, fid, path, new, progress)
            with self._tx() as conn:
                conn.execute("UPDATE folders SET stamp = ? WHERE id = ?", (stamp, fid))
        return changed

    def _index_files(
        self,
        account: str,
        folder: str,
        fid: int,
        path: Path,
        files: list[maildir.FoundFile],
        progress: Progress | None,
        existing: Mapping[str, tuple[Any, ...]] | None = None,
    ) -> int:
        """Summarize and index ``files`` in batches (one transaction each).

        ``existing`` maps a file's base name to its current row ``(id, uid, uidl, synced_flags,
        thread_id)``: such a row is replaced in place, keeping its id and what only the index
        knows, so a reindex killed halfway leaves every row either old or new, never lost.
        """
        done = 0
        assumed = self._assumed(account)
        for chunk in _chunks(files, _BATCH):
            work = []
            for found in chunk:
                try:
                    full = path / found.rel
                    raw = full.read_bytes()
                    mtime = full.stat().st_mtime
                except FileNotFoundError:
                    continue  # renamed away while we scanned; the next check finds it
                summary = _summarize(raw, assumed)
                del raw
                if len(summary.body_text) > BODY_CAP:  # bound the batch's memory
                    summary = replace(summary, body_text=summary.body_text[:BODY_CAP])
                work.append((found, summary, mtime))
            with self._tx() as conn:
                for found, summary, mtime in work:
                    old = existing.get(found.base) if existing else None
                    mid, uid, uidl, synced, tid = old if old else (None, None, None, None, None)
                    if mid is not None:
                        self._delete_rows(conn, "id = ?", (mid,))
                    self._insert(
                        conn,
                        fid,
                        found.rel,
                        found.flags,
                        summary,
                        uid=uid,
                        uidl=uidl,
                        synced=flags_from_maildir(synced) if synced is not None else None,
                        thread_id=tid,
                        fallback_time=mtime,
                        mid=mid,
                    )
            done += len(work)
            if progress:
                progress(done, f"{account}/{folder}")
        return done

    def reindex(self, account: str | None = None, progress: Progress | None = None) -> int:
        """Rebuild the index of ``account`` (all when None) from the Maildirs alone.

        Every file is read and summarized again and its row replaced in place: message ids,
        server UIDs, POP3 UIDLs, last-synced flags, thread ids, sync state and pending changes
        are kept for files that are still there; rows of vanished files are dropped. Holds the
        writer lock throughout (a sync waits). Killed halfway, it leaves a usable index that the
        next run completes. Returns the number of messages indexed.
        """
        total = 0
        with self.writer_lock():
            for acc, folder, path in list(self._disk_folders()):
                if account is not None and acc != account:
                    continue
                stamp = maildir.dir_stamp(path)
                with self._tx() as conn:
                    fid = self._folder_id(conn, acc, folder)
                    self._register_dir(conn, fid, acc, folder, path)
                existing = {
                    base: (mid, uid, uidl, synced, tid)
                    for mid, base, uid, uidl, synced, tid in self.db.execute(
                        "SELECT id, base, uid, uidl, synced_flags, thread_id FROM messages "
                        "WHERE folder_id = ?",
                        (fid,),
                    )
                }
                files = list(maildir.scan(path))
                total += self._index_files(acc, folder, fid, path, files, progress, existing)
                gone = [existing[b][0] for b in existing.keys() - {f.base for f in files}]
                with self._tx() as conn:
                    for chunk in _chunks(gone, 500):
                        marks = ",".join("?" * len(chunk))
                        self._delete_rows(conn, f"id IN ({marks})", tuple(chunk))
                    conn.execute("UPDATE folders SET stamp = ? WHERE id = ?", (stamp, fid))
            with self._tx() as conn:
                conn.execute(
                    "DELETE FROM threads WHERE id NOT IN (SELECT DISTINCT thread_id FROM messages)"
                )
        self.check(progress)
        return total

    def integrity_problems(self) -> list[str]:
        """SQLite's ``quick_check`` findings (empty when the index file is sound)."""
        rows = [r[0] for r in self.db.execute("PRAGMA quick_check")]
        return [] if rows == ["ok"] else rows

    # ------------------------------------------------------------------ helpers

    def _advance_stamp(self, conn: sqlite3.Connection, fid: int, path: Path, before: str) -> None:
        """After our own change: if the folder was in step before it, it is in step after it."""
        conn.execute(
            "UPDATE folders SET stamp = ? WHERE id = ? AND stamp = ?",
            (maildir.dir_stamp(path), fid, before),
        )

    def _row(self, r: Sequence[Any]) -> MessageRow:
        (mid, account, folder, fname, flags, uid, uidl, msgid, irt, refs, date, tz, fj, tj, cj,
         subject, size, att, charset, snippet, tid, errors, fdir) = r  # fmt: skip
        zone = timezone(timedelta(seconds=tz)) if -86400 < tz < 86400 else UTC
        return MessageRow(
            id=mid,
            account=account,
            folder=folder,
            path=(self.mail_dir / fdir if fdir else self._default_path(account, folder)) / fname,
            flags=flags_from_maildir(flags),
            uid=uid,
            uidl=uidl,
            message_id=msgid,
            in_reply_to=irt,
            references=tuple(refs.split()),
            date=datetime.fromtimestamp(date, zone),
            from_=_addrs(fj),
            to=_addrs(tj),
            cc=_addrs(cj),
            subject=subject,
            size=size,
            has_attachment=bool(att),
            charset=charset,
            snippet=snippet,
            thread_id=tid,
            parse_errors=tuple(errors.split("\n")) if errors else (),
        )


# ---------------------------------------------------------------------- module helpers


def _no_assumed_charsets(account: str) -> tuple[str, ...]:
    return ()


def _summarize(raw: bytes, assumed: Sequence[str] = ()) -> MessageSummary:
    """``tmail.mime.summarize``, which must never stop a message from being stored."""
    # Imported here: the parser is heavy and listing or searching never needs it.
    from tmail.mime import summarize

    try:
        return summarize(raw, assumed)
    except Exception as exc:  # a parser bug must not lose mail: store it with what we know
        return MessageSummary(
            message_id=None,
            in_reply_to=None,
            references=(),
            date=None,
            from_=(),
            to=(),
            cc=(),
            subject="",
            has_attachment=False,
            charset=None,
            body_text="",
            size=len(raw),
            parse_errors=(f"summarize failed: {type(exc).__name__}: {exc}",),
        )


_NOT_FOLDERS = frozenset({"cur", "new", "tmp"})


def _walk_maildirs(
    root: Path, parts: tuple[str, ...], plus: bool, depth: int = 0
) -> Iterator[tuple[Path, tuple[str, ...]]]:
    """Maildirs below ``root`` with their folder-name parts (see ``Store._disk_folders``)."""
    if depth > 8:
        return
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name in _NOT_FOLDERS or not entry.is_dir(follow_symlinks=False):
            continue
        path = Path(entry.path)
        if entry.name.startswith("."):
            # A Maildir++ subfolder of a Maildir++ inbox; other dot dirs (.notmuch) hold no mail.
            if plus and depth == 0 and len(entry.name) > 1 and maildir.is_maildir(path):
                yield path, (entry.name[1:],)
            continue
        name = (*parts, maildir.decode_name(entry.name))
        if maildir.is_maildir(path):
            yield path, name
        yield from _walk_maildirs(path, name, False, depth + 1)


def _addr_json(addrs: tuple[Address, ...]) -> str:
    return json.dumps([[a.name, a.addr] for a in addrs], ensure_ascii=False, separators=(",", ":"))


def _addrs(text: str) -> tuple[Address, ...]:
    if text == "[]":
        return ()
    return tuple(Address(n, a) for n, a in json.loads(text))


def _addr_text(addrs: tuple[Address, ...]) -> str:
    return " ".join(f"{a.name} {a.addr}".strip() for a in addrs)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _replace_flags(row: MessageRow, flags: frozenset[Flag]) -> MessageRow:
    return replace(row, flags=flags)


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


__all__ = ["INBOX", "Store", "normalize_folder"]
