"""``tmail queue``: what waits in the outbox, why, and when it is tried next; ``--drop ID``."""

from __future__ import annotations

import argparse
import time

from tmail.cli.base import Command, Context
from tmail.cli.commands._sending import load_all
from tmail.core.safe import safe_line
from tmail.outbox.flush import clock_time, held_words
from tmail.outbox.queue import Entry
from tmail.outbox.service import queue_for


def describe(entry: Entry, now: float) -> list[str]:
    """The lines ``tmail queue`` prints for one entry."""
    rcpts = ", ".join(entry.recipients) or "-"
    state = state_word(entry)
    head = f"{entry.id}  {state:<7} {safe_line(entry.subject) or '(no subject)'}"
    lines = [head, f"    to: {safe_line(rcpts)}"]
    if entry.delivered:
        lines.append(f"    already delivered to: {safe_line(', '.join(entry.delivered))}")
    failures = sum(1 for a in entry.attempts if a.outcome in ("temporary", "permanent"))
    lines.append(f"    attempts: {failures}, queued {clock_time(entry.created)}")
    if entry.hold:
        lines.append(f"    {safe_line(held_words(entry))}")
    elif entry.last_error:
        lines.append(f"    last error: {safe_line(entry.last_error)}")
    if entry.state == "queued" and not entry.hold:
        if entry.not_before is not None and entry.not_before > now:
            lines.append(f"    scheduled for {clock_time(entry.not_before)}")
        elif entry.waiting_until and entry.waiting_until > now:
            lines.append(f"    rate limit: waits until {clock_time(entry.waiting_until)}")
        elif entry.next_try > now:
            lines.append(f"    next try: {clock_time(entry.next_try)}")
        else:
            lines.append("    next try: now (tmail flush)")
    return lines


def state_word(entry: Entry) -> str:
    """queued, failed, held (login refused), uncertain (delivery uncertain) or later (sent
    later: it waits for its time)."""
    if entry.hold == "login":
        return "held"
    if entry.hold == "uncertain":
        return "uncertain"
    if entry.state == "queued" and entry.scheduled(time.time()):
        return "later"
    return entry.state


class QueueCommand(Command):
    name = "queue"
    help = "list the outbox (queued and failed messages); --drop ID removes one"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--account", "-a", metavar="NAME", help="only this account")
        parser.add_argument("--drop", metavar="ID", help="remove this message from the outbox")

    def run(self, ctx: Context) -> int:
        config, accounts = load_all(ctx, ctx.args.account)
        now = time.time()
        if ctx.args.drop:
            if len(accounts) > 1:
                for acc in accounts:
                    q = queue_for(config.data_dir, acc)
                    ids = [e.id for e in (*q.entries(), *q.failed())]
                    if any(i.startswith(ctx.args.drop) for i in ids):
                        accounts = [acc]
                        break
            q = queue_for(config.data_dir, accounts[0])
            entry = q.drop(ctx.args.drop)
            ctx.stdout.write(f"dropped {entry.id} ({safe_line(entry.subject)})\n")
            return 0
        shown = 0
        for acc in accounts:
            q = queue_for(config.data_dir, acc)
            entries = [*q.entries(), *q.failed()]
            for warning in q.warnings:
                ctx.stderr.write(f"tmail: {safe_line(warning)}\n")
            if not entries:
                continue
            ctx.stdout.write(f"{acc.name}:\n")
            for e in entries:
                ctx.stdout.write("".join(f"  {line}\n" for line in describe(e, now)))
                shown += 1
        if not shown:
            ctx.stdout.write("the outbox is empty\n")
        return 0
