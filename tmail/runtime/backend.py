"""The synchronous work behind :class:`~tmail.runtime.session.MailSession`.

:class:`MailBackend` joins the store, the sync engines and the outbox for configured accounts;
:class:`DemoBackend` is the same over the demo store, where sending delivers into the demo's own
Inbox and syncing touches no network. Syncing and sending run on each account's worker thread;
flag changes, moves and deletes on the caller's (the store gives each thread its own SQLite
connection); a test may call them directly. Sending goes through :mod:`tmail.outbox.service`,
the one send path ``tmail send`` and ``tmail flush`` take too.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from tmail.config.model import Account, Config
from tmail.core.errors import TmailError
from tmail.core.models import Flag
from tmail.core.roles import folder_for
from tmail.runtime.session import (
    OutboxItem,
    ProgressFn,
    PushWait,
    SendResult,
    StopFn,
)
from tmail.store import Store
from tmail.sync.result import AccountSyncResult

if TYPE_CHECKING:
    from tmail.mime.compose import Composed, Draft
    from tmail.outbox.flush import FlushReport, Outcome
    from tmail.outbox.queue import Entry


class LocalBackend:
    """Flag, move, delete and postpone: local changes recorded for the next sync to push."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store

    def accounts(self) -> Sequence[str]:
        return list(self.config.accounts)

    def poll_interval(self, account: str) -> float | None:
        acc = self.config.accounts.get(account)
        interval = acc.poll_interval if acc else 0.0
        return interval or None

    def _folder_for(self, account: str, role: str) -> str:
        """The account's folder playing ``role`` (:mod:`tmail.core.roles`), made when missing."""
        found = folder_for(role, (f.name for f in self.store.folders(account)))
        if found is not None:
            return found
        self.store.ensure_folder(account, role)
        return role

    def set_flags(self, ids: Sequence[int], add: Iterable[Flag], remove: Iterable[Flag]) -> None:
        self.store.change_flags(list(ids), add=frozenset(add), remove=frozenset(remove))

    def move(self, ids: Sequence[int], folder: str) -> None:
        for message in ids:
            row = self.store.get(message)
            if row is None:
                continue
            self.store.ensure_folder(row.account, folder)
            self.store.move(message, folder)

    def delete(self, ids: Sequence[int]) -> None:
        """To the account's Trash; what is already in Trash is expunged."""
        for message in ids:
            row = self.store.get(message)
            if row is None:
                continue
            trash = self._folder_for(row.account, "Trash")
            if row.folder == trash:
                self.store.remove(message)
            else:
                self.store.move(message, trash)

    def send_queued(self, account: str) -> list[tuple[str, SendResult]]:
        return []  # no outbox here (the demo delivers at once)

    def outbox(self) -> list[OutboxItem]:
        return []

    def resend(self, account: str, entry_id: str) -> list[tuple[str, SendResult]]:
        raise TmailError("there is no outbox here", account=account)

    def drop_queued(self, account: str, entry_id: str) -> str:
        raise TmailError("there is no outbox here", account=account)

    def unsubscribe(self, account: str, url: str) -> str:
        raise TmailError("the demo does not reach the network: not unsubscribed", account=account)

    def _account(self, name: str) -> Account:
        return self.config.account(name)

    def _compose(self, account: Account, draft: Draft, *, postponed: bool = False) -> Composed:
        from tmail.mime.compose import Limits, compose

        limits = Limits(
            max_attachment_size=account.max_attachment_size,
            max_message_size=account.max_message_size,
            blocked_extensions=account.blocked_extensions,
        )
        composed = compose(draft, limits, postponed=postponed)
        from tmail.outbox.protect import protect_composed, protect_draft

        if postponed:  # encrypted to oneself when the message is to be encrypted
            return protect_draft(composed, account, encrypt=draft.pgp_encrypt)

        # as chosen on the review screen, else the account's pgp_sign / pgp_encrypt
        return protect_composed(composed, account, sign=draft.pgp_sign, encrypt=draft.pgp_encrypt)

    def push_waiter(self, account: str) -> PushWait | None:
        """How to wait for new mail on ``account`` (IMAP IDLE), or None where there is none."""
        return None

    def postpone(self, account: str, draft: Draft) -> str:
        acc = self._account(account)
        composed = self._compose(acc, draft, postponed=True)
        folder = self._folder_for(account, "Drafts")
        self.store.add_message(
            account, folder, composed.data, frozenset({Flag.SEEN, Flag.DRAFT}), record_append=True
        )
        return folder

    def close(self) -> None:
        pass


