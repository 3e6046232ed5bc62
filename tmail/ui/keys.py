"""The action registry: every action of the reader in one table, with its default keys
(mutt-like), a line of help, where it works, what it does, and whether it is also a ``:``
command. Adding a key is adding a line here (and its function in the module of its job).

Users rebind keys under ``[keys]`` in the config file (``reply = "r"``, ``quit = ["q", "x"]``);
``config/keys.toml`` lists every action with its default. The help screen, the hint line and the
command line are generated from this table, so they never disagree with what the keys do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tmail.core.errors import ConfigError
from tmail.ui import (
    attachments_view,
    changes,
    commands,
    composeflow,
    contactview,
    help,
    invite,
    outbox,
    reading,
    undo,
    unsubscribe,
)

if TYPE_CHECKING:
    from tmail.ui.app import App

Handler = Callable[["App"], None]


@dataclass(frozen=True)
class Command:
    """An action as a ``:`` command. Without ``run`` it does what the key does (an argument is
    ignored); with ``run`` the argument goes there, which says False when it is missing or
    wrong (then the usage is shown)."""

    usage: str  # "sort date|from|subject|size": the first word is the command
    help: str
    run: Callable[[App, str], bool] | None = None
    aliases: tuple[str, ...] = ()

    @property
    def word(self) -> str:
        return self.usage.split()[0]


@dataclass(frozen=True)
class Action:
    name: str
    keys: tuple[str, ...]
    help: str
    views: tuple[str, ...]  # where it works: index, pager, sidebar, review, or "all"
    hint: str = ""  # short label for the hint line; empty: not shown there
    do: Handler | None = None  # what it does, given the app
    nav: str = ""  # or a movement: the key the focused list or pager gets instead
    command: Command | None = None  # also a ":" command (with no keys and views: only that)


_ALL = ("all",)
_LISTS = ("index", "pager", "help")
_LINES = ("index", "pager", "sidebar", "help", "attachments", "review", "outbox")
_MAIL = ("index", "pager")

REGISTRY: tuple[Action, ...] = (
    Action("down", ("j", "down"), "next line", _LINES, nav="down"),
    Action("up", ("k", "up"), "previous line", _LINES, nav="up"),
    Action(
        "page_down",
        ("page down", " "),
        "next page (at the end of a message: the next message)",
        _LISTS,
        nav="page down",
    ),
    Action("page_up", ("page up", "-"), "previous page", _LISTS, nav="page up"),
    Action("top", ("home",), "first line", _LISTS, nav="home"),
    Action("bottom", ("end", "G"), "last line", _LISTS, nav="end"),
    Action("next_message", ("J",), "next message", ("pager",), do=reading.next_message),
    Action("prev_message", ("K",), "previous message", ("pager",), do=reading.prev_message),
    Action(
        "open",
        ("enter",),
        "open the message or folder",
        ("index", "sidebar"),
        "Open",
        do=reading.open_focused,
    ),
    Action(
        "back",
        ("q",),
        "back to the previous view; quit from the index",
        _ALL,
        "Back",
        do=lambda app: app.back(),
    ),
    Action(
        "quit",
        ("Q",),
        "quit tmail",
        _ALL,
        do=lambda app: app.quit(),
        command=Command("quit", "quit tmail", aliases=("q",)),
    ),
    Action(
        "help",
        ("?",),
        "this help",
        _ALL,
        "Help",
        do=help.show_help,
        command=Command("help", "the help screen"),
    ),
    Action(
        "command",
        (":",),
        "command line (:help lists commands)",
        _ALL,
        do=commands.command_line,
    ),
    Action(
        "search",
        ("/",),
        "search (from:, subject:, is:unread, ...) / find in message",
        _MAIL,
        "Search",
        do=reading.search,
        command=Command("search QUERY", "search (same as /)", run=commands.search),
    ),
    Action(
        "next_match",
        ("n",),
        "next match of the text search (round past the end)",
        ("pager",),
        do=reading.next_match,
    ),
    Action(
        "prev_match",
        ("N",),
        "previous match of the text search (with none: mark unread / read)",
        ("pager",),
        do=reading.prev_match,
    ),
    Action("reply", ("r",), "reply to the sender", _MAIL, "Reply", do=composeflow.reply),
    Action(
        "reply_all",
        ("g",),
        "reply to all (your own addresses dropped)",
        _MAIL,
        "ReplyAll",
        do=composeflow.reply_all,
    ),
    Action(
        "forward",
        ("f",),
        "forward, inline (attachments kept) or as an attachment",
        _MAIL,
        "Fwd",
        do=composeflow.forward,
    ),
    Action(
        "compose",
        ("m",),
        "write a new message",
        ("index", "pager", "sidebar"),
        "Mail",
        do=composeflow.compose,
        command=Command("compose [ADDRESS]", "write a new message", run=commands.compose),
    ),
    Action(
        "resume",
        ("R",),
        "continue a postponed message (in Drafts)",
        _MAIL,
        do=composeflow.resume,
    ),
    Action(
        "delete",
        ("d",),
        "move to Trash (pushed by the next sync); in Trash: for good, after asking",
        _MAIL,
        "Delete",
        do=changes.delete,
    ),
    Action(
        "move",
        ("s",),
        "move to a folder (asks before making a new one)",
        _MAIL,
        "Move",
        do=changes.move,
    ),
    Action("flag", ("F",), "flag / unflag", _MAIL, "Flag", do=changes.flag),
    Action(
        "toggle_unread",
        ("N",),
        "mark unread / read",
        ("index",),
        "Unread",
        do=changes.toggle_unread,
    ),
    Action(
        "threads",
        ("t",),
        "thread view on/off",
        ("index",),
        "Threads",
        do=reading.threads,
        command=Command("threads", "thread view on/off"),
    ),
    Action(
        "sort",
        ("o",),
        "sort by date / from / subject / size",
        ("index",),
        "Sort",
        do=reading.sort,
        command=Command("sort date|from|subject|size", "sort the index", run=commands.sort),
    ),
    Action("reverse", ("O",), "reverse the order", ("index",), do=reading.reverse),
    Action(
        "sync",
        ("$",),
        "fetch and send mail now",
        _ALL,
        "Sync",
        do=lambda app: app.sync(),
        command=Command("sync", "fetch and send mail now"),
    ),
    Action(
        "next_unread",
        ("tab",),
        "next unread message",
        _MAIL,
        "NextNew",
        do=reading.next_unread,
    ),
    Action(
        "change_folder",
        ("c",),
        "go to a folder (sidebar)",
        _MAIL,
        "Folder",
        do=lambda app: app.choose_folder(),
    ),
    Action(
        "folder",
        (),
        "open a folder",
        (),
        command=Command("folder ACCOUNT/FOLDER", "open a folder", run=commands.folder),
    ),
    Action(
        "inboxes",
        (),
        "open All inboxes",
        (),
        do=commands.inboxes,
        command=Command("inboxes", "open All inboxes"),
    ),
    Action(
        "sidebar",
        ("B",),
        "folder list (sidebar) on/off; by default it hides under 100 columns",
        ("index", "pager", "sidebar"),
        do=lambda app: app.toggle_sidebar(),
    ),
    Action(
        "attachments",
        ("v",),
        "attachments: save or open",
        ("pager",),
        "Attach",
        do=attachments_view.show,
    ),
    Action("raw", ("h",), "raw source on/off", ("pager",), "Raw", do=reading.raw),
    Action("charset", ("C",), "view as charset...", ("pager",), "Charset", do=reading.charset),
    Action(
        "open_link",
        ("u",),
        "open link number N in $BROWSER",
        ("pager",),
        "Link",
        do=reading.open_link,
    ),
    Action(
        "open_html",
        ("b",),
        "open the HTML original in $BROWSER",
        ("pager",),
        do=reading.open_html,
    ),
    Action(
        "answer_invitation",
        ("A",),
        "answer the invitation shown: accept, tentative or decline (an RFC 5546 REPLY)",
        ("pager",),
        do=invite.answer,
    ),
    Action(
        "unsubscribe",
        ("U",),
        "leave the mailing list (one-click after asking, or a mail to review)",
        ("pager",),
        do=unsubscribe.unsubscribe,
    ),
    Action(
        "errors",
        ("E",),
        "error log",
        _ALL,
        do=help.show_errors,
        command=Command("errors", "the error log"),
    ),
    Action(
        "hints",
        ("f1",),
        "key hints on/off",
        _ALL,
        do=lambda app: app.toggle_hints(),
        command=Command("hints on|off", "the key hint line", run=commands.hints),
    ),
    Action("redraw", ("ctrl l",), "redraw the screen", _ALL, do=lambda app: app.redraw()),
    # the attachment list of a message (v)
    Action(
        "open_attachment",
        ("enter",),
        "open the attachment (mailcap; a message: in the pager)",
        ("attachments",),
        "Open",
        do=attachments_view.open_,
    ),
    Action(
        "save_attachment",
        ("s",),
        "save the attachment: to a file, or into a folder (never overwrites)",
        ("attachments",),
        "Save",
        do=attachments_view.save,
    ),
    Action(
        "contact",
        ("W",),
        "the sender's messages, to and from them, in every folder (contact view)",
        _MAIL,
        do=contactview.sender_contact,
        command=Command(
            "contact [ADDRESS]", "messages to and from ADDRESS", run=contactview.command
        ),
    ),
    # the outbox (@): what waits to be sent
    Action(
        "outbox",
        ("@",),
        "the outbox: messages waiting to be sent, their state and last error",
        ("index", "pager", "sidebar"),
        do=outbox.open_view,
    ),
    Action(
        "resend",
        ("y",),
        "send the message again now (also one held: login refused, delivery uncertain)",
        ("outbox",),
        "SendAgain",
        do=outbox.resend,
    ),
    Action(
        "drop_queued",
        ("d",),
        "drop the message from the outbox (after asking)",
        ("outbox",),
        "Drop",
        do=outbox.drop,
    ),
    Action(
        "take_back",
        ("Z",),
        "take back the message just sent (in its undo window) into the review screen",
        ("index", "pager", "sidebar", "outbox"),
        do=undo.take_back,
    ),
    # the review screen of compose
    Action("send", ("y",), "send the message", ("review",), "Send", do=composeflow.send),
    Action(
        "send_later",
        ("L",),
        "send at a time: 18:00, tomorrow 9:00, +2h (kept in the outbox until then)",
        ("review",),
        "Later",
        do=composeflow.send_later,
    ),
    Action("edit", ("e",), "edit the body again", ("review",), "Edit", do=composeflow.edit),
    Action(
        "edit_headers",
        ("E",),
        "edit To/Cc/Bcc/Subject",
        ("review",),
        "Headers",
        do=composeflow.edit_headers,
    ),
    Action("attach", ("a",), "attach a file", ("review",), "Attach", do=composeflow.attach),
    Action(
        "detach",
        ("D",),
        "remove the selected attachment",
        ("review",),
        "Detach",
        do=composeflow.detach,
    ),
    Action(
        "html",
        ("H",),
        "add / drop an HTML alternative",
        ("review",),
        "HTML",
        do=composeflow.html,
    ),
    Action(
        "pgp_sign",
        ("S",),
        "sign with OpenPGP or not",
        ("review",),
        "Sign",
        do=composeflow.toggle_sign,
    ),
    Action(
        "pgp_encrypt",
        ("X",),
        "encrypt with OpenPGP or not",
        ("review",),
        "Encrypt",
        do=composeflow.toggle_encrypt,
    ),
    Action(
        "postpone",
        ("P",),
        "postpone: save to Drafts",
        ("review",),
        "Postpone",
        do=composeflow.postpone,
    ),
)

# the actions keys can be bound to (config/keys.toml lists them); the rest are commands only
ACTIONS: tuple[Action, ...] = tuple(a for a in REGISTRY if a.views)
COMMANDS: tuple[Action, ...] = tuple(a for a in REGISTRY if a.command is not None)
ACTION_NAMES = frozenset(a.name for a in ACTIONS)
VIEWS = ("index", "pager", "sidebar", "review", "help", "attachments", "outbox")


class KeyMap:
    """Key -> action for each view, after the user's ``[keys]`` overrides."""

    def __init__(self, overrides: Mapping[str, object] | None = None) -> None:
        self.actions: dict[str, Action] = {a.name: a for a in ACTIONS}
        for name, value in (overrides or {}).items():
            if name not in self.actions:
                raise ConfigError(
                    f"[keys] {name}: no such action",
                    hint="see config/keys.toml or the help screen (?) for the action names",
                )
            keys = _as_keys(name, value)
            self.actions[name] = replace(self.actions[name], keys=keys)
        self._by_view: dict[str, dict[str, str]] = {}
        for view in VIEWS:
            table: dict[str, str] = {}
            for a in self.actions.values():
                if "all" in a.views or view in a.views:
                    for k in a.keys:
                        # A view's own binding wins over a global one (N: unread vs. match).
                        if k not in table or "all" in self.actions[table[k]].views:
                            table[k] = a.name
            self._by_view[view] = table

    def action(self, view: str, key: str) -> str | None:
        return self._by_view.get(view, {}).get(key)

    def keys_for(self, name: str) -> tuple[str, ...]:
        return self.actions[name].keys

    def label(self, name: str) -> str:
        keys = self.actions[name].keys
        return _pretty(keys[0]) if keys else "(unbound)"

    def hints(self, view: str) -> list[tuple[str, str]]:
        out = []
        # "? Help" and "q Back" first (as Alpine), then the view's own keys, then global ones.
        first = [self.actions["help"], self.actions["back"]]
        own = [a for a in self.actions.values() if view in a.views and a not in first]
        rest = [a for a in self.actions.values() if a not in own and a not in first]
        for a in first + own + rest:
            shown = a.hint and a.keys and ("all" in a.views or view in a.views)
            if shown and self.action(view, a.keys[0]) == a.name:
                out.append((_pretty(a.keys[0]), a.hint))
        return out

    def command(self, word: str) -> Action | None:
        """The action a ``:`` command word names (``q`` is ``quit``), if any."""
        for a in COMMANDS:
            assert a.command is not None
            if word == a.command.word or word in a.command.aliases:
                return a
        return None

    def command_words(self) -> list[str]:
        return [a.command.word for a in COMMANDS if a.command is not None]

    def command_lines(self) -> list[tuple[str, str]]:
        """(usage, what) for every ``:`` command, in table order."""
        return [(a.command.usage, a.command.help) for a in COMMANDS if a.command is not None]

    def help_lines(self) -> list[tuple[str, str, str]]:
        """(where, keys, what) for every action, in table order."""
        out = []
        for a in self.actions.values():
            where = "everywhere" if "all" in a.views else ", ".join(a.views)
            keys = ", ".join(_pretty(k) for k in a.keys) or "(unbound)"
            out.append((where, keys, a.help))
        return out


def _as_keys(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(
        f'[keys] {name}: expected a key or a list of keys, like {name} = "x"',
    )


def _pretty(key: str) -> str:
    return {
        " ": "Space",
        "enter": "Enter",
        "tab": "Tab",
        "page down": "PgDn",
        "page up": "PgUp",
        "home": "Home",
        "end": "End",
        "up": "Up",
        "down": "Down",
        "f1": "F1",
        "ctrl l": "^L",
    }.get(key, key)


def default_keys_toml(actions: Iterable[Action] = ACTIONS) -> str:
    """The text of ``config/keys.toml``: every action with its default keys."""
    lines = [
        "# tmail key bindings: copy the lines you want to change under [keys] in config.toml.",
        "# A value is one key or a list; names as urwid spells them (enter, tab, page down,",
        "# ctrl l, f1, meta x). Generated from tmail/ui/keys.py; the help screen (?) shows them.",
        "",
        "[keys]",
    ]
    for a in actions:
        value = (
            f'"{a.keys[0]}"'
            if len(a.keys) == 1
            else "[" + ", ".join(f'"{k}"' for k in a.keys) + "]"
        )
        lines.append(f"{a.name} = {value}".ljust(40) + f"# {a.help}")
    return "\n".join(lines) + "\n"
