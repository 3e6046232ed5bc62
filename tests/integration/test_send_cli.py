"""``tmail send``, ``send -t``, ``queue`` and ``flush`` as a user runs them, against the real
Postfix; and ``git send-email --sendmail-cmd="tmail send -t"``."""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.support.fakesmtp import fake_smtp

pytestmark = pytest.mark.stack

TMAIL = [sys.executable, "-m", "tmail"]


def write_config(
    tmp_path: Path,
    user: MailUser,
    *,
    port: int | None = None,
    security: str = "starttls",
    extra: str = "",
) -> Path:
    stack = user.stack
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f"""
[general]
data_dir = "{tmp_path / "data"}"

[accounts.test]
email = "{user.address}"
name = "Алиса Тестова"
save_sent = false
incoming.protocol = "imap"
incoming.host = "{stack.host}"
incoming.port = {stack.ports.imaps}
incoming.security = "tls"
incoming.username = "{user.name}"
incoming.password_env = "TMAIL_TEST_PW"
incoming.ca_file = "{stack.ca_file}"
outgoing.host = "{stack.host}"
outgoing.port = {port or stack.ports.smtp}
outgoing.security = "{security}"
outgoing.username = "{user.name}"
outgoing.password_env = "TMAIL_TEST_PW"
outgoing.ca_file = "{stack.ca_file}"
{"outgoing.allow_plaintext_auth = true" if security == "none" else ""}
{extra}
""",
        encoding="utf-8",
    )
    return cfg


def run(
    cfg: Path, user: MailUser, *args: str, stdin: bytes = b"", password: str | None = None
) -> subprocess.CompletedProcess[bytes]:
    pw = user.password if password is None else password
    env = {**os.environ, "TMAIL_TEST_PW": pw, "TMAIL_CONFIG": str(cfg)}
    return subprocess.run(
        [*TMAIL, *args], input=stdin, capture_output=True, env=env, timeout=120, check=False
    )


