"""What the session tells the reader: a batch of events (new mail, a sync started, progressed,
finished or failed, a message sent, a draft postponed, changes applied) becomes notices, counts
and a refreshed index, with one redraw per batch (no polling of the store). Also the requests
behind them that the reader starts on its own: sync now (``$``), and IDLE on each account's
INBOX.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from tmail.runtime.session import (
    ChangesApplied,
    DeleteMessages,
    DraftPostponed,
    Event,
    MessageSent,
    NewMessages,
    OutboxChanged,
    RequestFailed,
    SyncFailed,
    SyncFinished,
    SyncNow,
    SyncProgress,
    SyncStarted,
    Unsubscribed,
)
from tmail.ui.compose import ComposeState
from tmail.ui.composeflow import cleanup

if TYPE_CHECKING:
    from tmail.ui.app import App


class Events:
    def __init__(self, app: App) -> None:
        self.app = app
        self.pending_sync: set[int] = set()
        # a message handed to the session: its temp files go (and the draft it was resumed
        # from, once it is safe elsewhere) when the request's outcome arrives
        self.cleanup_after: dict[int, ComposeState] = {}
        self.syncing: set[str] = set()  # accounts whose sync started and has not ended

    def sync(self, send_now: bool = True) -> None:
        """$: fetch, and send what waits in the outbox now (not at its next retry time)."""
        rid = self.app.session.submit(SyncNow(send_now=send_now))
        self.pending_sync.add(rid)
        self.app.status.sync_state = "syncing…"

    def handle(self, events: Sequence[Event]) -> None:
        """Apply a batch of events with one refresh of the counts and the index."""
        if not events:
            return
        app = self.app
        status = app.status
        new_total = 0
        changed = progressed = False
        for ev in events:
            changed = self._cleanup(ev) or changed
            if isinstance(ev, SyncStarted):
                self.syncing.add(ev.account)  # accounts sync side by side, each on its worker
                status.sync_state = f"syncing {ev.account}…"
            elif isinstance(ev, SyncProgress):
                # the sync has stored (and committed) a batch: the index shows it as it goes
                if ev.account in self.syncing:
                    status.sync_state = f"syncing {ev.account} {ev.folder} {ev.done}/{ev.total}…"
                progressed = True
            elif isinstance(ev, NewMessages):
                new_total += ev.count
                changed = True
            elif isinstance(ev, SyncFinished):
                self.syncing.discard(ev.account)
                if not ev.account:  # the outcome of syncing every account
                    self.syncing.clear()
                still = sorted(self.syncing)
                synced = "synced " + time.strftime("%H:%M")
                status.sync_state = f"syncing {still[0]}…" if still else synced
                self.pending_sync.discard(ev.request_id or 0)
                changed = True
            elif isinstance(ev, SyncFailed):
                self.syncing.discard(ev.account)
                status.sync_state = "sync failed"
                app.notice(ev.error, error=True)
                changed = True
            elif isinstance(ev, MessageSent):
                if ev.until is not None:
                    pass  # held for undo: the status line counts down (ui/undo.py)
                elif ev.status == "delivered":
                    app.notice(f"sent: {ev.subject}")
                elif ev.status == "scheduled":
                    app.notice(f"{ev.subject}: {ev.detail}")
                elif ev.status == "queued":
                    app.notice(f"queued, will retry: {ev.detail or ev.subject}")
                elif ev.status == "held":
                    app.notice(f"held in the outbox: {ev.detail}", error=True)
                else:
                    app.notice(f"not sent: {ev.detail}", error=True)
                changed = True
            elif isinstance(ev, DraftPostponed):
                app.notice(f"postponed to {ev.account}/{ev.folder}")
                changed = True
            elif isinstance(ev, ChangesApplied):
                changed = True
            elif isinstance(ev, Unsubscribed):
                app.notice(ev.text)
            elif isinstance(ev, RequestFailed):
                app.notice(ev.error, error=True)
                changed = True
            elif isinstance(ev, OutboxChanged):
                if ev.text:
                    app.notice(ev.text)
                changed = True
        if new_total:
            app.notice(f"{new_total} new message{'s' if new_total != 1 else ''}")
        if changed:
            app.refresh_sidebar()
            if app.screen.kind in ("index", "pager"):
                app.index.refresh(keep_id=app.current_id())
        elif progressed:
            self.show_progress()
        app.update_status()

    def _cleanup(self, ev: Event) -> bool:
        """The outcome of a composed message: its temp files go; True when the draft it was
        resumed from was deleted (the index changes)."""
        done = self.cleanup_after.pop(ev.request_id or 0, None)
        if done is None:
            return False
        if isinstance(ev, MessageSent) and ev.until is not None:
            self.app.undo.start(ev, done)  # held for undo: kept until it goes or comes back
            return False
        cleanup(done)  # temp files of a forward, once the message is built
        if done.resumed_id is not None and _saved_elsewhere(ev):
            # the draft it was resumed from: sent (or queued) or postponed anew
            self.app.session.submit(DeleteMessages(ids=(done.resumed_id,)))
            return True
        return False

    def show_progress(self) -> None:
        """Counts and rows as the store has them now (on SyncProgress: the sync committed a
        batch), redrawn only when they changed."""
        app = self.app
        before = [(f.account, f.name, f.total, f.unread) for f in app.folders]
        app.refresh_sidebar()
        if before == [(f.account, f.name, f.total, f.unread) for f in app.folders]:
            return
        if app.screen.kind in ("index", "pager"):
            app.index.refresh(keep_id=app.current_id())
        app.update_status()

    def start_push(self) -> None:
        """IDLE on each IMAP account's INBOX, where the backend offers it."""
        session = self.app.session
        backend = session.backend
        for account in backend.accounts():
            wait = backend.push_waiter(account)
            if wait is not None:
                interval = backend.poll_interval(account) or 300.0
                session.watch(account, wait, interval)


def _saved_elsewhere(ev: Event) -> bool:
    """The composed message is safe somewhere else: delivered, in the outbox, or in Drafts."""
    if isinstance(ev, MessageSent):
        return ev.status in ("delivered", "queued", "held", "scheduled")
    return isinstance(ev, DraftPostponed)
