"""Syncing the CardDAV address book of ``[contacts]`` into the local address book.

The server's sync token is kept with the imported addresses (source ``carddav:URL``): when it
has not changed nothing is read; when it has, every card is read again and replaces the last
copy. A server that is down or refuses the password leaves the last synced copy in place (the
error says so).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from tmail.config.model import CardDav, Config
from tmail.core.errors import SecretError
from tmail.protocols.carddav import CardDavClient
from tmail.store.store import Store

KEYRING_KEY = "contacts"


@dataclass(frozen=True)
class CardDavSync:
    changed: bool
    addresses: int
    problems: tuple[str, ...] = ()


def source_name(settings: CardDav) -> str:
    return f"carddav:{settings.url}"


def password(settings: CardDav) -> str:
    """The CardDAV password: carddav_password_command, carddav_password_env, else the keyring
    (service "tmail", key "contacts")."""
    from tmail.config.secrets import KEYRING_SERVICE, _run

    server = settings.url
    if settings.password_command:
        return _run(settings.password_command, "carddav_password_command", account="contacts",
                    server=server)  # fmt: skip
    if settings.password_env:
        value = os.environ.get(settings.password_env)
        if not value:
            raise SecretError(
                f"environment variable {settings.password_env} (carddav_password_env) is not set",
                server=server,
            )
        return value
    try:
        import keyring

        value = keyring.get_password(KEYRING_SERVICE, KEYRING_KEY)
    except Exception as exc:  # no keyring backend, D-Bus errors: assorted kinds
        raise SecretError(f"the keyring cannot be read ({exc})", server=server) from None
    if not value:
        raise SecretError(
            f"no CardDAV password in the keyring (service {KEYRING_SERVICE}, key {KEYRING_KEY})",
            server=server,
            hint="set contacts.carddav_password_command, or store it with 'keyring set "
            f"{KEYRING_SERVICE} {KEYRING_KEY}'",
        )
    return str(value)


def sync_carddav(settings: CardDav, store: Store) -> CardDavSync:
    """Bring the local copy of the address book in step; raises TmailError (the copy kept)."""
    from tmail.mime.vcard import read_text

    client = CardDavClient(
        settings.url,
        settings.username,
        password(settings),
        ca_file=settings.ca_file,
        timeout=settings.timeout,
    )
    source = source_name(settings)
    known = store.contact_source_stamp(source)
    state = client.state(known or None)
    if state.cards is None:
        count = len(store.contacts_of_source(source))
        return CardDavSync(False, count)
    result = read_text("".join(c if c.endswith("\n") else c + "\n" for c in state.cards), source)
    entries = [(card.name, addr) for card in result.cards for addr in card.emails]
    groups = [(g.name, g.members) for g in result.groups]
    n = store.import_contacts(source, entries, stamp=state.token or "", groups=groups)
    return CardDavSync(True, n, tuple(result.problems))


def sync_report(settings: CardDav, store: Store) -> tuple[str, bool, bool]:
    """One line for ``tmail sync``, whether it went well and whether the book changed; a
    failure keeps the last copy."""
    from tmail.core.errors import TmailError

    try:
        done = sync_carddav(settings, store)
    except TmailError as exc:
        kept = len(store.contacts_of_source(source_name(settings)))
        line = f"contacts: {exc.one_line()} (the last synced copy is kept: {addresses(kept)})"
        return line, False, False
    what = "synced" if done.changed else "unchanged"
    line = f"contacts: CardDAV address book {what}, {addresses(done.addresses)}"
    return line, True, done.changed


def addresses(n: int) -> str:
    return f"{n} address" if n == 1 else f"{n} addresses"


def with_mail(config: Config, store: Store, account: str) -> tuple[str, bool, bool] | None:
    """The address book synced along with the mail of the default account (the reader's
    background sync, ``sync --watch``); None when there is no book or it is another account."""
    if config.carddav is None or not config.accounts or config.account().name != account:
        return None
    return sync_report(config.carddav, store)
