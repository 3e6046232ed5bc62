"""The outbox wired to the real world: connections from the account, reply codes in words,
and the one Sent-copy policy (:class:`SentCopy`).

This is the one send path: ``tmail send``/``tmail flush`` and the reader (send, ``$``, "send
again", the retries after each sync) all queue with :func:`queue_message` and deliver with
:func:`flush_account`; tests call :mod:`tmail.outbox.flush` with their own opener.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tmail.config.model import Account
from tmail.config.paths import outbox_waiting
from tmail.core.errors import ConfigError, TmailError
from tmail.core.models import Flag
from tmail.core.roles import Role, folder_for, special_use
from tmail.mime.compose import Composed
from tmail.outbox.flush import FlushReport, Opener, SentSink, enqueue, flush
from tmail.outbox.queue import Entry, Queue
from tmail.protocols import smtpcodes
from tmail.protocols.connect import open_imap, open_smtp
from tmail.protocols.imap import ImapSession, assign_roles
from tmail.protocols.smtp import Dsn, SmtpSession, open_session
from tmail.store.store import Store


def smtp_opener(account: Account) -> Opener:
    """Open a session the way the account says (TLS mode, login) through the connect layer."""
    if account.outgoing is None:
        raise ConfigError(
            "no outgoing (SMTP) server configured",
            account=account.name,
            hint=f"add [accounts.{account.name}.outgoing] to the config file",
        )
    server = account.outgoing.label

    def opener() -> SmtpSession:
        return open_session(lambda: open_smtp(account), server=server, account=account.name)

    return opener


def explain(code: int, text: str) -> str:
    """``550 5.1.1 mailbox does not exist (permanent failure ...): <the server's words>``."""
    return smtpcodes.explain(code, text).explain()


class SentCopy:
    """The one Sent-copy policy, for the reader and the command line alike.

    IMAP accounts: APPEND into the server's Sent folder at once (the one marked ``\\Sent``,
    RFC 6154, else one named like it, else "Sent", created with ``\\Sent`` when missing), on
    one lazily opened session. When the server cannot be reached (or refuses), the APPEND is
    queued instead: the copy goes into the local Sent folder with a pending append, and the
    next sync uploads it (creating the folder there if need be). POP3 accounts have no server
    folders: the copy is kept in the local Sent folder. Flagged \\Seen: the user wrote it.

    ``store`` is the caller's open store (the reader's); without one, one is opened when
    needed and closed by :meth:`close`.
    """

    def __init__(self, account: Account, data_dir: Path, store: Store | None = None) -> None:
        self.account = account
        self.data_dir = data_dir
        self._store = store
        self._own_store = store is None
        self._session: ImapSession | None = None
        self._folder: str | None = None
        self._offline = account.incoming.protocol != "imap"

    def __call__(self, entry: Entry, data: bytes) -> None:
        if not self._offline:
            try:
                self._append(data)
                return
            except (TmailError, OSError):
                # not connected: queue the APPEND for the next sync instead (below)
                self._offline = True
                self._logout()
        self._keep_locally(data, pending_append=self.account.incoming.protocol == "imap")

    def _append(self, data: bytes) -> None:
        if self._session is None:
            self._session = ImapSession(
                open_imap(self.account),
                account=self.account.name,
                server=self.account.incoming.label,
            )
            folders = assign_roles(self._session.folders())
            found = next((f.name for f in folders if f.role == Role.SENT), None)
            if found is None:
                found = "Sent"
                self._session.create_folder(found, special_use(Role.SENT))
            self._folder = found
        assert self._folder is not None
        self._session.append(self._folder, data, {Flag.SEEN})

    def _keep_locally(self, data: bytes, *, pending_append: bool) -> None:
        store = self._open_store()
        folder = local_sent_folder(store, self.account.name)
        store.add_message(
            self.account.name, folder, data, frozenset({Flag.SEEN}), record_append=pending_append
        )

    def _open_store(self) -> Store:
        if self._store is None:
            account = self.account

            def charsets(name: str) -> tuple[str, ...]:
                # Only this account's setting is known here; others' files that the open
                # finds changed are indexed without the hint until a reader or sync opens it.
                return account.assumed_charsets if name == account.name else ()

            self._store = Store.open(self.data_dir, assumed_charsets=charsets)
        return self._store

    def _logout(self) -> None:
        if self._session is not None:
            with contextlib.suppress(TmailError, OSError):
                self._session.logout()
            self._session = None

    def close(self) -> None:
        self._logout()
        if self._store is not None and self._own_store:
            self._store.close()
            self._store = None


