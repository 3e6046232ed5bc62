"""Limits learned from the server's refusals (issue 15, item 4): a rate-limit refusal holds the
account's whole queue until the window is likely over, says so (flush, ``tmail queue``), and the
queue goes again by itself after. The refusals come from the small fake SMTP server: a real
provider's quota cannot be reached on demand, and the mail stack's Postfix is shared.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.integration.test_outbox_faults import account, opener, queue_one
from tests.support.fakesmtp import fake_smtp
from tmail.cli.commands.queue import describe
from tmail.outbox.flush import flush
from tmail.outbox.queue import Queue

QUOTA = "550 5.4.5 Daily user sending quota exceeded. Learn more at https://support.example/q"


def test_a_daily_quota_refusal_holds_the_whole_queue_for_a_day(tmp_path: Path) -> None:
    with fake_smtp(mail_reply=QUOTA) as srv:
        acc = account(srv.port)
        q = Queue.for_account(tmp_path, acc.name)
        ids = [queue_one(q, acc) for _ in range(3)]
        before = time.time()
        report = flush(acc, q, opener(srv.port), force=True)
    outcomes = [report.of(i) for i in ids]
    assert [o.status for o in outcomes if o] == ["waiting", "waiting", "waiting"]
    first = outcomes[0]
    assert first is not None
    assert "the server's daily sending quota: 550 5.4.5 Daily user sending quota exceeded" in (
        first.message
    )
    assert "the account's messages wait until" in first.message
    assert "then go by themselves" in first.message
    # Not moved to failed (a 5xx, but not about this message), and only one was tried.
    assert q.failed() == [] and len(q.entries()) == 3
    tried = [e for e in q.entries() if e.attempts]
    assert len(tried) == 1
    for e in q.entries():
        assert e.waiting_until is not None and e.waiting_until >= before + 86400 - 1
    # tmail queue says so.
    lines = describe(tried[0], time.time())
    assert any(line.startswith("    rate limit: waits until") for line in lines)
    assert any("last error: the server's daily sending quota" in line for line in lines)


def test_held_by_the_server_a_forced_flush_tries_nothing_and_later_it_goes_by_itself(
    tmp_path: Path,
) -> None:
    with fake_smtp(mail_reply=QUOTA) as srv:
        acc = account(srv.port)
        q = Queue.for_account(tmp_path, acc.name)
        first = queue_one(q, acc)
        flush(acc, q, opener(srv.port), force=True)
    with fake_smtp() as srv2:
        acc = account(srv2.port)
        new = queue_one(q, acc)  # queued while the hold lasts: waits with the others
        report = flush(acc, q, opener(srv2.port), force=True)
        assert srv2.received == []
        assert report.of(new) is not None and report.of(new).status == "waiting"  # type: ignore[union-attr]
        # A day later (the clock moved on), an ordinary flush sends both.
        later = time.time() + 86400 + 60
        report = flush(acc, q, opener(srv2.port), clock=lambda: later)
        assert {report.of(i).status for i in (first, new)} == {"delivered"}  # type: ignore[union-attr]
        assert len(srv2.received) == 2
    assert q.entries() == []


def test_a_named_message_is_tried_despite_the_hold(tmp_path: Path) -> None:
    with fake_smtp(mail_reply=QUOTA) as srv:
        acc = account(srv.port)
        q = Queue.for_account(tmp_path, acc.name)
        ident = queue_one(q, acc)
        flush(acc, q, opener(srv.port), force=True)
    with fake_smtp() as srv2:
        report = flush(account(srv2.port), q, opener(srv2.port), only=[ident])
    assert report.of(ident) is not None and report.of(ident).status == "delivered"  # type: ignore[union-attr]


def test_a_rate_limit_at_rcpt_waits_the_time_the_server_names(tmp_path: Path) -> None:
    reply = "451 4.7.1 Too many messages from you, try again in 10 minutes"
    with fake_smtp(rcpt={"b@example.test": reply}) as srv:
        acc = account(srv.port)
        q = Queue.for_account(tmp_path, acc.name)
        ident = queue_one(q, acc)
        before = time.time()
        report = flush(acc, q, opener(srv.port))
    out = report.of(ident)
    assert out is not None and out.status == "waiting"
    assert "the server's sending rate limit: 451 4.7.1 Too many messages" in out.message
    [entry] = q.entries()
    assert entry.waiting_until is not None
    assert before + 600 <= entry.waiting_until <= time.time() + 600


def test_a_rate_limit_at_the_greeting_holds_every_message_an_hour(tmp_path: Path) -> None:
    with fake_smtp(greeting="421 4.7.0 Try again later, closing connection") as srv:
        acc = account(srv.port)
        q = Queue.for_account(tmp_path, acc.name)
        ids = [queue_one(q, acc) for _ in range(2)]
        before = time.time()
        report = flush(acc, q, opener(srv.port))
    assert [report.of(i).status for i in ids] == ["waiting", "waiting"]  # type: ignore[union-attr]
    for e in q.entries():
        assert e.waiting_until is not None and e.waiting_until >= before + 3600
