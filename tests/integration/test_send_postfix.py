"""Sending through the real Postfix of the test stack, delivered into the real Dovecot."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.support.fakesmtp import fake_smtp
from tests.support.mailstack import MailStack
from tmail.config.model import Account, ServerSettings
from tmail.core.models import Address
from tmail.mime import parse_message
from tmail.mime.compose import Draft, compose
from tmail.outbox.queue import Queue
from tmail.outbox.service import flush_account, queue_message

pytestmark = pytest.mark.stack


def account_for(
    user: MailUser, monkeypatch: pytest.MonkeyPatch, *, implicit: bool = False, name: str = "Алиса"
) -> Account:
    stack = user.stack
    env = f"TMAIL_TEST_PW_{user.name.upper()}"
    monkeypatch.setenv(env, user.password)
    out = ServerSettings(
        "smtp",
        stack.host,
        stack.ports.smtps if implicit else stack.ports.smtp,
        security="tls" if implicit else "starttls",
        username=user.name,
        password_env=env,
        ca_file=stack.ca_file,
        timeout=20,
    )
    inc = ServerSettings(
        "imap",
        stack.host,
        stack.ports.imaps,
        username=user.name,
        password_env=env,
        ca_file=stack.ca_file,
    )
    return Account("test", user.address, inc, out, display_name=name, save_sent=False)


def parse(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_starttls_auth_delivers_cyrillic_attachments_and_bcc(
    make_mail_user: Callable[..., MailUser],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    sender, rcpt, hidden = make_mail_user("s"), make_mail_user("r"), make_mail_user("h")
    stack = sender.stack
    acc = account_for(sender, monkeypatch)
    blob = os.urandom(200_000)
    attach = tmp_path / "Отчёт за квартал №3.bin"
    attach.write_bytes(blob)
    draft = Draft(
        from_=Address("Алиса Петрова", sender.address),
        to=(f"Борис Иванов <{rcpt.address}>",),
        bcc=(hidden.address,),
        subject="Квартальный отчёт — проверка",
        body="Добрый день!\nОтчёт во вложении.\n",
        attachments=(attach,),
    )
    entry = queue_message(tmp_path / "data", acc, compose(draft))
    report = flush_account(tmp_path / "data", acc)
    assert report.of(entry.id).status == "delivered"  # type: ignore[union-attr]
    assert stack.wait_for(rcpt.name, 1) == 1
    assert stack.wait_for(hidden.name, 1) == 1
    for user in (rcpt, hidden):
        [raw] = stack.stored_messages(user.name)
        assert b"Bcc" not in raw.split(b"\n\n", 1)[0] and hidden.address.encode() not in raw
        msg = parse(raw)
        assert msg["Subject"] == "Квартальный отчёт — проверка"
        assert msg["From"].addresses[0].display_name == "Алиса Петрова"
        assert msg["To"].addresses[0].display_name == "Борис Иванов"
        body = msg.get_body(("plain",))
        assert body is not None and "Отчёт во вложении." in body.get_content()
        [part] = list(msg.iter_attachments())
        assert part.get_filename() == "Отчёт за квартал №3.bin"
        assert part.get_content() == blob
    assert Queue.for_account(tmp_path / "data", "test").entries() == []


def test_implicit_tls_port_delivers(
    make_mail_user: Callable[..., MailUser], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    acc = account_for(sender, monkeypatch, implicit=True)
    c = compose(Draft(from_=Address("", sender.address), to=(rcpt.address,), subject="по TLS"))
    entry = queue_message(tmp_path, acc, c)
    report = flush_account(tmp_path, acc)
    assert report.of(entry.id).status == "delivered"  # type: ignore[union-attr]
    assert sender.stack.wait_for(rcpt.name, 1) == 1
    assert parse(sender.stack.stored_messages(rcpt.name)[0])["Subject"] == "по TLS"


def test_unknown_recipient_gets_postfix_real_bounce(
    make_mail_user: Callable[..., MailUser], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    stack: MailStack = sender.stack
    acc = account_for(sender, monkeypatch)
    ghost = "nobody-here-at-all@example.test"
    c = compose(
        Draft(from_=Address("", sender.address), to=(rcpt.address, ghost), subject="кому-то")
    )
    queue_message(tmp_path, acc, c)
    flush_account(tmp_path, acc)
    assert stack.wait_for(rcpt.name, 1) == 1
    assert stack.wait_for(sender.name, 1, timeout=60) == 1, "no bounce came back"
    raw = stack.stored_messages(sender.name)[0]
    bounce = parse(raw)
    assert bounce.get_content_type() == "multipart/report"
    assert bounce.get_param("report-type") == "delivery-status"
    assert c.message_id in bounce.as_string()
    # tmail's own DSN summary (the MIME layer) reads Postfix's real bounce.
    report = parse_message(raw).dsn
    assert report is not None
    [failed] = report.recipients
    assert ghost in failed.final_recipient
    assert failed.action == "failed" and failed.status.startswith("5.")
    assert failed.diagnostic


KILLER = """
import sys
from pathlib import Path
from tmail.config.model import Account, ServerSettings
from tmail.outbox.flush import enqueue
from tmail.outbox.service import flush_account
from tmail.outbox.queue import Queue
port, data_dir = int(sys.argv[1]), Path(sys.argv[2])
out = ServerSettings("smtp", "127.0.0.1", port, security="none", timeout=600)
acc = Account("k", "a@example.test", ServerSettings("imap", "127.0.0.1", 1), out)
q = Queue.for_account(data_dir, "k")
e = enqueue(q, account=acc, data=sys.stdin.buffer.read(), sender=sys.argv[3],
            recipients=(sys.argv[4],), subject="kill", message_id="<kill@example.test>")
