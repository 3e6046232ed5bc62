"""Drive the real ``tmail`` in a tmux pane: send keys, read the screen as a person would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

TMAIL = Path(sys.executable).with_name("tmail")


def tmux_missing() -> str | None:
    return None if shutil.which("tmux") else "tmux is not installed"


class Pane:
    """One tmux server of its own (-L), one window (120x40 unless told) running ``command``."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        cwd: Path | None = None,
        size: tuple[int, int] = (120, 40),
    ) -> None:
        self.socket = "tmail-e2e-" + uuid.uuid4().hex[:8]
        full_env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm-256color"}
        full_env.update(env)
        full_env.pop("TMUX", None)
        self._env = full_env
        shell = " ".join(_quote(c) for c in command)
        # keep the pane after tmail exits, so its last words can be read
        self._tmux(
            "new-session", "-d", "-x", str(size[0]), "-y", str(size[1]), "-s", "e2e",
            f"{shell}; echo TMAIL-EXITED=$?; sleep 600",
            cwd=cwd,
        )  # fmt: skip

    def _tmux(self, *args: str, cwd: Path | None = None) -> str:
        done = subprocess.run(
            ["tmux", "-u", "-L", self.socket, *args],
            env=self._env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return done.stdout

    def keys(self, *keys: str) -> None:
        """Named keys (Enter, Escape, Home, C-u, M-b) or literal text (sent with -l)."""
        for key in keys:
            named = key in ("Enter", "Escape", "Home", "End", "Tab", "Up", "Down", "BSpace")
            if named or (len(key) == 3 and key[:2] in ("C-", "M-")):
                self._tmux("send-keys", "-t", "e2e", key)
            else:
                self._tmux("send-keys", "-t", "e2e", "-l", key)

    def resize(self, columns: int, rows: int) -> None:
        """The window made another size, as a person dragging the terminal's corner."""
        self._tmux("resize-window", "-t", "e2e", "-x", str(columns), "-y", str(rows))

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "e2e")

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear; the screen was:\n{screen}")

    def wait_until(self, what: str, test: Callable[[str], bool], timeout: float = 20.0) -> str:
        """The screen once ``test`` holds for it (``what`` names the wait in the failure)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if test(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{what} did not happen; the screen was:\n{screen}")

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"], env=self._env, capture_output=True
        )


def _quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


def editor_script(folder: Path, text: str) -> Path:
    """An $EDITOR that puts ``text`` at the top of the file, as a person typing would."""
    script = folder / "fake-editor"
    script.write_text(
        "#!/bin/sh\n"
        f"printf '%s\\n' {_quote(text)} > \"$1.new\"\n"
        'cat "$1" >> "$1.new"\n'
        'mv "$1.new" "$1"\n'
    )
    script.chmod(0o755)
    return script
