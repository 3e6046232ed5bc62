"""The HTML original of a message, for a browser (the reader's "open the original").

Built on the parser's own part splitter (:mod:`tmail.mime.structure`); returns text, no ``email``
objects. The page gets a Content-Security-Policy that forbids loading anything from the network
(tracking pixels, remote fonts, scripts): opening a message must not tell its sender.
"""

from __future__ import annotations

from tmail.mime.charsets import decode_text
from tmail.mime.parts import _decoded, _Part
from tmail.mime.structure import _Parser
from tmail.mime.view import _disposition

# Inline styles and embedded (data:) images only: nothing is fetched, nothing runs.
CSP = (
    '<meta http-equiv="Content-Security-Policy" '
    "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
    '<meta charset="utf-8">\n'
)


def html_original(raw: bytes) -> str | None:
    """The message's first HTML body part (not an attachment) as a page safe to open, or None."""
    try:
        top = _Parser(()).parse(raw)
    except Exception:  # a message the splitter cannot read has no HTML to show
        return None
    queue: list[_Part] = [top]
    while queue:
        part = queue.pop(0)
        if part.ctype == "text/html" and _disposition(part) != "attachment":
            text = decode_text(_decoded(part), part.params.get("charset")).text
            return CSP + text
        queue.extend(part.children)
    return None