def test_send_with_options_delivers_and_exits_0(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender, rcpt, hidden = make_mail_user("s"), make_mail_user("r"), make_mail_user("h")
    cfg = write_config(tmp_path, sender)
    res = run(
        cfg, sender, "send", "--to", f"Борис <{rcpt.address}>", "--bcc", hidden.address,
        "--subject", "Привет из терминала", stdin="Текст письма.\n".encode(),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    stack = sender.stack
    assert stack.wait_for(rcpt.name, 1) == 1 and stack.wait_for(hidden.name, 1) == 1
    msg = email.message_from_bytes(stack.stored_messages(rcpt.name)[0], policy=email.policy.default)
    assert msg["Subject"] == "Привет из терминала"
    assert "Алиса Тестова" in str(msg["From"])
    assert msg["Bcc"] is None
    out = run(cfg, sender, "queue")
    assert out.returncode == 0 and b"the outbox is empty" in out.stdout


def test_send_t_takes_recipients_from_headers_and_hides_bcc(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender, rcpt, hidden = make_mail_user("s"), make_mail_user("r"), make_mail_user("h")
    cfg = write_config(tmp_path, sender, port=sender.stack.ports.smtps, security="tls")
    raw = (
        f"From: {sender.address}\nTo: {rcpt.address}\nBcc: {hidden.address}\n"
        "Subject: via -t\n\nbody\n.\nafter a lone dot\n"
    ).encode()
    res = run(cfg, sender, "send", "-t", "-i", stdin=raw)
    assert res.returncode == 0, res.stderr.decode()
    stack = sender.stack
    assert stack.wait_for(rcpt.name, 1) == 1 and stack.wait_for(hidden.name, 1) == 1
    got = stack.stored_messages(hidden.name)[0]
    assert hidden.address.encode() not in got
    assert b"\n.\nafter a lone dot\n" in got.replace(b"\r\n", b"\n")


def test_send_t_resent_goes_to_the_newest_resent_block_and_hides_resent_bcc(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    s = make_mail_user("s")
    orig, old, new, hid = (make_mail_user(n) for n in ("o", "old", "n", "h"))
    cfg = write_config(tmp_path, s)
    raw = (
        f"Resent-From: {s.address}\nResent-To: {new.address}\nResent-Bcc: {hid.address}\n"
        "Received: from a by b; Mon, 2 Jan 2023 10:00:00 +0000\n"
        f"Resent-From: x@example.test\nResent-To: {old.address}\n"
        "Resent-Date: Mon, 2 Jan 2023 09:00:00 +0000\n"
        f"From: author@example.test\nTo: {orig.address}\nSubject: resent via -t\n"
        "Date: Sun, 1 Jan 2023 00:00:00 +0000\nMessage-ID: <orig-resent@example.test>\n\nbody\n"
    ).encode()
    res = run(cfg, s, "send", "-t", "-i", stdin=raw)
    assert res.returncode == 0, res.stderr.decode()
    stack = s.stack
    assert stack.wait_for(new.name, 1) == 1 and stack.wait_for(hid.name, 1) == 1
    for user in (new, hid):
        [got] = stack.stored_messages(user.name)
        assert hid.address.encode() not in got and b"Resent-Bcc" not in got
        assert b"Message-ID: <orig-resent@example.test>" in got and b"Resent-Message-ID:" in got
    # Postfix has delivered the others of the same transaction by now; give it a moment more.
    assert stack.wait_for(orig.name, 1, timeout=3) == 0
    assert stack.message_count(old.name) == 0


def test_bad_input_exits_65_and_queues_nothing(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender = make_mail_user("s")
    cfg = write_config(tmp_path, sender)
    res = run(cfg, sender, "send", "--to", "a@example.test", "--subject", "x\r\nBcc: evil@x.test")
    assert res.returncode == 65
    assert b"line break" in res.stderr and b"Traceback" not in res.stderr
    res = run(
        cfg, sender, "send", "--to", "a@example.test", "-s", "x", "--attach", str(tmp_path / "nope")
    )
    assert res.returncode == 65 and b"nope does not exist" in res.stderr
    assert b"the outbox is empty" in run(cfg, sender, "queue").stdout


def test_send_without_subject_is_refused_unless_empty_is_asked_for(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    cfg = write_config(tmp_path, sender)
    res = run(cfg, sender, "send", "--to", rcpt.address, stdin=b"body\n")
    assert res.returncode == 2
    err = res.stderr.decode()
    assert err.count("\n") == 1 and "--subject" in err and "Traceback" not in err
    assert b"the outbox is empty" in run(cfg, sender, "queue").stdout
    res = run(cfg, sender, "send", "--to", rcpt.address, "--subject", "", stdin=b"body\n")
    assert res.returncode == 0, res.stderr.decode()
    assert sender.stack.wait_for(rcpt.name, 1) == 1
    got = email.message_from_bytes(
        sender.stack.stored_messages(rcpt.name)[0], policy=email.policy.default
    )
    assert not got["Subject"]


def test_mutt_style_dash_a_file_is_explained(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender = make_mail_user("s")
    cfg = write_config(tmp_path, sender)
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4\n")
    res = run(cfg, sender, "send", "-s", "x", "-a", str(report), "a@example.test", stdin=b"hi\n")
    assert res.returncode == 2
    err = res.stderr.decode()
    assert f"--attach {report}" in err and err.count("\n") == 1
    assert b"the outbox is empty" in run(cfg, sender, "queue").stdout


def test_refused_exits_69_with_the_server_words_and_keeps_the_message(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender = make_mail_user("s")
    with fake_smtp(final_reply="554 5.7.1 Message rejected: looks like spam") as srv:
        cfg = write_config(tmp_path, sender, port=srv.port, security="none")
        res = run(cfg, sender, "send", "--to", "a@example.test", "--subject", "s", stdin=b"b\n")
    assert res.returncode == 69
    assert b"looks like spam" in res.stderr and b"554" in res.stderr
    listing = run(cfg, sender, "queue").stdout.decode()
    assert "failed" in listing and "looks like spam" in listing


def test_wrong_password_holds_the_message_and_never_logs_in_again_with_it(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    stack = sender.stack
    cfg = write_config(tmp_path, sender)
    log = stack.root / "postfix.log"

    def refused_logins() -> int:
        lines = log.read_text(errors="replace").splitlines()
        return sum("authentication failed" in ln and sender.name in ln for ln in lines)

    res = run(cfg, sender, "send", "--to", rcpt.address, "-s", "held", stdin=b"b\n", password="no")
    assert res.returncode == 77, res.stderr.decode()
    err = res.stderr.decode()
    assert err.startswith("tmail: test (") and "535" in err and "held as" in err
    assert "--resend" in err and err.count("\n") == 1
    ident = err.split("held as ")[1].split(":")[0]
    listing = run(cfg, sender, "queue").stdout.decode()
    assert f"{ident}  held" in listing and "535" in listing
    # Every later flush, with the same wrong password, keeps it held without a new login.
    for _ in range(2):
        res = run(cfg, sender, "flush", password="no")
        assert res.returncode == 77 and f"{ident} held" in res.stderr.decode()
    # The right password alone does not release it either: the user says so.
    assert run(cfg, sender, "flush").returncode == 77
    res = run(cfg, sender, "flush", "--resend", ident[:14])
    assert res.returncode == 0, res.stderr.decode()
    assert f"{ident} delivered" in res.stdout.decode()
    assert stack.wait_for(rcpt.name, 1) == 1
    # Postfix saw exactly one refused login for this user: the first one.
    assert refused_logins() == 1, log.read_text()
    assert b"the outbox is empty" in run(cfg, sender, "queue").stdout


def test_delivery_uncertain_is_kept_for_the_user_to_resend_or_drop(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender = make_mail_user("s")
    with fake_smtp(drop_after_final_dot=2) as srv:
        cfg = write_config(tmp_path, sender, port=srv.port, security="none")
        ids = []
        for subject in ("first", "second"):
            res = run(cfg, sender, "send", "--to", "a@example.test", "-s", subject, stdin=b"b\n")
            assert res.returncode == 75, res.stderr.decode()
            err = res.stderr.decode()
            assert "delivery uncertain" in err and "--resend" in err and "--drop" in err
            ids.append(err.split("queued as ")[1].split(":")[0])
        listing = run(cfg, sender, "queue").stdout.decode()
        assert f"{ids[0]}  uncertain first" in listing and f"{ids[1]}  uncertain second" in listing
        res = run(cfg, sender, "flush")  # not sent again by itself
        lines = res.stderr.decode().splitlines()
        assert res.returncode == 75 and len(lines) == 2
        assert all(" uncertain: " in ln for ln in lines)
        assert srv.connections == 2
        assert run(cfg, sender, "queue", "--drop", ids[0]).returncode == 0
        res = run(cfg, sender, "flush", "--resend", ids[1])
        assert res.returncode == 0, res.stderr.decode()
    assert [b"Subject: second" in r.data for r in srv.received] == [True]
    assert b"the outbox is empty" in run(cfg, sender, "queue").stdout


def test_temporary_failure_exits_75_then_queue_and_flush(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    with fake_smtp(greeting="421 4.3.2 Service not available, try later") as srv:
        cfg = write_config(tmp_path, sender, port=srv.port, security="none")
        res = run(cfg, sender, "send", "--to", rcpt.address, "--subject", "later", stdin=b"b\n")
    assert res.returncode == 75, res.stderr.decode()
    assert b"queued as" in res.stderr and b"421" in res.stderr
    listing = run(cfg, sender, "queue").stdout.decode()
    assert "later" in listing and "421" in listing and "next try" in listing
    ident = listing.split("\n")[1].split()[0]
    # The server is back (the real Postfix): flush delivers.
    cfg = write_config(tmp_path, sender)
    res = run(cfg, sender, "flush")
    assert res.returncode == 0, res.stderr.decode()
    assert ident.encode() in res.stdout and b"delivered" in res.stdout
    assert sender.stack.wait_for(rcpt.name, 1) == 1


def test_queue_drop(make_mail_user: Callable[..., MailUser], tmp_path: Path) -> None:
    sender = make_mail_user("s")
    cfg = write_config(tmp_path, sender)
    res = run(
        cfg, sender, "send", "--queue-only", "--to", "a@example.test", "-s", "x", stdin=b"b\n"
    )
    assert res.returncode == 0
    ident = res.stdout.decode().split()[-1]
    assert ident in run(cfg, sender, "queue").stdout.decode()
    res = run(cfg, sender, "queue", "--drop", ident[:12])
    assert res.returncode == 0 and b"dropped" in res.stdout
    assert b"the outbox is empty" in run(cfg, sender, "queue").stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_send_email_through_tmail(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    cfg = write_config(tmp_path, sender)
    repo = tmp_path / "repo"
    env = {
        **os.environ,
        "TMAIL_TEST_PW": sender.password,
        "TMAIL_CONFIG": str(cfg),
        "GIT_AUTHOR_NAME": "Алиса Тестова",
        "GIT_AUTHOR_EMAIL": sender.address,
        "GIT_COMMITTER_NAME": "Алиса Тестова",
        "GIT_COMMITTER_EMAIL": sender.address,
        "HOME": str(tmp_path),
    }

    def git(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["git", "-C", str(repo), *args], env=env, capture_output=True, timeout=120, check=False
        )

    repo.mkdir()
    assert git("init", "-q").returncode == 0
    (repo / "hello.txt").write_text("привет\n", encoding="utf-8")
    git("add", "hello.txt")
    assert git("commit", "-q", "-m", "Добавить приветствие").returncode == 0
    tmail = f"{sys.executable} -m tmail send -t"
    res = git(
        "send-email", f"--sendmail-cmd={tmail}", f"--to={rcpt.address}",
        f"--from=Алиса Тестова <{sender.address}>", "--confirm=never", "--quiet", "-1",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    assert sender.stack.wait_for(rcpt.name, 1) == 1
    msg = email.message_from_bytes(
        sender.stack.stored_messages(rcpt.name)[0], policy=email.policy.default
    )
    assert msg["Subject"] == "[PATCH] Добавить приветствие"
    body = msg.get_body(("plain",))
    assert body is not None and "+привет" in body.get_content()


def test_send_koi8r_html_and_attachment_from_the_command_line(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    cfg = write_config(tmp_path, sender, extra='send_charset = "koi8-r"')
    page = tmp_path / "letter.html"
    page.write_text("<p>Здравствуйте!</p>", encoding="utf-8")
    doc = tmp_path / "Договор.pdf"
    doc.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    res = run(
        cfg, sender, "send", "--to", rcpt.address, "--subject", "Договор",
        "--html", str(page), "--attach", str(doc), stdin="Здравствуйте!\n".encode(),
    )  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    assert sender.stack.wait_for(rcpt.name, 1) == 1
    msg = email.message_from_bytes(
        sender.stack.stored_messages(rcpt.name)[0], policy=email.policy.default
    )
    plain = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert plain is not None and plain.get_content_charset() == "koi8-r"
    assert plain.get_content() == "Здравствуйте!\n"
    assert html is not None and "<p>Здравствуйте!</p>" in html.get_content()
    [att] = list(msg.iter_attachments())
    assert att.get_filename() == "Договор.pdf" and att.get_content_type() == "application/pdf"
    assert att.get_content() == doc.read_bytes()


def test_send_at_waits_in_the_outbox_across_processes_then_goes_through_postfix(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    """Scheduled a few seconds ahead: 'tmail flush' (a new process, forced) sends nothing
    before its time and 'tmail queue' says when; the first 'tmail sync' after it (another new
    process) delivers it through the real Postfix into the real Dovecot."""
    import time

    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    cfg = write_config(tmp_path, sender)
    res = run(cfg, sender, "send", "--at", "+4s", "--to", rcpt.address, "-s", "Позже",
              stdin=b"later\n")  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    assert b"scheduled for" in res.stdout
    ident = res.stdout.decode().split(" as ")[1].split(":")[0]
    listing = run(cfg, sender, "queue").stdout.decode()
    assert ident in listing and "scheduled for" in listing and "later" in listing
    early = run(cfg, sender, "flush")
    assert early.returncode == 0, early.stderr.decode()
    assert f"{ident} scheduled: scheduled for".encode() in early.stdout
    assert len(list((tmp_path / "data" / "outbox" / "test" / "new").iterdir())) == 1
    assert sender.stack.stored_messages(rcpt.name) == []
    time.sleep(4.5)  # the scheduled time passes (seconds, on the wall clock of new processes)
    res = run(cfg, sender, "sync", "-q")
    assert sender.stack.wait_for(rcpt.name, 1) == 1, res.stderr.decode()
    msg = email.message_from_bytes(sender.stack.stored_messages(rcpt.name)[0],
                                   policy=email.policy.default)  # fmt: skip
    assert msg["Subject"] == "Позже"
    assert b"the outbox is empty" in run(cfg, sender, "queue").stdout


def test_send_at_a_past_time_needs_yes_without_a_terminal(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    cfg = write_config(tmp_path, sender)
    args = ("send", "--at", "2020-01-01T09:00", "--to", rcpt.address, "-s", "past")
    res = subprocess.run(
        [*TMAIL, *args], input=b"b\n", capture_output=True, timeout=60, check=False,
        env={**os.environ, "TMAIL_TEST_PW": sender.password, "TMAIL_CONFIG": str(cfg)},
        start_new_session=True,  # no controlling terminal to ask in
    )  # fmt: skip
    assert res.returncode == 2, res.stderr.decode()
    assert b"has passed" in res.stderr and b"--yes" in res.stderr
    assert b"the outbox is empty" in run(cfg, sender, "queue").stdout
    res = run(cfg, sender, *args, "--yes", stdin=b"b\n")
    assert res.returncode == 0, res.stderr.decode()
    assert b"sent:" in res.stdout and sender.stack.wait_for(rcpt.name, 1) == 1


def test_reader_backend_keeps_a_scheduled_message_through_dollar_and_sends_it_after(
    make_mail_user: Callable[..., MailUser], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader's side of the one send path: '$' (a forced send of the outbox) leaves a
    message sent later in place and says nothing about it; the outbox view shows it as
    scheduled; the first sync after its time (as at the reader's start) sends it."""
    import time

    from tmail.config import load_config
    from tmail.core.models import Address
    from tmail.mime.compose import Draft, compose
    from tmail.outbox.service import queue_message
    from tmail.runtime.backend import MailBackend
    from tmail.store.store import Store

    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    monkeypatch.setenv("TMAIL_TEST_PW", sender.password)
    config = load_config(write_config(tmp_path, sender))
    acct = config.account("test")
    draft = Draft(from_=Address("", sender.address), to=(rcpt.address,), subject="soon", body="b")
    entry = queue_message(config.data_dir, acct, compose(draft), not_before=time.time() + 3)
    store = Store.open(config.data_dir)
    backend = MailBackend(config, store)
    try:
        assert backend.send_queued("test") == []
        [item] = backend.outbox()
        assert item.id == entry.id and item.state == "scheduled"
        backend.sync("test")
        assert [i.id for i in backend.outbox()] == [entry.id]  # not yet: still there
        time.sleep(3.2)
        result = backend.sync("test")
        assert result.errors == ()
        assert sender.stack.wait_for(rcpt.name, 1) == 1
        assert backend.outbox() == []
    finally:
        store.close()


def test_reader_undo_holds_then_sends_through_postfix_or_takes_back(
    make_mail_user: Callable[..., MailUser], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader's send with undo_seconds on the real stack: held in the outbox (nothing at
    the recipient), then SendHeld delivers it through Postfix into Dovecot; a second message
    taken back in its window is gone from the outbox and never arrives, even after a sync
    past its time."""
    import time

    from tmail.config import load_config
    from tmail.core.models import Address
    from tmail.mime.compose import Draft
    from tmail.runtime.backend import MailBackend
    from tmail.runtime.session import MailSession, MessageSent, SendDraft, SendHeld
    from tmail.store.store import Store

    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    monkeypatch.setenv("TMAIL_TEST_PW", sender.password)
    config = load_config(write_config(tmp_path, sender, extra="undo_seconds = 2"))
    store = Store.open(config.data_dir)
    session = MailSession(MailBackend(config, store), poll=False)
    me = Address("", sender.address)
    try:
        assert session.undo_seconds("test") == 2.0

        def send(subject: str) -> MessageSent:
            draft = Draft(from_=me, to=(rcpt.address,), subject=subject, body="b\n")
            [ev] = session.run_once(SendDraft(account="test", draft=draft, undo_seconds=2.0))
            assert isinstance(ev, MessageSent) and ev.until is not None, ev
            return ev

        kept = send("Отправлено")
        taken = send("Передумал")
        assert session.take_back("test", taken.entry_id) is True
        assert [i.id for i in session.outbox()] == [kept.entry_id]
        assert sender.stack.stored_messages(rcpt.name) == []
        [ev] = session.run_once(SendHeld(account="test", entry_id=kept.entry_id, subject="x"))
        assert isinstance(ev, MessageSent) and ev.status == "delivered", ev
        assert sender.stack.wait_for(rcpt.name, 1) == 1
        assert session.take_back("test", kept.entry_id) is False  # it left: "too late"
        time.sleep(2.2)  # past the taken-back message's time: a sync sends nothing more
        MailBackend(config, store).sync("test")
        assert session.outbox() == []
        time.sleep(1)
        [only] = sender.stack.stored_messages(rcpt.name)
        assert (
            "Отправлено" in email.message_from_bytes(only, policy=email.policy.default)["Subject"]
        )
    finally:
        store.close()
