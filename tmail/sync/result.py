"""What a sync reports: per folder, per account, and progress events while it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from tmail.core.counts import plural


@dataclass(frozen=True)
class Progress:
    """A progress event: ``done`` of ``total`` messages of ``folder`` fetched, ``bytes`` so far."""

    account: str
    folder: str
    done: int
    total: int
    bytes: int


ProgressFn = Callable[[Progress], None]
StopFn = Callable[[], bool]


@dataclass(frozen=True)
class FolderResult:
    """One folder's outcome: messages fetched, changed (flags), removed locally, pushed."""

    folder: str
    new: int = 0
    changed: int = 0
    removed: int = 0
    pushed: int = 0
    error: str | None = None


@dataclass(frozen=True)
class AccountSyncResult:
    """One account's outcome. ``errors`` holds one printable line per failure."""

    account: str
    folders: tuple[FolderResult, ...] = ()
    errors: tuple[str, ...] = ()
    new_in_inbox: int = 0
    stopped: bool = False  # a stop request ended the pass early (what was stored is kept)
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def new(self) -> int:
        return sum(f.new for f in self.folders)

    @property
    def changed(self) -> int:
        return sum(f.changed for f in self.folders)

    @property
    def removed(self) -> int:
        return sum(f.removed for f in self.folders)

    @property
    def pushed(self) -> int:
        """Local changes sent to the server: flags, deletions, moves, uploads."""
        return sum(f.pushed for f in self.folders)

    def summary(self) -> str:
        """``work: 12 new, 3 changed, 0 removed, 0 errors``; ``2 pushed`` before the errors
        when local changes went to the server."""
        pushed = f"{self.pushed} pushed, " if self.pushed else ""
        return (
            f"{self.account}: {self.new} new, {self.changed} changed, "
            f"{self.removed} removed, {pushed}{plural(len(self.errors), 'error')}"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "account": self.account,
            "ok": self.ok,
            "new": self.new,
            "changed": self.changed,
            "removed": self.removed,
            "pushed": self.pushed,
            "errors": list(self.errors),
            "stopped": self.stopped,
            "folders": [
                {
                    "folder": f.folder,
                    "new": f.new,
                    "changed": f.changed,
                    "removed": f.removed,
                    "pushed": f.pushed,
                    "error": f.error,
                }
                for f in self.folders
            ],
        }
