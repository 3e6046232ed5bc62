"""A in the pager answers the invitation shown: the REPLY lands in the real outbox files
(no outgoing server here: nothing touches the network), addressed to the organizer."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from tests.support import invitations as inv
from tests.tui.conftest import T0, Harness
from tmail.config.model import Account, Config, ServerSettings
from tmail.outbox.queue import Queue
from tmail.runtime.backend import MailBackend
from tmail.runtime.session import MailSession
from tmail.store.store import Store
from tmail.ui.source import MemorySource, Row


def reader(tmp_path: Path, raw: bytes) -> tuple[Harness, Store]:
    src = MemorySource()
    src.messages.append((Row(1, "demo", "INBOX", T0, "Anna", "Invitation", frozenset(), 9), raw))
    account = Account("demo", "person1@example.org", ServerSettings("imap", "imap.demo.test", 993))
    store = Store.open(tmp_path / "data")
    h = Harness(src)
    backend = MailBackend(Config(None, tmp_path / "data", 300.0, {"demo": account}), store)
    h.session = MailSession(backend, poll=False)
    h.app.session = h.session
    return h, store


def test_a_accepts_with_a_comment_into_the_outbox(tmp_path: Path) -> None:
    ics = inv.calendar(inv.vevent(start=inv.START, end=inv.END, attendees=3), zone="Europe/Berlin")
    h, store = reader(tmp_path, inv.outlook(ics))
    try:
        h.press("enter", "A")
        assert "Answer the invitation: a accept, t tentative, d decline" in h.screen()
        h.press("a")
        h.type("See you")
        h.press("enter")
        h.work()
        q = Queue.for_account(tmp_path / "data", "demo")
        [entry] = q.entries()
        assert entry.recipients == ("anna@example.org",)
        msg = email.message_from_bytes(q.read(entry), policy=email.policy.default)
        [part] = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
        assert part.get_param("method") == "REPLY"
        ics_reply = part.get_payload(decode=True)
        assert b"PARTSTAT=ACCEPTED" in ics_reply and b"COMMENT:See you" in ics_reply
        assert "queued, will retry: in the outbox" in h.screen() and "[outbox 1" in h.screen()
    finally:
        store.close()


def test_a_on_a_cancellation_or_plain_mail_says_there_is_nothing_to_answer(
    tmp_path: Path,
) -> None:
    ics = inv.calendar(inv.vevent(start=inv.START, end=inv.END), method="CANCEL")
    h, store = reader(tmp_path, inv.outlook(ics, method="CANCEL"))
    try:
        h.press("enter", "A")
        assert "no invitation to answer" in h.screen()
    finally:
        store.close()
