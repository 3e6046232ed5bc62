"""Colours: a default theme readable on dark and light terminals, and monochrome-safe.

The default uses only the terminal's own foreground/background ("default") plus bold, underline
and standout for emphasis, and a few colours that read on both black and white (no yellow text,
no white-on-default). Each entry also names its monochrome attribute, so with ``TERM=vt100`` or
``NO_COLOR`` the screen keeps its meaning through bold/standout/underline. Users override entries
under ``[theme]``: ``index_unread = "bold,dark blue"`` or ``{ fg = "...", bg = "..." }``.
"""

from __future__ import annotations

from collections.abc import Mapping

from tmail.core.errors import ConfigError

# name: (foreground, background, monochrome)
DEFAULT: dict[str, tuple[str, str, str]] = {
    "body": ("default", "default", ""),
    "title": ("bold", "default", "bold"),
    "status": ("black", "light gray", "standout"),
    "status_error": ("white,bold", "dark red", "standout,bold"),
    "hint_key": ("black,bold", "light gray", "standout"),
    "hint": ("default", "default", ""),
    "prompt": ("bold", "default", "bold"),
    "index": ("default", "default", ""),
    "index_unread": ("bold", "default", "bold"),
    "index_flagged": ("dark red,bold", "default", "bold,underline"),
    "index_deleted": ("dark gray", "default", ""),
    "index_focus": ("black", "light cyan", "standout"),
    "tree": ("dark cyan", "default", ""),
    "sidebar": ("default", "default", ""),
    "sidebar_unread": ("bold", "default", "bold"),
    "sidebar_focus": ("black", "light cyan", "standout"),
    "sidebar_current": ("dark blue,bold", "default", "underline"),
    "header_name": ("dark blue,bold", "default", "bold"),
    "header_value": ("default", "default", ""),
    "quote": ("dark gray", "default", ""),
    "quote2": ("dark green", "default", ""),
    "link": ("dark blue,underline", "default", "underline"),
    "attachment": ("dark magenta", "default", "underline"),
    "match": ("black", "yellow", "standout"),
    "signature": ("dark gray", "default", ""),
    "field": ("default", "default", "underline"),
    "field_focus": ("black", "light cyan", "standout"),
    "warning": ("dark red,bold", "default", "bold"),
    "notice": ("dark green,bold", "default", "bold"),
}


def palette(overrides: Mapping[str, object] | None = None) -> list[tuple[str, str, str, str]]:
    """urwid palette entries (name, fg, bg, mono) after the user's ``[theme]``."""
    entries = dict(DEFAULT)
    for name, value in (overrides or {}).items():
        if name not in entries:
            raise ConfigError(
                f"[theme] {name}: no such element",
                hint="known: " + ", ".join(sorted(DEFAULT)),
            )
        fg, bg, mono = entries[name]
        if isinstance(value, str):
            fg = value
        elif isinstance(value, Mapping):
            fg = str(value.get("fg", fg))
            bg = str(value.get("bg", bg))
            mono = str(value.get("mono", mono))
        else:
            raise ConfigError(f'[theme] {name}: expected "fg" or {{ fg = "...", bg = "..." }}')
        entries[name] = (fg, bg, mono)
    return [(name, fg, bg, mono) for name, (fg, bg, mono) in entries.items()]


def default_theme_toml() -> str:
    lines = [
        "# tmail colours: copy entries under [theme] in config.toml to change them.",
        "# fg/bg are urwid colour names (default, black, dark red, light cyan, ..., or #rgb);",
        "# add ,bold ,underline ,standout; mono is used on terminals without colour.",
        "",
        "[theme]",
    ]
    for name, (fg, bg, mono) in DEFAULT.items():
        lines.append(f'{name} = {{ fg = "{fg}", bg = "{bg}", mono = "{mono}" }}')
    return "\n".join(lines) + "\n"
