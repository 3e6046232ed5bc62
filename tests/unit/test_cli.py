"""The command line's contract: --version, --help, one-line errors with exit status 2."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from tmail import __version__
from tmail.cli import discover_commands, main
from tmail.cli.base import Command, Context
from tmail.core.errors import ConfigError


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(list(argv), stdout=out, stderr=err)
    except SystemExit as exc:  # argparse exits for --help, --version and usage errors
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert (out + capsys.readouterr().out).strip() == f"tmail {__version__}"


def test_help_lists_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run("--help")
    out = capsys.readouterr().out
    assert code == 0
    for command in discover_commands():
        assert command.name in out


@pytest.mark.parametrize(
    "argv", [("no-such-command",), ("--no-such-option",), ("version", "--bogus")]
)
def test_usage_errors_are_one_line_and_exit_2(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, _ = run(*argv)
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_tmail_error_becomes_one_line_with_its_status(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(Command):
        name = "version"

        def run(self, ctx: Context) -> int:
            raise ConfigError(
                "port must be 1-65535, not 70000",
                account="home",
                hint="fix incoming.port in ~/.config/tmail/config.toml",
            )

    monkeypatch.setattr("tmail.cli.discover_commands", lambda *modules: [Broken()])
    code, _out, err = run("version")
    assert code == 2
    assert err == (
        "tmail: home: port must be 1-65535, not 70000 — "
        "fix incoming.port in ~/.config/tmail/config.toml\n"
    )


def test_console_script_runs_as_a_process() -> None:
    res = subprocess.run(
        [sys.executable, "-m", "tmail", "--version"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0
    assert res.stdout.strip() == f"tmail {__version__}"
    bad = subprocess.run(
        [sys.executable, "-m", "tmail", "frobnicate"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["list", "--limit", "1"]])
def test_commands_other_than_the_reader_start_without_urwid(
    argv: list[str], tmp_path: Path
) -> None:
    # `tmail ui` imports the reader inside its run(): the other commands never load it
    code = (
        "import sys\nfrom tmail.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'urwid' or "
        "m.startswith('tmail.ui')))"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TMAIL_DATA_DIR": str(tmp_path)}
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert res.stdout.splitlines()[-1] == "[]", res.stderr
