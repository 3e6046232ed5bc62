"""MailSession: the one object the UI (or any front end) talks to for work that may be slow.

One worker thread runs everything that can wait on a server or the disk for long: syncing an
account, sending, and applying flag/move/delete changes to the store (these are quick, but they
must not race a sync's writes). Requests go in as small typed values (imperative: ``SyncNow``,
``SetFlags``, ``SendDraft``); what happened comes back as past-tense events (``NewMessages``,
``FolderSynced``, ``SyncFailed``, ``MessageSent``). Every request ends in exactly one outcome
event carrying its ``request_id`` (``RequestDone`` or a failure); other events (``NewMessages``)
are facts seen on the way.

Events are put on a :class:`queue.SimpleQueue` and then ``notify()`` is called: the UI passes a
function that writes one byte to the pipe of ``urwid.MainLoop.watch_pipe``, and on wake drains
the whole queue, so 500 new messages cost one redraw (aerc's coalescing ``Invalidate``).

The worker also polls: each account is synced when its ``poll_interval`` has passed since its
last sync. The work itself is done by a :class:`Backend`, plain synchronous code a test can call
without threads.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

from tmail.core.errors import TmailError
from tmail.core.models import Flag
from tmail.core.safe import safe_line

if TYPE_CHECKING:
    from tmail.mime.compose import Draft

log = logging.getLogger("tmail.runtime")
_ids = itertools.count(1)


def _next_id() -> int:
    return next(_ids)


# ------------------------------------------------------------------------------ requests


@dataclass(frozen=True, kw_only=True)
class Request:
    request_id: int = field(default_factory=_next_id)


@dataclass(frozen=True, kw_only=True)
class SyncNow(Request):
    """Fetch (and push pending changes, and flush the outbox) for one account, or all.

    ``send_now``: the person asked ($): what waits in the outbox goes now, not at its next
    retry time (rate limits still hold)."""

    account: str | None = None
    send_now: bool = False


@dataclass(frozen=True, kw_only=True)
class SetFlags(Request):
    ids: tuple[int, ...]
    add: frozenset[Flag] = frozenset()
    remove: frozenset[Flag] = frozenset()


@dataclass(frozen=True, kw_only=True)
class MoveMessages(Request):
    ids: tuple[int, ...]
    folder: str


@dataclass(frozen=True, kw_only=True)
class DeleteMessages(Request):
    """Move to Trash (or expunge where the folder is Trash); pushed by the next sync."""

    ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class SendDraft(Request):
    account: str
    draft: Draft
    replied_id: int | None = None  # message answered: flagged R once the reply is out
    forwarded_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class PostponeDraft(Request):
    account: str
    draft: Draft


@dataclass(frozen=True, kw_only=True)
class ResendQueued(Request):
    """Send an outbox entry now, held or not (the user's "send again"); MessageSent follows."""

    account: str
    entry_id: str


@dataclass(frozen=True, kw_only=True)
class DropQueued(Request):
    """Forget an outbox entry (not sent, or delivery uncertain and the user says it went)."""

    account: str
    entry_id: str


@dataclass(frozen=True, kw_only=True)
class OneClickUnsubscribe(Request):
    """RFC 8058: POST to the list's HTTPS unsubscribe URL (the person confirmed the host)."""

    account: str
    url: str


# ------------------------------------------------------------------------------ events


@dataclass(frozen=True, kw_only=True)
class Event:
    request_id: int | None = None  # set on the outcome of a request


@dataclass(frozen=True, kw_only=True)
class NewMessages(Event):
    account: str
    folder: str
    count: int


@dataclass(frozen=True, kw_only=True)
class FolderSynced(Event):
    account: str
    folder: str


@dataclass(frozen=True, kw_only=True)
class SyncStarted(Event):
    account: str


@dataclass(frozen=True, kw_only=True)
class SyncFinished(Event):
    account: str


@dataclass(frozen=True, kw_only=True)
class SyncFailed(Event):
    account: str
    error: str  # one line, terminal-safe


# held: kept in the outbox but not tried again by itself (login refused, delivery uncertain)
SendStatus = Literal["delivered", "queued", "refused", "held"]


@dataclass(frozen=True, kw_only=True)
class MessageSent(Event):
    """The outcome of SendDraft: delivered, queued (with the reason) or refused (why)."""

    account: str
    subject: str
    status: SendStatus
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class DraftPostponed(Event):
    account: str
    folder: str


@dataclass(frozen=True, kw_only=True)
class ChangesApplied(Event):
    ids: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class OutboxChanged(Event):
    """The outcome of ResendQueued / DropQueued; ``text`` says what happened, when anything."""

    account: str
    text: str = ""


@dataclass(frozen=True)
class OutboxItem:
    """One message in an outbox, as the reader lists it (terminal-safe text)."""

    account: str
    id: str
    subject: str
    recipients: str
    state: str  # queued, waiting (rate limit), held (login refused), uncertain, failed
    last_error: str
    next_try: float | None  # when it goes by itself; None: it does not


@dataclass(frozen=True, kw_only=True)
class Unsubscribed(Event):
    """The outcome of OneClickUnsubscribe: what the list server answered (terminal-safe)."""

    text: str


@dataclass(frozen=True, kw_only=True)
class RequestFailed(Event):
    error: str  # one line, terminal-safe


# ------------------------------------------------------------------------------ backend


@dataclass(frozen=True)
class SyncResult:
    new: Mapping[str, int]  # folder -> messages that arrived
    folders: Sequence[str] = ()  # folders synced


@dataclass(frozen=True)
class SendResult:
    status: SendStatus
    detail: str = ""


class Backend(Protocol):
    """The synchronous work behind the session (see :mod:`tmail.runtime.backend`).

    ``send_queued`` and ``push_waiter`` have defaults (no outbox, no push): a backend that
    lacks either subclasses ``Backend`` to inherit them."""

    def accounts(self) -> Sequence[str]: ...

    def poll_interval(self, account: str) -> float | None: ...

    def sync(self, account: str) -> SyncResult: ...

    def set_flags(
        self, ids: Sequence[int], add: Iterable[Flag], remove: Iterable[Flag]
    ) -> None: ...

    def move(self, ids: Sequence[int], folder: str) -> None: ...

    def delete(self, ids: Sequence[int]) -> None: ...

    def send(self, account: str, draft: Draft) -> SendResult: ...

    def send_queued(self, account: str) -> Sequence[tuple[str, SendResult]]:
        """Send what waits in the outbox now, whatever its retry time; (subject, outcome)."""
        return ()

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


class _Stop:
    pass


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
        self._requests: queue.Queue[Request | _Stop] = queue.Queue()
        self._clock = clock
        self._poll = poll
        self._last_sync: dict[str, float] = {}
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._watchers: list[threading.Thread] = []
        self.busy = False  # a request is being worked on (read by the UI's status line)

    # -- the UI side

    def start(self) -> None:
        if self._thread is not None:
            return
        now = self._clock()
        for account in self.backend.accounts():
            self._last_sync[account] = now
        self._thread = threading.Thread(target=self._run, name="tmail-worker", daemon=True)
        self._thread.start()

    def set_notify(self, notify: Callable[[], None]) -> None:
        """Replace the doorbell (the UI sets it once its main loop exists)."""
        self._notify = notify

    def submit(self, request: Request) -> int:
        """Queue a request; returns its id (found again on its outcome event)."""
        self._requests.put(request)
        return request.request_id

    def outbox(self) -> list[OutboxItem]:
        """What waits in the outboxes, oldest first. Read on the caller's thread: it only
        reads small files and changes nothing (no worker round trip for a listing)."""
        listing = getattr(self.backend, "outbox", None)
        return list(listing()) if listing is not None else []

    def drain(self) -> list[Event]:
        """Every event waiting, oldest first (call it from the UI thread on the doorbell)."""
        out = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    def watch(self, account: str, wait: PushWait, interval: float) -> None:
        """Push: a thread of its own blocks in ``wait`` (IMAP IDLE on INBOX) and asks for a
        sync of ``account`` whenever it returns True. Network trouble backs off (30 s doubling
        to 15 min) and is reported once as SyncFailed; the worker stays free meanwhile."""

        def run() -> None:
            failures = 0
            while not self._stopping.is_set():
                try:
                    changed = wait(interval, self._stopping.is_set)
                    failures = 0
                except TmailError as exc:
                    failures += 1
                    log.warning("push for %s: %s", account, exc.one_line())
                    if failures == 1:
                        self._emit(SyncFailed(account=account, error=exc.one_line()))
                    self._stopping.wait(min(900.0, 30.0 * 2 ** (failures - 1)))
                    continue
                except Exception:  # a bug in the watcher must not end the program
                    log.error("push for %s failed:\n%s", account, traceback.format_exc())
                    self._stopping.wait(60.0)
                    continue
                if changed and not self._stopping.is_set():
                    self.submit(SyncNow(account=account))

        thread = threading.Thread(target=run, name=f"tmail-push-{account}", daemon=True)
        self._watchers.append(thread)
        thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Finish the request in hand (local changes already queued are applied), then stop."""
        self._stopping.set()
        if self._thread is None:
            self.backend.close()
            return
        self._requests.put(_Stop())
        self._thread.join(timeout)
        self._thread = None
        self.backend.close()

    # -- the worker side

    def run_once(self, request: Request) -> list[Event]:
        """Do one request synchronously and return its events (the worker's body; for tests)."""
        out: list[Event] = []
        self._handle(request, out.append)
        return out

    def take_requests(self) -> list[Request]:
        """Remove and return the requests waiting for the worker, oldest first.

        For a session that was not started (tests, tools): see what was asked for, or do it
        with :meth:`run_once` or :meth:`run_pending`."""
        out: list[Request] = []
        while True:
            try:
                item = self._requests.get_nowait()
            except queue.Empty:
                return out
            if not isinstance(item, _Stop):
                out.append(item)

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

    def _run(self) -> None:
        while True:
            timeout = self._next_poll_in()
            try:
                item = self._requests.get(timeout=timeout)
            except queue.Empty:
                self._poll_due()
                continue
            if isinstance(item, _Stop):
                # Local changes queued before the stop still reach the store.
                self._drain_local()
                return
            self._handle(item, self._emit)

    def _drain_local(self) -> None:
        while True:
            try:
                item = self._requests.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, SetFlags | MoveMessages | DeleteMessages):
                self._handle(item, self._emit)

    def _next_poll_in(self) -> float | None:
        if not self._poll:
            return None
        waits = []
        now = self._clock()
        for account in self.backend.accounts():
            interval = self.backend.poll_interval(account)
            if interval:
                waits.append(self._last_sync.get(account, now) + interval - now)
        return max(0.0, min(waits)) if waits else None

    def _poll_due(self) -> None:
        now = self._clock()
        for account in self.backend.accounts():
            interval = self.backend.poll_interval(account)
            if interval and now - self._last_sync.get(account, now) >= interval:
                self._handle(SyncNow(account=account), self._emit)

    def _handle(self, request: Request, emit: Callable[[Event], None]) -> None:
        self.busy = True
        try:
            emit(self._dispatch(request, emit))
        except TmailError as exc:
            emit(self._failure(request, exc.one_line()))
        except Exception as exc:  # a bug: one line on screen, the traceback in the log
            log.error("request %r failed:\n%s", request, traceback.format_exc())
            emit(self._failure(request, safe_line(f"internal error: {exc!r} (details in the log)")))
        finally:
            self.busy = False

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
            failures = []
            for account in accounts:
                try:
                    if request.send_now:
                        self._send_queued(account, emit)
                    self._sync_one(account, emit)
                except TmailError as exc:
                    if request.account:
                        raise
                    failures.append(exc.one_line())
                    emit(SyncFailed(account=account, error=exc.one_line()))
            if len(failures) > 1:
                # one line for all of them; the error log (E) has each account's own line
                first = failures[0]
                error = f"{len(failures)} accounts failed to sync (E lists why): {first}"
                return RequestFailed(request_id=rid, error=error)
            if failures:
                return RequestFailed(request_id=rid, error=failures[0])
            return SyncFinished(request_id=rid, account=request.account or "")
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
            result = self.backend.send(request.account, request.draft)
            if result.status != "refused":
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
            )
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

    def _send_queued(self, account: str, emit: Callable[[Event], None]) -> None:
        for subject, result in self.backend.send_queued(account):
            emit(MessageSent(account=account, subject=subject, status=result.status,
                             detail=result.detail))  # fmt: skip

    def _sync_one(self, account: str, emit: Callable[[Event], None]) -> None:
        emit(SyncStarted(account=account))
        self._last_sync[account] = self._clock()
        result = self.backend.sync(account)
        for folder in result.folders:
            emit(FolderSynced(account=account, folder=folder))
        for folder, count in result.new.items():
            if count:
                emit(NewMessages(account=account, folder=folder, count=count))
        self._last_sync[account] = self._clock()
