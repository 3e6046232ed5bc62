"""The key map: every action the UI can do, its default keys (mutt-like) and a line of help.

Users rebind keys under ``[keys]`` in the config file (``reply = "r"``, ``quit = ["q", "x"]``);
``config/keys.toml`` lists every action with its default. The help screen and the hint line are
generated from this table, so they never disagree with what the keys do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tmail.core.errors import ConfigError


@dataclass(frozen=True)
class Action:
    name: str
    keys: tuple[str, ...]
    help: str
    views: tuple[str, ...]  # where it works: index, pager, sidebar, review, or "all"
    hint: str = ""  # short label for the hint line; empty: not shown there


ACTIONS: tuple[Action, ...] = (
    Action(
        "down",
        ("j", "down"),
        "next line",
        ("index", "pager", "sidebar", "help", "attachments", "review", "outbox"),
    ),
    Action(
        "up",
        ("k", "up"),
        "previous line",
        ("index", "pager", "sidebar", "help", "attachments", "review", "outbox"),
    ),
    Action(
        "page_down",
        ("page down", " "),
        "next page (at the end of a message: the next message)",
        ("index", "pager", "help"),
    ),
    Action("page_up", ("page up", "-"), "previous page", ("index", "pager", "help")),
    Action("top", ("home",), "first line", ("index", "pager", "help")),
    Action("bottom", ("end", "G"), "last line", ("index", "pager", "help")),
    Action("next_message", ("J",), "next message", ("pager",)),
    Action("prev_message", ("K",), "previous message", ("pager",)),
    Action("open", ("enter",), "open the message or folder", ("index", "sidebar"), "Open"),
    Action("back", ("q",), "back to the previous view; quit from the index", ("all",), "Back"),
    Action("quit", ("Q",), "quit tmail", ("all",)),
    Action("help", ("?",), "this help", ("all",), "Help"),
    Action("command", (":",), "command line (:help lists commands)", ("all",)),
    Action(
        "search",
        ("/",),
        "search (from:, subject:, is:unread, ...) / find in message",
        ("index", "pager"),
        "Search",
    ),
    Action("next_match", ("n",), "next match of the text search (round past the end)", ("pager",)),
    Action(
        "prev_match",
        ("N",),
        "previous match of the text search (with none: mark unread / read)",
        ("pager",),
    ),
    Action("reply", ("r",), "reply to the sender", ("index", "pager"), "Reply"),
    Action(
        "reply_all",
        ("g",),
        "reply to all (your own addresses dropped)",
        ("index", "pager"),
        "ReplyAll",
    ),
    Action(
        "forward",
        ("f",),
        "forward, inline (attachments kept) or as an attachment",
        ("index", "pager"),
        "Fwd",
    ),
    Action("compose", ("m",), "write a new message", ("index", "pager", "sidebar"), "Mail"),
    Action("resume", ("R",), "continue a postponed message (in Drafts)", ("index", "pager")),
    Action(
        "delete",
        ("d",),
        "move to Trash (pushed by the next sync); in Trash: for good, after asking",
        ("index", "pager"),
        "Delete",
    ),
    Action(
        "move",
        ("s",),
        "move to a folder (asks before making a new one)",
        ("index", "pager"),
        "Move",
    ),
    Action("flag", ("F",), "flag / unflag", ("index", "pager"), "Flag"),
    Action("toggle_unread", ("N",), "mark unread / read", ("index",), "Unread"),
    Action("threads", ("t",), "thread view on/off", ("index",), "Threads"),
    Action("sort", ("o",), "sort by date / from / subject / size", ("index",), "Sort"),
    Action("reverse", ("O",), "reverse the order", ("index",)),
    Action("sync", ("$",), "fetch and send mail now", ("all",), "Sync"),
    Action("next_unread", ("tab",), "next unread message", ("index", "pager"), "NextNew"),
    Action("change_folder", ("c",), "go to a folder (sidebar)", ("index", "pager"), "Folder"),
    Action(
        "sidebar",
        ("B",),
        "folder list (sidebar) on/off; by default it hides under 100 columns",
        ("index", "pager", "sidebar"),
    ),
    Action("attachments", ("v",), "attachments: save or open", ("pager",), "Attach"),
    Action("raw", ("h",), "raw source on/off", ("pager",), "Raw"),
    Action("charset", ("C",), "view as charset...", ("pager",), "Charset"),
    Action("open_link", ("u",), "open link number N in $BROWSER", ("pager",), "Link"),
    Action("open_html", ("b",), "open the HTML original in $BROWSER", ("pager",)),
    Action("errors", ("E",), "error log", ("all",)),
    Action("hints", ("f1",), "key hints on/off", ("all",)),
    Action("redraw", ("ctrl l",), "redraw the screen", ("all",)),
    # the attachment list of a message (v)
    Action(
        "open_attachment",
        ("enter",),
        "open the attachment (mailcap; a message: in the pager)",
        ("attachments",),
        "Open",
    ),
    Action(
        "save_attachment",
        ("s",),
        "save the attachment: to a file, or into a folder (never overwrites)",
        ("attachments",),
        "Save",
    ),
    # the outbox (@): what waits to be sent
    Action(
        "outbox",
        ("@",),
        "the outbox: messages waiting to be sent, their state and last error",
        ("index", "pager", "sidebar"),
    ),
    Action(
        "resend",
        ("y",),
        "send the message again now (also one held: login refused, delivery uncertain)",
        ("outbox",),
        "SendAgain",
    ),
    Action(
        "drop_queued",
        ("d",),
        "drop the message from the outbox (after asking)",
        ("outbox",),
        "Drop",
    ),
    # the review screen of compose
    Action("send", ("y",), "send the message", ("review",), "Send"),
    Action("edit", ("e",), "edit the body again", ("review",), "Edit"),
    Action("edit_headers", ("E",), "edit To/Cc/Bcc/Subject", ("review",), "Headers"),
    Action("attach", ("a",), "attach a file", ("review",), "Attach"),
    Action("detach", ("D",), "remove the selected attachment", ("review",), "Detach"),
    Action("html", ("H",), "add / drop an HTML alternative", ("review",), "HTML"),
    Action("postpone", ("P",), "postpone: save to Drafts", ("review",), "Postpone"),
)

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
            a = self.actions[name]
            self.actions[name] = Action(a.name, keys, a.help, a.views, a.hint)
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
