"""The reader's outbox: what waits to be sent, in what state, and why.

``@`` opens it from the index, a message or the sidebar. Each entry shows its account, state
(queued, waiting for a rate limit, held because the login was refused, delivery uncertain,
failed), subject, recipients, the next try and the last error. ``y`` sends the chosen one
again now (and lets a held one go), ``d`` forgets it after asking. The count shows on the
status line of the index and the pager whenever the outbox is not empty, so mail waiting there
is never invisible.

The listing is read from the outbox files (:meth:`MailSession.outbox`, nothing changed); sending
and dropping go to the worker as requests, like every other change.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import urwid

from tmail.runtime.session import DropQueued, OutboxItem, ResendQueued
from tmail.ui.screens import Screen
from tmail.ui.urwidtypes import Size, Widgets, Wrap
from tmail.ui.widths import screen_text

if TYPE_CHECKING:
    from tmail.ui.app import App

STATE_WORDS = {
    "queued": "queued",
    "scheduled": "scheduled",
    "waiting": "waiting",
    "held": "held: login refused",
    "uncertain": "delivery uncertain",
    "failed": "failed",
}


HINTS = {
    "held": "not tried again with the same password: fix it, then {send} sends it (and the others)",
    "uncertain": "the server may have it: {send} sends it again, {drop} forgets it",
    "failed": "refused for good: {drop} drops it",
}


def status_text(items: Sequence[OutboxItem]) -> str:
    """``outbox 3`` (``, 1 held``) for the status line; empty when nothing waits."""
    if not items:
        return ""
    stuck = sum(1 for i in items if i.state in ("held", "uncertain", "failed"))
    text = f"outbox {len(items)}"
    return text + (f", {stuck} need{'s' if stuck == 1 else ''} you" if stuck else "")


def _when(at: float | None, now: float) -> str:
    if at is None:
        return "not by itself"
    if at <= now:
        return "at the next sync"
    dt = datetime.fromtimestamp(at)
    # The time alone only for today: a server's daily quota holds mail until tomorrow.
    if dt.date() == datetime.fromtimestamp(now).date():
        return dt.strftime("%H:%M")
    return dt.strftime("%a %H:%M") if at - now < 6 * 86400 else dt.strftime("%Y-%m-%d %H:%M")


class _Entry(urwid.WidgetWrap[urwid.Pile]):
    """One outbox entry: a head line and its details; selectable, so j/k move between them."""

    def __init__(self, item: OutboxItem, now: float, keys: dict[str, str]) -> None:
        self.item = item
        state = STATE_WORDS.get(item.state, item.state)
        attr = "warning" if item.state in ("held", "uncertain", "failed") else "body"
        head = urwid.Text(
            [(attr, f"{state:<20}"), f" {item.account}  ", screen_text(item.subject or "(none)")],
            wrap="ellipsis",
        )
        details = [f"to: {screen_text(item.recipients) or '-'}"]
        if item.state == "scheduled":
            when = _when(item.next_try, now)
            details.append(f"scheduled for {when}; {keys['send']} sends it now")
        elif item.state in ("queued", "waiting"):
            details.append(f"next try: {_when(item.next_try, now)}")
        if item.last_error:
            details.append(screen_text(item.last_error))
        if item.state in HINTS:
            details.append(HINTS[item.state].format(**keys))
        lines: Widgets = [head, *(urwid.Padding(urwid.Text(d), left=4) for d in details)]
        super().__init__(urwid.Pile(lines))

    def selectable(self) -> bool:
        return True

    def keypress(self, size: Size, key: str) -> str | None:
        return key


class OutboxView(Wrap):
    """The outbox as a list; :meth:`chosen` is the entry under the cursor."""

    def __init__(self, items: Sequence[OutboxItem], keys: dict[str, str] | None = None) -> None:
        self.keys = keys or {"send": "y", "drop": "d"}  # the keys that send again and drop
        self.walker: urwid.SimpleFocusListWalker[Any] = urwid.SimpleFocusListWalker([])
        super().__init__(urwid.ListBox(self.walker))
        self.show(items)

    def show(self, items: Sequence[OutboxItem]) -> None:
        keep = self.chosen()
        now = time.time()
        title = f"Outbox: {len(items)} message{'' if len(items) == 1 else 's'} waiting"
        rows: Widgets = [urwid.Text(("title", title)), urwid.Divider()]
        if not items:
            rows.append(urwid.Text("The outbox is empty: everything was sent."))
        for item in items:
            rows.append(urwid.AttrMap(_Entry(item, now, self.keys), "body", "field_focus"))
            rows.append(urwid.Divider())
        self.walker[:] = rows
        if items:
            ids = [i.id for i in items]
            at = ids.index(keep.id) if keep is not None and keep.id in ids else 0
            self.walker.set_focus(2 + 2 * at)

    def chosen(self) -> OutboxItem | None:
        focus = self.walker.get_focus()[0] if self.walker else None
        entry = focus.base_widget if focus is not None else None
        return entry.item if isinstance(entry, _Entry) else None


# ------------------------------------------------------------------ the App's actions


def open_view(app: App) -> None:
    """@: the outbox, on top of what was shown (q goes back)."""
    if app.screen.kind == "outbox":
        refresh(app)
        return
    keys = {"send": app.keys.label("resend"), "drop": app.keys.label("drop_queued")}
    app.push(Screen("outbox", OutboxView(app.session.outbox(), keys)))


def refresh(app: App) -> None:
    """Read the outbox again: the status line's count, and the view when it is open."""
    items = app.session.outbox()
    app.status.outbox_status = status_text(items)
    for screen in app.stack:
        if isinstance(screen.widget, OutboxView):
            screen.widget.show(items)


def _chosen(app: App) -> OutboxItem | None:
    view = app.screen.widget
    item = view.chosen() if isinstance(view, OutboxView) else None
    if item is None:
        app.notice("the outbox is empty")
    return item


def resend(app: App) -> None:
    """y: send the chosen entry again now (a held one is let go; a failed one cannot be)."""
    item = _chosen(app)
    if item is None:
        return
    if item.state == "failed":
        app.notice("refused for good: it is not sent again (d drops it)", error=True)
        return
    app.session.submit(ResendQueued(account=item.account, entry_id=item.id))
    app.notice(f"sending again: {item.subject or '(no subject)'}")


def drop(app: App) -> None:
    """d: forget the chosen entry, after asking (it may not have been sent)."""
    item = _chosen(app)
    if item is None:
        return
    question = "Drop it from the outbox"
    if item.state == "uncertain":
        question += " (the server may have it)"
    elif item.state != "failed":
        question += " unsent"

    def go() -> None:
        app.session.submit(DropQueued(account=item.account, entry_id=item.id))

    app.prompt.ask_key(f"{question}? (y/n) ", {"y": go})
