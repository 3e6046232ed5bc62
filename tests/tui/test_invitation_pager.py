"""The pager shows a calendar invitation's block above the body (issue 18 item 1, display)."""

from __future__ import annotations

from tests.support import invitations as inv
from tests.tui.conftest import T0, Harness
from tmail.ui.source import MemorySource, Row


def test_the_pager_shows_what_when_where_who_and_how_often() -> None:
    ev = inv.vevent(
        start=inv.START, end=inv.END, attendees=3, rrule={"FREQ": "WEEKLY", "BYDAY": "TU"}
    )
    raw = inv.outlook(inv.calendar(ev, zone="Europe/Berlin"))
    src = MemorySource()
    src.messages.append(
        (Row(1, "demo", "INBOX", T0, "Anna", "Quarterly review", frozenset(), len(raw)), raw)
    )
    h = Harness(src)
    h.press("enter")
    screen = h.screen()
    assert "[-- Invitation --]" in screen
    assert "What:      Quarterly review" in screen
    assert "When:      Thu 10 Dec 2026" in screen
    assert "Repeats:   every Tuesday" in screen
    assert "Where:     Room 4, Alexanderplatz 1" in screen
    assert "Organizer: Anna Petrova <anna@example.org>" in screen
    assert "Person 2 <person2@example.org>: tentative" in screen
    assert "When: Thursday, December 10" in screen  # the message's own text follows
