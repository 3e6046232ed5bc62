"""``tmail flush``: try every queued message now, one connection per account; ``--resend ID``
lets a held message (delivery uncertain, login refused) go again."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tmail.cli.base import Command, Context
from tmail.cli.commands._sending import load_all
from tmail.config.model import Account
from tmail.core.errors import TmailError, UsageError
from tmail.core.safe import safe_line
from tmail.outbox.service import flush_account, queue_for

EX_TEMPFAIL = 75
EX_UNAVAILABLE = 69
EX_NOPERM = 77  # the server refused the login: nothing goes until the password is fixed


def exit_status(status: str) -> int:
    """The sysexits code of one outcome (0 for delivered); the worst one is the command's."""
    return {
        "delivered": 0,
        "scheduled": 0,  # waits for its time, as asked
        "queued": EX_TEMPFAIL,
        "waiting": EX_TEMPFAIL,
        "uncertain": EX_TEMPFAIL,
        "held": EX_NOPERM,
    }.get(status, EX_UNAVAILABLE)


def worst(a: int, b: int) -> int:
    """Refused (69) before login refused (77) before "try later" (75) before 0."""
    rank = {0: 0, EX_TEMPFAIL: 1, EX_NOPERM: 2, EX_UNAVAILABLE: 3}
    return a if rank.get(a, 3) >= rank.get(b, 3) else b


class Flush(Command):
    name = "flush"
    help = "send every queued message now (all accounts, or --account); --resend ID"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--account", "-a", metavar="NAME", help="only this account")
        parser.add_argument(
            "--resend",
            metavar="ID",
            help="send a held or scheduled message now (delivery uncertain, login refused, "
            "send later)",
        )

    def run(self, ctx: Context) -> int:
        config, accounts = load_all(ctx, ctx.args.account)
        only: list[str] | None = None
        if ctx.args.resend:
            acc = _owner(config.data_dir, accounts, ctx.args.resend)
            released = queue_for(config.data_dir, acc).release(ctx.args.resend, time.time())
            accounts, only = [acc], [e.id for e in released]
        status = 0
        tried = 0
        for acc in accounts:
            if acc.outgoing is None:
                continue
            try:
                report = flush_account(config.data_dir, acc, only=only)
            except TmailError as exc:
                ctx.stderr.write(f"tmail: {exc.one_line()}\n")
                status = worst(status, EX_TEMPFAIL)
                continue
            for warning in report.warnings:
                ctx.stderr.write(f"tmail: {acc.name}: {safe_line(warning)}\n")
            tried += len(report.outcomes)
            noted = False
            for o in report.outcomes:
                line = f"{acc.name}: {o.entry.id} {o.status}: {safe_line(o.message)}\n"
                ok = o.status in ("delivered", "scheduled")
                (ctx.stdout if ok else ctx.stderr).write(line)
                status = worst(status, exit_status(o.status))
                if o.status == "held" and not noted:  # the login was refused: once per account
                    from tmail.cli.commands._provider_notes import login_refusal_notes

                    for note in login_refusal_notes(acc, o.message):
                        ctx.stderr.write(f"tmail: note: {note}\n")
                        noted = True
        if not tried and status == 0:
            ctx.stdout.write("nothing to send: the outbox is empty\n")
        return status


def _owner(data_dir: Path, accounts: list[Account], ident: str) -> Account:
    """The account whose outbox holds the message ``ident`` (an id or its start)."""
    owners = []
    for acc in accounts:
        q = queue_for(data_dir, acc)
        if any(e.id.startswith(ident) for e in (*q.entries(), *q.failed())):
            owners.append(acc)
    if len(owners) != 1:
        what = "no queued message" if not owners else "messages of several accounts"
        raise UsageError(f"{what} match {ident!r}", hint="'tmail queue' lists the ids")
    return owners[0]