class DemoBackend(LocalBackend):
    """The demo: no network. Sending delivers into the demo account's own Inbox (and keeps a
    copy in Sent), so a newcomer can send a message and read it arrive."""

    def sync(
        self, account: str, progress: ProgressFn | None = None, stop: StopFn | None = None
    ) -> AccountSyncResult:
        return AccountSyncResult(account)  # nothing to fetch: the demo's mail is all here

    def send(self, account: str, draft: Draft) -> SendResult:
        acc = self._account(account)
        composed = self._compose(acc, draft)
        sent = self._folder_for(account, "Sent")
        self.store.add_message(account, sent, composed.data, frozenset({Flag.SEEN}))
        self.store.add_message(account, "INBOX", composed.data, frozenset())
        to = ", ".join(composed.recipients)
        return SendResult("delivered", f"to {to} (the demo delivers into its own Inbox)")


class MailBackend(LocalBackend):
    """Configured accounts: the sync engine fetches into the store; the outbox sends."""

    def sync(
        self, account: str, progress: ProgressFn | None = None, stop: StopFn | None = None
    ) -> AccountSyncResult:
        """Fetch and push, then retry what is due in the outbox. Each failed folder is one
        line in ``errors`` (naming the account and the server); the others still synced."""
        from tmail.sync.engine import sync_account
        from tmail.sync.result import Progress

        def report(p: Progress) -> None:
            if progress is not None:
                progress(p.folder, p.done, p.total)

        acc = self._account(account)
        result = sync_account(self.config, self.store, acc, progress=report, stop=stop)
        if acc.on_new_mail != "" and result.new_in_inbox > 0:  # the hook, or the notification
            self._announce(acc, result.new_in_inbox)
        if not (stop is not None and stop()):
            self._flush_due(acc)
        # the engine's errors are already one line naming the account and the server
        errors = tuple(
            TmailError(e, account=None if e.startswith(account) else account).one_line()
            for e in result.errors
        )
        from tmail.sync.carddav import with_mail

        book = with_mail(self.config, self.store, account)  # the address book, with the mail
        if book is not None and not book[1]:
            errors = (*errors, book[0])
        return replace(result, errors=errors)

    def unsubscribe(self, account: str, url: str) -> str:
        """RFC 8058 one-click (:mod:`tmail.protocols.oneclick`): its checks and refusals."""
        from urllib.parse import urlsplit

        from tmail.protocols.oneclick import one_click

        acc = self._account(account)
        try:
            result = one_click(url, allow_hosts=acc.unsubscribe_allow_hosts)
        except TmailError as exc:
            exc.account = exc.account or acc.name
            raise
        host = urlsplit(result.url).hostname or "the list server"
        return f"unsubscribed: {host} answered {result.status} {result.reason}".strip()

    def _announce(self, acc: Account, count: int) -> None:
        """Run the account's ``on_new_mail`` command as ``tmail sync --watch`` does, on a thread
        of its own: a slow notifier must not hold up the next sync. Its output never reaches
        the reader's screen; a failure goes to the log file."""
        import logging
        import threading

        from tmail.runtime.watch import run_hook

        log = logging.getLogger("tmail.runtime").warning
        threading.Thread(
            target=run_hook, args=(acc, count, log), name=f"on_new_mail {acc.name}", daemon=True
        ).start()

    def send_queued(self, account: str) -> list[tuple[str, SendResult]]:
        """The outbox of ``account`` sent now, whatever each entry's next retry time ($ in the
        reader: "fetch and send mail now"); rate limits still hold."""
        from tmail.outbox.service import has_waiting

        acc = self._account(account)
        if acc.outgoing is None or not has_waiting(self.config.data_dir, acc):
            return []
        report = self._flush(acc, force=True)
        # a message sent later waits for its time even now; the outbox view shows when
        return [(o.entry.subject, send_result(o)) for o in report.outcomes
                if o.status != "scheduled"]  # fmt: skip

    def _flush(
        self, acc: Account, *, force: bool, only: Sequence[str] | None = None
    ) -> FlushReport:
        """The one send path (:func:`tmail.outbox.service.flush_account`), with this store for
        Sent copies that cannot reach the server now."""
        from tmail.outbox.service import flush_account

        return flush_account(self.config.data_dir, acc, force=force, only=only, store=self.store)

    def outbox(self) -> list[OutboxItem]:
        """Every account's outbox, read without changing anything (see Queue.peek)."""
        from tmail.outbox.queue import Queue

        out = []
        for acc in self.config.accounts.values():
            for e in Queue.for_account(self.config.data_dir, acc.name).peek():
                out.append(outbox_item(e))
        return out

    def resend(self, account: str, entry_id: str) -> list[tuple[str, SendResult]]:
        """The user's "send again": a held entry is released (a login hold: all of the
        account's), then sent now; (subject, outcome) of each."""
        import time

        from tmail.outbox.queue import Queue

        acc = self._account(account)
        queue = Queue.for_account(self.config.data_dir, acc.name)
        released = [e.id for e in queue.release(entry_id, time.time())]
        if acc.outgoing is None:
            raise TmailError(
                "no outgoing (SMTP) server configured",
                account=account,
                hint=f"add [accounts.{account}.outgoing] to the config file",
            )
        report = self._flush(acc, force=False, only=released)
        return [(o.entry.subject, send_result(o)) for o in report.outcomes]

    def drop_queued(self, account: str, entry_id: str) -> str:
        from tmail.outbox.queue import Queue

        acc = self._account(account)
        queue = Queue.for_account(self.config.data_dir, acc.name)
        with queue.lock(timeout=5.0) as locked:  # not while a flush (here or elsewhere) sends
            if not locked:
                raise TmailError(
                    "the outbox is being sent from; try again in a moment", account=account
                )
            return queue.drop(entry_id).subject

    def _flush_due(self, acc: Account) -> None:
        """Retry what waits in the outbox and is due (its back-off and rate limits decide); a
        failure stays recorded on the entry, where 'tmail queue' shows it."""
        from tmail.outbox.service import has_waiting

        if acc.outgoing is None or not has_waiting(self.config.data_dir, acc):
            return
        with contextlib.suppress(TmailError):
            self._flush(acc, force=False)

    def push_waiter(self, account: str) -> PushWait | None:
        acc = self._account(account)
        if acc.incoming.protocol != "imap":
            return None
        from tmail.sync.engine import open_imap_session
        from tmail.sync.idle import InboxWatcher

        watcher = InboxWatcher(acc, open_imap_session)
        first = True

        def wait(timeout: float, stop: Callable[[], bool]) -> bool:
            nonlocal first
            changed = watcher.wait(timeout, stop)
            if stop():  # the reader is closing: log out instead of leaving the socket open
                watcher.close()
                return False
            if first:  # the first call only connects: the start-up sync already ran
                first = False
                return False
            return changed

        return wait

    def send(self, account: str, draft: Draft) -> SendResult:
        """Queue durably, then try to deliver it now; the outcome in plain words."""
        from tmail.outbox.service import queue_message

        acc = self._account(account)
        entry = queue_message(self.config.data_dir, acc, self._compose(acc, draft))
        if acc.outgoing is None:
            return SendResult("queued", "in the outbox; 'tmail send' delivers it")
        outcome = self._flush(acc, force=False, only=[entry.id]).of(entry.id)
        if outcome is None:
            return SendResult("queued", "in the outbox")
        return send_result(outcome)

    # -- undo: a message held in the outbox for the account's undo_seconds (see ui/undo.py)

    def undo_seconds(self, account: str) -> float:
        return self._account(account).undo_seconds

    def send_later(self, account: str, draft: Draft, not_before: float) -> SendResult:
        """Queue durably with ``not_before`` (no flush sends it earlier); nothing is sent."""
        from tmail.outbox.service import queue_message

        acc = self._account(account)
        composed = self._compose(acc, draft)
        entry = queue_message(self.config.data_dir, acc, composed, not_before=not_before)
        return SendResult("queued", "held for undo", entry_id=entry.id, until=entry.not_before)

    def send_entry(self, account: str, entry_id: str) -> SendResult:
        """The undo window ended: the entry goes now if it is still in the outbox (another
        tmail, ``sync --watch``, may have sent it at its time: then it says so)."""
        from tmail.outbox.queue import Queue

        acc = self._account(account)
        queue = Queue.for_account(self.config.data_dir, acc.name)
        if not any(e.id == entry_id for e in queue.peek()):
            if (queue.root / ".delivered" / entry_id).exists():
                return SendResult("delivered", "sent at its time (by a sync)")
            return SendResult("refused", "it is no longer in the outbox ('tmail queue')")
        for e in queue.peek():  # its time came by the wall clock, or is about to: now
            if e.id == entry_id and e.scheduled(time.time()):
                queue.release(entry_id, time.time())
        if acc.outgoing is None:
            return SendResult("queued", "in the outbox; 'tmail send' delivers it")
        outcome = self._flush(acc, force=False, only=[entry_id]).of(entry_id)
        if outcome is None:
            return SendResult("queued", "in the outbox")
        return send_result(outcome)

    def answer_invitation(
        self, account: str, ics: bytes, answer: str, comment: str | None
    ) -> tuple[str, SendResult]:
        """The RFC 5546 REPLY (:mod:`tmail.mime.invitereply`) through the one send path."""
        from tmail.core.models import Address
        from tmail.mime.compose import prepare_raw
        from tmail.mime.invitereply import build_reply
        from tmail.outbox.service import queue_message

        acc = self._account(account)
        me = Address(acc.display_name, acc.email)
        try:
            reply = build_reply(ics, me, answer, my_addresses=acc.own_addresses(), comment=comment)
        except TmailError as exc:
            exc.account = exc.account or acc.name
            raise
        subject = f"{reply.partstat.lower()}: {reply.summary}"
        composed = prepare_raw(reply.message, default_from=me)
        entry = queue_message(self.config.data_dir, acc, composed)
        if acc.outgoing is None:
            return subject, SendResult("queued", "in the outbox; 'tmail send' delivers it")
        outcome = self._flush(acc, force=False, only=[entry.id]).of(entry.id)
        return subject, (SendResult("queued", "in the outbox") if outcome is None
                         else send_result(outcome))  # fmt: skip

    def take_back(self, account: str, entry_id: str) -> bool:
        """Out of the outbox under its lock, so it is sent or taken back, never both."""
        from tmail.outbox.queue import Queue

        acc = self._account(account)
        queue = Queue.for_account(self.config.data_dir, acc.name)
        return queue.take_back(entry_id, timeout=1.0) is not None


