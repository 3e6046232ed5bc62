"""The reader's backend against the real Dovecot: what a sync in the TUI does besides fetching."""

from __future__ import annotations

import email
import email.policy
import time
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.support.sessions import message, write_config
from tmail.config import load_config
from tmail.runtime.backend import MailBackend
from tmail.store.store import Store

pytestmark = pytest.mark.stack


def wait_for_text(path: Path, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().endswith("\n"):
            return path.read_text()
        time.sleep(0.05)
    raise AssertionError(f"{path} was not written within {timeout} s")


def test_the_readers_sync_runs_on_new_mail_only_when_inbox_got_mail(
    mail_user: MailUser, tmp_path: Path
) -> None:
    stack = mail_user.stack
    log = tmp_path / "hook.log"
    hook = f'on_new_mail = "echo $TMAIL_ACCOUNT $TMAIL_NEW_COUNT >> {log}; echo noise"'
    cfg = write_config(tmp_path, stack, mail_user.name, mail_user.password, extra=hook)
    config = load_config(cfg)
    for i in range(2):
        stack.save(mail_user.name, message(f"hook {i}"))
    with Store.open(config.data_dir) as store:
        backend = MailBackend(config, store)
        result = backend.sync("acct")
        assert {f.folder: f.new for f in result.folders if f.new} == {"INBOX": 2}
        assert wait_for_text(log) == "acct 2\n"
        backend.sync("acct")  # nothing new: no second announcement
        stack.save(mail_user.name, message("hook 2"))
        backend.sync("acct")
        deadline = time.monotonic() + 10
        while log.read_text().count("\n") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert log.read_text() == "acct 2\nacct 1\n"


def test_a_refused_login_is_one_readable_line_on_the_status(
    mail_user: MailUser, tmp_path: Path
) -> None:
    from tmail.runtime.session import MailSession
    from tmail.ui.main import build_app

    cfg = write_config(tmp_path, mail_user.stack, mail_user.name, "not-the-password")
    config = load_config(cfg)
    with Store.open(config.data_dir) as store:
        app = build_app(config, store, MailBackend(config, store), {}, poll=False)
        session: MailSession = app.session
        app.sync()
        for ev in session.run_pending():
            session.events.put(ev)
        app.handle_events(session.drain())
        for width in (100, 80):
            status = app.render_text(width, 10).splitlines()[-2]
            assert "sync failed" in status and "login refused" in status, status
            assert "acct: acct (" not in status  # the account named once
            assert len(status) == width
        app.press("j", "k")  # the reader goes on working
        assert "Error log" not in app.render_text(100, 10)
        app.press("E")
        assert "login refused for" in app.render_text(100, 10)


def test_dollar_sends_what_waits_in_the_outbox_now(
    mail_user: MailUser, make_mail_user: object, tmp_path: Path
) -> None:
    # $ says "fetch and send mail now": a message queued while the server was unreachable
    # goes at once, not at its next retry time minutes later.
    import socket

    from tmail.mime.compose import Draft
    from tmail.runtime.session import MailSession, MessageSent, SyncNow

    stack = mail_user.stack
    rcpt: MailUser = make_mail_user()  # type: ignore[operator]
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]

    def config_with(port: int) -> Path:
        out = f'outgoing.host = "{stack.host}"\noutgoing.port = {port}\n'
        out += f'outgoing.security = "starttls"\noutgoing.ca_file = "{stack.ca_file}"\n'
        return write_config(tmp_path, stack, mail_user.name, mail_user.password, extra=out)

    draft = Draft(from_=stack.address(mail_user.name), to=(stack.address(rcpt.name),),
                  subject="queued while offline", body="hello\n")  # fmt: skip
    config = load_config(config_with(closed))
    with Store.open(config.data_dir) as store:
        result = MailBackend(config, store).send("acct", draft)
        assert result.status == "queued"
    config = load_config(config_with(stack.ports.smtp))  # the network is back
    with Store.open(config.data_dir) as store:
        session = MailSession(MailBackend(config, store), poll=False)
        events = list(session.run_once(SyncNow(send_now=True)))  # type: ignore[arg-type]
        sent = [e for e in events if isinstance(e, MessageSent)]
        assert [(e.subject, e.status) for e in sent] == [("queued while offline", "delivered")]
        assert stack.wait_for(rcpt.name, 1) == 1
        assert store.count("acct", "Sent") == 1


