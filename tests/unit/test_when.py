"""``tmail send --at WHEN``: the forms people write, in the user's zone, with a fixed now."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tmail.core.when import parse_when

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 12, 4, 17, 30, tzinfo=BERLIN)


def test_bare_time_later_today_is_today() -> None:
    assert parse_when("18:00", NOW) == datetime(2026, 12, 4, 18, 0, tzinfo=BERLIN)


def test_bare_time_already_passed_is_tomorrow_as_at_reads_it() -> None:
    assert parse_when("9:00", NOW) == datetime(2026, 12, 5, 9, 0, tzinfo=BERLIN)
    assert parse_when("9am", NOW) == datetime(2026, 12, 5, 9, 0, tzinfo=BERLIN)
    assert parse_when("6pm", NOW) == datetime(2026, 12, 4, 18, 0, tzinfo=BERLIN)


def test_tomorrow_and_today() -> None:
    assert parse_when("tomorrow 9:00", NOW) == datetime(2026, 12, 5, 9, 0, tzinfo=BERLIN)
    assert parse_when("Tomorrow  9:05", NOW) == datetime(2026, 12, 5, 9, 5, tzinfo=BERLIN)
    # today at a passed hour stays in the past: the caller asks before sending at once
    assert parse_when("today 8:00", NOW) < NOW


def test_relative_delays() -> None:
    assert parse_when("+2h", NOW) == NOW + timedelta(hours=2)
    assert parse_when("+1h30m", NOW) == NOW + timedelta(minutes=90)
    assert parse_when("+1d", NOW) == NOW + timedelta(days=1)


def test_iso_times_local_and_with_offset() -> None:
    assert parse_when("2026-12-24T09:00", NOW) == datetime(2026, 12, 24, 9, 0, tzinfo=BERLIN)
    assert parse_when("2026-12-24 09:00", NOW).utcoffset() == timedelta(hours=1)
    at = parse_when("2026-12-24T09:00+00:00", NOW)
    assert at == datetime(2026, 12, 24, 10, 0, tzinfo=BERLIN)
    assert parse_when("2020-01-01T00:00", NOW) < NOW


def test_summer_time_day_gets_that_days_offset() -> None:
    # Berlin in July is UTC+2 though "now" (December) is UTC+1
    assert parse_when("2027-07-01T09:00", NOW).utcoffset() == timedelta(hours=2)
    march = datetime(2027, 3, 27, 12, 0, tzinfo=BERLIN)  # the day before the change
    assert parse_when("tomorrow 9:00", march).utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(
    "text",
    ["", "soon", "25:00", "tomorrow", "tomorrow noon", "+2x", "13pm", "9:75", "+", "+999999999d"],
)
def test_nonsense_is_refused_naming_the_forms(text: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_when(text, NOW)
    assert "\n" not in str(err.value)


@given(st.text(max_size=30))
def test_any_text_parses_or_raises_value_error(text: str) -> None:
    try:
        at = parse_when(text, NOW)
    except ValueError:
        return
    assert at.tzinfo is not None
