"""What the sync engines keep in the store, in their words: folder state, local and
synced flags, tombstones, POP3 UIDLs, UIDs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from tmail.core.models import Flag, flags_from_maildir, flags_to_maildir
from tmail.store.folders import Folders
from tmail.store.models import FolderState, normalize_folder


class SyncState(Folders):
    """The store's side of :class:`tmail.sync.storeview.SyncStore`."""

    def uid_flags(self, account: str, folder: str) -> dict[int, frozenset[Flag]]:
        """``{uid: flags}`` of every message of the folder that has a server UID.

        :meth:`local_flags` adds the :meth:`tombstones`: the planner's ``local_now``.
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
        :meth:`mark_synced`. A UID with no agreed flags yet (a message the user moved here, its
        new UID just learnt) but with an unpushed flag change takes the flags it had before that
        change, the journal's ``base``: the change is then pushed, not undone by the server's
        flags. Any other UID without a known base is left out.
        """
        fid = self._find_folder(account, folder)
        if fid is None:
            return {}
        out = {
            int(uid): flags_from_maildir(flags)
            for uid, flags in self.db.execute(
                "SELECT uid, synced_flags FROM messages WHERE folder_id = ? AND uid IS NOT NULL "
                "AND synced_flags IS NOT NULL",
                (fid,),
            )
        }
        for uid, base in self.db.execute(
            "SELECT m.uid, json_extract(p.data, '$.base') FROM pending p "
            "JOIN messages m ON m.id = p.message WHERE p.kind = 'flags' AND m.folder_id = ? "
            "AND m.uid IS NOT NULL AND m.synced_flags IS NULL",
            (fid,),
        ):
            out[int(uid)] = flags_from_maildir(base or "")
        return out

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

    def local_flags(self, account: str, folder: str) -> dict[int, frozenset[Flag] | None]:
        """The planner's ``local_now``: :meth:`uid_flags`, and None for each of the
        :meth:`tombstones` (deleted here, not yet expunged on the server)."""
        out: dict[int, frozenset[Flag] | None] = dict(self.uid_flags(account, folder))
        for uid in self.tombstones(account, folder):
            out[uid] = None
        return out

    # ------------------------------------------------------------------ sync state

    def folder_state(self, account: str, folder: str) -> FolderState | None:
        """What the last completed sync of the folder recorded; None when there is none (or it
        is not one a sync wrote: the next sync then starts the folder afresh)."""
        row = self.db.execute(
            "SELECT sync_state FROM folders WHERE account = ? AND name = ?",
            (account, normalize_folder(folder)),
        ).fetchone()
        s = json.loads(row[0]) if row else {}
        try:
            return FolderState(
                server_name=str(s["server_name"]),
                uidvalidity=int(s["uidvalidity"]),
                uidnext=int(s["uidnext"]),
                highestmodseq=int(s["highestmodseq"]) if s.get("highestmodseq") else None,
            )
        except (KeyError, TypeError, ValueError):
            return None

    def set_folder_state(self, account: str, folder: str, state: FolderState) -> None:
        """Replace the folder's sync state (creates the folder entry if needed)."""
        data = {
            "server_name": state.server_name,
            "uidvalidity": state.uidvalidity,
            "uidnext": state.uidnext,
            "highestmodseq": state.highestmodseq,
        }
        with self._tx() as conn:
            fid = self._folder_id(conn, account, folder)
            conn.execute("UPDATE folders SET sync_state = ? WHERE id = ?", (json.dumps(data), fid))

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

    def uploads_waiting(self, account: str) -> dict[str, list[int]]:
        """Folder -> ids of its pending APPENDs (sent copies, drafts made here)."""
        out: dict[str, list[int]] = {}
        for pid, folder in self.db.execute(
            "SELECT id, folder FROM pending WHERE account = ? AND kind = 'append' ORDER BY id",
            (account,),
        ):
            out.setdefault(folder, []).append(int(pid))
        return out

    def local_only_folders(self, account: str) -> set[str]:
        """Folders the server would not create: what is put there stays local."""
        return set(self.account_state(account).get("local_only", []))

    def set_local_only(self, account: str, folder: str) -> None:
        """Remember that the server would not create ``folder`` (see :meth:`local_only_folders`)."""
        state = self.account_state(account)
        state["local_only"] = sorted({*state.get("local_only", []), folder})
        self.set_account_state(account, state)

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
