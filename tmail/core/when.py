"""When to send, as people write it: ``18:00``, ``tomorrow 9:00``, ``+2h``, an ISO time.

Pure: ``now`` (an aware datetime in the user's zone) comes from the caller, so a test picks
the moment. A bare time that has already passed today means that time tomorrow, as at(1)
reads it; ``today 8:00`` at noon and an ISO time are taken as written, past or not (the
caller asks before sending a past time at once). Names and wall-clock times are in the local
zone of ``now``; an ISO time with an offset keeps its own.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tmail.core.durations import parse_duration

_CLOCK = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*(am|pm)?")
FORMS = "18:00, 9am, today 18:00, tomorrow 9:00, +2h, +30m, or 2026-12-24T09:00"


def parse_when(text: str, now: datetime) -> datetime:
    """The moment ``text`` names, aware, in ``now``'s zone (or the ISO time's own offset).

    Raises ValueError naming the forms understood.
    """
    s = " ".join(text.strip().lower().split())
    if not s:
        raise ValueError(f"no time given; write it like {FORMS}")
    if s == "now":
        return now
    if s.startswith("+"):
        try:
            return now + timedelta(seconds=parse_duration(s[1:]))
        except (ValueError, OverflowError):
            raise ValueError(f"{text!r}: write a delay like +2h, +30m, +1d") from None
    word, _, rest = s.partition(" ")
    if word in ("today", "tomorrow"):
        if not rest:
            raise ValueError(f"{text!r}: say at what time, like {word} 9:00")
        h, m = _clock(rest, text)
        day = now + timedelta(days=1 if word == "tomorrow" else 0)
        return _at(day, h, m)
    if _CLOCK.fullmatch(s) and (":" in s or "m" in s):
        h, m = _clock(s, text)
        at = _at(now, h, m)
        return at if at > now else _at(now + timedelta(days=1), h, m)
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a time tmail understands; write it like {FORMS}") from (
            None
        )
    if at.tzinfo is None:  # a wall-clock time in the user's zone
        return _local(at, now)
    return at


def _clock(text: str, original: str) -> tuple[int, int]:
    m = _CLOCK.fullmatch(text.strip())
    if m is None:
        raise ValueError(f"{original!r}: write the time like 9:00, 18:30 or 9am")
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if m.group(3):
        if not 1 <= hour <= 12:
            raise ValueError(f"{original!r}: with am/pm the hour is 1 to 12")
        hour = hour % 12 + (12 if m.group(3) == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"{original!r}: no such time of day")
    return hour, minute


def _at(day: datetime, hour: int, minute: int) -> datetime:
    naive = day.replace(hour=hour, minute=minute, second=0, microsecond=0, tzinfo=None)
    return _local(naive, day)


def _local(naive: datetime, now: datetime) -> datetime:
    """A wall-clock time in ``now``'s zone with that day's offset (summer time): a ZoneInfo
    zone knows its rules; a fixed offset (``datetime.now().astimezone()``) stands for the
    system's local zone, whose rules the C library knows."""
    if isinstance(now.tzinfo, ZoneInfo):
        return naive.replace(tzinfo=now.tzinfo)
    return naive.astimezone()
