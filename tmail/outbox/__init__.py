"""Sending: the outbox queue, retries, rate limits and delivery through SMTP.

Start at :func:`queue_message` (queue durably) and :func:`flush_account` (send what waits; right
after queueing for "send now"); :mod:`tmail.outbox.queue` describes the on-disk outbox and why
delivery is at least once.
"""

from tmail.outbox.service import flush_account, queue_message

__all__ = ["flush_account", "queue_message"]
