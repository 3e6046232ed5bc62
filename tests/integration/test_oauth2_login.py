"""Built-in OAuth2 sign-in end to end: `tmail account login`, then IMAP, POP3 and SMTP with the
stored token against the real Dovecot/Postfix, which validate the tokens themselves.

The authorization server is oauth2-mock-server (tests/support/oauth2server.py); the browser is
played by an HTTP client that follows the authorization URL and its redirect to tmail's loopback
listener, as a person's browser would. The keyring is the in-memory backend of
tests/support/keyrings.py, read back to see what tmail stored.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import json
import logging
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
import webbrowser
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.support.keyrings import MemoryKeyring, using_keyring
from tests.support.mailstack import MailStack, free_ports
from tests.support.oauth2server import OAuth2Server
from tests.support.penalty import clear_auth_penalty
from tmail.cli import main

pytestmark = pytest.mark.stack


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with using_keyring(MemoryKeyring()) as kr:
        assert isinstance(kr, MemoryKeyring)
        yield kr


class Browser:
    """Follows a URL as a browser does (redirects included); remembers what it saw."""

    def __init__(self, rewrite: Callable[[str], str] = lambda url: url) -> None:
        self.rewrite = rewrite
        self.pages: list[tuple[int, str]] = []
        self.threads: list[threading.Thread] = []

    def open(self, url: str) -> bool:
        t = threading.Thread(target=self._follow, args=(self.rewrite(url),), daemon=True)
        t.start()
        self.threads.append(t)
        return True

    def _follow(self, url: str) -> None:
        try:
            with urllib.request.urlopen(url, timeout=20) as resp:
                self.pages.append((resp.status, resp.read().decode()))
        except urllib.error.HTTPError as exc:
            self.pages.append((exc.code, exc.read().decode()))

    def join(self) -> None:
        for t in self.threads:
            t.join(timeout=20)


class UrlWatcher(io.StringIO):
    """A terminal whose reader opens the URL tmail prints (--no-browser) in the browser."""

    def __init__(self, browser: Browser) -> None:
        super().__init__()
        self.browser = browser

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.startswith("http://") or line.startswith("https://"):
                self.browser.open(line.strip())
        return super().write(text)


def run(*argv: str, stdout: io.StringIO | None = None) -> tuple[int, str, str]:
    out, err = stdout or io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def oauth2_config(
    tmp_path: Path,
    stack: MailStack,
    server: OAuth2Server,
    user: MailUser,
    *,
    protocol: str = "imap",
    token_endpoint: str | None = None,
    scopes: str = '["mail"]',
) -> Path:
    port = stack.ports.imaps if protocol == "imap" else stack.ports.pop3s
    path = tmp_path / "config.toml"
    path.write_text(f"""\
[general]
data_dir = "{tmp_path / "data"}"

