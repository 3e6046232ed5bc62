"""A message as the pager shows it: header lines, body lines, attachments, numbered links.

The decoding is :mod:`tmail.mime`'s (:func:`~tmail.mime.parse_message` and
:func:`~tmail.mime.render_text`); this module arranges the result for the screen. Everything in a
:class:`Rendered` is terminal-safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tmail.core.safe import safe_line, safe_text
from tmail.mime import ParsedMessage, parse_message, render_text
from tmail.mime.pgp import CryptoStatus, Opened, open_protected
from tmail.mime.render import header_block
from tmail.ui.widths import screen_text

_URL = re.compile(r"""(?:https?|ftp)://[^\s<>"'\])]+|mailto:[^\s<>"'\])]+""", re.IGNORECASE)
# A charset parameter in a Content-Type field (the override rewrites it, see render()).
_CHARSET = re.compile(rb'(?im)^(content-type:[^\n]*?charset\s*=\s*)("?)[\w.:+-]+\2')


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
    parsed: ParsedMessage | None = None
    width: int = 78  # columns the HTML in it was converted to
    crypto: CryptoStatus | None = None  # OpenPGP found in it, verified/decrypted


def find_links(body: str) -> list[str]:
    """URLs in reading order, each once."""
    seen: dict[str, None] = {}
    for m in _URL.finditer(body):
        seen.setdefault(m.group(0).rstrip(".,;:!?"), None)
    return list(seen)


def force_charset(raw: bytes, charset: str) -> bytes:
    """``raw`` with every declared charset replaced by ``charset``: "view as charset…" for a
    message whose declared charset is wrong (the parser honours a declared one)."""
    name = charset.encode("ascii")
    return _CHARSET.sub(lambda m: m.group(1) + name, raw)


def sender_lines(parsed: ParsedMessage, authserv_ids: tuple[str, ...]) -> list[tuple[str, str]]:
    """The "Auth:" line (the trusted server's verdicts) and a "Warning:" line for a From whose
    name shows another address; each only when there is something to say."""
    from tmail.mime.sender import check_sender

    check = check_sender(parsed.headers, parsed.from_, authserv_ids)
    lines = []
    auth = check.auth_line()
    if auth:
        lines.append(("Auth", auth))
    warning = check.warning_line(parsed.from_)
    if warning:
        lines.append(("Warning", warning))
    return lines


def invitation_text(raw: bytes) -> str:
    """A calendar invitation's block (what, when, where, who; :mod:`tmail.mime.invitation`)
    to stand above the body, with a blank line after it; "" when there is none."""
    from tmail.mime.invitation import read_invitation

    invitation = read_invitation(raw)
    return "\n".join(invitation.lines()) + "\n\n" if invitation is not None else ""


def render(
    raw: bytes,
    charset: str | None = None,
    assumed: tuple[str, ...] = (),
    width: int = 78,
    authserv_ids: tuple[str, ...] = (),
) -> Rendered:
    """Decode ``raw`` for the pager; ``charset`` overrides the declared or detected one; HTML
    is converted to lines of ``width`` columns; ``authserv_ids`` are the account's own server's
    (its verdicts on the sender are shown, :mod:`tmail.mime.sender`). OpenPGP in it is verified
    and decrypted first (in memory: the plain text is not written anywhere)."""
    opened = open_pgp(raw)
    raw = opened.raw
    if charset:
        raw = force_charset(raw, charset)
        assumed = (charset,)
    parsed = parse_message(raw, assumed_charsets=assumed, html_width=width)
    headers = []
    block = header_block(parsed)
    for line in block:
        name, _, value = line.partition(": ")
        headers.append((name, value))
    headers.extend(sender_lines(parsed, authserv_ids))
    full = render_text(parsed)
    # render_text: the header block, a blank line, then body, delivery report, attachment list
    # and enclosed messages; the pager draws its own header lines above the rest.
    body = full.split("\n", len(block) + 1)[-1] if full.count("\n") > len(block) else ""
    body = invitation_text(raw) + body
    links = list(parsed.links) if parsed.text_from_html else find_links(parsed.text)
    used = parsed.charset
    if used and parsed.charset_detected:
        used += " (detected)"
    return Rendered(
        headers=[(safe_line(n), screen_text(safe_line(v))) for n, v in headers],
        body=screen_text(safe_text(body)).rstrip("\n"),
        attachments=[
            AttachmentInfo(a.index, safe_line(a.filename), safe_line(a.content_type), a.size)
            for a in parsed.attachments
        ],
        links=[safe_line(u) for u in links],
        charset=charset or used,
        parsed=parsed,
        width=width,
        crypto=opened.crypto,
    )


_OPENED: dict[bytes, Opened] = {}  # the last few messages opened, in memory only
_OPENED_KEPT = 4


def open_pgp(raw: bytes) -> Opened:
    """:func:`~tmail.mime.pgp.open_protected` with the user's GnuPG, remembered for the last
    few messages so that a resize or a charset change does not run gpg again; a failure is not
    remembered (the next opening asks again, e.g. after a cancelled pinentry)."""
    from tmail.mime.gpg import default_backend

    if raw in _OPENED:
        return _OPENED[raw]
    opened = open_protected(raw, default_backend)
    if opened.crypto is not None and opened.crypto.error is None:
        while len(_OPENED) >= _OPENED_KEPT:
            del _OPENED[next(iter(_OPENED))]
        _OPENED[raw] = opened
    return opened
