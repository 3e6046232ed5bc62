"""``tmail attachments ID|FILE [--save DIR] [--index N]``: list or save a message's attachments."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tmail.cli.base import Command, Context
from tmail.cli.messages import load_message
from tmail.core.errors import StoreError, UsageError
from tmail.core.safe import safe_line
from tmail.core.sizes import human_size
from tmail.mime import Attachment, parse_message
from tmail.mime.attachments import save_bytes
from tmail.mime.gpg import default_backend
from tmail.mime.pgp import open_protected

MAX_LEVELS = 8  # enclosed messages listed inside enclosed messages


def flatten(attachments: tuple[Attachment, ...], prefix: str = "") -> list[tuple[str, Attachment]]:
    """Every attachment with its number: ``2`` at the top, ``2.1`` inside enclosed message 2."""
    out: list[tuple[str, Attachment]] = []
    for att in attachments:
        label = f"{prefix}{att.index}"
        out.append((label, att))
        if att.message is not None and label.count(".") < MAX_LEVELS:
            out.extend(flatten(att.message.attachments, label + "."))
    return out


class Attachments(Command):
    name = "attachments"
    help = "list a message's attachments, or save them (--save DIR) under safe names"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "message", metavar="ID|FILE", help="a message id, an .eml file, or '-' for stdin"
        )
        parser.add_argument("--save", metavar="DIR", help="save into DIR (never overwrites)")
        parser.add_argument(
            "--index",
            metavar="N",
            help="only attachment N as numbered in the list (2.1: the first one inside the "
            "enclosed message 2)",
        )
        parser.add_argument("--json", action="store_true", help="list as JSON")
        parser.add_argument(
            "--assume-charset",
            metavar="CHARSET",
            action="append",
            default=[],
            help="charset to try first for 8-bit names without a trustworthy label (repeatable)",
        )

    def run(self, ctx: Context) -> int:
        args = ctx.args
        message = load_message(ctx, args.message, args.assume_charset)
        # the parts inside an encrypted message are listed and saved like any others
        opened = open_protected(message.raw, default_backend)
        parsed = parse_message(opened.raw, message.assumed_charsets)
        listed = flatten(parsed.attachments)
        if args.index is not None:
            chosen = [(label, a) for label, a in listed if label == args.index.strip()]
            if not chosen:
                count = len(parsed.attachments)
                raise UsageError(
                    f"message has no attachment {args.index}",
                    hint=f"it has {count}: run 'tmail attachments {args.message}' to list them"
                    if count
                    else "it has none",
                )
        else:
            # Saving everything saves the top level: an enclosed message keeps its own parts.
            chosen = (
                [(label, a) for label, a in listed if "." not in label] if args.save else listed
            )
        if args.save:
            directory = Path(args.save).expanduser()
            for _label, att in chosen:
                try:
                    path = save_bytes(att.data(), directory, att.filename)
                except OSError as exc:
                    raise StoreError(
                        f"cannot save {safe_line(att.filename)} in {directory}: "
                        f"{exc.strerror or exc}",
                        hint="check that the directory is writable and the disk has room",
                    ) from exc
                ctx.stdout.write(safe_line(str(path)) + "\n")  # tmail(1): one path a line
            return 0
        if args.json:
            items = [
                {
                    "number": label,
                    "index": a.index,
                    "filename": safe_line(a.filename),
                    "original_filename": safe_line(a.original_filename),
                    "content_type": safe_line(a.content_type),
                    "size": a.size,
                    "inline": a.inline,
                }
                for label, a in chosen
            ]
            ctx.stdout.write(json.dumps(items, ensure_ascii=False, indent=2) + "\n")
            return 0
        for label, a in chosen:
            indent = "  " * label.count(".")
            ctx.stdout.write(
                f"{label:>3}  {indent}{safe_line(a.filename)}  {safe_line(a.content_type)}  "
                f"{human_size(a.size)}\n"
            )
        return 0
