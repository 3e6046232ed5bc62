"""Finding text in a message: every match visited, only the current one highlighted, n and N
both ways, quotes and links keeping their colours."""

from __future__ import annotations

import pytest

from tests.tui.conftest import T0, Harness, message
from tmail.ui.source import MemorySource, Row

BODY = (
    "Plan for the week: the plan is a plan.\n"
    "> quoted plan from before\n"
    "See https://example.org/plan for the plan\n"
    "no match here\n"
    "last plan\n"
)


@pytest.fixture
def reading() -> Harness:
    raw = message("p@x", "A <a@x.test>", "weekly", BODY)
    row = Row(1, "demo", "INBOX", T0, "A", "weekly", frozenset(), len(raw))
    h = Harness(MemorySource([(row, raw)]))
    h.press("enter")
    return h


def screen_runs(h: Harness) -> list[list[tuple[str | None, str]]]:
    """Each screen row as (attribute, text) runs, the sidebar cut off."""
    canvas = h.app.top.render((120, 30), focus=True)
    rows = []
    for row in canvas.content():
        runs = [(a, t.decode("utf-8")) for a, _cs, t in row]
        text = "".join(t for _a, t in runs)
        cut = text.index("│") + 1 if "│" in text else 0
        out, at = [], 0
        for a, t in runs:
            if at + len(t) > cut:
                out.append((a, t[max(0, cut - at) :]))
            at += len(t)
        rows.append(out)
    return rows


def highlighted(h: Harness) -> list[tuple[str, int, str]]:
    """(the row's text, column, text) of every highlighted run on the screen."""
    found = []
    for runs in screen_runs(h):
        text = "".join(t for _a, t in runs)
        col = 0
        for a, t in runs:
            if a == "match":
                found.append((text.rstrip(), col, t))
            col += len(t)
    return found


def status(h: Harness) -> str:
    return h.screen().splitlines()[-2]


def test_every_match_is_visited_and_only_the_current_one_is_highlighted(
    reading: Harness,
) -> None:
    reading.press("/", *"plan", "enter")
    seen = []
    for _ in range(8):
        marks = highlighted(reading)
        assert len(marks) == 1, marks  # the ones visited before are plain again
        seen.append(marks[0])
        reading.press("n")
    first = "Plan for the week: the plan is a plan."
    assert seen[:3] == [(first, 0, "Plan"), (first, 23, "plan"), (first, 33, "plan")]
    assert seen[3] == ("> quoted plan from before", 9, "plan")
    see = "See https://example.org/plan[1] for the plan"
    assert seen[4] == (see, 24, "plan") and seen[5] == (see, 40, "plan")
    assert seen[6] == ("last plan", 5, "plan")
    assert seen[7] == ("[1] https://example.org/plan", 24, "plan")  # the list of links
    assert "match 1 of 8 (hit the bottom, went on at the top)" in status(reading)
    assert highlighted(reading) == [seen[0]]


def test_n_wraps_round_and_capital_n_goes_back(reading: Harness) -> None:
    reading.press("/", *"for the", "enter")  # twice in the text: line 1 and line 3
    assert highlighted(reading)[0][0].startswith("Plan for the week")
    assert "match 1 of 2" in status(reading)
    reading.press("N")  # back from the first: round to the last
    assert highlighted(reading)[0][0].startswith("See https")
    assert "match 2 of 2 (hit the top, went on at the bottom)" in status(reading)
    reading.press("N")
    assert highlighted(reading)[0][0].startswith("Plan for the week")
    reading.press("n", "n")
    assert highlighted(reading)[0][0].startswith("Plan for the week")
    assert "hit the bottom, went on at the top" in status(reading)


def test_quote_and_link_colours_stay_around_the_match(reading: Harness) -> None:
    reading.press("/", *"quoted", "enter")
    quote = next(r for r in screen_runs(reading) if "quoted" in "".join(t for _a, t in r))
    assert [(a, t.rstrip()) for a, t in quote if t.strip()] == [
        ("quote", ">"),
        ("match", "quoted"),
        ("quote", " plan from before"),
    ]
    reading.press("/", *"example", "enter")
    link = next(r for r in screen_runs(reading) if "See https" in "".join(t for _a, t in r))
    assert [(a, t.rstrip()) for a, t in link if t.strip()] == [
        (None, "See"),
        ("link", "https://"),
        ("match", "example"),
        ("link", ".org/plan[1]"),
        (None, " for the plan"),
    ]
    reading.press("n")  # the one match: still there, still one highlight, colours kept
    assert len(highlighted(reading)) == 1


def test_the_raw_view_is_searched_afresh(reading: Harness) -> None:
    reading.press("/", *"plan", "enter", "h", "n")
    marks = highlighted(reading)
    assert len(marks) == 1 and marks[0][2].lower() == "plan"
