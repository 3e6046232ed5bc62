"""The action registry (tmail/ui/keys.py) is the one list of what keys and ':' commands do."""

from __future__ import annotations

from tests.tui.conftest import Harness
from tmail.ui.keys import ACTIONS, REGISTRY, KeyMap


def test_every_action_does_something_and_every_command_is_one_word() -> None:
    for a in REGISTRY:
        assert a.do is not None or a.nav or (a.command and a.command.run), a.name
    words = [w for a in REGISTRY if a.command for w in (a.command.word, *a.command.aliases)]
    assert len(words) == len(set(words))
    # a command-only entry is no key action: [keys] cannot bind it, keys.toml does not list it
    assert {a.name for a in REGISTRY} - {a.name for a in ACTIONS} == {"folder", "inboxes"}


def test_the_help_screen_lists_every_command_of_the_registry(ui: Harness) -> None:
    ui.press("?")
    screen = ui.app.render_text(120, 200)
    for usage, what in KeyMap().command_lines():
        assert any(usage in line and what in line for line in screen.splitlines()), usage


def test_a_command_runs_the_action_of_its_key(ui: Harness) -> None:
    ui.press(":", *"threads", "enter")  # as t
    assert "threads]" in ui.screen().splitlines()[-2]
    ui.press("t")
    assert "threads]" not in ui.screen().splitlines()[-2]
    ui.press(":", *"errors", "enter")  # as E
    assert "Errors (newest last)" in ui.screen()
