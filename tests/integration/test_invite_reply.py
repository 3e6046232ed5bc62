"""Answering an invitation (issue 18 item 1): an invitation as Google Calendar writes it goes
through the real Postfix into the real Dovecot; the invited user syncs it and runs ``tmail
invite ID accept --comment ...``; the RFC 5546 REPLY arrives in the organizer's real Dovecot
mailbox through Postfix and says what it must."""

from __future__ import annotations

import email
import email.policy
import json
import os
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import icalendar
import pytest

from tests.conftest import MailUser
from tests.integration.test_send_cli import write_config
from tests.support import invitations as inv

pytestmark = pytest.mark.stack


def tmail(cfg: Path, user: MailUser, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TMAIL_TEST_PW": user.password, "TMAIL_CONFIG": str(cfg)}
    return subprocess.run(
        [sys.executable, "-m", "tmail", *args],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("answer,partstat", [("accept", "ACCEPTED"), ("decline", "DECLINED")])
def test_invite_answer_reaches_the_organizer_as_an_rfc5546_reply(
    make_mail_user: Callable[..., MailUser], tmp_path: Path, answer: str, partstat: str
) -> None:
    organizer, me = make_mail_user("o"), make_mail_user("r")
    stack = me.stack
    ev = inv.vevent(start=inv.START, end=inv.END, sequence=2)
    ev["organizer"] = icalendar.vCalAddress(f"mailto:{organizer.address}")
    mine = icalendar.vCalAddress(f"mailto:{me.address}")
    mine.params.update({"CN": "Ира", "PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"})
    ev.add("attendee", mine)
    letter = inv.google(inv.calendar(ev, zone="Europe/Berlin"))
    with smtplib.SMTP(stack.host, stack.ports.smtp, timeout=30) as smtp:
        smtp.starttls(context=ssl.create_default_context(cafile=str(stack.ca_file)))
        smtp.login(organizer.name, organizer.password)
        smtp.sendmail(organizer.address, [me.address], letter)
    assert stack.wait_for(me.name, 1) == 1
    cfg = write_config(tmp_path, me)
    assert tmail(cfg, me, "sync", "-q").returncode == 0
    [row] = json.loads(tmail(cfg, me, "list", "--json", "--account", "test").stdout)
    res = tmail(cfg, me, "invite", str(row["id"]), answer, "--comment", "Буду к 10:15")
    assert res.returncode == 0, res.stderr
    assert f"{partstat.lower()} 'Quarterly review' to {organizer.address}" in res.stdout
    assert stack.wait_for(organizer.name, 1) == 1
    [raw] = stack.stored_messages(organizer.name)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Subject"].endswith(": Quarterly review")
    assert me.address in str(msg["From"]) and organizer.address in str(msg["To"])
    [part] = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") == "REPLY"
    cal = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    assert str(cal["method"]) == "REPLY"
    [event] = cal.walk("VEVENT")
    assert str(event["uid"]) == "q4-review@example.org" and int(event["sequence"]) == 2
    assert str(event["organizer"]).lower() == f"mailto:{organizer.address}"
    attendee = event["attendee"]
    assert not isinstance(attendee, list)  # exactly one: the one invited (RFC 5546 3.2.3)
    assert str(attendee).lower() == f"mailto:{me.address}"
    assert attendee.params["PARTSTAT"] == partstat and attendee.params["CN"] == "Ира"
    assert str(event["comment"]) == "Буду к 10:15"
    assert event.get("dtstamp") is not None


def test_an_invitation_to_an_identity_is_answered_from_that_identity(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    # Invited as an alias of the account (the invitation reached the account's mailbox): the
    # REPLY names the alias as the attendee and comes from it, not from the account's address.
    organizer, me = make_mail_user("o"), make_mail_user("r")
    stack = me.stack
    alias = f"team-{me.name}@example.test"
    ev = inv.vevent(start=inv.START, end=inv.END, sequence=1)
    ev["organizer"] = icalendar.vCalAddress(f"mailto:{organizer.address}")
    invited = icalendar.vCalAddress(f"mailto:{alias}")
    invited.params.update({"PARTSTAT": "NEEDS-ACTION", "RSVP": "TRUE"})
    ev.add("attendee", invited)
    letter = inv.google(inv.calendar(ev, zone="Europe/Berlin"))
    with smtplib.SMTP(stack.host, stack.ports.smtp, timeout=30) as smtp:
        smtp.starttls(context=ssl.create_default_context(cafile=str(stack.ca_file)))
        smtp.login(organizer.name, organizer.password)
        smtp.sendmail(organizer.address, [me.address], letter)
    assert stack.wait_for(me.name, 1) == 1
    identity = f'[[accounts.test.identities]]\naddress = "{alias}"\nname = "Team R"\n'
    cfg = write_config(tmp_path, me, extra=identity)
    assert tmail(cfg, me, "sync", "-q").returncode == 0
    [row] = json.loads(tmail(cfg, me, "list", "--json", "--account", "test").stdout)
    res = tmail(cfg, me, "invite", str(row["id"]), "tentative")
    assert res.returncode == 0, res.stderr
    assert stack.wait_for(organizer.name, 1) == 1
    [raw] = stack.stored_messages(organizer.name)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert [a.addr_spec for a in msg["From"].addresses] == [alias]
    [part] = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    [event] = icalendar.Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    assert str(event["attendee"]).lower() == f"mailto:{alias}"
    assert event["attendee"].params["PARTSTAT"] == "TENTATIVE"


def test_the_readers_answer_goes_the_same_way_to_the_organizers_dovecot(
    make_mail_user: Callable[..., MailUser], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A in the pager asks the session for AnswerInvitation: the backend's REPLY goes through
    the real Postfix into the organizer's real Dovecot."""
    from tmail.config import load_config
    from tmail.runtime.backend import MailBackend
    from tmail.runtime.session import AnswerInvitation, MailSession, MessageSent
    from tmail.store.store import Store

    organizer, me = make_mail_user("o"), make_mail_user("r")
    ev = inv.vevent(start=inv.START, end=inv.END)
    ev["organizer"] = icalendar.vCalAddress(f"mailto:{organizer.address}")
    ev.add("attendee", icalendar.vCalAddress(f"mailto:{me.address}"))
    monkeypatch.setenv("TMAIL_TEST_PW", me.password)
    config = load_config(write_config(tmp_path, me))
    with Store.open(config.data_dir) as store:
        session = MailSession(MailBackend(config, store), poll=False)
        request = AnswerInvitation(account="test", ics=inv.calendar(ev), answer="tentative")
        [sent] = session.run_once(request)
    assert isinstance(sent, MessageSent) and sent.status == "delivered", sent
    assert me.stack.wait_for(organizer.name, 1) == 1
    [raw] = me.stack.stored_messages(organizer.name)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    [part] = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    [event] = icalendar.Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    assert event["attendee"].params["PARTSTAT"] == "TENTATIVE"
