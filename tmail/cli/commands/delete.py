"""``tmail delete ID... [--purge]``: to Trash, or expunged for good."""

from __future__ import annotations

import argparse

from tmail.cli.base import Command, Context
from tmail.cli.commands._store import open_store, parse_ids

TRASH = "Trash"


class DeleteCommand(Command):
    name = "delete"
    help = "move messages to Trash (expunge them with --purge, or when already in Trash)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("ids", nargs="+", metavar="ID", help="message ids")
        parser.add_argument("--purge", action="store_true", help="expunge instead of Trash")

    def run(self, ctx: Context) -> int:
        ids = parse_ids(ctx.args.ids)
        trashed = purged = 0
        with open_store(ctx, check=False) as store:
            for mid in ids:
                row = store.get(mid)
                if row is None:
                    store.path(mid)  # raises the "no message with id" error
                    continue
                if ctx.args.purge or row.folder == TRASH:
                    store.remove(mid)
                    purged += 1
                else:
                    store.move(mid, TRASH)
                    trashed += 1
        parts = []
        if trashed:
            parts.append(f"{trashed} moved to {TRASH}")
        if purged:
            parts.append(f"{purged} expunged")
        ctx.stdout.write(", ".join(parts) + "\n")
        return 0
