"""Messages: MIME parsing, charsets, HTML to text, attachments, building outgoing mail.

No network, no disk state, no UI (except :mod:`tmail.mime.attachments`, which writes the files a
user asked to save). Imports only ``tmail.core``.

* :func:`parse_message` -> :class:`ParsedMessage`: a message decoded for reading;
* :func:`render_text`: a parsed message as terminal-safe text (header block, body, attachments);
* :func:`summarize` -> :class:`tmail.core.models.MessageSummary`: what the store indexes.
"""

from tmail.mime.parse import (
    Attachment,
    DeliveryReport,
    DsnRecipient,
    ParsedMessage,
    parse_message,
)
from tmail.mime.render import render_text
from tmail.mime.summary import summarize

__all__ = [
    "Attachment",
    "DeliveryReport",
    "DsnRecipient",
    "ParsedMessage",
    "parse_message",
    "render_text",
    "summarize",
]
