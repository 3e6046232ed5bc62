"""Calendar invitations (iMIP, RFC 6047) read for showing: what, when, where, who, how often.

The ``text/calendar`` part (also ``application/ics`` and ``.ics`` attachments, as Outlook, Google
Calendar and Thunderbird send them) is parsed by the ``icalendar`` library. Nothing here
expands a recurrence (a rule that never ends costs nothing), shows more than
:data:`MAX_ATTENDEES_SHOWN` attendees, or trusts a time zone it does not know: such a time is
shown as written and says so, and a floating time (no zone at all) says that too. Every string
in an :class:`Invitation` is terminal-safe. Answering (RFC 5546 REPLY): :mod:`.invitereply`.
"""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from tmail.core.safe import safe_line

MAX_ICS_BYTES = 1 << 20  # a larger calendar part is not read
MAX_ATTENDEES_SHOWN = 10
_CALENDAR_TYPES = ("text/calendar", "application/ics")
_DAYS = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}
_UNITS = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
_ANSWERS = {
    "ACCEPTED": "accepted",
    "DECLINED": "declined",
    "TENTATIVE": "tentative",
    "DELEGATED": "delegated",
    "NEEDS-ACTION": "no answer yet",
}


@dataclass(frozen=True)
class Attendee:
    name: str
    addr: str
    answer: str  # accepted, declined, tentative, delegated, no answer yet

    def text(self) -> str:
        same = self.name.lower() == self.addr.lower()
        who = f"{self.name} <{self.addr}>" if self.name and not same else self.addr
        return f"{who}: {self.answer}"


@dataclass(frozen=True)
class Invitation:
    method: str  # REQUEST, CANCEL, REPLY, PUBLISH, ... ("" when the calendar names none)
    summary: str
    when: str  # in the reader's time zone, with the organizer's when it differs
    location: str
    organizer: str
    attendees: tuple[Attendee, ...]
    recurrence: str  # in words; "" for a single event
    status: str  # CONFIRMED, TENTATIVE, CANCELLED or ""
    sequence: int
    start: str | None  # ISO 8601 as written in the calendar (for --json)
    end: str | None
    notes: tuple[str, ...] = ()  # floating time, unknown zone, ...

    @property
    def kind(self) -> str:
        if self.method == "CANCEL" or self.status == "CANCELLED":
            return "Cancelled event"
        if self.method == "REPLY":
            return "Answer to an invitation"
        if self.method == "REQUEST" and self.sequence > 0:
            return "Updated invitation"
        if self.method == "REQUEST":
            return "Invitation"
        return "Calendar event"

    def lines(self) -> list[str]:
        out = [f"[-- {self.kind} --]", f"  What:      {self.summary or '(no title)'}"]
        out.append(f"  When:      {self.when}")
        if self.recurrence:
            out.append(f"  Repeats:   {self.recurrence}")
        if self.location:
            out.append(f"  Where:     {self.location}")
        if self.organizer:
            out.append(f"  Organizer: {self.organizer}")
        if self.attendees:
            n = len(self.attendees)
            out.append(f"  Attendees: {n}")
            for a in self.attendees[:MAX_ATTENDEES_SHOWN]:
                out.append(f"    {a.text()}")
            if n > MAX_ATTENDEES_SHOWN:
                out.append(f"    … and {n - MAX_ATTENDEES_SHOWN} more")
        for note in self.notes:
            out.append(f"  Note:      {note}")
        return out

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method or None,
            "kind": self.kind,
            "summary": self.summary,
            "start": self.start,
            "end": self.end,
            "when": self.when,
            "location": self.location or None,
            "organizer": self.organizer or None,
            "attendees": [
                {"name": a.name or None, "addr": a.addr, "answer": a.answer} for a in self.attendees
            ],
            "recurrence": self.recurrence or None,
            "status": self.status or None,
            "sequence": self.sequence,
            "notes": list(self.notes),
        }


