"""The test mail stack itself, proved with the standard library alone.

A message submitted through Postfix (STARTTLS + AUTH, and implicit TLS) arrives in Dovecot and
reads back over IMAPS and POP3S, with the certificate verified against the stack's CA file.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import poplib
import smtplib
import ssl
import uuid
from email.message import EmailMessage

import pytest

from tests.conftest import MailUser
from tests.support.mailstack import MailStack

pytestmark = pytest.mark.stack


def _message(sender: str, to: str, subject: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
    msg.set_content("Привет из тестового стенда.\n")
    return msg


def _context(stack: MailStack) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(stack.ca_file))


def test_submission_starttls_reaches_imaps_and_pop3s(
    mailstack: MailStack, make_mail_user: object
) -> None:
    sender: MailUser = make_mail_user()  # type: ignore[operator]
    rcpt: MailUser = make_mail_user()  # type: ignore[operator]
    subject = "Тест " + uuid.uuid4().hex[:6]
    with smtplib.SMTP(mailstack.host, mailstack.ports.smtp, timeout=30) as smtp:
        smtp.starttls(context=_context(mailstack))
        smtp.login(sender.name, sender.password)
        refused = smtp.send_message(_message(sender.address, rcpt.address, subject))
    assert refused == {}
    assert mailstack.wait_for(rcpt.name, 1) == 1

    with imaplib.IMAP4_SSL(
        mailstack.host, mailstack.ports.imaps, ssl_context=_context(mailstack), timeout=30
    ) as imap:
        imap.login(rcpt.name, rcpt.password)
        imap.select("INBOX", readonly=True)
        typ, data = imap.fetch("1", "(BODY.PEEK[])")
        assert typ == "OK"
        raw = data[0][1]  # type: ignore[index]
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == subject
    assert "Привет" in parsed.get_content()

    pop = poplib.POP3_SSL(
        mailstack.host, mailstack.ports.pop3s, context=_context(mailstack), timeout=30
    )
    try:
        pop.user(rcpt.name)
        pop.pass_(rcpt.password)
        count, _size = pop.stat()
        assert count == 1
        _resp, lines, _octets = pop.retr(1)
    finally:
        pop.quit()
    parsed = email.message_from_bytes(b"\r\n".join(lines), policy=email.policy.default)
    assert parsed["Subject"] == subject


def test_submission_implicit_tls(mailstack: MailStack, mail_user: MailUser) -> None:
    with smtplib.SMTP_SSL(
        mailstack.host, mailstack.ports.smtps, context=_context(mailstack), timeout=30
    ) as smtp:
        smtp.login(mail_user.name, mail_user.password)
        smtp.send_message(_message(mail_user.address, mail_user.address, "implicit tls"))
    assert mailstack.wait_for(mail_user.name, 1) == 1


def test_certificate_is_verified_not_skipped(mailstack: MailStack) -> None:
    """Without the stack's CA file the handshake must fail: verification is really on."""
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(
            mailstack.host,
            mailstack.ports.imaps,
            ssl_context=ssl.create_default_context(),
            timeout=10,
        )


def test_auth_refused_before_starttls(mailstack: MailStack, mail_user: MailUser) -> None:
    """Postfix offers AUTH only after STARTTLS, so a client cannot leak a password in clear."""
    with smtplib.SMTP(mailstack.host, mailstack.ports.smtp, timeout=30) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls")
        assert not smtp.has_extn("auth")


def test_wrong_password_is_refused(mailstack: MailStack, mail_user: MailUser) -> None:
    with (
        imaplib.IMAP4_SSL(
            mailstack.host, mailstack.ports.imaps, ssl_context=_context(mailstack), timeout=30
        ) as imap,
        pytest.raises(imaplib.IMAP4.error),
    ):
        imap.login(mail_user.name, "wrong")


def test_helpers_drop_messages_into_mailboxes(mailstack: MailStack, mail_user: MailUser) -> None:
    msgs = [
        _message("a@example.test", mail_user.address, f"bulk {i}").as_bytes() for i in range(50)
    ]
    assert mailstack.bulk_save(mail_user.name, msgs) == 50
    mailstack.save(mail_user.name, msgs[0], mailbox="INBOX")
    mailstack.bulk_save(mail_user.name, msgs[:3], mailbox="Archive")
    mailstack.deliver(mail_user.address, msgs[1])
    assert mailstack.message_count(mail_user.name) == 52
    assert mailstack.message_count(mail_user.name, "Archive") == 3
    assert len(mailstack.stored_messages(mail_user.name, "Archive")) == 3


def test_unknown_recipient_bounces_with_a_dsn(mailstack: MailStack, mail_user: MailUser) -> None:
    with smtplib.SMTP_SSL(
        mailstack.host, mailstack.ports.smtps, context=_context(mailstack), timeout=30
    ) as smtp:
        smtp.login(mail_user.name, mail_user.password)
        smtp.send_message(_message(mail_user.address, "nobody@example.test", "to nobody"))
    assert mailstack.wait_for(mail_user.name, 1, timeout=60) == 1
    bounce = email.message_from_bytes(
        mailstack.stored_messages(mail_user.name)[0], policy=email.policy.default
    )
    assert bounce.get_content_type() == "multipart/report"
