"""Text as the terminal will lay it out.

urwid measures a character's width from its own table; terminals use theirs. Where the two
disagree, a line urwid thinks fits runs past the edge and leaves stale cells behind (garbling).
The common case in mail is an emoji with the emoji presentation selector (U+FE0F, "☺️", "✔️"):
urwid counts the base character as one column and the selector as none, terminals draw two.
Dropping the selectors (U+FE0E, U+FE0F) shows the same symbol in text style, one column in
both, so the line fits. Display only: stored mail and replies keep the original characters.
"""

from __future__ import annotations

_SELECTORS = {0xFE0E: None, 0xFE0F: None}


def screen_text(text: str) -> str:
    """``text`` (already terminal-safe) with the characters urwid and terminals measure apart
    removed."""
    return text.translate(_SELECTORS) if "\ufe0e" in text or "\ufe0f" in text else text
