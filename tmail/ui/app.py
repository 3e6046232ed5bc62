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

Every key goes through :meth:`App.keypress`: the prompt first when one is open, then the key map
of the current view (:mod:`tmail.ui.keys`), then the focused widget. Nothing here waits on the
network: slow work is a request to the :class:`~tmail.runtime.session.MailSession`, whose events
ring the main loop's doorbell (``watch_pipe``) and are drained all at once.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import urwid

from tmail.core.errors import TmailError
from tmail.core.models import Flag
from tmail.core.roles import Role, role_of
from tmail.core.safe import safe_line
from tmail.core.sizes import human_size
from tmail.runtime.session import (
    ChangesApplied,
    DeleteMessages,
    DraftPostponed,
    Event,
    MailSession,
    MessageSent,
    MoveMessages,
    NewMessages,
    OutboxChanged,
    PostponeDraft,
    RequestFailed,
    SendDraft,
    SetFlags,
    SyncFailed,
    SyncFinished,
    SyncNow,
    SyncStarted,
)
from tmail.ui import charsets
from tmail.ui import outbox as outbox_view
from tmail.ui.compose import (
    ComposeState,
    HeaderForm,
    Identity,
    Original,
    attach_problem,
    forgotten_attachment,
    forward_state,
    is_blank,
    is_drafts_folder,
    reply_state,
    resumed_state,
    review_lines,
)
from tmail.ui.index import IndexView
from tmail.ui.keys import KeyMap
from tmail.ui.lineedit import HELP as PROMPT_HELP
from tmail.ui.lineedit import LineEdit
from tmail.ui.notices import NOTICE_SHOWN_FOR, Notice, status_right
from tmail.ui.pager import Pager
from tmail.ui.sidebar import Sidebar, sidebar_shown
from tmail.ui.source import ALL_INBOXES, SORT_KEYS, MailSource, Row, View
from tmail.ui.urwidtypes import Markup, Size, Widgets, Wrap

if TYPE_CHECKING:
    from tmail.ui.render import Rendered

log = logging.getLogger("tmail.ui")
T = TypeVar("T")

INTERRUPT = b"I"  # rung on the doorbell pipe by Ctrl-C (SIGINT)

NAV = {
    "down": "down",
    "up": "up",
    "page_down": "page down",
    "page_up": "page up",
    "top": "home",
    "bottom": "end",
}

COMMANDS = {
    "help": "the help screen",
    "quit": "quit tmail",
    "sync": "fetch and send mail now",
    "search QUERY": "search (same as /)",
    "folder ACCOUNT/FOLDER": "open a folder",
    "inboxes": "open All inboxes",
    "sort date|from|subject|size": "sort the index",
    "threads": "thread view on/off",
    "compose [ADDRESS]": "write a new message",
    "hints on|off": "the key hint line",
    "errors": "the error log",
}


@dataclass
class Options:
    hints: bool = True
    mouse: bool = True
    sidebar_width: int = 24
    sidebar: bool | None = None  # the folder list: shown, hidden, or None: from 100 columns up
    editor: Callable[[str], str | None] | None = None  # tests replace the external editor
    opener: Callable[[Sequence[str]], int] | None = None  # tests replace $BROWSER / mailcap


