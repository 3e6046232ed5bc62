"""The outbox against small fake SMTP servers, one per fault a real Postfix will not give on demand.

Each test checks where the message ends up: delivered, still queued (with reason and next try)
or in the failed folder (with the server's words).
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.fakesmtp import fake_smtp
from tmail.config.model import Account, SendLimits, ServerSettings
from tmail.outbox.flush import FlushReport, enqueue, flush
from tmail.outbox.queue import Queue
from tmail.protocols.smtp import SmtpSession, open_session

MESSAGE = b"From: a@example.test\nTo: b@example.test\nSubject: hi\n\n.leading dot\nbody\n"


def account(port: int, **kw: object) -> Account:
    out = ServerSettings("smtp", "127.0.0.1", port, security="none")
    inc = ServerSettings("imap", "127.0.0.1", 1)
    return Account("fake", "a@example.test", inc, out, **kw)  # type: ignore[arg-type]


def opener(port: int, timeout: float = 5) -> Callable[[], SmtpSession]:
    def connect() -> smtplib.SMTP:
        conn = smtplib.SMTP("127.0.0.1", port, timeout=timeout)
        conn.ehlo("client.test")
        return conn

    return lambda: open_session(connect, server=f"127.0.0.1:{port}")


def queue_one(
    q: Queue, acc: Account, rcpts: tuple[str, ...] = ("b@example.test",), data: bytes = MESSAGE
) -> str:
    e = enqueue(
        q,
        account=acc,
        data=data,
        sender="a@example.test",
        recipients=rcpts,
        subject="hi",
        message_id="<1@example.test>",
    )
    return e.id


def run(
    tmp_path: Path, port: int, rcpts: tuple[str, ...] = ("b@example.test",), **kw: object
) -> tuple[Queue, FlushReport, str]:
    acc = account(port, **kw)
    q = Queue.for_account(tmp_path, acc.name)
    ident = queue_one(q, acc, rcpts)
    report = flush(acc, q, opener(port), sleep=lambda s: None)
    return q, report, ident


def test_delivered_message_leaves_the_queue(tmp_path: Path) -> None:
    with fake_smtp() as srv:
        q, report, ident = run(tmp_path, srv.port)
    assert report.of(ident) is not None and report.of(ident).status == "delivered"  # type: ignore[union-attr]
    assert q.entries() == [] and q.failed() == []
    assert (q.root / ".delivered" / ident).read_bytes() == MESSAGE  # kept a day
    assert q.prune_delivered(time.time() + 2 * 86400) == 2
    assert not (q.root / ".delivered" / ident).exists()
    assert len(srv.received) == 1
    got = srv.received[0]
    assert got.data == MESSAGE.replace(b"\n", b"\r\n")  # CRLF on the wire, dot unstuffed
    assert got.mail_line == f"MAIL FROM:<a@example.test> SIZE={len(got.data)}"


def test_421_at_greeting_stays_queued(tmp_path: Path) -> None:
    with fake_smtp(greeting="421 4.3.2 Service shutting down") as srv:
        q, report, ident = run(tmp_path, srv.port)
    out = report.of(ident)
    assert out is not None and out.status == "queued"
    assert "421" in out.message and "next try" in out.message
    [entry] = q.entries()
    assert entry.attempts[-1].outcome == "temporary"
    assert entry.next_try - entry.attempts[-1].at == pytest.approx(60)


def test_451_at_rcpt_stays_queued_then_delivers(tmp_path: Path) -> None:
    with fake_smtp(rcpt={"b@example.test": "451 4.7.1 Greylisted, try again"}) as srv:
        q, report, ident = run(tmp_path, srv.port)
    out = report.of(ident)
    assert out is not None and out.status == "queued" and "Greylisted" in out.message
    assert srv.received == []
    assert [e.id for e in q.entries()] == [ident]
    with fake_smtp() as srv2:
        acc = account(srv2.port)
        report2 = flush(acc, q, opener(srv2.port), force=True)
    assert report2.of(ident).status == "delivered"  # type: ignore[union-attr]
    assert q.entries() == []


def test_452_at_one_rcpt_sends_to_the_others_and_retries_that_one(tmp_path: Path) -> None:
    rcpts = ("b@example.test", "c@example.test", "d@example.test")
    with fake_smtp(rcpt={"c@example.test": "452 4.5.3 Too many recipients"}) as srv:
        q, report, ident = run(tmp_path, srv.port, rcpts)
    assert srv.received[0].recipients == ["b@example.test", "d@example.test"]
    [entry] = q.entries()
    assert entry.recipients == ("c@example.test",)
    assert entry.delivered == ("b@example.test", "d@example.test")
    out = report.of(ident)
    assert out is not None and out.status == "queued" and "452" in out.message


def test_550_for_one_rcpt_partial_goes_to_failed_with_the_reason(tmp_path: Path) -> None:
    rcpts = ("b@example.test", "nobody@example.test")
    refusal = "550 5.1.1 <nobody@example.test>: Recipient address rejected"
    with fake_smtp(rcpt={"nobody@example.test": refusal}) as srv:
        q, report, ident = run(tmp_path, srv.port, rcpts)
    out = report.of(ident)
    assert out is not None and out.status == "partial"
    assert "nobody@example.test" in out.message and "5.1.1" in out.message
    assert q.entries() == []
    [failed] = q.failed()
    assert failed.refused[0].code == 550 and failed.delivered == ("b@example.test",)
    assert srv.received[0].recipients == ["b@example.test"]


def test_552_at_data_goes_to_failed(tmp_path: Path) -> None:
    with fake_smtp(data_reply="552 5.3.4 Message size exceeds fixed limit") as srv:
        q, report, ident = run(tmp_path, srv.port)
    out = report.of(ident)
    assert out is not None and out.status == "failed" and "5.3.4" in out.message
    assert q.entries() == []
    [failed] = q.failed()
    assert failed.last_error is not None and "552" in failed.last_error
    assert q.read(failed) == MESSAGE  # kept for the user, byte for byte


def test_554_after_final_dot_goes_to_failed(tmp_path: Path) -> None:
    with fake_smtp(final_reply="554 5.7.1 Message rejected as spam") as srv:
        q, report, ident = run(tmp_path, srv.port)
    out = report.of(ident)
    assert out is not None and out.status == "failed" and "spam" in out.message
    assert [e.id for e in q.failed()] == [ident]


def test_451_after_final_dot_stays_queued(tmp_path: Path) -> None:
    with fake_smtp(final_reply="451 4.3.0 Temporary lookup failure") as srv:
        q, report, ident = run(tmp_path, srv.port)
    assert report.of(ident).status == "queued"  # type: ignore[union-attr]
    assert [e.id for e in q.entries()] == [ident]


def test_connection_dropped_during_data_stays_queued(tmp_path: Path) -> None:
    # Larger than the socket buffers, so the drop cuts the message itself (before its final
    # dot): the server cannot have taken it, and it is simply tried again.
    big = MESSAGE + (b"x" * 999 + b"\n") * 8000
    acc_port = 0
    with fake_smtp(drop_during_data=True) as srv:
        acc_port = srv.port
        acc = account(acc_port)
        q = Queue.for_account(tmp_path, acc.name)
        ident = queue_one(q, acc, data=big)
        report = flush(acc, q, opener(acc_port))
    out = report.of(ident)
    assert out is not None and out.status == "queued" and "connection lost" in out.message
    assert "before the message's final dot" in out.message
    [entry] = q.entries()
    assert q.read(entry) == big and entry.hold is None


@pytest.mark.parametrize("fault", ["drop_after_final_dot", "stall_after_data"])
def test_connection_lost_after_final_dot_is_held_as_uncertain_not_resent(
    tmp_path: Path, fault: str
) -> None:
    with fake_smtp(**{fault: 1 if fault == "drop_after_final_dot" else True}) as srv:
        acc = account(srv.port)
        q = Queue.for_account(tmp_path, acc.name)
        ident = queue_one(q, acc)
        report = flush(acc, q, opener(srv.port, timeout=1))
        out = report.of(ident)
        assert out is not None and out.status == "uncertain", out
        assert "after the message's final dot" in out.message
        assert f"tmail flush --resend {ident}" in out.message
        [entry] = q.entries()
        assert entry.hold == "uncertain" and q.read(entry) == MESSAGE
        # Neither the next due flush nor a forced one sends it again by itself.
        for force in (False, True):
            again = flush(acc, q, opener(srv.port, timeout=1), force=force)
            assert again.of(ident).status == "uncertain"  # type: ignore[union-attr]
        assert srv.connections == 1 and srv.received == []


def test_resend_uncertain_account_option_sends_it_again_by_itself(tmp_path: Path) -> None:
    with fake_smtp(drop_after_final_dot=1) as srv:
        acc = account(srv.port, resend_uncertain=True)
        q = Queue.for_account(tmp_path, acc.name)
        ident = queue_one(q, acc)
        first = flush(acc, q, opener(srv.port))
        assert first.of(ident).status == "queued"  # type: ignore[union-attr]
        second = flush(acc, q, opener(srv.port), force=True)
    assert second.of(ident).status == "delivered"  # type: ignore[union-attr]
    assert len(srv.dropped) == 1 and len(srv.received) == 1


def test_one_connection_for_all_queued_messages(tmp_path: Path) -> None:
    with fake_smtp() as srv:
        acc = account(srv.port)
        q = Queue.for_account(tmp_path, acc.name)
        ids = [queue_one(q, acc) for _ in range(5)]
        report = flush(acc, q, opener(srv.port))
    assert [report.of(i).status for i in ids] == ["delivered"] * 5  # type: ignore[union-attr]
    assert srv.connections == 1 and len(srv.received) == 5


def test_pipelining_sends_mail_and_rcpts_together_with_dsn(tmp_path: Path) -> None:
    from tmail.protocols.smtp import Dsn

    with fake_smtp() as srv:
        acc = account(srv.port)
        q = Queue.for_account(tmp_path, acc.name)
        e = enqueue(
            q,
            account=acc,
            data=MESSAGE,
            sender="a@example.test",
            recipients=("b@example.test", "c@example.test"),
            subject="s",
            message_id="<x@y>",
            dsn=Dsn(notify=("success", "failure"), envid="id 1+2"),
        )
        flush(acc, q, opener(srv.port))
    got = srv.received[0]
    assert "RET=HDRS" in got.mail_line and "ENVID=id+201+2B2" in got.mail_line
    assert got.rcpt_lines == [
        "RCPT TO:<b@example.test> NOTIFY=SUCCESS,FAILURE",
        "RCPT TO:<c@example.test> NOTIFY=SUCCESS,FAILURE",
    ]
    assert e.id


def test_rate_limit_per_hour_holds_the_rest_with_a_time(tmp_path: Path) -> None:
    with fake_smtp() as srv:
        acc = account(srv.port, limits=SendLimits(per_hour=2))
        q = Queue.for_account(tmp_path, acc.name)
        ids = [queue_one(q, acc) for _ in range(3)]
        report = flush(acc, q, opener(srv.port))
    statuses = [report.of(i).status for i in ids]  # type: ignore[union-attr]
    assert statuses == ["delivered", "delivered", "waiting"]
    assert "waits until" in report.of(ids[2]).message  # type: ignore[union-attr]
    [entry] = q.entries()
    assert entry.waiting_until is not None and entry.waiting_until > entry.created + 3500


def test_given_up_after_max_queue_age(tmp_path: Path) -> None:
    with fake_smtp(greeting="421 4.3.2 busy") as srv:
        acc = account(srv.port, max_queue_age=100.0)
        q = Queue.for_account(tmp_path, acc.name)
        ident = queue_one(q, acc)
        # The first retry (60 s later) still fits in 100 s; the second (5 min) would not.
        first = flush(acc, q, opener(srv.port), force=True)
        report = flush(acc, q, opener(srv.port), force=True)
    assert first.of(ident).status == "queued"  # type: ignore[union-attr]
    out = report.of(ident)
    assert out is not None and out.status == "failed" and "gave up" in out.message
    assert [e.id for e in q.failed()] == [ident]


def test_corrupt_entry_is_moved_aside_with_a_warning(tmp_path: Path) -> None:
    with fake_smtp() as srv:
        acc = account(srv.port)
        q = Queue.for_account(tmp_path, acc.name)
        good = queue_one(q, acc)
        bad = queue_one(q, acc)
        (q.root / "envelopes" / f"{bad}.json").write_text("{not json")
        report = flush(acc, q, opener(srv.port))
    assert report.of(good).status == "delivered"  # type: ignore[union-attr]
    assert any(bad in w and "moved aside" in w for w in report.warnings)
    assert (q.root / ".corrupt" / bad).exists()


def test_starttls_not_offered_sends_nothing_and_stays_queued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tmail.outbox.service import smtp_opener

    monkeypatch.setenv("TMAIL_FAKE_PW", "pw")
    with fake_smtp(extensions=("PIPELINING", "SIZE 1000000", "AUTH PLAIN")) as srv:
        out = ServerSettings(
            "smtp", "127.0.0.1", srv.port, security="starttls", username="a",
            password_env="TMAIL_FAKE_PW", timeout=5,
        )  # fmt: skip
        acc = Account("fake", "a@example.test", ServerSettings("imap", "127.0.0.1", 1), out)
        q = Queue.for_account(tmp_path, acc.name)
        ident = queue_one(q, acc)
        report = flush(acc, q, smtp_opener(acc))
    outcome = report.of(ident)
    assert outcome is not None and outcome.status == "queued"
    assert "STARTTLS" in outcome.message
    assert not any(c.upper().startswith(("AUTH", "MAIL")) for c in srv.commands)
    [entry] = q.entries()
    assert entry.last_error is not None and "STARTTLS" in entry.last_error


def test_auth_refused_is_held_with_the_reason_and_not_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tmail.outbox.service import smtp_opener

    monkeypatch.setenv("TMAIL_FAKE_PW", "wrong")
    with fake_smtp(auth_reply="535 5.7.8 Error: authentication failed") as srv:
        out = ServerSettings(
            "smtp", "127.0.0.1", srv.port, security="none", username="a",
            password_env="TMAIL_FAKE_PW", allow_plaintext_auth=True, timeout=5,
        )  # fmt: skip
        acc = Account("fake", "a@example.test", ServerSettings("imap", "127.0.0.1", 1), out)
        q = Queue.for_account(tmp_path, acc.name)
        ident = queue_one(q, acc)
        report = flush(acc, q, smtp_opener(acc))
        again = flush(acc, q, smtp_opener(acc), force=True)
        logins = srv.connections
        # A later login that works (a new message, the password fixed) lets it go again.
        srv.script.auth_reply = "235 2.7.0 Authentication successful"
        other = queue_one(q, acc)
        flush(acc, q, smtp_opener(acc), only=[other])
        last = flush(acc, q, smtp_opener(acc))
    outcome = report.of(ident)
    assert outcome is not None and outcome.status == "held"
    assert "535" in outcome.message and f"tmail flush --resend {ident}" in outcome.message
    assert not any(c.upper().startswith("MAIL") for c in srv.commands[:3])
    assert again.of(ident).status == "held" and logins == 1  # type: ignore[union-attr]
    assert last.of(ident).status == "delivered"  # type: ignore[union-attr]
    assert [r.recipients for r in srv.received] == [["b@example.test"]] * 2


def test_without_pipelining_one_command_at_a_time(tmp_path: Path) -> None:
    with fake_smtp(extensions=("SIZE 1000000",), rcpt={"x@example.test": "550 5.1.1 no"}) as srv:
        _q, report, ident = run(tmp_path, srv.port, ("b@example.test", "x@example.test"))
    assert report.of(ident).status == "partial"  # type: ignore[union-attr]
    assert srv.received[0].recipients == ["b@example.test"]
    assert srv.received[0].data == MESSAGE.replace(b"\n", b"\r\n")


def test_pop3_account_keeps_the_sent_copy_locally_with_bcc(tmp_path: Path) -> None:
    from tmail.core.models import Flag
    from tmail.outbox.service import flush_account
    from tmail.store.store import Store

    with fake_smtp() as srv:
        out = ServerSettings("smtp", "127.0.0.1", srv.port, security="none")
        inc = ServerSettings("pop3", "127.0.0.1", 1)
        acc = Account("popper", "a@example.test", inc, out)
        q = Queue.for_account(tmp_path, acc.name)
        e = enqueue(
            q,
            account=acc,
            data=MESSAGE,
            sender="a@example.test",
            recipients=("b@example.test", "hidden@example.test"),
            bcc=("hidden@example.test",),
            subject="hi",
            message_id="<1@example.test>",
        )
        report = flush_account(tmp_path, acc, opener=opener(srv.port))
    assert report.of(e.id).status == "delivered"  # type: ignore[union-attr]
    assert b"hidden" not in srv.received[0].data
    with Store.open(tmp_path) as store:
        [row] = store.list_messages("popper", "Sent")
        raw = store.read_raw(row.id)
        assert Flag.SEEN in row.flags
    assert raw.startswith(b"Bcc: hidden@example.test\n") and raw.endswith(MESSAGE)


def test_server_size_becomes_the_default_message_limit(tmp_path: Path) -> None:
    from tmail.core.errors import MessageError
    from tmail.core.models import Address
    from tmail.mime.compose import Draft, Limits, compose, message_size_limit

    with fake_smtp(extensions=("PIPELINING", "SIZE 2000")) as srv:
        q, report, ident = run(tmp_path, srv.port)
    assert report.of(ident).status == "delivered"  # type: ignore[union-attr]
    assert q.server_size() == 2000
    big = tmp_path / "big.bin"
    big.write_bytes(b"z" * 3000)
    limit = message_size_limit(None, q.server_size())
    with pytest.raises(MessageError, match=r"big\.bin.*limit 2\.0 KB"):
        compose(
            Draft(from_=Address("", "a@example.test"), to=("b@example.test",), attachments=(big,)),
            Limits(max_message_size=limit),
        )
    assert message_size_limit(10_000, q.server_size()) == 10_000  # the account's own wins


def test_the_readers_sync_retries_due_entries_only(tmp_path: Path) -> None:
    from dataclasses import replace

    from tmail.config.model import Config
    from tmail.runtime.backend import MailBackend
    from tmail.store.store import Store

    with fake_smtp() as srv:
        acc = account(srv.port)
        config = Config(path=None, data_dir=tmp_path, poll_interval=300, accounts={acc.name: acc})
        q = Queue.for_account(tmp_path, acc.name)
        due = queue_one(q, acc)
        later = queue_one(q, acc)
        [_, entry] = q.entries()
        q.update(replace(entry, next_try=time.time() + 3600))  # backing off after a 4xx
        with Store.open(tmp_path) as store:
            MailBackend(config, store)._flush_due(acc)
            [sent_copy] = store.list_messages(acc.name, "Sent")
    assert len(srv.received) == 1
    assert [e.id for e in q.entries()] == [later]
    assert due != later and sent_copy.subject == "hi"
