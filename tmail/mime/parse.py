"""``parse_message(raw) -> ParsedMessage``: a whole message as tmail shows it.

The MIME structure is split here on bytes, by hand, instead of with ``email.message_from_bytes``:

* speed and memory: the stdlib feed parser copies every line into Python strings; here a part is a
  (start, end) span of the raw bytes found with ``bytes.find``, decoded only when it is shown or
  saved. A 100 MB attachment is never copied to be listed (docs/benchmarks.md has the figures);
* robustness: the stdlib parser recursed until RecursionError on deep nesting (PITFALLS.md) and its
  header objects raise on unknown charsets; this parser walks the structure with its own stack (no
  recursion), is depth- and part-count-limited (a limit reached is said in the text) and records
  what it could not read in ``problems`` instead of raising.

This module joins the jobs, each in its own module: :mod:`~tmail.mime.structure` splits the bytes
into parts (:mod:`~tmail.mime.parts`: a part's span and its transfer decoding),
:mod:`~tmail.mime.view` sorts them into body text, attachments and nested messages,
:mod:`~tmail.mime.dsn` reads delivery reports, :mod:`~tmail.mime.parsed` holds the result types
(re-exported here). Header values, addresses, dates and parameters are read by
:mod:`tmail.mime.headers`, text by :mod:`tmail.mime.charsets`, HTML by :mod:`tmail.mime.html`.
Nothing here raises on any input: :func:`parse_message` catches what a bug might still let through
and returns what it has.
"""

from __future__ import annotations

from collections.abc import Sequence

from tmail.core.models import Address
from tmail.core.safe import safe_text
from tmail.mime import headers as hdr
from tmail.mime.charsets import decode_text
from tmail.mime.parsed import Attachment, DeliveryReport, DsnRecipient, ParsedMessage
from tmail.mime.parts import _Part
from tmail.mime.structure import MAX_DEPTH, MAX_HEADER_BYTES, MAX_PARTS, _Parser
from tmail.mime.view import _Body, _View

__all__ = [
    "MAX_DEPTH",
    "MAX_HEADER_BYTES",
    "MAX_PARTS",
    "Attachment",
    "DeliveryReport",
    "DsnRecipient",
    "ParsedMessage",
    "parse_message",
]


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
