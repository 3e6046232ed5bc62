"""Folders: where each Maildir lives, their index entries and counts, rename and delete."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from tmail.core.errors import StoreError
from tmail.store import maildir
from tmail.store.index_db import IndexDb
from tmail.store.models import StoredFolder, normalize_folder


class Folders(IndexDb):
    """One Maildir per (account, folder) under ``mail/``, with its row in ``folders``."""

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
