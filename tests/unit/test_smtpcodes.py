"""SMTP replies explained: the first digit and the RFC 3463 enhanced code in words."""

from __future__ import annotations

import pytest

from tmail.protocols.connect import _Redactor
from tmail.protocols.smtpcodes import explain, explain_enhanced


@pytest.mark.parametrize(
    ("code", "text", "enhanced", "words", "kind"),
    [
        (550, "5.1.1 <bob@x.test>: Recipient address rejected", "5.1.1",
         "mailbox does not exist", "permanent"),
        (554, "5.7.1 Relay access denied", "5.7.1", "not authorised", "permanent"),
        (452, "4.2.2 Mailbox full", "4.2.2", "mailbox full", "temporary"),
        (535, "5.7.8 Error: authentication failed", "5.7.8",
         "authentication credentials invalid", "permanent"),
        (250, "2.0.0 Ok: queued as 123", "2.0.0", "other undefined status", "success"),
        (354, "End data with <CR><LF>.<CR><LF>", None, "start mail input", "more input"),
        (421, "mx closing connection", None, "service not available", "temporary"),
        (451, "4.9.9 odd", "4.9.9", "unknown subject (detail 9)", "temporary"),
    ],
)  # fmt: skip
def test_replies_are_explained(
    code: int, text: str, enhanced: str | None, words: str, kind: str
) -> None:
    r = explain(code, text)
    assert r.enhanced == enhanced
    assert words in r.meaning
    assert kind in r.kind
    assert r.temporary == (code // 100 == 4) and r.permanent == (code // 100 == 5)
    line = r.explain()
    assert line.startswith(str(code)) and words in line


def test_enhanced_code_of_another_class_is_not_trusted() -> None:
    # RFC 3463: the enhanced class must match the reply's first digit.
    r = explain(550, "2.1.5 looks fine")
    assert r.enhanced is None and "mailbox unavailable" in r.meaning
    assert explain_enhanced("x") == "not an enhanced status code"


def test_multiline_reply_keeps_all_text() -> None:
    r = explain(550, b"5.7.1 first line\n5.7.1 second line")
    assert r.enhanced == "5.7.1" and r.text == "first line second line"


def test_transcript_redacts_passwords_and_sasl_payloads() -> None:
    seen: list[str] = []
    imap = _Redactor(lambda d, t: seen.append(f"{d} {t}"), ["s3cret"], "imap")
    imap.client(b'A1 LOGIN "alice" "s3cret"\r\n')
    imap.client(b"A2 AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldA==\r\n")
    imap.server(b"A2 OK done\r\n")
    imap.auth_over()
    imap.client(b"A3 SELECT INBOX\r\n")
    smtp = _Redactor(lambda d, t: seen.append(f"{d} {t}"), [], "smtp")
    smtp.client(b"AUTH LOGIN YWxpY2U=\r\n")
    smtp.server(b"334 UGFzc3dvcmQ6")
    smtp.client(b"czNjcmV0\r\n")
    pop = _Redactor(lambda d, t: seen.append(f"{d} {t}"), [], "pop3")
    pop.client(b"PASS s3cret\r\n")
    text = "\n".join(seen)
    assert "s3cret" not in text and "AGFsaWNl" not in text and "czNjcmV0" not in text
    assert 'C A1 LOGIN "alice" ***' in seen
    assert "C AUTH LOGIN ***" in seen and "C ***" in seen and "C PASS ***" in seen
    assert "C A3 SELECT INBOX" in seen
