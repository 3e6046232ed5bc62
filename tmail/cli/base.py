"""One small class per command: its name, its help, its arguments and what it runs.

Commands live one per module under :mod:`tmail.cli.commands` and are found there at start-up, so
adding a command touches no shared list.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import ClassVar, TextIO


@dataclass
class Context:
    """What every command gets: the global options and where to write."""

    args: argparse.Namespace
    stdout: TextIO
    stderr: TextIO

    @property
    def config_path(self) -> str | None:
        value = getattr(self.args, "config", None)
        return value if isinstance(value, str) else None


class Command:
    """Base of every ``tmail`` subcommand."""

    name: ClassVar[str] = ""
    help: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        """Declare the command's own options."""

    def run(self, ctx: Context) -> int:
        """Do the work; return the exit status. Raise TmailError for anything the user must see."""
        raise NotImplementedError
