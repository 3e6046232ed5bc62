"""A one-line text field with readline's keys, for every prompt of the reader.

urwid's ``Edit`` knows only the arrows, Home/End, Backspace and Delete unless its command map
binds readline's keys (``CommandMap.bind_readline``); this field does, adds Ctrl-B/Ctrl-F, and
gives Ctrl-W readline's ``unix-filename-rubout`` (back to a space *or a slash*), so that in
``/home/me/Downloads/report.pdf`` it takes ``report.pdf``, then ``Downloads/``:

==============  ==========================================================
Ctrl-A, Home    start of the line
Ctrl-E, End     end of the line
Ctrl-B, Ctrl-F  one character back / forward (as the arrows)
Alt-B, Alt-F    one word back / forward
Ctrl-H          delete the character before the cursor (the terminal's Backspace)
Ctrl-D          delete the character under the cursor (as Delete)
Ctrl-U          delete from the start of the line to the cursor
Ctrl-K          delete from the cursor to the end of the line
Ctrl-W          delete the word, or the path component, before the cursor
Alt-Backspace   delete the word before the cursor; Alt-D the word after it
Ctrl-Y          put back the text deleted last; Ctrl-_ undo
==============  ==========================================================

A prompt filled with a path (the save and attach prompts) starts over when the first key typed
is ``/`` or ``~``: a new absolute path replaces the suggestion instead of being appended to it
(``/home/me/report.pdf/tmp/saved/``). Any other first key edits the suggestion as usual; later,
``//`` or ``/~`` inside the text starts over too (see :func:`tmail.ui.prompt.typed_path`).
"""

from __future__ import annotations

import re

import urwid
from urwid.command_map import Command

from tmail.ui.urwidtypes import Size

_COMMANDS = urwid.command_map.copy()
_COMMANDS.bind_readline()
_COMMANDS["ctrl b"] = Command.LEFT
_COMMANDS["ctrl f"] = Command.RIGHT
_COMMANDS["ctrl w"] = None  # ours below: stops at "/" too

# For the help screen: (keys, what they do in a prompt).
HELP: tuple[tuple[str, str], ...] = (
    ("^A, ^E", "start / end of the line"),
    ("^B, ^F, M-b, M-f", "a character / a word back, forward"),
    ("^H, ^D", "delete the character before / under the cursor"),
    ("^U, ^K", "delete to the start / to the end of the line"),
    ("^W", "delete the word or path component before the cursor"),
    ("M-Backspace, M-d", "delete the word before / after the cursor"),
    ("^Y, ^_", "put back what was deleted; undo"),
    ("/ or ~ first", "in the save and attach prompts: a new path instead of the suggestion"),
    ("Tab, Esc, ^G", "complete; cancel"),
)

# What Ctrl-W takes: the last run of non-space, non-slash characters with its slash, or a slash.
_PIECE_END = re.compile(r"(?:[^\s/]+/?|/)\s*$")


class LineEdit(urwid.Edit):
    """``urwid.Edit`` with readline's keys; ``restart_chars`` as first key start a new text."""

    def __init__(self, caption: object = "", text: str = "", *, restart_chars: str = "") -> None:
        super().__init__(caption, text, undo_limit=100, kill_buffer=[])  # type: ignore[arg-type]
        self._command_map = _COMMANDS
        self._restart_chars = restart_chars if text else ""

    def keypress(self, size: Size, key: str) -> str | None:
        restart, self._restart_chars = self._restart_chars, ""
        if restart and key in restart and self.edit_pos == len(self.edit_text):
            self.set_edit_text("")
        if key == "ctrl w" or key == "ctrl h":
            text, pos = self.edit_text, self.edit_pos
            if key == "ctrl h":
                start = max(0, pos - 1)
            else:
                m = _PIECE_END.search(text, 0, pos)
                start = m.start() if m else 0
            if start == pos:
                return None
            if key == "ctrl w" and self.kill_buffer is not None:
                self.kill_buffer.append(text[start:pos])
            self.set_edit_text(text[:start] + text[pos:])
            self.set_edit_pos(start)
            return None
        return super().keypress(size, key)  # type: ignore[arg-type]