def test_a_sent_copy_reaches_a_server_that_had_no_sent_folder(
    mail_user: MailUser, make_mail_user: object, tmp_path: Path
) -> None:
    # The fixture's Dovecot configures no namespace mailboxes: a new user has INBOX only.
    # The reader's send keeps the copy in the local Sent for the next sync to upload; that
    # sync made no Sent on the server, so the copy stayed pending (and local) forever.
    from tmail.mime.compose import Draft

    stack = mail_user.stack
    rcpt: MailUser = make_mail_user()  # type: ignore[operator]
    assert "Sent" not in stack.doveadm("mailbox", "list", "-u", mail_user.name).split()
    out = f'outgoing.host = "{stack.host}"\noutgoing.port = {stack.ports.smtp}\n'
    out += f'outgoing.security = "starttls"\noutgoing.ca_file = "{stack.ca_file}"\n'
    cfg = write_config(tmp_path, stack, mail_user.name, mail_user.password, extra=out)
    config = load_config(cfg)
    draft = Draft(from_=stack.address(mail_user.name), to=(stack.address(rcpt.name),),
                  subject="копия без папки", body="hello\n")  # fmt: skip
    with Store.open(config.data_dir) as store:
        backend = MailBackend(config, store)
        assert backend.send("acct", draft).status == "delivered"
        backend.sync("acct")
        assert store.pending("acct") == []
        backend.sync("acct")  # a second sync neither duplicates nor re-fetches it
        assert store.count("acct", "Sent") == 1
    assert stack.wait_for(mail_user.name, 1, mailbox="Sent") == 1
    [copy] = stack.stored_messages(mail_user.name, "Sent")
    parsed = email.message_from_bytes(copy, policy=email.policy.default)
    assert parsed["Subject"] == "копия без папки"
    assert stack.wait_for(rcpt.name, 1) == 1


def test_the_readers_sent_copy_is_appended_at_once_as_the_clis_is(
    mail_user: MailUser, make_mail_user: object, tmp_path: Path
) -> None:
    # One Sent-copy policy: the server's Sent has the copy as soon as the message is out (it
    # waited for the reader's next sync), made with \Sent where the server had no Sent; the
    # next sync brings it into the local store once, with nothing left to push.
    from tmail.mime.compose import Draft

    stack = mail_user.stack
    rcpt: MailUser = make_mail_user()  # type: ignore[operator]
    out = f'outgoing.host = "{stack.host}"\noutgoing.port = {stack.ports.smtp}\n'
    out += f'outgoing.security = "starttls"\noutgoing.ca_file = "{stack.ca_file}"\n'
    cfg = write_config(tmp_path, stack, mail_user.name, mail_user.password, extra=out)
    config = load_config(cfg)
    draft = Draft(from_=stack.address(mail_user.name), to=(stack.address(rcpt.name),),
                  subject="at once", body="hello\n")  # fmt: skip
    with Store.open(config.data_dir) as store:
        backend = MailBackend(config, store)
        assert backend.send("acct", draft).status == "delivered"
        assert store.pending("acct") == []  # nothing left for a sync to upload
        assert stack.wait_for(mail_user.name, 1, mailbox="Sent") == 1
        backend.sync("acct")
        assert store.count("acct", "Sent") == 1 and store.pending("acct") == []
    assert stack.wait_for(mail_user.name, 1, mailbox="Sent") == 1  # not a second copy


def test_the_readers_sync_reports_progress_as_it_stores(
    mail_user: MailUser, tmp_path: Path
) -> None:
    # Progress reaches the reader as events (the session turns these calls into SyncProgress):
    # each call comes after a batch was committed, so the store already shows what it counts.
    stack = mail_user.stack
    config = load_config(write_config(tmp_path, stack, mail_user.name, mail_user.password))
    for i in range(3):
        stack.save(mail_user.name, message(f"progress {i}"))
    seen: list[tuple[str, int, int, int]] = []
    with Store.open(config.data_dir) as store:

        def progress(folder: str, done: int, total: int) -> None:
            seen.append((folder, done, total, store.count("acct", folder)))

        result = MailBackend(config, store).sync("acct", progress)
        assert result.new_in_inbox == 3 and result.errors == ()
    assert seen and seen[-1] == ("INBOX", 3, 3, 3)
