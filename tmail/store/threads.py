"""JWZ threading (https://www.jwz.org/doc/threading.html) over tmail's message rows.

The store assigns each message a stable thread id as it arrives (see :func:`thread_for`);
this module orders the messages of one thread into a reply tree for display. Pure functions.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

from tmail.store.index_db import chunks
from tmail.store.models import MessageRow, ThreadEntry

# "Re:", "RE[2]:", "Fwd:", "Fw:", "AW:" (German), "Отв:"/"Ответ:"/"Пересл:" (Russian clients),
# "SV:" (Nordic), "VS:", "Réf.:" ... repeated, with optional [list] tags before them.
_PREFIX = re.compile(
    r"^\s*(?:\[[^\]]{1,40}\]\s*)?(?:(?:re|fwd?|aw|sv|vs|wg|tr|rif|odp|отв|ответ|пересл|fw)"
    r"(?:\s*\[\d+\]|\s*\(\d+\))?\s*:\s*)+",
    re.IGNORECASE,
)


def base_subject(subject: str) -> str:
    """The subject without reply/forward prefixes and list tags, lower case, spaces squeezed."""
    s = subject or ""
    while True:
        m = _PREFIX.match(s)
        if not m or m.end() == 0:
            break
        s = s[m.end() :]
    return " ".join(s.split()).lower()


@dataclass
class _Container:
    key: str
    message: MessageRow | None = None
    parent: _Container | None = None
    children: list[_Container] = field(default_factory=list)

    def ancestors_include(self, other: _Container) -> bool:
        node: _Container | None = self
        seen = 0
        while node is not None and seen < 10_000:
            if node is other:
                return True
            node = node.parent
            seen += 1
        return False


def _link(parent: _Container, child: _Container) -> None:
    if child.parent is parent or parent is child or parent.ancestors_include(child):
        return  # would make a loop
    if child.parent is not None:
        child.parent.children.remove(child)
    child.parent = parent
    parent.children.append(child)


def build_tree(rows: list[MessageRow]) -> list[_Container]:
    """JWZ steps 1-4: containers linked by References/In-Reply-To; empty ones pruned."""
    table: dict[str, _Container] = {}
    for row in sorted(rows, key=lambda r: (r.date, r.id)):
        key = row.message_id or f"<tmail-{row.id}>"
        c = table.get(key)
        if c is None:
            c = table[key] = _Container(key)
        elif c.message is not None:  # the same Message-ID twice (a copy in Sent): its own node
            key = f"{key}#{row.id}"
            c = table[key] = _Container(key)
        c.message = row
        refs = list(row.references)
        if row.in_reply_to:
            for ref in re.findall(r"<[^<>\s]+>", row.in_reply_to):
                if ref not in refs:
                    refs.append(ref)
        prev: _Container | None = None
        for ref in refs:
            rc = table.get(ref)
            if rc is None:
                rc = table[ref] = _Container(ref)
            if prev is not None and rc.parent is None:
                _link(prev, rc)
            prev = rc
        if prev is not None and prev is not c:
            if c.parent is not None and c.parent is not prev:
                c.parent.children.remove(c)
                c.parent = None
            _link(prev, c)
    roots = [c for c in table.values() if c.parent is None]
    out: list[_Container] = []
    for root in roots:
        out.extend(_prune(root))
    return out


def _prune(c: _Container) -> list[_Container]:
    """Drop empty containers: their children move up (JWZ step 4)."""
    kids: list[_Container] = []
    for child in list(c.children):
        kids.extend(_prune(child))
    c.children = kids
    for k in kids:
        k.parent = c
    if c.message is None:
        if c.parent is None and len(kids) > 1:
            return [c]  # keep a dummy root to hold siblings together
        for k in kids:
            k.parent = None
        return kids
    return [c]


def thread_order(rows: list[MessageRow]) -> list[ThreadEntry]:
    """The messages of one thread as a tree walk: parents before replies, oldest first."""
    roots = build_tree(rows)
    out: list[ThreadEntry] = []

    def when(c: _Container) -> tuple[float, int]:
        if c.message is not None:
            return (c.message.date.timestamp(), c.message.id)
        return min((when(k) for k in c.children), default=(0.0, 0))

    def walk(c: _Container, depth: int) -> None:
        if c.message is not None:
            out.append(ThreadEntry(depth, c.message))
            depth += 1
        for k in sorted(c.children, key=when):
            walk(k, depth)

    for root in sorted(roots, key=when):
        walk(root, 0)
    return out


def thread_for(
    conn: sqlite3.Connection,
    mid: int,
    message_id: str | None,
    refs: list[str],
    subject: str,
    ts: int,
    preferred: int | None,
) -> int:
    """The thread of a new message: JWZ links first, then the subject; merges threads.

    Links: a message whose Message-ID is among my references; a message that references
    my Message-ID (a reply that came first); a message sharing a reference with me (a
    sibling under a parent we do not have). Threads joined by this message merge into the
    oldest one, so a thread id only ever changes by merging into an older thread.
    """
    found: set[int] = set()
    keys = list(refs)
    if message_id:
        keys.append(message_id)
    for chunk in chunks(keys, 400):
        marks = ",".join("?" * len(chunk))
        for (tid,) in conn.execute(
            f"SELECT DISTINCT m.thread_id FROM refs r JOIN messages m ON m.id = r.message "
            f"WHERE r.ref IN ({marks}) AND m.id != ?",
            (*chunk, mid),
        ):
            found.add(int(tid))
        for (tid,) in conn.execute(
            f"SELECT DISTINCT thread_id FROM messages WHERE message_id IN ({marks}) AND id != ?",
            (*chunk, mid),
        ):
            found.add(int(tid))
    found.discard(0)
    key = base_subject(subject)
    if not found and key and (preferred is None or preferred == 0):
        # JWZ's subject fallback, for replies from clients that drop References: only a
        # thread with the same base subject and a message within 30 days.
        is_reply = key != subject.strip().lower()
        if is_reply:
            row = conn.execute(
                "SELECT t.id FROM threads t JOIN messages m ON m.thread_id = t.id "
                "WHERE t.subject = ? AND m.date BETWEEN ? AND ? AND m.id != ? "
                "ORDER BY t.id LIMIT 1",
                (key, ts - 30 * 86400, ts + 30 * 86400, mid),
            ).fetchone()
            if row:
                found.add(int(row[0]))
    if preferred:
        found.add(preferred)
    if not found:
        cur = conn.execute("INSERT INTO threads (subject) VALUES (?)", (key,))
        assert cur.lastrowid is not None
        return int(cur.lastrowid)
    keep = min(found)
    if (
        preferred
        and conn.execute("SELECT 1 FROM threads WHERE id = ?", (preferred,)).fetchone() is None
    ):
        conn.execute("INSERT INTO threads (id, subject) VALUES (?, ?)", (preferred, key))
    others = found - {keep}
    if others:
        marks = ",".join("?" * len(others))
        conn.execute(
            f"UPDATE messages SET thread_id = ? WHERE thread_id IN ({marks})",
            (keep, *others),
        )
        conn.execute(f"DELETE FROM threads WHERE id IN ({marks})", tuple(others))
    return keep
