"""The reader's outbox view (@) over the real outbox files, the real backend and a fake SMTP
server that drops the connection after the final dot (a fault Postfix cannot give on demand)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fakesmtp import fake_smtp
from tests.tui.conftest import mailbox
from tmail.config import load_config
from tmail.core.models import Address
from tmail.mime.compose import Draft
from tmail.outbox.queue import Queue
from tmail.runtime.backend import MailBackend
from tmail.runtime.session import MailSession, SendDraft
from tmail.store.store import Store
from tmail.ui.app import App, Options
from tmail.ui.compose import Identity


def config_for(tmp_path: Path, port: int) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"""
[general]
data_dir = "{tmp_path / "data"}"

[accounts.acct]
email = "a@example.test"
save_sent = false
incoming.protocol = "imap"
incoming.host = "127.0.0.1"
incoming.port = 1
incoming.security = "tls"
outgoing.host = "127.0.0.1"
outgoing.port = {port}
outgoing.security = "none"
outgoing.allow_plaintext_auth = true
outgoing.password_env = "TMAIL_FAKE_PW"
outgoing.timeout = 5
""")
    return cfg


class Reader:
    def __init__(self, backend: MailBackend) -> None:
        self.session = MailSession(backend, poll=False)
        self.app = App(
            mailbox(),
            self.session,
            identities=[Identity("acct", Address("", "a@example.test"))],
            options=Options(opener=lambda argv: 0),
        )

    def screen(self) -> str:
        return self.app.render_text(120, 30)

    def work(self) -> None:
        for ev in self.session.run_pending():
            self.session.events.put(ev)
        self.app.handle_events(self.session.drain())


def draft(subject: str) -> Draft:
    return Draft(from_=Address("", "a@example.test"), to=("b@example.test",), subject=subject)


def test_outbox_view_shows_what_waits_and_sends_again_or_drops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMAIL_FAKE_PW", "pw")
    with fake_smtp(drop_after_final_dot=1, greeting="220 fake.test ESMTP") as srv:
        config = load_config(config_for(tmp_path, srv.port))
        with Store.open(config.data_dir) as store:
            backend = MailBackend(config, store)
            assert backend.send("acct", draft("Maybe sent")).status == "held"
            queue = Queue.for_account(config.data_dir, "acct")
            srv.script.greeting = "421 4.3.2 try later"  # the second one stays queued
            assert backend.send("acct", draft("Still waiting")).status == "queued"
            srv.script.greeting = "220 fake.test ESMTP"

            reader = Reader(backend)
            status = reader.screen().splitlines()[-2]
            assert "outbox 2, 1 needs you: @" in status  # seen from the index

            reader.app.press("@")
            screen = reader.screen()
            assert "Outbox: 2 messages waiting" in screen
            assert "delivery uncertain" in screen and "Maybe sent" in screen
            assert "after the message's final dot" in screen
            assert "the server may have it: y sends it again, d forgets it" in screen
            assert "queued" in screen and "Still waiting" in screen and "421" in screen
            assert "y SendAgain" in screen and "d Drop" in screen

            reader.app.press("y")  # the first (oldest) entry: delivery uncertain
            reader.work()
            screen = reader.screen()
            assert [b"Subject: Maybe sent" in r.data for r in srv.received] == [True]
            assert "Outbox: 1 message waiting" in screen and "delivery uncertain" not in screen
            assert screen.splitlines()[-2].rstrip().endswith("sent: Maybe sent")
            assert screen.count("Maybe sent") == 1  # on the status line only

            reader.app.press("d")
            assert "Drop it from the outbox unsent? (y/n)" in reader.screen()
            reader.app.press("y")
            reader.work()
            screen = reader.screen()
            assert "The outbox is empty" in screen and "dropped from the outbox" in screen
            assert queue.entries() == [] and len(srv.received) == 1
            reader.app.press("q")
            assert "outbox" not in reader.screen().splitlines()[-2]


def test_a_refusal_in_the_reader_is_explained_in_plain_words_as_the_cli_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One send path: the reader's send goes through tmail.outbox.service, so a refusal carries
    # the reply code's meaning (tmail.protocols.smtpcodes), not only the server's bare words.
    monkeypatch.setenv("TMAIL_FAKE_PW", "pw")
    with fake_smtp(rcpt={"b@example.test": "550 5.1.1 no such user"}) as srv:
        config = load_config(config_for(tmp_path, srv.port))
        with Store.open(config.data_dir) as store:
            reader = Reader(MailBackend(config, store))
            reader.session.submit(SendDraft(account="acct", draft=draft("Nobody home")))
            reader.work()
            status = reader.app.render_text(200, 30).splitlines()[-2]
    assert "not sent:" in status
    assert "550 5.1.1 mailbox does not exist (permanent failure" in status
    assert "no such user" in status


def test_the_readers_sent_copy_is_queued_for_the_next_sync_when_the_server_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one Sent-copy policy: APPEND at once when the IMAP server answers; here it does not
    # (port 1), so the copy waits in the local Sent with a pending APPEND for the next sync.
    monkeypatch.setenv("TMAIL_FAKE_PW", "pw")
    cfg = config_for(tmp_path, 0)
    with fake_smtp() as srv:
        cfg.write_text(
            cfg.read_text()
            .replace("save_sent = false", "save_sent = true")
            .replace("outgoing.port = 0", f"outgoing.port = {srv.port}")
        )
        config = load_config(cfg)
        with Store.open(config.data_dir) as store:
            assert MailBackend(config, store).send("acct", draft("Kept")).status == "delivered"
            [row] = store.list_messages("acct", "Sent")
            assert row.subject == "Kept"
            assert [p.kind for p in store.pending("acct", "Sent")] == ["append"]