@dataclass
class _Screen:
    kind: str  # index, pager, compose, review, help, errors, attachments, outbox
    widget: urwid.Widget
    state: ComposeState | None = None
    extra: dict[str, object] = field(default_factory=dict)


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
    ) -> None:
        self.source = source
        # An account's assumed_charsets (config), tried first for 8-bit text with no charset.
        self.assumed_charsets = assumed_charsets or (lambda account: ())
        self.session = session
        self.identities = list(identities)
        self.own_addresses = [a.lower() for a in own_addresses] + [
            i.address.addr.lower() for i in identities
        ]
        self.keys = keymap or KeyMap()
        self.options = options or Options()
        self.loop: urwid.MainLoop | None = None
        self.errors: list[tuple[float, str]] = []
        self.sync_state = ""
        self.note = Notice()  # the one message on the status line
        self._pending_sync: set[int] = set()
        self._cleanup_after: dict[int, ComposeState] = {}
        self.log_path: Path | None = None  # where tracebacks of bugs go (set by ui.main)
        self._external_running = False  # an editor or viewer has the terminal
        self._sync_alarm: object | None = None  # the tick showing a running sync's progress

        self.sidebar = Sidebar(self.open_folder)
        accounts = list(source.accounts())
        view = start_view or View()
        self.stack: list[_Screen] = [_Screen("index", IndexView(source, view))]
        self.main = urwid.WidgetPlaceholder(self.stack[0].widget)
        self.columns = urwid.Columns(
            [
                (self.options.sidebar_width, urwid.AttrMap(self.sidebar, "sidebar")),
                (1, urwid.SolidFill("│")),
                self.main,
            ],
            focus_column=2,
        )
        self.status_left = urwid.Text("", wrap="ellipsis")
        self.status_right = urwid.Text("", align="right", wrap="ellipsis")
        self.status = urwid.AttrMap(_StatusLine(self.status_left, self.status_right), "status")
        self.hint_text: urwid.Text = urwid.Text("", wrap="ellipsis")
        self.prompt_edit: urwid.Edit = LineEdit()
        self.bottom: urwid.WidgetPlaceholder[Any] = urwid.WidgetPlaceholder(self.hint_text)
        self.footer = urwid.Pile([self.status, self.bottom])
        self.frame: urwid.Frame[Any, Any, Any] = urwid.Frame(self.columns, footer=self.footer)
        self.top = _Top(self, self.frame)
        self._prompt: dict[str, object] | None = None
        self._accounts = accounts
        self.fit_sidebar(120)  # until the first drawing says how wide the screen is
        self.outbox_status = ""  # "outbox 2" on the status line while mail waits there
        self.refresh_sidebar()
        self.update_status()

    # ------------------------------------------------------------------ screen plumbing

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

    @property
    def screen(self) -> _Screen:
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

    def push(self, screen: _Screen) -> None:
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

    def render_text(self, cols: int = 120, rows: int = 40) -> str:
        """The screen as text (what a person would read); for tests and the benchmark."""
        canvas = self.top.render((cols, rows), focus=True)
        return "\n".join(line.decode("utf-8") for line in canvas.text)

    def press(self, *keys: str, size: tuple[int, int] = (120, 40)) -> None:
        for key in keys:
            self.keypress(size, key)

    # ------------------------------------------------------------------ status, hints, notices

    @property
    def notice_text(self) -> str:
        return self.note.text

    def notice(self, text: str, error: bool = False) -> None:
        self.note = Notice(safe_line(text), error, time.monotonic())
        if error:
            self.errors.append((time.time(), self.note.text))
            del self.errors[:-500]
        self.update_status()
        if self.loop is not None and not error:
            self.loop.set_alarm_in(NOTICE_SHOWN_FOR + 0.1, lambda *_: self.expire_notice())

    def expire_notice(self) -> None:
        """A notice has had its time (the alarm set by :meth:`notice`)."""
        if self.note.gone_by_time(time.monotonic()):
            self.note = Notice()
            self.update_status()

    def update_status(self) -> None:
        screen = self.screen
        left: list[str] = []
        if screen.kind in ("index", "pager"):
            view = self.index.view
            walker = self.index.walker
            unread = self._unread(view)
            count = len(walker)
            left.append(f" {safe_line(view.title())}  {count} message{'' if count == 1 else 's'}")
            if unread:
                left.append(f", {unread} unread")
            order = view.sort + (" ↓" if view.reverse else " ↑")
            left.append(f"  [{order}{', threads' if view.threads else ''}]")
            if screen.kind == "pager" and isinstance(screen.widget, Pager):
                left.append("  raw source" if screen.widget.show_raw else "")
            if self.outbox_status:
                left.append(f"  [{self.outbox_status}: {self.keys.label('outbox')}]")
        else:
            left.append(
                {
                    "compose": " Compose: headers",
                    "review": " Compose: review and send",
                    "help": " Help",
                    "errors": " Error log",
                    "attachments": " Attachments",
                    "outbox": " Outbox",
                }.get(screen.kind, screen.kind)
            )
        self.status_left.set_text([str(p) for p in left if p])
        right: Markup = status_right(self.sync_state, self.note)
        self.status_right.set_text(right or " ")
        self._update_hints()

    def _unread(self, view: View) -> int:
        if view.query is not None:
            return 0
        total = 0
        for f in self._folders:
            if (view.unified and f.name.upper() == "INBOX") or (
                f.account == view.account and f.name == view.folder
            ):
                total += f.unread
        return total

    def _update_hints(self) -> None:
        if self._prompt is not None:
            return
        if not self.options.hints:
            self.bottom.original_widget = urwid.Text("")
            return
        markup: Markup = []
        if self.view_name() == "compose":
            # the headers form takes typing, not the key map: the keys of the focused field
            for key, label in self._form_hints():
                markup.extend([("hint_key", key), ("hint", f" {label}  ")])
        hints = self.keys.hints(self.view_name())
        # q asks to quit on the first screen and to abandon the message on the review screen:
        # the hint says that, not "Back"
        what = {"index": "Quit" if len(self.stack) == 1 else "", "review": "Abandon"}
        instead = what.get(self.view_name(), "")
        if instead:
            back = self.keys.label("back")
            hints = [(k, instead if (k, label) == (back, "Back") else label) for k, label in hints]
        view = self.index.view
        in_drafts = view.query is None and not view.unified and is_drafts_folder(view.folder)
        if in_drafts and self.view_name() in ("index", "pager") and self.keys.keys_for("resume"):
            hints.insert(2, (self.keys.label("resume"), "Resume"))  # in Drafts, R matters
        for key, label in hints:
            markup.extend([("hint_key", key), ("hint", f" {label}  ")])
        self.hint_text.set_text(markup or " ")
        self.bottom.original_widget = self.hint_text

    def _form_hints(self) -> list[tuple[str, str]]:
        widget = self.screen.widget
        form = widget.original_widget if isinstance(widget, urwid.Filler) else None
        field = form.focused_field() if isinstance(form, HeaderForm) else "to"
        if field == "from":
            more = [("←→", "Account")] if len(self.identities) > 1 else []
            return [*more, ("↓", "Next field"), ("Esc", "Cancel")]
        if field == "subject":
            return [("Enter", "Write the message"), ("↑", "Field"), ("Esc", "Cancel")]
        return [("Tab", "Complete"), ("Enter", "Next"), ("↑↓", "Field"), ("Esc", "Cancel")]

    def refresh_sidebar(self) -> None:
        self._folders = list(self.source.folders())
        accounts = list(self.source.accounts())
        for f in self._folders:
            if f.account not in accounts:
                accounts.append(f.account)
        self._accounts = accounts
        view = self.index.view
        current = (view.account, view.folder) if view.query is None else None
        self.sidebar.update(accounts, self._folders, current)
        outbox_view.refresh(self)

    # ------------------------------------------------------------------ the prompt

    def ask(
        self,
        caption: str,
        on_answer: Callable[[str], None],
        *,
        text: str = "",
        complete: Callable[[str], list[str]] | None = None,
    ) -> None:
        # a path filled in (save, attach) starts over at a typed "/" or "~" (see lineedit)
        restart = "/~" if complete is _path_complete else ""
        self.prompt_edit = LineEdit(("prompt", caption), text, restart_chars=restart)
        if restart and text and not self.note.error:  # an error said just before stays
            self.notice("^U clears; a first / or ~ starts a new path")
        self._prompt = {"kind": "line", "answer": on_answer, "complete": complete}
        self.bottom.original_widget = self.prompt_edit
        self.frame.focus_position = "footer"
        self.footer.focus_position = 1

    def ask_key(self, caption: str, choices: dict[str, Callable[[], None]]) -> None:
        """A one-key question: ``Quit tmail? (y/n)``. Any other key cancels."""
        self.prompt_edit = LineEdit(("prompt", caption))
        self._prompt = {"kind": "key", "choices": choices}
        self.bottom.original_widget = self.prompt_edit
        self.frame.focus_position = "footer"
        self.footer.focus_position = 1

    def _close_prompt(self) -> None:
        self._prompt = None
        self.frame.focus_position = "body"
        self._update_hints()

    def _prompt_key(self, key: str) -> None:
        assert self._prompt is not None
        prompt = self._prompt
        if prompt["kind"] == "key":
            self._close_prompt()
            choices = prompt["choices"]
            assert isinstance(choices, dict)
            action = choices.get(key)
            if action is not None:
                action()
            else:
                self.notice("cancelled")
            return
        if key == "esc" or (key == "ctrl g"):
            self._close_prompt()
            self.notice("cancelled")
            return
        if key == "enter":
            answer = self.prompt_edit.edit_text
            self._close_prompt()
            callback = prompt["answer"]
            assert callable(callback)
            callback(answer)
            return
        if key == "tab":
            complete = prompt.get("complete")
            if callable(complete):
                options = complete(self.prompt_edit.edit_text)
                if len(options) == 1:
                    self.prompt_edit.set_edit_text(options[0])
                    self.prompt_edit.set_edit_pos(len(options[0]))
                elif options:
                    common = os.path.commonprefix(options)  # noqa: RUF071 (text, not paths)
                    self.prompt_edit.set_edit_text(common)
                    self.prompt_edit.set_edit_pos(len(common))
                    self.notice("  ".join(safe_line(o) for o in options[:8]))
            return
        self.prompt_edit.keypress((200,), key)

    # ------------------------------------------------------------------ keys

    def keypress(self, size: Size, key: str) -> str | None:
        screen, column, shown = self.screen, self.columns.focus_position, self.note.at
        result = self.guarded(lambda: self._keypress(size, key))  # type: ignore[arg-type]
        moved = self.screen is not screen or self.columns.focus_position != column
        if moved and self.note.gone_with_view(shown):
            self.note = Notice()  # a message of the view left behind goes with it
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
            self._internal_error(exc)
        self.update_status()
        return None

    def _internal_error(self, exc: Exception) -> None:
        log.exception("internal error")
        where = f" (details in {self.log_path})" if self.log_path else ""
        self.notice(f"internal error: {exc!r}{where}", error=True)

    def _keypress(self, size: tuple[int, int], key: str) -> str | None:
        if self._prompt is not None:
            self._prompt_key(key)
            if self._prompt is None:
                self.update_status()
            return None
        if self.note.gone_at_key(time.monotonic()):
            self.note = Notice()  # see tmail.ui.notices for when a message goes
        view = self.view_name()
        if view == "compose":
            result = self.frame.keypress(size, key)
            self.update_status()
            return result
        action = self.keys.action(view, key)
        if action is None:
            result = self.frame.keypress(size, key)
            self.update_status()
            return result
        if action in NAV:
            pager = self.screen.widget
            if action == "page_down" and isinstance(pager, Pager) and pager.at_end():
                # as in mutt: paging on at the end of a message reads the next one
                if self.index.walker.focus + 1 < len(self.index.walker):
                    self._step(1)
                else:
                    self.notice("that was the last message")
                self.update_status()
                return None
            self.frame.keypress(size, NAV[action])
            self.update_status()
            return None
        handler = getattr(self, "do_" + action, None)
        if handler is None:
            return key
        handler()
        self.update_status()
        return None

    # ------------------------------------------------------------------ actions: moving around

    def do_back(self) -> None:
        if self.columns.focus_position == 0:
            self.columns.focus_position = 2
            return
        kind = self.screen.kind
        if kind == "review":
            self.ask_key("Abandon this message? (y/n) ", {"y": self._abandon})
            return
        if len(self.stack) > 1:
            self.pop()
            if self.screen.kind == "index":
                self.index.refresh(keep_id=self._current_id())
            return
        self.ask_key("Quit tmail? (y/n) ", {"y": self._exit})

    def do_quit(self) -> None:
        """Q: quit at once, unless a message is being written (then ask, as Ctrl-C does)."""
        if any(s.kind in ("compose", "review") for s in self.stack):
            self.interrupted()
            return
        self._exit()

    def _exit(self) -> None:
        raise urwid.ExitMainLoop()

    def do_help(self) -> None:
        if self.screen.kind == "help":
            return  # one help screen: q leaves it, however often ? was pressed
        rows: Widgets = [
            urwid.Text(("title", "tmail: keys (change them under [keys] in the config file)")),
            urwid.Divider(),
        ]
        for where, keys, what in self.keys.help_lines():
            rows.append(_HelpLine(keys, where, what))
        rows.extend(
            [urwid.Divider(), urwid.Text(("title", "Commands (type : first)")), urwid.Divider()]
        )
        for cmd, what in COMMANDS.items():
            rows.append(_HelpLine(cmd, "", what, key_width=30))
        rows.extend([urwid.Divider(), urwid.Text(("title", "In a prompt")), urwid.Divider()])
        rows.extend(_HelpLine(keys, "", what) for keys, what in PROMPT_HELP)
        rows.extend(
            [
                urwid.Divider(),
                urwid.Text(("title", "Search (/)")),
                urwid.Text(
                    'words and "phrases", from: to: cc: subject: folder: account: '
                    "has:attachment is:unread is:flagged before:2024-01-31 after:..., "
                    "AND OR NOT and (parentheses)"
                ),
                urwid.Divider(),
                urwid.Text("q: back"),
            ]
        )
        self.push(_Screen("help", urwid.ListBox(urwid.SimpleFocusListWalker(rows))))

    def do_errors(self) -> None:
        if self.screen.kind == "errors":
            self.pop()  # shown anew below, with what came in since
        rows: Widgets = [urwid.Text(("title", "Errors (newest last)")), urwid.Divider()]
        if not self.errors:
            rows.append(urwid.Text("No errors."))
        for when, text in self.errors:
            rows.append(urwid.Text(f"{time.strftime('%H:%M:%S', time.localtime(when))}  {text}"))
        self.push(_Screen("errors", urwid.ListBox(urwid.SimpleFocusListWalker(rows))))

    def do_outbox(self) -> None:
        outbox_view.open_view(self)

    def do_resend(self) -> None:
        outbox_view.resend(self)

    def do_drop_queued(self) -> None:
        outbox_view.drop(self)

    def do_hints(self) -> None:
        self.options.hints = not self.options.hints
        self._update_hints()

    def do_redraw(self) -> None:
        if self.loop is not None:
            self.loop.screen.clear()

    def do_sidebar(self) -> None:
        self.options.sidebar = not sidebar_shown(self.options.sidebar, self.screen_columns)
        if not self.options.sidebar and self.columns.focus_position == 0:
            self.columns.focus_position = 2

    def do_change_folder(self) -> None:
        self.columns.focus_position = 0
        self.notice("choose a folder: j/k, Enter; q to go back")

    def do_open(self) -> None:
        if self.columns.focus_position == 0:
            where = self.sidebar.focused()
            if where:
                self.open_folder(*where)
            return
        row = self.index.current()
        if row is not None:
            self.open_message(row)

    def open_folder(self, account: str, folder: str) -> None:
        old = self.index.view
        view = View(
            account=account, folder=folder, sort=old.sort, reverse=old.reverse, threads=old.threads
        )
        self.stack = [_Screen("index", IndexView(self.source, view))]
        self.main.original_widget = self.stack[0].widget
        self.columns.focus_position = 2
        self.refresh_sidebar()
        self.update_status()

    def do_top(self) -> None:
        self.index.focus_on(0)

    def _assumed(self, account: str) -> tuple[str, ...]:
        return tuple(self.assumed_charsets(account))

    def _current_id(self) -> int | None:
        row = self.index.current()
        return row.id if row else None

    # ------------------------------------------------------------------ reading

    def open_message(self, row: Row) -> None:
        raw = self.source.raw(row.id)
        assumed = self._assumed(row.account)
        pager = Pager(row.id, raw, render(raw, None, assumed, self.body_width), assumed)
        screen = _Screen("pager", pager, extra={"row": row})
        if self.screen.kind == "pager":
            self.stack[-1] = screen
            self.main.original_widget = pager
        else:
            self.push(screen)
        if row.unread:
            self._set_flags(row, add={Flag.SEEN})

    def _set_flags(self, row: Row, add: set[Flag] = set(), remove: set[Flag] = set()) -> None:  # noqa: B006
        new = replace(row, flags=(row.flags | add) - remove)
        self.index.walker.replace_row(new)
        shown = self.screen.extra.get("row") if self.screen.kind == "pager" else None
        if isinstance(shown, Row) and shown.id == row.id:
            self.screen.extra["row"] = new  # the message on screen knows its flags now
        self.session.submit(SetFlags(ids=(row.id,), add=frozenset(add), remove=frozenset(remove)))
        if Flag.SEEN in add or Flag.SEEN in remove:
            self._adjust_unread(row, -1 if Flag.SEEN in add else 1)

    def _adjust_unread(self, row: Row, delta: int) -> None:
        self._folders = [
            replace(f, unread=max(0, f.unread + delta))
            if (f.account, f.name) == (row.account, row.folder)
            else f
            for f in self._folders
        ]
        view = self.index.view
        self.sidebar.update(self._accounts, self._folders, (view.account, view.folder))

    def _target_row(self) -> Row | None:
        if self.screen.kind == "pager":
            extra = self.screen.extra.get("row")
            return extra if isinstance(extra, Row) else None
        return self.index.current()

    def _step(self, delta: int) -> None:
        walker = self.index.walker
        pos = walker.focus + delta
        if 0 <= pos < len(walker):
            self.index.focus_on(pos)
            if self.screen.kind == "pager":
                row = walker.row_at(pos)
                if row is not None:
                    self.open_message(row)
        else:
            self.notice("no more messages")

    def do_next_message(self) -> None:
        self._step(1)

    def do_prev_message(self) -> None:
        self._step(-1)

    def do_next_unread(self) -> None:
        walker = self.index.walker
        pos = walker.find(walker.focus, lambda r: r.unread)
        if pos is None:  # on from the top, as mutt's next-new ("Search wrapped to top.")
            pos = walker.find(-1, lambda r: r.unread, limit=min(walker.focus, 5000))
            if pos is None:
                current = walker.row_at(walker.focus)
                other = " other" if current is not None and current.unread else ""
                self.notice(f"no{other} unread messages")
                return
            self.notice("wrapped to the top for the next unread")
        self.index.focus_on(pos)
        if self.screen.kind == "pager":
            row = walker.row_at(pos)
            if row is not None:
                self.open_message(row)

    def do_raw(self) -> None:
        if isinstance(self.screen.widget, Pager):
            self.screen.widget.toggle_raw()

    def do_charset(self) -> None:
        pager = self.screen.widget
        if not isinstance(pager, Pager):
            return

        def answer(name: str) -> None:
            name = name.strip()
            if not name:
                return
            if name.lower() == charsets.AUTO:  # back to the declared (or detected) charset
                pager.set_rendered(render(pager.raw, assumed=self._assumed(self._pager_account())))
                self.notice(f"shown as {pager.rendered.charset or 'declared'} (auto)")
                return
            from tmail.mime.charsets import normalize_charset

            if normalize_charset(name) is None:  # unknown, or no text codec (base64, rot13)
                self.notice(
                    f"unknown charset {name!r}: try koi8-r, windows-1251, cp866, utf-8", True
                )
                return
            pager.view_as(name)
            self.notice(f"shown as {name}")

        self.ask("View as charset (auto: as declared): ", answer, complete=charsets.complete)
        # the choices at once, above the prompt (Tab completes a started name)
        line = urwid.Text(("hint", charsets.choices_line(pager.rendered.charset)))
        self.bottom.original_widget = urwid.Pile([line, self.prompt_edit], focus_item=1)

    def _pager_account(self) -> str:
        row = self.screen.extra.get("row")
        return row.account if isinstance(row, Row) else ""

    def do_search(self) -> None:
        if isinstance(self.screen.widget, Pager):
            pager = self.screen.widget
            last = pager.query or ""
            caption = f"Find in message [{safe_line(last)}]: " if last else "Find in message: "
            self.ask(caption, lambda q: self._find(pager, q or last, True))
            return

        def answer(query: str) -> None:
            query = query.strip()
            if not query:
                return
            old = self.index.view
            view = View(
                account=old.account,
                folder=old.folder,
                query=query,
                sort=old.sort,
                reverse=old.reverse,
            )
            try:
                index = IndexView(self.source, view)
            except TmailError as exc:
                self.notice(exc.one_line(), error=True)
                return
            self.push(_Screen("index", index))
            if not len(index.walker):
                self.notice(f"nothing matches {query}")

        self.ask("Search: ", answer)

    def _find(self, pager: Pager, query: str, forward: bool) -> None:
        if not query:
            return
        found = pager.find(query, forward)
        if found is None:
            self.notice(f"not found: {query}")
        elif found.total > 1 or found.wrapped:
            end = "bottom, went on at the top" if forward else "top, went on at the bottom"
            wrapped = f" (hit the {end})" if found.wrapped and found.total > 1 else ""
            self.notice(f"match {found.number} of {found.total}{wrapped}")

    def do_next_match(self) -> None:
        if isinstance(self.screen.widget, Pager) and self.screen.widget.query:
            self._find(self.screen.widget, self.screen.widget.query, True)

    def do_prev_match(self) -> None:
        if isinstance(self.screen.widget, Pager) and self.screen.widget.query:
            self._find(self.screen.widget, self.screen.widget.query, False)
        elif isinstance(self.screen.widget, Pager):
            # no text search in this message: N does what it does in the index (and in mutt's
            # pager), mark unread, instead of nothing
            self.do_toggle_unread()

    def do_threads(self) -> None:
        self._reopen(threads=not self.index.view.threads)

    def do_sort(self) -> None:
        # Each order starts the way people read it (O reverses): newest and largest first,
        # senders and subjects A to Z.
        choices = {
            k[0] if k != "size" else "z": (
                lambda k=k: self._reopen(sort=k, reverse=k in ("date", "size"))
            )
            for k in SORT_KEYS
        }
        self.ask_key("Sort by (d)ate (f)rom (s)ubject si(z)e: ", choices)  # type: ignore[arg-type]

    def do_reverse(self) -> None:
        self._reopen(reverse=not self.index.view.reverse)

    def _reopen(self, **changes: object) -> None:
        current = self._current_id()
        view = self.index.view.with_(**changes)
        index = IndexView(self.source, view)
        for i, s in enumerate(self.stack):
            if s.widget is self.index:
                self.stack[i] = _Screen("index", index)
                break
        if self.screen.kind == "index":
            self.main.original_widget = index
        if current is not None:
            page = index.walker
            for pos in range(min(len(page), 200)):
                row = page.row_at(pos)
                if row and row.id == current:
                    index.focus_on(pos)
                    break

    def do_open_link(self) -> None:
        pager = self.screen.widget
        if not isinstance(pager, Pager) or not pager.rendered.links:
            self.notice("this message has no links")
            return

        def answer(text: str) -> None:
            try:
                url = pager.rendered.links[int(text) - 1]
            except (ValueError, IndexError):
                self.notice(
                    f"no link {text!r}: the links are numbered 1-{len(pager.rendered.links)}"
                )
                return
            self._open_url(url)

        self.ask(f"Open link (1-{len(pager.rendered.links)}): ", answer)

    def _open_url(self, url: str) -> None:
        """A link from a message: web links go to $BROWSER, mailto: opens a new message here;
        anything else (file:, javascript:, a "-option" the browser would obey) is refused."""
        from urllib.parse import parse_qs, unquote, urlsplit

        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme == "mailto":
            query = parse_qs(parts.query)
            subject = query.get("subject", query.get("Subject", [""]))[0]
            view = self.index.view
            ident = self._identity_for(None if view.unified else view.account)
            to = safe_line(unquote(parts.path))
            self._start_compose(ComposeState(identity=ident, to=to, subject=safe_line(subject)))
        elif scheme in ("http", "https", "ftp") and parts.netloc:
            self._browse(url.strip())
        else:
            self.notice(f"not opened: {url} is no web link (http, https, ftp, mailto)", True)

    def do_open_html(self) -> None:
        pager = self.screen.widget
        if not isinstance(pager, Pager):
            return
        from tmail.mime.original import html_original

        page = html_original(pager.raw)
        if page is None:
            self.notice("this message has no HTML part")
            return
        # A private folder (mode 0700) the browser can read; nothing from the network loads.
        folder = Path(tempfile.mkdtemp(prefix="tmail-html-"))
        path = folder / "message.html"
        path.write_text(page, encoding="utf-8")
        self._browse(path.as_uri())

    def do_attachments(self) -> None:
        pager = self.screen.widget
        if not isinstance(pager, Pager) or not pager.rendered.attachments:
            self.notice("this message has no attachments")
            return
        rows: Widgets = [urwid.Text(("title", "Attachments")), urwid.Divider()]
        for a in pager.rendered.attachments:
            label = f"{a.index}. {a.filename}  ({a.content_type}, {human_size(a.size)})"
            rows.append(urwid.AttrMap(_Item(label, a.index), "attachment", "field_focus"))
        listbox = urwid.ListBox(urwid.SimpleFocusListWalker(rows))
        listbox.set_focus(2)
        self.push(_Screen("attachments", listbox, extra={"pager": pager}))

    def _chosen_attachment(self) -> tuple[str, bytes] | None:
        listbox = self.screen.widget
        pager = self.screen.extra.get("pager")
        if not isinstance(listbox, urwid.ListBox) or not isinstance(pager, Pager):
            return None
        item = listbox.focus.base_widget if listbox.focus is not None else None
        parsed = pager.rendered.parsed
        if not isinstance(item, _Item) or parsed is None:
            return None
        for a in parsed.attachments:
            if a.index == item.index:
                return a.filename, a.data()
        return None

    def _chosen_is_message(self) -> bool:
        listbox = self.screen.widget
        pager = self.screen.extra.get("pager")
        if not isinstance(listbox, urwid.ListBox) or not isinstance(pager, Pager):
            return False
        item = listbox.focus.base_widget if listbox.focus is not None else None
        parsed = pager.rendered.parsed
        if not isinstance(item, _Item) or parsed is None:
            return False
        return any(
            a.index == item.index and a.content_type.lower() in ("message/rfc822", "message/global")
            for a in parsed.attachments
        )

    def do_save_attachment(self) -> None:
        chosen = self._chosen_attachment()
        if chosen is None:
            return
        name, data = chosen
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
                self.notice(f"cannot save into {folder}: {exc.strerror or exc}", error=True)
                return
            self.notice(f"saved {path}")

        self.ask("Save to: ", answer, text=start + safe_filename(name), complete=_path_complete)

    def do_open_attachment(self) -> None:
        chosen = self._chosen_attachment()
        if chosen is None:
            return
        name, data = chosen
        pager = self.screen.extra.get("pager")
        enclosed = name.lower().endswith(".eml") or self._chosen_is_message()
        if enclosed and isinstance(pager, Pager):
            # an enclosed message (a forward, a bounced original) reads here, as in mutt
            row = self.stack[-2].extra.get("row") if len(self.stack) > 1 else None
            assumed = self._assumed(row.account) if isinstance(row, Row) else ()
            inner = Pager(
                pager.message_id, data, render(data, None, assumed, self.body_width), assumed
            )
            self.push(_Screen("pager", inner, extra={}))
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
            self.notice(f"no viewer (run-mailcap, xdg-open); saved as {path}", error=True)
            return
        status = self._run_external(argv)
        if status != 0:
            self.notice(f"the viewer exited with status {status}; the file is {path}", True)

    def _browse(self, target: str) -> None:
        browser = os.environ.get("BROWSER")
        if not browser:
            self.notice("set $BROWSER to open links (e.g. BROWSER=w3m)", error=True)
            return
        self._run_external([*shlex.split(browser), target])

    def _run_external(self, argv: Sequence[str]) -> int:
        if self.options.opener is not None:
            return self.options.opener(argv)
        if self.loop is not None:
            self.loop.screen.stop()
        self._external_running = True
        try:
            return subprocess.call(list(argv))
        except OSError as exc:
            self.notice(f"could not run {argv[0]}: {exc.strerror}", error=True)
            return 127
        finally:
            self._external_running = False
            if self.loop is not None:
                self.loop.screen.start()
                self.loop.screen.clear()

    # ------------------------------------------------------------------ changing messages

    def do_flag(self) -> None:
        row = self._target_row()
        if row is None:
            return
        if Flag.FLAGGED in row.flags:
            self._set_flags(row, remove={Flag.FLAGGED})
        else:
            self._set_flags(row, add={Flag.FLAGGED})
        self._refresh_pager_row(row.id)

    def do_toggle_unread(self) -> None:
        row = self._target_row()
        if row is None:
            return
        if row.unread:
            self._set_flags(row, add={Flag.SEEN})
            self.notice("marked read")
        else:
            self._set_flags(row, remove={Flag.SEEN})
            self.notice("marked unread")
        self._refresh_pager_row(row.id)

    def _refresh_pager_row(self, message_id: int) -> None:
        if self.screen.kind == "pager":
            for pos in range(max(0, self.index.walker.focus - 1), self.index.walker.focus + 2):
                row = self.index.walker.row_at(pos)
                if row is not None and row.id == message_id:
                    self.screen.extra["row"] = row

    def do_delete(self) -> None:
        row = self._target_row()
        if row is None:
            return
        if self._in_trash(row):
            # from Trash it is gone for good (on the server too, at the next sync): ask
            self.ask_key("Delete it for good? (y/n) ", {"y": lambda: self._delete(row)})
            return
        self._delete(row)

    def _in_trash(self, row: Row) -> bool:
        role = next(
            (f.role for f in self._folders if (f.account, f.name) == (row.account, row.folder)),
            None,
        )
        return role == Role.TRASH or role_of(row.folder) is Role.TRASH

    def _delete(self, row: Row) -> None:
        self.index.walker.replace_row(replace(row, flags=row.flags | {Flag.TRASHED}))
        self.session.submit(DeleteMessages(ids=(row.id,)))
        self.notice("deleted" if self._in_trash(row) else "moved to Trash")
        has_next = self.index.walker.focus + 1 < len(self.index.walker)
        if self.screen.kind == "pager" and not has_next:
            self.pop()
        elif has_next:
            self._step(1)  # in a message: the next one opens, as in mutt

    def do_move(self) -> None:
        row = self._target_row()
        if row is None:
            return
        names = [f.name for f in self._folders if f.account == row.account and f.name != row.folder]

        def move(folder: str) -> None:
            self.session.submit(MoveMessages(ids=(row.id,), folder=folder))
            self.index.walker.replace_row(replace(row, flags=row.flags | {Flag.TRASHED}))
            self.notice(f"moved to {folder}")
            has_next = self.index.walker.focus + 1 < len(self.index.walker)
            if self.screen.kind == "pager" and not has_next:
                self.pop()
            elif has_next:
                self._step(1)  # in a message: the next one opens, as after d

        def answer(folder: str) -> None:
            folder = folder.strip().strip("/")
            if not folder:
                return
            if folder.lower() == row.folder.lower():
                self.notice(f"it is in {row.folder} already")
                return
            known = {n.lower(): n for n in names}
            if folder.lower() in known:
                move(known[folder.lower()])
                return
            # a typo must not quietly make a new folder (on the server too, at the next sync)
            self.ask_key(
                f"There is no folder {safe_line(folder)} in {row.account}: create it? (y/n) ",
                {"y": lambda: move(folder)},
            )

        self.ask(
            "Move to folder: ",
            answer,
            complete=lambda text: [n for n in names if n.lower().startswith(text.lower())],
        )

    # ------------------------------------------------------------------ background work

    def do_sync(self, send_now: bool = True) -> None:
        """$: fetch, and send what waits in the outbox now (not at its next retry time)."""
        rid = self.session.submit(SyncNow(send_now=send_now))
        self._pending_sync.add(rid)
        self.sync_state = "syncing…"

    def handle_events(self, events: Sequence[Event]) -> None:
        """Apply a batch of events with one refresh of the counts and the index."""
        if not events:
            return
        new_total = 0
        changed = False
        for ev in events:
            done = self._cleanup_after.pop(ev.request_id or 0, None)
            if done is not None:
                _cleanup(done)  # temp files of a forward, once the message is built
                if done.resumed_id is not None and _saved_elsewhere(ev):
                    # the draft it was resumed from: sent (or queued) or postponed anew
                    self.session.submit(DeleteMessages(ids=(done.resumed_id,)))
                    changed = True
            if isinstance(ev, SyncStarted):
                self.sync_state = f"syncing {ev.account}…"
                self._watch_sync()
            elif isinstance(ev, NewMessages):
                new_total += ev.count
                changed = True
            elif isinstance(ev, SyncFinished):
                self.sync_state = "synced " + time.strftime("%H:%M")
                self._pending_sync.discard(ev.request_id or 0)
                changed = True
            elif isinstance(ev, SyncFailed):
                self.sync_state = "sync failed"
                self.notice(ev.error, error=True)
                changed = True
            elif isinstance(ev, MessageSent):
                if ev.status == "delivered":
                    self.notice(f"sent: {ev.subject}")
                elif ev.status == "queued":
                    self.notice(f"queued, will retry: {ev.detail or ev.subject}")
                elif ev.status == "held":
                    self.notice(f"held in the outbox: {ev.detail}", error=True)
                else:
                    self.notice(f"not sent: {ev.detail}", error=True)
                changed = True
            elif isinstance(ev, DraftPostponed):
                self.notice(f"postponed to {ev.account}/{ev.folder}")
                changed = True
            elif isinstance(ev, ChangesApplied):
                changed = True
            elif isinstance(ev, RequestFailed):
                self.notice(ev.error, error=True)
                changed = True
            elif isinstance(ev, OutboxChanged):
                if ev.text:
                    self.notice(ev.text)
                changed = True
        if new_total:
            self.notice(f"{new_total} new message{'s' if new_total != 1 else ''}")
        if changed:
            self.refresh_sidebar()
            if self.screen.kind in ("index", "pager"):
                self.index.refresh(keep_id=self._current_id())
        self.update_status()

    SYNC_TICK = 1.0  # seconds between looks at the store while a sync writes into it

    def _watch_sync(self) -> None:
        """While a sync runs, show what it has stored so far once a second: the first sync of a
        big mailbox fills the index as it goes instead of leaving it empty until the end."""
        if self.loop is None or self._sync_alarm is not None:
            return

        def tick(_loop: object = None, _data: object = None) -> None:
            self._sync_alarm = None
            if not self.sync_state.startswith("syncing"):
                return
            try:
                self.show_progress()
            except Exception as exc:  # a bug must not stop the reader
                self._internal_error(exc)
            if self.loop is not None:
                self._sync_alarm = self.loop.set_alarm_in(self.SYNC_TICK, tick)

        self._sync_alarm = self.loop.set_alarm_in(self.SYNC_TICK, tick)

    def show_progress(self) -> None:
        """Counts and rows as the store has them now (the sync worker commits as it goes)."""
        before = [(f.account, f.name, f.total, f.unread) for f in self._folders]
        self.refresh_sidebar()
        if before == [(f.account, f.name, f.total, f.unread) for f in self._folders]:
            return
        if self.screen.kind in ("index", "pager"):
            self.index.refresh(keep_id=self._current_id())
        self.update_status()

    def _start_push(self) -> None:
        """IDLE on each IMAP account's INBOX, where the backend offers it."""
        backend = self.session.backend
        for account in backend.accounts():
            wait = backend.push_waiter(account)
            if wait is not None:
                interval = backend.poll_interval(account) or 300.0
                self.session.watch(account, wait, interval)

    def _doorbell(self, data: bytes) -> bool:
        try:
            if INTERRUPT in data:
                self.interrupted()
            self.handle_events(self.session.drain())
        except Exception as exc:
            self._internal_error(exc)
        return True

    def interrupted(self) -> None:
        """Ctrl-C asks, as mutt does, instead of ending tmail on the spot (and with it a
        message being written)."""
        if self._prompt is not None:
            self._close_prompt()
        composing = any(s.kind in ("compose", "review") for s in self.stack)
        question = (
            "Quit tmail? The message you are writing will be lost. (y/n) "
            if composing
            else "Quit tmail? (y/n) "
        )
        self.ask_key(question, {"y": self._exit})

    # ------------------------------------------------------------------ compose

    def _identity_for(self, account: str | None) -> Identity:
        for ident in self.identities:
            if ident.account == account:
                return ident
        if not self.identities:
            raise TmailError("no account to send from", hint="add an account to the config file")
        return self.identities[0]

    def do_compose(self) -> None:
        view = self.index.view
        ident = self._identity_for(None if view.unified else view.account)
        self._start_compose(ComposeState(identity=ident))

    def _original(self) -> tuple[Row, bytes] | None:
        row = self._target_row()
        if row is None:
            return None
        return row, self.source.raw(row.id)

    def do_reply(self) -> None:
        self._reply(False)

    def do_reply_all(self) -> None:
        self._reply(True)

    def _reply(self, all_: bool) -> None:
        got = self._original()
        if got is None:
            return
        row, raw = got
        from tmail.mime import parse_message

        state = reply_state(
            Original.of(parse_message(raw, self._assumed(row.account))),
            self._identity_for(row.account),
            reply_all=all_,
            own_addresses=self.own_addresses,
            message_row_id=row.id,
        )
        self._start_compose(state)

    def do_forward(self) -> None:
        got = self._original()
        if got is None:
            return
        row, raw = got
        from tmail.mime import parse_message
        from tmail.mime.attachments import save_bytes

        parsed = parse_message(raw, self._assumed(row.account))
        original = Original.of(parsed)
        ident = self._identity_for(row.account)

        def inline() -> None:
            # The attachments go along: saved to a private temp folder, removed afterwards.
            files = []
            if parsed.attachments:
                folder = Path(tempfile.mkdtemp(prefix="tmail-fwd-"))
                for a in parsed.attachments:
                    files.append(save_bytes(a.data(), folder, a.filename))
            self._start_compose(
                forward_state(original, ident, attachments=files, message_row_id=row.id)
            )

        def attached() -> None:
            from tmail.mime.attachments import safe_filename

            folder = Path(tempfile.mkdtemp(prefix="tmail-fwd-"))
            # named after its subject, as Thunderbird does: the recipient sees what it is
            subject = " ".join(original.subject.replace("/", "-").replace("\\", "-").split())
            name = safe_filename(subject[:100] + ".eml") if subject else "forwarded-message.eml"
            path = folder / name
            path.write_bytes(raw)
            self._start_compose(
                forward_state(original, ident, as_attachment=path, message_row_id=row.id)
            )

        self.ask_key(
            "Forward (i)nline or as (a)ttachment? ", {"i": inline, "a": attached, "enter": inline}
        )

    def do_resume(self) -> None:
        """A postponed message (in Drafts) back on the review screen, attachments and all."""
        row = self._target_row()
        if row is None:
            return
        if Flag.DRAFT not in row.flags and not is_drafts_folder(row.folder):
            self.notice("not a draft: R continues a postponed message (open Drafts with c)")
            return
        from tmail.mime import parse_message
        from tmail.mime.attachments import save_bytes

        raw = self.source.raw(row.id)
        parsed = parse_message(raw, self._assumed(row.account))
        files = []
        if parsed.attachments:
            folder = Path(tempfile.mkdtemp(prefix="tmail-draft-"))
            for a in parsed.attachments:
                files.append(save_bytes(a.data(), folder, a.filename))
        sender = parsed.from_[0].addr.lower() if parsed.from_ else ""
        ident = next(
            (i for i in self.identities if i.address.addr.lower() == sender),
            self._identity_for(row.account),
        )
        html = re.search(rb"(?im)^content-type:\s*text/html", raw) is not None
        state = resumed_state(parsed, ident, attachments=files, html=html, message_row_id=row.id)
        if self.screen.kind == "pager":
            self.pop()
        self._show_review(state)

    def _start_compose(self, state: ComposeState) -> None:
        def done(result: ComposeState) -> None:
            self.pop()
            if not result.to.strip():
                self.notice("who is it for? fill in To (E on the review screen)")
            self._edit_body(result, first=True)

        def abandon() -> None:
            self.pop()
            _cleanup(state)
            self.notice("message abandoned")

        def cancel() -> None:  # Esc: a message with anything in it is not lost unasked
            if is_blank(state) and is_blank(form.result()):
                abandon()
            else:
                self.ask_key("Abandon this message? (y/n) ", {"y": abandon})

        form = HeaderForm(state, self.identities, self.source.contacts, done, cancel)
        self.push(_Screen("compose", urwid.Filler(form, "top"), state=state))

    def _edit_body(self, state: ComposeState, first: bool = False) -> None:
        text = self._editor(state.body)
        if text is None:
            if first:
                self.notice("the editor failed; the message is kept on the review screen", True)
        else:
            state = replace(state, body=text)
        self._show_review(state)

    def _editor(self, text: str) -> str | None:
        if self.options.editor is not None:
            return self.options.editor(text)
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        folder = tempfile.mkdtemp(prefix="tmail-compose-")
        path = Path(folder) / "message.txt"
        try:
            path.write_text(text, encoding="utf-8")
            status = self._run_external([*shlex.split(editor), str(path)])
            if status != 0:
                self.notice(f"the editor ({editor}) exited with status {status}", error=True)
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            self.notice(f"editor: {exc.strerror or exc}", error=True)
            return None
        finally:
            with contextlib.suppress(OSError):
                path.unlink()
                os.rmdir(folder)

    def _show_review(self, state: ComposeState) -> None:
        warnings = []
        if forgotten_attachment(state):
            warnings.append("the text mentions an attachment, but nothing is attached")
        if not state.to.strip() and not state.cc.strip() and not state.bcc.strip():
            warnings.append("no recipients yet: E edits the headers")
        listbox = urwid.ListBox(urwid.SimpleFocusListWalker(review_lines(state, warnings)))
        screen = _Screen("review", listbox, state=state)
        if self.screen.kind == "review":
            self.stack[-1] = screen
            self.main.original_widget = listbox
            self.update_status()
        else:
            self.push(screen)
        body: Widgets = list(listbox.body)  # type: ignore[call-overload]
        for i, w in enumerate(body):
            if w.selectable():
                listbox.set_focus(i)
                break

    def _review_state(self) -> ComposeState:
        state = self.screen.state
        assert state is not None
        return state

    def do_edit(self) -> None:
        self._edit_body(self._review_state())

    def do_edit_headers(self) -> None:
        state = self._review_state()

        def done(result: ComposeState) -> None:
            self.pop()
            self._show_review(result)

        def cancel() -> None:  # Esc: changed headers are not dropped unasked
            if form.result() == state:
                self.pop()
            else:
                self.ask_key("Drop the changes to the headers? (y/n) ", {"y": self.pop})

        form = HeaderForm(state, self.identities, self.source.contacts, done, cancel)
        self.push(_Screen("compose", urwid.Filler(form, "top"), state=state))

    def do_attach(self) -> None:
        state = self._review_state()

        def answer(text: str) -> None:
            if not text.strip():
                return
            path = Path(typed_path(text))
            problem = attach_problem(path)
            if problem is not None:
                self.notice(f"{safe_line(str(path))}: {problem}", error=True)
                if path.is_dir():  # the folder's files are one Tab away
                    here = str(path).rstrip("/") + "/"
                    self.ask("Attach file: ", answer, text=here, complete=_path_complete)
                return
            self._show_review(replace(state, attachments=[*state.attachments, path]))

        self.ask("Attach file: ", answer, text=str(Path.cwd()) + "/", complete=_path_complete)

    def do_detach(self) -> None:
        state = self._review_state()
        if not state.attachments:
            self.notice("nothing attached")
            return
        listbox = self.screen.widget
        drop = len(state.attachments) - 1
        if isinstance(listbox, urwid.ListBox):
            items: Widgets = list(listbox.body)  # type: ignore[call-overload]
            selectable = [i for i, w in enumerate(items) if w.selectable()]
            if listbox.focus_position in selectable:
                drop = selectable.index(listbox.focus_position)
        kept = [p for i, p in enumerate(state.attachments) if i != drop]
        name = safe_line(state.attachments[drop].name)

        def detach() -> None:
            self.notice(f"detached {name}")
            self._show_review(replace(state, attachments=kept))

        self.ask_key(f"Remove {name} from the message? (y/n) ", {"y": detach})

    def do_html(self) -> None:
        state = self._review_state()
        self._show_review(replace(state, html=not state.html))

    def do_postpone(self) -> None:
        state = self._review_state()
        draft = state.to_draft()
        rid = self.session.submit(PostponeDraft(account=state.identity.account, draft=draft))
        self._cleanup_after[rid] = state
        self._finish_compose(state)
        self.notice("postponing…")

    def do_send(self) -> None:
        state = self._review_state()
        if not (state.to.strip() or state.cc.strip() or state.bcc.strip()):
            self.notice("no recipients: press E and fill in To", error=True)
            return
        draft = state.to_draft()  # raises MessageError on a bad address: shown in the status

        def go() -> None:
            rid = self.session.submit(
                SendDraft(
                    account=state.identity.account,
                    draft=draft,
                    replied_id=state.replied_id,
                    forwarded_id=state.forwarded_id,
                )
            )
            self._cleanup_after[rid] = state
            self._finish_compose(state)
            self.notice("sending…")

        if forgotten_attachment(state):
            self.ask_key(
                "You wrote about an attachment but attached nothing. Send anyway? (y/n) ",
                {"y": go},
            )
            return
        go()

    def _abandon(self) -> None:
        state = self._review_state()
        self._finish_compose(state)
        _cleanup(state)
        self.notice("message abandoned")

    def _finish_compose(self, state: ComposeState) -> None:
        while len(self.stack) > 1 and self.screen.kind in ("review", "compose"):
            self.stack.pop()
        self.main.original_widget = self.screen.widget
        self.columns.focus_position = 2

    # ------------------------------------------------------------------ the command line

    def do_command(self) -> None:
        names = [c.split()[0] for c in COMMANDS]
        self.ask(
            ":",
            self.run_command,
            complete=lambda t: [n for n in names if n.startswith(t.strip())],
        )

    def run_command(self, line: str) -> None:
        word, _, arg = line.strip().partition(" ")
        arg = arg.strip()
        if not word:
            return
        if word in ("q", "quit"):
            self.do_quit()
        elif word == "help":
            self.do_help()
        elif word == "sync":
            self.do_sync()
        elif word == "errors":
            self.do_errors()
        elif word == "threads":
            self.do_threads()
        elif word == "inboxes":
            self.open_folder(ALL_INBOXES, "INBOX")
        elif word == "search" and arg:
            view = self.index.view.with_(query=arg, threads=False)
            self.push(_Screen("index", IndexView(self.source, view)))
        elif word == "folder" and arg:
            account, sep, folder = arg.partition("/")
            if not sep or account not in self._accounts:
                # a folder of the current account ("Lists/tmail-dev" is not account "Lists")
                account, folder = self.index.view.account, arg
                if account == ALL_INBOXES and self._accounts:
                    account = self._accounts[0]
            known = {(f.account, f.name.lower()): f.name for f in self._folders}
            name = known.get((account, folder.lower()))
            if name is None:
                self.notice(f"no folder {account}/{folder} (c shows the folders)", error=True)
                return
            self.open_folder(account, name)
        elif word == "sort" and arg in SORT_KEYS:
            self._reopen(sort=arg, reverse=arg in ("date", "size"))  # as o does
        elif word == "hints" and arg in ("on", "off", ""):
            self.options.hints = arg != "off"
        elif word == "compose":
            view = self.index.view
            ident = self._identity_for(None if view.unified else view.account)
            self._start_compose(ComposeState(identity=ident, to=arg))
        else:
            usage = next((c for c in COMMANDS if c.split()[0] == word), None)
            if usage is not None:  # a known command with a missing or wrong argument
                self.notice(f"usage: :{usage}", error=True)
            else:
                self.notice(f"unknown command :{word} (:help lists them)", error=True)

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
            if not self._external_running:
                with contextlib.suppress(OSError):
                    os.write(pipe, INTERRUPT)

        previous = signal.signal(signal.SIGINT, on_interrupt)
        self.session.start()
        self._start_push()
        try:
            self.loop.run()
        finally:
            signal.signal(signal.SIGINT, previous)
            self.session.close()
            with contextlib.suppress(OSError):
                self.loop.remove_watch_pipe(pipe)


