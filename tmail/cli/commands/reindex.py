"""``tmail reindex``: rebuild the index from the Maildirs alone."""

from __future__ import annotations

import argparse
import time

from tmail.cli.base import Command, Context
from tmail.cli.commands._store import config_charsets, data_dir
from tmail.core.counts import plural


class ReindexCommand(Command):
    name = "reindex"
    help = "rebuild the search index from the Maildirs (keeps UIDs, sync state, pending changes)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--account", "-a", metavar="NAME", help="only this account")
        parser.add_argument(
            "--check",
            action="store_true",
            help="only bring the index in step with the files (what every start does)",
        )
        parser.add_argument("--quiet", "-q", action="store_true", help="no progress line")

    def run(self, ctx: Context) -> int:
        from tmail.store import Store

        started = time.monotonic()
        tty = not ctx.args.quiet and ctx.stderr.isatty()
        last = [0.0]

        def progress(done: int, where: str) -> None:
            now = time.monotonic()
            if tty and now - last[0] > 0.2:
                last[0] = now
                ctx.stderr.write(f"\r{plural(done, 'message')} ({where})\x1b[K")
                ctx.stderr.flush()

        with Store.open(data_dir(ctx), check=False, assumed_charsets=config_charsets(ctx)) as store:
            if ctx.args.check:
                n = store.check(progress)
                problems = store.integrity_problems()
                done = plural(n, "change")
            else:
                n = store.reindex(ctx.args.account, progress)
                problems = []
                done = plural(n, "message") + " indexed"
        if tty:
            ctx.stderr.write("\r\x1b[K")
        for p in problems:
            ctx.stderr.write(f"tmail: index problem: {p}\n")
        ctx.stdout.write(f"{done} in {time.monotonic() - started:.1f}s\n")
        return 1 if problems else 0
