"""The switches a provider wants turned on, shown after a login it refused in its typical way
(``provider_facts.toml``): by ``tmail check``, ``tmail sync`` and ``tmail account add``."""

from __future__ import annotations

from tmail.config.discovery import discovery_settings
from tmail.config.facts import account_facts, refusal_advice
from tmail.config.model import Account
from tmail.core.errors import TmailError


def login_refusal_notes(account: Account, refusal: str) -> tuple[str, ...]:
    """The account's provider's switches when ``refusal`` (the line that reported the refused
    login, with the server's words) reads like that provider's typical refusal; else ()."""
    try:
        extra = discovery_settings().providers_file  # TMAIL_PROVIDERS
    except TmailError:
        extra = None
    return refusal_advice(account_facts(account.provider, extra), refusal)
