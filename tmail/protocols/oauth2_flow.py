"""OAuth2 sign-in over HTTP: the first grant (authorization code + PKCE with a loopback redirect,
RFC 6749 4.1, RFC 7636, RFC 8252; or the device grant, RFC 8628) and the refresh of the access
token (RFC 6749 6).

Written on the standard library rather than oauthlib/requests-oauthlib: oauthlib refuses
``http://`` endpoints unless a process-wide environment variable switches the check off (a local
token proxy and the tests' loopback server are plain HTTP), raises on a changed scope, and still
needs an HTTP client; authlib needs requests or httpx. What mail needs is two form POSTs and one
redirect, each checked here.

The refresh token never leaves this module and tmail.config.oauth2's keyring store: it is not
logged, not put in an error line, not shown. Every failure is one line naming the account, what
happened (with the HTTP status) and what to do.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar, cast

from tmail.config.model import Account, Role
from tmail.config.oauth2 import (
    Endpoints,
    Tokens,
    endpoints,
    load_tokens,
    save_tokens,
    uses_builtin,
)
from tmail.core.errors import AuthFailed, NetworkError, SecretError
from tmail.core.safe import safe_line

HTTP_TIMEOUT = 30.0
LOGIN_TIMEOUT = 300.0  # how long `tmail account login` waits for the browser


# ------------------------------------------------------------------------------ token endpoint
def _relogin(account: str) -> str:
    return f"run 'tmail account login {account}'"


def _post_form(url: str, form: dict[str, str], account: str) -> dict[str, Any]:
    """POST a form to the token endpoint; its JSON answer, or one-line errors."""
    host = urllib.parse.urlsplit(url).netloc or url
    req = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(form).encode("ascii"),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
        method="POST",
    )
    status = 0
    try:
        with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT) as resp:
            status, body = resp.status, resp.read(1024 * 1024)
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read(1024 * 1024)
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise NetworkError(
            f"the token endpoint is not answering ({safe_line(str(reason))[:120]})",
            account=account,
            server=host,
            hint="check the network and oauth2.token_endpoint; tried again at the next sync",
        ) from None
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError
    except ValueError:
        raise NetworkError(
            f"the token endpoint answered HTTP {status} with no JSON (a proxy or outage page?)",
            account=account,
            server=host,
            hint="try again later; check oauth2.token_endpoint",
        ) from None
    if status != 200 or "error" in data:
        error = safe_line(str(data.get("error", "")))[:60]
        why = safe_line(str(data.get("error_description", "")))[:160]
        data = {"_status": status, "_error": error, "_why": why}
    return data


def _grant_error(data: dict[str, Any], what: str, account: str, host: str) -> SecretError:
    error, why, status = data["_error"], data["_why"], data["_status"]
    detail = f"{error}: {why}" if why else error or "no reason given"
    if error == "invalid_grant" and what == "refresh":
        return SecretError(
            f"the provider no longer accepts this sign-in (revoked or expired; HTTP {status}, "
            f"{detail})",
            account=account,
            server=host,
            hint=f"sign in again: {_relogin(account)}",
        )
    hint = {
        "invalid_client": "check oauth2.client_id and oauth2.client_secret",
        "unauthorized_client": "check the client's registration with the provider",
        "invalid_scope": "check oauth2.scopes",
    }.get(error, _relogin(account))
    return SecretError(
        f"the token endpoint refused the {what} (HTTP {status}, {detail})",
        account=account,
        server=host,
        hint=hint,
    )


def _token_request(
    ep: Endpoints, form: dict[str, str], what: str, account: str, previous: Tokens | None
) -> Tokens:
    form = {**form, "client_id": ep.client_id}
    if ep.client_secret:
        form["client_secret"] = ep.client_secret
    data = _post_form(ep.token_endpoint, form, account)
    host = urllib.parse.urlsplit(ep.token_endpoint).netloc
    if "_error" in data:
        raise _grant_error(data, what, account, host)
    if not data.get("access_token"):
        raise SecretError(
            f"the token endpoint's answer to the {what} holds no access_token",
            account=account,
            server=host,
            hint=_relogin(account),
        )
    return Tokens.from_response(data, previous)


def refresh(account: Account, tokens: Tokens) -> Tokens:
    """A new access token from the refresh token, stored in the keyring; SecretError when the
    provider revoked the grant (the line says to run ``tmail account login``)."""
    if not tokens.refresh_token:
        raise SecretError(
            "the access token expired and the provider gave no refresh token",
            account=account.name,
            hint=_relogin(account.name),
        )
    ep = endpoints(account)
    new = _token_request(
        ep,
        {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
        "refresh",
        account.name,
        tokens,
    )
    save_tokens(account.name, new)
    return new


def access_token(account: Account, *, force_refresh: bool = False) -> str:
    """A usable access token: the stored one while it is fresh, else a refreshed one.

    ``force_refresh``: the server refused the stored token (revoked early, clock skew): refresh
    even though it looks valid.
    """
    tokens = load_tokens(account.name)
    if tokens is None:
        raise SecretError(
            "not signed in with OAuth2 yet",
            account=account.name,
            hint=_relogin(account.name),
        )
    if tokens.fresh() and not force_refresh:
        return tokens.access_token
    return refresh(account, tokens).access_token


def forget_access_token(account: Account) -> None:
    """Mark the stored access token unusable (a server refused it); the grant stays."""
    tokens = load_tokens(account.name)
    if tokens is not None and tokens.access_token:
        save_tokens(account.name, tokens.expired())


# --------------------------------------------------------------------------- the first grant
def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge), RFC 7636 4.1-4.2."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    ep: Endpoints, redirect_uri: str, state: str, challenge: str, login_hint: str
) -> str:
    params = {
        "response_type": "code",
        "client_id": ep.client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(ep.scopes),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if login_hint:
        params["login_hint"] = login_hint
    params.update(dict(ep.extra_params))
    sep = "&" if "?" in ep.authorization_endpoint else "?"
    return ep.authorization_endpoint + sep + urllib.parse.urlencode(params)


_PAGE = (
    "<!doctype html><meta charset=utf-8><title>tmail</title>"
    "<p>{}</p><p>You can close this window.</p>"
)


class _Redirect(http.server.BaseHTTPRequestHandler):
    """Takes the one redirect; anything else (a favicon) gets 404 and waiting goes on."""

    timeout = 10  # a connection that sends nothing does not hold the listener
    server: _LoopbackServer

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path != "/" or not ({"code", "error", "state"} & query.keys()):
            self.send_error(404)
            return
        self.server.answer = {k: v[0] for k, v in query.items() if v}
        ok = "code" in query and query.get("state", [""])[0] == self.server.state
        text = "tmail is signed in." if ok else "tmail did not sign in: see the terminal."
        body = _PAGE.format(text).encode()
        self.send_response(200 if ok else 400)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the query holds the code: never printed


class _LoopbackServer(http.server.HTTPServer):
    answer: dict[str, str] | None = None
    state: str = ""


class LoopbackRedirect:
    """The redirect listener of RFC 8252 7.3: 127.0.0.1 only, a free port, one redirect."""

    def __init__(self) -> None:
        self._server = _LoopbackServer(("127.0.0.1", 0), _Redirect)
        self.port = self._server.server_address[1]
        self.redirect_uri = f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> LoopbackRedirect:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._server.server_close()

    def wait(self, state: str, timeout: float, account: str) -> str:
        """The authorization code of the redirect carrying ``state``; SecretError otherwise."""
        self._server.state = state
        deadline = time.monotonic() + timeout
        while self._server.answer is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise SecretError(
                    f"no answer from the browser in {timeout:.0f}s",
                    account=account,
                    hint="run it again; with --no-browser open the printed URL yourself",
                )
            self._server.timeout = left
            self._server.handle_request()
        self.close()
        answer = self._server.answer
        if answer.get("state") != state:
            raise SecretError(
                "refused a redirect whose state does not match this sign-in "
                "(another page or program answered)",
                account=account,
                hint=f"run 'tmail account login {account}' again",
            )
        if "error" in answer:
            why = safe_line(answer.get("error_description", ""))[:160]
            raise SecretError(
                f"the provider refused the sign-in ({safe_line(answer['error'])[:60]}"
                + (f": {why})" if why else ")"),
                account=account,
                hint="allow tmail's access in the browser, or check the client registration",
            )
        code = answer.get("code", "")
        if not code:
            raise SecretError("the redirect carried no code", account=account)
        return code


def login_with_browser(
    account: Account, open_url: Callable[[str], object], timeout: float = LOGIN_TIMEOUT
) -> Tokens:
    """The first grant: authorization code with PKCE through the browser; tokens stored."""
    ep = endpoints(account)
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)
    with LoopbackRedirect() as listener:
        url = authorization_url(
            ep, listener.redirect_uri, state, challenge, account.incoming.username
        )
        open_url(url)
        code = listener.wait(state, timeout, account.name)
    tokens = _token_request(
        ep,
        {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": listener.redirect_uri,
        },
        "authorization code",
        account.name,
        load_tokens(account.name),
    )
    save_tokens(account.name, tokens)
    return tokens


# ------------------------------------------------------------------------ the device grant
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def login_with_device(
    account: Account,
    show: Callable[[str, str, str | None], object],
    sleep: Callable[[float], object] = time.sleep,
) -> Tokens:
    """The device authorization grant (RFC 8628): ``show(user_code, verification_uri,
    verification_uri_complete)``, then poll the token endpoint as the server asks."""
    ep = endpoints(account)
    if not ep.device_authorization_endpoint:
        raise SecretError(
            f"{ep.title} offers no device sign-in to tmail",
            account=account.name,
            hint="sign in without --device (browser), or set oauth2.device_authorization_endpoint",
        )
    form = {"client_id": ep.client_id, "scope": " ".join(ep.scopes)}
    if ep.client_secret:
        form["client_secret"] = ep.client_secret
    host = urllib.parse.urlsplit(ep.device_authorization_endpoint).netloc
    data = _post_form(ep.device_authorization_endpoint, form, account.name)
    if "_error" in data:
        raise _grant_error(data, "device sign-in", account.name, host)
    try:
        device_code = str(data["device_code"])
        user_code = str(data["user_code"])
        uri = str(data.get("verification_uri") or data["verification_url"])  # Google: _url
        interval = float(data.get("interval") or 5)
        expires_in = float(data.get("expires_in") or 600)
    except (KeyError, TypeError, ValueError):
        raise SecretError(
            "the device endpoint's answer lacks device_code, user_code or verification_uri",
            account=account.name,
            server=host,
        ) from None
    complete = data.get("verification_uri_complete")
    show(safe_line(user_code), safe_line(uri), safe_line(str(complete)) if complete else None)
    deadline = time.monotonic() + expires_in
    token_host = urllib.parse.urlsplit(ep.token_endpoint).netloc
    while True:
        sleep(interval)
        if time.monotonic() > deadline:
            break
        poll = {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": ep.client_id}
        if ep.client_secret:
            poll["client_secret"] = ep.client_secret
        answer = _post_form(ep.token_endpoint, poll, account.name)
        error = answer.get("_error")
        if error is None and answer.get("access_token"):
            tokens = Tokens.from_response(answer, load_tokens(account.name))
            save_tokens(account.name, tokens)
            return tokens
        if error == "authorization_pending":
            continue
        if error == "slow_down":  # RFC 8628 3.5: five seconds more from now on
            interval += 5
            continue
        if error == "access_denied":
            raise SecretError(
                "the sign-in was declined in the browser",
                account=account.name,
                server=token_host,
                hint=f"run 'tmail account login {account.name} --device' again and allow it",
            )
        if error == "expired_token":
            break
        raise _grant_error(answer, "device sign-in", account.name, token_host)
    raise SecretError(
        "the device code expired before the sign-in was finished",
        account=account.name,
        server=token_host,
        hint=f"run 'tmail account login {account.name} --device' again",
    )


# ------------------------------------------------------------------- the seam for connect.py
def token_for(account: Account, role: Role, given: str | None) -> str | None:
    """The access token when this server signs in with tmail's own OAuth2, else None (then the
    password sources of tmail.config.secrets apply, ``oauth2_token_command`` included)."""
    if given is not None or not uses_builtin(account, role):
        return None
    return access_token(account)


F = TypeVar("F", bound=Callable[..., Any])


def retry_refused_token(role: Role) -> Callable[[F], F]:
    """Wrap an ``open_*`` of connect.py: when the server refuses the stored access token (revoked
    early, clock skew), refresh it and connect once more."""

    def wrap(open_conn: F) -> F:
        @functools.wraps(open_conn)
        def opened(account: Account, *args: Any, **kwargs: Any) -> Any:
            try:
                return open_conn(account, *args, **kwargs)
            except AuthFailed:
                if kwargs.get("secret") is not None or not uses_builtin(account, role):
                    raise
                forget_access_token(account)
            return open_conn(account, *args, **kwargs)

        return cast(F, opened)

    return wrap


def token_hint(account: Account, role: Role) -> str:
    """What to do when a server refused a token."""
    if uses_builtin(account, role):
        return (
            f"check {role}.username is the address you signed in as, or run "
            f"'tmail account login {account.name}' again"
        )
    return f"check {role}.username and what {role}.oauth2_token_command prints"
