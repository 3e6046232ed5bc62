"""``tmail invite ID accept|tentative|decline [--comment TEXT]``: answer a calendar invitation.

An RFC 5546 REPLY (:mod:`tmail.mime.invitereply`) from the address the invitation names of the
account's, sent to the organizer through the outbox (the one send path).
"""

from __future__ import annotations

import argparse

from tmail.cli.base import Command, Context
from tmail.cli.messages import load_message
from tmail.core.errors import ConfigError, MessageError
from tmail.core.safe import safe_line

EX_TEMPFAIL = 75
EX_UNAVAILABLE = 69


class Invite(Command):
    name = "invite"
    help = "answer a calendar invitation: accept, tentative or decline (an RFC 5546 REPLY)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("message", metavar="ID|FILE", help="the invitation")
        parser.add_argument("answer", choices=("accept", "tentative", "decline"))
        parser.add_argument("--comment", metavar="TEXT", help="a note to the organizer")
        parser.add_argument(
            "--account", "-a", metavar="NAME", help="answer from this account (a stored "
            "message: its own)"
        )  # fmt: skip

    def run(self, ctx: Context) -> int:
        from tmail.config import load_config
        from tmail.core.models import Address
        from tmail.mime.compose import prepare_raw
        from tmail.mime.invitation import calendar_part
        from tmail.mime.invitereply import build_reply
        from tmail.outbox.service import flush_account, queue_message

        args = ctx.args
        message = load_message(ctx, args.message)
        ics = calendar_part(message.raw)
        if ics is None:
            raise MessageError(f"message {safe_line(args.message)} holds no calendar invitation")
        config = load_config(ctx.config_path)
        account = config.account(args.account or message.account)
        if account.outgoing is None:
            raise ConfigError(
                "no outgoing (SMTP) server configured to send the answer",
                account=account.name,
                hint=f"add outgoing.host and outgoing.port to [accounts.{account.name}]",
            )
        me = Address(account.display_name, account.email)
        # answered as whichever of the account's identities was invited (issue 16's aliases)
        reply = build_reply(
            ics, me, args.answer, my_addresses=account.own_addresses(), comment=args.comment
        )
        composed = prepare_raw(reply.message, default_from=me)
        entry = queue_message(config.data_dir, account, composed)
        report = flush_account(config.data_dir, account, only=[entry.id])
        outcome = report.of(entry.id)
        what = f"{reply.partstat.lower()} '{reply.summary}' to {safe_line(reply.organizer)}"
        if outcome is not None and outcome.status == "delivered":
            ctx.stdout.write(f"answered {what}\n")
            return 0
        words = safe_line(outcome.message) if outcome is not None else "queued"
        if outcome is not None and outcome.status in ("failed", "partial"):
            ctx.stderr.write(f"tmail: {account.name}: answer not sent: {words}\n")
            return EX_UNAVAILABLE
        ctx.stderr.write(f"tmail: {account.name}: answer {what} queued as {entry.id}: {words}\n")
        return EX_TEMPFAIL
