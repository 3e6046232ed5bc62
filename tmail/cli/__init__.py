"""The ``tmail`` command line: global options, subcommand discovery, error handling.

Every error a user can cause or meet ends here as one line on stderr and an exit status:
2 for a bad command line or config, the error's own status otherwise. Tracebacks are for bugs
only, and even then the user sees one line plus where the details were written.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

from tmail import __version__
from tmail.cli.base import Command, Context
from tmail.core.errors import TmailError
from tmail.core.safe import safe_line


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` gives it ($COLUMNS first, else 80)."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter without its ``import shutil``: argparse makes one for every
    option declared, and shutil (with bz2, lzma, zlib) cost every command 2 ms of start-up."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        super().__init__(
            prog, indent_increment, max_help_position, _columns() - 2 if width is None else width
        )


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {safe_line(message)} (see '{self.prog} --help')\n")


def discover_commands(modules: Sequence[str] | None = None) -> list[Command]:
    """Instances of every Command subclass defined in ``tmail.cli.commands``, by name.

    ``modules`` limits the import to those module names (see :func:`_command_module`).
    """
    from tmail.cli import commands

    if modules is not None:
        names = list(modules)  # known to exist: no need to list the package (pkgutil is slow)
    else:
        import pkgutil

        names = [info.name for info in pkgutil.iter_modules(commands.__path__)]
    found: dict[str, Command] = {}
    for name in names:
        module = importlib.import_module(f"{commands.__name__}.{name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Command)
                and value is not Command
                and value.name
                and value.__module__ == module.__name__
            ):
                found[value.name] = value()
    return [found[name] for name in sorted(found)]


_NAME = re.compile(r"""^\s+(?:name|aliases)\b[^=\n]*=\s*(.+)$""", re.MULTILINE)
_WORD = re.compile(r"""["']([\w-]+)["']""")


def _command_module(argv: Sequence[str]) -> str | None:
    """The module that defines the command named in ``argv``, found without importing any.

    Start-up speed: importing every command module pulls in the MIME parser, imapclient and
    more, which ``tmail list`` never needs. The module is found by reading the ``name = "..."``
    and ``aliases = (...)`` lines of the sources; when that finds nothing (or anything unusual),
    the caller imports them all as before.
    """
    from pathlib import Path

    from tmail.cli import commands

    requested = None
    it = iter(argv)
    for arg in it:
        if arg == "--config":
            next(it, None)
        elif arg.startswith("-"):
            continue
        else:
            requested = arg
            break
    if requested is None or not re.fullmatch(r"[a-z][a-z0-9-]*", requested):
        return None
    folder = Path(commands.__path__[0])

    def defines(module_file: str) -> bool:
        try:
            text = (folder / module_file).read_text(encoding="utf-8")
        except OSError:
            return False
        return any(requested in _WORD.findall(m.group(1)) for m in _NAME.finditer(text))

    # Most commands live in a module of their own name: try that file alone first.
    if defines(f"{requested.replace('-', '_')}.py"):
        return requested.replace("-", "_")
    matches = [
        entry[:-3]
        for entry in sorted(os.listdir(folder))
        if entry.endswith(".py") and not entry.startswith("__") and defines(entry)
    ]
    return matches[0] if len(matches) == 1 else None


def _asks_version(argv: Sequence[str]) -> bool:
    """Whether ``argv`` is the global ``--version`` (before any command, as argparse reads it)."""
    it = iter(argv)
    for arg in it:
        if arg == "--version":
            return True
        if arg == "--config":
            next(it, None)
        elif arg == "--" or not arg.startswith("-") or arg in ("-h", "--help"):
            return False
    return False


def build_parser(commands: Sequence[Command]) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tmail",
        description="A terminal mail client. Without a command, opens the mail reader.",
        epilog="Run 'tmail COMMAND --help' for a command's options; 'man tmail' for the rest.",
    )
    parser.add_argument("--version", action="version", version=f"tmail {__version__}")
    parser.add_argument(
        "--config", metavar="PATH", help="config file (default: $TMAIL_CONFIG or the XDG path)"
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the reader on a built-in demo mailbox (no network, no config)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in commands:
        p = sub.add_parser(
            command.name, help=command.help, description=command.help, aliases=command.aliases
        )
        p.set_defaults(_command=command)
        command.add_arguments(p)
    return parser


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    if _asks_version(argv):
        # Answered before any command module is imported: nothing but start-up.
        out.write(f"tmail {__version__}\n")
        return 0
    commands: list[Command] = []
    only = _command_module(argv)
    if only is not None:
        commands = discover_commands([only])
    if not commands:
        commands = discover_commands()
    parser = build_parser(commands)
    args = parser.parse_args(argv)
    command: Command | None = getattr(args, "_command", None)
    if command is None:
        command = next((c for c in commands if c.name == "ui"), None)
        if command is None:
            parser.print_help(out)
            return 0
    ctx = Context(args=args, stdout=out, stderr=err)
    try:
        return command.run(ctx)
    except TmailError as exc:
        err.write(f"tmail: {exc.one_line()}\n")
        return exc.exit_status
    except KeyboardInterrupt:
        err.write("tmail: interrupted\n")
        return 130
    except BrokenPipeError:
        # The reader of our output went away (tmail list | head): not an error worth a word.
        return 0
