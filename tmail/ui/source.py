"""What the UI reads: a small interface over the local store, in the UI's own types.

The views never talk to SQLite or Maildir directly; they ask a :class:`MailSource` for one page of
rows at a time (the index is a lazy list: a 100,000-message folder costs one page, not 100,000
rows). :mod:`tmail.ui.storesource` implements it over :class:`tmail.store.Store`; tests may give
any object with these methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal, Protocol

from tmail.core.models import Flag
from tmail.core.roles import Role

SortKey = Literal["date", "from", "subject", "size"]
SORT_KEYS: tuple[SortKey, ...] = ("date", "from", "subject", "size")

ALL_INBOXES = "*"  # View.account for the unified "All inboxes"


@dataclass(frozen=True)
class SidebarFolder:
    """One folder of one account, with its counts."""

    account: str
    name: str
    total: int
    unread: int
    role: Role | None = None


@dataclass(frozen=True)
class View:
    """Which rows the index shows: a folder, all inboxes, or search results; and in what order."""

    account: str = ALL_INBOXES
    folder: str = "INBOX"
    query: str | None = None
    sort: SortKey = "date"
    reverse: bool = True  # newest (largest) first
    threads: bool = False

    @property
    def unified(self) -> bool:
        return self.account == ALL_INBOXES

    def title(self) -> str:
        if self.query is not None:
            # a search from a folder looks in that folder only: say so
            where = "" if self.unified else f" in {self.account}/{self.folder}"
            return f"search{where}: {self.query}"
        if self.unified:
            return "All inboxes"
        return f"{self.account}/{self.folder}"

    def with_(self, **changes: object) -> View:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Row:
    """One line of the index. Strings are decoded but not yet terminal-safe (views do that)."""

    id: int
    account: str
    folder: str
    date: datetime | None
    sender: str
    subject: str
    flags: frozenset[Flag]
    size: int
    has_attachment: bool = False
    depth: int = 0  # in thread view: 0 for a thread's root
    thread_id: int | None = None
    # Mail one sent (in Sent, Drafts, an outbox, or from one's own address): the index shows
    # "To: recipient" in the sender's place, as mutt's %F and Thunderbird's Sent folder do.
    outgoing: bool = False
    recipient: str = ""

    @property
    def unread(self) -> bool:
        return Flag.SEEN not in self.flags


@dataclass(frozen=True)
class Contact:
    name: str
    addr: str
    members: tuple[Contact, ...] = ()  # a group: completing it writes its members

    def formatted(self) -> str:
        """``Name <addr>`` as typed in an address field; a name with a comma or another
        special character quoted (RFC 5322), so that the field still splits right. A group is
        its members, comma-separated."""
        if self.members:
            return ", ".join(m.formatted() for m in self.members)
        if not self.name:
            return self.addr
        name = self.name
        if any(c in name for c in ',;:<>@"()[]\\'):
            name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{name} <{self.addr}>"


class MailSource(Protocol):
    """The store as the UI sees it. Every method is quick (local disk only)."""

    def accounts(self) -> Sequence[str]: ...

    def folders(self) -> Sequence[SidebarFolder]: ...

    def count(self, view: View) -> int: ...

    def rows(self, view: View, offset: int, limit: int) -> Sequence[Row]: ...

    def row(self, message_id: int) -> Row | None: ...

    def raw(self, message_id: int) -> bytes: ...

    def contacts(self, prefix: str, limit: int = 10) -> Sequence[Contact]: ...


@dataclass
class MemorySource:
    """A MailSource over a list in memory: for tests and for the off-terminal benchmark."""

    messages: list[tuple[Row, bytes]] = field(default_factory=list)
    extra_folders: list[tuple[str, str]] = field(default_factory=list)

    def accounts(self) -> Sequence[str]:
        seen: dict[str, None] = {}
        for row, _ in self.messages:
            seen[row.account] = None
        for account, _ in self.extra_folders:
            seen[account] = None
        return list(seen)

    def folders(self) -> Sequence[SidebarFolder]:
        counts: dict[tuple[str, str], list[int]] = {}
        for account, name in self.extra_folders:
            counts.setdefault((account, name), [0, 0])
        for row, _ in self.messages:
            c = counts.setdefault((row.account, row.folder), [0, 0])
            c[0] += 1
            c[1] += row.unread
        return [
            SidebarFolder(a, f, t, u, Role.INBOX if f == "INBOX" else None)
            for (a, f), (t, u) in counts.items()
        ]

    def _select(self, view: View) -> list[Row]:
        if view.query is not None:
            q = view.query.lower()
            rows = [r for r, _ in self.messages if q in (r.subject + " " + r.sender).lower()]
        elif view.unified:
            rows = [r for r, _ in self.messages if r.folder == "INBOX"]
        else:
            rows = [
                r for r, _ in self.messages if r.account == view.account and r.folder == view.folder
            ]

        def key(r: Row) -> tuple[object, ...]:
            if view.sort == "from":
                return (r.sender.lower(), r.id)
            if view.sort == "subject":
                return (r.subject.lower(), r.id)
            if view.sort == "size":
                return (r.size, r.id)
            return (r.date.timestamp() if r.date else 0.0, r.id)

        return sorted(rows, key=key, reverse=view.reverse)

    def count(self, view: View) -> int:
        return len(self._select(view))

    def rows(self, view: View, offset: int, limit: int) -> Sequence[Row]:
        return self._select(view)[offset : offset + limit]

    def row(self, message_id: int) -> Row | None:
        return next((r for r, _ in self.messages if r.id == message_id), None)

    def raw(self, message_id: int) -> bytes:
        return next(raw for r, raw in self.messages if r.id == message_id)

    def contacts(self, prefix: str, limit: int = 10) -> Sequence[Contact]:
        return []

    def update(self, row: Row) -> None:
        self.messages = [(row if r.id == row.id else r, raw) for r, raw in self.messages]
