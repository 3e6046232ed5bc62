"""Adding messages: write the file the Maildir way, summarize it, index it (FTS, refs, thread)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from tmail.core.models import Address, Flag, MessageSummary, flags_from_maildir, flags_to_maildir
from tmail.store import journal, maildir
from tmail.store.folders import Folders
from tmail.store.index_db import BATCH, Progress, chunks
from tmail.store.models import NewMessage, normalize_folder

BODY_CAP = 100_000  # characters of body text indexed per message (bounds index size and memory)


class Indexer(Folders):
    """New messages into the store: :meth:`add_message`, :meth:`add_messages`; the rescan and
    reindex of :mod:`tmail.store.repair` index found files through :meth:`_index_files`."""

    def _assumed(self, account: str) -> tuple[str, ...]:
        return tuple(self.assumed_charsets(account))

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
                        journal.record(conn, account, folder, "append", mid, None, {})
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
        return their existing ids and write nothing. Returns the ids in the order of ``items``;
        an empty batch does nothing.
        """
        if not items:
            return []
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
                for chunk in chunks(wanted, 500):
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
        from tmail.store.threads import thread_for

        tid = thread_for(conn, mid, s.message_id, refs, s.subject, ts, thread_id)
        conn.execute("UPDATE messages SET thread_id = ? WHERE id = ?", (tid, mid))
        from tmail.store.contacts import harvest

        harvest(conn, mid, fid, ts, s.from_, s.to, s.cc)
        return mid

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
        for chunk in chunks(files, BATCH):
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


def _addr_json(addrs: tuple[Address, ...]) -> str:
    return json.dumps([[a.name, a.addr] for a in addrs], ensure_ascii=False, separators=(",", ":"))


def _addr_text(addrs: tuple[Address, ...]) -> str:
    return " ".join(f"{a.name} {a.addr}".strip() for a in addrs)
