"""MailSession's worker thread: the doorbell, polling, and a UI that never waits for it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypeVar

import pytest

from tests.tui.conftest import Harness
from tmail.config.model import Account, Config, ServerSettings
from tmail.core.models import Address, Flag
from tmail.mime.compose import Draft
from tmail.runtime.backend import LocalBackend
from tmail.runtime.session import (
    Backend,
    DeleteMessages,
    Event,
    MailSession,
    MessageSent,
    MoveMessages,
    NewMessages,
    SendDraft,
    SendResult,
    SetFlags,
    SyncFinished,
    SyncNow,
)
from tmail.store.models import NewMessage
from tmail.store.store import Store
from tmail.sync.result import AccountSyncResult, FolderResult

E = TypeVar("E", bound=Event)
DRAFT = Draft(from_=Address("Me", "me@x.test"), to=("a@x.test",), subject="hi", body="b")


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

    def sync(self, account: str, progress: object = None, stop: object = None) -> AccountSyncResult:
        time.sleep(self.delay)
        self.syncs += 1
        return AccountSyncResult(account, folders=(FolderResult("INBOX", new=500),))

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


class LongSyncBackend(LocalBackend):
    """The real local backend (flags, moves, deletes into a real store) whose sync of account
    "slow" runs until the session stops it, and whose send only records the draft."""

    def __init__(self, config: Config, store: Store) -> None:
        super().__init__(config, store)
        self.syncing = threading.Event()
        self.sent: list[str] = []

    def sync(self, account: str, progress: object = None, stop: object = None) -> AccountSyncResult:
        if account == "slow":
            self.syncing.set()
            deadline = time.monotonic() + 30  # a sync never told to stop ends some time
            while time.monotonic() < deadline and not (callable(stop) and stop()):
                time.sleep(0.01)
        return AccountSyncResult(account)

    def send(self, account: str, draft: Draft) -> SendResult:
        self.sent.append(draft.subject)
        return SendResult("queued", "in the outbox")


def long_sync_setup(tmp_path: Path) -> tuple[Config, Store, LongSyncBackend, list[int]]:
    inc = ServerSettings("imap", "127.0.0.1", 1)
    accounts = {n: Account(n, f"{n}@example.test", inc) for n in ("slow", "other")}
    config = Config(path=None, data_dir=tmp_path, poll_interval=300, accounts=accounts)
    store = Store.open(tmp_path)
    fetched = [NewMessage(f"Subject: m{i}\n\nbody\n".encode(), uid=i + 1) for i in range(3)]
    ids = store.add_messages("other", "INBOX", fetched)  # as a sync stores them
    return config, store, LongSyncBackend(config, store), ids


def test_a_flag_change_is_in_the_store_while_another_accounts_long_sync_runs(
    tmp_path: Path,
) -> None:
    _config, store, backend, ids = long_sync_setup(tmp_path)
    session = MailSession(backend, poll=False)
    session.start()
    try:
        session.submit(SyncNow(account="slow"))
        assert backend.syncing.wait(5)
        session.submit(SetFlags(ids=(ids[0],), add=frozenset({Flag.SEEN})))
        session.submit(DeleteMessages(ids=(ids[1],)))
        # applied on the caller's thread, in the store, while the other sync still runs
        row = store.get(ids[0])
        assert row is not None and Flag.SEEN in row.flags
        deleted = store.get(ids[1])
        assert deleted is not None and deleted.folder == "Trash"
        assert {p.kind for p in store.pending("other")} == {"flags", "move"}  # for the push
        # and the other account's worker sends while the first account's sync goes on
        session.submit(SendDraft(account="other", draft=DRAFT))
        sent = wait_for(session, MessageSent)
        assert sent.status == "queued" and backend.sent == ["hi"]
        assert backend.syncing.is_set() and not any(
            isinstance(e, SyncFinished) for e in session.drain()
        )
    finally:
        session.close()
        store.close()


def test_closing_the_session_during_a_long_sync_loses_no_change_and_no_draft(
    tmp_path: Path,
) -> None:
    _config, store, backend, ids = long_sync_setup(tmp_path)
    session = MailSession(backend, poll=False)
    session.start()
    session.submit(SyncNow(account="slow"))
    assert backend.syncing.wait(5)
    session.submit(SetFlags(ids=(ids[0],), add=frozenset({Flag.FLAGGED})))
    session.submit(MoveMessages(ids=(ids[1],), folder="Archive"))
    session.submit(DeleteMessages(ids=(ids[2],)))
    session.submit(SendDraft(account="slow", draft=DRAFT))  # behind the long sync
    session.close(timeout=1.0)
    store.close()
    assert backend.sent == ["hi"]  # handed to the outbox before the session ended
    with Store.open(tmp_path) as again:  # what is on disk, read afresh
        flagged, moved, deleted = (again.get(i) for i in ids)
        assert flagged is not None and Flag.FLAGGED in flagged.flags
        assert moved is not None and moved.folder == "Archive"
        assert deleted is not None and deleted.folder == "Trash"
        assert sorted(p.kind for p in again.pending("other")) == ["flags", "move", "move"]


def wait_for(session: MailSession, kind: type[E]) -> E:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for e in session.drain():
            if isinstance(e, kind):
                return e
        time.sleep(0.01)
    raise AssertionError(f"no {kind.__name__} within 10 s")


def test_the_readers_polling_backs_off_after_a_failed_sync_as_the_watch_loop_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One runtime: the reader's worker retries a failed sync after the watch loop's back-off
    # (5 s doubling, with jitter), not only after the poll interval (here 300 s).
    import tmail.runtime.worker as worker_mod
    from tmail.core.errors import ConnectFailed

    asked: list[int] = []

    def quick(failures: int, rng: object = None) -> float:
        asked.append(failures)
        return 0.01

    monkeypatch.setattr(worker_mod, "backoff_delay", quick)

    class Flaky(SlowBackend):
        def sync(
            self, account: str, progress: object = None, stop: object = None
        ) -> AccountSyncResult:
            self.syncs += 1
            if self.syncs <= 2:
                raise ConnectFailed("connection refused", account="demo", server="imap:993")
            return AccountSyncResult(account)

    backend = Flaky(interval=300.0)
    session = MailSession(backend)
    session.start()
    try:
        session.submit(SyncNow(account="demo"))
        deadline = time.monotonic() + 10
        while backend.syncs < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert backend.syncs == 3 and asked == [1, 2]
    finally:
        session.close()
