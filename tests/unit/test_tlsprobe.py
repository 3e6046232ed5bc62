"""The pure pieces of tmail.protocols.tlsprobe: what a TLS answer looks like, and the ClientHello
sent to ask a silent port."""

from __future__ import annotations

import pytest

from tmail.protocols.tlsprobe import client_hello, looks_like_tls


@pytest.mark.parametrize(
    "data",
    [
        b"\x16\x03\x03\x00\x7a",  # handshake record (ServerHello), TLS 1.2 framing
        b"\x16\x03\x01",  # handshake record, TLS 1.0 framing
        b"\x15\x03\x03\x00\x02",  # alert record (a server refusing what it was sent)
    ],
)
def test_tls_records_are_recognised(data: bytes) -> None:
    assert looks_like_tls(data)


@pytest.mark.parametrize(
    "data",
    [b"* OK IMAP4rev1 ready", b"+OK Dovecot ready.", b"220 mx.example.test ESMTP", b"\x16", b""],
)
def test_greetings_in_clear_are_not_tls(data: bytes) -> None:
    assert not looks_like_tls(data)


@pytest.mark.parametrize("host", ["mail.example.org", "127.0.0.1", "::1"])
def test_client_hello_is_a_tls_handshake_record(host: str) -> None:
    hello = client_hello(host)
    assert hello[:2] == b"\x16\x03" and hello[5] == 1  # handshake, ClientHello
    assert (host.encode() in hello) == (host == "mail.example.org")  # SNI only for names