def calendar_part(raw: bytes) -> bytes | None:
    """The first ``text/calendar`` part, ``application/ics`` or ``.ics`` attachment of ``raw``."""
    low = raw[: 64 << 20].lower()
    if b"text/calendar" not in low and b"application/ics" not in low and b".ics" not in low:
        return None
    try:
        message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
        for part in message.walk():
            ctype = part.get_content_type()
            name = (part.get_filename() or "").lower()
            if ctype in _CALENDAR_TYPES or (name.endswith(".ics") and not part.is_multipart()):
                data = part.get_payload(decode=True)
                if isinstance(data, bytes) and 0 < len(data) <= MAX_ICS_BYTES:
                    return data
    except (RecursionError, LookupError, ValueError, TypeError, AttributeError):
        return None  # PITFALLS: the email package on hostile structure; no invitation then
    return None


def read_invitation(raw: bytes, local_tz: tzinfo | None = None) -> Invitation | None:
    """The first event of the message's calendar part, for showing; None when it has none or it
    cannot be read. ``local_tz``: the reader's zone (default: this machine's)."""
    data = calendar_part(raw)
    if data is None:
        return None
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(data)
        events = calendar.walk("VEVENT")
        if not events:
            return None
        return _invitation(calendar, events[0], local_tz or local_zone())
    except Exception:
        # icalendar on hostile input may raise anything; a bad calendar is no invitation, and
        # reading the message must go on (tmail.mime never raises while reading)
        return None


