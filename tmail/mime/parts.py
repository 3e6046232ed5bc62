"""One MIME part as the parser holds it (a span of the raw bytes, never a copy) and its body with
the transfer encoding undone: base64, quoted-printable and uuencode, bad encodings tolerated.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field

from tmail.mime.charsets import Buffer
from tmail.mime.uuencode import extract_uuencoded


@dataclass
class _Part:
    """One MIME entity: its header fields and the span of its body in ``buf``."""

    buf: bytes
    fields: list[tuple[str, str]]
    start: int
    end: int
    ctype: str = "text/plain"
    params: dict[str, str] = field(default_factory=dict)
    children: list[_Part] = field(default_factory=list)
    message: _Part | None = None  # for message/rfc822 (and text/rfc822-headers): what it holds
    cut: bool = False  # nested deeper than MAX_DEPTH: kept whole, as an attachment
    head: int = 0  # where its header starts in ``buf`` (a PGP/MIME signature covers it too)

    def get(self, name: str) -> str | None:
        for key, value in self.fields:
            if key.lower() == name:
                return value
        return None

    def get_all(self, name: str) -> list[str]:
        return [value for key, value in self.fields if key.lower() == name]


def _cte(part: _Part) -> str:
    value = part.get("content-transfer-encoding")
    return value.strip().lower() if value else "7bit"


_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_JUNK = bytes(b for b in range(256) if b not in _B64_ALPHABET)


def _b64(data: bytes | memoryview) -> bytes:
    try:
        return binascii.a2b_base64(data)
    except (binascii.Error, ValueError):
        pass
    clean = bytes(data).translate(None, _B64_JUNK)
    if len(clean) % 4 == 1:
        clean = clean[:-1]
    clean += b"=" * (-len(clean) % 4)
    try:
        return binascii.a2b_base64(clean)
    except (binascii.Error, ValueError):
        return b""


def _b64_size(buf: bytes, start: int, end: int) -> int:
    """Decoded size of a base64 span without decoding it (chunked, so no big copy)."""
    count = 0
    pad = 0
    step = 1 << 22
    for pos in range(start, end, step):
        count += len(buf[pos : min(end, pos + step)].translate(None, _B64_JUNK))
    tail = buf[max(start, end - 8) : end].rstrip()
    pad = len(tail) - len(tail.rstrip(b"="))
    return max(0, (count * 3) // 4 - (0 if count % 4 else min(pad, 2)))


# RFC 2045 section 6.7: white space at the end of a quoted-printable line was added in transport
# and is deleted, so "=" followed by spaces or tabs is still a soft line break (rule 5). The
# look-behind makes each run of blanks be tried once (no quadratic time on a long run).
_QP_TRAILING_BLANKS = re.compile(rb"(?<![ \t])[ \t]+(?=\r?\n|\Z)")


def _qp(data: Buffer) -> bytes:
    return binascii.a2b_qp(_QP_TRAILING_BLANKS.sub(b"", data))


def _decoded(part: _Part) -> bytes:
    """The body bytes with the transfer encoding undone; bad encodings tolerated."""
    view = memoryview(part.buf)[part.start : part.end]
    cte = _cte(part)
    if cte == "base64":
        return _b64(view)
    if cte in ("quoted-printable", "quoted_printable"):
        return _qp(view)
    if cte in ("x-uuencode", "uuencode", "x-uue"):
        files = extract_uuencoded(bytes(view).decode("latin-1"))[1]
        return files[0][1] if files else bytes(view)
    return bytes(view)


def _decoded_view(part: _Part) -> Buffer:
    """Like :func:`_decoded`, but an unencoded body is a view into the raw bytes (no copy)."""
    if _cte(part) in ("7bit", "8bit", "binary"):
        return memoryview(part.buf)[part.start : part.end]
    return _decoded(part)


def _decoded_size(part: _Part) -> int:
    cte = _cte(part)
    if cte == "base64":
        return _b64_size(part.buf, part.start, part.end)
    if cte in ("7bit", "8bit", "binary"):
        return part.end - part.start
    return len(_decoded(part))
