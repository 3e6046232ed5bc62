"""What ``send``, ``queue`` and ``flush`` share: the config and the account to work on."""

from __future__ import annotations

import importlib
from typing import cast

from tmail.cli.base import Context
from tmail.config.model import Account, Config
from tmail.core.errors import ConfigError


def _load_config(ctx: Context) -> Config:
    # The loader is the accounts work (issue 3), landing in parallel: look it up at run time.
    loader = getattr(importlib.import_module("tmail.config"), "load_config", None)
    if loader is None:
        raise ConfigError("reading the config file is not available in this build")
    return cast(Config, loader(ctx.config_path) if ctx.config_path else loader())


def load(ctx: Context, account: str | None) -> tuple[Config, Account]:
    config = _load_config(ctx)
    return config, config.account(account)


def load_all(ctx: Context, account: str | None) -> tuple[Config, list[Account]]:
    config = _load_config(ctx)
    if account is not None:
        return config, [config.account(account)]
    return config, list(config.accounts.values())
