"""SMTP replies explained: the first digit and the RFC 3463 enhanced code in words."""

from __future__ import annotations

import pytest

from tmail.protocols.smtpcodes import explain, explain_enhanced
from tmail.protocols.transcript import Redactor


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
    imap = Redactor(lambda d, t: seen.append(f"{d} {t}"), ["s3cret"], "imap")
    imap.client(b'A1 LOGIN "alice" "s3cret"\r\n')
    imap.client(b"A2 AUTHENTICATE PLAIN AGFsaWNlAHMzY3JldA==\r\n")
    imap.server(b"A2 OK done\r\n")
    imap.auth_over()
    imap.client(b"A3 SELECT INBOX\r\n")
    smtp = Redactor(lambda d, t: seen.append(f"{d} {t}"), [], "smtp")
    smtp.client(b"AUTH LOGIN YWxpY2U=\r\n")
    smtp.server(b"334 UGFzc3dvcmQ6")
    smtp.client(b"czNjcmV0\r\n")
    pop = Redactor(lambda d, t: seen.append(f"{d} {t}"), [], "pop3")
    pop.client(b"PASS s3cret\r\n")
    text = "\n".join(seen)
    assert "s3cret" not in text and "AGFsaWNl" not in text and "czNjcmV0" not in text
    assert 'C A1 LOGIN "alice" ***' in seen
    assert "C AUTH LOGIN ***" in seen and "C ***" in seen and "C PASS ***" in seen
    assert "C A3 SELECT INBOX" in seen


def test_tls12_certificate_parser_reads_the_leaf_and_survives_garbage() -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    from tmail.protocols.connect import certificate_from_tls12

    der = b"\x30\x82\x01\x00" + b"C" * 256
    cert_list = len(der).to_bytes(3, "big") + der
    body = (len(cert_list)).to_bytes(3, "big") + cert_list
    hello = b"\x02" + (4).to_bytes(3, "big") + b"HELO"
    message = hello + b"\x0b" + len(body).to_bytes(3, "big") + body
    # Split over two records, as servers do with big certificates.
    half = len(message) // 2
    records = b"".join(
        b"\x16\x03\x03" + len(part).to_bytes(2, "big") + part
        for part in (message[:half], message[half:])
    )
    assert certificate_from_tls12(records) == der
    assert certificate_from_tls12(records[:-10]) is None  # truncated
    assert certificate_from_tls12(b"\x14\x03\x03\x00\x01\x01" + records) is None  # after CCS

    @given(st.binary(max_size=300))
    def never_raises(data: bytes) -> None:
        result = certificate_from_tls12(data)
        assert result is None or isinstance(result, bytes)

    never_raises()
