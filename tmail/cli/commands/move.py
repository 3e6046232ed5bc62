"""``tmail move ID... FOLDER``: move messages to another folder of their account."""

from __future__ import annotations

import argparse

from tmail.cli.base import Command, Context
from tmail.cli.commands._store import open_store, parse_ids
from tmail.core.counts import plural
from tmail.core.errors import UsageError


class MoveCommand(Command):
    name = "move"
    help = "move messages to another folder (the next sync moves them on the server)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("ids", nargs="+", metavar="ID", help="message ids")
        parser.add_argument("folder", metavar="FOLDER", help="target folder, e.g. Archive")

    def run(self, ctx: Context) -> int:
        ids = parse_ids(ctx.args.ids)
        if not ctx.args.folder.strip():
            raise UsageError("the target folder name is empty")
        with open_store(ctx, check=False) as store:
            for mid in ids:
                store.move(mid, ctx.args.folder)
        ctx.stdout.write(f"{plural(len(ids), 'message')} moved to {ctx.args.folder}\n")
        return 0
