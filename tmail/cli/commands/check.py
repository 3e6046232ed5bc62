"""``tmail check [--account NAME] [--verbose]``: every server of an account, step by step."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from tmail.cli.base import Command, Context
from tmail.cli.commands._config import load
from tmail.config.model import Account, Role
from tmail.core.errors import TmailError
from tmail.core.safe import safe_line

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tmail.protocols.diagnose import Step
    from tmail.store import Store


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
            help="also print each step's details (certificate, capability lists, the probe's "
            "replies) and the protocol transcript before it (passwords and AUTH payloads hidden)",
        )

    def run(self, ctx: Context) -> int:
        from tmail.protocols.diagnose import check_server, roles

        config = load(ctx)
        accounts = (
            [config.account(ctx.args.account)]
            if ctx.args.account
            else list(config.accounts.values())
        )
        if not accounts:
            config.account()  # raises "no accounts configured" with its hint
        out = ctx.stdout
        verbose = bool(ctx.args.verbose)

        # One line per step as it is decided; --verbose adds the transcript that led to it
        # (before it) and the step's details (after it). A failed step always shows details.
        def transcript(direction: str, text: str) -> None:
            out.write(f"         {direction}: {safe_line(text)}\n")
            out.flush()

        def step(s: Step) -> None:
            out.write(f"    {'ok  ' if s.ok else 'FAIL'} {s.name:<12} {s.detail}\n")
            if verbose or not s.ok:
                for line in s.extra:
                    out.write(f"         {'':<12} {line}\n")
            out.flush()

        total = failed = 0
        store = _store_if_any(config.data_dir)
        for account in accounts:
            out.write(f"{account.name} <{account.email}>\n")
            reached = _reached(store, account)
            for role in roles(account):
                settings = account.incoming if role == "incoming" else account.outgoing
                assert settings is not None
                out.write(
                    f"  {role} {settings.protocol.upper()} {settings.label} "
                    f"(security {settings.security})\n"
                )
                out.flush()
                server = check_server(account, role, transcript if verbose else None, reached, step)
                _provider_advice(ctx, account, server.steps)
                total += 1
                failed += 0 if server.ok else 1
                if server.ok and store is not None:
                    _remember(store, account, server.role)
        if store is not None:
            store.close()
        if failed:
            ctx.stderr.write(f"tmail: check: {failed} of {total} servers failed\n")
            return 1
        out.write(f"all {total} servers pass\n")
        return 0


# A refused connection is worded for an outage where the account has logged in to that server
# before, for a setting to check where it never has (tmail.sync.contact keeps the record, in the
# store: read only when a store exists, never created by a check).
def _store_if_any(data_dir: Path) -> Store | None:
    from tmail.store import Store
    from tmail.store.store import INDEX_NAME

    if not (data_dir / INDEX_NAME).is_file():
        return None
    try:
        return Store(data_dir)
    except TmailError:
        return None


def _reached(store: Store | None, account: Account) -> set[Role]:
    from tmail.sync.contact import reached_before

    if store is None:
        return set()
    try:
        return {r for r in ("incoming", "outgoing") if reached_before(store, account, r)}
    except TmailError:
        return set()


def _remember(store: Store, account: Account, role: Role) -> None:
    from tmail.sync.contact import remember_reached

    with contextlib.suppress(TmailError):
        remember_reached(store, account, role)


def _provider_advice(ctx: Context, account: Account, steps: Sequence[Step]) -> None:
    """After a login refused the way the account's provider typically refuses it, the switches
    the provider wants turned on (provider_facts.toml), in plain words."""
    from tmail.cli.commands._provider_notes import login_refusal_notes

    failed = [s for s in steps if s.name == "login" and not s.ok]
    for note in login_refusal_notes(account, failed[0].detail) if failed else ():
        ctx.stdout.write(f"    note: {note}\n")
