"""``tmail check [--account NAME] [--verbose]``: every server of an account, step by step."""

from __future__ import annotations

import argparse

from tmail.cli.base import Command, Context
from tmail.cli.commands._config import load
from tmail.core.safe import safe_line


class Check(Command):
    name = "check"
    help = (
        "test each server of an account: resolve, connect, TLS, capabilities, login, folders, "
        "an SMTP probe (nothing is sent); exit 0 only when all pass"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--account", "-a", metavar="NAME", help="only this account")
        parser.add_argument(
            "--verbose",
            "-v",
            action="store_true",
            help="print the protocol transcript (passwords and AUTH payloads hidden)",
        )

    def run(self, ctx: Context) -> int:
        from tmail.protocols.diagnose import check_account

        config = load(ctx)
        accounts = (
            [config.account(ctx.args.account)]
            if ctx.args.account
            else list(config.accounts.values())
        )
        if not accounts:
            config.account()  # raises "no accounts configured" with its hint
        out = ctx.stdout

        def transcript(direction: str, text: str) -> None:
            out.write(f"      {direction}: {safe_line(text)}\n")
            out.flush()

        total = failed = 0
        for account in accounts:
            out.write(f"{account.name} <{account.email}>\n")
            out.flush()
            for server in check_account(account, transcript if ctx.args.verbose else None):
                total += 1
                failed += 0 if server.ok else 1
                out.write(
                    f"  {server.role} {server.protocol.upper()} {server.label} "
                    f"(security {server.security}): {'ok' if server.ok else 'FAILED'}\n"
                )
                for step in server.steps:
                    mark = "ok  " if step.ok else "FAIL"
                    out.write(f"    {mark} {step.name:<12} {step.detail}\n")
                    for line in step.extra:
                        out.write(f"         {'':<12} {line}\n")
                out.flush()
        if failed:
            ctx.stderr.write(f"tmail: check: {failed} of {total} servers failed\n")
            return 1
        out.write(f"all {total} servers pass\n")
        return 0
