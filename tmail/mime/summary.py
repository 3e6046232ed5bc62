"""``summarize(raw) -> MessageSummary``: what the store indexes of a message.

Built on :func:`tmail.mime.parse.parse_message`, so the index holds the same decoded subjects,
names and body text that ``tmail show`` displays.
"""

from __future__ import annotations

from collections.abc import Sequence

from tmail.core.models import MessageSummary
from tmail.mime.parse import parse_message

MAX_BODY_TEXT = 256 * 1024  # characters of body kept for search and snippets


def summarize(raw: bytes, assumed_charsets: Sequence[str] = ()) -> MessageSummary:
    """Summarize a raw message; never raises on bad input (what cannot be read is left empty)."""
    parsed = parse_message(raw, assumed_charsets)
    return MessageSummary(
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        date=parsed.date,
        from_=parsed.from_,
        to=parsed.to,
        cc=parsed.cc,
        subject=parsed.subject,
        has_attachment=parsed.has_attachments,
        charset=parsed.charset,
        body_text=parsed.text[:MAX_BODY_TEXT],
        size=len(raw),
        parse_errors=parsed.problems,
    )
