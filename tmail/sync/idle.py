"""Push for IMAP accounts: one connection IDLEs on INBOX (RFC 2177) between polls.

:class:`InboxWatcher` is synchronous; the runtime's watch loop calls :meth:`InboxWatcher.wait`
on its worker. Each IDLE is ended and re-issued well before the 29-minute limit the RFC lets a
server enforce. Other folders are polled on the account's interval (NOTIFY, RFC 5465, is not
used yet).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tmail.config.model import Account
from tmail.protocols.imap import ImapSession
from tmail.sync.result import StopFn

IDLE_MAX = 25 * 60.0  # seconds: re-issue IDLE before the server's 29-minute auto-logout


class InboxWatcher:
    """Holds one IMAP connection selected on INBOX and waits on it for new mail."""

    def __init__(self, account: Account, opener: Callable[[Account], ImapSession]) -> None:
        self.account = account
        self._open = opener
        self._session: ImapSession | None = None
        # Whether the last True from wait() was the server announcing a change (IDLE or NOOP),
        # not a (re)connection asking for one pass to cover the time it was not watching.
        self.announced = False

    @property
    def supported(self) -> bool:
        return self._session is None or self._session.has("IDLE")

    def wait(self, timeout: float, stop: StopFn | None = None) -> bool:
        """Block up to ``timeout`` seconds; True as soon as INBOX changed on the server, and
        right after (re)connecting (``announced`` tells the two apart).

        Raises :class:`tmail.core.errors.NetworkError` when the connection fails (the caller
        backs off and retries); the broken connection is dropped first.
        """
        self.announced = False
        if self._session is None or self._session.broken:
            self.close()
            self._session = self._open(self.account)
            self._session.select("INBOX", readonly=True)
            # Mail may have come between the last sync and this connection: one cheap pass.
            return True
        session = self._session
        try:
            if session.noop():  # changes since the last IDLE ended (or during the sync)
                self.announced = True
                return True
            if not session.has("IDLE"):
                deadline = time.monotonic() + timeout  # no push here: just wait the interval
                while time.monotonic() < deadline and not (stop is not None and stop()):
                    time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
                return False
            remaining = timeout
            while remaining > 0:
                chunk = min(remaining, IDLE_MAX)
                if session.idle(chunk, stop):
                    self.announced = True
                    return True
                if stop is not None and stop():
                    return False
                remaining -= chunk
            return False
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self._session is not None:
            self._session.logout()
            self._session = None
