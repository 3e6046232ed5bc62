"""The pager's "Auth:" line (issue 18 item 3): the own server's verdicts, nothing from others."""

from __future__ import annotations

from tests.tui.conftest import T0, Harness, message
from tmail.ui.source import MemorySource, Row

OURS = "mx.demo.test"


def one(extra: str, sender: str = "Bank <news@bank.test>") -> Harness:
    src = MemorySource()
    raw = message("a@bank.test", sender, "Statement", "Your statement.\n", extra=extra)
    src.messages.append(
        (Row(1, "demo", "INBOX", T0, "Bank", "Statement", frozenset(), len(raw)), raw)
    )
    h = Harness(src)
    h.app.authserv_ids = lambda account: (OURS,) if account == "demo" else ()
    return h


def test_the_pager_shows_the_own_servers_verdicts_in_one_line() -> None:
    h = one(
        f"Authentication-Results: {OURS}; dkim=pass header.d=bank.test;"
        " spf=fail smtp.mailfrom=bank.test; dmarc=fail header.from=bank.test\n"
    )
    h.press("enter")
    screen = h.screen()
    assert (
        "Auth: DKIM pass bank.test, SPF fail bank.test, DMARC fail bank.test "
        "(checked by mx.demo.test)" in screen
    )
    # it stays when the message is shown as another charset
    h.app.press("C", *"koi8-r", "enter")
    assert "Auth: DKIM pass bank.test" in h.screen()


def test_the_pager_ignores_a_verdict_from_an_unknown_server() -> None:
    h = one("Authentication-Results: mx.evil.test; dkim=pass header.d=bank.test\n")
    h.press("enter")
    screen = h.screen()
    assert "Statement" in screen and "Your statement." in screen
    assert "Auth:" not in screen and "mx.evil.test" not in screen


def test_the_pager_flags_a_name_that_shows_another_address() -> None:
    h = one("", sender='"news@bank.test" <collect@evil.test>')
    h.press("enter")
    assert "Warning: the sender's name shows news@bank.test but the mail is from" in h.screen()
