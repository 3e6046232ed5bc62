"""``sync --watch`` machinery: IDLE picks up mail delivered through Postfix within 2 s, POP3 within
the poll interval, the on_new_mail hook runs, and a stop request ends the loop promptly."""

from __future__ import annotations

import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.support.mailstack import MailStack, free_ports
from tests.support.sessions import account, imap_session, message, pop3_session
from tmail.config.model import Account, Config
from tmail.protocols.imap import ImapSession
from tmail.protocols.pop3 import Pop3Session
from tmail.runtime.watch import watch
from tmail.store import Store
from tmail.sync.engine import Openers
from tmail.sync.result import AccountSyncResult

pytestmark = pytest.mark.stack


def openers(stack: MailStack, user: MailUser) -> Openers:
    def imap(a: Account) -> ImapSession:
        return imap_session(stack, user.name, user.password)

    def pop3(a: Account) -> Pop3Session:
        return pop3_session(stack, user.name, user.password)

    return Openers(imap=imap, pop3=pop3)


def submit(stack: MailStack, sender: MailUser, rcpt: MailUser, subject: str) -> None:
    with smtplib.SMTP(stack.host, stack.ports.smtp, timeout=30) as smtp:
        smtp.starttls(context=ssl.create_default_context(cafile=str(stack.ca_file)))
        smtp.login(sender.name, sender.password)
        smtp.sendmail(sender.address, [rcpt.address], message(subject))


def run_watch(
    stack: MailStack, user: MailUser, acct: Account, tmp_path: Path
) -> tuple[
    threading.Event, threading.Thread, list[AccountSyncResult], list[str], Callable[[], None]
]:
    config = Config(None, tmp_path / "data", 300.0, {acct.name: acct})
    results: list[AccountSyncResult] = []
    lines: list[str] = []
    stop = threading.Event()
    store = Store.open(tmp_path / "data")

    def body() -> None:
        watch(
            config,
            [acct],
            lambda: Store(tmp_path / "data"),
            log=lines.append,
            stop=stop,
            on_result=results.append,
            openers=openers(stack, user),
        )

    t = threading.Thread(target=body, daemon=True)
    t.start()
    return stop, t, results, lines, store.close


def wait_until(cond: Callable[[], bool], timeout: float) -> float:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            raise AssertionError("timed out")
        time.sleep(0.02)
    return time.monotonic() - t0


def test_idle_picks_up_postfix_delivery_within_two_seconds(
    mailstack: MailStack, make_mail_user: Callable[[], MailUser], tmp_path: Path
) -> None:
    user, sender = make_mail_user(), make_mail_user()
    hook_out = tmp_path / "hook.txt"
    acct = account(
        mailstack,
        user.name,
        user.password,
        poll_interval=300.0,
        on_new_mail=f'echo "$TMAIL_ACCOUNT $TMAIL_NEW_COUNT" >> {hook_out}',
    )
    stop, thread, results, lines, close = run_watch(mailstack, user, acct, tmp_path)
    try:
        wait_until(lambda: len(results) >= 1, 20)  # the first pass is done
        time.sleep(0.5)  # IDLE is running
        submit(mailstack, sender, user, "pushed")
        mailstack.wait_for(user.name, 1, timeout=20)  # Postfix handed it to Dovecot
        took = wait_until(lambda: any(r.new_in_inbox for r in results), 10)
        assert took < 2.0, f"picked up {took:.2f}s after delivery"
        wait_until(lambda: hook_out.exists() and hook_out.read_text(), 5)
        assert hook_out.read_text() == f"{user.name} 1\n"
        assert any("new mail announced (IDLE)" in line for line in lines)
    finally:
        stop.set()
        thread.join(10)
        close()
    assert not thread.is_alive(), "watch did not stop within 10 s"


def test_watch_announces_no_mail_when_it_starts_and_none_came(
    mailstack: MailStack, mail_user: MailUser, tmp_path: Path
) -> None:
    mailstack.save(mail_user.name, message("there before"))
    idling = threading.Event()

    def imap(a: Account) -> ImapSession:
        s = imap_session(mailstack, mail_user.name, mail_user.password)
        check = s._c.idle_check

        def checked(timeout: float | None = None) -> list[object]:
            idling.set()
            return list(check(timeout=timeout))

        s._c.idle_check = checked
        return s

    acct = account(mailstack, mail_user.name, mail_user.password, poll_interval=300.0)
    config = Config(None, tmp_path / "data", 300.0, {acct.name: acct})
    Store.open(tmp_path / "data").close()
    lines: list[str] = []
    stop = threading.Event()
    t = threading.Thread(
        target=watch,
        args=(config, [acct], lambda: Store(tmp_path / "data")),
        kwargs={"log": lines.append, "stop": stop, "openers": Openers(imap=imap)},
        daemon=True,
    )
    t.start()
    try:
        assert idling.wait(30), "IDLE never started"
    finally:
        stop.set()
        t.join(10)
    assert not t.is_alive()
    events = [line.split(" ", 1)[1] for line in lines]  # without the time stamps
    assert events == [f"{acct.name}: 1 new, 0 changed, 0 removed, 0 errors"]


def test_pop3_watch_polls_on_its_interval_and_stops(
    mailstack: MailStack, mail_user: MailUser, tmp_path: Path
) -> None:
    acct = account(
        mailstack, mail_user.name, mail_user.password, protocol="pop3", poll_interval=1.0
    )
    stop, thread, results, _lines, close = run_watch(mailstack, mail_user, acct, tmp_path)
    try:
        wait_until(lambda: len(results) >= 1, 20)
        mailstack.deliver(mail_user.name, message("polled"))
        took = wait_until(lambda: any(r.new for r in results), 10)
        assert took < 3.0
    finally:
        t0 = time.monotonic()
        stop.set()
        thread.join(10)
        close()
    assert not thread.is_alive() and time.monotonic() - t0 < 3


