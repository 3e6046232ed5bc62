"""tmail's own types shared by every layer: addresses, flags, message summaries.

Library objects (``email.message.Message``, imapclient responses) never cross a layer boundary;
these frozen dataclasses do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class Address:
    """One mailbox: display name (decoded, may be empty) and address (may be empty for groups)."""

    name: str
    addr: str

    def formatted(self) -> str:
        """``Name <addr>`` for display (not for headers: use the MIME layer to encode)."""
        if self.name and self.addr:
            return f"{self.name} <{self.addr}>"
        return self.name or self.addr


class Flag(StrEnum):
    """Message flags, named by their Maildir info letters (the ``:2,`` suffix)."""

    DRAFT = "D"
    FLAGGED = "F"
    PASSED = "P"  # forwarded
    REPLIED = "R"
    SEEN = "S"
    TRASHED = "T"  # marked for deletion (IMAP \\Deleted)


# IMAP system flags <-> Maildir letters (RFC 3501 2.3.2; $Forwarded is RFC 5788's keyword).
IMAP_FLAGS: dict[Flag, str] = {
    Flag.SEEN: "\\Seen",
    Flag.REPLIED: "\\Answered",
    Flag.FLAGGED: "\\Flagged",
    Flag.DRAFT: "\\Draft",
    Flag.TRASHED: "\\Deleted",
    Flag.PASSED: "$Forwarded",
}


def flags_to_maildir(flags: frozenset[Flag] | set[Flag]) -> str:
    """The info letters in the order the Maildir spec asks for (ASCII order)."""
    return "".join(sorted(f.value for f in flags))


def flags_from_maildir(info: str) -> frozenset[Flag]:
    """Flags from the letters after ``:2,``; unknown letters (lower-case keywords) are ignored."""
    known = {f.value for f in Flag}
    return frozenset(Flag(c) for c in info if c in known)


@dataclass(frozen=True)
class MessageSummary:
    """What the index keeps of one message; made by :func:`tmail.mime.summarize`.

    Every string here is decoded text, not yet made terminal-safe (views do that).
    """

    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime | None  # timezone-aware, or None when the Date header is missing or broken
    from_: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    has_attachment: bool
    charset: str | None  # charset the body was decoded with (detected or declared)
    body_text: str  # the readable body, for full-text search and snippets
    size: int  # bytes of the raw message
    parse_errors: tuple[str, ...] = field(default=())

    @property
    def snippet(self) -> str:
        """The first words of the body on one line."""
        return " ".join(self.body_text.split())[:200]
