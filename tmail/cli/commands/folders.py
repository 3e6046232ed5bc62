"""``tmail folders``: every folder of every account with total and unread counts."""

from __future__ import annotations

import argparse
import json

from tmail.cli.base import Command, Context
from tmail.cli.commands._store import open_store
from tmail.core.safe import safe_line


class FoldersCommand(Command):
    name = "folders"
    help = "list folders with total and unread counts"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--account", "-a", metavar="NAME", help="only this account")
        parser.add_argument("--json", action="store_true", help="JSON for scripts")

    def run(self, ctx: Context) -> int:
        with open_store(ctx) as store:
            folders = store.folders(ctx.args.account)
        if ctx.args.json:
            data = [
                {"account": f.account, "folder": f.name, "total": f.total, "unread": f.unread}
                for f in folders
            ]
            ctx.stdout.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")
            return 0
        width = max((len(safe_line(f.name)) for f in folders), default=6)
        account = None
        for f in folders:
            if f.account != account:
                account = f.account
                ctx.stdout.write(f"{safe_line(account)}\n")
            ctx.stdout.write(
                f"  {safe_line(f.name):<{width}}  {f.total:>7}  {f.unread:>6} unread\n"
            )
        return 0
