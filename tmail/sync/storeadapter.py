""":class:`tmail.sync.storeview.SyncStore` on the real :class:`tmail.store.Store`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from tmail.store import NewMessage, PendingChange, Store
from tmail.sync.plan import Flags
from tmail.sync.storeview import FolderState


class StoreAdapter:
    """The engines' view of the store: server changes are applied with ``record=False``."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # ---- per-folder sync state
    def folder_state(self, account: str, folder: str) -> FolderState | None:
        s = self.store.folder_state(account, folder)
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
        self.store.set_folder_state(
            account,
            folder,
            {
                "server_name": state.server_name,
                "uidvalidity": state.uidvalidity,
                "uidnext": state.uidnext,
                "highestmodseq": state.highestmodseq,
            },
        )

    def forget_folder_state(self, account: str, folder: str) -> None:
        self.store.forget_folder_state(account, folder)

    def synced_folders(self, account: str) -> list[str]:
        return self.store.synced_folders(account)

    def rename_folder(self, account: str, old: str, new: str) -> None:
        """The server renamed a folder: the Maildir, its index rows and sync state follow."""
        self.store.rename_folder(account, old, new)

    # ---- the three views
    def has_pending(self, account: str, folder: str) -> bool:
        return self.store.has_pending(account, folder)

    def local_flags(self, account: str, folder: str) -> dict[int, Flags | None]:
        out: dict[int, Flags | None] = dict(self.store.uid_flags(account, folder))
        for uid in self.store.tombstones(account, folder):
            out[uid] = None
        return out

    def base_flags(self, account: str, folder: str) -> dict[int, Flags]:
        return self.store.synced_flags(account, folder)

    def pending(self, account: str, folder: str) -> list[PendingChange]:
        return self.store.pending(account, folder)

    def uploads_waiting(self, account: str) -> dict[str, list[int]]:
        """Folder -> ids of its pending APPENDs (sent copies, drafts made here)."""
        out: dict[str, list[int]] = {}
        for ch in self.store.pending(account):
            if ch.kind == "append":
                out.setdefault(ch.folder, []).append(ch.id)
        return out

    def local_only_folders(self, account: str) -> set[str]:
        """Folders the server would not create: what is put there stays local."""
        return set(self.store.account_state(account).get("local_only", []))

    def set_local_only(self, account: str, folder: str) -> None:
        state = self.store.account_state(account)
        state["local_only"] = sorted({*state.get("local_only", []), folder})
        self.store.set_account_state(account, state)

    # ---- server changes
    def apply_server_flags(self, account: str, folder: str, flags: dict[int, Flags]) -> None:
        self.store.set_server_flags(account, folder, flags)

    def remove_by_server(self, account: str, folder: str, uid: int) -> None:
        row = self.store.by_uid(account, folder, uid)
        if row is not None:
            self.store.remove(row.id, record=False)

    def add_fetched(
        self,
        account: str,
        folder: str,
        raw: bytes,
        flags: Flags,
        *,
        uid: int | None = None,
        uidl: str | None = None,
        partial: bool = False,
        when: datetime | None = None,
    ) -> None:
        self.store.add_message(account, folder, raw, flags, uid=uid, uidl=uidl, received=when)

    def add_batch(self, account: str, folder: str, items: list[NewMessage]) -> None:
        if items:
            self.store.add_messages(account, folder, items)

    # ---- local changes pushed
    def forget_local_deletions(self, account: str, folder: str, uids: list[int]) -> None:
        self.store.forget_local_deletions(account, folder, uids)

    def clear_pending_flags(self, account: str, folder: str) -> None:
        self.store.clear_pending_flags(account, folder)

    def clear_pending(self, ids: list[int]) -> None:
        self.store.clear_pending(ids)

    def set_uid(self, message: int, uid: int | None, flags: Flags | None) -> None:
        self.store.set_uid(message, uid, synced_flags=flags)

    def message_flags(self, message: int) -> Flags | None:
        row = self.store.get(message)
        return row.flags if row is not None else None

    def read_raw(self, message: int) -> bytes | None:
        if self.store.get(message) is None:
            return None
        return self.store.read_raw(message)

    # ---- UIDVALIDITY change
    def local_identities(self, account: str, folder: str) -> list[tuple[int, str | None, int]]:
        return self.store.local_identities(account, folder)

    def reassign_uids(self, account: str, folder: str, mapping: Mapping[int, int | None]) -> None:
        self.store.reassign_uids(account, folder, mapping)

    # ---- POP3
    def pop3_seen(self, account: str) -> dict[str, float]:
        return self.store.pop3_stored(account)

    def forget_uidls(self, account: str, uidls: list[str]) -> None:
        self.store.forget_uidls(account, uidls)
