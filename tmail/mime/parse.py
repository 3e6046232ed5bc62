"""``parse_message(raw) -> ParsedMessage``: a whole message as tmail shows it.

The MIME structure is split here on bytes, by hand, instead of with ``email.message_from_bytes``:

* speed and memory: the stdlib feed parser copies every line into Python strings; here a part is a
  (start, end) span of the raw bytes found with ``bytes.find``, decoded only when it is shown or
  saved. A 100 MB attachment is never copied to be listed (docs/benchmarks.md has the figures);
* robustness: the stdlib parser recursed until RecursionError on deep nesting (PITFALLS.md) and its
  header objects raise on unknown charsets; this parser walks the structure with its own stack (no
  recursion), is depth- and part-count-limited (a limit reached is said in the text) and records
  what it could not read in ``problems`` instead of raising.

Header values, addresses, dates and parameters are read by :mod:`tmail.mime.headers`, text by
:mod:`tmail.mime.charsets`, HTML by :mod:`tmail.mime.html`. Nothing in this module raises on any
input: :func:`parse_message` catches what a bug might still let through and returns what it has.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tmail.core.models import Address
from tmail.core.safe import safe_text
from tmail.mime import headers as hdr
from tmail.mime.attachments import safe_filename
from tmail.mime.charsets import Buffer, decode_text, normalize_charset
from tmail.mime.flowed import unflow
from tmail.mime.html import html_to_text
from tmail.mime.uuencode import extract_uuencoded

# Nested multiparts/messages read; a deeper part is kept whole as an attachment and the text says
# so. Real clients read letters forwarded or wrapped dozens of times; the parser uses no
# recursion, and the nested messages it returns stay well inside Python's recursion limit for
# the code that walks them (``show --json``).
MAX_DEPTH = 128
MAX_PARTS = 2000  # parts per message; the rest is kept as one opaque attachment
MAX_HEADER_BYTES = 1 << 20  # a header block longer than this ends there


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


# --- structure ------------------------------------------------------------------------------

_HEADER_NAME = re.compile(rb"[!-9;-~]+[ \t]*:")
_MESSAGE_TYPES = ("message/rfc822", "message/global")


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


# C0 controls but TAB, LF and CR, and DEL: the bytes that decode to controls in UTF-8 and in the
# ASCII-compatible codecs below (whose 0x80-0xFF map to letters or symbols, never to C1).
_C0_BYTES = bytes(c for c in range(32) if c not in (9, 10, 13)) + b"\x7f"
_UTF8_C1 = re.compile(rb"\xc2[\x80-\x9f]")
_BYTE_CHECKED = frozenset(
    {"utf-8", "ascii", "cp1252", "cp1251", "cp1250", "koi8-r", "koi8-u", "cp866", "mac-cyrillic"}
)
_CHUNK = 1 << 22


def _bytes_clean(data: Buffer, utf8: bool) -> bool:
    """No byte of ``data`` decodes to a control character other than TAB, LF, CR (chunked: a
    C-speed check of 100 MB in a fraction of a second, where a regex over the str takes seconds)."""
    view = memoryview(data)
    for pos in range(0, len(view), _CHUNK):
        chunk = bytes(view[pos : pos + _CHUNK + 1])
        if len(chunk.translate(None, _C0_BYTES)) != len(chunk):
            return False
        if utf8 and b"\xc2" in chunk and _UTF8_C1.search(chunk):
            return False
    return True


def _safe_body(text: str, data: Buffer, charset: str | None) -> str:
    """``safe_text(text)``, skipping the slow per-character pass when the bytes prove it clean."""
    codec = normalize_charset(charset) if charset else None
    if codec in _BYTE_CHECKED and _bytes_clean(data, codec == "utf-8"):
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return text
    return safe_text(text)


def _decoded_size(part: _Part) -> int:
    cte = _cte(part)
    if cte == "base64":
        return _b64_size(part.buf, part.start, part.end)
    if cte in ("7bit", "8bit", "binary"):
        return part.end - part.start
    return len(_decoded(part))


# --- the readable view ------------------------------------------------------------------------

_GENERATED_EXT = {
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "message/rfc822": ".eml",
    "message/global": ".eml",
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "application/zip": ".zip",
    "application/pgp-signature": ".asc",
    "application/pkcs7-signature": ".p7s",
    "message/delivery-status": ".txt",
    "text/rfc822-headers": ".txt",
}


def _filename(part: _Part, assumed: Sequence[str]) -> str:
    disposition = part.get("content-disposition")
    if disposition:
        _kind, params = hdr.split_content_header("x/x;" + disposition.partition(";")[2])
        name = params.get("filename")
        if name:
            return hdr.decode_header(name, assumed)
    name = part.params.get("name")
    if name:
        return hdr.decode_header(name, assumed)
    return ""


def _disposition(part: _Part) -> str:
    value = part.get("content-disposition")
    return value.partition(";")[0].strip().lower() if value else ""


@dataclass
class _Body:
    text: str
    from_html: bool
    charset: str | None
    detected: bool
    links: tuple[str, ...] = ()
    note: bool = False  # tmail's own line (a limit reached), not the sender's text


class _View:
    """Walks a parsed structure and sorts it into body text, attachments, nested messages."""

    def __init__(
        self, assumed: Sequence[str], built: dict[int, ParsedMessage], html_width: int = 78
    ) -> None:
        self.assumed = assumed
        self.html_width = html_width
        self.built = built  # the enclosed messages, already read, by id() of their _Part
        self.bodies: list[_Body] = []
        self.attachments: list[Attachment] = []
        self.nested: list[ParsedMessage] = []
        self.dsn: DeliveryReport | None = None

    def attach(
        self, part: _Part, inline: bool = False, message: ParsedMessage | None = None
    ) -> None:
        original = _filename(part, self.assumed)
        generated = f"part{len(self.attachments) + 1}{_GENERATED_EXT.get(part.ctype, '.bin')}"

        def load(p: _Part = part) -> bytes:
            return _decoded(p)

        cid = part.get("content-id")
        self.attachments.append(
            Attachment(
                index=len(self.attachments) + 1,
                filename=safe_filename(original, generated),
                content_type=part.ctype,
                size=_decoded_size(part),
                original_filename=original,
                inline=inline,
                content_id=cid.strip() if cid else None,
                _load=load,
                message=message,
            )
        )

    def add_attachment_bytes(self, name: str, ctype: str, data: bytes) -> None:
        self.attachments.append(
            Attachment(
                index=len(self.attachments) + 1,
                filename=safe_filename(name, f"part{len(self.attachments) + 1}.bin"),
                content_type=ctype,
                size=len(data),
                original_filename=name,
                _load=lambda: data,
            )
        )

    def text_part(self, part: _Part) -> None:
        declared = part.params.get("charset")
        if part.ctype == "text/html":
            data = _decoded(part)
            if declared is None:
                declared = _meta_charset(data)
            decoded = decode_text(data, declared, self.assumed)
            text, links = html_to_text(decoded.text, self.html_width)
            self.bodies.append(
                _Body(safe_text(text), True, decoded.charset, decoded.detected, links)
            )
            return
        view = _decoded_view(part)
        decoded = decode_text(view, declared, self.assumed)
        text = decoded.text
        changed = False
        if part.params.get("format", "").lower() == "flowed":
            text, changed = unflow(text, part.params.get("delsp", "").lower() == "yes"), True
        if "begin " in text:
            text, files = extract_uuencoded(text)
            changed = changed or bool(files)
            for name, payload in files:
                self.add_attachment_bytes(name, "application/octet-stream", payload)
        text = safe_text(text) if changed else _safe_body(text, view, decoded.charset)
        self.bodies.append(_Body(text, False, decoded.charset, decoded.detected))

    def walk(self, top: _Part) -> None:
        """Sort ``top`` and the parts inside it into bodies, attachments and nested messages,
        in reading order (an explicit stack: no recursion however deep the nesting)."""
        todo: list[tuple[str, _Part]] = [("walk", top)]
        while todo:
            action, part = todo.pop()
            if action == "attach":
                self.attach(part)
            elif action == "inline":
                self.attach(part, inline=True)
            else:
                todo.extend(self._visit(part))

    def _visit(self, part: _Part) -> list[tuple[str, _Part]]:
        """Handle one part; returns what to do next, last first (it goes on the stack)."""
        ctype = part.ctype
        disposition = _disposition(part)
        if part.children:
            sub = ctype.partition("/")[2]
            if sub == "alternative":
                return [("walk", _preferred(part.children))]
            if sub == "related":
                start = part.params.get("start")
                root = next(
                    (c for c in part.children if start and c.get("content-id") == start),
                    part.children[0],
                )
                rest = [("inline", c) for c in reversed(part.children) if c is not root]
                return [*rest, ("walk", root)]
            if sub in ("signed", "encrypted"):
                signature = [("attach", c) for c in reversed(part.children[1:])]
                return [*signature, ("walk", part.children[0])]
            return [("walk", c) for c in reversed(part.children)]
        if part.cut:
            self.bodies.append(
                _Body(
                    f"[-- parts nested more than {MAX_DEPTH} levels deep are not shown: "
                    f"kept as attachment {len(self.attachments) + 1} --]\n",
                    False,
                    None,
                    False,
                    note=True,
                )
            )
        if ctype == "text/rfc822-headers":
            if part.message is not None:
                self.nested.append(self.built[id(part.message)])
            return []
        if part.message is not None:
            inner = self.built[id(part.message)]
            self.nested.append(inner)
            self.attach(part, message=inner)
            return []
        if ctype in _MESSAGE_TYPES:  # too deep to read: kept as it is
            self.attach(part)
            return []
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            self.dsn = _delivery_report(_decoded(part))
            return []
        inline_text = ctype in ("text/plain", "text/html") and (
            disposition == "inline" or (disposition != "attachment" and not _filename(part, ()))
        )
        if inline_text:
            self.text_part(part)
        else:
            self.attach(part, inline=disposition == "inline")
        return []


def _kind(part: _Part) -> int:
    """How good a part of multipart/alternative is for reading: plain 3, html 2, other 1
    (a multipart counts as its first part)."""
    while part.children:
        part = part.children[0]
    if part.ctype == "text/plain":
        return 3
    if part.ctype == "text/html":
        return 2
    return 1


def _has_text(part: _Part) -> bool:
    if part.children or part.message is not None:
        return True
    return bool(part.buf[part.start : min(part.end, part.start + 4096)].strip())


def _preferred(children: list[_Part]) -> _Part:
    """The part of a multipart/alternative to read: text/plain with something in it, else HTML
    (mutt's default ``alternative_order``), else any text, else the last (the sender's choice)."""
    for wanted in (3, 2):
        for child in children:
            if _kind(child) == wanted and _has_text(child):
                return child
    for child in children:
        if _kind(child) >= 2:
            return child
    return children[-1]


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None


def _delivery_report(data: bytes) -> DeliveryReport:
    blocks = [b for b in re.split(rb"\r?\n[ \t]*\r?\n", data) if b.strip()]
    reporting = ""
    recipients: list[DsnRecipient] = []
    for number, block in enumerate(blocks):
        fields, _ = _read_headers(block, 0, len(block), ())
        values = {k.lower(): " ".join(v.split()) for k, v in fields}
        if number == 0 and "final-recipient" not in values:
            reporting = _typed(values.get("reporting-mta", ""))
            continue
        if "final-recipient" in values or "original-recipient" in values:
            recipients.append(
                DsnRecipient(
                    original_recipient=_typed(values.get("original-recipient", "")),
                    final_recipient=_typed(values.get("final-recipient", "")),
                    action=values.get("action", "").lower(),
                    status=values.get("status", "").split(" ")[0],
                    diagnostic=_typed(values.get("diagnostic-code", "")),
                    remote_mta=_typed(values.get("remote-mta", "")),
                )
            )
    return DeliveryReport(reporting, tuple(recipients))


def _typed(value: str) -> str:
    """``rfc822; user@example.org`` -> ``user@example.org`` (RFC 3464 address-type prefix)."""
    kind, sep, rest = value.partition(";")
    return rest.strip() if sep and " " not in kind.strip() else value.strip()


def _build(
    top: _Part, assumed: Sequence[str], parser: _Parser, depth: int, size: int
) -> ParsedMessage:
    """The readable view of ``top``. The messages enclosed in it are built first, innermost
    first, so that building one never recurses into the next."""
    enclosed: list[tuple[_Part, int]] = []
    stack = [(top, depth)]
    while stack:
        part, level = stack.pop()
        if part.message is not None:
            enclosed.append((part.message, level + 1))
            stack.append((part.message, level + 1))
        stack.extend((child, level) for child in part.children)
    built: dict[int, ParsedMessage] = {}
    for part, level in reversed(enclosed):  # a message's inner ones come after it in the list
        built[id(part)] = _build_one(part, assumed, parser, level, part.end - part.start, built)
    return _build_one(top, assumed, parser, depth, size, built)


def _build_one(
    top: _Part,
    assumed: Sequence[str],
    parser: _Parser,
    depth: int,
    size: int,
    built: dict[int, ParsedMessage],
) -> ParsedMessage:
    view = _View(assumed, built, parser.html_width)
    view.walk(top)

    def addresses(name: str) -> tuple[Address, ...]:
        return hdr.parse_addresses(top.get_all(name), assumed)

    def one(name: str) -> str | None:
        value = top.get(name)
        return " ".join(value.split()) or None if value is not None else None

    if parser.too_many and depth == 0:
        view.bodies.append(
            _Body(
                f"[-- more than {MAX_PARTS} parts: the rest is not shown --]\n",
                False,
                None,
                False,
                note=True,
            )
        )
    if view.bodies:
        first = next((b for b in view.bodies if not b.note), view.bodies[0])
        if len(view.bodies) == 1:
            text = first.text  # no copy of a big body
            if text and not text.endswith("\n"):
                text += "\n"
        else:
            text = "\n\n".join(b.text.rstrip("\n") for b in view.bodies if b.text.strip())
            text = text + "\n" if text else ""
        links: tuple[str, ...] = tuple(link for b in view.bodies for link in b.links)
        body = _Body(text, first.from_html, first.charset, first.detected, links)
    else:
        body = _Body("", False, None, False)
    in_reply_to = hdr.message_ids(top.get("in-reply-to"))
    return ParsedMessage(
        subject=hdr.decode_header(top.get("subject") or "", assumed),
        from_=addresses("from"),
        to=addresses("to"),
        cc=addresses("cc"),
        bcc=addresses("bcc"),
        reply_to=addresses("reply-to"),
        date=hdr.parse_date(top.get("date")),
        message_id=one("message-id"),
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=hdr.message_ids(top.get("references")),
        text=body.text,
        text_from_html=body.from_html,
        charset=body.charset,
        charset_detected=body.detected,
        links=body.links,
        attachments=tuple(view.attachments),
        nested=tuple(view.nested),
        dsn=view.dsn,
        headers=tuple((name, hdr.decode_header(value, assumed)) for name, value in top.fields),
        problems=tuple(parser.problems) if depth == 0 else (),
        size=size,
    )


def _parse(raw: bytes, assumed: Sequence[str], depth: int, html_width: int = 78) -> ParsedMessage:
    parser = _Parser(assumed, html_width)
    try:
        top = parser.parse(raw, depth)
        return _build(top, assumed, parser, depth, len(raw))
    except RecursionError:
        parser.problems.append("message nested too deeply to read")
    except Exception as exc:  # a bug must not stop a sync or a view; say what happened
        parser.problems.append(f"parser error: {type(exc).__name__}: {exc}")
    return _empty(raw, tuple(parser.problems))


def _empty(raw: bytes, problems: tuple[str, ...]) -> ParsedMessage:
    return ParsedMessage(
        subject="",
        from_=(),
        to=(),
        cc=(),
        bcc=(),
        reply_to=(),
        date=None,
        message_id=None,
        in_reply_to=None,
        references=(),
        text=safe_text(decode_text(raw[: 1 << 20], None).text),
        text_from_html=False,
        charset=None,
        charset_detected=False,
        links=(),
        attachments=(),
        nested=(),
        dsn=None,
        headers=(),
        problems=problems,
        size=len(raw),
    )


def parse_message(
    raw: bytes, assumed_charsets: Sequence[str] = (), *, html_width: int = 78
) -> ParsedMessage:
    """Parse a raw RFC 5322 message for reading; never raises, whatever the bytes.

    ``assumed_charsets`` is the account's hint for 8-bit text without a trustworthy charset
    (mutt's ``assumed_charset``), tried before detection. HTML is converted to text lines of
    at most ``html_width`` columns (the reader passes its pager's width).
    """
    return _parse(bytes(raw), tuple(assumed_charsets), 0, html_width)
