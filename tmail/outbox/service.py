"""The outbox wired to the real world: connections from the account, reply codes in words.

The CLI and the runtime call these; tests call :mod:`tmail.outbox.flush` with their own opener.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from tmail.config.model import Account, Config
from tmail.core.errors import ConfigError, TmailError
from tmail.core.models import Flag
from tmail.core.roles import Role, special_use
from tmail.mime.compose import Composed
from tmail.outbox.flush import FlushReport, Opener, Outcome, SentSink, enqueue, flush
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


class ImapSentCopy:
    """Sent copies by IMAP APPEND into the account's Sent folder, on one lazily opened session.

    The folder is the one marked ``\\Sent`` (RFC 6154), else one named like it, else "Sent",
    created when missing. Flagged \\Seen: the user wrote it.
    """

    def __init__(self, account: Account) -> None:
        self.account = account
        self._session: ImapSession | None = None
        self._folder: str | None = None

    def __call__(self, entry: Entry, data: bytes) -> None:
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

    def close(self) -> None:
        if self._session is not None:
            self._session.logout()
            self._session = None


class LocalSentCopy:
    """Sent copies into the local store's Sent folder (POP3 accounts have no server folders)."""

    def __init__(self, account: Account, data_dir: Path, store: Store | None = None) -> None:
        self.account = account
        self.data_dir = data_dir
        self._store = store
        self._own = store is None

    def __call__(self, entry: Entry, data: bytes) -> None:
        if self._store is None:
            account = self.account

            def charsets(name: str) -> tuple[str, ...]:
                # Only this account's setting is known here; others' files that the open
                # finds changed are indexed without the hint until a reader or sync opens it.
                return account.assumed_charsets if name == account.name else ()

            self._store = Store.open(self.data_dir, assumed_charsets=charsets)
        self._store.add_message(self.account.name, "Sent", data, frozenset({Flag.SEEN}))

    def close(self) -> None:
        if self._store is not None and self._own:
            self._store.close()
            self._store = None


def sent_sink_for(
    account: Account, data_dir: Path, store: Store | None = None
) -> ImapSentCopy | LocalSentCopy | None:
    """Where Sent copies go (unless ``save_sent = false``): IMAP APPEND into the server's Sent
    folder for IMAP accounts, the local Sent folder otherwise."""
    if not account.save_sent:
        return None
    if account.incoming.protocol == "imap":
        return ImapSentCopy(account)
    return LocalSentCopy(account, data_dir, store)


def queue_for(data_dir: Path, account: Account) -> Queue:
    return Queue.for_account(data_dir, account.name)


def queue_message(
    data_dir: Path, account: Account, composed: Composed, dsn: Dsn | None = None
) -> Entry:
    """Put a built message in the account's outbox (durably: fsynced before returning)."""
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
) -> FlushReport:
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
        )
    finally:
        if own_sink is not None:
            own_sink.close()


def send_now(
    config: Config,
    account: Account,
    composed: Composed,
    store: Store | None = None,
    dsn: Dsn | None = None,
) -> Outcome:
    """Queue a built message durably, then try to deliver it at once (the reader's "send").

    Never raises for delivery trouble: the outcome says delivered, partial, queued (with the
    reason and next try), waiting (rate limit) or failed (with the server's words).
    """
    entry = queue_message(config.data_dir, account, composed, dsn)
    try:
        report = flush_account(config.data_dir, account, only=[entry.id], store=store)
    except TmailError as exc:
        return Outcome(entry, "queued", f"queued as {entry.id}, not sent yet: {exc.one_line()}")
    return report.of(entry.id) or Outcome(entry, "queued", f"queued as {entry.id}")
