"""``tmail list``: a folder (or every inbox) newest first, one message per line."""

from __future__ import annotations

import argparse

from tmail.cli.base import Command, Context
from tmail.cli.commands._store import open_store, write_rows
from tmail.core.safe import safe_line


class ListCommand(Command):
    name = "list"
    help = "list messages newest first: id, date, from, subject, flags, size"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--account", "-a", metavar="NAME", help="only this account")
        parser.add_argument(
            "--folder", "-f", metavar="FOLDER", help="folder (default: INBOX of every account)"
        )
        parser.add_argument("--limit", "-n", type=int, default=50, metavar="N", help="default 50")
        parser.add_argument("--offset", type=int, default=0, metavar="N", help="skip N first")
        parser.add_argument("--sort", choices=("date", "from", "subject", "size"), default="date")
        parser.add_argument("--reverse", action="store_true", help="oldest (A, smallest) first")
        parser.add_argument("--unread", action="store_true", help="only unread messages")
        parser.add_argument("--threads", action="store_true", help="group messages by thread")
        parser.add_argument("--json", action="store_true", help="JSON for scripts")

    def run(self, ctx: Context) -> int:
        a = ctx.args
        folder = a.folder or "INBOX"
        with open_store(ctx) as store:
            if a.threads:
                return _threads(ctx, store, a.account, folder)
            rows = store.list_messages(
                a.account,
                folder,
                sort=a.sort,
                reverse=not a.reverse,
                offset=max(0, a.offset),
                limit=max(0, a.limit),
                unread_only=a.unread,
            )
            shown = write_rows(
                ctx, rows, as_json=a.json, show_folder=a.account is None and _multi(store)
            )
        if not shown and not a.json:
            _say_none(ctx, folder)
        return 0


def _say_none(ctx: Context, folder: str) -> None:
    """An empty list says so, on stderr: a script reading stdout still gets nothing."""
    what = "no unread messages" if ctx.args.unread else "no messages"
    where = f"in {folder}" if ctx.args.folder or ctx.args.account else "in the inboxes"
    if ctx.args.account:
        where += f" of {ctx.args.account}"
    ctx.stderr.write(safe_line(f"{what} {where}") + "\n")


def _multi(store: object) -> bool:
    from tmail.store import Store

    assert isinstance(store, Store)
    return len(store.accounts()) > 1


def _threads(ctx: Context, store: object, account: str | None, folder: str) -> int:
    import json

    from tmail.cli.commands._store import row_json, row_line
    from tmail.store import Store

    assert isinstance(store, Store)
    a = ctx.args
    threads = store.threads(account, folder, offset=max(0, a.offset), limit=max(0, a.limit))
    if a.json:
        out = []
        for t in threads:
            out.append(
                {
                    "thread": t.thread_id,
                    "count": t.count,
                    "unread": t.unread,
                    "messages": [
                        dict(row_json(e.message), depth=e.depth)
                        for e in store.thread(t.thread_id)
                        if e.message.folder == folder or folder is None
                    ],
                }
            )
        ctx.stdout.write(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
        return 0
    shown = 0
    for t in threads:
        for e in store.thread(t.thread_id):
            if e.message.folder != folder and e.depth == 0 and t.count == 1:
                continue
            ctx.stdout.write(row_line(e.message, indent=e.depth) + "\n")
            shown += 1
    if not shown:
        _say_none(ctx, folder)
    return 0
