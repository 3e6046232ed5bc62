"""What the store hands out: frozen rows, never sqlite3 objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from tmail.core.models import Address, Flag

INBOX = "INBOX"
SortKey = Literal["date", "from", "subject", "size"]


def normalize_folder(name: str) -> str:
    """Folder names as the index keeps them: the inbox is always ``INBOX`` (RFC 3501 5.1)."""
    return INBOX if name.upper() == INBOX else name


@dataclass(frozen=True)
class MessageRow:
    """One indexed message, as listings and the reader see it.

    ``date`` is the Date header (timezone-aware) or, when it is missing or broken, the time the
    message was stored. ``path`` is where the file was when the row was read; another tool may
    rename it at any moment (flag changes), so read bytes through :meth:`Store.read_raw`.
    """

    id: int
    account: str
    folder: str
    path: Path
    flags: frozenset[Flag]
    uid: int | None
    uidl: str | None
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime
    from_: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    size: int
    has_attachment: bool
    charset: str | None
    snippet: str
    thread_id: int
    parse_errors: tuple[str, ...] = field(default=())

    @property
    def unread(self) -> bool:
        return Flag.SEEN not in self.flags

    @property
    def flagged(self) -> bool:
        return Flag.FLAGGED in self.flags

    @property
    def sender(self) -> str:
        """The first From address for a listing column (decoded, not yet terminal-safe)."""
        return self.from_[0].formatted() if self.from_ else ""


@dataclass(frozen=True)
class StoredFolder:
    """A folder of one account in the local store, with its message counts."""

    account: str
    name: str
    total: int
    unread: int
    flagged: int = 0


@dataclass(frozen=True)
class ThreadInfo:
    """One thread in a thread listing: its newest message decides its place."""

    thread_id: int
    count: int
    unread: int
    latest: MessageRow  # the newest message of the thread within the listed scope
    subject: str  # the subject of the thread's first message


@dataclass(frozen=True)
class ThreadEntry:
    """One message of a thread in display order, with its depth in the reply tree."""

    depth: int
    message: MessageRow


@dataclass(frozen=True)
class FolderState:
    """What the last completed sync of a folder recorded (kept as JSON in the folder's row)."""

    server_name: str
    uidvalidity: int
    uidnext: int
    highestmodseq: int | None


PendingKind = Literal["flags", "move", "delete", "append"]


@dataclass(frozen=True)
class PendingChange:
    """A change the user made locally that the next sync must carry to the server.

    ``kind`` and ``data``:

    ``flags``
        ``{"add": "FS", "remove": "T", "base": "S"}`` (Maildir letters; ``base``: the flags
        before the first unpushed change) for the message ``message`` whose
        server UID was ``uid`` in ``account``/``folder``. Several flag changes of one message
        are merged into one row. The sync pushes the difference between the flags now and
        ``Store.synced_flags``, which takes ``base`` for a UID with no agreed flags yet.
    ``move``
        the message ``message`` left ``folder`` (where it had ``uid``) for ``data["to"]``;
        its row now sits in the target folder with no UID until the sync sets one.
        ``data["base"]`` (Maildir letters, when known): the server's flags at the move; the
        sync sets what changed since on the server's copy before it moves it.
    ``delete``
        the message with ``uid`` in ``folder`` was expunged locally (``message`` is the id it
        had; the row and file are gone). This is the planner's tombstone.
    ``append``
        the message ``message`` exists only locally in ``folder`` (a draft, a sent copy) and
        must be uploaded; ``uid`` is None.
    """

    id: int
    account: str
    folder: str
    kind: PendingKind
    message: int | None
    uid: int | None
    data: dict[str, Any]
    created: float


@dataclass(frozen=True)
class NewMessage:
    """One message for :meth:`tmail.store.Store.add_messages` (same meaning as the arguments of
    :meth:`~tmail.store.Store.add_message`)."""

    raw: bytes
    flags: frozenset[Flag] = frozenset()
    uid: int | None = None
    uidl: str | None = None
    received: datetime | None = None