print(e.id, flush=True)
flush_account(data_dir, acc)
"""


def test_kill_9_during_sending_never_loses_the_message(
    make_mail_user: Callable[..., MailUser], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    data = compose(
        Draft(from_=Address("", sender.address), to=(rcpt.address,), subject="выживет", body="x")
    ).data
    with fake_smtp(stall_after_data=True) as srv:
        proc = subprocess.Popen(
            [sys.executable, "-c", KILLER, str(srv.port), str(tmp_path), sender.address,
             rcpt.address],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(data)
        proc.stdin.close()
        ident = proc.stdout.readline().decode().strip()
        assert srv.stalled.wait(20), "the message never reached DATA"
        proc.kill()  # SIGKILL while the server holds the reply to the final dot
        proc.wait(10)
        proc.stdout.close()
    q = Queue.for_account(tmp_path, "k")
    [entry] = q.entries()
    assert entry.id == ident and q.read(entry) == data
    # The next flush (here through the real Postfix) delivers it.
    acc = account_for(sender, monkeypatch)
    real = Account("k", sender.address, acc.incoming, acc.outgoing, save_sent=False)
    report = flush_account(tmp_path, real)
    assert report.of(ident).status == "delivered"  # type: ignore[union-attr]
    assert sender.stack.wait_for(rcpt.name, 1) == 1


@pytest.mark.parametrize("sent_exists", [True, False], ids=["sent-folder", "no-sent-folder"])
def test_sent_copy_is_appended_to_the_imap_sent_folder_with_bcc(
    make_mail_user: Callable[..., MailUser],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    sent_exists: bool,
) -> None:
    sender, rcpt, hidden = make_mail_user("s"), make_mail_user("r"), make_mail_user("h")
    stack = sender.stack
    if sent_exists:
        stack.create_mailbox(sender.name, "Sent")
    acc = account_for(sender, monkeypatch)
    acc = Account(acc.name, acc.email, acc.incoming, acc.outgoing, save_sent=True)
    c = compose(
        Draft(
            from_=Address("", sender.address),
            to=(rcpt.address,),
            bcc=(hidden.address,),
            subject="копия в Отправленных",
        )
    )
    entry = queue_message(tmp_path, acc, c)
    report = flush_account(tmp_path, acc)
    assert report.of(entry.id).status == "delivered", report  # type: ignore[union-attr]
    assert report.warnings == ()
    assert stack.wait_for(sender.name, 1, mailbox="Sent") == 1
    copy = parse(stack.stored_messages(sender.name, "Sent")[0])
    assert copy["Subject"] == "копия в Отправленных"
    assert copy["Bcc"] == hidden.address  # the sender's own copy says who got a blind copy
    assert stack.wait_for(hidden.name, 1) == 1
    assert hidden.address.encode() not in stack.stored_messages(rcpt.name)[0]


def test_dsn_success_brings_postfix_delivery_report(
    make_mail_user: Callable[..., MailUser], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tmail.protocols.smtp import Dsn

    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    stack = sender.stack
    acc = account_for(sender, monkeypatch)
    c = compose(Draft(from_=Address("", sender.address), to=(rcpt.address,), subject="с DSN"))
    entry = queue_message(tmp_path, acc, c, Dsn(notify=("success", "failure"), envid="tmail-1"))
    report = flush_account(tmp_path, acc)
    assert report.of(entry.id).status == "delivered"  # type: ignore[union-attr]
    assert report.warnings == ()  # Postfix offers DSN: nothing was dropped
    assert stack.wait_for(rcpt.name, 1) == 1
    assert stack.wait_for(sender.name, 1, timeout=60) == 1, "no delivery report came back"
    raw = stack.stored_messages(sender.name)[0]
    dsn = parse_message(raw).dsn
    assert dsn is not None
    [ok] = dsn.recipients
    assert rcpt.address in ok.final_recipient
    assert ok.action in ("delivered", "relayed") and ok.status.startswith("2.")
    assert b"Original-Envelope-Id: tmail-1" in raw


def test_forward_as_attachment_arrives_with_the_enclosed_message_verbatim(
    make_mail_user: Callable[..., MailUser], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    acc = account_for(sender, monkeypatch)
    enclosed = (
        b"From: =?koi8-r?b?4sXMwdE=?= <boris@example.test>\r\n"
        b"Subject: original\r\nMessage-ID: <fwd-orig@example.test>\r\n"
        b"Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + "Текст исходного письма в КОИ-8.\r\n.a line starting with a dot\r\n".encode("koi8-r")
    )
    eml = tmp_path / "forwarded-message.eml"
    eml.write_bytes(enclosed)
    draft = Draft(
        from_=Address("", sender.address),
        to=(rcpt.address,),
        subject="Fwd: original",
        body="Пересылаю.\n",
        attachments=(eml,),
    )
    entry = queue_message(tmp_path, acc, compose(draft))
    assert flush_account(tmp_path, acc).of(entry.id).status == "delivered"  # type: ignore[union-attr]
    assert sender.stack.wait_for(rcpt.name, 1) == 1
    [raw] = sender.stack.stored_messages(rcpt.name)
    assert enclosed.replace(b"\r\n", b"\n") in raw.replace(b"\r\n", b"\n")
    msg = parse(raw)
    [part] = [p for p in msg.walk() if p.get_content_type() == "message/rfc822"]
    assert part["Content-Transfer-Encoding"] == "8bit"
    parsed = parse_message(raw)
    [inner] = parsed.nested
    assert inner.message_id == "<fwd-orig@example.test>"
    assert "Текст исходного письма в КОИ-8." in inner.text
