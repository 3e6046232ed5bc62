"""The help screen (``?``), generated from the action registry (:mod:`tmail.ui.keys`), so it
never disagrees with what the keys and the ``:`` commands do; and the error log (``E``)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import urwid

from tmail.ui.lineedit import HELP as PROMPT_HELP
from tmail.ui.screens import Screen
from tmail.ui.urwidtypes import Widgets

if TYPE_CHECKING:
    from tmail.ui.app import App

SEARCH_HELP = (
    'words and "phrases", from: to: cc: subject: folder: account: '
    "has:attachment is:unread is:flagged before:2024-01-31 after:..., "
    "AND OR NOT and (parentheses)"
)


class _HelpLine(urwid.WidgetWrap[urwid.Columns]):
    """A help entry: keys, where, what in three columns on a wide screen; on a narrow one the
    keys, then what they do with where in brackets, wrapped under it (never a cut column)."""

    def __init__(self, keys: str, where: str, what: str, key_width: int = 18) -> None:
        self._wide = urwid.Columns(
            [(key_width, urwid.Text(("hint_key", keys)))]
            + ([(22, urwid.Text(where))] if where else [])
            + [urwid.Text(what)],
            dividechars=1,
        )
        self._min_wide = key_width + (23 if where else 0) + 1 + 30
        keys_col = min(key_width, 12) if where else min(key_width, 16)
        self._narrow = urwid.Columns(
            [
                (keys_col, urwid.Text(("hint_key", keys))),
                urwid.Text(f"{what} ({where})" if where else what),
            ],
            dividechars=1,
        )
        super().__init__(self._wide)

    def _pick(self, maxcol: int) -> None:
        chosen = self._wide if maxcol >= self._min_wide else self._narrow
        if self._w is not chosen:
            self._w = chosen

    def rows(self, size: tuple[int], focus: bool = False) -> int:
        self._pick(size[0])
        return int(self._w.rows(size, focus))

    def render(self, size: tuple[int], focus: bool = False) -> urwid.Canvas:  # type: ignore[override]
        self._pick(size[0])
        return self._w.render(size, focus)


def _title(text: str) -> Widgets:
    return [urwid.Divider(), urwid.Text(("title", text)), urwid.Divider()]


def show_help(app: App) -> None:
    if app.screen.kind == "help":
        return  # one help screen: q leaves it, however often ? was pressed
    rows: Widgets = [
        urwid.Text(("title", "tmail: keys (change them under [keys] in the config file)")),
        urwid.Divider(),
    ]
    for where, keys, what in app.keys.help_lines():
        rows.append(_HelpLine(keys, where, what))
    rows.extend(_title("Commands (type : first)"))
    for usage, what in app.keys.command_lines():
        rows.append(_HelpLine(usage, "", what, key_width=30))
    rows.extend(_title("In a prompt"))
    rows.extend(_HelpLine(keys, "", what) for keys, what in PROMPT_HELP)
    rows.extend(
        [
            urwid.Divider(),
            urwid.Text(("title", "Search (/)")),
            urwid.Text(SEARCH_HELP),
            urwid.Divider(),
            urwid.Text("q: back"),
        ]
    )
    app.push(Screen("help", urwid.ListBox(urwid.SimpleFocusListWalker(rows))))


def show_errors(app: App) -> None:
    if app.screen.kind == "errors":
        app.pop()  # shown anew below, with what came in since
    rows: Widgets = [urwid.Text(("title", "Errors (newest last)")), urwid.Divider()]
    if not app.status.errors:
        rows.append(urwid.Text("No errors."))
    for when, text in app.status.errors:
        rows.append(urwid.Text(f"{time.strftime('%H:%M:%S', time.localtime(when))}  {text}"))
    app.push(Screen("errors", urwid.ListBox(urwid.SimpleFocusListWalker(rows))))
