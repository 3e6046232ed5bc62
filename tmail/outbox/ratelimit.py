"""Limits learned from the server: is an SMTP refusal a rate limit, and until when to wait.

Providers that publish no sending limit (Mail.ru, Rambler) still have one; tmail learns it from
their refusals instead of inventing a number. A refusal is a rate limit when its enhanced status
code is one providers use for it (RFC 3463: X.7.x security or policy, X.4.5 system congestion,
which Gmail uses for its daily quota) and its words say so (rate, limit, quota, too many, ...);
greylisting (also 4.7.x) is not one. The account's queue then waits: for the time the server
names ("try again in 10 minutes"), else an hour, or for a daily quota until the oldest delivery
of the last day leaves the 24-hour window (a day after the refusal when tmail has no record).

Pure: the reply and the clock in, a :class:`RateLimit` out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

HOUR = 3600.0
DAY = 86400.0

_ENHANCED = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})\b")
_RATE_WORDS = re.compile(
    r"rate|limit|quota|too many|throttl|exceeded|slow down|try again later|sending frequency",
    re.IGNORECASE,
)
_DAILY_WORDS = re.compile(r"dail|per day|a day|today|24 ?h|quota", re.IGNORECASE)
_NOT_A_LIMIT = re.compile(r"greylist|graylist|spam|virus|relay|authenticat", re.IGNORECASE)
_WAIT = re.compile(
    r"(?:try again|retry|wait)\D{0,20}?(\d{1,5})\s*(second|sec|s\b|minute|min|m\b|hour|h\b)",
    re.IGNORECASE,
)
_UNIT = {"s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class RateLimit:
    until: float  # when the account's queue may try again
    daily: bool  # a daily quota rather than a short-term rate
    reply: str  # the server's words, "550 5.4.5 Daily user sending quota exceeded"


def rate_limit(code: int, text: str, now: float, sent: Sequence[float] = ()) -> RateLimit | None:
    """The wait a refusal (``code`` and its text, the enhanced code first) asks for, or None
    when it is not a rate limit. ``sent``: delivery times of the last day, when recorded."""
    m = _ENHANCED.match(text.strip())
    if m is None or code < 400:
        return None
    subject, detail = int(m.group(2)), int(m.group(3))
    if not (subject == 7 or (subject == 4 and detail == 5)):
        return None
    words = text.strip()
    if not _RATE_WORDS.search(words) or _NOT_A_LIMIT.search(words):
        return None
    reply = f"{code} {words}"
    if waited := _WAIT.search(words):
        seconds = int(waited.group(1)) * _UNIT[waited.group(2)[0].lower()]
        return RateLimit(now + max(seconds, 60.0), False, reply)
    if _DAILY_WORDS.search(words):
        recent = [t for t in sent if now - t < DAY]
        until = min(recent) + DAY if recent else now + DAY
        return RateLimit(max(until, now + HOUR), True, reply)
    return RateLimit(now + HOUR, False, reply)
