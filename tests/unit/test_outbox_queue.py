"""The outbox Maildir: durable adds, orphans, corrupt entries, drop, failed folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tmail.core.errors import UsageError
from tmail.outbox.queue import Entry, Queue, new_id


def entry(**kw: object) -> Entry:
    base: dict[str, object] = {
        "id": new_id(),
        "account": "a",
        "sender": "a@x.test",
        "recipients": ("b@x.test",),
        "subject": "тема",
        "message_id": "<m@x.test>",
        "created": 1000.0,
        "next_try": 1000.0,
    }
    base.update(kw)
    return Entry(**base)  # type: ignore[arg-type]


def test_add_then_list_round_trips_envelope_and_bytes(tmp_path: Path) -> None:
    q = Queue.for_account(tmp_path, "a")
    e = q.add(entry(bcc=("h@x.test",), dsn_notify=("failure",)), b"message\n")
    [got] = q.entries()
    assert got == e and got.size == 8 and got.bcc == ("h@x.test",)
    assert q.read(got) == b"message\n"
    assert (tmp_path / "outbox" / "a" / "new" / e.id).exists()
    assert list((q.root / "tmp").iterdir()) == []


def test_orphan_envelope_is_cleaned_and_message_without_envelope_moved_aside(
    tmp_path: Path,
) -> None:
    q = Queue.for_account(tmp_path, "a")
    e = q.add(entry(), b"x")
    (q.root / "new" / e.id).unlink()  # as after a crash between the two steps of remove()
    stray = q.root / "new" / "1234.deadbeef"
    stray.write_bytes(b"no envelope")
    assert q.entries() == []
    assert not (q.root / "envelopes" / f"{e.id}.json").exists()
    assert (q.root / ".corrupt" / "1234.deadbeef").read_bytes() == b"no envelope"
    assert "moved aside" in q.warnings[0]


def test_fail_moves_entry_and_drop_by_prefix(tmp_path: Path) -> None:
    q = Queue.for_account(tmp_path, "a")
    e1 = q.add(entry(id="1700000000.aaaa"), b"one")
    q.add(entry(id="1700000000.bbbb"), b"two")
    failed = q.fail(e1)
    assert failed.state == "failed" and [f.id for f in q.failed()] == [e1.id]
    assert q.read(failed) == b"one"
    with pytest.raises(UsageError, match="more than one"):
        q.drop("1700000000")
    assert q.drop("1700000000.b").id == "1700000000.bbbb"
    assert q.entries() == []
    q.drop(e1.id)
    assert q.failed() == []
    with pytest.raises(UsageError, match="no queued message"):
        q.drop("nothing")


def test_entries_are_oldest_first(tmp_path: Path) -> None:
    q = Queue.for_account(tmp_path, "a")
    late = q.add(entry(id="9.z", created=2000.0), b"b")
    early = q.add(entry(id="9.a", created=1000.0), b"a")
    assert [e.id for e in q.entries()] == [early.id, late.id]


def test_lock_excludes_a_second_holder(tmp_path: Path) -> None:
    q = Queue.for_account(tmp_path, "a")
    with q.lock() as first:
        assert first
        with Queue.for_account(tmp_path, "a").lock(timeout=0.2) as second:
            assert not second


def test_queue_listing_says_why_and_when() -> None:
    from tmail.cli.commands.queue import describe
    from tmail.outbox.queue import Attempt

    now = 10_000.0
    waiting = entry(created=now - 60, next_try=now + 7200, waiting_until=now + 7200)
    lines = "\n".join(describe(waiting, now))
    assert "rate limit: waits until" in lines and "тема" in lines and "b@x.test" in lines
    failing = entry(
        created=now - 600,
        next_try=now + 300,
        attempts=(Attempt(now - 60, "temporary", "451 4.7.1 greylisted\x1b[31m"),),
        last_error="451 4.7.1 greylisted\x1b[31m",
    )
    lines = "\n".join(describe(failing, now))
    assert "attempts: 1" in lines and "next try:" in lines
    assert "last error: 451 4.7.1 greylisted^[[31m" in lines  # server text made terminal-safe


def test_delivered_entries_are_pruned_a_day_later_at_most_once_an_hour(tmp_path: Path) -> None:
    import time

    q = Queue.for_account(tmp_path, "home")
    done = q.root / ".delivered"
    done.mkdir(parents=True)
    for name in ("a", "a.json", "b"):
        (done / name).write_bytes(b"x")
    later = time.time() + 2 * 86400
    assert q.prune_delivered(later) == 3
    assert list(done.iterdir()) == []
    (done / "c").write_bytes(b"x")
    # within the hour after a pass: no pass (each one stats a day of delivered mail)
    assert q.prune_delivered(later + 60) == 0
    assert (done / "c").exists()
    assert q.prune_delivered(later + 3601) == 1
    assert not (done / "c").exists()
    assert q.prune_delivered(time.time()) == 0  # nothing kept is older than a day


def _account() -> object:
    from tmail.config.model import Account, ServerSettings

    inc = ServerSettings("imap", "h", 993)
    return Account("a", "a@x.test", inc, ServerSettings("smtp", "h", 587), save_sent=False)


def test_scheduled_entry_is_not_tried_by_any_flush_before_its_time(tmp_path: Path) -> None:
    """Not even forced, nor naming it: no connection is opened at all before its time."""
    from tmail.outbox.flush import enqueue, flush

    q = Queue.for_account(tmp_path, "a")
    acc = _account()
    opened: list[int] = []

    def opener() -> object:
        opened.append(1)
        raise AssertionError("no connection may be opened for a message not yet due")

    e = enqueue(q, account=acc, data=b"x\n", sender="a@x.test", recipients=["b@x.test"],
                subject="later", message_id="<l@x>", clock=lambda: 1000.0,
                not_before=5000.0)  # type: ignore[arg-type]  # fmt: skip
    assert e.not_before == 5000.0 and e.next_try == 5000.0
    for kw in ({}, {"force": True}, {"only": [e.id]}):
        report = flush(acc, q, opener, clock=lambda: 4999.0, **kw)  # type: ignore[arg-type]
        assert opened == []
        assert [o.status for o in report.outcomes] == ([] if not kw else ["scheduled"])
    # it survives a new Queue (another process): the time is on disk
    [again] = Queue.for_account(tmp_path, "a").entries()
    assert again.not_before == 5000.0 and again.scheduled(4999.0) and not again.scheduled(5000.0)


def test_scheduled_entry_counts_its_age_from_its_time(tmp_path: Path) -> None:
    """A message scheduled a week ahead is not given up by max_queue_age (5 days) at once."""
    from tmail.outbox.flush import enqueue, flush

    q = Queue.for_account(tmp_path, "a")
    acc = _account()
    week = 7 * 86400.0
    e = enqueue(q, account=acc, data=b"x\n", sender="a@x.test", recipients=["b@x.test"],
                subject="s", message_id="<s@x>", clock=lambda: 0.0,
                not_before=week)  # type: ignore[arg-type]  # fmt: skip

    def unreachable() -> object:
        from tmail.core.errors import TmailError

        raise TmailError("connection refused")

    report = flush(acc, q, unreachable, clock=lambda: week + 1)  # type: ignore[arg-type]
    assert [o.status for o in report.outcomes] == ["queued"]  # tried, kept: not "failed"
    assert q.entries()[0].id == e.id


def test_release_sends_a_scheduled_entry_now_and_take_back_removes_it(tmp_path: Path) -> None:
    q = Queue.for_account(tmp_path, "a")
    one = q.add(entry(id="1.a", not_before=9e9, next_try=9e9), b"one")
    two = q.add(entry(id="1.b", not_before=9e9, next_try=9e9), b"two")
    [released] = q.release(one.id, now=50.0)
    assert released.not_before is None and released.next_try == 50.0
    got = q.take_back(two.id)
    assert got is not None and got[0].id == two.id and got[1] == b"two"
    assert [e.id for e in q.entries()] == [one.id]
    assert q.take_back(two.id) is None  # gone already: the caller says it left


def test_queue_listing_says_scheduled_for() -> None:
    from tmail.cli.commands.queue import describe

    lines = "\n".join(describe(entry(not_before=20_000.0, next_try=20_000.0), 10_000.0))
    assert "scheduled for" in lines and "next try" not in lines
