"""Folder roles: which folder is the Inbox, Drafts, Sent, Archive, Junk or Trash.

The one table of them. A server says a folder's role with a special-use attribute (RFC 6154,
``\\Sent``); without one, a well-known name gives it. Names compare case-insensitively.

- :func:`role_of` reads a whole name (the store's ``/``-separated name, or a server's): INBOX,
  a known name (``Sent Items``), or one under Gmail's ``[Gmail]/`` (``[Gmail]/Sent Mail``).
- :func:`leaf_role` reads only the last path element, for a folder that may sit anywhere in a
  hierarchy (``INBOX.Sent Items`` on Courier or Cyrus); callers that give a role to one folder
  only (:func:`tmail.protocols.imap.assign_roles`) or only ask "is it like Drafts" use it.

A role's value is also the name tmail gives that folder in the local store ("Sent").
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    """A folder's job. The order is the folder list's (Thunderbird's): Inbox first, Trash last."""

    INBOX = "INBOX"
    DRAFTS = "Drafts"
    SENT = "Sent"
    ARCHIVE = "Archive"
    JUNK = "Junk"
    TRASH = "Trash"


# Special-use attributes (RFC 6154 section 2), lower case, -> the role; INBOX has none.
SPECIAL_USE: dict[str, Role] = {
    "\\drafts": Role.DRAFTS,
    "\\sent": Role.SENT,
    "\\archive": Role.ARCHIVE,
    "\\junk": Role.JUNK,
    "\\trash": Role.TRASH,
}
# The known names of each role, the preferred one first. Gmail's are these under GMAIL.
NAMES: dict[Role, tuple[str, ...]] = {
    Role.INBOX: ("INBOX",),
    Role.DRAFTS: ("Drafts", "Draft"),
    Role.SENT: ("Sent", "Sent Items", "Sent Messages", "Sent Mail"),
    Role.ARCHIVE: ("Archive", "Archives"),
    Role.JUNK: ("Junk", "Spam", "Junk E-mail"),
    Role.TRASH: ("Trash", "Deleted Items", "Deleted Messages"),
}
GMAIL = "[Gmail]/"
# Folders of mail one sends (also an outbox of that name): the index shows the recipient.
OUTGOING: frozenset[Role] = frozenset({Role.SENT, Role.DRAFTS})
OUTBOX_NAMES = ("Outbox",)

# Lower-case known name (a path's last element) -> role; INBOX is a whole name only.
COMMON_NAMES: dict[str, Role] = {
    name.lower(): role for role, names in NAMES.items() if role is not Role.INBOX for name in names
}


def names_for(role: Role) -> tuple[str, ...]:
    """The whole names a folder of ``role`` may have, the preferred first: the known names, then
    the same under ``[Gmail]/``. (INBOX is only ever ``INBOX``.)"""
    names = NAMES[role]
    if role is Role.INBOX:
        return names
    return names + tuple(GMAIL + n for n in names)


def folder_for(role: Role | str, names: Iterable[str]) -> str | None:
    """Of the folders ``names``, the one that plays ``role`` by its whole name (any case), the
    preferred name first (:func:`names_for`); None when none does."""
    known = {n.lower(): n for n in names}
    return next((known[c.lower()] for c in names_for(Role(role)) if c.lower() in known), None)


def special_use_role(attributes: Iterable[str]) -> Role | None:
    """The role a special-use attribute among ``attributes`` gives (``\\Sent``, any case)."""
    for attr in attributes:
        role = SPECIAL_USE.get(attr.lower())
        if role is not None:
            return role
    return None


def special_use(role: Role | None) -> str | None:
    """The attribute to ask for when creating ``role``'s folder (``\\Sent``), None for INBOX."""
    return f"\\{role.value}" if role is not None and role is not Role.INBOX else None


def role_of(name: str, special_use: Iterable[str] = ()) -> Role | None:
    """The role of the folder ``name``: a special-use attribute first, then the whole name
    (INBOX, a known name, or a known name under ``[Gmail]/``), case-insensitively."""
    role = special_use_role(special_use)
    if role is not None:
        return role
    lower = name.lower()
    if lower == "inbox":
        return Role.INBOX
    if lower.startswith(GMAIL.lower()):
        lower = lower[len(GMAIL) :]
    return COMMON_NAMES.get(lower)


def leaf_role(name: str, delimiter: str | None = "/") -> Role | None:
    """The role the last path element of ``name`` names (never INBOX, which is a whole name)."""
    leaf = name.rsplit(delimiter, 1)[-1] if delimiter else name
    return COMMON_NAMES.get(leaf.lower())


def local_role(name: str) -> Role | None:
    """The role whose folder tmail calls ``name`` in the local store ("Sent", exactly)."""
    try:
        return Role(name)
    except ValueError:
        return None


def is_outgoing(folder: str) -> bool:
    """Whether ``folder`` (by its last path element) holds mail one sends: Sent, Drafts, Outbox."""
    leaf = folder.rsplit("/", 1)[-1].lower()
    return leaf_role(folder) in OUTGOING or leaf in {n.lower() for n in OUTBOX_NAMES}


def rank(role: Role | None) -> int:
    """A role's place in a folder list (:class:`Role` order), folders without one after them."""
    return list(Role).index(role) if role is not None else len(Role)
