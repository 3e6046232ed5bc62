"""The command line (``:``): ``:sort size``, ``:folder work/Lists``, ``:search from:anna``.

Which commands there are, how each is written and what it does is in the action registry
(:mod:`tmail.ui.keys`, an action's ``command``); this module reads a line and runs it, and
holds the commands' ways with an argument.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tmail.ui import composeflow, reading
from tmail.ui.index import IndexView
from tmail.ui.screens import Screen
from tmail.ui.source import ALL_INBOXES, SORT_KEYS

if TYPE_CHECKING:
    from tmail.ui.app import App


def command_line(app: App) -> None:
    """``:`` opens the command line; Tab completes a command's name."""
    words = app.keys.command_words()
    app.prompt.ask(
        ":",
        lambda line: run(app, line),
        complete=lambda t: [w for w in words if w.startswith(t.strip())],
    )


def run(app: App, line: str) -> None:
    word, _, arg = line.strip().partition(" ")
    arg = arg.strip()
    if not word:
        return
    action = app.keys.command(word)
    if action is None or action.command is None:
        app.notice(f"unknown command :{word} (:help lists them)", error=True)
        return
    command = action.command
    if command.run is not None:
        if not command.run(app, arg):  # a known command with a missing or wrong argument
            app.notice(f"usage: :{command.usage}", error=True)
    elif action.do is not None:
        action.do(app)


# What the commands that take an argument do with it; False: it is missing or wrong.


def search(app: App, query: str) -> bool:
    if not query:
        return False
    view = app.index.view.with_(query=query, threads=False)
    app.push(Screen("index", IndexView(app.source, view)))
    return True


def folder(app: App, arg: str) -> bool:
    if not arg:
        return False
    account, sep, name = arg.partition("/")
    if not sep or account not in app.accounts:
        # a folder of the current account ("Lists/tmail-dev" is not account "Lists")
        account, name = app.index.view.account, arg
        if account == ALL_INBOXES and app.accounts:
            account = app.accounts[0]
    known = {(f.account, f.name.lower()): f.name for f in app.folders}
    found = known.get((account, name.lower()))
    if found is None:
        app.notice(f"no folder {account}/{name} (c shows the folders)", error=True)
        return True
    app.open_folder(account, found)
    return True


def inboxes(app: App) -> None:
    app.open_folder(ALL_INBOXES, "INBOX")


def sort(app: App, key: str) -> bool:
    if key not in SORT_KEYS:
        return False
    reading.reopen(app, sort=key, reverse=key in ("date", "size"))  # as o does
    return True


def hints(app: App, arg: str) -> bool:
    if arg not in ("on", "off", ""):
        return False
    app.options.hints = arg != "off"
    return True


def compose(app: App, to: str) -> bool:
    composeflow.compose(app, to)
    return True