# The MIME parser loads on the first message opened: the first screen does not need it.
def render(
    raw: bytes, charset: str | None = None, assumed: Sequence[str] = (), width: int = 78
) -> Rendered:
    from tmail.ui.render import render as _render

    return _render(raw, charset, tuple(assumed), width)


class _Item(urwid.Text):
    """A selectable line of a list (an attachment), knowing what it stands for."""

    def __init__(self, label: str, index: int) -> None:
        super().__init__(label)
        self.index = index

    def selectable(self) -> bool:
        return True

    def keypress(self, size: Size, key: str) -> str | None:
        return key


def _saved_elsewhere(ev: Event) -> bool:
    """The composed message is safe somewhere else: delivered, in the outbox, or in Drafts."""
    if isinstance(ev, MessageSent):
        return ev.status in ("delivered", "queued", "held")
    return isinstance(ev, DraftPostponed)


def _cleanup(state: ComposeState) -> None:
    for path in state.cleanup:
        with contextlib.suppress(OSError):
            path.unlink()
            path.parent.rmdir()


def typed_path(text: str) -> str:
    """The path a person typed into a prompt that was filled with a folder: typing ``/tmp/x`` or
    ``~/x`` after the filled-in ``/home/me/`` starts over there (as Emacs's minibuffer does), so
    ``/home/me//tmp/x`` is ``/tmp/x``; then ``~`` expanded."""
    text = text.strip()
    cut = max(text.rfind("//") + 1, text.rfind("/~") + 1)
    return os.path.expanduser(text[cut:] if cut > 0 else text)


def _path_complete(text: str) -> list[str]:
    expanded = typed_path(text)
    out = []
    for p in sorted(glob.glob(glob.escape(expanded) + "*"))[:50]:
        out.append(p + "/" if os.path.isdir(p) else p)
    return out