def local_sent_folder(store: Store, account: str) -> str:
    """The account's Sent folder in the store (:mod:`tmail.core.roles`), else "Sent"."""
    return folder_for("Sent", (f.name for f in store.folders(account))) or "Sent"


def sent_sink_for(account: Account, data_dir: Path, store: Store | None = None) -> SentCopy | None:
    """Where Sent copies go (see :class:`SentCopy`); None when ``save_sent = false``."""
    if not account.save_sent:
        return None
    return SentCopy(account, data_dir, store)


def queue_for(data_dir: Path, account: Account) -> Queue:
    return Queue.for_account(data_dir, account.name)


def next_due(data_dir: Path, account: Account, now: float) -> float | None:
    """When the account's outbox next has something to try by itself (its earliest scheduled
    time or retry), read without the lock; None when nothing waits to go by itself."""
    times = [
        max(e.next_try, e.not_before or 0.0, e.waiting_until or 0.0)
        for e in queue_for(data_dir, account).peek()
        if e.state == "queued" and not e.hold
    ]
    return min(times) if times else None


def has_waiting(data_dir: Path, account: Account) -> bool:
    """Whether anything waits in the account's outbox (without taking its lock)."""
    return outbox_waiting(data_dir, account.name)


def queue_message(
    data_dir: Path,
    account: Account,
    composed: Composed,
    dsn: Dsn | None = None,
    *,
    not_before: float | None = None,
) -> Entry:
    """Put a built message in the account's outbox (durably: fsynced before returning); with
    ``not_before`` no flush sends it before that time."""
    return enqueue(
        queue_for(data_dir, account),
        account=account,
        data=composed.data,
        sender=composed.sender,
        recipients=composed.recipients,
        subject=composed.subject,
        message_id=composed.message_id,
        bcc=composed.bcc,
        dsn=dsn,
        clock=time.time,
        not_before=not_before,
    )


def flush_account(
    data_dir: Path,
    account: Account,
    *,
    force: bool = True,
    only: Iterable[str] | None = None,
    sent_sink: SentSink | None = None,
    opener: Opener | None = None,
    store: Store | None = None,
    clock: Callable[[], float] = time.time,
) -> FlushReport:
    """Send what waits in the account's outbox (everything with ``force``, else what is due;
    just ``only`` when given) on one connection; refusals explained in plain words
    (:mod:`tmail.protocols.smtpcodes`), Sent copies by :class:`SentCopy` (into ``store`` when
    they cannot go to the server now)."""
    own_sink = sent_sink_for(account, data_dir, store) if sent_sink is None else None
    try:
        return flush(
            account,
            queue_for(data_dir, account),
            opener or smtp_opener(account),
            force=force,
            only=only,
            explain=explain,
            sent_sink=sent_sink or own_sink,
            clock=clock,
        )
    finally:
        if own_sink is not None:
            own_sink.close()


def flush_due(
    data_dir: Path,
    account: Account,
    store: Store | None = None,
    clock: Callable[[], float] = time.time,
) -> list[str]:
    """What waits in the account's outbox and is due goes now (a scheduled message whose time
    came, a retry): ``tmail sync``, ``sync --watch`` and the reader's passes. One line per
    message tried, for the user; a failure stays on its entry (``tmail queue``)."""
    if account.outgoing is None or not has_waiting(data_dir, account):
        return []
    try:
        report = flush_account(data_dir, account, force=False, store=store, clock=clock)
    except TmailError as exc:
        return [exc.one_line()]
    lines = [f"{account.name}: outbox: {o.status}: {o.entry.subject or '(no subject)'}: "
             f"{o.message}" for o in report.outcomes]  # fmt: skip
    return lines + [f"{account.name}: {w}" for w in report.warnings]
