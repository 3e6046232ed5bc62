"""``tmail sync``: fetch new mail and push local changes, once or continuously (``--watch``)."""

from __future__ import annotations

import argparse
import json
import signal
import threading  # noqa: TID251 (the signal handler's stop Event, the progress line's lock)
import time
from types import FrameType
from typing import TextIO

from tmail.cli.base import Command, Context
from tmail.core.counts import plural
from tmail.core.safe import safe_line
from tmail.core.sizes import human_size
from tmail.sync.result import Progress


class _ProgressLine:
    """One self-overwriting status line on a terminal: folder, n/N, bytes/s."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, p: Progress) -> None:
        elapsed = max(0.001, time.monotonic() - self.started)
        rate = p.bytes / elapsed
        text = safe_line(
            f"{p.account} {p.folder} {p.done}/{p.total} {human_size(p.bytes)} {human_size(rate)}/s"
        )
        with self.lock:
            self.out.write("\r\x1b[K" + text[:120])
            self.out.flush()
            self.shown = True

    def clear(self) -> None:
        with self.lock:
            if self.shown:
                self.out.write("\r\x1b[K")
                self.out.flush()
                self.shown = False


class Sync(Command):
    name = "sync"
    help = "fetch new mail and push local changes (IMAP both ways, POP3 download)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--account", "-a", action="append", metavar="NAME", help="only this account (repeat)"
        )
        parser.add_argument(
            "--folder", "-f", action="append", metavar="F", help="only this folder (IMAP; repeat)"
        )
        parser.add_argument("--quiet", "-q", action="store_true", help="print only errors")
        parser.add_argument("--json", action="store_true", help="print the results as JSON")
        parser.add_argument(
            "--watch",
            action="store_true",
            help="keep running: poll each account on its poll_interval, IDLE on IMAP INBOX",
        )

    def run(self, ctx: Context) -> int:
        from tmail.config import load_config
        from tmail.runtime.watch import sync_accounts, watch
        from tmail.store import Store

        args = ctx.args
        config = load_config(ctx.config_path)
        names: list[str] | None = args.account
        accounts = [config.account(n) for n in names] if names else list(config.accounts.values())
        if not accounts:
            config.account()  # raises the "no accounts configured" error with its hint

        charsets = config.assumed_charsets
        # repair the index once, before the workers
        Store.open(config.data_dir, assumed_charsets=charsets).close()

        def open_store() -> Store:
            return Store.open(config.data_dir, check=False, assumed_charsets=charsets)

        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            if args.watch:
                if not args.quiet:
                    ctx.stderr.write(
                        f"tmail: watching {plural(len(accounts), 'account')}; "
                        "Ctrl-C or SIGTERM to stop\n"
                    )

                def log(line: str) -> None:
                    ctx.stderr.write(line + "\n")
                    ctx.stderr.flush()

                watch(config, accounts, open_store, log=log, stop=stop, folders=args.folder)
                return 0
            show = ctx.stderr.isatty() and not args.quiet and not args.json
            bar = _ProgressLine(ctx.stderr) if show else None
            results = sync_accounts(
                config, accounts, open_store, folders=args.folder, progress=bar, stop=stop
            )
            if bar is not None:
                bar.clear()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if args.json:
            ok = all(r.ok for r in results)
            ctx.stdout.write(
                json.dumps({"ok": ok, "accounts": [r.as_dict() for r in results]}, indent=2) + "\n"
            )
        elif not args.quiet:
            for r in results:
                ctx.stdout.write(
                    safe_line(r.summary()) + ("  (stopped)" if r.stopped else "") + "\n"
                )
        for r in results:
            for line in r.errors:
                ctx.stderr.write(f"tmail: {safe_line(line)}\n")
                if "login refused" in line and r.account in config.accounts:
                    from tmail.cli.commands._provider_notes import login_refusal_notes

                    for note in login_refusal_notes(config.accounts[r.account], line):
                        ctx.stderr.write(f"tmail: note: {note}\n")
            for line in () if args.quiet else r.notes:  # renamed folders, a Sent kept local
                ctx.stderr.write(f"tmail: {safe_line(line)}\n")
        if config.carddav is not None and not names and not stop.is_set():
            from tmail.sync.carddav import sync_report  # the address book, synced with mail

            with open_store() as store:
                line, good, _ = sync_report(config.carddav, store)
            if not good:
                ctx.stderr.write(f"tmail: {safe_line(line)}\n")
            elif not (args.quiet or args.json):
                ctx.stdout.write(safe_line(line) + "\n")
        if stop.is_set():
            return 130 if not all(r.ok for r in results) else 0
        return 0 if all(r.ok for r in results) else 1