def test_idle_is_reissued_before_the_servers_limit_and_still_wakes(
    mailstack: MailStack, mail_user: MailUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tmail.sync import idle

    assert idle.IDLE_MAX < 29 * 60  # RFC 2177: servers may drop an IDLE after 29 minutes
    monkeypatch.setattr(idle, "IDLE_MAX", 1.0)  # the same loop, in seconds instead of minutes
    commands: list[str] = []

    def opener(a: Account) -> ImapSession:
        s = imap_session(mailstack, mail_user.name, mail_user.password)
        send = s._imap.send

        def logged(data: bytes) -> None:
            commands.append(data.decode("utf-8", "replace").strip())
            send(data)

        s._imap.send = logged
        return s

    watcher = idle.InboxWatcher(account(mailstack, mail_user.name, mail_user.password), opener)
    try:
        assert watcher.wait(1.0) is True  # connects: one pass for what came meanwhile
        t0 = time.monotonic()
        assert watcher.wait(3.5) is False
        assert 3.0 < time.monotonic() - t0 < 6.0
        idles = [c for c in commands if c.endswith(" IDLE")]
        assert len(idles) >= 4 and commands.count("DONE") == len(idles), commands
        mailstack.deliver(mail_user.name, message("after re-issues"))
        t0 = time.monotonic()
        assert watcher.wait(10.0) is True
        assert time.monotonic() - t0 < 2.0
    finally:
        watcher.close()


def test_network_failures_back_off_with_growing_delays_and_stop_promptly(
    mailstack: MailStack, mail_user: MailUser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tmail.runtime.watch as watch_mod

    closed = free_ports(1)[0]
    acct = account(mailstack, mail_user.name, mail_user.password, poll_interval=300.0)
    acct = replace(acct, incoming=replace(acct.incoming, port=closed, timeout=2.0))
    asked: list[int] = []
    real = watch_mod.backoff_delay

    def quick(failures: int, rng: object = None) -> float:
        asked.append(failures)
        assert 2.5 <= real(failures) <= 15 * 60 * 1.5  # what the real loop would wait
        return 0.05

    monkeypatch.setattr(watch_mod, "backoff_delay", quick)
    config = Config(None, tmp_path / "data", 300.0, {acct.name: acct})
    lines: list[str] = []
    results: list[AccountSyncResult] = []
    stop = threading.Event()
    Store.open(tmp_path / "data").close()
    t = threading.Thread(
        target=watch,
        args=(config, [acct], lambda: Store(tmp_path / "data")),
        kwargs={"log": lines.append, "stop": stop, "on_result": results.append},
        daemon=True,
    )
    t.start()
    try:
        wait_until(lambda: len(asked) >= 4, 20)
    finally:
        stop.set()
        t0 = time.monotonic()
        t.join(10)
    assert not t.is_alive() and time.monotonic() - t0 < 3
    assert asked[:4] == [1, 2, 3, 4]  # consecutive failures: each wait longer than the last
    assert all(r.errors for r in results)
    retry = [line for line in lines if "retrying in" in line]
    assert len(retry) >= 4 and all(f"{acct.name}: retrying in" in line for line in retry)
    errors = [line for line in lines if f"127.0.0.1:{closed}" in line]
    assert errors and all("\n" not in line for line in errors)  # one line per event


def test_watch_sends_a_scheduled_message_when_its_time_comes_not_before(
    mail_user: MailUser, make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    """A message queued by another process ('tmail send --at') while the watcher runs: the
    watcher's clock (injected) says not yet, so nothing goes, though passes run; when the
    clock reaches its time, it goes through the real Postfix without waiting for a pass."""
    from tmail.config.model import ServerSettings
    from tmail.core.models import Address
    from tmail.mime.compose import Draft, compose
    from tmail.outbox.service import queue_message

    stack, rcpt = mail_user.stack, make_mail_user("r")
    acct = account(stack, mail_user.name, mail_user.password, save_sent=False)
    smtp = ServerSettings(
        "smtp", stack.host, stack.ports.smtp, security="starttls", username=mail_user.name,
        password_env=acct.incoming.password_env, ca_file=stack.ca_file, timeout=20,
    )  # fmt: skip
    acct = replace(acct, outgoing=smtp)
    config = Config(None, tmp_path / "data", 300.0, {acct.name: acct})
    now = [time.time()]
    stop = threading.Event()
    lines: list[str] = []
    results: list[AccountSyncResult] = []

    def body() -> None:
        watch(config, [acct], lambda: Store.open(tmp_path / "data", check=False),
              log=lines.append, stop=stop, on_result=results.append,
              openers=openers(stack, mail_user), clock=lambda: now[0])  # fmt: skip

    Store.open(tmp_path / "data").close()
    t = threading.Thread(target=body, daemon=True)
    t.start()
    try:
        wait_until(lambda: len(results) >= 1, 30)  # the first pass ran
        draft = Draft(from_=Address("", mail_user.address), to=(rcpt.address,),
                      subject="at nine", body="b\n")  # fmt: skip
        at = now[0] + 3600
        entry = queue_message(tmp_path / "data", acct, compose(draft), not_before=at)
        time.sleep(6)  # the watcher looks at its outboxes every 5 s: it saw it, not due
        assert stack.stored_messages(rcpt.name) == []
        assert (tmp_path / "data" / "outbox" / acct.name / "new" / entry.id).exists()
        now[0] = at + 1
        assert stack.wait_for(rcpt.name, 1, timeout=30) == 1
        wait_until(lambda: any("delivered" in line for line in lines), 10)
    finally:
        stop.set()
        t.join(30)
