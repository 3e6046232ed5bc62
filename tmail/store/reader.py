"""Reading the index: lookups, pages of messages, search and threads. Nothing here writes
files; ``_relocate`` only updates a row when another tool renamed a message's file."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tmail.core.errors import StoreError
from tmail.core.models import Address, flags_from_maildir, flags_to_maildir
from tmail.store import maildir
from tmail.store.folders import Folders
from tmail.store.index_db import chunks
from tmail.store.models import MessageRow, SortKey, ThreadEntry, ThreadInfo, normalize_folder

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


class Reader(Folders):
    """Messages as :class:`MessageRow`: by id, UID, UIDL or Message-ID, in pages, by search."""

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
        for chunk in chunks(list(ids), 500):
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


def _addrs(text: str) -> tuple[Address, ...]:
    if text == "[]":
        return ()
    return tuple(Address(n, a) for n, a in json.loads(text))
