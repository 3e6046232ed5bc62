"""IMAP's answers in tmail's own types: flags, UID sets, folders with their roles, fetched messages.

Used by :class:`tmail.protocols.imap.ImapSession` (which re-exports them) and by the fast FETCH
parsers of :mod:`tmail.protocols.imap_fetch`; no imapclient object leaves through them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tmail.core.models import IMAP_FLAGS, Flag
from tmail.core.roles import Role, leaf_role, special_use_role

_FROM_IMAP: dict[bytes, Flag] = {v.lower().encode(): k for k, v in IMAP_FLAGS.items()}
_UIDSET_RANGE = re.compile(r"(\d+)(?::(\d+))?")


def flags_from_imap(items: Iterable[bytes | str | int]) -> frozenset[Flag]:
    """tmail's flags from IMAP flag atoms; keywords tmail does not model are dropped (also
    one of digits only, which imapclient's parser hands over as an int)."""
    out = set()
    for item in items:
        raw = item if isinstance(item, bytes) else str(item).encode()
        flag = _FROM_IMAP.get(raw.lower())
        if flag is not None:
            out.add(flag)
    return frozenset(out)


def flags_to_imap(flags: Iterable[Flag]) -> list[str]:
    return [IMAP_FLAGS[f] for f in sorted(flags)]


def parse_uid_set(text: str) -> list[int]:
    """``1:3,7`` -> ``[1, 2, 3, 7]`` (a UID set as in COPYUID/APPENDUID, RFC 4315)."""
    out: list[int] = []
    for part in text.split(","):
        m = _UIDSET_RANGE.fullmatch(part.strip())
        if not m:
            raise ValueError(f"not a UID set: {text!r}")
        lo = int(m.group(1))
        hi = int(m.group(2) or lo)
        if hi < lo:
            lo, hi = hi, lo
        out.extend(range(lo, hi + 1))
    return out


@dataclass(frozen=True)
class RemoteFolder:
    """One folder as LIST shows it."""

    name: str  # the server's name (decoded from modified UTF-7)
    delimiter: str
    attributes: frozenset[str]  # lower-case, e.g. "\\noselect", "\\sent"
    role: Role | None  # from a special-use attribute or a well-known name (assign_roles)
    subscribed: bool

    @property
    def selectable(self) -> bool:
        return not ({"\\noselect", "\\nonexistent"} & self.attributes)


@dataclass(frozen=True)
class FolderStatus:
    """What SELECT, EXAMINE or STATUS says of a folder."""

    name: str
    uidvalidity: int
    uidnext: int
    exists: int
    highestmodseq: int | None  # None without CONDSTORE


@dataclass(frozen=True)
class FetchedMessage:
    """One message as fetched: the raw bytes (or only the header when ``partial``)."""

    uid: int
    flags: frozenset[Flag]
    size: int  # RFC822.SIZE: the full size, also for a partial fetch
    raw: bytes
    internaldate: datetime | None
    partial: bool = False


@dataclass(frozen=True)
class MessageIdentity:
    """What re-associates a message after a UIDVALIDITY change: its Message-ID and size."""

    uid: int
    message_id: str | None
    size: int


def assign_roles(folders: list[RemoteFolder]) -> list[RemoteFolder]:
    """Give each folder its role: INBOX, a special-use attribute, else a well-known name
    (:mod:`tmail.core.roles`; the last path element, as ``INBOX.Sent Items``).

    A role goes to one folder only: special-use attributes beat names, subscribed beats not.
    """
    taken: set[Role] = set()
    roles: dict[str, Role] = {}
    for f in folders:
        if f.name.upper() == "INBOX":
            roles[f.name] = Role.INBOX
            taken.add(Role.INBOX)
    for f in sorted(folders, key=lambda f: not f.subscribed):
        for attr in f.attributes:
            role = special_use_role((attr,))
            if role and role not in taken and f.name not in roles:
                roles[f.name] = role
                taken.add(role)
    for f in sorted(folders, key=lambda f: not f.subscribed):
        if f.name in roles:
            continue
        role = leaf_role(f.name, f.delimiter)
        if role and role not in taken:
            roles[f.name] = role
            taken.add(role)
    return [
        RemoteFolder(f.name, f.delimiter, f.attributes, roles.get(f.name), f.subscribed)
        for f in folders
    ]