[accounts.acct]
email = "{user.address}"
incoming.protocol = "{protocol}"
incoming.host = "{stack.host}"
incoming.port = {port}
incoming.security = "tls"
incoming.username = "{user.name}"
incoming.ca_file = "{stack.ca_file}"
outgoing.host = "{stack.host}"
outgoing.port = {stack.ports.smtp}
outgoing.security = "starttls"
oauth2.client_id = "tmail-test-client"
oauth2.authorization_endpoint = "{server.authorization_endpoint}"
oauth2.token_endpoint = "{token_endpoint or server.token_endpoint}"
oauth2.device_authorization_endpoint = "{server.device_authorization_endpoint}"
oauth2.scopes = {scopes}
""")
    path.chmod(0o600)
    return path


def login(cfg: Path, monkeypatch: pytest.MonkeyPatch, browser: Browser | None = None) -> str:
    browser = browser or Browser()
    monkeypatch.setattr(webbrowser, "open", browser.open)
    code, out, err = run("--config", str(cfg), "account", "login", "acct")
    browser.join()
    assert (code, err) == (0, ""), out
    return out


def stored(kr: MemoryKeyring) -> dict[str, object]:
    return dict(json.loads(kr.items[("tmail", "acct/oauth2")]))


def message(sender: str, to: str, subject: str) -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@example.test>\r\n\r\nhello\r\n"
    ).encode()


def test_login_in_the_browser_then_imap_sync_and_smtp_send_use_the_token(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = oauth2_config(tmp_path, mailstack, oauth2_server, mail_user)
    out = login(cfg, monkeypatch)
    assert "Signed in: acct" in out
    tokens = stored(memory_keyring)
    assert tokens["refresh_token"] and tokens["access_token"]
    assert oauth2_server.grants()[-1] == "authorization_code"
    assert str(tokens["refresh_token"]) not in cfg.read_text()

    mailstack.deliver(mail_user.address, message("x@example.test", mail_user.address, "Вход"))
    code, out, err = run("--config", str(cfg), "sync")
    assert (code, err) == (0, ""), out
    assert "acct: 1 new" in out
    code, out, err = run("--config", str(cfg), "list", "--account", "acct")
    assert "Вход" in out

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"body\n")))
    code, out, err = run(
        "--config", str(cfg), "send", "--account", "acct", "--to", mail_user.address,
        "--subject", "sent with a token",
    )  # fmt: skip
    assert code == 0, out + err
    assert mailstack.wait_for(mail_user.name, 2) == 2
    assert any(b"sent with a token" in m for m in mailstack.stored_messages(mail_user.name))
    assert oauth2_server.grants()[-1] == "authorization_code"  # the first token did it all


def test_no_browser_prints_the_url_and_pop3_fetches_with_the_token(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = oauth2_config(tmp_path, mailstack, oauth2_server, mail_user, protocol="pop3")
    monkeypatch.setattr(webbrowser, "open", lambda url: pytest.fail("a browser was opened"))
    browser = Browser()
    terminal = UrlWatcher(browser)
    code, out, err = run(
        "--config", str(cfg), "account", "login", "acct", "--no-browser", stdout=terminal
    )  # fmt: skip
    browser.join()
    assert (code, err) == (0, ""), out
    url = next(line for line in out.splitlines() if line.startswith("http://"))
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["login_hint"] == [mail_user.name]
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:")
    assert browser.pages[0][0] == 200 and "signed in" in browser.pages[0][1]

    mailstack.deliver(mail_user.address, message("x@example.test", mail_user.address, "По POP3"))
    code, out, err = run("--config", str(cfg), "sync")
    assert (code, err) == (0, ""), out
    assert "acct: 1 new" in out


def test_an_access_token_about_to_expire_is_refreshed_before_use(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = oauth2_config(tmp_path, mailstack, oauth2_server, mail_user)
    oauth2_server.set(expires_in=60)  # valid, but inside tmail's refresh margin
    login(cfg, monkeypatch)
    oauth2_server.reset()
    first = stored(memory_keyring)
    code, out, err = run("--config", str(cfg), "sync")
    assert (code, err) == (0, ""), out
    assert oauth2_server.grants()[-1] == "refresh_token"
    now = stored(memory_keyring)
    assert now["access_token"] != first["access_token"]
    assert float(str(now["expires_at"])) > float(str(first["expires_at"])) + 3000


def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = oauth2_config(tmp_path, mailstack, oauth2_server, mail_user)
    oauth2_server.set(expires_in=60)
    login(cfg, monkeypatch)
    refresh_token = stored(memory_keyring)["refresh_token"]
    oauth2_server.set(expires_in=3600, no_refresh_token=True)
    code, out, err = run("--config", str(cfg), "sync")
    assert (code, err) == (0, ""), out
    assert oauth2_server.grants()[-1] == "refresh_token"
    assert stored(memory_keyring)["refresh_token"] == refresh_token


def test_a_token_the_server_refuses_is_refreshed_once_and_the_login_goes_on(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = oauth2_config(tmp_path, mailstack, oauth2_server, mail_user)
    login(cfg, monkeypatch)
    tokens = stored(memory_keyring)
    good = str(tokens["access_token"])
    # Still within its lifetime for tmail, but Dovecot refuses it (the signature is broken),
    # as a provider refuses a token it revoked early.
    tokens["access_token"] = good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB")
    memory_keyring.items[("tmail", "acct/oauth2")] = json.dumps(tokens)
    grants_before = len(oauth2_server.grants())
    mailstack.deliver(mail_user.address, message("x@example.test", mail_user.address, "again"))
    code, out, err = run("--config", str(cfg), "sync")
    assert (code, err) == (0, ""), out
    assert "acct: 1 new" in out
    assert oauth2_server.grants()[grants_before:] == ["refresh_token"]
    assert stored(memory_keyring)["access_token"] not in (good, tokens["access_token"])


def test_a_revoked_refresh_token_gives_one_line_naming_the_account_and_the_login_command(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = oauth2_config(tmp_path, mailstack, oauth2_server, mail_user)
    oauth2_server.set(expires_in=60)
    login(cfg, monkeypatch)
    oauth2_server.revoke(mail_user.name)
    code, out, err = run("--config", str(cfg), "sync")
    assert code != 0
    lines = [line for line in (out + err).splitlines() if "revoked" in line]
    assert len(lines) == 1, out + err
    assert "acct" in lines[0] and "tmail account login acct" in lines[0]
    assert "Traceback" not in out + err


def test_a_redirect_whose_state_does_not_match_is_refused(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = oauth2_config(tmp_path, mailstack, oauth2_server, mail_user)

    def forged_state(url: str) -> str:
        parts = urllib.parse.urlsplit(url)
        query = dict(urllib.parse.parse_qsl(parts.query))
        query["state"] = "forged-by-another-page"
        return parts._replace(query=urllib.parse.urlencode(query)).geturl()

    browser = Browser(rewrite=forged_state)
    monkeypatch.setattr(webbrowser, "open", browser.open)
    code, _out, err = run("--config", str(cfg), "account", "login", "acct")
    browser.join()
    assert code == 1
    assert "state does not match" in err and "acct" in err and len(err.splitlines()) == 1
    assert browser.pages[0][0] == 400
    assert ("tmail", "acct/oauth2") not in memory_keyring.items
    assert "authorization_code" not in oauth2_server.grants()[-1:]


def test_a_token_endpoint_that_is_down_gives_one_line(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (closed,) = free_ports(1)
    cfg = oauth2_config(
        tmp_path, mailstack, oauth2_server, mail_user,
        token_endpoint=f"http://127.0.0.1:{closed}/token",
    )  # fmt: skip
    browser = Browser()
    monkeypatch.setattr(webbrowser, "open", browser.open)
    code, _out, err = run("--config", str(cfg), "account", "login", "acct")
    browser.join()
    assert code == 1
    assert len(err.splitlines()) == 1 and "token endpoint is not answering" in err
    assert f"127.0.0.1:{closed}" in err and "acct" in err
    assert ("tmail", "acct/oauth2") not in memory_keyring.items


def test_no_token_reaches_the_output_the_logs_or_the_check_transcript(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    cfg = oauth2_config(tmp_path, mailstack, oauth2_server, mail_user)
    oauth2_server.set(expires_in=60)  # so that the commands below refresh too
    said = login(cfg, monkeypatch)
    tokens = stored(memory_keyring)
    for argv in (("sync",), ("check", "--verbose"), ("accounts",)):
        _code, out, err = run("--config", str(cfg), *argv)
        said += out + err
        if argv[0] != "sync":  # the method and the token's validity, never the token
            assert "OAuth2, signed in (access token valid until " in out, out
        if argv[0] == "accounts":  # a token is not called a password
            assert "sign-in: OAuth2, signed in" in out and "password:" not in out, out
    secrets = [str(tokens["access_token"]), str(tokens["refresh_token"])]
    now = stored(memory_keyring)
    secrets += [str(now["access_token"]), str(now["refresh_token"])]
    assert "AUTHENTICATE" in said  # the transcript was there
    logged = caplog.text + said + cfg.read_text()
    for secret in secrets:
        assert secret not in logged
        assert secret[:40] not in logged


def device_login(cfg: Path) -> tuple[str, ...]:
    return ("--config", str(cfg), "account", "login", "acct", "--device")


class DevicePerson(io.StringIO):
    """A terminal whose reader enters the code tmail shows on the verification page."""

    def __init__(self, act: Callable[[str], None]) -> None:
        super().__init__()
        self.act = act
        self.threads: list[threading.Thread] = []

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if "enter the code: " in line:
                code = line.split("enter the code: ", 1)[1].strip()
                t = threading.Thread(target=self.act, args=(code,), daemon=True)
                t.start()
                self.threads.append(t)
        return super().write(text)


def test_device_sign_in_polls_as_asked_and_imap_works_with_the_token(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,
) -> None:
    cfg = oauth2_config(tmp_path, mailstack, oauth2_server, mail_user)
    oauth2_server.set(device_slow_down=1)  # the first poll is told to slow down
    person = DevicePerson(lambda code: oauth2_server.approve_device(code, mail_user.name))
    code, out, err = run(*device_login(cfg), stdout=person)
    assert (code, err) == (0, ""), out
    assert f"open {oauth2_server.issuer}/device" in out and "Signed in: acct" in out
    device = "urn:ietf:params:oauth:grant-type:device_code"
    assert oauth2_server.grants().count(device) >= 2
    assert stored(memory_keyring)["refresh_token"]
    mailstack.deliver(mail_user.address, message("x@example.test", mail_user.address, "device"))
    code, out, err = run("--config", str(cfg), "sync")
    assert (code, err) == (0, ""), out
    assert "acct: 1 new" in out
    assert oauth2_server.grants()[-1] == device  # the device grant's own token was taken


def test_device_sign_in_declined_or_expired_gives_one_line(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,
) -> None:
    cfg = oauth2_config(tmp_path, mailstack, oauth2_server, mail_user)
    person = DevicePerson(oauth2_server.deny_device)
    code, _out, err = run(*device_login(cfg), stdout=person)
    assert code == 1 and len(err.splitlines()) == 1
    assert "declined" in err and "tmail account login acct --device" in err

    oauth2_server.set(device_expires_in=2)
    idle = DevicePerson(lambda code: None)  # nobody enters the code
    code, _out, err = run(*device_login(cfg), stdout=idle)
    assert code == 1 and len(err.splitlines()) == 1
    assert "expired" in err and "acct" in err
    assert ("tmail", "acct/oauth2") not in memory_keyring.items


def test_a_token_for_another_mailbox_is_refused_with_the_servers_reason_in_words(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    make_mail_user: Callable[..., MailUser],
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owner, other = make_mail_user(), make_mail_user()
    cfg = oauth2_config(tmp_path, mailstack, oauth2_server, owner)
    # The SMTP login names another mailbox than the one the token was granted for.
    cfg.write_text(cfg.read_text() + f'outgoing.username = "{other.name}"\n')
    login(cfg, monkeypatch)
    code, out, _err = run("--config", str(cfg), "check", "--verbose")
    assert code == 1
    refused = [line for line in out.splitlines() if "login refused" in line]
    assert len(refused) == 1, out
    assert f"login refused for '{other.name}': the server refused the access token" in refused[0]
    assert "granted for another mailbox" in refused[0]
    assert "check outgoing.username is the address you signed in as" in refused[0]
    clear_auth_penalty(mailstack)  # Dovecot slows down an address whose logins fail


def test_the_reader_shows_the_revoked_sign_in_and_goes_on_with_the_other_account(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    make_mail_user: Callable[..., MailUser],
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tmail.config import load_config
    from tmail.runtime.backend import MailBackend
    from tmail.runtime.session import MailSession
    from tmail.store.store import Store
    from tmail.ui.main import build_app

    signed, plain = make_mail_user(), make_mail_user()
    cfg = oauth2_config(tmp_path, mailstack, oauth2_server, signed)
    pwfile = tmp_path / "pw"
    pwfile.write_text(plain.password)
    cfg.write_text(
        cfg.read_text()
        + f"""
