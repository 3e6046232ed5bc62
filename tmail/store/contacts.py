"""The address book harvested from mail: every From, To and Cc of the messages indexed.

Each message is harvested once, in the transaction that indexes it (:func:`harvest`, called by
the indexer; ``contacts_harvested`` remembers which, so a reindex does not count twice). Mail in
a Sent folder counts for its recipients as *sent* (weighs more: one wrote to them); other mail
counts for everyone on it as *received*; drafts and junk count for nobody. No-reply and bounce
addresses are left out. The display name is the one of the most recent message that gave one.

Messages indexed before this table existed (schema 5) are harvested at the first query.
Addresses imported from vCard files (:meth:`Contacts.import_contacts`) join them: their name
wins over the one from mail, and an address only imported is found too (source ``vcard``).
:meth:`Contacts.refresh_vcards` reads an imported file or vdir again when its files changed.
Ranking: ``(3 * sent + received)`` halved every 90 days since the last message.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tmail.core.models import Address
from tmail.core.roles import Role, is_outgoing, leaf_role
from tmail.store.index_db import IndexDb, chunks

if TYPE_CHECKING:
    from tmail.mime.vcard import ReadResult as VcardResult

SENT_WEIGHT = 3
HALF_LIFE_DAYS = 90.0

_NOREPLY = re.compile(
    r"no[-_.]?reply|do[-_.]?not[-_.]?reply|^mailer[-_.]?daemon$|^postmaster$|^bounces?$"
    r"|^bounces?[-+=._]|[-+._]bounces?(?:[-+=._]|$)|^(?:ms)?prvs\d*=",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ContactRow:
    """One address of the address book. ``name`` is as the mail gave it (not terminal-safe)."""

    addr: str
    name: str
    received: int  # messages from them or with them on it
    sent: int  # messages one sent to them
    last: datetime | None  # the newest message's date
    source: str = "mail"  # mail, vcard, carddav, mail+vcard, mail+carddav, query_command

    def score(self, now: float) -> float:
        age = max(0.0, now - self.last.timestamp()) if self.last else 10 * 365 * 86400.0
        decay = float(0.5 ** (age / 86400 / HALF_LIFE_DAYS))
        return (SENT_WEIGHT * self.sent + self.received) * decay

    def formatted(self) -> str:
        return Address(self.name, self.addr).formatted()


def automated(addr: str) -> bool:
    """A no-reply, bounce or mailer-daemon address: nobody to write to."""
    local = addr.rsplit("@", 1)[0]
    return bool(_NOREPLY.search(local))


def fold(text: str) -> str:
    """Case- and accent-insensitive form: NFKD without combining marks, case-folded (ё -> е,
    é -> e, Ё -> е)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def harvest(
    conn: sqlite3.Connection,
    message: int,
    folder_id: int,
    date: int,
    from_: Sequence[Address],
    to: Sequence[Address],
    cc: Sequence[Address],
) -> None:
    """Count one indexed message's addresses (once per message id)."""
    cur = conn.execute("INSERT OR IGNORE INTO contacts_harvested (message) VALUES (?)", (message,))
    if cur.rowcount == 0:
        return
    row = conn.execute("SELECT name FROM folders WHERE id = ?", (folder_id,)).fetchone()
    folder = str(row[0]) if row else ""
    role = leaf_role(folder)
    if role in (Role.DRAFTS, Role.JUNK):
        return
    if role is Role.SENT or is_outgoing(folder):
        counted = [(a, 0, 1) for a in (*to, *cc)]
    else:
        counted = [(a, 1, 0) for a in (*from_, *to, *cc)]
    seen: set[str] = set()
    for a, received, sent in counted:
        addr = a.addr.strip().lower()
        if "@" not in addr or addr in seen or automated(addr):
            continue
        seen.add(addr)
        name = a.name.strip()
        if name.lower() == addr:
            name = ""
        conn.execute(
            "INSERT INTO contacts (addr, name, name_date, received, sent, last) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (addr) DO UPDATE SET "
            "received = received + excluded.received, sent = sent + excluded.sent, "
            "last = max(last, excluded.last), "
            "name = CASE WHEN excluded.name != '' AND excluded.name_date >= name_date "
            "THEN excluded.name ELSE name END, "
            "name_date = CASE WHEN excluded.name != '' AND excluded.name_date >= name_date "
            "THEN excluded.name_date ELSE name_date END",
            (addr, name, date if name else 0, received, sent, date),
        )


