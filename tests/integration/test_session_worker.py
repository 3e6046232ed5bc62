"""MailSession's worker thread: the doorbell, polling, and a UI that never waits for it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence

from tests.tui.conftest import Harness
from tmail.core.models import Flag
from tmail.mime.compose import Draft
from tmail.runtime.session import (
    Backend,
    MailSession,
    NewMessages,
    SendResult,
    SetFlags,
    SyncFinished,
    SyncNow,
    SyncOutcome,
)


class SlowBackend(Backend):
    """A sync that takes a while and finds mail; polling every ``interval`` seconds."""

    def __init__(self, delay: float = 0.0, interval: float | None = None) -> None:
        self.delay = delay
        self.interval = interval
        self.syncs = 0
        self.flag_calls = 0

    def accounts(self) -> Sequence[str]:
        return ["demo"]

    def poll_interval(self, account: str) -> float | None:
        return self.interval

    def sync(self, account: str) -> SyncOutcome:
        time.sleep(self.delay)
        self.syncs += 1
        return SyncOutcome(new={"INBOX": 500})

    def set_flags(self, ids: Sequence[int], add: Iterable[Flag], remove: Iterable[Flag]) -> None:
        self.flag_calls += 1

    def move(self, ids: Sequence[int], folder: str) -> None:
        pass

    def delete(self, ids: Sequence[int]) -> None:
        pass

    def send(self, account: str, draft: Draft) -> SendResult:
        return SendResult("delivered")

    def postpone(self, account: str, draft: Draft) -> str:
        return "Drafts"

    def close(self) -> None:
        pass


def test_doorbell_rings_and_one_drain_takes_every_event() -> None:
    rang = threading.Event()
    session = MailSession(SlowBackend(), rang.set, poll=False)
    session.start()
    try:
        ids = [session.submit(SyncNow(account="demo")) for _ in range(3)]
        deadline = time.monotonic() + 5
        events = []
        while time.monotonic() < deadline and sum(isinstance(e, SyncFinished) for e in events) < 3:
            assert rang.wait(5)
            rang.clear()
            events.extend(session.drain())
        assert [e.request_id for e in events if isinstance(e, SyncFinished)] == ids
        assert sum(isinstance(e, NewMessages) for e in events) == 3
    finally:
        session.close()


def test_polling_syncs_on_the_interval() -> None:
    backend = SlowBackend(interval=0.1)
    session = MailSession(backend)
    session.start()
    try:
        deadline = time.monotonic() + 5
        while backend.syncs < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert backend.syncs >= 2
    finally:
        session.close()


def test_close_applies_local_changes_already_asked_for() -> None:
    backend = SlowBackend(delay=0.3)
    session = MailSession(backend, poll=False)
    session.start()
    session.submit(SyncNow(account="demo"))
    session.submit(SetFlags(ids=(1,), add=frozenset({Flag.SEEN})))
    session.close()
    assert backend.flag_calls == 1


def test_the_ui_answers_keys_while_a_long_sync_runs() -> None:
    # A UI that waited for the worker would take the whole 4 s sync on some key; the bound is
    # far below that and far above a loaded machine's slowest redraw (0.2 s failed under load).
    h = Harness()
    backend = SlowBackend(delay=4.0)
    h.app.session = MailSession(backend, poll=False)
    h.app.session.start()
    try:
        h.press("$")
        worst = 0.0
        for key in ["j", "k", "enter", "q", "j", "?", "q"] * 3:
            t = time.perf_counter()
            h.press(key)
            h.screen()
            worst = max(worst, time.perf_counter() - t)
        assert backend.syncs == 0  # the sync is still running
        assert worst < 1.0, f"a key took {worst:.2f} s while the sync ran"
        assert "syncing" in h.screen()
    finally:
        h.app.session.close(timeout=5)


def test_push_asks_for_a_sync_when_mail_arrives_and_backs_off_on_errors() -> None:
    from tmail.core.errors import ConnectFailed
    from tmail.runtime.session import SyncFailed

    backend = SlowBackend()
    session = MailSession(backend, poll=False)
    calls = {"n": 0}

    def wait(timeout: float, stop: object) -> bool:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectFailed("connection refused", account="demo", server="imap:993")
        if calls["n"] == 2:
            return True  # new mail
        time.sleep(0.05)
        return False

    session.start()
    session._stopping.wait = lambda timeout=None: False  # type: ignore[method-assign]
    try:
        session.watch("demo", wait, 1.0)
        deadline = time.monotonic() + 5
        while backend.syncs < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert backend.syncs == 1
        failures = [e for e in session.drain() if isinstance(e, SyncFailed)]
        assert len(failures) == 1 and "connection refused" in failures[0].error
    finally:
        session.close()
