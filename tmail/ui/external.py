"""Programs that take the terminal for a while: the editor ($VISUAL, $EDITOR), the browser
($BROWSER) and attachment viewers (run-mailcap, xdg-open). The screen stops while they run
and is drawn anew after; Ctrl-C meanwhile is theirs (``app.external_running``).

Tests replace them with ``Options.editor`` and ``Options.opener``.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tmail.ui.app import App


def run_external(app: App, argv: Sequence[str]) -> int:
    if app.options.opener is not None:
        return app.options.opener(argv)
    if app.loop is not None:
        app.loop.screen.stop()
    app.external_running = True
    try:
        return subprocess.call(list(argv))
    except OSError as exc:
        app.notice(f"could not run {argv[0]}: {exc.strerror}", error=True)
        return 127
    finally:
        app.external_running = False
        if app.loop is not None:
            app.loop.screen.start()
            app.loop.screen.clear()


def browse(app: App, target: str) -> None:
    browser = os.environ.get("BROWSER")
    if not browser:
        app.notice("set $BROWSER to open links (e.g. BROWSER=w3m)", error=True)
        return
    run_external(app, [*shlex.split(browser), target])


def private_tmp() -> str | None:
    """A folder in memory (tmpfs) for text that must not reach the disk, where there is one."""
    # the user's own runtime folder first; in /dev/shm mkdtemp makes a private (0700) folder
    for folder in (os.environ.get("XDG_RUNTIME_DIR", ""), "/dev/shm"):  # noqa: S108
        if folder and os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
            return folder
    return None


def edit_text(app: App, text: str, *, private: bool = False) -> str | None:
    """``text`` after the editor had it; None when the editor could not be run. ``private``
    (a message to go out encrypted, a reply quoting decrypted text): the editor's file is
    made in memory ($XDG_RUNTIME_DIR or /dev/shm) where the system has such a place."""
    if app.options.editor is not None:
        return app.options.editor(text)
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    folder = tempfile.mkdtemp(prefix="tmail-compose-", dir=private_tmp() if private else None)
    path = Path(folder) / "message.txt"
    try:
        path.write_text(text, encoding="utf-8")
        status = run_external(app, [*shlex.split(editor), str(path)])
        if status != 0:
            app.notice(f"the editor ({editor}) exited with status {status}", error=True)
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        app.notice(f"editor: {exc.strerror or exc}", error=True)
        return None
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
            os.rmdir(folder)