def local_zone() -> tzinfo | None:
    """This machine's time zone by its name (``$TZ``, else ``/etc/localtime``), so that an event
    in summer gets summer time; else the current offset."""
    import os
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    names = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        if "/zoneinfo/" in target:
            names.append(target.split("/zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in names:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    return datetime.now().astimezone().tzinfo


def _text(value: object) -> str:
    return safe_line(str(value or "")).strip()


def _addr(value: object) -> str:
    text = _text(value)
    return text[7:] if text.lower().startswith("mailto:") else text


def _invitation(calendar: Any, event: Any, local_tz: tzinfo | None) -> Invitation:
    notes: list[str] = []
    start_prop, end_prop = event.get("DTSTART"), event.get("DTEND")
    start = _moment(start_prop, notes)
    end = _moment(end_prop, notes)
    organizer = event.get("ORGANIZER")
    org_text = ""
    if organizer is not None:
        name = _text(organizer.params.get("CN", ""))
        addr = _addr(organizer)
        org_text = f"{name} <{addr}>" if name and addr else name or addr
    attendees_raw = event.get("ATTENDEE") or []
    if not isinstance(attendees_raw, list):
        attendees_raw = [attendees_raw]
    attendees = tuple(
        Attendee(
            _text(a.params.get("CN", "")),
            _addr(a),
            _ANSWERS.get(_text(a.params.get("PARTSTAT", "NEEDS-ACTION")).upper(), "no answer yet"),
        )
        for a in attendees_raw
    )
    try:
        sequence = int(str(event.get("SEQUENCE", 0)))
    except ValueError:
        sequence = 0
    return Invitation(
        method=_text(calendar.get("METHOD", "")).upper(),
        summary=_text(event.get("SUMMARY", "")),
        when=_when(
            start, end, local_tz, _text(start_prop.params.get("TZID", "")) if start_prop else ""
        ),
        location=_text(event.get("LOCATION", "")),
        organizer=org_text,
        attendees=attendees,
        recurrence=_recurrence(event.get("RRULE")),
        status=_text(event.get("STATUS", "")).upper(),
        sequence=sequence,
        start=start.isoformat() if start is not None else None,
        end=end.isoformat() if end is not None else None,
        notes=tuple(dict.fromkeys(notes)),
    )


def _moment(prop: Any, notes: list[str]) -> datetime | date | None:
    if prop is None:
        return None
    value = prop.dt
    if isinstance(value, datetime) and value.tzinfo is None:
        zone = prop.params.get("TZID")
        if zone:
            notes.append(f"time zone {_text(zone)!r} is unknown: the time is shown as written")
        else:
            notes.append("a floating time (no time zone): the same clock time wherever you are")
    return value if isinstance(value, date) else None


def _when(
    start: datetime | date | None,
    end: datetime | date | None,
    local_tz: tzinfo | None,
    tzid: str = "",
) -> str:
    """The time in ``local_tz``; the organizer's own (its ``tzid``, as the calendar names it)
    added when its clock differs."""
    if start is None:
        return "(no time given)"
    if not isinstance(start, datetime):  # all day
        text = start.strftime("%a %d %b %Y")
        if isinstance(end, date) and not isinstance(end, datetime) and (end - start).days > 1:
            last = date.fromordinal(end.toordinal() - 1)
            text += f" – {last.strftime('%a %d %b %Y')}"
        return text + " (all day)"
    shown = start.astimezone(local_tz) if start.tzinfo is not None else start
    end_shown = None
    if isinstance(end, datetime):
        if end.tzinfo is not None and shown.tzinfo is not None:
            end_shown = end.astimezone(local_tz)
        elif end.tzinfo is None and start.tzinfo is None:
            end_shown = end
    text = shown.strftime("%a %d %b %Y %H:%M")
    if end_shown is not None:
        same_day = end_shown.date() == shown.date()
        text += "–" + end_shown.strftime("%H:%M" if same_day else "%a %d %b %Y %H:%M")
    if start.tzinfo is not None:
        text += f" ({_zone_name(shown)})"
        if start.utcoffset() != shown.utcoffset():
            organizer = tzid or _zone_name(start)
            text += f"; {start.strftime('%H:%M')} for the organizer ({organizer})"
    return text


def _zone_name(moment: datetime) -> str:
    """``Europe/Berlin``; else the zone's abbreviation; else its offset (``UTC-03:00``)."""
    key = getattr(moment.tzinfo, "key", None)
    if key:
        return safe_line(str(key))
    if moment.tzname():
        return safe_line(str(moment.tzname()))
    offset = moment.utcoffset()
    if offset is None:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _recurrence(rule: Any) -> str:
    """An RRULE in words: ``every Tuesday until 2027-03-30``; never expanded."""
    if rule is None:
        return ""
    if isinstance(rule, list):
        rule = rule[0] if rule else None
        if rule is None:
            return ""
    try:
        parts = {str(k).upper(): list(v) for k, v in dict(rule).items()}
        freq = str(parts.get("FREQ", [""])[0]).upper()
        unit = _UNITS.get(freq)
        if unit is None:
            return _text(rule.to_ical().decode("ascii", "replace"))
        interval = int(str(parts.get("INTERVAL", [1])[0]))
        days = [_day(str(d)) for d in parts.get("BYDAY", [])]
        month_days = [int(str(d)) for d in parts.get("BYMONTHDAY", [])]
        text = f"every {unit}" if interval == 1 else f"every {interval} {unit}s"
        if days and unit == "week" and interval == 1 and len(days) == 1:
            text = f"every {days[0]}"
        elif days:
            text += " on " + _join(days)
        elif month_days:
            text += " on day " + _join([str(d) for d in month_days])
        until = parts.get("UNTIL")
        count = parts.get("COUNT")
        if until:
            value = until[0]
            text += f" until {value.date().isoformat() if isinstance(value, datetime) else value}"
        elif count:
            n = int(str(count[0]))
            text += f", {n} time{'s' if n != 1 else ''}"
        return safe_line(text)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError):
        return "repeats (a rule tmail cannot put in words)"


def _day(code: str) -> str:
    code = code.strip().upper()
    name = _DAYS.get(code[-2:], code)
    number = code[:-2]
    if number:
        try:
            return f"the {_ORDINALS.get(int(number), number + '.')} {name}"
        except ValueError:
            return name
    return name


def _join(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
