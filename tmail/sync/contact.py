"""Whether an account has reached a server before, for wording a failed connection.

A refused connection means two different things: a server that worked a minute ago is down or
restarting (wait), while one that never answered this account is probably set up wrong (check
the port and security). :mod:`tmail.protocols.connect` words a refusal for the first case; a
:class:`~tmail.core.errors.ConnectFailed` turns into the second with ``as_first_contact()``.

The record: each successful login writes ``host:port`` of the server into the account's state
in the store (``account_state["reached"][role]``), once per change. A server whose address was
edited since counts as never reached: the new address has not shown that it works.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from tmail.config.model import Account, Role, ServerSettings
from tmail.core.errors import ConnectFailed, StoreError
from tmail.store import Store

T = TypeVar("T")
_KEY = "reached"


def _settings(account: Account, role: Role) -> ServerSettings | None:
    return account.incoming if role == "incoming" else account.outgoing


def reached_before(store: Store, account: Account, role: Role) -> bool:
    """True when a login to the account's ``role`` server, at its present address, worked."""
    settings = _settings(account, role)
    reached: Any = store.account_state(account.name).get(_KEY)
    return (
        settings is not None and isinstance(reached, dict) and reached.get(role) == settings.label
    )


def remember_reached(store: Store, account: Account, role: Role) -> None:
    """Record that a login to the account's ``role`` server worked (written only on change)."""
    settings = _settings(account, role)
    if settings is None or reached_before(store, account, role):
        return
    state = store.account_state(account.name)
    reached = state.get(_KEY)
    reached = dict(reached) if isinstance(reached, dict) else {}
    reached[role] = settings.label
    store.set_account_state(account.name, {**state, _KEY: reached})


def worded_for(exc: ConnectFailed, store: Store, account: Account, role: Role) -> ConnectFailed:
    """``exc`` as said to this account: a first contact's wording unless the server was reached."""
    return exc if reached_before(store, account, role) else exc.as_first_contact()


def remembering(open_session: Callable[[Account], T], store: Store) -> Callable[[Account], T]:
    """An incoming-session opener that records a successful login and words a failed one for
    an account that never reached the server."""

    def opener(account: Account) -> T:
        try:
            session = open_session(account)
        except ConnectFailed as exc:
            worded = worded_for(exc, store, account, "incoming")
            if worded is exc:
                raise
            raise worded from None
        with contextlib.suppress(StoreError):  # a record lost costs only the wording
            remember_reached(store, account, "incoming")
        return session

    return opener
