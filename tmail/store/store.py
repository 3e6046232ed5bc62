"""The store: Maildir folders on disk joined with a SQLite index. Start at :class:`Store`.

:class:`Store` is the one public face; each job lives in its own module below it, and nothing
there imports this one (``[tool.importlinter]`` in pyproject.toml keeps it so):

- :mod:`tmail.store.index_db`: connections, write transactions, the writer lock
- :mod:`tmail.store.folders`: where each folder's Maildir is, folder rows, rename and delete
- :mod:`tmail.store.indexer`: adding messages (file, summary, FTS, threads)
- :mod:`tmail.store.reader`: lookups, pages, search, threads
- :mod:`tmail.store.changes`: flags, moves, deletes and the pending-changes journal
- :mod:`tmail.store.syncstate`: what the sync engines keep (folder state, synced flags, UIDLs)
- :mod:`tmail.store.repair`: the start-up check, rescans, reindex

Below them: :mod:`tmail.store.journal` (the pending-changes rows several jobs write),
:mod:`tmail.store.threads` (thread ids and reply trees), :mod:`tmail.store.models`,
:mod:`tmail.store.maildir`, :mod:`tmail.store.query`, :mod:`tmail.store.schema`.

Each job is one class (``Folders``, ``Indexer``, ...) that inherits the jobs it builds on, all
of them sharing one :class:`~tmail.store.index_db.IndexDb` (connections, lock, paths); ``Store``
inherits the top ones, so its API is theirs together and a job can only call jobs below it.
A new job gets a new module and class in that picture, and a place in the contract.
"""

from __future__ import annotations

from pathlib import Path

from tmail.store.changes import Changes
from tmail.store.contacts import Contacts
from tmail.store.index_db import INDEX_NAME, LOCK_NAME, AssumedCharsets, Progress
from tmail.store.indexer import BODY_CAP
from tmail.store.models import INBOX, normalize_folder
from tmail.store.repair import Repair
from tmail.store.syncstate import SyncState


class Store(Repair, Changes, SyncState, Contacts):
    """Mail on disk: one Maildir per (account, folder) plus a SQLite index over all of them.

    Layout under ``data_dir``: ``mail/<account>/<folder>/{cur,new,tmp}`` (names made safe by
    :func:`tmail.store.maildir.encode_name`), ``index.sqlite3`` (WAL) and ``store.lock``.

    **Threads and processes.** One ``Store`` may be shared by threads: each thread gets its own
    SQLite connection (WAL, busy timeout 30 s). Every change that renames or writes files runs
    under an exclusive ``flock`` on ``store.lock``, so a TUI and ``tmail sync --watch`` in two
    processes never move the same file at once. Reads never take that lock.

    **Truth.** The Maildir files are the truth. A message is *known* (returned by any lookup)
    only after its file is renamed into ``cur/``/``new/`` *and* its index row is committed; a
    crash in between leaves a file that :meth:`check` indexes at the next start.

    **Local versus server changes.** Methods that change messages take ``record``: ``True``
    (the default, for the user's own actions in the TUI/CLI) also writes a row in the pending
    changes table for the next sync to push; the sync engine passes ``record=False`` when it
    applies what the server said. See :meth:`pending` and :class:`PendingChange`.

    Open with :meth:`Store.open`, which also repairs the index; close with :meth:`close` (or use
    it as a context manager).
    """

    @classmethod
    def open(
        cls,
        data_dir: Path | str,
        *,
        check: bool = True,
        assumed_charsets: AssumedCharsets | None = None,
    ) -> Store:
        """Open (creating if needed) the store in ``data_dir`` and bring the index in step.

        With ``check`` (the default) a missing or corrupt index is rebuilt and folders changed
        by other tools since the last run are rescanned (cheap when nothing changed: one
        ``stat`` per folder). See :meth:`check`.

        ``assumed_charsets(account)`` gives an account's charsets to try first for 8-bit text
        that declares none (the config's ``assumed_charsets``); it is called only when a message
        of that account is indexed. Messages indexed before a change of that setting keep their
        old text until ``tmail reindex``.
        """
        store = cls(data_dir, assumed_charsets=assumed_charsets)
        if check:
            store.check()
        return store


# The old module's names, for the callers that import them from here.
__all__ = [
    "BODY_CAP",
    "INBOX",
    "INDEX_NAME",
    "LOCK_NAME",
    "AssumedCharsets",
    "Progress",
    "Store",
    "normalize_folder",
]