def send_result(outcome: Outcome) -> SendResult:
    """The outbox's outcome as the reader's words: delivered, queued, held or refused."""
    status, message = outcome.status, outcome.message
    if status in ("delivered", "partial"):
        return SendResult("delivered", message)
    if status in ("queued", "waiting", "scheduled"):
        return SendResult("queued", message)
    if status in ("held", "uncertain"):
        return SendResult("held", message)
    return SendResult("refused", message)


def outbox_item(entry: Entry) -> OutboxItem:
    """An outbox entry as the reader lists it."""
    from tmail.core.safe import safe_line

    if entry.state == "failed":
        state, nxt = "failed", None
    elif entry.hold == "login":
        state, nxt = "held", None
    elif entry.hold:
        state, nxt = "uncertain", None
    elif entry.not_before is not None and entry.not_before > time.time():
        state, nxt = "scheduled", entry.not_before
    elif entry.waiting_until:
        state, nxt = "waiting", entry.waiting_until
    else:
        state, nxt = "queued", entry.next_try
    error = entry.last_error or ""
    return OutboxItem(
        account=entry.account,
        id=entry.id,
        subject=safe_line(entry.subject),
        recipients=safe_line(", ".join(entry.recipients or entry.delivered)),
        state=state,
        last_error=safe_line(error),
        next_try=nxt,
    )
