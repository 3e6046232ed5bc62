"""``tmail accounts``: the configured accounts, their servers and where passwords come from."""

from __future__ import annotations

import argparse

from tmail.cli.base import Command, Context
from tmail.cli.commands._config import load
from tmail.config.model import Account, Role
from tmail.config.secrets import password_source
from tmail.core.safe import safe_line


def _server_line(account: Account, role: Role) -> str:
    s = account.incoming if role == "incoming" else account.outgoing
    if s is None:
        return f"{role:<9} (none: this account cannot send)"
    pin = ", pinned certificate" if s.pinned_cert else ""
    label = "sign-in" if s.auth == "xoauth2" else "password"  # a token is no password
    return (
        f"{role:<9} {s.protocol.upper():<5} {s.host}:{s.port} {s.security}{pin}; "
        f"user {s.username}; {label}: {password_source(account, role)}"
    )


class Accounts(Command):
    name = "accounts"
    help = (
        "list the configured accounts: address, servers, security, where each password comes from"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--names", action="store_true", help="only the names, one a line")

    def run(self, ctx: Context) -> int:
        config = load(ctx)
        default = config.account().name if config.accounts else None
        if not config.accounts:
            where = config.path or "the config file"
            ctx.stderr.write(f"tmail: no accounts in {where}; add one with 'tmail account add'\n")
            return 1
        for account in config.accounts.values():
            if ctx.args.names:
                ctx.stdout.write(account.name + "\n")
                continue
            mark = " (default)" if account.name == default else ""
            name = f" {account.display_name}" if account.display_name else ""
            preset = f", provider {account.provider}" if account.provider else ""
            ctx.stdout.write(safe_line(f"{account.name}{mark}:{name} <{account.email}>{preset}"))
            ctx.stdout.write("\n")
            for role in ("incoming", "outgoing"):
                ctx.stdout.write("  " + safe_line(_server_line(account, role)) + "\n")
        return 0
