"""The sync entry points other layers call: plain synchronous functions, no threads.

``sync_account`` runs one pass for one account (IMAP or POP3) and returns a
:class:`~tmail.sync.result.AccountSyncResult`; it never raises for server or store trouble. The
runtime calls it from its workers (``tmail sync``, ``tmail sync --watch``, the TUI), each with its
own :class:`tmail.store.Store`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tmail.config.model import Account, Config
from tmail.core.errors import TmailError
from tmail.protocols.connect import open_imap, open_pop3
from tmail.protocols.imap import ImapSession
from tmail.protocols.pop3 import Pop3Session
from tmail.store import Store
from tmail.sync.contact import remembering
from tmail.sync.imap_sync import ImapOpener, sync_imap_account
from tmail.sync.pop3_fetch import Pop3Opener, fetch_pop3_account
from tmail.sync.result import AccountSyncResult, ProgressFn, StopFn


def open_imap_session(account: Account) -> ImapSession:
    """A logged-in IMAP session (TLS and login by :mod:`tmail.protocols.connect`)."""
    client = open_imap(account)
    limit = account.max_message_size or 0
    return ImapSession(
        client,
        account=account.name,
        server=account.incoming.label,
        max_literal=max(limit * 2, 256 * 1024 * 1024),
    )


def open_pop3_session(account: Account) -> Pop3Session:
    """A logged-in POP3 session (TLS and login by :mod:`tmail.protocols.connect`)."""
    pop = open_pop3(account)
    return Pop3Session(pop, account=account.name, server=account.incoming.label)


@dataclass(frozen=True)
class Openers:
    """How to get logged-in sessions; the default uses :mod:`tmail.protocols.connect`.
    Tests hand in their own (the only seam: everything after login is the real code)."""

    imap: ImapOpener = open_imap_session
    pop3: Pop3Opener = open_pop3_session


DEFAULT_OPENERS = Openers()


def sync_account(
    config: Config,
    store: Store,
    account: Account,
    *,
    folders: Iterable[str] | None = None,
    progress: ProgressFn | None = None,
    stop: StopFn | None = None,
    openers: Openers = DEFAULT_OPENERS,
) -> AccountSyncResult:
    """One pass over ``account``: IMAP folders synced both ways, or POP3 mail fetched."""
    try:
        if account.incoming.protocol == "pop3":
            pop3 = remembering(openers.pop3, store)
            return fetch_pop3_account(store, account, pop3, progress=progress, stop=stop)
        imap = remembering(openers.imap, store)
        return sync_imap_account(
            store, account, imap, only_folders=folders, progress=progress, stop=stop
        )
    except TmailError as exc:
        return AccountSyncResult(account.name, errors=(exc.one_line(),))
