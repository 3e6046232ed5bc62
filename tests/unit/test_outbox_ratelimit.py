"""Which SMTP refusals are rate limits, and how long the account's queue then waits."""

from __future__ import annotations

import pytest

from tmail.outbox.ratelimit import DAY, HOUR, rate_limit

NOW = 1_000_000.0


@pytest.mark.parametrize(
    ("code", "text", "wait", "daily"),
    [
        (550, "5.4.5 Daily user sending quota exceeded.", DAY, True),
        (421, "4.7.0 Try again later, closing connection.", HOUR, False),
        (451, "4.7.1 Too many messages, try again in 10 minutes", 600, False),
        (
            450,
            "4.7.1 Error: too much mail from 192.0.2.1: rate limited, wait 30 seconds",
            60,
            False,
        ),
        (554, "5.7.0 Sending limit exceeded for today", DAY, True),
        (451, "4.7.500 Server busy, message rate too high", HOUR, False),
    ],
)
def test_a_rate_limit_refusal_gives_a_wait(code: int, text: str, wait: float, daily: bool) -> None:
    limit = rate_limit(code, text, NOW)
    assert limit is not None
    assert limit.until - NOW == pytest.approx(wait)
    assert limit.daily is daily
    assert limit.reply == f"{code} {text}"


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (451, "4.7.1 Greylisted, try again in 300 seconds"),
        (452, "4.5.3 Too many recipients"),
        (554, "5.7.1 Message rejected under suspicion of SPAM"),
        (550, "5.1.1 <x@example.org>: Recipient address rejected: User unknown"),
        (421, "4.3.2 Service shutting down"),
        (535, "5.7.8 Authentication credentials invalid (rate of failures)"),
        (552, "5.3.4 Message size exceeds fixed limit"),
        (451, "Too many messages (no enhanced code: cannot tell)"),
    ],
)
def test_other_refusals_are_not_rate_limits(code: int, text: str) -> None:
    assert rate_limit(code, text, NOW) is None


def test_a_daily_quota_waits_until_the_oldest_delivery_of_the_day_leaves_the_window() -> None:
    sent = [NOW - 20 * HOUR, NOW - 5 * HOUR, NOW - 30 * HOUR]
    limit = rate_limit(550, "5.4.5 Daily user sending quota exceeded", NOW, sent)
    assert limit is not None and limit.until == NOW - 20 * HOUR + DAY
    # ...but at least an hour, when the window is about to turn.
    limit = rate_limit(550, "5.4.5 Daily quota exceeded", NOW, [NOW - DAY + 60])
    assert limit is not None and limit.until == NOW + HOUR
