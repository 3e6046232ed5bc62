"""The pure parts of the OAuth2 sign-in: PKCE, the authorization URL, and the lines a user gets
before any request is made."""

from __future__ import annotations

import base64
import hashlib
import urllib.parse
from collections.abc import Iterator

import pytest

from tests.support.keyrings import MemoryKeyring, using_keyring
from tmail.config.model import Account, OAuth2Settings, ServerSettings
from tmail.config.oauth2 import Endpoints, Tokens, endpoints, save_tokens
from tmail.core.errors import SecretError
from tmail.protocols import oauth2_flow


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with using_keyring(MemoryKeyring()) as kr:
        assert isinstance(kr, MemoryKeyring)
        yield kr


def _account(provider: str | None = None) -> Account:
    return Account(
        name="acct",
        email="a@example.test",
        incoming=ServerSettings("imap", "imap.example.test", 993, username="a@example.test",
                                auth="xoauth2"),
        oauth2=OAuth2Settings(
            client_id="cid", provider=provider,
            authorization_endpoint=None if provider else "https://id.example.test/auth?x=1",
            token_endpoint=None if provider else "https://id.example.test/token",
            scopes=() if provider else ("mail",),
        ),
    )  # fmt: skip


def test_pkce_is_s256_of_a_long_random_verifier() -> None:
    verifier, challenge = oauth2_flow.pkce_pair()
    assert 43 <= len(verifier) <= 128  # RFC 7636 4.1
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert oauth2_flow.pkce_pair()[0] != verifier


def test_the_authorization_url_carries_pkce_state_hint_and_the_presets_extras() -> None:
    ep: Endpoints = endpoints(_account("gmail"))
    url = oauth2_flow.authorization_url(ep, "http://127.0.0.1:5555/", "st", "ch", "me@gmail.com")
    parts = urllib.parse.urlsplit(url)
    q = dict(urllib.parse.parse_qsl(parts.query))
    assert parts.netloc == "accounts.google.com"
    assert q["response_type"] == "code" and q["client_id"] == "cid"
    assert q["redirect_uri"] == "http://127.0.0.1:5555/" and q["state"] == "st"
    assert (q["code_challenge"], q["code_challenge_method"]) == ("ch", "S256")
    assert q["scope"] == "https://mail.google.com/" and q["login_hint"] == "me@gmail.com"
    assert (q["access_type"], q["prompt"]) == ("offline", "consent")
    generic = oauth2_flow.authorization_url(
        endpoints(_account()), "http://127.0.0.1:1/", "s", "c", ""
    )
    assert generic.startswith("https://id.example.test/auth?x=1&response_type=code")
    assert "login_hint" not in generic


def test_not_signed_in_yet_says_which_command_to_run(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(SecretError) as err:
        oauth2_flow.access_token(_account())
    assert err.value.one_line() == (
        "acct: not signed in with OAuth2 yet — run 'tmail account login acct'"
    )


def test_an_expired_token_without_a_refresh_token_asks_for_a_new_sign_in(
    memory_keyring: MemoryKeyring,
) -> None:
    save_tokens("acct", Tokens("old", 1.0, None))  # a grant that came without refresh_token
    with pytest.raises(SecretError) as err:
        oauth2_flow.access_token(_account())
    line = err.value.one_line()
    assert "expired and the provider gave no refresh token" in line
    assert "tmail account login acct" in line


def test_a_fresh_stored_token_is_used_without_asking_anyone(memory_keyring: MemoryKeyring) -> None:
    import time

    save_tokens("acct", Tokens("fresh-token", time.time() + 3600, "r"))
    assert oauth2_flow.access_token(_account()) == "fresh-token"
    oauth2_flow.forget_access_token(_account())
    stored = memory_keyring.items[("tmail", "acct/oauth2")]
    assert "fresh-token" not in stored and '"refresh_token": "r"' in stored
