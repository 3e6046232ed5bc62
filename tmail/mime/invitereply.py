"""Answering an invitation: an RFC 5546 REPLY (iMIP, RFC 6047) built with ``icalendar``.

The REPLY names the event (UID, SEQUENCE, RECURRENCE-ID when the invitation was for one
occurrence), the organizer, and exactly one attendee: the invited address of ours, with its
PARTSTAT (RFC 5546 section 3.2.3). The message goes to the organizer with the calendar as a
``text/calendar; method=REPLY`` alternative beside a line of text, as Thunderbird and Outlook
send it. Pure: the caller queues the bytes through the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from tmail.core.errors import MessageError
from tmail.core.models import Address
from tmail.core.safe import safe_line

ANSWERS = {"accept": "ACCEPTED", "tentative": "TENTATIVE", "decline": "DECLINED"}
_WORDS = {"ACCEPTED": "Accepted", "TENTATIVE": "Tentative", "DECLINED": "Declined"}


@dataclass(frozen=True)
class InviteReply:
    organizer: str  # the address the REPLY goes to
    summary: str  # terminal-safe
    partstat: str
    ics: bytes
    message: bytes  # the whole message, for sendmail -t style queueing


def _mailto(value: object) -> str:
    text = str(value).strip()
    return text[7:].strip() if text.lower().startswith("mailto:") else text


def build_reply(
    ics: bytes,
    me: Address,
    answer: str,
    *,
    my_addresses: Sequence[str] = (),
    comment: str | None = None,
    now: datetime | None = None,
) -> InviteReply:
    """The REPLY to the invitation ``ics`` from ``me`` (or the one of ``my_addresses`` the
    invitation names), with ``answer`` accept, tentative or decline."""
    import icalendar

    partstat = ANSWERS.get(answer.lower())
    if partstat is None:
        raise MessageError(f"{answer!r}: answer accept, tentative or decline")
    try:
        calendar: Any = icalendar.Calendar.from_ical(ics)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise MessageError(f"the invitation's calendar cannot be read: {exc}") from exc
    method = str(calendar.get("method", "")).upper()
    if method not in ("REQUEST", ""):
        raise MessageError(f"this calendar is a {method or 'note'}, not an invitation to answer")
    event = next(iter(calendar.walk("VEVENT")), None)
    if event is None or event.get("uid") is None or event.get("organizer") is None:
        raise MessageError("the invitation names no event, UID or organizer to answer")
    organizer = _mailto(event["organizer"])
    mine = [a.lower() for a in (me.addr, *my_addresses)]
    attendees = event.get("attendee", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    invited = next((a for a in attendees if _mailto(a).lower() in mine), None)
    addr = _mailto(invited) if invited is not None else me.addr
    if invited is None and attendees:
        raise MessageError(
            f"{me.addr} is not among the invitation's attendees",
            hint="answer from the account (--account) whose address was invited",
        )
    reply: Any = icalendar.Calendar()
    reply.add("prodid", "-//tmail//tmail//EN")
    reply.add("version", "2.0")
    reply.add("method", "REPLY")
    ev: Any = icalendar.Event()
    ev.add("uid", event["uid"])
    for key in ("recurrence-id",):
        if event.get(key) is not None:
            ev[key] = event[key]
    ev.add("sequence", int(event.get("sequence", 0) or 0))
    ev.add("dtstamp", now or datetime.now(UTC))
    if event.get("summary") is not None:
        ev.add("summary", str(event["summary"]))
    ev["organizer"] = event["organizer"]
    attendee = icalendar.vCalAddress(f"mailto:{addr}")
    attendee.params["PARTSTAT"] = partstat
    name = (invited.params.get("CN") if invited is not None else None) or me.name
    if name:
        attendee.params["CN"] = str(name)
    ev.add("attendee", attendee)
    if comment:
        ev.add("comment", comment)
    reply.add_component(ev)
    data = reply.to_ical()
    summary = safe_line(str(event.get("summary", "")))
    word = _WORDS[partstat]
    msg = EmailMessage()
    msg["From"] = Address(me.name, addr).formatted()
    msg["To"] = organizer
    msg["Subject"] = f"{word}: {summary}" if summary else word
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = make_msgid(domain=addr.rpartition("@")[2] or None)
    text = f"{name or addr} has answered {word.lower()}: {summary or 'the invitation'}\n"
    if comment:
        text += f"\n{comment}\n"
    msg.set_content(text)
    msg.add_alternative(
        data, maintype="text", subtype="calendar", params={"method": "REPLY", "charset": "utf-8"}
    )
    return InviteReply(organizer, summary, partstat, data, bytes(msg))
