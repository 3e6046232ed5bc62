"""format=flowed (RFC 3676): join soft-broken lines back into paragraphs for display."""

from __future__ import annotations


def _quote_depth(line: str) -> tuple[int, str]:
    depth = len(line) - len(line.lstrip(">"))
    return depth, line[depth:]


def unflow(text: str, delsp: bool = False) -> str:
    """Undo format=flowed: a line ending in a space continues on the next line of the same quote
    depth (section 4.2); space-stuffing is removed (4.4); ``-- `` stays a signature separator (4.3).
    With DelSp=yes the trailing space is deleted when joining (4.1).
    """
    out: list[str] = []
    current: str | None = None
    current_depth = 0
    for raw in text.split("\n"):
        line = raw[:-1] if raw.endswith("\r") else raw
        depth, content = _quote_depth(line)
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        flowed = content.endswith(" ") and content != "-- "
        if current is not None and depth != current_depth:
            out.append(_quoted(current_depth, current))
            current = None
        if flowed:
            piece = content[:-1] if delsp else content
            current = piece if current is None else current + piece
            current_depth = depth
            continue
        full = content if current is None else current + content
        out.append(_quoted(depth, full))
        current = None
    if current is not None:
        out.append(_quoted(current_depth, current))
    return "\n".join(out)


def _quoted(depth: int, text: str) -> str:
    return (">" * depth + " " + text) if depth else text
