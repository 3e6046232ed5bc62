"""The outbox's pure decisions: back-off, giving up, rate limits."""

from __future__ import annotations

from tmail.config.model import SendLimits
from tmail.outbox.policy import gave_up, next_allowed, retry_delay


def test_backoff_is_1m_5m_15m_1h_then_longer_up_to_4h() -> None:
    assert [retry_delay(n) for n in range(1, 9)] == [
        60, 300, 900, 3600, 7200, 14400, 14400, 14400
    ]  # fmt: skip


def test_gave_up_only_after_max_queue_age() -> None:
    assert not gave_up(1000.0, 1000.0 + 5 * 86400, 5 * 86400)
    assert gave_up(1000.0, 1001.0 + 5 * 86400, 5 * 86400)


def test_no_limits_means_now() -> None:
    assert next_allowed(SendLimits(), [99.0, 99.5], 100.0) == 100.0


def test_per_second_spaces_messages() -> None:
    assert next_allowed(SendLimits(per_second=2), [99.8], 100.0) == 100.3


def test_per_hour_waits_for_the_oldest_to_leave_the_window() -> None:
    sent = [10_000.0, 10_100.0, 10_200.0]
    assert next_allowed(SendLimits(per_hour=3), sent, 10_300.0) == 13_600.0
    assert next_allowed(SendLimits(per_hour=4), sent, 10_300.0) == 10_300.0


def test_per_day_counts_the_last_24_hours() -> None:
    now = 200_000.0
    sent = [now - 90_000, now - 80_000, now - 10]
    assert next_allowed(SendLimits(per_day=2), sent, now) == now - 80_000 + 86_400
