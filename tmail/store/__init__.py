"""The local store: one Maildir per folder plus a SQLite index (WAL, FTS5).

Maildir files are the truth; the index is a cache that can be rebuilt from them. Everything
starts at :class:`Store`; :mod:`tmail.store.query` documents the search language.
"""

from tmail.store.models import (
    INBOX,
    FolderState,
    MessageRow,
    NewMessage,
    PendingChange,
    StoredFolder,
    ThreadEntry,
    ThreadInfo,
    normalize_folder,
)
from tmail.store.store import Store


def __getattr__(name: str) -> object:
    # QueryError lives with the query parser, which ``tmail list`` never needs to import.
    if name == "QueryError":
        from tmail.store.query import QueryError

        return QueryError
    raise AttributeError(name)


__all__ = [
    "INBOX",
    "FolderState",
    "MessageRow",
    "NewMessage",
    "PendingChange",
    "QueryError",
    "Store",
    "StoredFolder",
    "ThreadEntry",
    "ThreadInfo",
    "normalize_folder",
]
