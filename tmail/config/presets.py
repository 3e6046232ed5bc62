"""Provider presets: the data table in ``providers.toml`` as frozen types, and domain guessing.

The table is data, not code: adding a provider means adding a section to ``providers.toml``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from tmail.config.model import Security, SendLimits


@dataclass(frozen=True)
class PresetServer:
    host: str
    port: int
    security: Security


@dataclass(frozen=True)
class Preset:
    """One provider: its servers, published sending limits, and how to log in."""

    name: str
    title: str
    domains: tuple[str, ...]
    imap: PresetServer | None
    pop3: PresetServer | None
    smtp: PresetServer | None
    limits: SendLimits
    auth: str = "password"
    note: str = ""

    def server(self, protocol: str) -> PresetServer | None:
        return {"imap": self.imap, "pop3": self.pop3, "smtp": self.smtp}.get(protocol)


def _server(raw: Any) -> PresetServer | None:
    if raw is None:
        return None
    return PresetServer(host=raw["host"], port=int(raw["port"]), security=raw["security"])


@cache
def presets() -> dict[str, Preset]:
    """Every preset by name, read once from the package's ``providers.toml``."""
    text = resources.files("tmail.config").joinpath("providers.toml").read_text("utf-8")
    return parse_presets(tomllib.loads(text))


def parse_presets(table: dict[str, Any]) -> dict[str, Preset]:
    """Presets from a table in the format of ``providers.toml`` (also a user's own file, see
    ``TMAIL_PROVIDERS`` in :mod:`tmail.config.discovery`). Raises KeyError/ValueError/TypeError
    on a malformed entry."""
    out: dict[str, Preset] = {}
    for name, raw in table.items():
        lim = raw.get("limits", {})
        out[name] = Preset(
            name=name,
            title=raw.get("title", name),
            domains=tuple(d.lower() for d in raw.get("domains", ())),
            imap=_server(raw.get("imap")),
            pop3=_server(raw.get("pop3")),
            smtp=_server(raw.get("smtp")),
            limits=SendLimits(
                per_second=lim.get("per_second"),
                per_hour=lim.get("per_hour"),
                per_day=lim.get("per_day"),
                per_message=lim.get("per_message"),
                count_recipients=bool(lim.get("count_recipients", False)),
            ),
            auth=raw.get("auth", "password"),
            note=raw.get("note", ""),
        )
    return out


def guess_preset(email: str) -> Preset | None:
    """The preset whose domains include the address's domain (or a parent domain), if any."""
    _, _, domain = email.strip().lower().rpartition("@")
    if not domain:
        return None
    parts = domain.split(".")
    for i in range(len(parts) - 1):
        candidate = ".".join(parts[i:])
        for preset in presets().values():
            if candidate in preset.domains:
                return preset
    return None
