"""``tmail completion bash|zsh|fish`` (issue 18 item 5): each script loaded in the real shell
completes commands, options, account names and folder names."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.tmux import Pane
from tmail.store import Store

BIN = str(Path(sys.executable).parent)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A config with accounts 'home' and 'work'; a store with three folders of 'home'."""
    data = tmp_path / "data"
    config = tmp_path / "config.toml"
    config.write_text(
        f'[general]\ndata_dir = "{data}"\n'
        '[accounts.home]\nemail = "me@home.test"\nincoming.host = "imap.home.test"\n'
        '[accounts.work]\nemail = "me@work.test"\nincoming.host = "imap.work.test"\n'
    )
    config.chmod(0o600)
    letter = b"From: a@b.test\r\nSubject: x\r\nMessage-ID: <1@b.test>\r\n\r\nhi\r\n"
    with Store.open(data) as store:
        for folder in ("INBOX", "Archive", "Lists/tmail dev"):
            store.add_message("home", folder, letter)
    return {
        **os.environ,
        "PATH": BIN + os.pathsep + os.environ.get("PATH", ""),
        "TMAIL_CONFIG": str(config),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / ".config"),
    }


def script(shell: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [f"{BIN}/tmail", "completion", shell], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def bash_complete(env: dict[str, str], line: str, tmp_path: Path) -> list[str]:
    """COMPREPLY for the command line ``line`` (its last word is the one being completed)."""
    path = tmp_path / "tmail.bash"
    path.write_text(script("bash", env))
    words = line.split(" ")
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    program = (
        f"source {path}; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
        'COMP_LINE="${COMP_WORDS[*]}"; _tmail; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(
        ["bash", "--norc", "-c", program], env=env, capture_output=True, text=True, check=True
    )
    assert done.stderr == ""
    return [w for w in done.stdout.split("\n") if w]


def test_bash_registers_the_completion(env: dict[str, str]) -> None:
    done = subprocess.run(
        ["bash", "--norc", "-c", "source <(tmail completion bash); complete -p tmail"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "complete -o default -F _tmail tmail"


def test_bash_completes_commands_options_accounts_and_folders(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert bash_complete(env, "tmail s", tmp_path) == ["search", "send", "show", "sync"]
    assert bash_complete(env, "tmail co", tmp_path) == ["completion", "contacts"]
    assert "--unread" in bash_complete(env, "tmail list --u", tmp_path)
    assert bash_complete(env, "tmail list --account ", tmp_path) == ["home", "work"]
    assert bash_complete(env, "tmail sync -a w", tmp_path) == ["work"]
    assert bash_complete(env, "tmail search --folder ", tmp_path) == [
        "INBOX",
        "Archive",
        "Lists/tmail dev",
    ]
    assert bash_complete(env, "tmail move 3 Ar", tmp_path) == ["Archive"]
    assert bash_complete(env, "tmail completion ", tmp_path) == ["bash", "zsh", "fish"]
    assert bash_complete(env, "tmail list --sort s", tmp_path) == ["subject", "size"]


def test_fish_completes_commands_options_accounts_and_folders(env: dict[str, str]) -> None:
    if shutil.which("fish") is None:
        pytest.fail("fish is not installed (scripts/setup --test installs it)")

    def complete(line: str) -> list[str]:
        program = f"tmail completion fish | source; complete -C {line!r}"
        done = subprocess.run(
            ["fish", "--no-config", "-c", program],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return [w.split("\t")[0] for w in done.stdout.splitlines()]

    assert complete("tmail sh") == ["show"]
    assert "--unread" in complete("tmail list --u")
    assert complete("tmail list --account ") == ["home", "work"]
    # fish sorts what it offers
    assert sorted(complete("tmail search --folder ")) == ["Archive", "INBOX", "Lists/tmail dev"]
    assert sorted(complete("tmail completion ")) == ["bash", "fish", "zsh"]


def test_zsh_completes_on_tab(env: dict[str, str], tmp_path: Path) -> None:
    if shutil.which("zsh") is None:
        pytest.fail("zsh is not installed (scripts/setup --test installs it)")
    zdot = tmp_path / "zdot"
    zdot.mkdir()
    (zdot / ".zshrc").write_text(
        f"autoload -U compinit; compinit -u -d {tmp_path}/zcompdump\n"
        "source <(tmail completion zsh)\nPS1='zsh$ '\n"
    )
    pane = Pane(["zsh", "-i"], {**env, "ZDOTDIR": str(zdot)})
    try:
        pane.wait_for("zsh$")
        pane.keys("tmail compl", "Tab")
        pane.wait_for("tmail completion")
        pane.keys("C-u", "tmail list --account w", "Tab")
        pane.wait_for("tmail list --account work")
        pane.keys("C-u", "tmail search --folder Ar", "Tab")
        pane.wait_for("tmail search --folder Archive")
    finally:
        pane.close()
