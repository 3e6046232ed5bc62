"""The sidebar: "All inboxes", then each account with its folders and unread counts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import urwid

from tmail.core.roles import rank
from tmail.core.safe import safe_line
from tmail.ui.source import ALL_INBOXES, SidebarFolder
from tmail.ui.urwidtypes import Size, Widgets, Wrap

HIDE_BELOW = 100  # columns: on a narrower terminal the folder list hides unless asked for


def sidebar_shown(setting: bool | None, columns: int) -> bool:
    """Whether the folder list is on a screen ``columns`` wide: as set (``[ui] sidebar``, or the
    B key), or with the setting "auto" (``None``) from :data:`HIDE_BELOW` columns up, so that
    at 80 columns the message and the index have the whole width."""
    return setting if setting is not None else columns >= HIDE_BELOW


class FolderItem(Wrap):
    def __init__(
        self,
        account: str,
        folder: str,
        label: str,
        unread: int,
        on_open: Callable[[str, str], None],
        current: bool = False,
    ) -> None:
        self.account = account
        self.folder = folder
        self._on_open = on_open
        attr = "sidebar_current" if current else ("sidebar_unread" if unread else "sidebar")
        count = f" {unread}" if unread else ""
        text = urwid.Columns(
            [urwid.Text(label, wrap="ellipsis"), ("pack", urwid.Text(count))], dividechars=0
        )
        super().__init__(urwid.AttrMap(text, attr, "sidebar_focus"))

    def selectable(self) -> bool:
        return True

    def keypress(self, size: Size, key: str) -> str | None:
        return key

    def mouse_event(
        self, size: Size, event: str, button: int, col: int, row: int, focus: bool
    ) -> bool:
        if event == "mouse press" and button == 1:
            self._on_open(self.account, self.folder)
            return True
        return False


def folder_sort_key(f: SidebarFolder) -> tuple[int, str]:
    order = rank(f.role)
    if f.name.upper() == "INBOX":
        order = 0
    return (order, f.name.lower())


class Sidebar(Wrap):
    def __init__(self, on_open: Callable[[str, str], None]) -> None:
        self._on_open = on_open
        self.walker: urwid.SimpleFocusListWalker[Any] = urwid.SimpleFocusListWalker([])
        super().__init__(urwid.ListBox(self.walker))

    def update(
        self,
        accounts: Sequence[str],
        folders: Sequence[SidebarFolder],
        current: tuple[str, str] | None,
    ) -> None:
        old = self.focused()
        items: Widgets = []
        inbox_unread = sum(f.unread for f in folders if f.name.upper() == "INBOX")
        items.append(
            FolderItem(
                ALL_INBOXES,
                "INBOX",
                "All inboxes",
                inbox_unread,
                self._on_open,
                current == (ALL_INBOXES, "INBOX"),
            )
        )
        for account in accounts:
            items.append(urwid.AttrMap(urwid.Text(safe_line(account), wrap="ellipsis"), "title"))
            mine = sorted((f for f in folders if f.account == account), key=folder_sort_key)
            for f in mine:
                label = " " + safe_line(f.name)
                items.append(
                    FolderItem(
                        account,
                        f.name,
                        label,
                        f.unread,
                        self._on_open,
                        current == (account, f.name),
                    )
                )
        self.walker[:] = items
        # keep the focus where it was
        for i, w in enumerate(items):
            if isinstance(w, FolderItem) and (w.account, w.folder) == (old or current):
                self.walker.set_focus(i)
                break

    def focused(self) -> tuple[str, str] | None:
        if not self.walker:
            return None
        w = self.walker.get_focus()[0]
        if isinstance(w, FolderItem):
            return (w.account, w.folder)
        return None
