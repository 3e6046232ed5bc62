"""The RFC 5546 REPLY to an invitation, built from calendars as real clients write them."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import pytest

from tests.support import invitations as inv
from tmail.core.errors import MessageError
from tmail.core.models import Address
from tmail.mime.invitereply import build_reply

ME = Address("Person One", "person1@example.org")
NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


def test_tentative_reply_names_only_the_invited_attendee() -> None:
    ics = inv.calendar(inv.vevent(start=inv.START, end=inv.END, attendees=3), zone="Europe/Berlin")
    reply = build_reply(ics, ME, "tentative", now=NOW)
    cal = icalendar.Calendar.from_ical(reply.ics)
    [event] = cal.walk("VEVENT")
    assert str(cal["method"]) == "REPLY" and reply.organizer == "anna@example.org"
    attendee = event["attendee"]
    assert str(attendee) == "mailto:person1@example.org"
    assert attendee.params["PARTSTAT"] == "TENTATIVE" and "RSVP" not in attendee.params
    assert event.get("comment") is None and b"Tentative: Quarterly review" in reply.message


def test_one_occurrence_keeps_its_recurrence_id() -> None:
    ev = inv.vevent(start=inv.START, end=inv.END, attendees=2)
    ev.add("recurrence-id", inv.START)
    reply = build_reply(inv.calendar(ev), ME, "decline", now=NOW)
    [event] = icalendar.Calendar.from_ical(reply.ics).walk("VEVENT")
    assert event.decoded("recurrence-id") == inv.START


@pytest.mark.parametrize(
    "ics,me,answer,words",
    [
        (inv.calendar(inv.vevent(start=inv.START, end=inv.END)), Address("", "x@y.org"), "accept",
         "not among the invitation's attendees"),
        (inv.calendar(inv.vevent(start=inv.START, end=inv.END), method="CANCEL"), ME, "accept",
         "not an invitation to answer"),
        (inv.calendar(inv.vevent(start=inv.START, end=inv.END)), ME, "maybe", "accept, tentative"),
        (b"BEGIN:VCALENDAR\nnonsense", ME, "accept", "cannot be read"),
    ],
)  # fmt: skip
def test_what_cannot_be_answered_says_why(ics: bytes, me: Address, answer: str, words: str) -> None:
    with pytest.raises(MessageError, match=words):
        build_reply(ics, me, answer, now=NOW)
