"""Messages: MIME parsing, charsets, HTML to text, attachments, building outgoing mail.

No network, no disk state, no UI. Imports only ``tmail.core``.
"""

from tmail.mime.summary import summarize

__all__ = ["summarize"]