[accounts.other]
email = "{plain.address}"
incoming.host = "{mailstack.host}"
incoming.port = {mailstack.ports.imaps}
incoming.username = "{plain.name}"
incoming.password_command = "cat {pwfile}"
incoming.ca_file = "{mailstack.ca_file}"
"""
    )
    oauth2_server.set(expires_in=60)
    login(cfg, monkeypatch)
    oauth2_server.revoke(signed.name)
    mailstack.deliver(plain.address, message("x@example.test", plain.address, "still here"))
    config = load_config(cfg)
    with Store.open(config.data_dir) as store:
        app = build_app(config, store, MailBackend(config, store), {}, poll=False)
        session: MailSession = app.session
        app.sync()
        for ev in session.run_pending():
            session.events.put(ev)
        app.handle_events(session.drain())
        app.press("E")
        errors = app.render_text(200, 20)
        assert "tmail account login acct" in errors and "revoked" in errors
        app.press("q")
        screen = app.render_text(200, 20)
    assert "other" in screen
    with Store.open(config.data_dir) as store:
        assert [m.subject for m in store.list_messages("other", "INBOX")] == ["still here"]


@contextlib.contextmanager
def token_endpoint_answering_html() -> Iterator[str]:
    """The fault a real provider gives during an outage: its proxy's HTML error page."""

    class Outage(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Outage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/token"
    finally:
        server.shutdown()
        server.server_close()


def test_a_token_endpoint_answering_html_gives_one_line_with_the_status(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with token_endpoint_answering_html() as url:
        cfg = oauth2_config(tmp_path, mailstack, oauth2_server, mail_user, token_endpoint=url)
        browser = Browser()
        monkeypatch.setattr(webbrowser, "open", browser.open)
        code, _out, err = run("--config", str(cfg), "account", "login", "acct")
        browser.join()
    assert code == 1 and len(err.splitlines()) == 1
    assert "answered HTTP 502 with no JSON" in err and "acct" in err
    assert "<html>" not in err
    assert ("tmail", "acct/oauth2") not in memory_keyring.items


def test_a_grant_without_the_mail_scope_is_refused_in_one_line_after_one_refresh(
    tmp_path: Path,
    mailstack: MailStack,
    oauth2_server: OAuth2Server,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = oauth2_config(
        tmp_path, mailstack, oauth2_server, mail_user, scopes='["openid", "profile"]'
    )
    login(cfg, monkeypatch)
    code, out, err = run("--config", str(cfg), "sync")
    assert code == 1 and "Traceback" not in out + err
    said = [line for line in (out + err).splitlines() if "login refused" in line]
    assert len(said) == 1, out + err
    assert f"acct (127.0.0.1:{mailstack.ports.imaps})" in said[0]
    assert "tmail account login acct" in said[0] and "password" not in said[0]
    # Dovecot's error challenge (RFC 7628 3.2.2), in words, before its tagged NO.
    assert "the server refused the access token" in said[0]
    assert "[AUTHENTICATIONFAILED]" in said[0]
    assert oauth2_server.grants()[-2:] == ["authorization_code", "refresh_token"]  # one retry
    clear_auth_penalty(mailstack)  # Dovecot slows down an address whose logins fail
