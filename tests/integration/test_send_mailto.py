"""``tmail send mailto:...`` (RFC 6068, issue 18 item 5) against the real Postfix: the URL gives
recipients, subject and body; options still win; unsafe fields never reach the message."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.integration.test_send_cli import run, write_config

pytestmark = pytest.mark.stack


def test_send_takes_a_mailto_url(make_mail_user: Callable[..., MailUser], tmp_path: Path) -> None:
    sender, rcpt, copy = make_mail_user("s"), make_mail_user("r"), make_mail_user("c")
    cfg = write_config(tmp_path, sender)
    url = (
        f"mailto:{rcpt.address}?cc={copy.address}"
        "&subject=%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82%20a+b"
        "&body=First%20line%0D%0ASecond%20line&from=boss@evil.example&x-evil=1"
    )
    res = run(cfg, sender, "send", url)
    assert res.returncode == 0, res.stderr.decode()
    stack = sender.stack
    assert stack.wait_for(rcpt.name, 1) == 1 and stack.wait_for(copy.name, 1) == 1
    msg = email.message_from_bytes(stack.stored_messages(rcpt.name)[0], policy=email.policy.default)
    assert msg["Subject"] == "Привет a+b"
    assert copy.address in str(msg["Cc"])
    assert sender.address in str(msg["From"]) and "evil" not in str(msg)
    assert msg.get_content().replace("\r\n", "\n").startswith("First line\nSecond line")


def test_send_mailto_without_body_reads_stdin_and_subject_option_wins(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender, rcpt = make_mail_user("s"), make_mail_user("r")
    cfg = write_config(tmp_path, sender)
    res = run(
        cfg, sender, "send", "--subject", "Chosen", f"mailto:{rcpt.address}?subject=Ignored",
        stdin=b"From stdin.\n",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    assert sender.stack.wait_for(rcpt.name, 1) == 1
    msg = email.message_from_bytes(
        sender.stack.stored_messages(rcpt.name)[0], policy=email.policy.default
    )
    assert msg["Subject"] == "Chosen"
    assert "From stdin." in msg.get_content()


def test_send_refuses_a_broken_mailto_url_and_queues_nothing(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    sender = make_mail_user("s")
    cfg = write_config(tmp_path, sender)
    res = run(cfg, sender, "send", "mailto:nobody?subject=x")
    assert res.returncode == 2
    assert (
        res.stderr.decode().strip()
        == (
            "tmail: mailto: 'nobody' is not a mail address "
            "(a mailto: URL names addresses like mailto:anna@example.org)"
        )
        or "is not a mail address" in res.stderr.decode()
    )
    assert "outbox is empty" in run(cfg, sender, "queue").stdout.decode()
