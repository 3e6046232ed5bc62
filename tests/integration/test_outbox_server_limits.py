"""Limits learned from the server's refusals (issue 15, item 4): a rate-limit refusal holds the
account's whole queue until the window is likely over, says so (flush, ``tmail queue``), and the
queue goes again by itself after. The refusals come from the small fake SMTP server: a real
provider's quota cannot be reached on demand, and the mail stack's Postfix is shared.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.integration.test_outbox_faults import account, opener, queue_one
from tests.integration.test_send_cli import run, write_config
from tests.support.fakesmtp import fake_smtp
from tests.support.mailstack import MailStack
from tmail.cli.commands.queue import describe
from tmail.config.model import SendLimits
from tmail.outbox.flush import flush
from tmail.outbox.queue import Queue

pytestmark = pytest.mark.stack

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


# ---------------------------------------------- the provider's most recipients in one message
def _three_users(mailstack: MailStack) -> list[str]:
    names = ["r" + uuid.uuid4().hex[:9] for _ in range(3)]
    for n in names:
        mailstack.add_user(n, "pw")
    return names


def test_more_recipients_than_the_provider_takes_is_refused_before_queueing(
    tmp_path: Path, mail_user: MailUser
) -> None:
    cfg = write_config(tmp_path, mail_user, extra="limits = { per_message = 2 }")
    res = run(cfg, mail_user, "send", "--subject", "all of you",
              "--to", "a@example.test", "--to", "b@example.test", "--cc", "c@example.test",
              stdin=b"hello\n")  # fmt: skip
    assert res.returncode != 0
    err = res.stderr.decode()
    assert "3 recipients, but the server takes at most 2 in one message" in err
    assert "split_recipients = true" in err and "nothing was queued" in err
    assert err.count("\n") == 1
    queue = run(cfg, mail_user, "queue")
    assert "all of you" not in queue.stdout.decode()


def test_split_recipients_sends_the_same_message_in_batches(
    tmp_path: Path, mail_user: MailUser, mailstack: MailStack
) -> None:
    names = _three_users(mailstack)
    cfg = write_config(
        tmp_path, mail_user, extra="limits = { per_message = 2 }\nsplit_recipients = true"
    )
    to = [arg for n in names for arg in ("--to", mailstack.address(n))]
    res = run(cfg, mail_user, "send", "--subject", "in batches", *to, stdin=b"hello\n")
    assert res.returncode == 0, res.stderr.decode()
    for n in names:
        assert mailstack.wait_for(n, 1) == 1
        [raw] = mailstack.stored_messages(n)
        # Everyone got the same message: all three in To:, whatever batch carried it.
        assert all(mailstack.address(m).encode() in raw for m in names)


def test_split_batches_are_separate_transactions(tmp_path: Path) -> None:
    with fake_smtp() as srv:
        acc = account(srv.port, limits=SendLimits(per_message=2), split_recipients=True)
        q = Queue.for_account(tmp_path, acc.name)
        rcpts = tuple(f"{c}@example.test" for c in "abcde")
        ident = queue_one(q, acc, rcpts)
        report = flush(acc, q, opener(srv.port))
    assert report.of(ident) is not None and report.of(ident).status == "delivered"  # type: ignore[union-attr]
    assert [r.recipients for r in srv.received] == [
        ["a@example.test", "b@example.test"],
        ["c@example.test", "d@example.test"],
        ["e@example.test"],
    ]
    assert len({r.data for r in srv.received}) == 1


def test_where_each_recipient_counts_a_message_to_three_uses_three_of_the_hour(
    tmp_path: Path,
) -> None:
    with fake_smtp() as srv:
        acc = account(srv.port, limits=SendLimits(per_hour=4, count_recipients=True))
        q = Queue.for_account(tmp_path, acc.name)
        three = queue_one(q, acc, ("a@example.test", "b@example.test", "c@example.test"))
        one = queue_one(q, acc)
        last = queue_one(q, acc)
        report = flush(acc, q, opener(srv.port))
    statuses = [report.of(i).status for i in (three, one, last)]  # type: ignore[union-attr]
    assert statuses == ["delivered", "delivered", "waiting"]
    assert len(q.sent_times(time.time())) == 4  # three for the first message, one for the next


def test_the_reader_shows_the_servers_limit_and_until_when(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.integration.test_reader_outbox import Reader, config_for, draft
    from tmail.config import load_config
    from tmail.runtime.backend import MailBackend
    from tmail.store.store import Store

    monkeypatch.setenv("TMAIL_FAKE_PW", "pw")
    with fake_smtp(mail_reply=QUOTA) as srv:
        config = load_config(config_for(tmp_path, srv.port))
        with Store.open(config.data_dir) as store:
            backend = MailBackend(config, store)
            assert backend.send("acct", draft("Over quota")).status == "queued"
            reader = Reader(backend)
            reader.app.press("@")
            screen = reader.screen()
    [entry] = Queue.for_account(config.data_dir, "acct").entries()
    assert entry.waiting_until is not None
    # A day on: the weekday says it is not today.
    until = time.strftime("%a %H:%M", time.localtime(entry.waiting_until))
    assert "waiting" in screen and "Over quota" in screen
    assert f"next try: {until}" in screen
    assert "the server's daily sending quota: 550 5.4.5 Daily user sending quota" in screen


def test_a_send_login_refused_the_providers_way_shows_its_switches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from tmail.cli import main

    refusal = "535 5.7.0 NEOBHODIM parol prilozheniya / Application password is REQUIRED"
    monkeypatch.setenv("TMAIL_FAKE_PW", "my-account-password")
    with fake_smtp(auth_reply=refusal) as srv:
        cfg = tmp_path / "config.toml"
        cfg.write_text(f"""
[general]
data_dir = "{tmp_path / "data"}"

[accounts.mr]
email = "a@mail.ru"
provider = "mailru"
incoming.password_env = "TMAIL_FAKE_PW"
outgoing.host = "127.0.0.1"
outgoing.port = {srv.port}
outgoing.security = "none"
outgoing.allow_plaintext_auth = true
outgoing.timeout = 5
""")
        from tmail.config import load_config

        acc = load_config(cfg).account("mr")
        q = Queue.for_account(tmp_path / "data", acc.name)
        queue_one(q, acc)
        out, err = io.StringIO(), io.StringIO()
        code = main(["--config", str(cfg), "flush"], stdout=out, stderr=err)
    text = err.getvalue()
    assert code != 0 and " held: " in text and "NEOBHODIM" in text
    assert (
        "tmail: note: Mail.ru: create a password for external applications (Settings > "
        "Security > Passwords for external applications)"
    ) in text
