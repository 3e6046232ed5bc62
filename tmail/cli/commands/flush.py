"""``tmail flush``: try every queued message now, one connection per account."""

from __future__ import annotations

import argparse

from tmail.cli.base import Command, Context
from tmail.cli.commands._sending import load_all
from tmail.core.errors import TmailError
from tmail.core.safe import safe_line
from tmail.outbox.service import flush_account

EX_TEMPFAIL = 75
EX_UNAVAILABLE = 69


class Flush(Command):
    name = "flush"
    help = "send every queued message now (all accounts, or --account)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--account", "-a", metavar="NAME", help="only this account")

    def run(self, ctx: Context) -> int:
        config, accounts = load_all(ctx, ctx.args.account)
        status = 0
        tried = 0
        for acc in accounts:
            if acc.outgoing is None:
                continue
            try:
                report = flush_account(config.data_dir, acc)
            except TmailError as exc:
                ctx.stderr.write(f"tmail: {exc.one_line()}\n")
                status = max(status, EX_TEMPFAIL)
                continue
            for warning in report.warnings:
                ctx.stderr.write(f"tmail: {acc.name}: {safe_line(warning)}\n")
            tried += len(report.outcomes)
            for o in report.outcomes:
                line = f"{acc.name}: {o.entry.id} {o.status}: {safe_line(o.message)}\n"
                (ctx.stdout if o.status == "delivered" else ctx.stderr).write(line)
                if o.status in ("failed", "partial"):
                    status = EX_UNAVAILABLE
                elif o.status in ("queued", "waiting") and status == 0:
                    status = EX_TEMPFAIL
        if not tried and status == 0:
            ctx.stdout.write("nothing to send: the outbox is empty\n")
        return status
