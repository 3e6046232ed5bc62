"""The tmail screen: sidebar, index, pager, compose, status line, prompt, key hints, help.

Layout::

    ┌ sidebar ─────┬ index or pager or compose ────────────────────────────────┐
    │ All inboxes 3│ N  14:05  Anna Petrova  Re: отчёт за ноябрь          4K  │
    │ home         │ ...                                                       │
    │  INBOX     3 │                                                           │
    ├──────────────┴───────────────────────────────────────────────────────────┤
    │ status: view, counts, sort, sync state, last notice or error             │
    │ key hints (Alpine style) or the one-line prompt                          │
    └──────────────────────────────────────────────────────────────────────────┘

:class:`App` is the shell: the view stack, the layout, key dispatch, the guard that turns a
failure into one line, and the main loop. Every key goes through :meth:`App.keypress`: the
prompt first when one is open (:mod:`tmail.ui.prompt`), then the key map of the current view,
whose actions (:mod:`tmail.ui.keys`, the one registry) name the function that does the work in
the module of its job: :mod:`~tmail.ui.reading`, :mod:`~tmail.ui.changes`,
:mod:`~tmail.ui.composeflow`, :mod:`~tmail.ui.attachments_view`, :mod:`~tmail.ui.help`,
:mod:`~tmail.ui.commands` (``:``), :mod:`~tmail.ui.external`; then the focused widget.
The two bottom lines are :mod:`tmail.ui.statusline`'s.

Nothing here waits on the network: slow work is a request to the
:class:`~tmail.runtime.session.MailSession`, whose events ring the main loop's doorbell
(``watch_pipe``) and are drained all at once (:mod:`tmail.ui.events`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import urwid

from tmail.core.errors import TmailError
from tmail.runtime.session import Event, MailSession
from tmail.ui import commands, composeflow, outbox, reading
from tmail.ui.compose import Identity
from tmail.ui.events import Events
from tmail.ui.index import IndexView
from tmail.ui.keys import KeyMap
from tmail.ui.notices import Notice
from tmail.ui.pager import Pager
from tmail.ui.prompt import Prompt
from tmail.ui.screens import Screen
from tmail.ui.sidebar import Sidebar, sidebar_shown
from tmail.ui.source import MailSource, Row, SidebarFolder, View
from tmail.ui.statusline import StatusBar
from tmail.ui.undo import Undo
from tmail.ui.urwidtypes import Size, Wrap

log = logging.getLogger("tmail.ui")
T = TypeVar("T")

INTERRUPT = b"I"  # rung on the doorbell pipe by Ctrl-C (SIGINT)


@dataclass
class Options:
    hints: bool = True
    mouse: bool = True
    sidebar_width: int = 24
    sidebar: bool | None = None  # the folder list: shown, hidden, or None: from 100 columns up
    editor: Callable[[str], str | None] | None = None  # tests replace the external editor
    opener: Callable[[Sequence[str]], int] | None = None  # tests replace $BROWSER / mailcap


class _Top(Wrap):
    def __init__(self, app: App, frame: urwid.Frame[Any, Any, Any]) -> None:
        self.app = app
        super().__init__(frame)

    def keypress(self, size: Size, key: str) -> str | None:
        return self.app.keypress(size, key)

    def mouse_event(
        self, size: Size, event: str, button: int, col: int, row: int, focus: bool
    ) -> bool | None:
        # A click opens folders and messages as keys do: its failures are one line too.
        return self.app.guarded(lambda: super(_Top, self).mouse_event(
            size, event, button, col, row, focus))  # fmt: skip

    def render(self, size: Size, focus: bool = False) -> urwid.Canvas:
        self.app.fit_sidebar(size[0])  # type: ignore[misc]
        return super().render(size, focus)


def sidebar_width(wanted: int, columns: int) -> int:
    """The folder list's width on a terminal ``columns`` wide: as configured from 100 columns
    up, narrower below (a fifth of the width, at least 12), so that 80 and 60 columns still
    leave the index room for the subjects."""
    if columns >= 100:
        return wanted
    return max(min(wanted, 12), min(wanted, columns // 5))


class App:
    def __init__(
        self,
        source: MailSource,
        session: MailSession,
        *,
        identities: Sequence[Identity],
        own_addresses: Sequence[str] = (),
        keymap: KeyMap | None = None,
        options: Options | None = None,
        start_view: View | None = None,
        assumed_charsets: Callable[[str], Sequence[str]] | None = None,
        authserv_ids: Callable[[str], Sequence[str]] | None = None,
    ) -> None:
        self.source = source
        # An account's assumed_charsets (config), tried first for 8-bit text with no charset.
        self.assumed_charsets = assumed_charsets or (lambda account: ())
        # An account's own server's authserv-ids: whose Authentication-Results are believed.
        self.authserv_ids = authserv_ids or (lambda account: ())
        self.session = session
        self.identities = list(identities)
        self.own_addresses = [a.lower() for a in own_addresses] + [
            i.address.addr.lower() for i in identities
        ]
        self.keys = keymap or KeyMap()
        self.options = options or Options()
        self.loop: urwid.MainLoop | None = None
        self.log_path: Path | None = None  # where tracebacks of bugs go (set by ui.main)
        self.external_running = False  # an editor or viewer has the terminal
        self.folders: list[SidebarFolder] = []
        self.accounts = list(source.accounts())

        self.sidebar = Sidebar(self.open_folder)
        view = start_view or View()
        self.stack: list[Screen] = [Screen("index", IndexView(source, view))]
        self.main = urwid.WidgetPlaceholder(self.stack[0].widget)
        self.columns = urwid.Columns(
            [
                (self.options.sidebar_width, urwid.AttrMap(self.sidebar, "sidebar")),
                (1, urwid.SolidFill("│")),
                self.main,
            ],
            focus_column=2,
        )
        self.status = StatusBar(self)
        self.prompt = Prompt(self)
        self.events = Events(self)
        self.undo = Undo(self)  # messages in their undo window (ui/undo.py)
        self.bottom: urwid.WidgetPlaceholder[Any] = urwid.WidgetPlaceholder(self.status.hint_text)
        self.footer = urwid.Pile([self.status.widget, self.bottom])
        self.frame: urwid.Frame[Any, Any, Any] = urwid.Frame(self.columns, footer=self.footer)
        self.top = _Top(self, self.frame)
        self.fit_sidebar(120)  # until the first drawing says how wide the screen is
        self.refresh_sidebar()
        self.update_status()

    # ------------------------------------------------------------------ the layout

    def fit_sidebar(self, columns: int) -> None:
        self.screen_columns = columns
        # hidden, it still shows while it has the keys (c: choose a folder)
        shown = sidebar_shown(self.options.sidebar, columns) or self.columns.focus_position == 0
        width = sidebar_width(self.options.sidebar_width, columns) if shown else 0
        self.body_width = columns - width - (1 if shown else 0)
        for i, want in ((0, width), (1, 1 if shown else 0)):
            widget, (_kind, current, _box) = self.columns.contents[i]
            if current != want:
                self.columns.contents[i] = (widget, self.columns.options("given", want))  # type: ignore[assignment]

    def refresh_sidebar(self) -> None:
        self.folders = list(self.source.folders())
        accounts = list(self.source.accounts())
        for f in self.folders:
            if f.account not in accounts:
                accounts.append(f.account)
        self.accounts = accounts
        view = self.index.view
        current = (view.account, view.folder) if view.query is None else None
        self.sidebar.update(accounts, self.folders, current)
        outbox.refresh(self)

    def toggle_sidebar(self) -> None:
        self.options.sidebar = not sidebar_shown(self.options.sidebar, self.screen_columns)
        if not self.options.sidebar and self.columns.focus_position == 0:
            self.columns.focus_position = 2

    def choose_folder(self) -> None:
        self.columns.focus_position = 0
        self.notice("choose a folder: j/k, Enter; q to go back")

    def toggle_hints(self) -> None:
        self.options.hints = not self.options.hints
        self.status.update_hints()

    def redraw(self) -> None:
        if self.loop is not None:
            self.loop.screen.clear()

    # ------------------------------------------------------------------ the view stack

    @property
    def screen(self) -> Screen:
        return self.stack[-1]

    @property
    def index(self) -> IndexView:
        for s in reversed(self.stack):
            if isinstance(s.widget, IndexView):
                return s.widget
        raise RuntimeError("no index")

    def view_name(self) -> str:
        if self.columns.focus_position == 0:
            return "sidebar"
        kind = self.screen.kind
        return {"errors": "help"}.get(kind, kind)

    def push(self, screen: Screen) -> None:
        self.stack.append(screen)
        self.main.original_widget = screen.widget
        self.columns.focus_position = 2
        self.update_status()

    def pop(self) -> None:
        if len(self.stack) > 1:
            self.stack.pop()
        self.main.original_widget = self.screen.widget
        self.columns.focus_position = 2
        self.update_status()

    def replace(self, screen: Screen) -> None:
        """``screen`` in place of the top one (the next message in the pager)."""
        self.stack[-1] = screen
        self.main.original_widget = screen.widget

    def open_folder(self, account: str, folder: str) -> None:
        old = self.index.view
        view = View(
            account=account, folder=folder, sort=old.sort, reverse=old.reverse, threads=old.threads
        )
        self.stack = [Screen("index", IndexView(self.source, view))]
        self.main.original_widget = self.stack[0].widget
        self.columns.focus_position = 2
        self.refresh_sidebar()
        self.update_status()

    def step(self, delta: int) -> None:
        """The cursor ``delta`` messages on; in the pager that message opens."""
        walker = self.index.walker
        pos = walker.focus + delta
        if 0 <= pos < len(walker):
            self.index.focus_on(pos)
            if self.screen.kind == "pager":
                row = walker.row_at(pos)
                if row is not None:
                    reading.open_message(self, row)
        else:
            self.notice("no more messages")

    def target_row(self) -> Row | None:
        """The message a key acts on: the one shown, or the one under the cursor."""
        if self.screen.kind == "pager":
            extra = self.screen.extra.get("row")
            return extra if isinstance(extra, Row) else None
        return self.index.current()

    def current_id(self) -> int | None:
        row = self.index.current()
        return row.id if row else None

    def assumed(self, account: str) -> tuple[str, ...]:
        return tuple(self.assumed_charsets(account))

    # ------------------------------------------------------------------ the bottom lines

    @property
    def prompt_edit(self) -> urwid.Edit:
        """The prompt's line (tests type into it)."""
        return self.prompt.edit

    def notice(self, text: str, error: bool = False) -> None:
        self.status.notice(text, error)

    def update_status(self) -> None:
        self.status.update()

    # ------------------------------------------------------------------ keys

    def render_text(self, cols: int = 120, rows: int = 40) -> str:
        """The screen as text (what a person would read); for tests and the benchmark."""
        canvas = self.top.render((cols, rows), focus=True)
        return "\n".join(line.decode("utf-8") for line in canvas.text)

    def press(self, *keys: str, size: tuple[int, int] = (120, 40)) -> None:
        for key in keys:
            self.keypress(size, key)

    def keypress(self, size: Size, key: str) -> str | None:
        screen, column, shown = self.screen, self.columns.focus_position, self.status.note.at
        result = self.guarded(lambda: self._keypress(size, key))  # type: ignore[arg-type]
        moved = self.screen is not screen or self.columns.focus_position != column
        if moved and self.status.note.gone_with_view(shown):
            self.status.note = Notice()  # a message of the view left behind goes with it
            self.update_status()
        return result

    def guarded(self, work: Callable[[], T]) -> T | None:
        """Run what a key or a click asked for; a failure becomes one line on the status."""
        try:
            return work()
        except TmailError as exc:
            self.notice(exc.one_line(), error=True)
        except OSError as exc:
            self.notice(f"{exc.strerror or exc}", error=True)
        except urwid.ExitMainLoop:
            raise
        except Exception as exc:  # a bug: one line on screen, the traceback in the log file
            self.internal_error(exc)
        self.update_status()
        return None

    def internal_error(self, exc: Exception) -> None:
        log.exception("internal error")
        where = f" (details in {self.log_path})" if self.log_path else ""
        self.notice(f"internal error: {exc!r}{where}", error=True)

    def _keypress(self, size: tuple[int, int], key: str) -> str | None:
        if self.prompt.is_open:
            self.prompt.key(key)
            if not self.prompt.is_open:
                self.update_status()
            return None
        if self.status.note.gone_at_key(time.monotonic()):
            self.status.note = Notice()  # see tmail.ui.notices for when a message goes
        view = self.view_name()
        name = self.keys.action(view, key) if view != "compose" else None
        if name is None:  # the headers form takes typing, not the key map
            result = self.frame.keypress(size, key)
            self.update_status()
            return result
        action = self.keys.actions[name]
        if action.nav:
            pager = self.screen.widget
            if name == "page_down" and isinstance(pager, Pager) and pager.at_end():
                # as in mutt: paging on at the end of a message reads the next one
                if self.index.walker.focus + 1 < len(self.index.walker):
                    self.step(1)
                else:
                    self.notice("that was the last message")
                self.update_status()
                return None
            self.frame.keypress(size, action.nav)
            self.update_status()
            return None
        if action.do is None:
            return key
        action.do(self)
        self.update_status()
        return None

    # ------------------------------------------------------------------ leaving

    def back(self) -> None:
        if self.columns.focus_position == 0:
            self.columns.focus_position = 2
            return
        kind = self.screen.kind
        if kind == "review":
            self.prompt.ask_key(
                "Abandon this message? (y/n) ", {"y": lambda: composeflow.abandon(self)}
            )
            return
        if len(self.stack) > 1:
            self.pop()
            if self.screen.kind == "index":
                self.index.refresh(keep_id=self.current_id())
            return
        self.prompt.ask_key("Quit tmail? (y/n) ", {"y": self._exit})

    def quit(self) -> None:
        """Q: quit at once, unless a message is being written (then ask, as Ctrl-C does)."""
        if any(s.kind in ("compose", "review") for s in self.stack):
            self.interrupted()
            return
        self._exit()

    def _exit(self) -> None:
        raise urwid.ExitMainLoop()

    def interrupted(self) -> None:
        """Ctrl-C asks, as mutt does, instead of ending tmail on the spot (and with it a
        message being written)."""
        if self.prompt.is_open:
            self.prompt.close()
        composing = any(s.kind in ("compose", "review") for s in self.stack)
        question = (
            "Quit tmail? The message you are writing will be lost. (y/n) "
            if composing
            else "Quit tmail? (y/n) "
        )
        self.prompt.ask_key(question, {"y": self._exit})

    # ------------------------------------------------------------------ events and commands

    def sync(self, send_now: bool = True) -> None:
        """$: fetch, and send what waits in the outbox now (not at its next retry time)."""
        self.events.sync(send_now)

    def handle_events(self, events: Sequence[Event]) -> None:
        """Apply a batch of events with one refresh of the counts and the index."""
        self.events.handle(events)

    def run_command(self, line: str) -> None:
        """A ``:`` command line, as typed after the colon."""
        commands.run(self, line)

    # ------------------------------------------------------------------ running

    def run(
        self,
        palette: list[tuple[str, str, str, str]],
        screen: urwid.BaseScreen | None = None,
        monochrome: bool = False,
    ) -> None:
        self.loop = urwid.MainLoop(
            self.top,
            palette,
            screen=screen,
            handle_mouse=self.options.mouse,
            pop_ups=False,
        )
        if monochrome:
            # NO_COLOR (or a mono terminal): the palette's mono column carries the meaning.
            set_properties = getattr(self.loop.screen, "set_terminal_properties", None)
            if callable(set_properties):
                set_properties(colors=1)
        pipe = self.loop.watch_pipe(self._doorbell)

        def ring() -> None:
            with contextlib.suppress(OSError):
                os.write(pipe, b"!")

        self.session.set_notify(ring)

        def on_interrupt(signum: int, frame: object) -> None:
            # not while an editor or viewer has the terminal: its own Ctrl-C is not for us
            if not self.external_running:
                with contextlib.suppress(OSError):
                    os.write(pipe, INTERRUPT)

        previous = signal.signal(signal.SIGINT, on_interrupt)
        self.session.start()
        self.events.start_push()
        try:
            self.loop.run()
        finally:
            signal.signal(signal.SIGINT, previous)
            self.session.close()
            with contextlib.suppress(OSError):
                self.loop.remove_watch_pipe(pipe)

    def _doorbell(self, data: bytes) -> bool:
        try:
            if INTERRUPT in data:
                self.interrupted()
            self.handle_events(self.session.drain())
        except Exception as exc:
            self.internal_error(exc)
        return True
