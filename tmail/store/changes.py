"""The user's changes and the server's: flags, moves, deletes, and their pending journal."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import replace

from tmail.core.errors import StoreError
from tmail.core.models import Flag, flags_from_maildir, flags_to_maildir
from tmail.store import journal, maildir
from tmail.store.index_db import chunks
from tmail.store.models import MessageRow, PendingChange, normalize_folder
from tmail.store.reader import Reader


class Changes(Reader):
    """Flag changes, moves and deletes (``record=True``: the user's, journalled for the next
    sync; ``record=False``: the server's), and the journal itself: :meth:`pending`."""

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
            for chunk in chunks(list(flags_by_uid), 500):
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
                journal.record_flags(conn, row, flags)
            else:
                conn.execute(
                    "UPDATE messages SET fname = ?, flags = ?, synced_flags = ? WHERE id = ?",
                    (new_rel, letters, letters, row.id),
                )
            fid = self._folder_id(conn, row.account, row.folder)
            self._advance_stamp(conn, fid, folder, before)

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
            journal.record(conn, row.account, target, "append", row.id, None, {})
            return
        data = {"to": target} | ({"base": base} if base is not None else {})
        journal.record(conn, row.account, row.folder, "move", row.id, row.uid, data)

    def _restore_base(self, conn: sqlite3.Connection, row: MessageRow, base: str | None) -> None:
        """A message moved back before a sync: its UID and the server's flags again, and its
        flags changed meanwhile as a pending change."""
        conn.execute(
            "UPDATE messages SET uid = ?, synced_flags = ? WHERE id = ?", (row.uid, base, row.id)
        )
        if base is not None:
            conn.execute("DELETE FROM pending WHERE message = ? AND kind = 'flags'", (row.id,))
            journal.record_flags(conn, replace(row, flags=flags_from_maildir(base)), row.flags)

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
            journal.record(conn, row.account, prior[2], "delete", row.id, prior[3], {})
        elif row.uid is not None:
            journal.record(conn, row.account, row.folder, "delete", row.id, row.uid, {})

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
