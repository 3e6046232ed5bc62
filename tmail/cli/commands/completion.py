"""``tmail completion bash|zsh|fish``: print a shell completion script (see tmail.cli.completion).

The scripts call ``tmail completion --names accounts|folders`` when Tab wants an account or a
folder: names from the config file and the local index, one a line, nothing on any error.
"""

from __future__ import annotations

import argparse

from tmail.cli.base import Command, Context
from tmail.cli.completion import SHELLS
from tmail.core.errors import TmailError, UsageError
from tmail.core.safe import safe_line


class Completion(Command):
    name = "completion"
    help = "print a shell completion script: bash, zsh or fish"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("shell", nargs="?", choices=SHELLS, help="the shell to complete for")
        parser.add_argument(
            "--names", choices=("accounts", "folders"), help=argparse.SUPPRESS
        )  # what the scripts call on Tab

    def run(self, ctx: Context) -> int:
        args = ctx.args
        if args.names:
            for name in _names(ctx, args.names):
                ctx.stdout.write(name + "\n")
            return 0
        if args.shell is None:
            raise UsageError(
                "completion: name the shell (bash, zsh or fish)",
                hint="e.g. add 'source <(tmail completion bash)' to ~/.bashrc",
            )
        from tmail.cli import build_parser, discover_commands
        from tmail.cli.completion import script

        ctx.stdout.write(script(args.shell, build_parser(discover_commands())))
        return 0


def _names(ctx: Context, what: str) -> list[str]:
    """Account or folder names for a Tab press: quiet and empty on any trouble."""
    try:
        if what == "accounts":
            from tmail.config import load_config

            return [safe_line(n) for n in load_config(ctx.config_path).accounts]
        from tmail.cli.commands._store import data_dir, open_store

        if not data_dir(ctx).is_dir():  # a Tab press creates no store
            return []
        with open_store(ctx, check=False) as store:
            folders = {safe_line(f.name) for f in store.folders()}
    except (TmailError, OSError):
        return []
    return sorted(folders, key=lambda n: (n != "INBOX", n.lower()))
