"""Provider facts (``provider_facts.toml``): MX suffixes, the switches a user must turn on,
typical login refusals and published sending limits, as frozen types; and the provider table
discovery uses (the built-in presets plus a user's own file named by ``TMAIL_PROVIDERS``).

Data, not code: a provider's facts are a section of the TOML file, named like its preset.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from tmail.config.presets import Preset, parse_presets, presets
from tmail.core.errors import ConfigError


@dataclass(frozen=True)
class ProviderFacts:
    name: str
    mx: tuple[str, ...] = ()
    switches: tuple[str, ...] = ()
    refusals: tuple[str, ...] = ()
    limits: str = "unknown"
    per_message: int | None = None

    def refusal_matches(self, server_text: str) -> bool:
        """True when a login refusal's text is one of this provider's typical ones."""
        text = server_text.lower()
        return any(words in text for words in self.refusals)


def _facts(table: dict[str, Any]) -> dict[str, ProviderFacts]:
    out: dict[str, ProviderFacts] = {}
    for name, raw in table.items():
        if not isinstance(raw, dict):
            continue
        per_message = raw.get("per_message")
        out[name] = ProviderFacts(
            name=name,
            mx=tuple(str(m).lower() for m in raw.get("mx", ())),
            switches=tuple(str(s) for s in raw.get("switches", ())),
            refusals=tuple(str(r).lower() for r in raw.get("refusals", ())),
            limits=str(raw.get("send_limits", "unknown")),
            per_message=int(per_message) if per_message is not None else None,
        )
    return out


@cache
def provider_facts() -> dict[str, ProviderFacts]:
    """The built-in facts by provider name, read once."""
    text = resources.files("tmail.config").joinpath("provider_facts.toml").read_text("utf-8")
    return _facts(tomllib.loads(text))


@dataclass(frozen=True)
class ProviderTable:
    """Presets and facts together: what discovery consults."""

    presets: dict[str, Preset]
    facts: dict[str, ProviderFacts]

    def mx_suffixes(self) -> dict[str, tuple[str, ...]]:
        return {name: f.mx for name, f in self.facts.items() if f.mx and name in self.presets}


def provider_table(extra_file: Path | None = None) -> ProviderTable:
    """The built-in table, plus (winning over it) the sections of ``extra_file``: each in the
    format of ``providers.toml`` and may carry the keys of ``provider_facts.toml`` too."""
    table = ProviderTable(presets=dict(presets()), facts=dict(provider_facts()))
    if extra_file is None:
        return table
    try:
        raw = tomllib.loads(extra_file.read_text("utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"cannot read the provider file {extra_file}: {exc.strerror or exc}",
            hint="check TMAIL_PROVIDERS",
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{extra_file}: not valid TOML: {exc}", hint="check TMAIL_PROVIDERS"
        ) from None
    try:
        table.presets.update(parse_presets(raw))
        table.facts.update(_facts(raw))
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"{extra_file}: a provider entry is incomplete ({exc})",
            hint="each needs title, domains and imap/smtp = { host, port, security }",
        ) from None
    return table


def refusal_advice(facts: ProviderFacts | None, server_text: str) -> tuple[str, ...]:
    """The switches to turn on, when a login refusal reads like the provider's typical one
    (Yandex's "no access rights to this service", Mail.ru's "application password required");
    () otherwise: a plain wrong password needs no lecture."""
    if facts is None or not facts.switches or not facts.refusal_matches(server_text):
        return ()
    return facts.switches


def account_facts(provider: str | None, extra_file: Path | None = None) -> ProviderFacts | None:
    """The facts of an account's ``provider`` (built-in, or from the TMAIL_PROVIDERS file)."""
    if not provider:
        return None
    if extra_file is not None:
        try:
            return provider_table(extra_file).facts.get(provider)
        except ConfigError:
            pass
    return provider_facts().get(provider)
