"""``mailto:`` URLs (RFC 6068): the addresses, subject and body a link or the desktop hands over.

Read safely (RFC 6068 section 7): only the fields a person reviews before sending are taken
(to, cc, bcc, subject, body, in-reply-to); any other (``from``, ``attach``, ``x-...``,
``received``) is dropped. Percent-escapes are UTF-8 (section 2); ``+`` stays a plus sign (it is no
space in mailto). Subject and addresses lose control characters (a CR or LF there could start a
header); the body keeps its lines. Nothing is ever sent from a URL alone: it fills the composer,
or ``tmail send`` as if the same things were given as options.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import getaddresses
from urllib.parse import unquote

from tmail.core.errors import UsageError
from tmail.core.safe import safe_line, safe_text

MAX_URL = 64 * 1024  # a longer URL is nobody's link
_ALLOWED = ("to", "cc", "bcc", "subject", "body", "in-reply-to")


@dataclass(frozen=True)
class Mailto:
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str | None = None  # None: the URL has none (an empty one is a choice)
    body: str | None = None
    in_reply_to: str | None = None
    ignored: tuple[str, ...] = ()  # field names dropped as unsafe or unknown


def is_mailto(text: str) -> bool:
    return text[:7].lower() == "mailto:"


def _decode(text: str) -> str:
    return unquote(text, encoding="utf-8", errors="replace")


def _addresses(text: str) -> list[str]:
    out = []
    for name, addr in getaddresses([safe_line(text)]):
        addr = addr.strip()
        if not addr:
            continue
        if "@" not in addr:
            raise UsageError(
                f"mailto: {safe_line(addr)!r} is not a mail address",
                hint="a mailto: URL names addresses like mailto:anna@example.org",
            )
        out.append(f"{name} <{addr}>" if name else addr)
    return out


def parse_mailto(url: str) -> Mailto:
    """The fields of ``url``; UsageError when it is no mailto: URL or cannot be read."""
    url = url.strip()
    if not is_mailto(url):
        raise UsageError(f"not a mailto: URL: {safe_line(url[:80])!r}")
    if len(url) > MAX_URL:
        raise UsageError("the mailto: URL is longer than 64 KB", hint="is it really a link?")
    rest = url[7:]
    path, _, query = rest.partition("?")
    path = path.partition("#")[0]
    query = query.partition("#")[0]
    to = _addresses(_decode(path)) if path else []
    cc: list[str] = []
    bcc: list[str] = []
    subject: str | None = None
    body: str | None = None
    in_reply_to: str | None = None
    ignored: list[str] = []
    for pair in query.split("&") if query else ():
        if not pair:
            continue
        raw_name, _, raw_value = pair.partition("=")
        name = _decode(raw_name).strip().lower()
        value = _decode(raw_value)
        if name not in _ALLOWED:
            ignored.append(safe_line(name))
        elif name == "to":
            to += _addresses(value)
        elif name == "cc":
            cc += _addresses(value)
        elif name == "bcc":
            bcc += _addresses(value)
        elif name == "subject":
            subject = safe_line(value)
        elif name == "body":
            # line breaks are CRLF in the URL (section 5): LF here, as the composer writes;
            # other control characters are shown, never passed on
            body = safe_text(value)
        else:
            in_reply_to = safe_line(value).strip() or None
    return Mailto(tuple(to), tuple(cc), tuple(bcc), subject, body, in_reply_to, tuple(ignored))
