"""Connection faults no real server gives on demand, each from a tiny scripted server."""

from __future__ import annotations

import base64
import time

import pytest

from tests.support.faultservers import scripted
from tmail.config.model import Account, ServerSettings
from tmail.core.errors import AuthFailed, ProtocolError, TLSFailure
from tmail.protocols.connect import MAX_POP3_LINE, open_imap, open_pop3, open_smtp


def _account(protocol: str, port: int, **kw: object) -> Account:
    server = ServerSettings(
        protocol,  # type: ignore[arg-type]
        "127.0.0.1",
        port,
        **{  # type: ignore[arg-type]
            "security": "none",
            "username": "alice",
            "password": "hunter2",
            "allow_plaintext_auth": True,
            "timeout": 5,
            **kw,
        },
    )
    if protocol == "smtp":
        return Account("acct", "alice@x.test", ServerSettings("imap", "h", 1), server)
    return Account("acct", "alice@x.test", server)


def test_huge_imap_literal_is_refused_without_reading_it() -> None:
    def respond(line: bytes) -> list[bytes]:
        tag = line.split(b" ")[0]
        if b"CAPABILITY" in line.upper():
            return [b"* CAPABILITY IMAP4rev1 AUTH=PLAIN", tag + b" OK done"]
        if b"LOGIN" in line.upper():
            return [b"* OK {999999999999}"]  # gh-119511: imaplib would try to read it all
        return [tag + b" OK done"]

    with scripted([b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] hi"], respond) as srv:
        started = time.monotonic()
        with pytest.raises(ProtocolError, match="999999999999-byte literal"):
            open_imap(_account("imap", srv.port))
    assert time.monotonic() - started < 5


def test_preauth_greeting_with_starttls_is_refused() -> None:
    def respond(line: bytes) -> list[bytes]:
        tag = line.split(b" ")[0]
        return [b"* CAPABILITY IMAP4rev1 STARTTLS", tag + b" OK done"]

    greeting = [b"* PREAUTH welcome"]
    with scripted(greeting, respond) as srv, pytest.raises(TLSFailure, match="PREAUTH"):
        open_imap(_account("imap", srv.port, security="starttls"))
    assert all(b"CAPABILITY" in line for line in srv.lines)


def test_pop3_long_lines_are_read_up_to_the_bound() -> None:
    long_value = b"X" * 5000  # poplib alone refuses lines over 2048 bytes

    def respond(line: bytes) -> list[bytes]:
        if line == b"CAPA":
            return [b"+OK", b"USER", b"X-LONG " + long_value, b"."]
        if line == b"STAT":
            return [b"+OK 1 " + b"9" * (MAX_POP3_LINE + 10)]
        return [b"+OK"]

    with scripted([b"+OK hi"], respond) as srv:
        pop = open_pop3(_account("pop3", srv.port))
        assert pop.capa()["X-LONG"] == [long_value.decode()]
        try:
            with pytest.raises(Exception, match="line longer than"):
                pop.stat()
        finally:
            pop.close()


@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
def test_xoauth2_sends_the_token_in_a_sasl_payload(protocol: str) -> None:
    seen: list[bytes] = []
    tags: list[bytes] = []

    def respond(line: bytes) -> list[bytes]:
        words = line.split(b" ")
        if protocol == "imap":
            tag = words[0]
            if len(words) > 1:
                tags.append(tag)
            if len(words) > 1 and words[1].upper() == b"CAPABILITY":
                return [b"* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR", tag + b" OK done"]
            if len(words) > 2 and words[1].upper() == b"AUTHENTICATE":
                if len(words) > 3:
                    seen.append(words[3])
                    return [tag + b" OK done"]
                return [b"+ "]
            if len(words) == 1:  # the payload after a "+ " continuation
                seen.append(words[0])
                return [tags[-1] + b" OK done"]
            return [tag + b" OK done"]
        if protocol == "pop3":
            if line == b"CAPA":
                return [b"+OK", b"SASL XOAUTH2", b"USER", b"."]
            if words[0] == b"AUTH":
                seen.append(words[2])
                return [b"+OK welcome"]
            return [b"+OK"]
        if words[0].upper() == b"EHLO":
            return [b"250-fake", b"250 AUTH XOAUTH2"]
        if words[0] == b"AUTH":
            seen.append(words[2])
            return [b"235 2.7.0 ok"]
        return [b"250 ok"]

    greeting = {
        "imap": [b"* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] hi"],
        "pop3": [b"+OK hi"],
        "smtp": [b"220 fake ESMTP"],
    }[protocol]
    with scripted(greeting, respond) as srv:
        account = _account(
            protocol, srv.port, auth="xoauth2", oauth2_token_command="echo tok-123", password=None
        )
        lines: list[str] = []
        opener = {"imap": open_imap, "pop3": open_pop3, "smtp": open_smtp}[protocol]
        conn = opener(account, transcript=lambda d, t: lines.append(t))
        if protocol == "imap":
            conn.shutdown()
        else:
            conn.close()
    assert seen, srv.lines
    assert base64.b64decode(seen[0]) == b"user=alice\x01auth=Bearer tok-123\x01\x01"
    assert not any("tok-123" in t or seen[0].decode() in t for t in lines)


def test_smtp_auth_refused_is_explained() -> None:
    def respond(line: bytes) -> list[bytes]:
        if line.upper().startswith(b"EHLO"):
            return [b"250-fake", b"250 AUTH PLAIN"]
        if line.startswith(b"AUTH"):
            return [b"535 5.7.8 Username and Password not accepted"]
        return [b"250 ok"]

    with scripted([b"220 fake ESMTP"], respond) as srv, pytest.raises(AuthFailed) as info:
        open_smtp(_account("smtp", srv.port))
    assert "535 5.7.8 Username and Password not accepted" in info.value.one_line()
    assert b"hunter2" not in b"".join(srv.lines)  # base64 only, never the clear text


def test_check_probe_refused_is_explained_in_words(tmp_path: object) -> None:
    from tmail.protocols.diagnose import check_server

    def respond(line: bytes) -> list[bytes] | None:
        cmd = line.split(b" ")[0].upper()
        if cmd == b"EHLO":
            return [b"250-fake", b"250-ENHANCEDSTATUSCODES", b"250 SIZE 1000"]
        if cmd == b"RCPT":
            return [b"550 5.1.1 <alice@x.test>: Recipient address rejected: User unknown"]
        if cmd == b"QUIT":
            return None
        return [b"250 2.0.0 Ok"]

    with scripted([b"220 fake ESMTP"], respond) as srv:
        account = _account("smtp", srv.port, username="")
        result = check_server(account, "outgoing")
    assert not result.ok
    probe = next(s for s in result.steps if s.name == "probe")
    assert not probe.ok
    text = " ".join(probe.extra)
    assert "550 5.1.1 mailbox does not exist (permanent failure" in text
    assert "RSET -> 250" in text
    assert not any(line.upper().startswith(b"DATA") for line in srv.lines)  # nothing sent
