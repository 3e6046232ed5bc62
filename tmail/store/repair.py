"""Bringing the index in step with the Maildirs: the start-up check, rescans, reindex."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from tmail.core.models import flags_from_maildir, flags_to_maildir
from tmail.store import journal, maildir
from tmail.store.index_db import Progress, chunks
from tmail.store.indexer import Indexer
from tmail.store.models import INBOX, normalize_folder
from tmail.store.reader import Reader


class Repair(Indexer, Reader):
    """:meth:`check` (cheap when nothing changed), :meth:`reindex`, :meth:`integrity_problems`."""

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
                for chunk in chunks(gone, 500):
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
                            journal.record_flags(
                                conn, replace(old, flags=flags_from_maildir(flags)), found.flags
                            )
            changed += len(gone) + len(moved)
            changed += self._index_files(account, folder, fid, path, new, progress)
            with self._tx() as conn:
                conn.execute("UPDATE folders SET stamp = ? WHERE id = ?", (stamp, fid))
        return changed

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
                    for chunk in chunks(gone, 500):
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


_NOT_FOLDERS = frozenset({"cur", "new", "tmp"})


def _walk_maildirs(
    root: Path, parts: tuple[str, ...], plus: bool, depth: int = 0
) -> Iterator[tuple[Path, tuple[str, ...]]]:
    """Maildirs below ``root`` with their folder-name parts (see ``Repair._disk_folders``)."""
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
