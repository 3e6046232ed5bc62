"""The [oauth2] table of an account, the provider presets and the token store (no network)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.keyrings import MemoryKeyring, using_keyring
from tmail.config import load_config
from tmail.config.model import Account
from tmail.config.oauth2 import (
    PROVIDERS,
    Tokens,
    describe,
    endpoints,
    load_tokens,
    save_tokens,
    uses_builtin,
)
from tmail.core.errors import ConfigError


def account(tmp_path: Path, text: str) -> Account:
    path = tmp_path / "config.toml"
    path.write_text(text)
    os.chmod(path, 0o600)
    return load_config(path, environ={}).account()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with using_keyring(MemoryKeyring()) as kr:
        assert isinstance(kr, MemoryKeyring)
        yield kr


def test_a_preset_account_with_only_a_client_id_signs_every_server_in_with_oauth2(
    tmp_path: Path,
) -> None:
    acc = account(
        tmp_path,
        '[accounts.w]\nemail = "me@outlook.com"\nprovider = "outlook"\n'
        'oauth2.client_id = "my-app"\n',
    )
    assert acc.outgoing is not None
    assert (acc.incoming.auth, acc.outgoing.auth) == ("xoauth2", "xoauth2")
    assert uses_builtin(acc, "incoming") and uses_builtin(acc, "outgoing")
    ep = endpoints(acc)
    assert ep.client_id == "my-app" and ep.client_secret is None
    assert ep.token_endpoint == PROVIDERS["outlook"].token_endpoint
    assert "offline_access" in ep.scopes and ep.device_authorization_endpoint


def test_mailru_smtp_stays_on_a_password_and_gmail_asks_for_a_refresh_token(
    tmp_path: Path,
) -> None:
    acc = account(
        tmp_path,
        '[accounts.m]\nemail = "me@mail.ru"\nprovider = "mailru"\noauth2.client_id = "x"\n',
    )
    assert acc.outgoing is not None
    assert (acc.incoming.auth, acc.outgoing.auth) == ("xoauth2", "password")
    gmail = endpoints(
        account(
            tmp_path,
            '[accounts.g]\nemail = "me@gmail.com"\nprovider = "gmail"\n'
            'oauth2.client_id = "x"\noauth2.client_secret = "s"\n',
        )
    )
    assert gmail.scopes == ("https://mail.google.com/",)
    assert ("access_type", "offline") in gmail.extra_params and gmail.client_secret == "s"


def test_a_token_command_stays_the_fallback(tmp_path: Path) -> None:
    acc = account(
        tmp_path,
        '[accounts.h]\nemail = "a@example.test"\nincoming.host = "imap.example.test"\n'
        'incoming.auth = "xoauth2"\nincoming.oauth2_token_command = "oama access a"\n',
    )
    assert acc.oauth2 is None and not uses_builtin(acc, "incoming")


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('oauth2.client_secret = "s"', "client_id: required"),
        ('oauth2.client_id = "x"', "authorization_endpoint: required for a provider"),
        ('oauth2.client_id = "x"\noauth2.provider = "aol"', "no OAuth2 preset for 'aol'"),
        ('oauth2.client_id = "x"\noauth2.refresh_token = "r"', "refresh_token: unknown key"),
    ],
)
def test_a_bad_oauth2_table_is_one_clear_error(tmp_path: Path, table: str, said: str) -> None:
    with pytest.raises(ConfigError) as err:
        account(
            tmp_path,
            f'[accounts.h]\nemail = "a@example.test"\nincoming.host = "imap.example.test"\n'
            f"{table}\n",
        )
    assert said in err.value.one_line()


def test_tokens_are_one_keyring_value_and_a_refresh_keeps_the_refresh_token(
    memory_keyring: MemoryKeyring,
) -> None:
    first = Tokens.from_response({"access_token": "a1", "expires_in": 3600, "refresh_token": "r1"})
    assert first.fresh()
    save_tokens("acct", first)
    assert json.loads(memory_keyring.items[("tmail", "acct/oauth2")])["refresh_token"] == "r1"
    later = Tokens.from_response({"access_token": "a2", "expires_in": "60"}, first)
    assert later.refresh_token == "r1" and not later.fresh()  # inside the refresh margin
    assert load_tokens("acct") == first
    assert load_tokens("other") is None


def test_describe_says_signed_in_until_when_and_never_a_token(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    acc = account(
        tmp_path,
        '[accounts.w]\nemail = "me@outlook.com"\nprovider = "outlook"\n'
        'oauth2.client_id = "my-app"\n',
    )
    assert "not signed in" in describe(acc) and "tmail account login w" in describe(acc)
    expires = time.time() + 3600
    save_tokens("w", Tokens("secret-access", expires, "secret-refresh"))
    text = describe(acc)
    assert text.startswith("OAuth2, signed in (access token valid until ")
    assert time.strftime("%H:%M", time.localtime(expires)) in text
    assert "secret" not in text


def test_account_add_offers_oauth2_for_a_provider_that_has_it(
    tmp_path: Path, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    from tmail.cli import main

    path = tmp_path / "config.toml"
    answers = [
        "me@outlook.com", "", "",  # address, display name, user name
        "",                # OAuth2 instead of a password? default yes for Outlook
        "my-client-id", "",  # client ID, no secret
        "y", "imap",       # the preset's servers
        "n",               # sign in now? later
    ]  # fmt: skip
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(answers) + "\n"))
    out, err = io.StringIO(), io.StringIO()
    code = main(["--config", str(path), "account", "add", "--name", "work"], out, err)
    said = out.getvalue()
    assert (code, err.getvalue()) == (0, ""), said
    assert "Sign in with OAuth2 instead of a password? (Y/n)" in said
    assert "1. open https://entra.microsoft.com" in said and "Password" not in said
    assert "Testing the connection" not in said  # no token yet: tried at the sign-in
    assert "Sign in later with 'tmail account login work'" in said
    acc = load_config(path, environ={}).account("work")
    assert acc.oauth2 is not None and acc.oauth2.client_id == "my-client-id"
    assert acc.oauth2.provider == "outlook" and acc.incoming.auth == "xoauth2"
    assert memory_keyring.items == {}


def test_describe_an_expired_access_token_says_when_and_that_it_is_renewed(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    acc = account(
        tmp_path,
        '[accounts.w]\nemail = "me@outlook.com"\nprovider = "outlook"\n'
        'oauth2.client_id = "my-app"\n',
    )
    save_tokens("w", Tokens("a", time.time() - 60, "r"))
    assert "access token expired at " in describe(acc)
    assert "renewed at the next use" in describe(acc)
    save_tokens("w", Tokens("a", time.time() - 60, None))
    assert describe(acc).endswith("; no refresh token)")
