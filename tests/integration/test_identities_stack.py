"""Identities on the real stack: a reply to a message sent to an alias goes out from that alias
with its signature, through the real Postfix into the real Dovecot; ``tmail send --from``."""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.support.sessions import write_config
from tmail.config import load_config
from tmail.runtime.backend import MailBackend
from tmail.store.store import Store

pytestmark = pytest.mark.stack


def config(tmp_path: Path, user: MailUser, alias: str) -> Path:
    stack = user.stack
    extra = f"""\
save_sent = false
undo_seconds = 0
outgoing.host = "{stack.host}"
outgoing.port = {stack.ports.smtp}
outgoing.security = "starttls"
outgoing.ca_file = "{stack.ca_file}"

[[accounts.acct.identities]]
address = "{alias}"
name = "Alice (Sales)"
reply_to = "{alias}"
signature = "Alice\\nSales desk"
"""
    return write_config(tmp_path, stack, user.name, user.password, extra=extra)


def test_a_reply_to_an_alias_goes_out_from_it_with_its_signature(
    mail_user: MailUser, make_mail_user: object, tmp_path: Path
) -> None:
    from tmail.runtime.session import MailSession
    from tmail.ui.main import build_app

    stack = mail_user.stack
    bob: MailUser = make_mail_user("bob")  # type: ignore[operator]
    alias = f"sales-{mail_user.name}@example.test"
    original = (
        f"From: Bob <{bob.address}>\nTo: {alias}\nSubject: Prices\n"
        "Date: Mon, 2 Nov 2026 10:00:00 +0000\nMessage-ID: <prices-1@example.test>\n\n"
        "What do they cost?\n-- \nBob\nBob's shop\n"
    ).encode()
    stack.save(mail_user.name, original)
    cfg = load_config(config(tmp_path, mail_user, alias))
    with Store.open(cfg.data_dir) as store:
        app = build_app(cfg, store, MailBackend(cfg, store), {}, poll=False)
        app.options = replace(app.options, editor=lambda text: "Ten euros each.\n" + text)
        session: MailSession = app.session

        def work() -> None:
            for ev in session.run_pending():
                session.events.put(ev)
            app.handle_events(session.drain())

        app.sync()
        work()
        assert "Prices" in app.render_text(120, 20)
        app.press("r")
        assert f"From:    Alice (Sales) <{alias}> [acct]" in app.render_text(120, 20)
        app.press("enter", "y")
        work()
    assert stack.wait_for(bob.name, 1) == 1
    got = email.message_from_bytes(stack.stored_messages(bob.name)[0], policy=email.policy.default)
    assert got["From"].addresses[0].addr_spec == alias
    assert got["From"].addresses[0].display_name == "Alice (Sales)"
    assert got["Reply-To"].addresses[0].addr_spec == alias
    assert got["In-Reply-To"] == "<prices-1@example.test>"
    body = got.get_content().replace("\r\n", "\n")
    assert body.startswith("Ten euros each.\n")
    assert "> What do they cost?\n" in body and "Bob's shop" not in body
    assert body.endswith("\n-- \nAlice\nSales desk\n")


def test_send_from_an_alias_and_a_refused_address(
    mail_user: MailUser, make_mail_user: object, tmp_path: Path
) -> None:
    stack = mail_user.stack
    rcpt: MailUser = make_mail_user("r")  # type: ignore[operator]
    alias = f"sales-{mail_user.name}@example.test"
    cfg = config(tmp_path, mail_user, alias)
    env = {**os.environ, "TMAIL_CONFIG": str(cfg)}

    def send(sender: str) -> subprocess.CompletedProcess[bytes]:
        argv = [sys.executable, "-m", "tmail", "send", "--from", sender, "--to", rcpt.address]
        return subprocess.run(
            [*argv, "--subject", "from the alias"],
            input=b"hello\n",
            capture_output=True,
            env=env,
            timeout=120,
            check=False,
        )

    refused = send("nobody@example.test")
    assert refused.returncode == 2 and stack.message_count(rcpt.name) == 0
    line = refused.stderr.decode().strip()
    assert "no identity covers 'nobody@example.test'" in line
    assert f"acct: {mail_user.name}@example.test, {alias}" in line
    res = send(alias.upper())
    assert res.returncode == 0, res.stderr.decode()
    assert stack.wait_for(rcpt.name, 1) == 1
    got = email.message_from_bytes(stack.stored_messages(rcpt.name)[0], policy=email.policy.default)
    assert got["From"].addresses[0].addr_spec == alias
    assert got["From"].addresses[0].display_name == "Alice (Sales)"
