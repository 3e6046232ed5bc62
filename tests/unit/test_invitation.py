"""Calendar invitations shown read-only (issue 18 item 1, display part): what, when (the reader's
zone, the organizer's when different), where, who and their answers, recurrence in words;
cancellations and updates say so; broken zones, floating times, 500 attendees and endless
rules render at once. The invitations are built the way Google, Outlook and Thunderbird write
them (tests/support/invitations.py)."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.support import invitations as inv
from tmail.cli import main
from tmail.mime.invitation import read_invitation

MOSCOW = ZoneInfo("Europe/Moscow")


def read(raw: bytes, tz: ZoneInfo = MOSCOW):  # type: ignore[no-untyped-def]
    found = read_invitation(raw, tz)
    assert found is not None
    return found


def test_google_invitation_in_the_readers_zone_with_the_organizers() -> None:
    ics = inv.calendar(inv.vevent(start=inv.START, end=inv.END), zone="Europe/Berlin")
    got = read(inv.google(ics))
    assert got.lines()[:7] == [
        "[-- Invitation --]",
        "  What:      Quarterly review",
        "  When:      Thu 10 Dec 2026 12:00–13:00 (Europe/Moscow); "
        "10:00 for the organizer (Europe/Berlin)",
        "  Where:     Room 4, Alexanderplatz 1",
        "  Organizer: Anna Petrova <anna@example.org>",
        "  Attendees: 2",
        "    Person 0 <person0@example.org>: accepted",
    ]
    assert got.lines()[7] == "    Person 1 <person1@example.org>: declined"


def test_the_same_zone_is_named_once() -> None:
    ics = inv.calendar(inv.vevent(start=inv.START, end=inv.END), zone="Europe/Berlin")
    assert read(inv.google(ics), inv.BERLIN).when == "Thu 10 Dec 2026 10:00–11:00 (Europe/Berlin)"


def test_outlook_windows_zone_names_are_understood() -> None:
    naive = datetime(2026, 12, 10, 10, 0)
    ev = inv.vevent(start=naive, end=naive.replace(hour=11), tzid="W. Europe Standard Time")
    got = read(inv.outlook(inv.calendar(ev)))
    assert got.when.startswith("Thu 10 Dec 2026 12:00–13:00 (Europe/Moscow)")
    assert got.notes == ()


def test_thunderbird_ics_attachment_weekly_until() -> None:
    ev = inv.vevent(
        start=inv.START,
        end=inv.END,
        rrule={
            "FREQ": "WEEKLY",
            "BYDAY": "TU",
            "UNTIL": datetime(2027, 3, 30, tzinfo=ZoneInfo("UTC")),
        },
    )
    got = read(inv.thunderbird(inv.calendar(ev, zone="Europe/Berlin")))
    assert got.recurrence == "every Tuesday until 2027-03-30"
    assert "  Repeats:   every Tuesday until 2027-03-30" in got.lines()


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"FREQ": "DAILY"}, "every day"),
        ({"FREQ": "WEEKLY", "INTERVAL": 2, "BYDAY": ["MO", "WE"], "COUNT": 10},
         "every 2 weeks on Monday and Wednesday, 10 times"),
        ({"FREQ": "MONTHLY", "BYDAY": "1MO"}, "every month on the first Monday"),
        ({"FREQ": "MONTHLY", "BYDAY": "-1FR"}, "every month on the last Friday"),
        ({"FREQ": "YEARLY"}, "every year"),
        ({"FREQ": "MONTHLY", "BYMONTHDAY": 15}, "every month on day 15"),
    ],
)  # fmt: skip
def test_recurrence_in_words_never_expanded(rule: dict[str, object], words: str) -> None:
    ev = inv.vevent(start=inv.START, end=inv.END, rrule=rule)
    assert read(inv.google(inv.calendar(ev))).recurrence == words


def test_a_cancellation_and_an_update_say_so() -> None:
    cancel = inv.vevent(start=inv.START, end=inv.END, method_status="CANCELLED", sequence=2)
    assert read(inv.outlook(inv.calendar(cancel, "CANCEL"), "CANCEL")).lines()[0] == (
        "[-- Cancelled event --]"
    )
    update = inv.vevent(start=inv.START, end=inv.END, sequence=1)
    assert read(inv.google(inv.calendar(update))).lines()[0] == "[-- Updated invitation --]"


def test_an_unknown_zone_is_shown_as_written_and_said() -> None:
    naive = datetime(2026, 12, 10, 10, 0)
    ev = inv.vevent(start=naive, end=naive.replace(hour=11), tzid="Mars/Olympus_Mons")
    got = read(inv.outlook(inv.calendar(ev)))
    assert got.when == "Thu 10 Dec 2026 10:00–11:00"
    assert got.notes == ("time zone 'Mars/Olympus_Mons' is unknown: the time is shown as written",)


def test_a_floating_time_says_so() -> None:
    naive = datetime(2026, 12, 10, 10, 0)
    got = read(inv.google(inv.calendar(inv.vevent(start=naive, end=naive.replace(hour=11)))))
    assert got.when == "Thu 10 Dec 2026 10:00–11:00"
    assert "floating time" in got.notes[0]


def test_an_all_day_event() -> None:
    ev = inv.vevent(start=date(2026, 12, 24), end=date(2026, 12, 27))
    assert read(inv.google(inv.calendar(ev))).when == "Thu 24 Dec 2026 – Sat 26 Dec 2026 (all day)"


def test_500_attendees_show_ten_and_the_count() -> None:
    ev = inv.vevent(start=inv.START, end=inv.END, attendees=500)
    lines = read(inv.google(inv.calendar(ev))).lines()
    assert "  Attendees: 500" in lines and "    … and 490 more" in lines
    assert len(lines) < 25


@pytest.mark.parametrize(
    "ics",
    [b"BEGIN:VCALENDAR\r\nGARBAGE\r\n", b"\x00\xff" * 100, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"],
)
def test_a_broken_calendar_is_no_invitation(ics: bytes) -> None:
    assert read_invitation(inv.google(ics)) is None


def test_controls_in_the_calendar_never_reach_the_terminal() -> None:
    ev = inv.vevent(start=inv.START, end=inv.END, summary="Review \x1b]0;pwned\x07")
    text = "\n".join(read(inv.google(inv.calendar(ev))).lines())
    assert "\x1b" not in text and "\x07" not in text


def test_show_prints_the_block_and_json_carries_calendar(tmp_path: Path) -> None:
    ev = inv.vevent(start=inv.START, end=inv.END, rrule={"FREQ": "WEEKLY", "BYDAY": "TU"})
    path = tmp_path / "invite.eml"
    path.write_bytes(inv.google(inv.calendar(ev, zone="Europe/Berlin")))
    out = io.StringIO()
    assert main(["show", str(path)], stdout=out, stderr=io.StringIO()) == 0
    text = out.getvalue()
    assert "[-- Invitation --]\n  What:      Quarterly review\n" in text
    assert "  Repeats:   every Tuesday\n" in text
    out = io.StringIO()
    assert main(["show", "--json", str(path)], stdout=out, stderr=io.StringIO()) == 0
    cal = json.loads(out.getvalue())["calendar"]
    assert cal["method"] == "REQUEST" and cal["summary"] == "Quarterly review"
    assert cal["start"] == "2026-12-10T10:00:00+01:00"
    assert cal["organizer"] == "Anna Petrova <anna@example.org>"
    assert cal["attendees"][1] == {
        "name": "Person 1",
        "addr": "person1@example.org",
        "answer": "declined",
    }
    assert cal["recurrence"] == "every Tuesday"


CUSTOM_ZONE = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nPRODID:-//x//EN\r\n"
    b"BEGIN:VTIMEZONE\r\nTZID:Harbour Time\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
    b"TZOFFSETFROM:-0300\r\nTZOFFSETTO:-0300\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    b"BEGIN:VEVENT\r\nUID:z1\r\nSUMMARY:Dock visit\r\n"
    b"DTSTART;TZID=Harbour Time:20240527T140000\r\nDTEND;TZID=Harbour Time:20240527T143000\r\n"
    b"ATTENDEE;CN=dave@example.net;PARTSTAT=ACCEPTED:mailto:dave@example.net\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_a_zone_of_the_calendars_own_is_named_as_the_calendar_names_it() -> None:
    got = read(inv.outlook(CUSTOM_ZONE), ZoneInfo("UTC"))
    assert got.when == ("Mon 27 May 2024 17:00–17:30 (UTC); 14:00 for the organizer (Harbour Time)")
    assert got.attendees[0].text() == "dave@example.net: accepted"  # the name is the address
