"""Changing messages from the reader: flag (``F``), read/unread (``N``), delete (``d``) and move
(``s``). The screen changes at once; the change itself is a request to the session, which
applies it to the store and leaves it for the next sync to push.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from tmail.core.models import Flag
from tmail.core.roles import Role, role_of
from tmail.core.safe import safe_line
from tmail.runtime.session import DeleteMessages, MoveMessages, SetFlags
from tmail.ui.source import Row

if TYPE_CHECKING:
    from tmail.ui.app import App


def set_flags(app: App, row: Row, add: set[Flag] = set(), remove: set[Flag] = set()) -> None:  # noqa: B006
    new = replace(row, flags=(row.flags | add) - remove)
    app.index.walker.replace_row(new)
    screen = app.screen
    shown = screen.extra.get("row") if screen.kind == "pager" else None
    if isinstance(shown, Row) and shown.id == row.id:
        screen.extra["row"] = new  # the message on screen knows its flags now
    app.session.submit(SetFlags(ids=(row.id,), add=frozenset(add), remove=frozenset(remove)))
    if Flag.SEEN in add or Flag.SEEN in remove:
        _adjust_unread(app, row, -1 if Flag.SEEN in add else 1)


def _adjust_unread(app: App, row: Row, delta: int) -> None:
    app.folders = [
        replace(f, unread=max(0, f.unread + delta))
        if (f.account, f.name) == (row.account, row.folder)
        else f
        for f in app.folders
    ]
    view = app.index.view
    app.sidebar.update(app.accounts, app.folders, (view.account, view.folder))


def flag(app: App) -> None:
    row = app.target_row()
    if row is None:
        return
    if Flag.FLAGGED in row.flags:
        set_flags(app, row, remove={Flag.FLAGGED})
    else:
        set_flags(app, row, add={Flag.FLAGGED})
    _refresh_pager_row(app, row.id)


def toggle_unread(app: App) -> None:
    row = app.target_row()
    if row is None:
        return
    if row.unread:
        set_flags(app, row, add={Flag.SEEN})
        app.notice("marked read")
    else:
        set_flags(app, row, remove={Flag.SEEN})
        app.notice("marked unread")
    _refresh_pager_row(app, row.id)


def _refresh_pager_row(app: App, message_id: int) -> None:
    if app.screen.kind == "pager":
        walker = app.index.walker
        for pos in range(max(0, walker.focus - 1), walker.focus + 2):
            row = walker.row_at(pos)
            if row is not None and row.id == message_id:
                app.screen.extra["row"] = row


def delete(app: App) -> None:
    row = app.target_row()
    if row is None:
        return
    if _in_trash(app, row):
        # from Trash it is gone for good (on the server too, at the next sync): ask
        app.prompt.ask_key("Delete it for good? (y/n) ", {"y": lambda: _delete(app, row)})
        return
    _delete(app, row)


def _in_trash(app: App, row: Row) -> bool:
    role = next(
        (f.role for f in app.folders if (f.account, f.name) == (row.account, row.folder)),
        None,
    )
    return role == Role.TRASH or role_of(row.folder) is Role.TRASH


def _gone(app: App, row: Row) -> None:
    """``row`` is leaving this folder: struck out in the index."""
    app.index.walker.replace_row(replace(row, flags=row.flags | {Flag.TRASHED}))


def _delete(app: App, row: Row) -> None:
    _gone(app, row)
    app.session.submit(DeleteMessages(ids=(row.id,)))
    app.notice("deleted" if _in_trash(app, row) else "moved to Trash")
    _next(app)


def _next(app: App) -> None:
    """On to the next message after one went; from the last one in a message: back."""
    has_next = app.index.walker.focus + 1 < len(app.index.walker)
    if app.screen.kind == "pager" and not has_next:
        app.pop()
    elif has_next:
        app.step(1)  # in a message: the next one opens, as in mutt


def move(app: App) -> None:
    row = app.target_row()
    if row is None:
        return
    names = [f.name for f in app.folders if f.account == row.account and f.name != row.folder]

    def move_to(folder: str) -> None:
        app.session.submit(MoveMessages(ids=(row.id,), folder=folder))
        _gone(app, row)
        app.notice(f"moved to {folder}")
        _next(app)

    def answer(folder: str) -> None:
        folder = folder.strip().strip("/")
        if not folder:
            return
        if folder.lower() == row.folder.lower():
            app.notice(f"it is in {row.folder} already")
            return
        known = {n.lower(): n for n in names}
        if folder.lower() in known:
            move_to(known[folder.lower()])
            return
        # a typo must not quietly make a new folder (on the server too, at the next sync)
        app.prompt.ask_key(
            f"There is no folder {safe_line(folder)} in {row.account}: create it? (y/n) ",
            {"y": lambda: move_to(folder)},
        )

    app.prompt.ask(
        "Move to folder: ",
        answer,
        complete=lambda text: [n for n in names if n.lower().startswith(text.lower())],
    )
