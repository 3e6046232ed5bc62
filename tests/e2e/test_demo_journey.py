"""A newcomer's first minutes with ``tmail --demo``, in a real terminal (tmux)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.tmux import TMAIL, Pane, editor_script, tmux_missing

pytestmark = pytest.mark.skipif(tmux_missing() is not None, reason=str(tmux_missing()))


@pytest.fixture
def pane(tmp_path: Path) -> Iterator[Pane]:
    editor = editor_script(tmp_path, "Thanks, the numbers look right.")
    p = Pane(
        [str(TMAIL), "--demo"],
        env={"EDITOR": str(editor), "VISUAL": str(editor), "HOME": str(tmp_path)},
        cwd=tmp_path,
    )
    try:
        yield p
    finally:
        p.close()


def test_read_search_reply_send_and_see_it_arrive(pane: Pane) -> None:
    pane.wait_for("Welcome to the tmail demo")
    screen = pane.wait_for("? Help")  # the first line can be read before the last is drawn
    assert "All inboxes" in screen and "Welcome to the tmail demo" in screen

    # the help screen is enough to find one's way
    pane.keys("?")
    pane.wait_for("reply to all (your own addresses dropped)")
    pane.keys("q")

    # search for the KOI8-R letter and read it
    pane.keys("/")
    pane.wait_for("Search:")
    pane.keys("subject:квартал", "Enter")
    pane.wait_for("search: subject:квартал")
    pane.keys("Enter")
    screen = pane.wait_for("Пересылаю отчёт за третий квартал.")
    assert "From: Анна Петрова <anna@petrova.example>" in screen

    # reply: the form, the editor, the review screen, send
    pane.keys("r")
    pane.wait_for("Subject: Re: Отчёт за квартал")
    pane.keys("Enter")
    screen = pane.wait_for("Compose: review and send")
    assert "Thanks, the numbers look right." in screen
    assert "> Здравствуйте!" in screen
    pane.keys("y")
    pane.wait_for("sent: Re: Отчёт за квартал")

    # back to the inbox: the reply arrived, unread, on top; $ syncs
    pane.keys("q", "q", "Home")
    pane.keys("$")
    screen = pane.wait_for("synced")
    top = next(line for line in screen.splitlines() if "│" in line)
    assert "Re: Отчёт за квартал" in top

    pane.keys("Q")
    pane.wait_for("TMAIL-EXITED=0")


def test_a_first_start_without_accounts_says_what_to_do(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    p = Pane([str(TMAIL)], env=env, cwd=tmp_path)
    try:
        screen = p.wait_for("TMAIL-EXITED=")
    finally:
        p.close()
    assert "tmail: no accounts configured" in screen
    assert "run 'tmail account add'" in screen and "'tmail --demo'" in screen
    assert "TMAIL-EXITED=2" in screen and "Traceback" not in screen


def test_closing_the_terminal_removes_the_demo_mailbox(tmp_path: Path) -> None:
    # a closed window (SIGHUP) must end tmail as Q does, not leave a mailbox behind in /tmp
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    p = Pane([str(TMAIL), "--demo"], env={"HOME": str(tmp_path), "TMPDIR": str(tmp)}, cwd=tmp_path)
    try:
        p.wait_for("Welcome to the tmail demo")
        assert [d.name[:11] for d in tmp.iterdir()] == ["tmail-demo-"]
    finally:
        p.close()  # the tmux server goes: the terminal hangs up
    deadline = time.monotonic() + 10
    while any(tmp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(tmp.iterdir()) == []


def test_ctrl_c_asks_before_quitting(pane: Pane) -> None:
    pane.wait_for("Welcome to the tmail demo")
    pane.keys("\x03")  # Ctrl-C: the terminal sends SIGINT
    pane.wait_for("Quit tmail? (y/n)")
    pane.keys("n", "j")
    screen = pane.screen()
    assert "Welcome to the tmail demo" in screen and "TMAIL-EXITED" not in screen
    pane.keys("\x03")
    pane.wait_for("Quit tmail? (y/n)")
    pane.keys("y")
    screen = pane.wait_for("TMAIL-EXITED=0")
    assert "Traceback" not in screen and "interrupted" not in screen


def test_a_bug_while_drawing_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    # a fault planted in the index rows' drawing, past every key and event guard
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(
        "import tmail.ui.index as index\n"
        "def render(self, size, focus=False):\n"
        "    raise ZeroDivisionError('planted')\n"
        "index.RowWidget.render = render\n"
    )
    p = Pane([str(TMAIL), "--demo"], env={"HOME": str(tmp_path), "PYTHONPATH": str(hook)})
    try:
        screen = p.wait_for("TMAIL-EXITED=")
    finally:
        p.close()
    assert "tmail: internal error: ZeroDivisionError('planted')" in screen
    assert "Traceback" not in screen and "TMAIL-EXITED=1" in screen
