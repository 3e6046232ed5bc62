"""The one-line prompt in place of the key hints: a line to type (``Search:``, ``Save to:``,
``:``) with Tab completion, or a one-key question (``Quit tmail? (y/n)``); and the path
completer the file prompts use.

While a prompt is open every key goes to :meth:`Prompt.key` (the app asks first).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import urwid

from tmail.core.safe import safe_line
from tmail.ui.lineedit import LineEdit

if TYPE_CHECKING:
    from tmail.ui.app import App

Completer = Callable[[str], list[str]]


@dataclass
class _Open:
    """What the open prompt does with its answer: a line (``answer``, ``complete``) or a key
    (``choices``; any other key cancels)."""

    answer: Callable[[str], None] | None = None
    complete: Completer | None = None
    choices: dict[str, Callable[[], None]] = field(default_factory=dict)


class Prompt:
    def __init__(self, app: App) -> None:
        self.app = app
        self.edit: urwid.Edit = LineEdit()
        self._open: _Open | None = None

    @property
    def is_open(self) -> bool:
        return self._open is not None

    def ask(
        self,
        caption: str,
        on_answer: Callable[[str], None],
        *,
        text: str = "",
        complete: Completer | None = None,
    ) -> None:
        # a path filled in (save, attach) starts over at a typed "/" or "~" (see lineedit)
        restart = "/~" if complete is path_complete else ""
        self.edit = LineEdit(("prompt", caption), text, restart_chars=restart)
        if restart and text and not self.app.status.note.error:  # an error said before stays
            self.app.notice("^U clears; a first / or ~ starts a new path")
        self._show(_Open(answer=on_answer, complete=complete))

    def ask_key(self, caption: str, choices: dict[str, Callable[[], None]]) -> None:
        """A one-key question: ``Quit tmail? (y/n)``. Any other key cancels."""
        self.edit = LineEdit(("prompt", caption))
        self._show(_Open(choices=choices))

    def _show(self, prompt: _Open) -> None:
        app = self.app
        self._open = prompt
        app.bottom.original_widget = self.edit
        app.frame.focus_position = "footer"
        app.footer.focus_position = 1

    def close(self) -> None:
        self._open = None
        self.app.frame.focus_position = "body"
        self.app.status.update_hints()

    def key(self, key: str) -> None:
        prompt = self._open
        assert prompt is not None
        if prompt.answer is None:  # a one-key question
            self.close()
            action = prompt.choices.get(key)
            if action is not None:
                action()
            else:
                self.app.notice("cancelled")
            return
        if key == "esc" or (key == "ctrl g"):
            self.close()
            self.app.notice("cancelled")
            return
        if key == "enter":
            answer = self.edit.edit_text
            self.close()
            prompt.answer(answer)
            return
        if key == "tab":
            if prompt.complete is not None:
                self._complete(prompt.complete)
            return
        self.edit.keypress((200,), key)

    def _complete(self, complete: Completer) -> None:
        options = complete(self.edit.edit_text)
        if len(options) == 1:
            self.edit.set_edit_text(options[0])
            self.edit.set_edit_pos(len(options[0]))
        elif options:
            common = os.path.commonprefix(options)  # noqa: RUF071 (text, not paths)
            self.edit.set_edit_text(common)
            self.edit.set_edit_pos(len(common))
            self.app.notice("  ".join(safe_line(o) for o in options[:8]))


def typed_path(text: str) -> str:
    """The path a person typed into a prompt that was filled with a folder: typing ``/tmp/x`` or
    ``~/x`` after the filled-in ``/home/me/`` starts over there (as Emacs's minibuffer does), so
    ``/home/me//tmp/x`` is ``/tmp/x``; then ``~`` expanded."""
    text = text.strip()
    cut = max(text.rfind("//") + 1, text.rfind("/~") + 1)
    return os.path.expanduser(text[cut:] if cut > 0 else text)


def path_complete(text: str) -> list[str]:
    """Tab in a file prompt: the files and folders starting so (folders with a ``/``)."""
    expanded = typed_path(text)
    out = []
    for p in sorted(glob.glob(glob.escape(expanded) + "*"))[:50]:
        out.append(p + "/" if os.path.isdir(p) else p)
    return out
