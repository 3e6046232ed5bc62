"""The IMAP and POP3 wrappers against the real Dovecot."""

from __future__ import annotations

import email
import time

import pytest

from tests.conftest import MailUser
from tests.support.mailstack import MailStack
from tests.support.sessions import imap_session, message, pop3_session
from tmail.core.models import Flag

pytestmark = pytest.mark.stack


def test_folders_carry_special_use_roles(mailstack: MailStack, mail_user: MailUser) -> None:
    for box in ("Sent", "Trash", "Work"):
        mailstack.create_mailbox(mail_user.name, box)
    s = imap_session(mailstack, mail_user.name, mail_user.password)
    try:
        roles = {f.name: f.role for f in s.folders()}
    finally:
        s.logout()
    assert roles["INBOX"] == "INBOX"
    assert roles["Sent"] == "Sent" and roles["Trash"] == "Trash"
    assert roles["Work"] is None


def test_streamed_fetch_yields_every_message_with_flags_in_batches(
    mailstack: MailStack, mail_user: MailUser
) -> None:
    raws = [message(f"m{i}", size=3000 + i) for i in range(25)]
    mailstack.bulk_save(mail_user.name, raws)
    s = imap_session(mailstack, mail_user.name, mail_user.password)
    try:
        st = s.select("INBOX")
        assert st.exists == 25 and st.uidvalidity > 0 and st.highestmodseq is not None
        uids = s.uids()
        s.add_flags(uids[:3], [Flag.SEEN, Flag.FLAGGED])
        got = list(s.fetch_messages(uids, batch_size=4, headers_only=uids[-2:]))
        flags = s.flags()
    finally:
        s.logout()
    assert [m.uid for m in got if not m.partial] == uids[:-2]
    assert {m.raw for m in got if not m.partial} == set(raws[:-2])
    partial = [m for m in got if m.partial]
    assert len(partial) == 2 and all(b"\r\n\r\n" in m.raw and len(m.raw) < m.size for m in partial)
    assert got[0].flags == {Flag.SEEN, Flag.FLAGGED}
    # BODY.PEEK left the others unread
    assert flags[uids[5]] == frozenset()


def test_condstore_reports_only_changed_flags(mailstack: MailStack, mail_user: MailUser) -> None:
    mailstack.bulk_save(mail_user.name, [message() for _ in range(5)])
    s = imap_session(mailstack, mail_user.name, mail_user.password)
    try:
        st = s.select("INBOX")
        uids = s.uids()
        s.add_flags([uids[1]], [Flag.REPLIED])
        assert s.status("INBOX").highestmodseq != st.highestmodseq
        changed = s.flags(changed_since=st.highestmodseq)
    finally:
        s.logout()
    assert changed == {uids[1]: frozenset({Flag.REPLIED})}


def test_move_reports_new_uids_and_append_its_uid(
    mailstack: MailStack, mail_user: MailUser
) -> None:
    mailstack.create_mailbox(mail_user.name, "Archive")
    mailstack.bulk_save(mail_user.name, [message() for _ in range(3)])
    s = imap_session(mailstack, mail_user.name, mail_user.password)
    try:
        s.select("INBOX")
        uids = s.uids()
        mapping = s.move(uids[:2], "Archive")
        new_uid = s.append("Archive", message("appended"), [Flag.SEEN])
        s.delete([uids[2]])
        assert s.uids() == []
        s.select("Archive")
        assert sorted(s.uids()) == sorted([*mapping.values(), new_uid])
        assert s.flags([new_uid]) == {new_uid: frozenset({Flag.SEEN})}
    finally:
        s.logout()
    assert sorted(mapping) == uids[:2]


def test_idle_wakes_on_delivery(mailstack: MailStack, mail_user: MailUser) -> None:
    s = imap_session(mailstack, mail_user.name, mail_user.password)
    try:
        s.select("INBOX")
        import threading

        threading.Timer(0.5, mailstack.deliver, (mail_user.name, message("pushed"))).start()
        t0 = time.monotonic()
        assert s.idle(timeout=10)
        assert time.monotonic() - t0 < 5
        assert len(s.uids()) == 1
    finally:
        s.logout()


def test_pop3_uidl_retr_pipelined_and_long_lines(mailstack: MailStack, mail_user: MailUser) -> None:
    long_header = message("long").replace(b"Subject:", b"X-Long: " + b"a" * 5000 + b"\r\nSubject:")
    raws = [message(f"p{i}") for i in range(4)] + [long_header]
    for raw in raws:
        mailstack.save(mail_user.name, raw)
    s = pop3_session(mailstack, mail_user.name, mail_user.password)
    try:
        uidls = s.uidls()
        assert uidls is not None and len(uidls) == 5
        assert "PIPELINING" in s.capabilities
        got = dict(s.retrieve([n for n, _u in uidls]))
        hashes = s.header_hash_uidls(5)
        assert len({h for _n, h in hashes}) == 5
        s.delete(1)
        s.abandon()  # no QUIT: the DELE is not committed
    except BaseException:
        s.abandon()
        raise
    assert [email.message_from_bytes(got[n])["Subject"] for n in sorted(got)] == [
        "p0",
        "p1",
        "p2",
        "p3",
        "long",
    ]
    assert got[5].count(b"a" * 5000) == 1
    assert mailstack.message_count(mail_user.name) == 5
