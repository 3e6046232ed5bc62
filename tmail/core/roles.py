"""Folder roles: which folder is an account's Sent, Drafts, Trash, Junk or Archive.

One table for every layer. A server that offers SPECIAL-USE (RFC 6154) marks the folders itself
(``\\Sent``, ...: :data:`SPECIAL_USE`); otherwise, and in the local store, the usual names decide,
case-insensitive, the first of :data:`ROLE_NAMES` that exists winning.
"""

from __future__ import annotations

from collections.abc import Iterable

# Special-use attributes (RFC 6154), lower case, -> the role (also tmail's local folder name).
SPECIAL_USE: dict[str, str] = {
    "\\sent": "Sent",
    "\\drafts": "Drafts",
    "\\trash": "Trash",
    "\\junk": "Junk",
    "\\archive": "Archive",
}

# The usual names of each role's folder, most usual first: a local folder of that name (the
# whole name) has the role; on a server without SPECIAL-USE the names without a "/" are
# matched against the last element of a folder's path.
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "Sent": ("Sent", "Sent Items", "Sent Messages", "[Gmail]/Sent Mail"),
    "Drafts": ("Drafts", "[Gmail]/Drafts"),
    "Trash": ("Trash", "Deleted Items", "Deleted Messages", "[Gmail]/Trash"),
    "Junk": ("Junk", "Spam", "Junk E-mail"),
    "Archive": ("Archive", "Archives"),
}

# Lower-case last path element -> role (servers without SPECIAL-USE).
COMMON_NAMES: dict[str, str] = {
    name.lower(): role for role, names in ROLE_NAMES.items() for name in names if "/" not in name
}

_BY_NAME: dict[str, str] = {
    name.lower(): role for role, names in ROLE_NAMES.items() for name in names
}


def role_of(name: str) -> str | None:
    """The role of a local folder named ``name`` (the whole name, any case), or None."""
    return _BY_NAME.get(name.lower())


def folder_for(role: str, names: Iterable[str]) -> str | None:
    """Of the folders ``names``, the one that plays ``role``: the most usual name wins."""
    known = {n.lower(): n for n in names}
    for usual in ROLE_NAMES.get(role, ()):
        if usual.lower() in known:
            return known[usual.lower()]
    return None
