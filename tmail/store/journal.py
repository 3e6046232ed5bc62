"""The pending-changes journal: what the user changed here that the next sync pushes.

Rows are written inside the caller's write transaction; :mod:`tmail.store.changes` (flags,
moves, deletes), :mod:`tmail.store.indexer` (local appends) and :mod:`tmail.store.repair`
(flags changed by another tool) record into it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Mapping
from typing import Any

from tmail.core.models import Flag, flags_from_maildir, flags_to_maildir
from tmail.store.models import MessageRow, normalize_folder


def record_flags(conn: sqlite3.Connection, row: MessageRow, flags: frozenset[Flag]) -> None:
    """Merge a local flag change into the message's one pending ``flags`` row.

    The row keeps the flags the message had before the first unpushed change (``base``),
    so changing a flag back cancels the change instead of pushing both.
    """
    old = conn.execute(
        "SELECT id, data FROM pending WHERE message = ? AND kind = 'flags'", (row.id,)
    ).fetchone()
    base = flags_from_maildir(json.loads(old[1]).get("base", "")) if old else row.flags
    add, remove = flags - base, base - flags
    data = {
        "add": flags_to_maildir(add),
        "remove": flags_to_maildir(remove),
        "base": flags_to_maildir(base),
    }
    if old and not add and not remove:
        conn.execute("DELETE FROM pending WHERE id = ?", (old[0],))
    elif old:
        conn.execute("UPDATE pending SET data = ? WHERE id = ?", (json.dumps(data), old[0]))
    elif add or remove:
        record(conn, row.account, row.folder, "flags", row.id, row.uid, data)


def record(
    conn: sqlite3.Connection,
    account: str,
    folder: str,
    kind: str,
    message: int | None,
    uid: int | None,
    data: Mapping[str, Any],
) -> None:
    """Add one row to the journal (see :class:`tmail.store.PendingChange` for its kinds)."""
    conn.execute(
        "INSERT INTO pending (account, folder, kind, message, uid, data, created) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            account,
            normalize_folder(folder),
            kind,
            message,
            uid,
            json.dumps(dict(data)),
            time.time(),
        ),
    )
