"""Background polling without a terminal (issue 18 item 5): the systemd user unit in config/ is
valid and its ExecStart runs ``tmail sync --watch``, which shows a desktop notification on new
mail by default (notify-send), and stops cleanly on the unit's KillSignal."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.integration.test_sync_cli import account_toml
from tests.support.mailstack import MailStack
from tests.support.sessions import message

pytestmark = pytest.mark.stack

UNIT = Path(__file__).resolve().parents[2] / "config" / "tmail-sync.service"
TMAIL = Path(sys.executable).with_name("tmail")


def unit_settings() -> dict[str, str]:
    settings = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    return settings


def recording_notify_send(folder: Path) -> Path:
    """A notify-send that writes its arguments, one a line, to ``calls`` beside it."""
    folder.mkdir()
    program = folder / "notify-send"
    program.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" >> {folder / "calls"}\n')
    program.chmod(0o755)
    return folder / "calls"


def test_the_unit_file_is_valid_for_systemd(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is missing (Debian's systemd package)")
    unit = tmp_path / "tmail-sync.service"
    unit.write_text(UNIT.read_text().replace("%h/.local/bin/tmail", str(TMAIL)))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_the_units_command_notifies_on_new_mail_and_stops_on_its_kill_signal(
    mailstack: MailStack, mail_user: MailUser, tmp_path: Path
) -> None:
    settings = unit_settings()
    assert settings["ExecStart"].startswith("%h/.local/bin/tmail ")
    argv = [str(TMAIL), *settings["ExecStart"].split()[1:]]
    assert argv[1:] == ["sync", "--watch"]
    mailstack.bulk_save(mail_user.name, [message(f"n{i}") for i in range(2)])
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[general]\ndata_dir = "{tmp_path / "data"}"\n'
        + account_toml(mailstack, "home", mail_user, "imap", "tls", mailstack.ports.imaps)
    )
    calls = recording_notify_send(tmp_path / "bin")
    env = {
        **os.environ,
        "TMAIL_CONFIG": str(cfg),
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    log = tmp_path / "watch.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=out, env=env, stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while not calls.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert calls.exists(), log.read_text()
            time.sleep(0.2)  # the script's printf may still be writing
            assert calls.read_text().splitlines() == [
                "--app-name=tmail",
                "--icon=mail-unread",
                "tmail: 2 new messages",
                "in home",
            ]
            proc.send_signal(getattr(signal, unit_settings()["KillSignal"]))
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
