"""One worker thread per account: the runtime under both the reader and ``tmail sync --watch``.

An :class:`AccountWorker` does one account's slow work in order on a thread of its own (syncs,
sends), so one account's long sync never holds up another account. Between jobs it waits for
the account's next *pass* (a sync): every ``interval`` seconds after one that worked; after
failed passes, the back-off of :func:`backoff_delay` (5 s doubling to 15 min, with jitter so
many clients do not reconnect in step). A push watcher (IMAP IDLE on INBOX, see
:meth:`AccountWorker.watch`) runs on a second thread and asks for a pass when the server
announces mail; its failures back off the same way.

What runs here is plain synchronous code handed in by the caller (:mod:`tmail.runtime.session`
for the reader, :mod:`tmail.runtime.watch` for ``sync --watch``); this module only owns the
threads, the order and the timing.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from tmail.core.errors import TmailError

log = logging.getLogger("tmail.runtime")

BACKOFF_START = 5.0
BACKOFF_MAX = 15 * 60.0

# A job returns True or False when it was a pass (a sync) that worked or failed, which sets the
# time of the next pass; None for other work (sending, postponing).
Job = Callable[[], "bool | None"]
PushWait = Callable[[float, Callable[[], bool]], bool]  # (timeout, stop) -> mail arrived?


def backoff_delay(failures: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after ``failures`` consecutive failures: 5 s doubling to 15 min, with
    +-50 % jitter so many clients do not reconnect in step."""
    r = rng or random
    base = min(BACKOFF_MAX, BACKOFF_START * 2.0 ** max(0, failures - 1))
    return float(base * r.uniform(0.5, 1.5))


@dataclass(frozen=True)
class _Item:
    job: Job | None  # None: the account's pass
    at_close: bool = False  # still done when the worker is asked to stop (a draft to queue)


class _Stop:
    pass


class AccountWorker:
    """One account's thread. ``run_pass`` is the account's sync; ``interval`` (None: no
    passes by themselves) spaces them; ``backoff(failures)`` spaces them after failures and
    ``on_backoff(failures, delay)`` hears of each such wait. ``stop`` is shared by every
    worker of a session: once set, a running pass may end early (the caller's sync watches
    it) and the push watcher ends."""

    def __init__(
        self,
        account: str,
        run_pass: Callable[[], bool],
        *,
        interval: float | None,
        stop: threading.Event,
        backoff: Callable[[int], float] | None = None,
        on_backoff: Callable[[int, float], None] | None = None,
        first_pass: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.account = account
        self._run_pass = run_pass
        self.interval = interval
        self._stop = stop
        self._backoff = backoff or (lambda failures: backoff_delay(failures))
        self._on_backoff = on_backoff
        self._clock = clock
        self._items: queue.Queue[_Item | _Stop] = queue.Queue()
        self._pass_waiting = threading.Event()  # one pass asked for is enough
        self._thread: threading.Thread | None = None
        self.pushers: list[threading.Thread] = []
        self.failures = 0
        self.busy = False
        # Push waits only while passes work (as the watch loop always did): after a failed
        # pass the back-off decides when to try again, not a reconnecting IDLE.
        self._healthy = threading.Event()
        if not first_pass:
            self._healthy.set()
        now = clock()
        self._next_pass: float | None = (
            now if first_pass else (now + interval if interval else None)
        )

    # -- the caller's side

    def start(self) -> None:
        if self._thread is None:
            name = f"tmail-{self.account}"
            self._thread = threading.Thread(target=self._run, name=name, daemon=True)
            self._thread.start()

    def submit(self, job: Job, *, at_close: bool = False) -> None:
        """Do ``job`` on this account's thread after what was asked before it. ``at_close``:
        it is still done when the worker is stopped before reaching it."""
        self._items.put(_Item(job, at_close))

    def pass_now(self) -> None:
        """A pass as soon as the work in hand is done (push: the server announced mail)."""
        if not self._pass_waiting.is_set():
            self._pass_waiting.set()
            self._items.put(_Item(None))

    def watch(
        self,
        wait: PushWait,
        interval: float,
        on_error: Callable[[TmailError, int, float], None],
        *,
        after_wait: Callable[[bool], None] | None = None,
    ) -> threading.Thread:
        """Push: a thread blocks in ``wait`` (IMAP IDLE) and asks for a pass whenever it
        returns True. Network trouble backs off (``on_error(error, failures, delay)`` first)
        without holding up the worker; the thread ends when ``stop`` is set."""

        def run() -> None:
            failures = 0
            while not self._stop.is_set():
                self._healthy.wait()
                if self._stop.is_set():
                    break
                started = self._clock()
                try:
                    changed = wait(interval, self._stop.is_set)
                    failures = 0
                except TmailError as exc:
                    failures += 1
                    delay = self._backoff(failures)
                    on_error(exc, failures, delay)
                    # no longer than until the next pass would have come anyway
                    self._stop.wait(max(0.0, min(delay, interval - (self._clock() - started))))
                    continue
                except Exception:  # a bug in the watcher must not end the program
                    log.error("push for %s failed:\n%s", self.account, traceback.format_exc())
                    self._stop.wait(60.0)
                    continue
                if after_wait is not None:
                    after_wait(changed)
                if changed and not self._stop.is_set():
                    self.pass_now()

        thread = threading.Thread(target=run, name=f"tmail-push-{self.account}", daemon=True)
        self.pushers.append(thread)
        thread.start()
        return thread

    def stop(self) -> None:
        """Finish the job in hand and the ``at_close`` jobs waiting, then end (set the shared
        ``stop`` event first so a running pass ends early)."""
        self._items.put(_Stop())
        self._healthy.set()  # a push watcher waiting for a pass that works: let it see stop

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; whether it did."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- the worker's side

    def _run(self) -> None:
        while True:
            timeout = None
            if self._next_pass is not None:
                timeout = max(0.0, self._next_pass - self._clock())
            try:
                item = self._items.get(timeout=timeout)
            except queue.Empty:
                item = _Item(None)
            if isinstance(item, _Stop):
                self._finish()
                return
            self._do(item)

    def _do(self, item: _Item) -> None:
        self.busy = True
        try:
            if item.job is None:
                self._pass_waiting.clear()
                outcome: bool | None = self._run_pass()
            else:
                outcome = item.job()
        except Exception:  # the job's own errors are its business; a bug must not end us
            log.error("work for %s failed:\n%s", self.account, traceback.format_exc())
            outcome = None
        finally:
            self.busy = False
        if outcome is not None:
            self._passed(outcome)

    def _passed(self, ok: bool) -> None:
        """A pass ended: the next one after the interval, or after a back-off."""
        self.failures = 0 if ok else self.failures + 1
        now = self._clock()
        if ok or not self.interval:  # without passes of its own, push is the only retry
            self._healthy.set()
        else:
            self._healthy.clear()
        if not self.interval:  # no passes by themselves here (the reader without polling)
            self._next_pass = None
        elif self.failures:
            delay = self._backoff(self.failures)
            if self._on_backoff is not None:
                self._on_backoff(self.failures, delay)
            self._next_pass = now + delay
        else:
            self._next_pass = now + self.interval

    def _finish(self) -> None:
        """Asked to stop: what must not be lost (``at_close``) is still done; passes are not."""
        while True:
            try:
                item = self._items.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Item) and item.at_close and item.job is not None:
                self._do(item)
