"""Configuration: the TOML file, provider presets, secrets (keyring, password commands).

Imports only ``tmail.core``.
"""

from tmail.config.loader import (
    default_config_path,
    default_data_dir,
    load_config,
    pinned_cert_path,
    resolve_config_path,
)
from tmail.config.model import Account, Config, Role, SendLimits, ServerSettings
from tmail.config.presets import Preset, guess_preset, presets
from tmail.config.tables import parse_size

__all__ = [
    "Account",
    "Config",
    "Preset",
    "Role",
    "SendLimits",
    "ServerSettings",
    "default_config_path",
    "default_data_dir",
    "guess_preset",
    "load_config",
    "parse_size",
    "pinned_cert_path",
    "presets",
    "resolve_config_path",
]
