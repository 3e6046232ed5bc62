"""The two bottom lines: the status line (where, counts, order; sync state and the last notice)
and the key hints (Alpine style) that the prompt takes the place of while it is open.

:class:`StatusBar` holds what they show: the one notice (:mod:`tmail.ui.notices` says when it
goes), the error log (``E``) and the sync state; the app calls :meth:`StatusBar.update` after
every key and event.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import urwid

from tmail.core.safe import safe_line
from tmail.ui.compose import HeaderForm, is_drafts_folder
from tmail.ui.notices import NOTICE_SHOWN_FOR, Notice, status_right
from tmail.ui.pager import Pager
from tmail.ui.source import View
from tmail.ui.urwidtypes import Markup

if TYPE_CHECKING:
    from tmail.ui.app import App

_TITLES = {
    "compose": " Compose: headers",
    "review": " Compose: review and send",
    "help": " Help",
    "errors": " Error log",
    "attachments": " Attachments",
    "outbox": " Outbox",
}


class _StatusLine(urwid.WidgetWrap[urwid.Columns]):
    """Where and what on the left, sync state and the last notice on the right, in one line.

    When both do not fit, the left gives way down to 20 columns and the right is cut with an
    ellipsis (the error log, E, has it whole): a long error never vanishes from the line, as it
    did when the right column was packed and wider than the screen.
    """

    def __init__(self, left: urwid.Text, right: urwid.Text) -> None:
        self._left = left
        self._right = right
        super().__init__(urwid.Columns([left, ("pack", right)], dividechars=2))

    def render(self, size: tuple[int], focus: bool = False) -> urwid.Canvas:  # type: ignore[override]
        (maxcol,) = size
        want_left = self._left.pack((10_000,))[0]
        want_right = self._right.pack((10_000,))[0]
        if want_left + 2 + want_right <= maxcol:
            left = maxcol - 2 - want_right
        else:
            left = max(min(want_left, 20), maxcol - 2 - want_right)
        left = max(1, min(left, maxcol - 3))
        right = max(1, maxcol - left - 2)
        self._w = urwid.Columns([(left, self._left), (right, self._right)], dividechars=2)
        return self._w.render(size, focus)


class StatusBar:
    """The status line and the hint line of one app, and the notices, errors and sync state
    they show."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.errors: list[tuple[float, str]] = []  # (time.time(), text), the last 500
        self.sync_state = ""
        self.outbox_status = ""  # "outbox 2" on the status line while mail waits there
        self.note = Notice()  # the one message on the status line
        self.left = urwid.Text("", wrap="ellipsis")
        self.right = urwid.Text("", align="right", wrap="ellipsis")
        self.widget = urwid.AttrMap(_StatusLine(self.left, self.right), "status")
        self.hint_text: urwid.Text = urwid.Text("", wrap="ellipsis")

    def notice(self, text: str, error: bool = False) -> None:
        self.note = Notice(safe_line(text), error, time.monotonic())
        if error:
            self.errors.append((time.time(), self.note.text))
            del self.errors[:-500]
        self.update()
        loop = self.app.loop
        if loop is not None and not error:
            loop.set_alarm_in(NOTICE_SHOWN_FOR + 0.1, lambda *_: self.expire_notice())

    def expire_notice(self) -> None:
        """A notice has had its time (the alarm set by :meth:`notice`)."""
        if self.note.gone_by_time(time.monotonic()):
            self.note = Notice()
            self.update()

    def update(self) -> None:
        app = self.app
        screen = app.screen
        left: list[str] = []
        if screen.kind in ("index", "pager"):
            view = app.index.view
            unread = self.unread(view)
            count = len(app.index.walker)
            left.append(f" {safe_line(view.title())}  {count} message{'' if count == 1 else 's'}")
            if unread:
                left.append(f", {unread} unread")
            order = view.sort + (" ↓" if view.reverse else " ↑")
            left.append(f"  [{order}{', threads' if view.threads else ''}]")
            if screen.kind == "pager" and isinstance(screen.widget, Pager):
                left.append("  raw source" if screen.widget.show_raw else "")
            if self.outbox_status:
                left.append(f"  [{self.outbox_status}: {app.keys.label('outbox')}]")
        else:
            left.append(_TITLES.get(screen.kind, screen.kind))
        if undo := app.undo.status():
            left.append(f"  [{undo}]")
        self.left.set_text([str(p) for p in left if p])
        right: Markup = status_right(self.sync_state, self.note)
        self.right.set_text(right or " ")
        self.update_hints()

    def unread(self, view: View) -> int:
        if view.query is not None:
            return 0
        total = 0
        for f in self.app.folders:
            if (view.unified and f.name.upper() == "INBOX") or (
                f.account == view.account and f.name == view.folder
            ):
                total += f.unread
        return total

    def update_hints(self) -> None:
        app = self.app
        if app.prompt.is_open:
            return
        if not app.options.hints:
            app.bottom.original_widget = urwid.Text("")
            return
        markup: Markup = []
        name = app.view_name()
        if name == "compose":
            # the headers form takes typing, not the key map: the keys of the focused field
            for key, label in self.form_hints():
                markup.extend([("hint_key", key), ("hint", f" {label}  ")])
        keys = app.keys
        hints = keys.hints(name)
        # q asks to quit on the first screen and to abandon the message on the review screen:
        # the hint says that, not "Back"
        what = {"index": "Quit" if len(app.stack) == 1 else "", "review": "Abandon"}
        instead = what.get(name, "")
        if instead:
            back = keys.label("back")
            hints = [(k, instead if (k, label) == (back, "Back") else label) for k, label in hints]
        view = app.index.view
        in_drafts = view.query is None and not view.unified and is_drafts_folder(view.folder)
        if in_drafts and name in ("index", "pager") and keys.keys_for("resume"):
            hints.insert(2, (keys.label("resume"), "Resume"))  # in Drafts, R matters
        for key, label in hints:
            markup.extend([("hint_key", key), ("hint", f" {label}  ")])
        self.hint_text.set_text(markup or " ")
        app.bottom.original_widget = self.hint_text

    def form_hints(self) -> list[tuple[str, str]]:
        widget = self.app.screen.widget
        form = widget.original_widget if isinstance(widget, urwid.Filler) else None
        field = form.focused_field() if isinstance(form, HeaderForm) else "to"
        if field == "from":
            more = [("←→", "Account")] if len(self.app.identities) > 1 else []
            return [*more, ("↓", "Next field"), ("Esc", "Cancel")]
        if field == "subject":
            return [("Enter", "Write the message"), ("↑", "Field"), ("Esc", "Cancel")]
        return [("Tab", "Complete"), ("Enter", "Next"), ("↑↓", "Field"), ("Esc", "Cancel")]
