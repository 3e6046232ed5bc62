"""The desktop notification on new mail, the default when an account sets no ``on_new_mail``.

It runs ``notify-send`` (libnotify) where one is on PATH, with a fixed text naming only the
count and the account: nothing from a message reaches it (notification servers read markup).
It is best effort: without the program, a desktop or a session bus it does nothing and says
nothing (``sync --watch`` under systemd on a server must not log a failure every minute).
"""

from __future__ import annotations

import shutil
import subprocess

NOTIFY_SEND = "notify-send"


def notification_argv(program: str, account: str, new: int) -> list[str]:
    what = "1 new message" if new == 1 else f"{new} new messages"
    return [program, "--app-name=tmail", "--icon=mail-unread", f"tmail: {what}", f"in {account}"]


def notify_new_mail(account: str, new: int) -> bool:
    """Show the notification; True when ``notify-send`` ran and succeeded."""
    program = shutil.which(NOTIFY_SEND)
    if program is None or new <= 0:
        return False
    try:
        done = subprocess.run(
            notification_argv(program, account, new),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
