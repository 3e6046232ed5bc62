"""``summarize(raw) -> MessageSummary``: what the store indexes of a message.

A first implementation on the standard library; the full parser (charset detection, HTML to text,
RFC 2231 names) replaces its internals without changing the signature.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
from email.message import EmailMessage

from tmail.core.models import Address, MessageSummary


def _addresses(msg: EmailMessage, name: str) -> tuple[Address, ...]:
    try:
        values = msg.get_all(name) or []
        pairs = email.utils.getaddresses([str(v) for v in values])
    except Exception:
        return ()
    return tuple(Address(n, a) for n, a in pairs if n or a)


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:
        return ""
    return str(value).strip() if value is not None else ""


def summarize(raw: bytes) -> MessageSummary:
    """Summarize a raw message; never raises on bad input (what cannot be read is left empty)."""
    errors: list[str] = []
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    date = None
    try:
        date = email.utils.parsedate_to_datetime(_header(msg, "Date")) if msg["Date"] else None
        if date is not None and date.tzinfo is None:
            date = None
    except Exception as exc:
        errors.append(f"date: {exc}")
    body = ""
    charset = None
    try:
        part = msg.get_body(preferencelist=("plain", "html"))
        if part is not None:
            charset = part.get_content_charset()
            content = part.get_content()
            body = content if isinstance(content, str) else ""
    except Exception as exc:
        errors.append(f"body: {exc}")
    has_attachment = False
    with contextlib.suppress(Exception):
        has_attachment = any(True for _ in msg.iter_attachments())
    refs = tuple(_header(msg, "References").split())
    return MessageSummary(
        message_id=_header(msg, "Message-ID") or None,
        in_reply_to=_header(msg, "In-Reply-To") or None,
        references=refs,
        date=date,
        from_=_addresses(msg, "From"),
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        subject=_header(msg, "Subject"),
        has_attachment=has_attachment,
        charset=charset,
        body_text=body,
        size=len(raw),
        parse_errors=tuple(errors),
    )
