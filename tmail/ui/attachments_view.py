"""The attachment list of a message (``v``): save one (never overwriting a file) or open it,
an enclosed message in the pager, anything else with the mailcap viewer."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import urwid

from tmail.core.sizes import human_size
from tmail.ui import external
from tmail.ui.pager import Pager
from tmail.ui.prompt import path_complete, typed_path
from tmail.ui.reading import render
from tmail.ui.screens import Screen
from tmail.ui.source import Row
from tmail.ui.urwidtypes import Size, Widgets

if TYPE_CHECKING:
    from tmail.mime.parse import Attachment
    from tmail.ui.app import App

_MESSAGE_TYPES = ("message/rfc822", "message/global")


class _Item(urwid.Text):
    """A selectable line of a list (an attachment), knowing what it stands for."""

    def __init__(self, label: str, index: int) -> None:
        super().__init__(label)
        self.index = index

    def selectable(self) -> bool:
        return True

    def keypress(self, size: Size, key: str) -> str | None:
        return key


def show(app: App) -> None:
    pager = app.screen.widget
    if not isinstance(pager, Pager) or not pager.rendered.attachments:
        app.notice("this message has no attachments")
        return
    rows: Widgets = [urwid.Text(("title", "Attachments")), urwid.Divider()]
    for a in pager.rendered.attachments:
        label = f"{a.index}. {a.filename}  ({a.content_type}, {human_size(a.size)})"
        rows.append(urwid.AttrMap(_Item(label, a.index), "attachment", "field_focus"))
    listbox = urwid.ListBox(urwid.SimpleFocusListWalker(rows))
    listbox.set_focus(2)
    app.push(Screen("attachments", listbox, extra={"pager": pager}))


def _chosen(app: App) -> Attachment | None:
    listbox = app.screen.widget
    pager = app.screen.extra.get("pager")
    if not isinstance(listbox, urwid.ListBox) or not isinstance(pager, Pager):
        return None
    item = listbox.focus.base_widget if listbox.focus is not None else None
    parsed = pager.rendered.parsed
    if not isinstance(item, _Item) or parsed is None:
        return None
    return next((a for a in parsed.attachments if a.index == item.index), None)


def save(app: App) -> None:
    chosen = _chosen(app)
    if chosen is None:
        return
    name, data = chosen.filename, chosen.data()
    from tmail.mime.attachments import safe_filename, save_bytes

    downloads = Path.home() / "Downloads"
    start = str(downloads if downloads.is_dir() else Path.cwd()) + "/"

    def answer(text: str) -> None:
        # As mutt's "Save to file:": a folder (existing, or typed with a trailing /) gets
        # the attachment's own name; anything else is the file's new name. An existing
        # file is never replaced: a numbered name is taken instead.
        typed = typed_path(text) or start
        target = Path(typed)
        if typed.endswith("/") or target.is_dir():
            folder, as_name = target, name
        else:
            folder, as_name = target.parent, target.name
        try:
            path = save_bytes(data, folder, as_name)
        except OSError as exc:
            app.notice(f"cannot save into {folder}: {exc.strerror or exc}", error=True)
            return
        app.notice(f"saved {path}")

    app.prompt.ask("Save to: ", answer, text=start + safe_filename(name), complete=path_complete)


def open_(app: App) -> None:
    chosen = _chosen(app)
    if chosen is None:
        return
    name, data = chosen.filename, chosen.data()
    pager = app.screen.extra.get("pager")
    enclosed = name.lower().endswith(".eml") or chosen.content_type.lower() in _MESSAGE_TYPES
    if enclosed and isinstance(pager, Pager):
        # an enclosed message (a forward, a bounced original) reads here, as in mutt
        row = app.stack[-2].extra.get("row") if len(app.stack) > 1 else None
        assumed = app.assumed(row.account) if isinstance(row, Row) else ()
        inner = Pager(pager.message_id, data, render(data, None, assumed, app.body_width), assumed)
        app.push(Screen("pager", inner, extra={}))
        return
    from tmail.mime.attachments import save_bytes

    folder = Path(tempfile.mkdtemp(prefix="tmail-open-"))
    path = save_bytes(data, folder, name)
    viewer = shutil.which("run-mailcap")
    if viewer:
        argv = [viewer, "--action=view", str(path)]
    elif shutil.which("xdg-open"):
        argv = ["xdg-open", str(path)]
    else:
        app.notice(f"no viewer (run-mailcap, xdg-open); saved as {path}", error=True)
        return
    status = external.run_external(app, argv)
    if status != 0:
        app.notice(f"the viewer exited with status {status}; the file is {path}", True)
