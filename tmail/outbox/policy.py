"""Pure decisions of the outbox: when to try again, when to give up, when a rate limit allows."""

from __future__ import annotations

from collections.abc import Sequence

from tmail.config.model import SendLimits

# 1m, 5m, 15m, 1h, then doubling up to every 4h (sendmail/Postfix back off the same way).
BACKOFF: tuple[float, ...] = (60, 300, 900, 3600, 7200, 14400)


def retry_delay(failures: int) -> float:
    """Seconds to wait after the ``failures``-th failed attempt (1-based)."""
    return BACKOFF[min(max(failures, 1), len(BACKOFF)) - 1]


def gave_up(created: float, now: float, max_queue_age: float) -> bool:
    return now - created > max_queue_age


def next_allowed(limits: SendLimits, sent: Sequence[float], now: float) -> float:
    """The earliest time the next message may go, given the delivery times of the last day.

    Returns ``now`` when nothing holds it back.
    """
    at = now
    recent = sorted(sent)
    if limits.per_second and recent:
        at = max(at, recent[-1] + 1.0 / limits.per_second)
    for window, limit in ((3600.0, limits.per_hour), (86400.0, limits.per_day)):
        if not limit:
            continue
        inside = [t for t in recent if now - t < window]
        if len(inside) >= limit:
            # The window frees one slot when the oldest delivery inside it leaves.
            at = max(at, inside[len(inside) - limit] + window)
    return at
