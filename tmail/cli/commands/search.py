"""``tmail search QUERY``: messages matching the query language, newest first."""

from __future__ import annotations

import argparse

from tmail.cli.base import Command, Context
from tmail.cli.commands._store import open_store, write_rows


class SearchCommand(Command):
    name = "search"
    help = 'search messages: words, "phrases", from: to: cc: subject: folder: is:unread ...'

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("query", nargs="+", help="the query (see 'man tmail', SEARCH)")
        parser.add_argument("--account", "-a", metavar="NAME", help="only this account")
        parser.add_argument("--folder", "-f", metavar="FOLDER", help="only this folder")
        parser.add_argument("--limit", "-n", type=int, default=None, metavar="N")
        parser.add_argument("--json", action="store_true", help="JSON for scripts")
        parser.add_argument("--ids", action="store_true", help="print only the ids")
        parser.add_argument("--count", action="store_true", help="print only how many match")

    def run(self, ctx: Context) -> int:
        a = ctx.args
        query = " ".join(a.query)
        with open_store(ctx) as store:
            if a.count:
                ctx.stdout.write(
                    f"{store.count_search(query, account=a.account, folder=a.folder)}\n"
                )
                return 0
            ids = store.search(query, account=a.account, folder=a.folder, limit=a.limit)
            if not ids and not a.json:  # on stderr: a script reading stdout gets nothing
                ctx.stderr.write("no messages match\n")
            if a.ids:
                ctx.stdout.write("".join(f"{i}\n" for i in ids))
                return 0 if ids else 1  # as without --ids (tmail(1): 1 when nothing matches)
            # Rows are read 500 at a time: a query matching 100,000 messages prints them all
            # without holding them all.
            pages = (store.get_many(ids[i : i + 500]) for i in range(0, len(ids), 500))
            write_rows(ctx, (r for page in pages for r in page), as_json=a.json, show_folder=True)
        return 0 if ids else 1
