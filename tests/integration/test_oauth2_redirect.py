"""The loopback redirect listener of the OAuth2 sign-in (RFC 8252 7.3) and a token endpoint that
never answers: what a careless or hostile local page could try, and the outage a user meets."""

from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.faultservers import never_greets
from tmail.config.model import Account, OAuth2Settings, ServerSettings
from tmail.config.oauth2 import Tokens
from tmail.core.errors import NetworkError, SecretError
from tmail.protocols import oauth2_flow
from tmail.protocols.oauth2_flow import LoopbackRedirect


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def in_background(url: str) -> tuple[threading.Thread, list[int]]:
    got: list[int] = []
    t = threading.Thread(target=lambda: got.append(get(url)), daemon=True)
    t.start()
    return t, got


def test_the_listener_is_on_127_0_0_1_only_takes_the_redirect_and_then_closes() -> None:
    with LoopbackRedirect() as listener:
        assert listener.redirect_uri == f"http://127.0.0.1:{listener.port}/"
        with socket.socket() as other, pytest.raises(OSError):
            other.settimeout(2)
            other.connect(("127.0.0.2", listener.port))  # loopback too, but not bound there
        # A browser asks for a favicon first: that connection is queued before the redirect's.
        favicon = socket.create_connection(("127.0.0.1", listener.port), timeout=10)
        favicon.sendall(b"GET /favicon.ico HTTP/1.0\r\n\r\n")
        redirect, got = in_background(f"{listener.redirect_uri}?code=C0DE&state=s-1")
        assert listener.wait("s-1", 10, "acct") == "C0DE"
        redirect.join(5)
        with favicon:
            assert favicon.makefile("rb").readline().split()[1] == b"404"
        assert got == [200]
        with socket.socket() as late, pytest.raises(ConnectionRefusedError):
            late.connect(("127.0.0.1", listener.port))


def test_a_provider_refusal_in_the_redirect_is_one_line() -> None:
    with LoopbackRedirect() as listener:
        t, got = in_background(
            f"{listener.redirect_uri}?error=access_denied&error_description=The+user+said+no"
            "&state=s-2"
        )
        with pytest.raises(SecretError) as err:
            listener.wait("s-2", 10, "acct")
        t.join(5)
    assert got == [400]
    line = err.value.one_line()
    assert line.startswith("acct: the provider refused the sign-in (access_denied: The user")


def test_no_browser_answer_ends_with_one_line() -> None:
    with LoopbackRedirect() as listener, pytest.raises(SecretError) as err:
        listener.wait("s-3", 1.0, "acct")
    assert "no answer from the browser in 1s" in err.value.one_line()


def test_a_token_endpoint_that_never_answers_is_one_line_after_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(oauth2_flow, "HTTP_TIMEOUT", 1.0)
    monkeypatch.setattr(oauth2_flow, "save_tokens", lambda *a: pytest.fail("nothing to store"))
    with never_greets() as port:
        account = Account(
            name="acct",
            email="a@example.test",
            incoming=ServerSettings(protocol="imap", host="127.0.0.1", port=993, auth="xoauth2"),
            oauth2=OAuth2Settings(
                client_id="c",
                authorization_endpoint="http://127.0.0.1:1/authorize",
                token_endpoint=f"http://127.0.0.1:{port}/token",
                scopes=("mail",),
            ),
        )
        with pytest.raises(NetworkError) as err:
            oauth2_flow.refresh(account, Tokens("old", 1.0, "refresh-me"))
    line = err.value.one_line()
    assert line.startswith(f"acct (127.0.0.1:{port}): the token endpoint is not answering")
    assert "timed out" in line and "refresh-me" not in line
