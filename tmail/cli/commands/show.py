"""``tmail show ID|FILE``: print a message readably (header block, body, attachment list)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from tmail.cli.base import Command, Context
from tmail.cli.messages import account_authserv_ids, load_message
from tmail.core.models import Address
from tmail.core.safe import safe_line, safe_text
from tmail.mime import ParsedMessage, parse_message
from tmail.mime.gpg import default_backend
from tmail.mime.invitation import read_invitation
from tmail.mime.pgp import CryptoStatus, open_protected
from tmail.mime.render import render_chunks
from tmail.mime.sender import SenderCheck, check_sender


def _addresses(addresses: tuple[Address, ...]) -> list[dict[str, str]]:
    return [{"name": safe_line(a.name), "addr": safe_line(a.addr)} for a in addresses]


def crypto_json(crypto: CryptoStatus | None) -> dict[str, Any] | None:
    """The ``crypto`` object of ``--json`` (None: no OpenPGP in the message), strings safe."""
    if crypto is None:
        return None
    data = crypto.to_json()
    data["line"] = crypto.line()
    safe: dict[str, Any] = _safe_strings(data)
    return safe


def _safe_strings(value: Any) -> Any:
    if isinstance(value, str):
        return safe_line(value)
    if isinstance(value, dict):
        return {k: _safe_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_safe_strings(v) for v in value]
    return value


def message_json(parsed: ParsedMessage) -> dict[str, Any]:
    """The ``--json`` object: the keys documented in tmail(1), every string terminal-safe."""
    report = parsed.dsn
    return {
        "subject": safe_line(parsed.subject),
        "from": _addresses(parsed.from_),
        "to": _addresses(parsed.to),
        "cc": _addresses(parsed.cc),
        "reply_to": _addresses(parsed.reply_to),
        "date": parsed.date.isoformat() if parsed.date is not None else None,
        "message_id": safe_line(parsed.message_id) if parsed.message_id else None,
        "in_reply_to": safe_line(parsed.in_reply_to) if parsed.in_reply_to else None,
        "references": [safe_line(r) for r in parsed.references],
        "text": parsed.text,  # made terminal-safe by the parser
        "html": parsed.text_from_html,
        "charset": parsed.charset,
        "charset_detected": parsed.charset_detected,
        "links": [safe_line(link) for link in parsed.links],
        "attachments": [
            {
                "index": a.index,
                "filename": safe_line(a.filename),
                "original_filename": safe_line(a.original_filename),
                "content_type": safe_line(a.content_type),
                "size": a.size,
            }
            for a in parsed.attachments
        ],
        "delivery_status": None
        if report is None
        else {
            "reporting_mta": safe_line(report.reporting_mta),
            "recipients": [
                {
                    "original_recipient": safe_line(r.original_recipient),
                    "final_recipient": safe_line(r.final_recipient),
                    "action": safe_line(r.action),
                    "status": safe_line(r.status),
                    "diagnostic": safe_line(r.diagnostic),
                }
                for r in report.recipients
            ],
        },
        "nested": [message_json(n) for n in parsed.nested],
        "problems": [safe_line(p) for p in parsed.problems],
    }


class Show(Command):
    name = "show"
    help = "print a message readably: headers, body (HTML as text), attachment list"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "message", metavar="ID|FILE", help="a message id, an .eml file, or '-' for stdin"
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--json", action="store_true", help="print one JSON object")
        mode.add_argument("--raw", action="store_true", help="print the message as stored")
        parser.add_argument(
            "--headers", action="store_true", help="show every header field, decoded"
        )
        parser.add_argument(
            "--account",
            "-a",
            metavar="NAME",
            help="read a file's Authentication-Results as this account's server wrote them "
            "(a stored message: its own account)",
        )
        parser.add_argument(
            "--assume-charset",
            metavar="CHARSET",
            action="append",
            default=[],
            help="charset to try first for 8-bit text without a trustworthy label (repeatable)",
        )

    def run(self, ctx: Context) -> int:
        args = ctx.args
        message = load_message(ctx, args.message, args.assume_charset)
        if args.raw:
            _write_raw(ctx, message.raw)
            return 0
        opened = open_protected(message.raw, default_backend)  # in memory only
        parsed = parse_message(opened.raw, message.assumed_charsets)
        trusted = account_authserv_ids(ctx, args.account or message.account)
        sender = check_sender(parsed.headers, parsed.from_, trusted)
        invitation = read_invitation(opened.raw)
        if args.json:
            data = message_json(parsed)
            data["sender"] = sender.as_json(parsed.from_)
            data["calendar"] = invitation.as_json() if invitation is not None else None
            data["crypto"] = crypto_json(opened.crypto)
            if args.headers:  # every field as [name, value], in order
                data["headers"] = [[safe_line(n), safe_line(v)] for n, v in parsed.headers]
            ctx.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        else:
            for n, chunk in enumerate(render_chunks(parsed, all_headers=args.headers)):
                if n == 0:
                    chunk = _with_sender(chunk, sender, parsed)
                    if invitation is not None:
                        chunk += "\n".join(invitation.lines()) + "\n\n"
                ctx.stdout.write(chunk)
                if n == 0 and opened.crypto is not None:  # below the header block
                    ctx.stdout.write(safe_line(opened.crypto.line()) + "\n\n")
        return 0


def _with_sender(block: str, sender: SenderCheck, parsed: ParsedMessage) -> str:
    """The header block with the "Auth:" and "Warning:" lines of :mod:`tmail.mime.sender`."""
    lines = [
        f"{name}: {safe_line(text)}"
        for name, text in (
            ("Auth", sender.auth_line()),
            ("Warning", sender.warning_line(parsed.from_)),
        )
        if text
    ]
    if not lines or not block.endswith("\n\n"):
        return block
    return block[:-1] + "\n".join(lines) + "\n\n"


def _write_raw(ctx: Context, raw: bytes) -> None:
    """The stored bytes exactly when they go to a file or pipe; made safe for a terminal."""
    buffer = getattr(ctx.stdout, "buffer", None)
    isatty = getattr(ctx.stdout, "isatty", lambda: False)()
    if buffer is not None and not isatty:
        ctx.stdout.flush()
        buffer.write(raw)
        buffer.flush()
        return
    ctx.stdout.write(safe_text(raw.decode("utf-8", errors="replace")))
