"""Undo send: a message sent with ``y`` waits the account's ``undo_seconds`` in the outbox.

The session queues it with a not-before time (``SendDraft(undo_seconds=...)``): no flush sends
it earlier, and it is on disk, so closing the reader loses nothing (it goes at the next start or
by ``sync --watch``). Meanwhile the status line counts down; the take-back key moves it out of
the outbox (under the outbox lock: sent or taken back, never both) and opens the review screen
again with everything as it was. When the time is up, ``SendHeld`` sends it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tmail.core.errors import TmailError
from tmail.core.safe import safe_line
from tmail.runtime.session import MessageSent, SendHeld
from tmail.ui.compose import ComposeState

if TYPE_CHECKING:
    from tmail.ui.app import App


@dataclass(frozen=True)
class Held:
    account: str
    entry_id: str
    until: float
    subject: str
    state: ComposeState


class Undo:
    """The messages in their undo window, newest last; ``clock`` is the wall clock (a test
    sets it)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.held: list[Held] = []
        self.clock: Callable[[], float] = time.time

    def start(self, ev: MessageSent, state: ComposeState) -> None:
        """The session queued the message held until ``ev.until``: count down."""
        assert ev.until is not None
        self.held.append(Held(ev.account, ev.entry_id, ev.until, ev.subject, state))
        self._tick()

    def status(self) -> str:
        """``sending "Subject" in 7s: Z takes it back`` while a message is held; else ''."""
        if not self.held:
            return ""
        h = self.held[-1]
        left = max(0, math.ceil(h.until - self.clock()))
        more = f" (+{len(self.held) - 1})" if len(self.held) > 1 else ""
        key = self.app.keys.label("take_back")
        subject = safe_line(h.subject) or "(no subject)"
        return f'sending "{subject}"{more} in {left}s: {key} takes it back'

    def _tick(self) -> None:
        """Send what has had its time; redraw the countdown; again in a second."""
        now = self.clock()
        for h in [h for h in self.held if h.until <= now]:
            self.held.remove(h)
            self._send(h)
        self.app.update_status()
        loop = self.app.loop
        if self.held and loop is not None:
            loop.set_alarm_in(1.0, lambda *_: self._tick())

    tick = _tick

    def _send(self, h: Held) -> None:
        state = h.state
        rid = self.app.session.submit(
            SendHeld(
                account=h.account,
                entry_id=h.entry_id,
                subject=h.subject,
                replied_id=state.replied_id,
                forwarded_id=state.forwarded_id,
            )
        )
        self.app.events.cleanup_after[rid] = state  # its temp files go once it is out

    def take_back(self) -> None:
        """The key: the newest held message out of the outbox, into the review screen."""
        app = self.app
        if not self.held:
            app.notice("nothing to take back: no message is waiting to go")
            return
        h = self.held[-1]
        try:
            taken = app.session.take_back(h.account, h.entry_id)
        except TmailError as exc:
            app.notice(exc.one_line(), error=True)
            return
        self.held.remove(h)
        if not taken:
            app.notice("too late: it has already left the outbox", error=True)
            app.update_status()
            return
        from tmail.ui.composeflow import review

        review(app, h.state)
        app.notice("taken back: not sent; y sends it, P postpones it")


def take_back(app: App) -> None:
    app.undo.take_back()
