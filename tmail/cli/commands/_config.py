"""Loading the config for a command (the loader logs its warnings, once per run)."""

from __future__ import annotations

from tmail.cli.base import Context
from tmail.config import load_config
from tmail.config.model import Config


def load(ctx: Context) -> Config:
    return load_config(ctx.config_path)
