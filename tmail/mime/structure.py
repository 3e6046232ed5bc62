"""The MIME structure on bytes: header fields, multipart boundaries, enclosed messages.

:class:`_Parser` splits a message into :class:`~tmail.mime.parts._Part` spans with its own stack
(no recursion), within :data:`MAX_DEPTH` levels and :data:`MAX_PARTS` parts, and records what it
could not read in ``problems`` instead of raising.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from tmail.mime import headers as hdr
from tmail.mime.charsets import decode_text, normalize_charset
from tmail.mime.parts import _cte, _decoded, _Part

# Nested multiparts/messages read; a deeper part is kept whole as an attachment and the text says
# so. Real clients read letters forwarded or wrapped dozens of times; the parser uses no
# recursion, and the nested messages it returns stay well inside Python's recursion limit for
# the code that walks them (``show --json``).
MAX_DEPTH = 128
MAX_PARTS = 2000  # parts per message; the rest is kept as one opaque attachment
MAX_HEADER_BYTES = 1 << 20  # a header block longer than this ends there


_HEADER_NAME = re.compile(rb"[!-9;-~]+[ \t]*:")
_MESSAGE_TYPES = ("message/rfc822", "message/global")


_ANY_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""", re.I)


def _message_charset(buf: bytes, start: int, end: int) -> str | None:
    """The first trustworthy charset a Content-Type in the message declares, for raw 8-bit
    header text (Thunderbird reads such headers in the body's charset too)."""
    for match in _ANY_CHARSET.finditer(buf, start, min(end, start + 65536)):
        codec = normalize_charset(match.group(1).decode("ascii"))
        if codec is not None and codec not in ("cp1252", "utf-8"):
            return codec
    return None


def _value_text(data: bytes, assumed: Sequence[str], hint: Callable[[], str | None]) -> str:
    if data.isascii():
        return data.decode("ascii")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    charset = hint()
    return decode_text(data, None, ((charset,) if charset else ()) + tuple(assumed)).text


def _read_headers(
    buf: bytes, start: int, end: int, assumed: Sequence[str]
) -> tuple[list[tuple[str, str]], int]:
    """Header fields from ``buf[start:end]`` and where the body starts.

    Tolerated: a missing blank line (the first non-header line starts the body), a continuation
    line without leading white space when the next line is a header again, an mbox ``From `` line,
    CRLF or LF line ends.
    """
    raw_fields: list[tuple[bytes, bytearray]] = []
    pos = start
    limit = min(end, start + MAX_HEADER_BYTES)
    if buf.startswith(b"From ", pos):
        nl = buf.find(b"\n", pos, limit)
        pos = end if nl < 0 else nl + 1
    body = end
    while pos < limit:
        nl = buf.find(b"\n", pos, end)
        line_end = end if nl < 0 else nl
        nxt = end if nl < 0 else nl + 1
        line = buf[pos:line_end]
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line.strip():
            body = nxt
            break
        if line[:1] in (b" ", b"\t"):
            if raw_fields:
                raw_fields[-1][1].extend(b" " + line.strip())
            pos = nxt
            continue
        match = _HEADER_NAME.match(line)
        if match is None:
            following = buf[nxt : buf.find(b"\n", nxt, end) if nxt < end else end]
            if raw_fields and _HEADER_NAME.match(following) and pos > start:
                raw_fields[-1][1].extend(b" " + line.strip())
                pos = nxt
                continue
            body = pos
            break
        name = line[: match.end() - 1].rstrip()
        raw_fields.append((name, bytearray(line[match.end() :].strip())))
        pos = nxt
    else:
        body = min(pos, end)
    found: list[str | None] = []

    def hint() -> str | None:
        if not found:
            found.append(_message_charset(buf, start, end))
        return found[0]

    fields = [
        (name.decode("ascii", errors="replace"), _value_text(bytes(value), assumed, hint))
        for name, value in raw_fields
    ]
    return fields, body


def _skip_leading_blank_lines(buf: bytes, end: int) -> int:
    """Where the headers start when a message begins with white-space-only lines (seen from
    webmail exports): after those lines if a header follows them, else at 0."""
    pos = 0
    while pos < end:
        nl = buf.find(b"\n", pos, min(end, pos + 4096))
        if nl < 0 or buf[pos:nl].strip():
            break
        pos = nl + 1
    if pos and _HEADER_NAME.match(buf, pos, min(end, pos + 1000)):
        return pos
    return 0


def _boundaries(buf: bytes, start: int, end: int, boundary: bytes) -> tuple[list[int], int]:
    """Offsets of the delimiter lines of a multipart body, and where the close delimiter is.

    Returns the starts of each ``--boundary`` line and the offset of the ``--boundary--`` line
    (``end`` when it is missing, as in truncated mail).
    """
    delim = b"--" + boundary
    found: list[int] = []
    close = end
    pos = start
    while True:
        if pos == start and buf.startswith(delim, start):
            idx = start
        else:
            idx = buf.find(b"\n" + delim, pos, end)
            if idx < 0:
                break
            idx += 1
        after = idx + len(delim)
        pos = after
        if buf.startswith(b"--", after):
            close = idx
            break
        rest_end = buf.find(b"\n", after, end)
        rest = buf[after : end if rest_end < 0 else rest_end]
        if rest.strip():
            continue  # a longer boundary that starts with ours
        found.append(idx)
        if len(found) > MAX_PARTS:
            break
    return found, close


