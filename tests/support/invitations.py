"""Invitations as real clients write them, built with the icalendar library.

* :func:`google`: multipart/mixed of multipart/alternative (text/plain, text/html,
  text/calendar; method=REQUEST) and the same calendar as an ``invite.ics`` application/ics
  attachment; times in UTC, the organizer's zone as TZID with its VTIMEZONE.
* :func:`outlook`: multipart/alternative (text/plain, text/html, text/calendar; method=REQUEST)
  with Windows zone names ("W. Europe Standard Time") and a VTIMEZONE of that name.
* :func:`thunderbird`: multipart/mixed of text/plain and an ``invite.ics`` text/calendar
  attachment (Lightning's iMIP).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import icalendar


def vevent(
    *,
    start: datetime | date,
    end: datetime | date,
    summary: str = "Quarterly review",
    rrule: dict[str, object] | None = None,
    attendees: int = 2,
    method_status: str | None = None,
    sequence: int = 0,
    tzid: str | None = None,
) -> icalendar.Event:
    ev = icalendar.Event()
    ev.add("uid", "q4-review@example.org")
    ev.add("dtstamp", datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("UTC")))
    ev.add("summary", summary)
    ev.add("location", "Room 4, Alexanderplatz 1")
    ev.add("sequence", sequence)
    for key, value in (("dtstart", start), ("dtend", end)):
        ev.add(key, value, parameters={"TZID": tzid} if tzid else None)
    organizer = icalendar.vCalAddress("mailto:anna@example.org")
    organizer.params["CN"] = "Anna Petrova"
    ev.add("organizer", organizer)
    answers = ["ACCEPTED", "DECLINED", "TENTATIVE", "NEEDS-ACTION"]
    for i in range(attendees):
        a = icalendar.vCalAddress(f"mailto:person{i}@example.org")
        a.params["CN"] = f"Person {i}"
        a.params["PARTSTAT"] = answers[i % 4]
        a.params["ROLE"] = "REQ-PARTICIPANT"
        a.params["RSVP"] = "TRUE"
        ev.add("attendee", a)
    if rrule:
        ev.add("rrule", rrule)
    if method_status:
        ev.add("status", method_status)
    return ev


def calendar(event: icalendar.Event, method: str = "REQUEST", zone: str | None = None) -> bytes:
    cal = icalendar.Calendar()
    cal.add("prodid", "-//tmail tests//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    if zone:
        cal.add_component(icalendar.Timezone.from_tzid(zone))
    cal.add_component(event)
    return cal.to_ical()


def _headers(msg: EmailMessage, subject: str) -> None:
    msg["From"] = "Anna Petrova <anna@example.org>"
    msg["To"] = "me@example.org"
    msg["Subject"] = subject
    msg["Date"] = "Tue, 01 Dec 2026 09:00:00 +0000"
    msg["Message-ID"] = "<invite-1@example.org>"


def google(ics: bytes, method: str = "REQUEST") -> bytes:
    msg = EmailMessage()
    _headers(msg, "Invitation: Quarterly review @ Thu Dec 10, 2026")
    msg.set_content("You have been invited to the following event.")
    msg.add_alternative("<p>You have been invited</p>", subtype="html")
    msg.add_alternative(ics, maintype="text", subtype="calendar", params={"method": method})
    msg.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics")
    return bytes(msg)


def outlook(ics: bytes, method: str = "REQUEST") -> bytes:
    msg = EmailMessage()
    _headers(msg, "Quarterly review")
    msg.set_content("When: Thursday, December 10, 2026 10:00 AM-11:00 AM.")
    msg.add_alternative("<html><body>When: Thursday</body></html>", subtype="html")
    msg.add_alternative(ics, maintype="text", subtype="calendar", params={"method": method})
    return bytes(msg)


def thunderbird(ics: bytes) -> bytes:
    msg = EmailMessage()
    _headers(msg, "Invitation: Quarterly review")
    msg.set_content("Anna Petrova has invited you to Quarterly review")
    msg.add_attachment(
        ics,
        maintype="text",
        subtype="calendar",
        filename="invite.ics",
        params={"method": "REQUEST"},
    )
    return bytes(msg)


BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 12, 10, 10, 0, tzinfo=BERLIN)
END = START + timedelta(hours=1)
