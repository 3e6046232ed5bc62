"""A message's source as text for the raw view (``h``): each part decoded in its own charset.

The source is shown as it is (headers, boundaries, base64 and all), but 8-bit text is decoded
the way the message view decodes it: a part's declared charset when its bytes fit, else UTF-8,
the hints given (the account's ``assumed_charsets``, the charset the message view used), then
detection (:func:`tmail.mime.charsets.decode_text`). Decoding it all as UTF-8 showed a KOI8-R
or windows-1251 letter as a row of U+FFFD. Line-based, no parsing: a broken message shows too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tmail.mime.charsets import decode_text

_CHARSET = re.compile(rb'(?i)\bcharset\s*=\s*"?([^\s";]+)')
_BOUNDARY = re.compile(rb'(?i)\bboundary\s*=\s*(?:"([^"]+)"|([^\s;]+))')
_CONTENT_TYPE = re.compile(rb"(?i)^content-type\s*:")


def source_text(raw: bytes, assumed: Sequence[str] = ()) -> str:
    """``raw`` as text, every header block and part body decoded on its own (never raises)."""
    out: list[str] = []
    boundaries: set[bytes] = set()
    chunk: list[bytes] = []
    in_headers = True
    declared: str | None = None  # the charset of the body being read
    content_type = b""  # this header block's Content-Type field, unfolded
    in_type = False

    def flush(charset: str | None) -> None:
        if chunk:
            out.append(decode_text(b"".join(chunk), charset, assumed).text)
            chunk.clear()

    for line in raw.splitlines(keepends=True):
        bare = line.rstrip(b"\r\n")
        if in_headers:
            if not bare:  # the end of a header block: its part's body follows
                flush(None)
                out.append(line.decode("ascii", "replace"))
                m = _CHARSET.search(content_type)
                declared = m.group(1).decode("ascii", "replace") if m else None
                for b in _BOUNDARY.finditer(content_type):
                    boundaries.add(b.group(1) or b.group(2))
                content_type, in_headers, in_type = b"", False, False
                continue
            if bare[:1] in (b" ", b"\t"):
                if in_type:
                    content_type += bare  # a folded Content-Type goes on
            else:
                in_type = _CONTENT_TYPE.match(bare) is not None
                if in_type:
                    content_type = bare
            chunk.append(line)
            continue
        if bare.startswith(b"--") and boundaries:
            name = bare[2:].rstrip()
            closing = name.endswith(b"--") and name[:-2] in boundaries
            if name in boundaries or closing:
                flush(declared)
                out.append(line.decode("ascii", "replace"))
                in_headers, declared = not closing, None
                continue
        chunk.append(line)
    flush(None if in_headers else declared)
    return "".join(out)
