"""Identities: reading ``[[accounts.NAME.identities]]`` and choosing the one a message was for.

An identity is an address an account sends from (its main address, an alias, a wildcard
``*@example.org``) with a name, Reply-To, Bcc to oneself and a signature. A reply or forward
goes out from the identity the original was sent to: the first of its To, Cc, Delivered-To and
X-Original-To addresses that an identity covers, across all accounts (an exact address before a
wildcard).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tmail.config.model import Account, Config, Identity
from tmail.core.errors import ConfigError

IDENTITY_KEYS = (
    "address",
    "name",
    "reply_to",
    "bcc_self",
    "signature",
    "signature_file",
    "signature_command",
    "signature_placement",
)
PLACEMENTS = ("below", "above")
_ADDRESS = re.compile(r"[^\s@<>,;\"]+@[^\s@<>,;\"]+")
_WILDCARD = re.compile(r"\*@[^\s@<>,;\"*]+")


@dataclass(frozen=True)
class Chosen:
    """An identity chosen for a message: its account, the identity and the concrete address
    (for a wildcard, the address the message was sent to)."""

    account: str
    identity: Identity
    address: str


def parse_identities(
    raw: object,
    *,
    file: Path,
    account: str,
    error: Callable[[str, str, str | None], ConfigError],
) -> tuple[Identity, ...]:
    """The validated identities of one account; ``error(where, message, hint)`` makes the one
    :class:`ConfigError` for a bad value."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise error(
            f"account {account!r}: identities",
            "expected [[accounts.NAME.identities]] tables",
            'write each as [[accounts.NAME.identities]] with address = "..."',
        )
    out: list[Identity] = []
    seen: set[str] = set()
    for n, table in enumerate(raw, 1):
        where = f"account {account!r}: identities[{n}]."
        out.append(_identity(table, where, file, error))
        key = out[-1].address.lower()
        if key in seen:
            raise error(f"{where}address", f"{out[-1].address!r} is given twice", None)
        seen.add(key)
    return tuple(out)


def _identity(
    table: Mapping[str, Any],
    where: str,
    file: Path,
    error: Callable[[str, str, str | None], ConfigError],
) -> Identity:
    for key in table:
        if key not in IDENTITY_KEYS:
            raise error(f"{where}{key}", "unknown key", "allowed here: " + ", ".join(IDENTITY_KEYS))

    def text(key: str) -> str | None:
        value = table.get(key)
        if value is not None and not isinstance(value, str):
            raise error(f"{where}{key}", f"expected a string, got {value!r}", None)
        return value

    address = (text("address") or "").strip()
    if not address:
        raise error(
            f"{where}address", 'required: like "sales@example.org" or "*@example.org"', None
        )
    if address.startswith("*"):
        if not _WILDCARD.fullmatch(address):
            raise error(
                f"{where}address",
                f"{address!r} is not a wildcard address",
                'a wildcard covers a whole domain: "*@example.org"',
            )
        address = address.lower()
    elif not _ADDRESS.fullmatch(address):
        raise error(f"{where}address", f"{address!r} is not an address like name@example.org", None)
    reply_to = text("reply_to")
    if reply_to is not None and not _ADDRESS.search(reply_to):
        raise error(f"{where}reply_to", f"{reply_to!r} holds no address", None)
    for key in ("name", "reply_to", "signature_command"):
        value = text(key)
        if value is not None and any(c in value for c in "\r\n"):
            raise error(f"{where}{key}", "must be one line", None)
    bcc_self = table.get("bcc_self", False)
    if not isinstance(bcc_self, bool):
        raise error(f"{where}bcc_self", f"expected true or false, got {bcc_self!r}", None)
    placement = text("signature_placement") or "below"
    if placement not in PLACEMENTS:
        raise error(
            f"{where}signature_placement",
            f"{placement!r} is not allowed",
            "allowed: below (under the quote, the default), above",
        )
    sources = [k for k in ("signature", "signature_file", "signature_command") if k in table]
    if len(sources) > 1:
        raise error(
            f"{where}{sources[1]}",
            f"set only one of {', '.join(sources)}",
            "the signature comes from one place",
        )
    sig_file: Path | None = None
    file_text = text("signature_file")
    if file_text:
        sig_file = Path(file_text).expanduser()
        if not sig_file.is_absolute():
            sig_file = file.parent / sig_file
    return Identity(
        address=address,
        name=text("name") or "",
        reply_to=reply_to,
        bcc_self=bcc_self,
        signature=text("signature"),
        signature_file=sig_file,
        signature_command=text("signature_command"),
        signature_placement=placement,  # type: ignore[arg-type]
    )


def all_identities(config: Config) -> list[tuple[Account, Identity]]:
    """Every identity of every account, the default account's first, each account's main
    address before its others."""
    accounts = sorted(config.accounts.values(), key=lambda a: not a.default)
    return [(acc, ident) for acc in accounts for ident in acc.all_identities()]


def choose(candidates: Sequence[tuple[str, Identity]], addresses: Iterable[str]) -> Chosen | None:
    """The identity a message was sent to: for each address in order (To, Cc, Delivered-To,
    X-Original-To), an identity naming it exactly, else a wildcard covering its domain."""
    for address in addresses:
        addr = address.strip()
        if not addr:
            continue
        for exact in (True, False):
            for account, ident in candidates:
                if ident.wildcard != (not exact):
                    continue
                if ident.covers(addr):
                    return Chosen(account, ident, ident.address if exact else addr.lower())
    return None


def for_address(config: Config, address: str, account: str | None = None) -> Chosen:
    """The identity that sends as ``address`` (``tmail send --from``), or a ConfigError naming
    the accounts and identities there are."""
    pairs = [
        (acc.name, ident)
        for acc, ident in all_identities(config)
        if account is None or acc.name == account
    ]
    chosen = choose(pairs, [address])
    if chosen is not None:
        return chosen
    by_account: dict[str, list[str]] = {}
    for name, ident in pairs:
        by_account.setdefault(name, []).append(ident.address)
    known = "; ".join(f"{name}: {', '.join(addrs)}" for name, addrs in by_account.items())
    raise ConfigError(
        f"no identity covers {address!r} (identities: {known or 'none'})",
        account=account,
        hint="add it as [[accounts.NAME.identities]] address = ... to the config file",
    )
