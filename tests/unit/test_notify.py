"""The default desktop notification and the on_new_mail hook that replaces it (issue 18 item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_sync_runtime import account
from tmail.runtime.watch import run_hook


@pytest.fixture
def calls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A notify-send on PATH that writes its arguments, one a line, to the returned file."""
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "notify-send"
    out = tmp_path / "calls"
    program.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {out}\n')
    program.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))
    return out


def test_new_mail_shows_a_notification_by_default(calls: Path) -> None:
    logged: list[str] = []
    run_hook(account(), 1, logged.append)
    assert calls.read_text().splitlines() == [
        "--app-name=tmail",
        "--icon=mail-unread",
        "tmail: 1 new message",
        "in work",
    ]
    assert logged == []


def test_no_new_mail_no_notification(calls: Path) -> None:
    run_hook(account(), 0, print)
    assert not calls.exists()


def test_on_new_mail_replaces_the_notification(calls: Path, tmp_path: Path) -> None:
    hook = tmp_path / "hook"
    run_hook(account(on_new_mail=f"echo $TMAIL_NEW_COUNT > {hook}"), 2, print)
    assert hook.read_text() == "2\n"
    assert not calls.exists()


def test_an_empty_on_new_mail_turns_notifications_off(calls: Path) -> None:
    run_hook(account(on_new_mail=""), 2, print)
    assert not calls.exists()


def test_without_notify_send_nothing_happens_and_nothing_is_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    logged: list[str] = []
    run_hook(account(), 3, logged.append)
    assert logged == []
