"""``tmail unsubscribe ID``: leave the mailing list a message came from.

RFC 8058 one-click (an HTTPS POST) when the message offers it, after a confirmation that shows
the host; else a prepared message to the list's mailto: address, shown for review and sent
through the outbox only when confirmed; a plain web link is shown, never opened.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from tmail.cli.base import Command, Context
from tmail.cli.messages import load_message
from tmail.core.errors import ConfigError, MessageError, TmailError, UsageError
from tmail.core.safe import safe_line

if TYPE_CHECKING:
    from tmail.config.model import Account, Config
    from tmail.mime.unsubscribe import UnsubscribeOffer

EX_NOTHING = 1


class Unsubscribe(Command):
    name = "unsubscribe"
    help = "leave a mailing list: RFC 8058 one-click POST, or a prepared mailto: message"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("message", metavar="ID|FILE", help="a message from the list")
        parser.add_argument(
            "--account", "-a", metavar="NAME", help="the account (a stored message: its own)"
        )
        parser.add_argument("--yes", "-y", action="store_true", help="do not ask to confirm")

    def run(self, ctx: Context) -> int:
        from tmail.config import load_config
        from tmail.mime import parse_message
        from tmail.mime.unsubscribe import unsubscribe_offer

        args = ctx.args
        message = load_message(ctx, args.message)
        parsed = parse_message(message.raw)
        offer = unsubscribe_offer(parsed.headers)
        if offer is None:
            raise MessageError(
                f"message {safe_line(args.message)} offers no way to unsubscribe "
                "(no List-Unsubscribe field)",
                hint="look for a link at the end of the message, or ask the list's owner",
            )
        if offer.method == "web":
            ctx.stdout.write(
                f"this list offers only a web page, which tmail does not open by itself:\n"
                f"  {offer.url}\n"
            )
            return EX_NOTHING
        config = load_config(ctx.config_path)
        account = config.account(args.account or message.account)
        if offer.method == "one-click":
            from tmail.protocols.oneclick import one_click

            ctx.stdout.write(
                f"one-click unsubscribe (RFC 8058): a POST to {offer.host or '?'}\n  {offer.url}\n"
            )
            # RFC 8058 section 4 wants the list's fields DKIM-signed: what the own server found
            # helps to decide (tmail.mime.sender; shown only from a configured authserv_id)
            from tmail.mime.sender import check_sender

            auth = check_sender(parsed.headers, parsed.from_, account.authserv_ids).auth_line()
            if auth:
                ctx.stdout.write(f"  the message: {auth}\n")
            if not _confirm(ctx, f"Unsubscribe through {offer.host or offer.url}?"):
                ctx.stdout.write("not unsubscribed\n")
                return EX_NOTHING
            try:
                result = one_click(offer.url, allow_hosts=account.unsubscribe_allow_hosts)
            except TmailError as exc:
                exc.account = exc.account or account.name
                raise
            ctx.stdout.write(
                f"unsubscribed: {offer.host} answered {result.status} {result.reason}\n"
            )
            return 0
        return _by_mail(ctx, config, account, offer)


def _confirm(ctx: Context, question: str) -> bool:
    if ctx.args.yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(
            "unsubscribe: not confirmed (no terminal to ask in)",
            hint="run it in a terminal, or add --yes",
        )
    ctx.stdout.write(f"{question} [y/N] ")
    ctx.stdout.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _by_mail(ctx: Context, config: Config, account: Account, offer: UnsubscribeOffer) -> int:
    """The prepared message to the list's address: shown, then sent when confirmed."""
    from tmail.core.models import Address
    from tmail.mime.compose import Draft, Limits, compose
    from tmail.outbox.service import flush_account, queue_message

    assert offer.mailto is not None
    if account.outgoing is None:
        raise ConfigError(
            "no outgoing (SMTP) server configured to send the unsubscribe message",
            account=account.name,
            hint=f"add outgoing.host and outgoing.port to [accounts.{account.name}]",
        )
    m = offer.mailto
    subject = m.subject if m.subject is not None else "unsubscribe"
    body = m.body if m.body is not None else "unsubscribe\n"
    me = Address(account.display_name, account.email)
    ctx.stdout.write(
        "the list is left by mail; this message is prepared:\n"
        f"  From: {safe_line(me.formatted())}\n  To: {', '.join(m.to)}\n"
        f"  Subject: {subject}\n\n" + "".join(f"  {line}\n" for line in body.splitlines()) + "\n"
    )
    if not _confirm(ctx, "Send it?"):
        ctx.stdout.write("not sent\n")
        return EX_NOTHING
    draft = Draft(
        from_=me,
        to=m.to,
        cc=m.cc,
        bcc=m.bcc,
        subject=subject,
        body=body,
        in_reply_to=m.in_reply_to,
        send_charset=account.send_charset,
    )
    composed = compose(draft, Limits(max_message_size=account.max_message_size))
    entry = queue_message(config.data_dir, account, composed)
    report = flush_account(config.data_dir, account, only=[entry.id])
    outcome = report.of(entry.id)
    if outcome is not None and outcome.status == "delivered":
        ctx.stdout.write(f"sent to {', '.join(m.to)}: {subject}\n")
        return 0
    what = safe_line(outcome.message) if outcome is not None else "queued"
    ctx.stderr.write(f"tmail: {account.name}: not sent yet ({what}); see 'tmail queue'\n")
    return 75
