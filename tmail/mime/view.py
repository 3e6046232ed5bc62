"""The readable view of a parsed structure: which part is the body text (multipart/alternative,
related, signed), which are attachments, which are enclosed messages; text made terminal-safe.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tmail.core.safe import safe_text
from tmail.mime import headers as hdr
from tmail.mime.attachments import safe_filename
from tmail.mime.charsets import Buffer, decode_text, normalize_charset
from tmail.mime.dsn import _delivery_report
from tmail.mime.flowed import unflow
from tmail.mime.html import html_to_text
from tmail.mime.parsed import Attachment, DeliveryReport, ParsedMessage
from tmail.mime.parts import _decoded, _decoded_size, _decoded_view, _Part
from tmail.mime.structure import _MESSAGE_TYPES, MAX_DEPTH
from tmail.mime.uuencode import extract_uuencoded

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
