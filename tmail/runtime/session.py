"""MailSession: the one object the UI (or any front end) talks to for work that may be slow.

Each account has a worker thread of its own (:class:`tmail.runtime.worker.AccountWorker`, the
same one ``tmail sync --watch`` runs): syncing and sending for one account never wait behind
another account's long sync. Flag changes, moves and deletes are not worker work: they are
applied to the store at once on the caller's thread (a short WAL transaction each) and
recorded for the next sync to push, so they never wait behind a sync and closing the reader
cannot drop one.

Requests go in as small typed values (imperative: ``SyncNow``, ``SetFlags``, ``SendDraft``);
what happened comes back as past-tense events (``NewMessages``, ``SyncProgress``,
``SyncFailed``, ``MessageSent``). Every request ends in exactly one outcome event carrying its
``request_id`` (``RequestDone`` or a failure); other events (``NewMessages``, the progress of a
sync, each folder's error) are facts seen on the way.

Events are put on a :class:`queue.SimpleQueue` and then ``notify()`` is called: the UI passes a
function that writes one byte to the pipe of ``urwid.MainLoop.watch_pipe``, and on wake drains
the whole queue, so 500 new messages cost one redraw (aerc's coalescing ``Invalidate``).

Each account's worker also polls: the account is synced when its ``poll_interval`` has passed
since its last sync, sooner after a failure with the watch loop's back-off. The work itself is
done by a :class:`Backend`, plain synchronous code a test can call without threads.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from tmail.core.counts import plural
from tmail.core.errors import TmailError
from tmail.core.models import Flag
from tmail.core.safe import safe_line
from tmail.runtime.messages import (
    AnswerInvitation,
    ChangesApplied,
    DeleteMessages,
    DraftPostponed,
    DropQueued,
    Event,
    MessageSent,
    MoveMessages,
    NewMessages,
    OneClickUnsubscribe,
    OutboxChanged,
    OutboxItem,
    PostponeDraft,
    Request,
    RequestFailed,
    ResendQueued,
    SendDraft,
    SendHeld,
    SendStatus,
    SetFlags,
    SyncFailed,
    SyncFinished,
    SyncNow,
    SyncProgress,
    SyncStarted,
    Unsubscribed,
)
from tmail.sync.result import AccountSyncResult

if TYPE_CHECKING:
    from tmail.mime.compose import Draft
    from tmail.runtime.worker import AccountWorker

log = logging.getLogger("tmail.runtime")

# The requests and events live in messages.py; this module is their usual home, so they are
# re-exported here (front ends import them from the session they talk to).
__all__ = [
    "AnswerInvitation",
    "ChangesApplied",
    "DeleteMessages",
    "DraftPostponed",
    "DropQueued",
    "Event",
    "MessageSent",
    "MoveMessages",
    "NewMessages",
    "OneClickUnsubscribe",
    "OutboxChanged",
    "OutboxItem",
    "PostponeDraft",
    "Request",
    "RequestFailed",
    "ResendQueued",
    "SendDraft",
    "SendHeld",
    "SendStatus",
    "SetFlags",
    "SyncFailed",
    "SyncFinished",
    "SyncNow",
    "SyncProgress",
    "SyncStarted",
    "Unsubscribed",
]
# ------------------------------------------------------------------------------ backend


ProgressFn = Callable[[str, int, int], None]  # (folder, done, total) as a sync stores mail
StopFn = Callable[[], bool]  # True: the session is closing, end the sync early


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    detail: str = ""
    entry_id: str = ""
    until: float | None = None  # held in the outbox until then (the undo window)


class Backend(Protocol):
    """The synchronous work behind the session (see :mod:`tmail.runtime.backend`).

    ``send_queued`` and ``push_waiter`` have defaults (no outbox, no push): a backend that
    lacks either subclasses ``Backend`` to inherit them."""

    def accounts(self) -> Sequence[str]: ...

    def poll_interval(self, account: str) -> float | None: ...

    def sync(
        self, account: str, progress: ProgressFn | None = None, stop: StopFn | None = None
    ) -> AccountSyncResult:
        """Sync one account (:class:`tmail.sync.result.AccountSyncResult`, the engine's own
        outcome); a failure of a folder is one line in ``errors`` (the others still synced), a
        failure of the whole account may raise :class:`TmailError`."""
        ...

    def set_flags(
        self, ids: Sequence[int], add: Iterable[Flag], remove: Iterable[Flag]
    ) -> None: ...

    def move(self, ids: Sequence[int], folder: str) -> None: ...

    def delete(self, ids: Sequence[int]) -> None: ...

    def send(self, account: str, draft: Draft) -> SendResult: ...

    def send_queued(self, account: str) -> Sequence[tuple[str, SendResult]]:
        """Send what waits in the outbox now, whatever its retry time; (subject, outcome)."""
        return ()

    def send_later(self, account: str, draft: Draft, not_before: float) -> SendResult:
        """Queue the message to go at ``not_before`` (the undo window), not sending it now."""
        return self.send(account, draft)

    def send_entry(self, account: str, entry_id: str) -> SendResult:
        """Send an entry whose undo window ended, if it is still in the outbox."""
        raise TmailError("there is no outbox here", account=account)

    def take_back(self, account: str, entry_id: str) -> bool:
        """Take an entry out of the outbox before it goes; False when it already left."""
        return False

    def answer_invitation(
        self, account: str, ics: bytes, answer: str, comment: str | None
    ) -> tuple[str, SendResult]:
        """Send the REPLY to an invitation; (its subject, the outcome)."""
        raise TmailError("answering invitations is not possible here", account=account)

    def push_waiter(self, account: str) -> PushWait | None:
        """How to wait for new mail on ``account`` (IMAP IDLE), or None where there is none."""
        return None

    def postpone(self, account: str, draft: Draft) -> str: ...

    def resend(self, account: str, entry_id: str) -> Sequence[tuple[str, SendResult]]:
        """Let an outbox entry go again (held or not) and send it now; (subject, outcome)."""
        ...

    def drop_queued(self, account: str, entry_id: str) -> str:
        """Remove an outbox entry; returns its subject."""
        ...

    def unsubscribe(self, account: str, url: str) -> str:
        """RFC 8058 one-click POST to ``url``; returns what to tell the person."""
        raise TmailError("unsubscribing is not possible here", account=account)

    def close(self) -> None: ...


PushWait = Callable[[float, Callable[[], bool]], bool]  # (timeout, stop) -> mail arrived?


class _SyncJoin:
    """The outcome of a SyncNow over several accounts, sent when the last of them is done."""

    def __init__(self, request: SyncNow, accounts: int, emit: Callable[[Event], None]) -> None:
        self.request = request
        self.left = accounts
        self.failures: list[tuple[str, str]] = []
        self.emit = emit
        self.lock = threading.Lock()

    def done(self, account: str, errors: Sequence[str]) -> None:
        with self.lock:
            self.failures += [(account, e) for e in errors]
            self.left -= 1
            if self.left:
                return
        self.emit(_all_synced(self.request, self.failures))


def _all_synced(request: SyncNow, failures: Sequence[tuple[str, str]]) -> Event:
    rid = request.request_id
    if not failures:
        return SyncFinished(request_id=rid, account=request.account or "")
    first = failures[0][1]
    if len(failures) == 1:
        return RequestFailed(request_id=rid, error=first)
    # one line for all of them; the error log (E) has each one's own line
    accounts = list(dict.fromkeys(a for a, _ in failures))
    if len(accounts) > 1:
        return RequestFailed(
            request_id=rid, error=f"{len(accounts)} accounts failed to sync (E lists why): {first}"
        )
    what = f"{plural(len(failures), 'sync error')} in {accounts[0]}"
    return RequestFailed(request_id=rid, error=f"{what} (E lists them): {first}")


def _account_synced(request: SyncNow, account: str, errors: Sequence[str]) -> list[Event]:
    """The events ending a SyncNow of one account: each error as a fact when there are
    several (the error log lists every one), then the one outcome."""
    rid = request.request_id
    if not errors:
        return [SyncFinished(request_id=rid, account=account)]
    if len(errors) == 1:
        return [SyncFailed(request_id=rid, account=account, error=errors[0])]
    what = f"{plural(len(errors), 'sync error')} in {account} (E lists them): {errors[0]}"
    facts: list[Event] = [SyncFailed(account=account, error=e) for e in errors]
    return [*facts, SyncFailed(request_id=rid, account=account, error=what)]


_LOCAL = (SetFlags, MoveMessages, DeleteMessages)


class MailSession:
    """Start with :meth:`start`, send requests with :meth:`submit`, read :attr:`events`."""

    def __init__(
        self,
        backend: Backend,
        notify: Callable[[], None] = lambda: None,
        *,
        clock: Callable[[], float] = time.monotonic,
        poll: bool = True,
    ) -> None:
        self.backend = backend
        self.events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._notify = notify
        # Requests for the workers made before start() (or in a session never started, which
        # a test drives with run_once): handed to the workers by start().
        self._requests: queue.Queue[Request] = queue.Queue()
        self._clock = clock
        self._poll = poll
        self._workers: dict[str, AccountWorker] = {}
        self._workers_lock = threading.Lock()
        self._started = False
        self._stopping = threading.Event()
        self._watchers: list[threading.Thread] = []

    @property
    def busy(self) -> bool:
        """Some account's worker is doing something."""
        return any(w.busy for w in list(self._workers.values()))

    # -- the UI side

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        for account in self.backend.accounts():
            self._worker(account)
        for request in self.take_requests():  # what was asked before the start, in order
            self._route(request)

    def set_notify(self, notify: Callable[[], None]) -> None:
        """Replace the doorbell (the UI sets it once its main loop exists)."""
        self._notify = notify

    def submit(self, request: Request) -> int:
        """Queue a request; returns its id (found again on its outcome event).

        Flag changes, moves and deletes are applied to the store before this returns (on the
        caller's thread: they never wait behind a sync); their outcome event follows as usual.
        """
        if isinstance(request, _LOCAL):
            self._handle(request, self._emit)
        elif self._started:
            self._route(request)
        else:
            self._requests.put(request)
        return request.request_id

    def outbox(self) -> list[OutboxItem]:
        """What waits in the outboxes, oldest first. Read on the caller's thread: it only
        reads small files and changes nothing (no worker round trip for a listing)."""
        listing = getattr(self.backend, "outbox", None)
        return list(listing()) if listing is not None else []

    def undo_seconds(self, account: str) -> float:
        """How long the reader holds a sent message for undo (0 where the backend has none)."""
        seconds = getattr(self.backend, "undo_seconds", None)
        return float(seconds(account)) if callable(seconds) else 0.0

    def take_back(self, account: str, entry_id: str) -> bool:
        """Undo, on the caller's thread (not queued behind a sync that would send it): the
        entry out of the outbox under its lock; False when it already left."""
        return self.backend.take_back(account, entry_id)

    def drain(self) -> list[Event]:
        """Every event waiting, oldest first (call it from the UI thread on the doorbell)."""
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    def watch(self, account: str, wait: PushWait, interval: float) -> None:
        """Push: a thread of its own blocks in ``wait`` (IMAP IDLE on INBOX) and asks the
        account's worker for a sync whenever it returns True. Network trouble backs off (the
        watch loop's back-off, with jitter) and is reported once as SyncFailed; the worker
        stays free meanwhile."""

        def failed(exc: TmailError, failures: int, delay: float) -> None:
            log.warning("push for %s: %s", account, exc.one_line())
            if failures == 1:
                self._emit(SyncFailed(account=account, error=exc.one_line()))

        self._watchers.append(self._worker(account).watch(wait, interval, failed))

    def close(self, timeout: float = 5.0) -> None:
        """Stop: a running sync ends early (what it stored is kept), drafts asked to be sent
        or postponed are still handed to the outbox or Drafts; then the backend closes. Local
        changes were applied when submitted: none can be lost here."""
        self._stopping.set()
        with self._workers_lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.stop()
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
        self.backend.close()

    # -- the worker side

    def run_once(self, request: Request) -> list[Event]:
        """Do one request synchronously and return its events (the workers' body; for tests)."""
        out: list[Event] = []
        self._handle(request, out.append)
        return out

    def take_requests(self) -> list[Request]:
        """Remove and return the requests waiting for the workers, oldest first.

        For a session that was not started (tests, tools): see what was asked for, or do it
        with :meth:`run_once` or :meth:`run_pending`. Local changes are not among them: they
        were applied when submitted."""
        out: list[Request] = []
        while True:
            try:
                out.append(self._requests.get_nowait())
            except queue.Empty:
                return out

    def run_pending(self) -> list[Event]:
        """Do every waiting request on the calling thread, as the worker would, and return
        their events in order (for a session that was not started: tests, tools)."""
        out: list[Event] = []
        while requests := self.take_requests():
            for request in requests:
                out.extend(self.run_once(request))
        return out

    def _emit(self, event: Event) -> None:
        self.events.put(event)
        self._notify()

    def _worker(self, account: str) -> AccountWorker:
        from tmail.runtime.worker import AccountWorker

        with self._workers_lock:
            worker = self._workers.get(account)
            if worker is None:
                interval = self.backend.poll_interval(account) if self._poll else None
                worker = AccountWorker(
                    account,
                    lambda: self._poll_pass(account),
                    interval=interval,
                    stop=self._stopping,
                    clock=self._clock,
                )
                self._workers[account] = worker
                worker.start()
            return worker

    def _route(self, request: Request) -> None:
        """Hand a request to the worker of its account (SyncNow for all: to every one)."""
        if isinstance(request, SyncNow):
            if request.account:
                self._worker(request.account).submit(self._sync_job(request, request.account, None))
                return
            accounts = list(self.backend.accounts())
            if not accounts:
                self._emit(_all_synced(request, []))
                return
            join = _SyncJoin(request, len(accounts), self._emit)
            for name in accounts:
                self._worker(name).submit(self._sync_job(request, name, join))
            return
        owner = getattr(request, "account", None)
        if not isinstance(owner, str):
            raise TypeError(f"no account to do {request!r} for")

        def job() -> None:
            self._handle(request, self._emit)

        # a draft handed over before the reader closed still reaches the outbox or Drafts
        self._worker(owner).submit(job, at_close=True)

    def _sync_job(
        self, request: SyncNow, account: str, join: _SyncJoin | None
    ) -> Callable[[], bool]:
        return lambda: self._sync_request(request, account, join)

    def _sync_request(self, request: SyncNow, account: str, join: _SyncJoin | None) -> bool:
        """One account's part of ``request`` on its worker; whether it went without error."""
        errors = self._sync_account(account, request.send_now, self._emit)
        if join is None:
            for event in _account_synced(request, account, errors):
                self._emit(event)
        else:
            for error in errors:
                self._emit(SyncFailed(account=account, error=error))
            join.done(account, errors)
        return not errors

    def _poll_pass(self, account: str) -> bool:
        """The worker's own pass (its poll interval, or push): SyncNow for the account."""
        return self._sync_request(SyncNow(account=account), account, None)

    def _handle(self, request: Request, emit: Callable[[Event], None]) -> None:
        try:
            emit(self._dispatch(request, emit))
        except TmailError as exc:
            emit(self._failure(request, exc.one_line()))
        except Exception as exc:  # a bug: one line on screen, the traceback in the log
            log.error("request %r failed:\n%s", request, traceback.format_exc())
            emit(self._failure(request, safe_line(f"internal error: {exc!r} (details in the log)")))

    def _failure(self, request: Request, error: str) -> Event:
        if isinstance(request, SyncNow) and request.account:
            return SyncFailed(request_id=request.request_id, account=request.account, error=error)
        if isinstance(request, SendDraft):
            return MessageSent(
                request_id=request.request_id,
                account=request.account,
                subject=safe_line(request.draft.subject),
                status="refused",
                detail=error,
            )
        return RequestFailed(request_id=request.request_id, error=error)

    def _dispatch(self, request: Request, emit: Callable[[Event], None]) -> Event:
        rid = request.request_id
        if isinstance(request, SyncNow):
            accounts = [request.account] if request.account else list(self.backend.accounts())
            failures: list[tuple[str, str]] = []
            for account in accounts:
                errors = self._sync_account(account, request.send_now, emit)
                if request.account:
                    *facts, outcome = _account_synced(request, account, errors)
                    for event in facts:
                        emit(event)
                    return outcome
                for error in errors:
                    emit(SyncFailed(account=account, error=error))
                failures += [(account, e) for e in errors]
            return _all_synced(request, failures)
        if isinstance(request, SetFlags):
            self.backend.set_flags(request.ids, request.add, request.remove)
            return ChangesApplied(request_id=rid, ids=request.ids)
        if isinstance(request, MoveMessages):
            self.backend.move(request.ids, request.folder)
            return ChangesApplied(request_id=rid, ids=request.ids)
        if isinstance(request, DeleteMessages):
            self.backend.delete(request.ids)
            return ChangesApplied(request_id=rid, ids=request.ids)
        if isinstance(request, SendDraft):
            if request.send_at is not None:
                from tmail.outbox.flush import clock_time

                self.backend.send_later(request.account, request.draft, request.send_at)
                when = f"scheduled for {clock_time(request.send_at)}"
                result = SendResult("scheduled", f"{when}: it goes at the first sync after")
            elif request.undo_seconds > 0:
                at = time.time() + request.undo_seconds
                result = self.backend.send_later(request.account, request.draft, at)
            else:
                result = self.backend.send(request.account, request.draft)
            if result.status != "refused" and result.until is None:
                marked = request.replied_id or request.forwarded_id
                if marked is not None:
                    flag = Flag.REPLIED if request.replied_id else Flag.PASSED
                    self.backend.set_flags((marked,), (flag,), ())
            return MessageSent(
                request_id=rid,
                account=request.account,
                subject=safe_line(request.draft.subject),
                status=result.status,
                detail=safe_line(result.detail),
                entry_id=result.entry_id,
                until=result.until,
            )
        if isinstance(request, SendHeld):
            result = self.backend.send_entry(request.account, request.entry_id)
            if result.status != "refused":
                marked = request.replied_id or request.forwarded_id
                if marked is not None:
                    flag = Flag.REPLIED if request.replied_id else Flag.PASSED
                    self.backend.set_flags((marked,), (flag,), ())
            return MessageSent(request_id=rid, account=request.account, status=result.status,
                               subject=safe_line(request.subject), entry_id=request.entry_id,
                               detail=safe_line(result.detail))  # fmt: skip
        if isinstance(request, AnswerInvitation):
            subject, result = self.backend.answer_invitation(
                request.account, request.ics, request.answer, request.comment
            )
            return MessageSent(request_id=rid, account=request.account, subject=safe_line(subject),
                               status=result.status, detail=safe_line(result.detail))  # fmt: skip
        if isinstance(request, PostponeDraft):
            folder = self.backend.postpone(request.account, request.draft)
            return DraftPostponed(request_id=rid, account=request.account, folder=folder)
        if isinstance(request, ResendQueued):
            for subject, result in self.backend.resend(request.account, request.entry_id):
                sent = MessageSent(
                    account=request.account,
                    subject=safe_line(subject),
                    status=result.status,
                    detail=safe_line(result.detail),
                )
                emit(sent)
            return OutboxChanged(request_id=rid, account=request.account)
        if isinstance(request, DropQueued):
            subject = self.backend.drop_queued(request.account, request.entry_id)
            text = safe_line(f"dropped from the outbox: {subject or '(no subject)'}")
            return OutboxChanged(request_id=rid, account=request.account, text=text)
        if isinstance(request, OneClickUnsubscribe):
            text = self.backend.unsubscribe(request.account, request.url)
            return Unsubscribed(request_id=rid, text=safe_line(text))
        raise TypeError(f"unknown request {request!r}")

    def _sync_account(
        self, account: str, send_now: bool, emit: Callable[[Event], None]
    ) -> list[str]:
        """Send what waits ($), then sync ``account``; each failure as one line (none raised)."""
        errors: list[str] = []
        try:
            if send_now:
                self._send_queued(account, emit)
            emit(SyncStarted(account=account))

            def progress(folder: str, done: int, total: int) -> None:
                emit(
                    SyncProgress(account=account, folder=safe_line(folder), done=done, total=total)
                )

            result = self.backend.sync(account, progress, self._stopping.is_set)
            for f in result.folders:
                if f.new:
                    emit(NewMessages(account=account, folder=safe_line(f.folder), count=f.new))
            errors += [safe_line(e) for e in result.errors]
        except TmailError as exc:
            errors.append(exc.one_line())
        except Exception as exc:  # a bug: one line on screen, the traceback in the log
            log.error("sync of %s failed:\n%s", account, traceback.format_exc())
            errors.append(safe_line(f"internal error: {exc!r} (details in the log)"))
        return errors

    def _send_queued(self, account: str, emit: Callable[[Event], None]) -> None:
        for subject, result in self.backend.send_queued(account):
            emit(MessageSent(account=account, subject=subject, status=result.status,
                             detail=result.detail))  # fmt: skip
