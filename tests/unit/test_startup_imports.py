"""Start-up: each command imports only what it uses (issue 13, item 1).

Every command runs in a fresh interpreter, as ``tmail ...`` would; afterwards ``sys.modules`` must
hold none of the modules that command does not need. A module named here is refused with all its
submodules (``tmail.mime`` refuses ``tmail.mime.parse``). New commands need no entry: the five
below are the ones a user runs most or that must start fastest.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from tmail.store import Store

# Never wanted by these five: the reader, the composer and the outbox, certificate parsing.
NEVER = {
    "urwid",
    "tmail.ui",
    "tmail.mime.compose",
    "tmail.outbox",
    "tmail.protocols.smtp",
    "cryptography",
}
# What only talks to a server needs.
NETWORK = {"tmail.protocols", "tmail.sync", "tmail.runtime", "imapclient", "ssl", "smtplib"}
# What only reads or renders a message's MIME structure needs.
MIME = {"tmail.mime", "email.parser", "email.message", "html2text", "charset_normalizer"}

FORBIDDEN: dict[str, set[str]] = {
    "version": NEVER
    | NETWORK
    | MIME
    | {
        "tmail.cli.commands",
        "tmail.cli.base",
        "tmail.store",
        "tmail.config",
        "sqlite3",
        "email",
        "json",
    }
    | {"argparse", "dataclasses"},
    # an index in step with the Maildir: no message is parsed, no config is read
    # shutil: argparse's help formatter imports it (tmail.cli gives it the width instead);
    # ctypes: only writing mail needs syncfs(2)
    "search": NEVER
    | NETWORK
    | MIME
    | {"tmail.config", "tomllib", "platformdirs", "shutil", "ctypes"},
    "list": NEVER
    | NETWORK
    | MIME
    | {"tmail.config", "tmail.store.query", "tomllib", "shutil", "ctypes"},
    "show": NEVER | NETWORK | {"tmail.store", "sqlite3", "tmail.config", "tomllib"},
    # up to the connection (refused here): the IMAP side only
    "sync": NEVER | {"tmail.store.query", "tmail.store.threadsort", "tmail.cli.commands.send"},
}

MESSAGE = (
    b"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: budget\r\n"
    b"Message-ID: <s1@example.com>\r\nDate: Tue, 2 Jan 2024 09:00:00 +0000\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n\r\nthe quarterly budget\r\n"
)


def refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[str], dict[str, str]]]:
    root = tmp_path_factory.mktemp("startup")
    data = root / "data"
    with Store.open(data) as store:
        store.add_message("home", "INBOX", MESSAGE, uid=1)
    with Store.open(data):  # a second open: the index is in step, as on any later command
        pass
    eml = root / "m.eml"
    eml.write_bytes(MESSAGE)
    config = root / "config.toml"
    config.write_text(
        f'[general]\ndata_dir = "{data}"\n\n[accounts.home]\nemail = "alice@example.com"\n'
        'incoming.protocol = "imap"\nincoming.host = "127.0.0.1"\n'
        f'incoming.port = {refused_port()}\nincoming.security = "tls"\n'
        'incoming.username = "alice"\nincoming.password_command = "echo secret"\n'
    )
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root)}
    with_data = dict(base, TMAIL_DATA_DIR=str(data), TMAIL_CONFIG=str(root / "none.toml"))
    return {
        "version": (["--version"], with_data),
        "search": (["search", "budget"], with_data),
        "list": (["list"], with_data),
        "show": (["show", str(eml)], with_data),
        "sync": (["--config", str(config), "sync", "-q"], base),
    }


def modules_after(argv: list[str], env: dict[str, str]) -> tuple[list[str], str]:
    code = (
        "import sys\nfrom tmail.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "loaded = sorted(sys.modules)\nimport json\nprint(json.dumps(loaded))"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(res.stdout.splitlines()[-1]), res.stdout + res.stderr


@pytest.mark.parametrize("command", sorted(FORBIDDEN))
def test_a_command_imports_only_what_it_uses(
    command: str, setup: dict[str, tuple[list[str], dict[str, str]]]
) -> None:
    argv, env = setup[command]
    loaded, output = modules_after(argv, env)
    unwanted = sorted(
        m for m in loaded for f in FORBIDDEN[command] if m == f or m.startswith(f + ".")
    )
    assert unwanted == [], output
    # the command did its work (a guard on a command that failed early would prove nothing)
    expected = {
        "version": "tmail ",
        "search": "budget",
        "list": "budget",
        "show": "the quarterly budget",
        "sync": "connection refused",
    }[command]
    assert expected in output


def test_the_guard_sees_a_module_a_command_loads(
    setup: dict[str, tuple[list[str], dict[str, str]]],
) -> None:
    # `tmail show` parses MIME: the same check on it finds tmail.mime (the guard can fail)
    argv, env = setup["show"]
    loaded, _ = modules_after(argv, env)
    assert "tmail.mime.parse" in loaded
