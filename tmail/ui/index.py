"""The message index: a lazy list over the store, one page of rows at a time.

:class:`LazyWalker` knows only the number of rows and fetches pages of :data:`PAGE` rows as the
list box asks for positions, keeping a bounded number of pages: opening a 100,000-message folder
costs one COUNT and one page, and scrolling to the end costs one more page, never all the rows.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import urwid
from urwid.str_util import calc_width

from tmail.core.models import Flag
from tmail.core.safe import safe_line
from tmail.core.sizes import human_size
from tmail.ui.source import MailSource, Row, View
from tmail.ui.urwidtypes import Markup, Size, Wrap
from tmail.ui.widths import screen_text

PAGE = 100
MAX_PAGES = 20  # pages kept in memory (2,000 rows)


def short_date(when: datetime | None, now: datetime | None = None, narrow: bool = False) -> str:
    """``14:05`` today, ``Nov 28`` this year, ``2019-03-01`` before (``2019`` when narrow: the
    date column of a narrow terminal is six wide)."""
    if when is None:
        return "?"
    now = now or datetime.now(UTC).astimezone()
    local = when.astimezone(now.tzinfo) if when.tzinfo else when
    if local.date() == now.date():
        return local.strftime("%H:%M")
    if local.year == now.year:
        return local.strftime("%b %d")
    return local.strftime("%Y" if narrow else "%Y-%m-%d")


NARROW = 80  # below this many columns the index row packs its date and size tighter


def flag_marks(row: Row) -> str:
    """Four columns, as mutt shows them: N new / R replied / F flagged / + attachment."""
    first = "D" if Flag.TRASHED in row.flags else ("N" if row.unread else " ")
    second = "r" if Flag.REPLIED in row.flags else ("f" if Flag.PASSED in row.flags else " ")
    third = "F" if Flag.FLAGGED in row.flags else " "
    fourth = "+" if row.has_attachment else " "
    return first + second + third + fourth


_REPLY_PREFIX = re.compile(r"^(\s*(re|fwd?|aw|sv|ответ|отв)(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def _bare(subject: str) -> str:
    """The subject without Re:/Fwd: prefixes, for comparing replies with their parent."""
    return _REPLY_PREFIX.sub("", subject).strip().lower()


def tree_prefixes(rows: Sequence[Row]) -> list[str]:
    """Tree lines (├─ └─ │) for rows in thread order with depths; one pass from the end.

    A row at depth d gets ``├─`` when a later row at depth d comes before any shallower row
    (it has a younger sibling), else ``└─``; each level above it gets ``│`` on the same rule.
    """
    out = [""] * len(rows)
    sibling_after: list[bool] = [False]  # index: depth level
    for i in range(len(rows) - 1, -1, -1):
        d = max(0, rows[i].depth)
        if len(sibling_after) <= d:
            sibling_after.extend([False] * (d + 1 - len(sibling_after)))
        if d > 0:
            parts = ["│ " if sibling_after[level] else "  " for level in range(1, d)]
            parts.append("├─" if sibling_after[d] else "└─")
            out[i] = "".join(parts) + ">"
        for level in range(d + 1, len(sibling_after)):
            sibling_after[level] = False
        sibling_after[d] = True
    return out


def fit(text: str, width: int) -> str:
    """``text`` cut or padded to exactly ``width`` terminal columns (wide characters count two);
    a cut is marked with an ellipsis."""
    if width <= 0:
        return ""
    used = calc_width(text, 0, len(text))
    if used <= width:
        return text + " " * (width - used)
    out, cols = [], 0
    for ch in text:
        w = calc_width(ch, 0, 1)
        if cols + w > width - 1:
            break
        out.append(ch)
        cols += w
    return "".join(out) + "…" + " " * (width - 1 - cols)


class RowWidget(urwid.Widget):
    """One index line: flags, date, sender, (tree) subject, size.

    One Text laid out for the width at hand (not a Columns of five): rendering a screenful of
    rows is most of the cost of a key press in a big folder.
    """

    _sizing = frozenset([urwid.Sizing.FLOW])
    _selectable = True

    def __init__(
        self, row: Row, prefix: str = "", *, show_folder: bool = False, where: str = ""
    ) -> None:
        super().__init__()
        self.row = row
        self.attr = "index"
        if Flag.TRASHED in row.flags:
            self.attr = "index_deleted"
        elif Flag.FLAGGED in row.flags:
            self.attr = "index_flagged"
        elif row.unread:
            self.attr = "index_unread"
        sender = screen_text(safe_line(row.sender)) or "(nobody)"
        if row.outgoing and row.recipient:
            sender = "To: " + screen_text(safe_line(row.recipient))
        if show_folder:
            sender = f"{safe_line(row.account)}: {sender}"
        self.sender = sender
        # the folder, in results that span folders (Thunderbird's Location column)
        self.where = screen_text(safe_line(where))
        self.prefix = prefix
        self.subject = screen_text(safe_line(row.subject)) or "(no subject)"
        self._layout(22, False)

    def _layout(self, sender_width: int, narrow: bool) -> None:
        self._sender_width = sender_width
        self._narrow = narrow
        when = fit(short_date(self.row.date, narrow=narrow), 6 if narrow else 10)
        self.head = f"{flag_marks(self.row)} {when} {fit(self.sender, sender_width)} "
        if self.where:
            room = 8 if narrow else 14
            where = self.where if len(self.where) <= room else self.where.rsplit("/", 1)[-1]
            self.head += fit(where, room) + " "  # a nested folder by its own name
        # columns, not characters: a sender in CJK takes two columns a character
        self._head_width = calc_width(self.head, 0, len(self.head))
        self.size = human_size(self.row.size).rjust(6)

    def rows(self, size: Size, focus: bool = False) -> int:
        return 1

    def text(self, maxcol: int) -> str:
        room = maxcol - self._head_width - len(self.size) - 1
        return self.head + fit(self.prefix + self.subject, room) + " " + self.size

    def render(self, size: Size, focus: bool = False) -> urwid.Canvas:
        (maxcol,) = size  # type: ignore[misc]
        width = 22 if maxcol >= 90 else max(10, min(22, maxcol // 5))  # narrow terminals
        narrow = maxcol < NARROW
        if width != self._sender_width or narrow != self._narrow:
            self._layout(width, narrow)
        attr = "index_focus" if focus else self.attr
        room = maxcol - self._head_width - len(self.size) - 1
        if room < 4:
            markup: Markup = (attr, fit(self.head + self.subject, maxcol))
        elif self.prefix and not focus:
            subject = fit(self.prefix + self.subject, room)
            markup = [
                (attr, self.head),
                ("tree", subject[: len(self.prefix)]),
                (attr, subject[len(self.prefix) :] + " " + self.size),
            ]
        else:
            markup = (attr, self.head + fit(self.prefix + self.subject, room) + " " + self.size)
        return urwid.Text(markup, wrap="clip").render((maxcol,), focus)

    def keypress(self, size: Size, key: str) -> str | None:
        return key


class LazyWalker(urwid.ListWalker):  # type: ignore[type-arg]
    """Rows of a :class:`View`, fetched from the source a page at a time."""

    def __init__(self, source: MailSource, view: View) -> None:
        self.source = source
        self.view = view
        self.focus = 0
        self._pages: OrderedDict[int, list[Row]] = OrderedDict()
        self._widgets: OrderedDict[int, RowWidget] = OrderedDict()
        self._prefixes: dict[int, list[str]] = {}
        self._count = source.count(view)
        # The account in front of the sender, where rows of several accounts mix.
        self.show_account = view.unified and len(source.accounts()) > 1
        # A search from "All inboxes" looks in every folder: each row names its folder.
        self.show_where = view.unified and view.query is not None

    def __len__(self) -> int:
        return self._count

    def _page(self, number: int) -> list[Row]:
        page = self._pages.get(number)
        if page is None:
            page = list(self.source.rows(self.view, number * PAGE, PAGE))
            self._pages[number] = page
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        return page

    def row_at(self, pos: int) -> Row | None:
        if not 0 <= pos < self._count:
            return None
        page = self._page(pos // PAGE)
        i = pos % PAGE
        return page[i] if i < len(page) else None

    def _prefix(self, pos: int) -> str:
        if not self.view.threads:
            return ""
        number = pos // PAGE
        prefixes = self._prefixes.get(number)
        if prefixes is None:
            # The page and the next (a thread may go on past the page's end); computed once.
            page = self._page(number)
            after = self._page(number + 1) if (number + 1) * PAGE < self._count else []
            prefixes = tree_prefixes(page + after)[: len(page)]
            # As mutt's hide_thread_subject: a reply that only repeats the subject above it
            # shows the tree alone.
            for k, row in enumerate(page):
                above = page[k - 1] if k else None
                if row.depth and above is not None and _bare(row.subject) == _bare(above.subject):
                    prefixes[k] += "\0"
            if len(self._prefixes) > MAX_PAGES:
                self._prefixes.clear()
            self._prefixes[number] = prefixes
        i = pos % PAGE
        return prefixes[i] if i < len(prefixes) else ""

    def __getitem__(self, pos: int) -> RowWidget:
        if not isinstance(pos, int) or not 0 <= pos < self._count:
            raise IndexError(pos)
        widget = self._widgets.get(pos)
        if widget is None:
            row = self.row_at(pos)
            if row is None:
                raise IndexError(pos)
            prefix = self._prefix(pos)
            widget = RowWidget(
                row,
                prefix.rstrip("\0"),
                show_folder=self.show_account,
                where=row.folder if self.show_where else "",
            )
            if prefix.endswith("\0"):
                widget.subject = ""
            self._widgets[pos] = widget
            while len(self._widgets) > 400:
                self._widgets.popitem(last=False)
        return widget

    def next_position(self, pos: int) -> int:
        if pos + 1 >= self._count:
            raise IndexError(pos)
        return pos + 1

    def prev_position(self, pos: int) -> int:
        if pos <= 0:
            raise IndexError(pos)
        return pos - 1

    def set_focus(self, pos: int) -> None:
        self.focus = max(0, min(pos, self._count - 1)) if self._count else 0
        self._modified()

    def positions(self, reverse: bool = False) -> range:
        return range(self._count - 1, -1, -1) if reverse else range(self._count)

    def refresh(self, keep_id: int | None = None) -> None:
        """Re-read after the store changed, keeping the focus on the same message if it is
        on the same page, else on the same position."""
        self._pages.clear()
        self._widgets.clear()
        self._prefixes.clear()
        self._count = self.source.count(self.view)
        pos = self.focus
        if keep_id is not None:
            page = self._page(pos // PAGE)
            for i, row in enumerate(page):
                if row.id == keep_id:
                    pos = (pos // PAGE) * PAGE + i
                    break
        self.focus = max(0, min(pos, self._count - 1)) if self._count else 0
        self._modified()

    def replace_row(self, row: Row) -> None:
        """Show a changed row at once (flags toggled locally before the store has it)."""
        for number, page in self._pages.items():
            for i, old in enumerate(page):
                if old.id == row.id:
                    page[i] = row
                    self._widgets.pop(number * PAGE + i, None)
        self._modified()

    def find(self, start: int, predicate: Callable[[Row], bool], limit: int = 5000) -> int | None:
        """The first position after ``start`` whose row matches (looks at most ``limit`` rows)."""
        for pos in range(start + 1, min(self._count, start + 1 + limit)):
            row = self.row_at(pos)
            if row is not None and predicate(row):
                return pos
        return None


class IndexView(Wrap):
    def __init__(self, source: MailSource, view: View) -> None:
        self.walker = LazyWalker(source, view)
        self.listbox = urwid.ListBox(self.walker)
        super().__init__(self.listbox)
        # render() may draw "(no messages here)" instead of the list box: a change of the rows
        # must drop that cached canvas too.
        urwid.connect_signal(self.walker, "modified", self._invalidate)
        self._height = 0  # rows of the last rendering

    @property
    def view(self) -> View:
        return self.walker.view

    def current(self) -> Row | None:
        if not len(self.walker):
            return None
        return self.walker.row_at(self.walker.focus)

    def refresh(self, keep_id: int | None = None) -> None:
        """Re-read the rows (see :meth:`LazyWalker.refresh`) with the window where it was: mail
        arriving above the focused message shows up at the top instead of scrolling the list by
        its number of rows, where the new messages would hide above the screen (mutt's way)."""
        before = self.walker.focus
        offset = self.listbox.offset_rows
        self.walker.refresh(keep_id)
        after = self.walker.focus
        height = self._height or 1
        if after != before and before - offset >= 0:
            self.listbox.offset_rows = max(0, min(after - (before - offset), height - 1))
            self.listbox.inset_fraction = (0, 1)
            self._invalidate()

    def focus_on(self, pos: int) -> None:
        if len(self.walker):
            self.listbox.set_focus(max(0, min(pos, len(self.walker) - 1)))

    def render(self, size: Size, focus: bool = False) -> urwid.Canvas:
        if len(size) == 2:
            self._height = size[1]
        if not len(self.walker):
            return urwid.Filler(urwid.Text("  (no messages here)"), "top").render(size, focus)  # type: ignore[arg-type]
        return super().render(size, focus)
