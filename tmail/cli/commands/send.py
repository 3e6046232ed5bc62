"""``tmail send``: compose from options (body on stdin) or take a whole message (``-t``), queue it
durably, then try to deliver it at once.

Exit status, as sendmail's callers (mutt, git send-email, cron) read it: 0 delivered (or queued
with ``--queue-only``), 75 queued for a later try (or delivery uncertain: kept for the user),
65 bad input, 69 refused by the server, 77 the server refused the login (held, not retried).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from tmail.cli.base import Command, Context
from tmail.cli.commands._sending import load
from tmail.config.identities import for_address
from tmail.config.model import Account, Identity
from tmail.core.errors import ConfigError, MessageError, TmailError, UsageError
from tmail.core.models import Address
from tmail.core.safe import safe_line
from tmail.mime.compose import (
    Composed,
    Draft,
    Limits,
    compose,
    message_size_limit,
    prepare_raw,
)
from tmail.mime.mailto import is_mailto, parse_mailto
from tmail.outbox.protect import protect_composed
from tmail.outbox.service import flush_account, queue_for, queue_message
from tmail.protocols.smtp import Dsn

EX_OK = 0
EX_DATAERR = 65
EX_UNAVAILABLE = 69
EX_TEMPFAIL = 75
EX_NOPERM = 77

DSN_VALUES = ("success", "failure", "delay", "never")


def _stdin() -> BinaryIO:
    return sys.stdin.buffer


class Send(Command):
    name = "send"
    help = "send a message: body on stdin, or a whole message with -t (sendmail compatible)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--account", "-a", metavar="NAME", help="send from this account")
        parser.add_argument(
            "--from",
            dest="from_address",
            metavar="ADDRESS",
            help="send as this identity (an address or alias of an account); "
            "its account is the one sending",
        )
        parser.add_argument("--to", action="append", default=[], metavar="ADDR")
        parser.add_argument("--cc", action="append", default=[], metavar="ADDR")
        parser.add_argument("--bcc", action="append", default=[], metavar="ADDR")
        parser.add_argument(
            "--subject", "-s", metavar="TEXT", help="required; --subject '' sends without one"
        )
        parser.add_argument("--attach", action="append", default=[], metavar="FILE")
        parser.add_argument("--html", metavar="FILE", help="add FILE as the HTML alternative")
        parser.add_argument("--in-reply-to", metavar="MSGID")
        parser.add_argument("--references", action="append", default=[], metavar="MSGID")
        parser.add_argument(
            "--dsn", metavar="LIST", help="ask for delivery notifications: success,failure,delay"
        )
        parser.add_argument(
            "--queue-only", action="store_true", help="only put it in the outbox; send later"
        )
        parser.add_argument(
            "--sign",
            action=argparse.BooleanOptionalAction,
            help="sign it (OpenPGP, PGP/MIME); default: the account's pgp_sign",
        )
        parser.add_argument(
            "--encrypt",
            action=argparse.BooleanOptionalAction,
            help="encrypt it to every recipient and to yourself (OpenPGP); refused, and not "
            "sent, when a recipient has no key; default: the account's pgp_encrypt",
        )
        parser.add_argument("--pgp-key", metavar="KEY", help="sign with this key (fingerprint)")
        parser.add_argument(
            "--at",
            metavar="WHEN",
            help="send later: 18:00, 'tomorrow 9:00', +2h, or an ISO time (kept in the outbox)",
        )
        parser.add_argument(
            "--yes", "-y", action="store_true", help="--at a past time: send at once, do not ask"
        )
        parser.add_argument(
            "-t",
            dest="from_headers",
            action="store_true",
            help="read a whole message from stdin; recipients from To/Cc/Bcc (sendmail -t)",
        )
        # sendmail compatibility: -i/-oi (a lone dot does not end the message: always so here),
        # -f envelope sender, -F full name; recipients may follow as arguments.
        parser.add_argument(
            "-i", "-oi", dest="ignore_dots", action="store_true", help=argparse.SUPPRESS
        )
        parser.add_argument("-f", dest="envelope_from", metavar="ADDR", help=argparse.SUPPRESS)
        parser.add_argument("-F", dest="full_name", metavar="NAME", help=argparse.SUPPRESS)
        parser.add_argument("-oem", dest="_oem", action="store_true", help=argparse.SUPPRESS)
        # sendmail's DSN options, as mutt passes them: -N notify, -R ret, -V envid.
        parser.add_argument("-N", dest="sm_notify", metavar="LIST", help=argparse.SUPPRESS)
        parser.add_argument("-R", dest="sm_ret", choices=("hdrs", "full"), help=argparse.SUPPRESS)
        parser.add_argument("-V", dest="sm_envid", metavar="ID", help=argparse.SUPPRESS)
        parser.add_argument(
            "recipients",
            nargs="*",
            metavar="ADDR",
            help="more recipients, or a mailto: URL (RFC 6068) giving recipients, subject, body",
        )

    def run(self, ctx: Context) -> int:
        args = ctx.args
        identity: Identity | None = None
        url_body = _take_mailto(args)
        try:
            config, account = load(ctx, args.account)
            if args.from_address:
                chosen = for_address(config, args.from_address, args.account)
                account = config.account(chosen.account)
                identity = replace(chosen.identity, address=chosen.address)
        except ConfigError as exc:
            # mutt's -a attaches a file; here -a names the account. Say so instead of only
            # "no account named '/path/file.pdf'".
            if args.account and Path(args.account).is_file():
                raise UsageError(
                    f"-a names the sending account, and there is no account {args.account!r}",
                    hint=f"to attach the file, use --attach {args.account}",
                ) from exc
            raise
        if account.outgoing is None and not args.queue_only:
            raise ConfigError(
                "no outgoing (SMTP) server configured",
                account=account.name,
                hint=f"add outgoing.host and outgoing.port to [accounts.{account.name}]",
            )
        if args.subject is None and not args.from_headers:
            # A script that forgot --subject gets an error, not a letter titled "(no subject)";
            # an empty subject is still possible when asked for (mutt asks the same question).
            raise UsageError(
                "send: no --subject given",
                account=account.name,
                hint="add --subject TEXT (--subject '' sends without one); "
                "for a whole message on stdin (mutt, git send-email) use send -t",
            )
        dsn = _dsn(args.dsn or args.sm_notify, args.sm_ret, args.sm_envid)
        not_before = _send_at(ctx, args.at) if args.at is not None else None
        stdin = _stdin()
        if url_body is None and stdin.isatty():
            ctx.stderr.write("tmail: type the message; end it with Ctrl-D on a line of its own\n")
        raw = url_body.encode("utf-8") if url_body is not None else stdin.read()
        server_size = queue_for(config.data_dir, account).server_size()
        composed = _compose(args, account, raw, server_size, identity)
        # before the outbox, so that it never holds the clear text
        composed = protect_composed(
            composed, account, sign=args.sign, encrypt=args.encrypt, key=args.pgp_key
        )
        entry = queue_message(config.data_dir, account, composed, dsn, not_before=not_before)
        for warning in composed.warnings:
            ctx.stderr.write(f"tmail: {warning}\n")
        if entry.not_before is not None:
            when = datetime.fromtimestamp(entry.not_before).astimezone()
            ctx.stdout.write(
                f"scheduled for {when:%a %Y-%m-%d %H:%M %Z} as {entry.id}: it goes at the "
                "first 'tmail sync', 'tmail flush', reader start or 'sync --watch' after that\n"
            )
            return EX_OK
        if args.queue_only:
            ctx.stdout.write(f"queued as {entry.id}\n")
            return EX_OK
        try:
            report = flush_account(config.data_dir, account, only=[entry.id])
        except TmailError as exc:
            # A config or lock problem: the message is safe in the outbox all the same.
            text = exc.one_line()
            ctx.stderr.write(f"tmail: queued as {entry.id}, not sent yet: {text}\n")
            return EX_TEMPFAIL
        for warning in report.warnings:
            ctx.stderr.write(f"tmail: {warning}\n")
        outcome = report.of(entry.id)
        if outcome is None:
            ctx.stderr.write(f"tmail: queued as {entry.id}\n")
            return EX_TEMPFAIL
        where = f"{account.name} ({account.outgoing.label if account.outgoing else '?'})"
        if outcome.status == "delivered":
            if not args.from_headers:
                ctx.stdout.write(f"sent: {_safe(outcome.message)}\n")
            return EX_OK
        if outcome.status in ("queued", "waiting", "uncertain"):
            ctx.stderr.write(f"tmail: {where}: queued as {entry.id}: {_safe(outcome.message)}\n")
            return EX_TEMPFAIL
        if outcome.status == "held":
            ctx.stderr.write(f"tmail: {where}: not sent, held as {entry.id}: ")
            ctx.stderr.write(f"{_safe(outcome.message)}\n")
            return EX_NOPERM
        what = "only partly sent" if outcome.status == "partial" else "not sent"
        ctx.stderr.write(f"tmail: {where}: {what}: {_safe(outcome.message)}\n")
        ctx.stderr.write("tmail: the message is kept in the failed folder (tmail queue)\n")
        return EX_UNAVAILABLE


def _send_at(ctx: Context, text: str) -> float | None:
    """The time ``--at`` names (local zone); a past time asks first (or ``--yes``) and then
    means at once (None)."""
    from tmail.core.when import parse_when

    now = datetime.now().astimezone()
    try:
        at = parse_when(text, now)
    except ValueError as exc:
        raise UsageError(f"send --at: {exc}") from None
    if at > now:
        return at.timestamp()
    if ctx.args.yes:
        return None
    question = f"{at:%Y-%m-%d %H:%M} has passed: send the message at once? [y/N] "
    try:
        with open("/dev/tty", "r+", encoding="utf-8") as tty:  # stdin is the message
            tty.write(question)
            tty.flush()
            answer = tty.readline().strip().lower()
    except OSError:
        raise UsageError(
            f"send --at: {at:%Y-%m-%d %H:%M} has passed (no terminal to ask in)",
            hint="add --yes to send it at once, or give a later time",
        ) from None
    if answer not in ("y", "yes"):
        raise UsageError("send --at: not sent (the time has passed); nothing was queued")
    return None


def _take_mailto(args: argparse.Namespace) -> str | None:
    """Fold the mailto: URLs among the recipients into the options (RFC 6068): their addresses
    join --to/--cc/--bcc, their subject and in-reply-to count when no option gives one. Returns
    the URL's body (then stdin is not read), or None."""
    urls = [r for r in args.recipients if is_mailto(r)]
    if not urls:
        return None
    if args.from_headers:
        raise UsageError("-t takes the whole message from stdin; a mailto: URL does not mix")
    if len(urls) > 1:
        raise UsageError("send: one mailto: URL at a time")
    mailto = parse_mailto(urls[0])
    args.recipients = [r for r in args.recipients if not is_mailto(r)]
    args.to = [*mailto.to, *args.to]
    args.cc = [*mailto.cc, *args.cc]
    args.bcc = [*mailto.bcc, *args.bcc]
    if args.subject is None and mailto.subject is not None:
        args.subject = mailto.subject
    if args.in_reply_to is None and mailto.in_reply_to:
        args.in_reply_to = mailto.in_reply_to
    return mailto.body


