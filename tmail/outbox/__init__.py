"""Sending: the outbox queue, retries, rate limits and delivery through SMTP.

Start at :func:`send_now` (queue durably, then try at once) and :func:`flush_account` (send what
waits); :mod:`tmail.outbox.queue` describes the on-disk outbox and why delivery is at least once.
"""

from tmail.outbox.service import flush_account, queue_message, send_now

__all__ = ["flush_account", "queue_message", "send_now"]
