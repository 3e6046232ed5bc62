"""IDLE when the server ends the connection (a restart, ``doveadm kick``, a crash, a laptop that
slept): the wait ends at once with a ConnectFailed and the watch loops reconnect with back-off.
Before, imapclient's ``idle_check`` read the EOF as "nothing yet" and ``ImapSession.idle``
polled the dead socket again at once, at 100 % CPU, until the poll interval ran out."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import imapclient
import pytest

from tests.conftest import MailUser
from tests.support.fakeimap import HangsUpInIdle
from tests.support.mailstack import MailStack
from tests.support.sessions import account, imap_session, message, write_config
from tmail.config.model import Account, Config
from tmail.core.errors import ConnectFailed
from tmail.protocols.imap import ImapSession
from tmail.runtime.watch import watch
from tmail.store import Store
from tmail.sync.engine import Openers
from tmail.sync.result import AccountSyncResult

# The IDLE loop waits at most a second per idle_check; spinning on a dead socket made hundreds
# of thousands of calls a second. A bound this loose cannot fail for a healthy loop.
MAX_CHECKS = 60


class CountedIdle:
    """Counts idle_check calls on one session (one per wake-up of the IDLE loop)."""

    def __init__(self, session: ImapSession) -> None:
        self.calls = 0
        real = session._c.idle_check

        def counted(timeout: float | None = None) -> list[object]:
            self.calls += 1
            return list(real(timeout=timeout))

        session._c.idle_check = counted


def wait_until(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def idle_in_thread(session: ImapSession, timeout: float) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []

    def run() -> None:
        try:
            out.append(session.idle(timeout))
        except Exception as exc:
            out.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


@pytest.mark.stack
def test_idle_ends_at_once_when_dovecot_kicks_the_connection(
    mailstack: MailStack, mail_user: MailUser
) -> None:
    s = imap_session(mailstack, mail_user.name, mail_user.password)
    s.select("INBOX", readonly=True)
    checks = CountedIdle(s)
    try:
        t, out = idle_in_thread(s, 300.0)
        wait_until(lambda: checks.calls >= 1, 20, "IDLE to start")
        mailstack.doveadm("kick", mail_user.name)  # Dovecot says BYE and closes
        t.join(30)  # well inside the 300 s IDLE: only a prompt end returns here
        assert not t.is_alive(), "IDLE kept waiting on a closed connection"
    finally:
        s.logout()
    assert len(out) == 1 and isinstance(out[0], ConnectFailed), out
    assert "IDLE: the server closed the connection (Server shutting down.)" in out[0].one_line()
    assert out[0].one_line().startswith(f"{mail_user.name} (127.0.0.1:")
    assert s.broken
    assert checks.calls < MAX_CHECKS, f"{checks.calls} polls of a dead socket"


@contextlib.contextmanager
def fake_session(server: HangsUpInIdle) -> Iterator[ImapSession]:
    client = imapclient.IMAPClient("127.0.0.1", port=server.port, ssl=False, timeout=5)
    client.login("u", "p")
    s = ImapSession(client, account="acct", server=f"127.0.0.1:{server.port}")
    try:
        yield s
    finally:
        s.logout()


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
def test_idle_ends_at_once_when_the_connection_goes_without_a_bye(reset: bool) -> None:
    with HangsUpInIdle(reset=reset) as server, fake_session(server) as s:
        s.select("INBOX", readonly=True)
        checks = CountedIdle(s)
        t, out = idle_in_thread(s, 300.0)
        t.join(30)
        assert not t.is_alive(), "IDLE kept waiting on a closed connection"
    assert len(out) == 1 and isinstance(out[0], ConnectFailed), out
    line = out[0].one_line()
    assert line.startswith("acct (127.0.0.1:") and "IDLE: " in line
    assert s.broken
    assert checks.calls < MAX_CHECKS, f"{checks.calls} polls of a dead socket"


@pytest.mark.stack
def test_watch_logs_the_drop_reconnects_with_back_off_and_gets_the_next_letter(
    mailstack: MailStack, mail_user: MailUser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tmail.runtime.watch as watch_mod

    asked: list[int] = []

    def quick(failures: int, rng: object = None) -> float:
        asked.append(failures)
        return 0.05

    monkeypatch.setattr(watch_mod, "backoff_delay", quick)
    checks: list[CountedIdle] = []

    def imap(a: Account) -> ImapSession:
        s = imap_session(mailstack, mail_user.name, mail_user.password)
        checks.append(CountedIdle(s))
        return s

    acct = account(mailstack, mail_user.name, mail_user.password, poll_interval=300.0)
    config = Config(None, tmp_path / "data", 300.0, {acct.name: acct})
    Store.open(tmp_path / "data").close()
    lines: list[str] = []
    results: list[AccountSyncResult] = []
    stop = threading.Event()
    t = threading.Thread(
        target=watch,
        args=(config, [acct], lambda: Store(tmp_path / "data")),
        kwargs={
            "log": lines.append,
            "stop": stop,
            "on_result": results.append,
            "openers": Openers(imap=imap),
        },
        daemon=True,
    )
    t.start()
    try:
        wait_until(lambda: any(c.calls for c in checks), 30, "the first IDLE")
        idling = next(c for c in checks if c.calls)
        mailstack.doveadm("kick", mail_user.name)
        wait_until(lambda: any("closed the connection" in line for line in lines), 30, "the log")
        # reconnected: a later connection is in IDLE again
        wait_until(lambda: any(c.calls for c in checks if c is not idling), 30, "a new IDLE")
        mailstack.deliver(mail_user.name, message("after the restart"))
        wait_until(lambda: any(r.new_in_inbox for r in results), 30, "the letter")
    finally:
        stop.set()
        t.join(10)
    assert not t.is_alive()
    assert asked and asked[0] == 1  # the normal back-off, from its first step
    drop = [line for line in lines if "closed the connection" in line]
    assert len(drop) == 1 and "(IDLE; retrying in" in drop[0], lines
    assert f"{acct.name} (127.0.0.1:" in drop[0]
    assert idling.calls < MAX_CHECKS, f"{idling.calls} polls of a dead socket"
    with Store.open(tmp_path / "data") as store:
        subjects = [m.subject for m in store.list_messages(acct.name, "INBOX")]
    assert "after the restart" in subjects


@pytest.mark.stack
def test_reader_push_reports_the_drop_and_reconnects(
    mail_user: MailUser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tmail.sync.engine as engine
    from tmail.config import load_config
    from tmail.runtime.backend import MailBackend
    from tmail.runtime.session import MailSession, SyncFailed

    stack = mail_user.stack
    checks: list[CountedIdle] = []
    real_open = engine.open_imap_session

    def counted_open(a: Account) -> ImapSession:
        s = real_open(a)
        checks.append(CountedIdle(s))
        return s

    monkeypatch.setattr(engine, "open_imap_session", counted_open)
    config = load_config(write_config(tmp_path, stack, mail_user.name, mail_user.password))
    with Store.open(config.data_dir) as store:
        backend = MailBackend(config, store)
        session = MailSession(backend, poll=False)
        wait = backend.push_waiter("acct")
        assert wait is not None
        session.start()
        session._stopping.wait = lambda timeout=None: False  # type: ignore[method-assign]
        events: list[object] = []
        try:
            session.watch("acct", wait, 300.0)
            wait_until(lambda: any(c.calls for c in checks), 30, "the first IDLE")
            idling = next(c for c in checks if c.calls)
            stack.doveadm("kick", mail_user.name)
            wait_until(lambda: any(c.calls for c in checks if c is not idling), 30, "a new IDLE")
            stack.deliver(mail_user.name, message("after the kick"))

            def arrived() -> bool:
                events.extend(session.drain())
                subjects = [m.subject for m in store.list_messages("acct", "INBOX")]
                return "after the kick" in subjects

            wait_until(arrived, 30, "the letter")
        finally:
            session.close()
            for w in session._watchers:
                w.join(10)  # the push thread sees the stop within a second and logs out
    failed = [e for e in events if isinstance(e, SyncFailed)]
    assert len(failed) == 1 and "IDLE: the server closed the connection" in failed[0].error
    assert idling.calls < MAX_CHECKS, f"{idling.calls} polls of a dead socket"
