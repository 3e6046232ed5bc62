"""Rendering a parsed message as terminal-safe text (``tmail show`` and the TUI pager).

Every value from the message goes through :func:`tmail.core.safe.safe_line` (header values,
names, file names) or :func:`tmail.core.safe.safe_text` (bodies) here, so a view that prints what
this returns cannot be made to move the cursor or retitle the terminal.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from tmail.core.models import Address
from tmail.core.safe import safe_line
from tmail.core.sizes import human_size
from tmail.mime.parse import ParsedMessage

MAX_NESTED_RENDER = 8  # levels of forwarded messages shown inline
_SLICE = 1 << 20  # characters of body per piece from render_chunks


def format_addresses(addresses: Sequence[Address]) -> str:
    return safe_line(", ".join(a.formatted() for a in addresses))


def header_block(parsed: ParsedMessage, all_headers: bool = False) -> list[str]:
    """The lines above the body: From, To, Cc, Reply-To, Date, Subject (or every field)."""
    if all_headers:
        return [f"{safe_line(name)}: {safe_line(value)}" for name, value in parsed.headers]
    lines = [f"From: {format_addresses(parsed.from_)}"]
    if parsed.to:
        lines.append(f"To: {format_addresses(parsed.to)}")
    if parsed.cc:
        lines.append(f"Cc: {format_addresses(parsed.cc)}")
    if parsed.reply_to and parsed.reply_to != parsed.from_:
        lines.append(f"Reply-To: {format_addresses(parsed.reply_to)}")
    if parsed.date is not None:
        lines.append(f"Date: {parsed.date.strftime('%a, %d %b %Y %H:%M:%S %z')}")
    else:  # unreadable: show what the sender wrote, as mutt does
        raw_date = next((v for n, v in parsed.headers if n.lower() == "date"), "")
        if raw_date.strip():
            lines.append(f"Date: {safe_line(raw_date)}")
    lines.append(f"Subject: {safe_line(parsed.subject)}")
    return lines


def _attachment_lines(parsed: ParsedMessage) -> list[str]:
    if not parsed.attachments:
        return []
    lines = ["", "[-- Attachments --]"]
    for a in parsed.attachments:
        lines.append(
            f"  {a.index}. {safe_line(a.filename)}  ({safe_line(a.content_type)}, "
            f"{human_size(a.size)}){'  inline' if a.inline else ''}"
        )
    return lines


def _dsn_lines(parsed: ParsedMessage) -> list[str]:
    report = parsed.dsn
    if report is None:
        return []
    lines = [
        "",
        "[-- Delivery report"
        + (f" from {safe_line(report.reporting_mta)}" if report.reporting_mta else "")
        + " --]",
    ]
    for r in report.recipients:
        who = r.original_recipient or r.final_recipient
        lines.append(f"  {safe_line(who)}: {safe_line(r.action or '?')} {safe_line(r.status)}")
        if r.diagnostic:
            lines.append(f"    {safe_line(r.diagnostic)}")
    return lines


def render_chunks(
    parsed: ParsedMessage, *, all_headers: bool = False, depth: int = 0, whole: bool = False
) -> Iterator[str]:
    """:func:`render_text` piece by piece, so a 100 MB body is written without a second copy
    (the body comes in slices of a million characters unless ``whole``)."""
    yield "\n".join(header_block(parsed, all_headers)) + "\n\n"
    body = parsed.text  # terminal-safe already: the parser applied safe_text
    if body:
        if whole or len(body) <= _SLICE:
            yield body
        else:  # a writer encodes each piece whole: keep the pieces small
            for pos in range(0, len(body), _SLICE):
                yield body[pos : pos + _SLICE]
        if not body.endswith("\n"):
            yield "\n"
    tail = _dsn_lines(parsed) + _attachment_lines(parsed)
    if tail:
        yield "\n".join(tail) + "\n"
    for nested in parsed.nested:
        if depth >= MAX_NESTED_RENDER:
            yield "\n[-- further enclosed messages not shown --]\n"
            break
        yield "\n[-- Enclosed message --]\n"
        yield from render_chunks(nested, depth=depth + 1, whole=whole)
        yield "[-- End of enclosed message --]\n"


def render_text(parsed: ParsedMessage, *, all_headers: bool = False) -> str:
    """Header block, body, delivery report, attachment list and nested messages, terminal-safe.

    Every header value, name and file name goes through ``safe_line`` here; the body was made
    safe by the parser (``safe_text``). ``all_headers`` shows every header field instead of the
    usual From/To/Cc/Date/Subject block.
    """
    return "".join(render_chunks(parsed, all_headers=all_headers, whole=True))