def _line_after(buf: bytes, idx: int, end: int) -> int:
    nl = buf.find(b"\n", idx, end)
    return end if nl < 0 else nl + 1


def _trim_newline(buf: bytes, start: int, end: int) -> int:
    """The end of a part body: the line break before the next delimiter belongs to the delimiter."""
    if end > start and buf[end - 1 : end] == b"\n":
        end -= 1
        if end > start and buf[end - 1 : end] == b"\r":
            end -= 1
    return end


class _Parser:
    """Splits a message into its parts, depth first with an explicit stack instead of recursion:
    a letter nested thousands of levels deep can neither exhaust the Python stack nor hide the
    text of one nested a few hundred deep (:data:`MAX_DEPTH` levels are read)."""

    def __init__(self, assumed: Sequence[str], html_width: int = 78) -> None:
        self.assumed = assumed
        self.html_width = html_width  # columns HTML is converted to (the reader's pager width)
        self.problems: list[str] = []
        self.parts = 0
        self.too_many = False  # MAX_PARTS was reached: some parts are not shown

    def parse(self, buf: bytes, depth: int = 0) -> _Part:
        """The message in ``buf`` and every part inside it (``depth`` 0: a whole message)."""
        start = _skip_leading_blank_lines(buf, len(buf)) if depth == 0 else 0
        top = self.entity(buf, start, len(buf))
        stack = [(top, depth)]
        while stack:
            part, level = stack.pop()
            inner = self._inner(part, level)
            stack.extend((child, level + 1) for child in reversed(inner))
        return top

    def entity(self, buf: bytes, start: int, end: int, default: str = "text/plain") -> _Part:
        """One part's header and type; what is inside it is split by :meth:`_inner`."""
        fields, body = _read_headers(buf, start, end, self.assumed)
        part = _Part(buf, fields, body, end, head=start)
        self.parts += 1
        ctype_value = part.get("content-type")
        if ctype_value is not None:
            ctype, params = hdr.split_content_header(ctype_value)
            if "/" not in ctype or not ctype.isascii():
                self.problems.append(f"unreadable Content-Type {ctype!r}: read as text/plain")
                ctype = "text/plain"
            part.ctype, part.params = ctype, params
        else:
            part.ctype = default
        return part

    def _inner(self, part: _Part, depth: int) -> list[_Part]:
        """The parts directly inside ``part`` (its children, or the message it encloses)."""
        if part.ctype.startswith("multipart/"):
            return self._split(part, depth)
        headers_only = part.ctype == "text/rfc822-headers"  # a bounce's copy of a header
        if part.ctype not in _MESSAGE_TYPES and not headers_only:
            return []
        encoded = _cte(part) in ("base64", "quoted-printable")
        if depth >= MAX_DEPTH or self.parts > MAX_PARTS:
            if depth < MAX_DEPTH:
                self._too_many()
            elif not headers_only:
                self.problems.append("message nested too deeply: kept as an attachment")
                part.cut = True
            if not encoded and not headers_only:
                part.ctype = "application/octet-stream"
            return []
        if encoded or headers_only:
            data = _decoded(part)
            inner = self.entity(data, 0, len(data))
        else:
            inner = self.entity(part.buf, part.start, part.end)
        part.message = inner
        if headers_only:  # a header without its body: nothing inside to split
            if inner.ctype.startswith("multipart/") or inner.ctype in _MESSAGE_TYPES:
                inner.ctype = "text/plain"
            return []
        return [inner]

    def _too_many(self) -> None:
        if not self.too_many:
            self.too_many = True
            self.problems.append(f"more than {MAX_PARTS} parts: the rest is not shown")

    def _split(self, part: _Part, depth: int) -> list[_Part]:
        boundary = part.params.get("boundary", "")
        if depth >= MAX_DEPTH or self.parts > MAX_PARTS:
            if depth >= MAX_DEPTH:
                self.problems.append("multipart nested too deeply: kept as an attachment")
                part.cut = True
            else:
                self._too_many()
            part.ctype = "application/octet-stream"
            return []
        if not boundary:
            self.problems.append(f"{part.ctype} without a boundary: read as text")
            part.ctype = "text/plain"
            return []
        delims, close = _boundaries(
            part.buf, part.start, part.end, boundary.encode("utf-8", errors="replace")
        )
        if not delims:
            self.problems.append(f"{part.ctype} boundary not found: read as text")
            part.ctype = "text/plain"
            return []
        if close == part.end:
            self.problems.append(f"{part.ctype}: final boundary missing")
        default = "message/rfc822" if part.ctype == "multipart/digest" else "text/plain"
        stops = [*delims[1:], close]
        for begin, stop in zip(delims, stops, strict=True):
            child_start = _line_after(part.buf, begin, part.end)
            child_end = _trim_newline(part.buf, child_start, stop)
            if self.parts > MAX_PARTS:
                self._too_many()
                break
            part.children.append(self.entity(part.buf, child_start, child_end, default))
        return part.children
