"""What the session tells the reader: a batch of events (new mail, a sync started, finished or
failed, a message sent, a draft postponed, changes applied) becomes notices, counts and a
refreshed index, with one redraw per batch. Also the requests behind them that the reader
starts on its own: sync now (``$``), and IDLE on each account's INBOX.
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
    SyncStarted,
    Unsubscribed,
)
from tmail.ui.compose import ComposeState
from tmail.ui.composeflow import cleanup

if TYPE_CHECKING:
    from tmail.ui.app import App

SYNC_TICK = 1.0  # seconds between looks at the store while a sync writes into it


class Events:
    def __init__(self, app: App) -> None:
        self.app = app
        self.pending_sync: set[int] = set()
        # a message handed to the session: its temp files go (and the draft it was resumed
        # from, once it is safe elsewhere) when the request's outcome arrives
        self.cleanup_after: dict[int, ComposeState] = {}
        self._sync_alarm: object | None = None  # the tick showing a running sync's progress

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
        changed = False
        for ev in events:
            changed = self._cleanup(ev) or changed
            if isinstance(ev, SyncStarted):
                status.sync_state = f"syncing {ev.account}…"
                self._watch_sync()
            elif isinstance(ev, NewMessages):
                new_total += ev.count
                changed = True
            elif isinstance(ev, SyncFinished):
                status.sync_state = "synced " + time.strftime("%H:%M")
                self.pending_sync.discard(ev.request_id or 0)
                changed = True
            elif isinstance(ev, SyncFailed):
                status.sync_state = "sync failed"
                app.notice(ev.error, error=True)
                changed = True
            elif isinstance(ev, MessageSent):
                if ev.status == "delivered":
                    app.notice(f"sent: {ev.subject}")
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
        app.update_status()

    def _cleanup(self, ev: Event) -> bool:
        """The outcome of a composed message: its temp files go; True when the draft it was
        resumed from was deleted (the index changes)."""
        done = self.cleanup_after.pop(ev.request_id or 0, None)
        if done is None:
            return False
        cleanup(done)  # temp files of a forward, once the message is built
        if done.resumed_id is not None and _saved_elsewhere(ev):
            # the draft it was resumed from: sent (or queued) or postponed anew
            self.app.session.submit(DeleteMessages(ids=(done.resumed_id,)))
            return True
        return False

    def _watch_sync(self) -> None:
        """While a sync runs, show what it has stored so far once a second: the first sync of a
        big mailbox fills the index as it goes instead of leaving it empty until the end."""
        app = self.app
        if app.loop is None or self._sync_alarm is not None:
            return

        def tick(_loop: object = None, _data: object = None) -> None:
            self._sync_alarm = None
            if not app.status.sync_state.startswith("syncing"):
                return
            try:
                self.show_progress()
            except Exception as exc:  # a bug must not stop the reader
                app.internal_error(exc)
            if app.loop is not None:
                self._sync_alarm = app.loop.set_alarm_in(SYNC_TICK, tick)

        self._sync_alarm = app.loop.set_alarm_in(SYNC_TICK, tick)

    def show_progress(self) -> None:
        """Counts and rows as the store has them now (the sync worker commits as it goes)."""
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
        return ev.status in ("delivered", "queued", "held")
    return isinstance(ev, DraftPostponed)
