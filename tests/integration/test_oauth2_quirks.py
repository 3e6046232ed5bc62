"""Provider quirks of OAuth2 login that the real Dovecot does not have, each from a scripted
server named after it."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator

import pytest

from tests.support.faultservers import Recorder, scripted
from tmail.config.model import Account, ServerSettings
from tmail.core.errors import AuthFailed
from tmail.protocols.connect import open_imap


@contextlib.contextmanager
def imap_taking_xoauth2_it_does_not_list() -> Iterator[tuple[Recorder, list[bytes]]]:
    """Yandex: CAPABILITY lists no AUTH=XOAUTH2, yet AUTHENTICATE XOAUTH2 works."""
    payloads: list[bytes] = []
    tags: list[bytes] = []

    def respond(line: bytes) -> list[bytes]:
        words = line.split(b" ")
        if len(words) == 1:  # the SASL payload after "+ "
            payloads.append(words[0])
            return [tags[-1] + b" OK AUTHENTICATE completed"]
        tag, cmd = words[0], words[1].upper()
        tags.append(tag)
        if cmd == b"CAPABILITY":
            return [b"* CAPABILITY IMAP4rev1 AUTH=PLAIN", tag + b" OK done"]
        if cmd == b"AUTHENTICATE" and words[2].upper() == b"XOAUTH2":
            return [b"+ "]
        return [tag + b" OK done"]

    with scripted([b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready"], respond) as srv:
        yield srv, payloads


def _account(port: int, provider: str | None) -> Account:
    server = ServerSettings(
        "imap", "127.0.0.1", port, security="none", allow_plaintext_auth=True,
        username="ivan@yandex.ru", auth="xoauth2", oauth2_token_command="echo tok-1", timeout=5,
    )  # fmt: skip
    return Account("ya", "ivan@yandex.ru", server, provider=provider)


def test_yandex_gets_xoauth2_although_its_capability_does_not_list_it() -> None:
    with imap_taking_xoauth2_it_does_not_list() as (_srv, payloads):
        open_imap(_account(_srv.port, "yandex")).shutdown()
    assert base64.b64decode(payloads[0]) == b"user=ivan@yandex.ru\x01auth=Bearer tok-1\x01\x01"


def test_another_server_not_listing_it_is_not_sent_the_token() -> None:
    with imap_taking_xoauth2_it_does_not_list() as (srv, payloads), pytest.raises(AuthFailed) as e:
        open_imap(_account(srv.port, None))
    assert "offers neither OAUTHBEARER nor XOAUTH2" in e.value.one_line()
    assert payloads == [] and not any(b"AUTHENTICATE" in line for line in srv.lines)
