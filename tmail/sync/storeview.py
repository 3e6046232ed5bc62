"""What the sync engines need from the store, in the engines' own words.

:class:`SyncStore` is the seam: the engines call only these methods, and
:class:`tmail.sync.storeadapter.StoreAdapter` implements them on :class:`tmail.store.Store`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from tmail.store import NewMessage, PendingChange
from tmail.sync.plan import Flags


@dataclass(frozen=True)
class FolderState:
    """What the last completed sync of a folder recorded."""

    server_name: str
    uidvalidity: int
    uidnext: int
    highestmodseq: int | None


class SyncStore(Protocol):
    # ---- per-folder sync state
    def folder_state(self, account: str, folder: str) -> FolderState | None: ...
    def set_folder_state(self, account: str, folder: str, state: FolderState) -> None: ...
    def forget_folder_state(self, account: str, folder: str) -> None: ...
    def synced_folders(self, account: str) -> list[str]: ...

    # ---- the three views
    def has_pending(self, account: str, folder: str) -> bool: ...
    def local_flags(self, account: str, folder: str) -> dict[int, Flags | None]: ...
    def base_flags(self, account: str, folder: str) -> dict[int, Flags]: ...

    # ---- server changes (never recorded as pending local changes)
    def apply_server_flags(self, account: str, folder: str, flags: dict[int, Flags]) -> None: ...
    def remove_by_server(self, account: str, folder: str, uid: int) -> None: ...
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
    ) -> None: ...

    def add_batch(self, account: str, folder: str, items: list[NewMessage]) -> None: ...

    # ---- local changes pushed
    def pending(self, account: str, folder: str) -> list[PendingChange]: ...
    def clear_pending(self, ids: list[int]) -> None: ...
    def forget_local_deletions(self, account: str, folder: str, uids: list[int]) -> None: ...
    def clear_pending_flags(self, account: str, folder: str) -> None: ...
    def set_uid(self, message: int, uid: int | None, flags: Flags | None) -> None: ...
    def message_flags(self, message: int) -> Flags | None: ...
    def read_raw(self, message: int) -> bytes | None: ...

    # ---- UIDVALIDITY change
    def local_identities(self, account: str, folder: str) -> list[tuple[int, str | None, int]]: ...
    def reassign_uids(
        self, account: str, folder: str, mapping: Mapping[int, int | None]
    ) -> None: ...

    # ---- POP3
    def pop3_seen(self, account: str) -> dict[str, float]: ...
    def forget_uidls(self, account: str, uidls: list[str]) -> None: ...
