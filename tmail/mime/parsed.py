"""What :func:`tmail.mime.parse.parse_message` returns: a message decoded for reading, its
attachments (decoded only when asked) and the summary of a delivery report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from tmail.core.models import Address


@dataclass(frozen=True)
class Attachment:
    """A part that is not shown as text: what it is called, its type, its decoded size.

    ``index`` numbers the attachments of one message from 1 (``tmail attachments --index N``).
    ``filename`` is the safe base name that saving uses (:func:`~tmail.mime.attachments.
    safe_filename`: no directories, no leading dot, no controls), the name to show and emit;
    ``original_filename`` is the name the sender gave, as given ("" when it gave none).
    The bytes are decoded only when :meth:`data` is called.
    """

    index: int
    filename: str
    content_type: str
    size: int
    inline: bool = False
    content_id: str | None = None
    original_filename: str = ""
    _load: Callable[[], bytes] = field(default=lambda: b"", repr=False, compare=False)
    # For an enclosed message (message/rfc822): the same message parsed, with its own attachments.
    message: ParsedMessage | None = field(default=None, repr=False, compare=False)

    def data(self) -> bytes:
        """The decoded bytes (base64/quoted-printable undone; errors tolerated)."""
        return self._load()


@dataclass(frozen=True)
class DsnRecipient:
    """One per-recipient block of a delivery status notification (RFC 3464 section 2.3)."""

    original_recipient: str
    final_recipient: str
    action: str
    status: str
    diagnostic: str
    remote_mta: str = ""


@dataclass(frozen=True)
class DeliveryReport:
    """The machine-readable part of a bounce (message/delivery-status), summarised."""

    reporting_mta: str
    recipients: tuple[DsnRecipient, ...]


@dataclass(frozen=True)
class ParsedMessage:
    """A message decoded for reading. Strings are decoded text, not yet made terminal-safe."""

    subject: str
    from_: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    date: datetime | None
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str  # the readable body, already terminal-safe (controls shown as ^X, LF line ends)
    text_from_html: bool  # the body was converted from text/html
    charset: str | None  # the charset the body was decoded with
    charset_detected: bool  # that charset was detected, not declared
    links: tuple[str, ...]  # URLs of the HTML body, numbered [1].. in ``text``
    attachments: tuple[Attachment, ...]
    nested: tuple[ParsedMessage, ...]  # message/rfc822 parts (forwards, bounced originals)
    dsn: DeliveryReport | None
    headers: tuple[tuple[str, str], ...]  # every header field, name as sent, value decoded
    problems: tuple[str, ...]
    size: int  # bytes of the raw message

    @property
    def has_attachments(self) -> bool:
        return bool(self.attachments)
