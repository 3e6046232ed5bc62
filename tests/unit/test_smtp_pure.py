"""Pure pieces of the SMTP layer: wire line ends, xtext, reply parsing."""

from __future__ import annotations

from tmail.protocols.smtp import Reply, _xtext, to_wire


def test_to_wire_makes_every_line_end_crlf() -> None:
    assert to_wire(b"a\nb\r\nc\n") == b"a\r\nb\r\nc\r\n"


def test_xtext_escapes_plus_equals_and_non_printables() -> None:
    assert _xtext("id 1+2=3") == "id+201+2B2+3D3"
    assert _xtext("plain-id.42") == "plain-id.42"


def test_reply_enhanced_status_and_permanence() -> None:
    r = Reply(550, "5.1.1 <x@y>: Recipient address rejected")
    assert r.enhanced == "5.1.1" and r.permanent
    assert Reply(451, "greylisted").enhanced is None and not Reply(451, "x").permanent
