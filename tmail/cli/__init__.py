"""The ``tmail`` command line: global options, subcommand discovery, error handling.

Every error a user can cause or meet ends here as one line on stderr and an exit status:
2 for a bad command line or config, the error's own status otherwise. Tracebacks are for bugs
only, and even then the user sees one line plus where the details were written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from tmail import __version__

if TYPE_CHECKING:
    import argparse

    from tmail.cli.base import Command

# Start-up: this module is imported by every run of ``tmail``. It imports only what ``tmail
# --version`` needs; argparse, the Command base (dataclasses) and the error types are imported
# by main() once a command is asked for, and only the module of that command (see
# _command_module).


def discover_commands(modules: Sequence[str] | None = None) -> list[Command]:
    """Instances of every Command subclass defined in ``tmail.cli.commands``, by name.

    ``modules`` limits the import to those module names (see :func:`_command_module`).
    """
    import importlib

    from tmail.cli import commands
    from tmail.cli.base import Command

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


_NAME = r"""^\s+(?:name|aliases)\b[^=\n]*=\s*(.+)$"""
_WORD = r"""["']([\w-]+)["']"""


def _command_module(argv: Sequence[str]) -> str | None:
    """The module that defines the command named in ``argv``, found without importing any.

    Start-up speed: importing every command module pulls in the MIME parser, imapclient and
    more, which ``tmail list`` never needs. The module is found by reading the ``name = "..."``
    and ``aliases = (...)`` lines of the sources; when that finds nothing (or anything unusual),
    the caller imports them all as before.
    """
    import re
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
        return any(
            requested in re.findall(_WORD, m.group(1))
            for m in re.finditer(_NAME, text, re.MULTILINE)
        )

    # Most commands live in a module of their own name: try that file alone first.
    if defines(f"{requested.replace('-', '_')}.py"):
        return requested.replace("-", "_")
    matches = [
        entry[:-3]
        for entry in sorted(os.listdir(folder))
        if entry.endswith(".py") and not entry.startswith("__") and defines(entry)
    ]
    return matches[0] if len(matches) == 1 else None


def _route_mailto(argv: list[str]) -> list[str]:
    """``tmail mailto:...`` (tmail as the desktop's mail handler) is ``tmail ui --mailto URL``."""
    skip = False
    for i, arg in enumerate(argv):
        if skip:
            skip = False
        elif arg == "--config":
            skip = True
        elif not arg.startswith("-"):
            if arg[:7].lower() == "mailto:":
                return [*argv[:i], "ui", "--mailto", arg, *argv[i + 1 :]]
            return argv
    return argv


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
    from tmail.cli.parser import build_parser as build

    return build(commands)


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    argv = _route_mailto(list(sys.argv[1:] if argv is None else argv))
    if _asks_version(argv):
        # Answered before any command module is imported: nothing but start-up.
        out.write(f"tmail {__version__}\n")
        return 0
    from tmail.cli.base import Context
    from tmail.core.errors import TmailError

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
