"""The OAuth2 mechanism choice, shared by IMAP, POP3 and SMTP: OAUTHBEARER where a server
offers both, a clear refusal (before the token is fetched or sent) where it offers neither."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from tests.integration.test_connect_faults import _account
from tests.support.faultservers import scripted
from tmail.core.errors import AuthFailed
from tmail.protocols.connect import open_imap, open_pop3, open_smtp

OPENERS = {"imap": open_imap, "pop3": open_pop3, "smtp": open_smtp}
GREETING = {
    "imap": [b"* OK hi"],
    "pop3": [b"+OK hi"],
    "smtp": [b"220 fake ESMTP"],
}


def _server(
    protocol: str, mechs: bytes, seen: list[tuple[bytes, bytes]]
) -> Callable[[bytes], list[bytes]]:
    """A server offering ``mechs``; ``seen`` gets each AUTH's (mechanism, payload)."""
    tags: list[bytes] = []

    def respond(line: bytes) -> list[bytes]:
        words = line.split(b" ")
        if protocol == "imap":
            tag = words[0]
            if len(words) > 1:
                tags.append(tag)
            if len(words) > 1 and words[1].upper() == b"CAPABILITY":
                caps = b" ".join(b"AUTH=" + m for m in mechs.split())
                return [b"* CAPABILITY IMAP4rev1 SASL-IR " + caps, tag + b" OK done"]
            if len(words) > 2 and words[1].upper() == b"AUTHENTICATE":
                if len(words) > 3:
                    seen.append((words[2], words[3]))
                    return [tag + b" OK done"]
                seen.append((words[2], b""))
                return [b"+ "]
            if len(words) == 1 and seen:  # the payload after a "+ " continuation
                seen[-1] = (seen[-1][0], words[0])
                return [tags[-1] + b" OK done"]
            return [tag + b" OK done"]
        if protocol == "pop3":
            if line == b"CAPA":
                return [b"+OK", b"SASL " + mechs, b"USER", b"."]
            if words[0] == b"AUTH":
                seen.append((words[1], words[2]))
                return [b"+OK welcome"]
            return [b"+OK"]
        if words[0].upper() == b"EHLO":
            return [b"250-fake", b"250 AUTH " + mechs]
        if words[0] == b"AUTH":
            seen.append((words[1], words[2]))
            return [b"235 2.7.0 ok"]
        return [b"250 ok"]

    return respond


@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
def test_oauthbearer_is_chosen_where_both_are_offered(protocol: str) -> None:
    seen: list[tuple[bytes, bytes]] = []
    respond = _server(protocol, b"XOAUTH2 OAUTHBEARER", seen)
    with scripted(GREETING[protocol], respond) as srv:
        account = _account(
            protocol, srv.port, auth="xoauth2", oauth2_token_command="echo tok-9", password=None
        )
        conn = OPENERS[protocol](account)
        if protocol == "imap":
            conn.shutdown()
        else:
            conn.close()
    assert seen, srv.lines
    mech, payload = seen[0]
    assert mech.upper() == b"OAUTHBEARER"
    decoded = base64.b64decode(payload)
    assert decoded.startswith(b"n,a=alice,") and b"auth=Bearer tok-9\x01\x01" in decoded


@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
def test_neither_oauth_mechanism_offered_is_refused_before_any_auth(protocol: str) -> None:
    seen: list[tuple[bytes, bytes]] = []
    respond = _server(protocol, b"PLAIN LOGIN", seen)
    with scripted(GREETING[protocol], respond) as srv, pytest.raises(AuthFailed) as info:
        account = _account(
            protocol, srv.port, auth="xoauth2", oauth2_token_command="echo tok-9", password=None
        )
        OPENERS[protocol](account)
    role = "outgoing" if protocol == "smtp" else "incoming"
    assert "the server offers neither OAUTHBEARER nor XOAUTH2" in info.value.one_line()
    assert f'use {role}.auth = "password"' in info.value.one_line()
    assert not seen  # no AUTH sent
