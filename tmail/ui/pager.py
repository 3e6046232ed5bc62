"""The pager: decoded headers, the body with quotes dimmed and lines wrapped, the attachment list,
numbered links; a raw-source view; text search with n/N."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import urwid

from tmail.core.safe import safe_line, safe_text
from tmail.ui.pagersearch import Found, Match, TextSearch, highlight
from tmail.ui.urwidtypes import Wrap

if TYPE_CHECKING:
    from tmail.ui.render import Rendered


# A part whose text is converted for the width it is shown at (see Pager).
_HTML_PART = re.compile(rb"(?im)^content-type:[ \t]*text/html")
MIN_WIDTH = 20  # narrower than this, HTML stays as converted last (a window being dragged)


# The OpenPGP status line's colour by what it says (CryptoStatus.level).
_CRYPTO_ATTR = {"good": "notice", "doubt": "header_name", "bad": "warning"}


def _quote_level(line: str) -> int:
    m = re.match(r"^((?:\s?>)+)", line)
    return m.group(1).count(">") if m else 0


class Line(urwid.Text):
    """A body line: wraps at spaces, knows its plain text for searching."""

    def __init__(self, markup: object, plain: str) -> None:
        super().__init__(markup)  # type: ignore[arg-type]
        self.markup = markup  # its own colours, put back when a search highlight leaves it
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
    if r.crypto is not None:
        text = safe_line(r.crypto.line())
        out.append(Line((_CRYPTO_ATTR[r.crypto.level], text), text))
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
    """The message; HTML in it is converted again for the width it is shown at, so that its
    paragraphs fill the pager at 80 columns as at 200 (re-wrapped on a resize)."""

    def __init__(
        self,
        message_id: int,
        raw: bytes,
        rendered: Rendered,
        assumed: Sequence[str] = (),
        authserv_ids: Sequence[str] = (),
    ) -> None:
        self.message_id = message_id
        self.raw = raw
        self.rendered = rendered
        self.assumed = tuple(assumed)
        self.authserv_ids = tuple(authserv_ids)  # the account's server (the "Auth:" line)
        self.charset: str | None = None  # "view as charset" chosen by the person
        self._width_matters = _HTML_PART.search(raw) is not None or (
            rendered.parsed is not None and rendered.parsed.text_from_html  # decrypted HTML
        )
        self.show_raw = False
        self.walker = urwid.SimpleFocusListWalker(body_lines(rendered))
        self.listbox = urwid.ListBox(self.walker)
        self.query: str | None = None
        self._search: TextSearch | None = None
        self._highlighted: Line | None = None
        super().__init__(self.listbox)

    def set_rendered(self, rendered: Rendered) -> None:
        self.rendered = rendered
        self.show_raw = False
        self.walker[:] = body_lines(rendered)
        self._lines_changed()

    def view_as(self, charset: str) -> None:
        """Decode the message again as ``charset`` (the declared one being wrong)."""
        from tmail.ui.render import render

        self.charset = charset
        self.set_rendered(
            render(self.raw, charset, self.assumed, self.rendered.width, self.authserv_ids)
        )

    def _rewrap(self, width: int) -> None:
        """Convert the HTML again for ``width`` columns, staying at about the same place."""
        from tmail.ui.render import render

        old = len(self.walker)
        at = (self.walker.focus or 0) / old if old else 0.0
        self.rendered = render(self.raw, self.charset, self.assumed, width, self.authserv_ids)
        if self.show_raw:
            return  # the raw lines do not change; the new text shows when h goes back
        search = self._search
        self.walker[:] = body_lines(self.rendered)
        self._lines_changed()
        if self.walker:
            self.walker.set_focus(min(len(self.walker) - 1, round(at * len(self.walker))))
        if search is not None and search.current is not None:
            # the same text wrapped anew: the current match stays current (and in sight)
            self._search = TextSearch(search.query, self._lines())
            if len(self._search.matches) == len(search.matches):
                self._search.current = search.current
                self._show_match(self._search.matches[search.current])

    def toggle_raw(self) -> None:
        self.show_raw = not self.show_raw
        # the charset the message view used (detected, or chosen with C) helps the raw view
        used = (self.rendered.charset or "").split(" ")[0]
        hints = (used,) if used else ()
        self.walker[:] = raw_lines(self.raw, hints) if self.show_raw else body_lines(self.rendered)
        self._lines_changed()
        if self.walker:
            self.walker.set_focus(0)

    def text(self) -> str:
        return "\n".join(line.plain for line in self.walker if isinstance(line, Line))

    def find(self, query: str, forward: bool = True) -> Found | None:
        """Go to the next (previous) occurrence of ``query``, case-insensitively, and highlight
        it alone; the same query again steps on from the current match."""
        self.query = query
        if self._search is None or self._search.query != query:
            self._search = TextSearch(query, self._lines())
        self._unhighlight()
        found = self._search.step(forward, self.walker.focus or 0)
        if found is not None:
            self._show_match(found.match)
        return found

    def _show_match(self, m: Match) -> None:
        line = self.walker[m.line]
        assert isinstance(line, Line)
        line.set_text(highlight(line.markup, m.start, m.end))  # type: ignore[arg-type]
        self._highlighted = line
        self.walker.set_focus(m.line)
        self.listbox.set_focus_valign("middle")

    def _lines(self) -> list[str]:
        # the text as shown (with the link numbers the plain text lacks), so offsets agree
        return [str(line.text) if isinstance(line, Line) else "" for line in self.walker]

    def _unhighlight(self) -> None:
        if self._highlighted is not None:
            self._highlighted.set_text(self._highlighted.markup)  # type: ignore[arg-type]
            self._highlighted = None

    def _lines_changed(self) -> None:
        """The walker holds other lines now: a search starts afresh (with the same query)."""
        self._search = None
        self._highlighted = None

    def render(self, size: tuple[int, int], focus: bool = False) -> urwid.Canvas:  # type: ignore[override]
        self._size = size
        if self._width_matters and size[0] != self.rendered.width and size[0] >= MIN_WIDTH:
            self._rewrap(size[0])
        return super().render(size, focus)

    def at_end(self) -> bool:
        """The last line is on the screen (as last rendered)."""
        size = getattr(self, "_size", None)
        return size is not None and "bottom" in self.listbox.ends_visible(size)

    def selectable(self) -> bool:
        return True