class Contacts(IndexDb):
    """The address book's queries: :meth:`contacts`."""

    def contacts(
        self, query: str = "", *, limit: int | None = 20, exclude: Collection[str] = ()
    ) -> list[ContactRow]:
        """Contacts whose name or address holds every word of ``query`` (case- and
        accent-insensitive), best first: words at the start of a name part or of the address
        before the others, then by how often and how recently one corresponded."""
        self._harvest_old()
        words = fold(query).split()
        skip = {e.lower() for e in exclude}
        found: list[tuple[bool, float, ContactRow]] = []
        now = time.time()
        imported: dict[str, tuple[str, str]] = {
            addr: (name, "carddav" if source.startswith("carddav:") else "vcard")
            for source, addr, name in self.db.execute(
                "SELECT source, addr, name FROM contacts_imported ORDER BY source DESC"
            )
        }
        rows = self.db.execute("SELECT addr, name, received, sent, last FROM contacts").fetchall()
        known = {r[0] for r in rows}
        rows += [(a, n, 0, 0, 0) for a, (n, _) in imported.items() if a not in known]
        for addr, name, received, sent, last in rows:
            if addr in skip:
                continue
            source = "mail"
            if addr in imported:
                book_name, book = imported[addr]
                source = book if addr not in known else f"mail+{book}"
                name = book_name or name
            text = fold(f"{name} {addr}")
            if not all(w in text for w in words):
                continue
            parts = re.split(r"[\s@._+\-<>\"']+", text)
            starts = all(any(p.startswith(w) for p in parts) for w in words)
            when = datetime.fromtimestamp(last, UTC) if last else None
            row = ContactRow(addr, name, received, sent, when, source)
            found.append((not starts, -row.score(now), row))
        found.sort(key=lambda t: (t[0], t[1], t[2].addr))
        rows = [t[2] for t in found]
        return rows if limit is None else rows[:limit]

    def import_vcards(self, path: Path) -> tuple[int, VcardResult]:
        """Import a vCard file or vdir (replacing what it gave before); return how many
        addresses it holds now, and what was read (cards, problems)."""
        from tmail.mime.vcard import read_path

        stamp = _stamp(path)
        result = read_path(path)
        entries = [(card.name, addr) for card in result.cards for addr in card.emails]
        groups = [(g.name, g.members) for g in result.groups]
        return self.import_contacts(str(path), entries, stamp, groups), result

    def refresh_vcards(self) -> list[str]:
        """Read again the imported files and vdirs whose files changed since; return the
        sources that were read again. A source that is gone keeps its last import."""
        again = []
        for source, stamp in self.db.execute(
            "SELECT source, stamp FROM contacts_sources"
        ).fetchall():
            path = Path(source)
            if path.exists() and _stamp(path) != stamp:
                self.import_vcards(path)
                again.append(source)
        return again

    def contact_groups(self, query: str = "") -> list[tuple[str, tuple[str, ...]]]:
        """Imported groups whose name holds every word of ``query``: (name, member addresses)."""
        words = fold(query).split()
        out = []
        for name, members in self.db.execute(
            "SELECT name, members FROM contacts_groups ORDER BY name"
        ):
            if all(w in fold(name) for w in words):
                out.append((str(name), tuple(str(members).split("\n"))))
        return out

    def contact_source_stamp(self, source: str) -> str | None:
        """The stamp (files' state, or a CardDAV sync token) of an imported source."""
        row = self.db.execute(
            "SELECT stamp FROM contacts_sources WHERE source = ?", (source,)
        ).fetchone()
        return str(row[0]) if row else None

    def contacts_of_source(self, source: str) -> list[str]:
        """The addresses imported from ``source``."""
        return [
            str(r[0])
            for r in self.db.execute(
                "SELECT addr FROM contacts_imported WHERE source = ?", (source,)
            )
        ]

    def import_contacts(
        self,
        source: str,
        entries: Sequence[tuple[str, str]],
        stamp: str = "",
        groups: Sequence[tuple[str, Sequence[str]]] = (),
    ) -> int:
        """Replace what was imported from ``source`` (a file or vdir path) by ``entries``
        (name, address) and ``groups`` (name, member addresses); return how many addresses
        it holds now."""
        rows = {a.strip().lower(): n.strip() for n, a in entries if "@" in a}
        with self._tx() as conn:
            conn.execute("DELETE FROM contacts_groups WHERE source = ?", (source,))
            conn.executemany(
                "INSERT INTO contacts_groups (source, name, members) VALUES (?, ?, ?)",
                [(source, name, "\n".join(members)) for name, members in groups if members],
            )
            conn.execute(
                "INSERT OR REPLACE INTO contacts_sources (source, stamp) VALUES (?, ?)",
                (source, stamp),
            )
            conn.execute("DELETE FROM contacts_imported WHERE source = ?", (source,))
            conn.executemany(
                "INSERT INTO contacts_imported (source, addr, name) VALUES (?, ?, ?)",
                [(source, a, n) for a, n in rows.items()],
            )
        return len(rows)

    def _harvest_old(self) -> None:
        """Once: the messages indexed before the address book existed."""
        row = self.db.execute("SELECT upto FROM contacts_backfill").fetchone()
        if row is None:
            return
        upto = int(row[0])
        with self._tx() as conn:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT m.id FROM messages m LEFT JOIN contacts_harvested h "
                    "ON h.message = m.id WHERE h.message IS NULL AND m.id <= ?",
                    (upto,),
                )
            ]
            for chunk in chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                for mid, fid, date, f, t, c in conn.execute(
                    "SELECT id, folder_id, date, from_json, to_json, cc_json FROM messages "
                    f"WHERE id IN ({marks})",
                    tuple(chunk),
                ).fetchall():
                    harvest(conn, mid, fid, date, _addrs(f), _addrs(t), _addrs(c))
            conn.execute("DELETE FROM contacts_backfill")


def _stamp(path: Path) -> str:
    """What changes when a vCard file or a vdir's files change: names, sizes, mtimes."""
    try:
        files = sorted(path.iterdir()) if path.is_dir() else [path]
        parts = []
        for f in files:
            st = f.stat()
            parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    except OSError:
        return ""
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _addrs(text: str) -> list[Address]:
    try:
        return [Address(str(n), str(a)) for n, a in json.loads(text)]
    except (ValueError, TypeError):
        return []