def _safe(text: str) -> str:
    return safe_line(text)


def _dsn(value: str | None, ret: str | None = None, envid: str | None = None) -> Dsn | None:
    if not value and not envid:
        return None
    value = value or ""
    notify = tuple(v.strip().lower() for v in value.split(",") if v.strip())
    bad = [v for v in notify if v not in DSN_VALUES]
    if bad or ("never" in notify and len(notify) > 1):
        raise UsageError(f"--dsn {value!r}: use any of success, failure, delay (or never alone)")
    if envid is not None and (not envid.isprintable() or len(envid) > 100):
        raise UsageError("-V: the envelope id must be printable and at most 100 characters")
    return Dsn(notify=notify, ret=(ret or "hdrs").upper(), envid=envid)


def _compose(
    args: argparse.Namespace,
    account: Account,
    raw: bytes,
    server_size: int | None,
    identity: Identity | None = None,
) -> Composed:
    ident = identity or account.all_identities()[0]
    name = args.full_name if args.full_name is not None else (ident.name or account.display_name)
    me = Address(name, ident.address)
    if args.from_headers:
        if args.to or args.cc or args.bcc or args.attach or args.html or args.subject is not None:
            raise UsageError("-t takes the whole message from stdin; --to/--subject/... do not mix")
        return prepare_raw(
            raw,
            default_from=me,
            extra_recipients=args.recipients,
            envelope_from=args.envelope_from,
        )
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MessageError(
            "the text on stdin is not UTF-8", hint="convert it first, e.g. with iconv -t utf-8"
        ) from exc
    html = None
    if args.html:
        try:
            html = Path(args.html).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MessageError(f"--html {args.html}: cannot read it as UTF-8 text ({exc})") from exc
    limits = Limits(
        max_attachment_size=account.max_attachment_size,
        max_message_size=message_size_limit(account.max_message_size, server_size),
        blocked_extensions=account.blocked_extensions,
    )
    draft = Draft(
        from_=me,
        to=tuple(args.to) + tuple(args.recipients),
        cc=tuple(args.cc),
        bcc=tuple(args.bcc) + ((ident.address,) if ident.bcc_self else ()),
        reply_to=(ident.reply_to,) if ident.reply_to else (),
        subject=args.subject or "",
        body=body,
        html=html,
        attachments=tuple(Path(p).expanduser() for p in args.attach),
        in_reply_to=args.in_reply_to,
        references=tuple(args.references),
        send_charset=account.send_charset,
    )
    return compose(draft, limits)
