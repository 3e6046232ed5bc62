"""The ``tmail`` argument parser: one-line usage errors, the global options, one sub-parser
per command. Imported by :func:`tmail.cli.main` once it knows a command is wanted (``tmail
--version`` answers without argparse)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from tmail import __version__
from tmail.cli.base import Command
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


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {safe_line(message)} (see '{self.prog} --help')\n")


def build_parser(commands: Sequence[Command]) -> argparse.ArgumentParser:
    parser = Parser(
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
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in commands:
        p = sub.add_parser(
            command.name, help=command.help, description=command.help, aliases=command.aliases
        )
        p.set_defaults(_command=command)
        command.add_arguments(p)
    return parser
