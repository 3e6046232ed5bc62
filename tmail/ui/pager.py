"""The pager: decoded headers, the body with quotes dimmed and lines wrapped, the attachment list,
numbered links; a raw-source view; text search with n/N."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import urwid

from tmail.core.safe import safe_text
from tmail.ui.urwidtypes import Wrap

if TYPE_CHECKING:
    from tmail.ui.render import Rendered


def _quote_level(line: str) -> int:
    m = re.match(r"^((?:\s?>)+)", line)
    return m.group(1).count(">") if m else 0


class Line(urwid.Text):
    """A body line: wraps at spaces, knows its plain text for searching."""

    def __init__(self, markup: object, plain: str) -> None:
        super().__init__(markup)  # type: ignore[arg-type]
        self.plain = plain


def body_lines(r: Rendered) -> list[Line]:
    out: list[Line] = []
    for name, value in r.headers:
        if value:
            out.append(
                Line([("header_name", f"{name}: "), ("header_value", value)], f"{name}: {value}")
            )
    if r.charset:
        out.append(Line(("header_name", f"[charset: {r.charset}]"), f"[charset: {r.charset}]"))
    out.append(Line("", ""))
    in_signature = False
    in_list = False  # inside the "[-- Attachments --]" list
    link_no = {url: i + 1 for i, url in enumerate(r.links)}
    for line in r.body.split("\n"):
        if line == "-- ":
            in_signature = True
        level = _quote_level(line)
        if not line.strip():
            in_list = False
        if line.startswith("[-- "):
            in_list = line == "[-- Attachments --]"
            out.append(Line(("attachment", line), line))
        elif in_list:
            out.append(Line(("attachment", line), line))
        elif level:
            attr = "quote" if level % 2 else "quote2"
            out.append(Line((attr, line), line))
        elif in_signature:
            out.append(Line(("signature", line), line))
        else:
            out.append(Line(_mark_links(line, link_no), line))
    if r.links and not (r.parsed is not None and r.parsed.text_from_html):
        out.append(Line("", ""))
        for i, url in enumerate(r.links, 1):
            out.append(Line([("link", f"[{i}] "), url], f"[{i}] {url}"))
    return out


# A line of the HTML converter's reference list ("   [2]: https://..."): already numbered.
_REFERENCE_LINE = re.compile(r"^( {3}\[\d+\]: )(\S+)$")


def _mark_links(line: str, numbers: dict[str, int]) -> object:
    """The line with each URL coloured and followed by the number ``u`` opens it with."""
    if "://" not in line and "mailto:" not in line:
        return line
    ref = _REFERENCE_LINE.match(line)
    if ref:
        return [ref.group(1), ("link", ref.group(2))]
    present = sorted((u for u in numbers if u in line), key=len, reverse=True)
    if not present:
        return line
    parts: list[object] = []
    at = 0
    for m in re.finditer("|".join(map(re.escape, present)), line):
        url = m.group(0)
        end = m.end()
        if line[end : end + 1] == ">" and line[m.start() - 1 : m.start()] == "<":
            end += 1  # the number after html2text's <https://...>, not inside it
        parts.extend([line[at : m.start()], ("link", line[m.start() : end])])
        parts.append(("link", f"[{numbers[url]}]"))
        at = end
    parts.append(line[at:])
    return [p for p in parts if p]


def raw_lines(raw: bytes, hints: tuple[str, ...] = ()) -> list[Line]:
    """The source, each part's 8-bit text decoded as the message view does (its declared charset,
    else UTF-8, the ``hints``, detection) instead of UTF-8 with a U+FFFD for every other byte."""
    from tmail.mime.rawtext import source_text

    text = safe_text(source_text(raw, hints))
    return [Line(line, line) for line in text.split("\n")]


class Pager(Wrap):
    def __init__(self, message_id: int, raw: bytes, rendered: Rendered) -> None:
        self.message_id = message_id
        self.raw = raw
        self.rendered = rendered
        self.show_raw = False
        self.walker = urwid.SimpleFocusListWalker(body_lines(rendered))
        self.listbox = urwid.ListBox(self.walker)
        self.query: str | None = None
        super().__init__(self.listbox)

    def set_rendered(self, rendered: Rendered) -> None:
        self.rendered = rendered
        self.show_raw = False
        self.walker[:] = body_lines(rendered)

    def toggle_raw(self) -> None:
        self.show_raw = not self.show_raw
        # the charset the message view used (detected, or chosen with C) helps the raw view
        used = (self.rendered.charset or "").split(" ")[0]
        hints = (used,) if used else ()
        self.walker[:] = raw_lines(self.raw, hints) if self.show_raw else body_lines(self.rendered)
        if self.walker:
            self.walker.set_focus(0)

    def text(self) -> str:
        return "\n".join(line.plain for line in self.walker if isinstance(line, Line))

    def find(self, query: str, forward: bool = True) -> bool:
        """Focus the next (previous) line holding ``query``, case-insensitively; highlight it."""
        self.query = query
        q = query.lower()
        n = len(self.walker)
        if not n or not q:
            return False
        start = self.walker.focus or 0
        order = range(start + 1, start + 1 + n) if forward else range(start - 1, start - 1 - n, -1)
        for i in order:
            line = self.walker[i % n]
            if isinstance(line, Line) and q in line.plain.lower():
                at = line.plain.lower().index(q)
                line.set_text(
                    [
                        line.plain[:at],
                        ("match", line.plain[at : at + len(q)]),
                        line.plain[at + len(q) :],
                    ]
                )
                self.walker.set_focus(i % n)
                self.listbox.set_focus_valign("middle")
                return True
        return False

    def render(self, size: tuple[int, int], focus: bool = False) -> urwid.Canvas:  # type: ignore[override]
        self._size = size
        return super().render(size, focus)

    def at_end(self) -> bool:
        """The last line is on the screen (as last rendered)."""
        size = getattr(self, "_size", None)
        return size is not None and "bottom" in self.listbox.ends_visible(size)

    def selectable(self) -> bool:
        return True
