"""What ``send``, ``queue`` and ``flush`` share: the config and the account to work on."""

from __future__ import annotations

from tmail.cli.base import Context
from tmail.config import load_config
from tmail.config.model import Account, Config


def load(ctx: Context, account: str | None) -> tuple[Config, Account]:
    config = load_config(ctx.config_path)
    return config, config.account(account)


def load_all(ctx: Context, account: str | None) -> tuple[Config, list[Account]]:
    config = load_config(ctx.config_path)
    if account is not None:
        return config, [config.account(account)]
    return config, list(config.accounts.values())
