"""The order of the threads in a folder's thread view, by the key the index is sorted on.

As mutt's ``sort=threads`` with ``sort_aux``: sorted by date, a thread is as new as its newest
message (mutt's ``last-date``, Thunderbird's threaded order: a thread with a fresh reply comes
up); sorted by sender, subject or size, a thread sorts by its first message (mutt's
``sort_aux=from|subject|size``), the subject without Re:/Fwd:. Only the messages in the scope
count. Equal keys put the more recent thread first. The messages inside a thread keep their
reply-tree order (:meth:`tmail.store.Store.thread`); this module orders the threads only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from tmail.store.models import SortKey
from tmail.store.threads import base_subject

if TYPE_CHECKING:
    from tmail.store.reader import Reader

WALK_BATCH = 200


def iter_thread_ids(
    store: Reader, account: str | None, folder: str | None, sort: SortKey, reverse: bool
) -> Iterator[int]:
    """The threads in view order, as :func:`thread_ids`, read as they are needed.

    The default order (newest activity first) walks the scope newest first a batch at a time
    and yields each thread when its newest message is met: the first screen of a 100,000-message
    folder costs a few hundred index rows, not the whole folder (about 200 ms).
    """
    if sort != "date" or not reverse:
        yield from thread_ids(store, account, folder, sort, reverse)
        return
    seen: set[int] = set()
    scanned = 0
    while True:
        batch = store.list_messages(
            account, folder, sort="date", reverse=True, offset=scanned, limit=WALK_BATCH
        )
        scanned += len(batch)
        for m in batch:
            if m.thread_id not in seen:
                seen.add(m.thread_id)
                yield m.thread_id
        if len(batch) < WALK_BATCH:
            return


def thread_ids(
    store: Reader, account: str | None, folder: str | None, sort: SortKey, reverse: bool
) -> list[int]:
    """Every thread with a message in scope, in view order (``reverse``: largest key first).

    One aggregate query over the scope's messages (the thread index of the folder), no
    message bodies: a 100,000-message folder is one pass over its index rows.
    """
    keyed: list[tuple[int, Any, int]] = []  # thread id, sort key, date for ties
    fids = store._folder_ids(account, folder)
    where = "1" if fids is None else f"m.folder_id IN ({','.join(map(str, fids)) or 'NULL'})"
    if sort == "date":
        # the newest message of each thread (and its id, for equal dates)
        rows = store.db.execute(
            f"SELECT m.thread_id, max(m.date), max(m.id) FROM messages m WHERE {where} "
            "GROUP BY m.thread_id"
        ).fetchall()
        keyed = [(int(tid), (int(date), int(mid)), int(date)) for tid, date, mid in rows]
    else:
        # With one min() SQLite takes the other columns from the row holding the minimum:
        # the thread's first message in scope.
        rows = store.db.execute(
            f"SELECT m.thread_id, min(m.date), m.sender, m.subject, m.size FROM messages m "
            f"WHERE {where} GROUP BY m.thread_id"
        ).fetchall()
        for tid, date, sender, subject, size in rows:
            key: Any = {"from": sender or "", "subject": base_subject(subject or "")}.get(
                sort, int(size or 0)
            )
            keyed.append((int(tid), key, int(date)))
    keyed.sort(key=lambda k: k[2], reverse=True)  # ties: the more recent thread first
    keyed.sort(key=lambda k: k[1], reverse=reverse)
    return [tid for tid, _key, _date in keyed]
