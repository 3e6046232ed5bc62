"""The reader in a real terminal (tmux) at 80x24 and 120x40: the folder list, HTML width, the
text search and the save prompt, as a person uses them on ``tmail --demo``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.tmux import TMAIL, Pane, tmux_missing

pytestmark = pytest.mark.skipif(tmux_missing() is not None, reason=str(tmux_missing()))


def _demo(tmp_path: Path, size: tuple[int, int]) -> Iterator[Pane]:
    p = Pane([str(TMAIL), "--demo"], env={"HOME": str(tmp_path)}, cwd=tmp_path, size=size)
    try:
        p.wait_for("Welcome to the tmail demo")
        p.wait_for("? Help")
        yield p
    finally:
        p.close()


@pytest.fixture
def narrow(tmp_path: Path) -> Iterator[Pane]:
    yield from _demo(tmp_path, (80, 24))


@pytest.fixture
def wide(tmp_path: Path) -> Iterator[Pane]:
    yield from _demo(tmp_path, (120, 40))


def _prompt_is(pane: Pane, text: str) -> None:
    """Wait until the bottom line is ``text`` exactly."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if pane.screen().splitlines()[-1].rstrip() == text:
            return
        time.sleep(0.1)
    raise AssertionError(f"the prompt is not {text!r}:\n{pane.screen()}")


def _body(screen: str) -> list[str]:
    return screen.splitlines()[:-2]  # without the status and hint lines


def _no_folder_list(screen: str) -> bool:
    return not any("│" in line for line in _body(screen))


def test_at_80_columns_the_message_has_the_width_and_b_brings_the_folders(narrow: Pane) -> None:
    assert not any("│" in line for line in _body(narrow.screen()))  # no folder list
    narrow.keys("/", "subject:weekly", "Enter")
    narrow.wait_for("search: subject:weekly")
    narrow.keys("Enter")
    screen = narrow.wait_for("Welcome back!")
    assert not any("│" in line for line in _body(screen))
    assert "# The Weekly Terminal — issue" in screen

    # find in the message: every match, n and N both ways, round the ends
    narrow.keys("/", "terminal", "Enter")
    narrow.wait_for("match 1 of")
    narrow.keys("n")
    narrow.wait_for("match 2 of")
    narrow.keys("N")
    narrow.wait_for("match 1 of")
    narrow.keys("N")
    narrow.wait_for("hit the top, went on at the bottom")

    # a wider window: the folder list comes back by itself; narrower again: it goes
    narrow.resize(120, 40)
    screen = narrow.wait_for("│From: ")
    assert screen.splitlines()[0].startswith("All inboxes")
    narrow.resize(80, 24)
    # "│From: " contains "From: ": wait for the folder list to go, not for a text to be there
    narrow.wait_until("the folder list going at 80 columns", _no_folder_list)
    narrow.keys("B")
    screen = narrow.wait_for("│From: ")
    assert screen.splitlines()[0].startswith("All inbox")
    narrow.keys("B")
    narrow.wait_until("B hiding the folder list again", _no_folder_list)
    narrow.keys("q")
    # the pager's title also reads "search: subject:weekly": wait for its text to go
    screen = narrow.wait_until("q back to the results", lambda s: "Welcome back!" not in s)
    assert "search: subject:weekly" in screen
    assert _no_folder_list(screen)


def test_the_save_prompt_takes_a_typed_path_and_readline_keys(wide: Pane, tmp_path: Path) -> None:
    wide.keys("/", "has:attachment", "Enter")
    wide.wait_for("search: has:attachment")
    wide.keys("Enter", "v")
    wide.wait_for("Attachments")
    wide.keys("s")
    screen = wide.wait_for("Save to: ")
    suggested = next(ln for ln in screen.splitlines() if "Save to: " in ln)
    assert suggested.split("Save to: ", 1)[1].startswith(str(tmp_path) + "/")

    # a path typed over the suggestion replaces it (the issue: it was appended to it)
    wide.keys(f"{tmp_path}/first/")
    _prompt_is(wide, f"Save to: {tmp_path}/first/")
    wide.keys("Enter")
    wide.wait_for("saved ")
    first = list((tmp_path / "first").iterdir())
    assert len(first) == 1 and first[0].stat().st_size > 0

    # Ctrl-U clears, Ctrl-W takes a path component back
    wide.keys("s")
    wide.wait_for("Save to: ")
    wide.keys("C-u")
    _prompt_is(wide, "Save to:")
    wide.keys(f"{tmp_path}/wrong/")
    wide.keys("C-w")
    wide.keys("second/", "Enter")
    wide.wait_for("saved ")
    assert len(list((tmp_path / "second").iterdir())) == 1
    assert not (tmp_path / "wrong").exists()
    # nothing was made under the suggested file's name
    assert not any(p.is_dir() and p.suffix for p in tmp_path.iterdir())
