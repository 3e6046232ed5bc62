"""A message as the pager shows it: header lines, body lines, attachments, numbered links.

The decoding itself is :mod:`tmail.mime`'s; this module only arranges its result for the screen
and makes every string terminal-safe.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from typing import Any

from tmail.core.safe import safe_line, safe_text

_URL = re.compile(r"""(?:https?|ftp)://[^\s<>"'\])]+|mailto:[^\s<>"'\])]+""", re.IGNORECASE)
_LINK_REF = re.compile(r"^\s*\[(\d+)\]:?\s+(\S+)\s*$")


@dataclass(frozen=True)
class AttachmentInfo:
    index: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class Rendered:
    headers: list[tuple[str, str]]
    body: str
    attachments: list[AttachmentInfo] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    charset: str | None = None
    has_html: bool = False


def find_links(body: str) -> list[str]:
    """URLs in reading order, each once."""
    seen: dict[str, None] = {}
    for m in _URL.finditer(body):
        url = m.group(0).rstrip(".,;:!?")
        seen.setdefault(url, None)
    return list(seen)


def render(raw: bytes, charset: str | None = None) -> Rendered:
    """Decode ``raw`` for the pager; ``charset`` overrides the body's declared or guessed one."""
    from tmail import mime

    parse = getattr(mime, "parse_message", None)
    if parse is not None:
        return _from_parsed(parse, raw, charset)
    return _from_summary(raw, charset)


def _from_summary(raw: bytes, charset: str | None) -> Rendered:
    from tmail.mime import summarize

    s = summarize(raw)
    headers = [
        ("From", ", ".join(a.formatted() for a in s.from_)),
        ("To", ", ".join(a.formatted() for a in s.to)),
    ]
    if s.cc:
        headers.append(("Cc", ", ".join(a.formatted() for a in s.cc)))
    headers.append(("Date", s.date.strftime("%a, %d %b %Y %H:%M %z") if s.date else ""))
    headers.append(("Subject", s.subject))
    body = s.body_text
    if charset:
        # Re-decode the body's bytes: the part after the header block, as 8-bit text.
        _head, sep, rest = raw.partition(b"\n\n")
        if sep:
            with contextlib.suppress(LookupError):
                body = rest.decode(charset, "replace")
    return Rendered(
        headers=[(n, safe_line(v)) for n, v in headers],
        body=safe_text(body),
        links=find_links(body),
        charset=charset or s.charset,
    )


def _from_parsed(parse: object, raw: bytes, charset: str | None) -> Rendered:
    assumed = (charset,) if charset else ()
    msg = parse(raw, assumed_charsets=assumed)  # type: ignore[operator]
    return _arrange(msg, charset)


def _arrange(msg: object, override: str | None) -> Rendered:
    def get(name: str, default: object = None) -> object:
        return getattr(msg, name, default)

    def addrs(value: object) -> str:
        if not value:
            return ""
        out = []
        for a in value:  # type: ignore[attr-defined]
            fmt = getattr(a, "formatted", None)
            out.append(fmt() if callable(fmt) else str(a))
        return ", ".join(out)

    headers: list[tuple[str, str]] = [("From", addrs(get("from_")))]
    headers.append(("To", addrs(get("to"))))
    if get("cc"):
        headers.append(("Cc", addrs(get("cc"))))
    date = get("date")
    headers.append(("Date", date.strftime("%a, %d %b %Y %H:%M %z") if date else ""))  # type: ignore[attr-defined]
    headers.append(("Subject", str(get("subject", "") or "")))
    body = str(get("text", None) or get("body_text", None) or get("body", "") or "")
    attachments = []
    parts: list[Any] = list(get("attachments", ()) or ())  # type: ignore[call-overload]
    for i, part in enumerate(parts):
        attachments.append(
            AttachmentInfo(
                i + 1,
                safe_line(str(getattr(part, "filename", "") or f"part-{i + 1}")),
                safe_line(str(getattr(part, "content_type", "") or "application/octet-stream")),
                int(getattr(part, "size", 0) or 0),
            )
        )
    links = [str(u) for u in (get("links", ()) or ())] or find_links(body)  # type: ignore[attr-defined]
    return Rendered(
        headers=[(n, safe_line(v)) for n, v in headers],
        body=safe_text(body),
        attachments=attachments,
        links=[safe_line(u) for u in links],
        charset=override or get("charset"),  # type: ignore[arg-type]
        has_html=bool(get("html", None)),
    )
