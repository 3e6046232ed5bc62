"""``tmail unsubscribe ID`` (issue 18 item 4): RFC 8058 one-click against a real HTTPS server on
loopback (certificate verified: the test's CA is given as SSL_CERT_FILE), refusals with a line
saying why, and the mailto: way through the real Postfix."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.e2e.tmux import TMAIL as TMAIL_BIN
from tests.e2e.tmux import Pane
from tests.integration.test_send_cli import write_config
from tests.support.httpsserver import HttpsServer, https_server
from tmail.store import Store

TMAIL = [sys.executable, "-m", "tmail"]


def letter(unsubscribe: str, post: bool = True) -> bytes:
    return (
        "From: Weekly News <news@lists.example>\r\nTo: me@home.test\r\nSubject: Issue 42\r\n"
        "Message-ID: <42@lists.example>\r\nDate: Tue, 01 Dec 2026 09:00:00 +0000\r\n"
        f"List-Unsubscribe: {unsubscribe}\r\n"
        + ("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" if post else "")
        + "Content-Type: text/plain; charset=utf-8\r\n\r\nNews.\r\n"
    ).encode()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HttpsServer]:
    with https_server(tmp_path) as s:
        yield s


def setup(tmp_path: Path, raw: bytes, *, allow: bool = True) -> tuple[Path, int]:
    data = tmp_path / "data"
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[general]\ndata_dir = "{data}"\n[accounts.home]\nemail = "me@home.test"\n'
        'incoming.host = "imap.home.test"\nauthserv_id = "mx.home.test"\n'
        + ('unsubscribe_allow_hosts = ["localhost"]\n' if allow else "")
    )
    cfg.chmod(0o600)
    with Store.open(data) as store:
        mid = store.add_message("home", "INBOX", raw)
    return cfg, mid


def run(cfg: Path, server: HttpsServer | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TMAIL_CONFIG": str(cfg)}
    if server is not None:
        env["SSL_CERT_FILE"] = str(server.cert)
    return subprocess.run(
        [*TMAIL, "unsubscribe", *args], env=env, capture_output=True, text=True, timeout=60,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip


def test_one_click_posts_once_to_the_lists_https_url(server: HttpsServer, tmp_path: Path) -> None:
    url = server.url("/u?list=weekly&id=42")
    signed = b"Authentication-Results: mx.home.test; dkim=pass header.d=lists.example\r\n"
    cfg, mid = setup(tmp_path, signed + letter(f"<mailto:leave@lists.example>, <{url}>"))
    res = run(cfg, server, str(mid), "--yes")
    assert res.returncode == 0, res.stderr
    assert f"a POST to localhost\n  {url}\n" in res.stdout
    assert "  the message: DKIM pass lists.example (checked by mx.home.test)\n" in res.stdout
    assert "unsubscribed: localhost answered 200 OK" in res.stdout
    [request] = server.requests
    assert (request.method, request.path) == ("POST", "/u?list=weekly&id=42")
    assert request.body == b"List-Unsubscribe=One-Click"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "cookie" not in request.headers and "authorization" not in request.headers


def test_one_click_asks_first_showing_the_host(server: HttpsServer, tmp_path: Path) -> None:
    cfg, mid = setup(tmp_path, letter(f"<{server.url('/u')}>"))
    env = {"TMAIL_CONFIG": str(cfg), "SSL_CERT_FILE": str(server.cert)}
    pane = Pane([str(TMAIL_BIN), "unsubscribe", str(mid)], env=env)
    try:
        pane.wait_for("Unsubscribe through localhost? [y/N]")
        assert server.requests == []
        pane.keys("y", "Enter")
        pane.wait_for("unsubscribed: localhost answered 200 OK")
    finally:
        pane.close()
    assert [r.method for r in server.requests] == ["POST"]


def test_without_a_confirmation_nothing_is_sent(server: HttpsServer, tmp_path: Path) -> None:
    cfg, mid = setup(tmp_path, letter(f"<{server.url('/u')}>"))
    res = run(cfg, server, str(mid))  # no terminal, no --yes
    assert res.returncode == 2
    assert (
        "not confirmed (no terminal to ask in) — run it in a terminal, or add --yes" in res.stderr
    )
    assert server.requests == []


def test_a_private_address_is_refused_by_default(server: HttpsServer, tmp_path: Path) -> None:
    for url in (server.url("/u"), server.url("/u", host="127.0.0.1")):
        cfg, mid = setup(tmp_path, letter(f"<{url}>"), allow=False)
        res = run(cfg, server, str(mid), "--yes")
        assert res.returncode == 1
        assert "points at a private address (127.0.0.1)" in res.stderr
        assert res.stderr.count("\n") == 1
    assert server.requests == []


def test_plain_http_is_refused(server: HttpsServer, tmp_path: Path) -> None:
    cfg, mid = setup(tmp_path, letter(f"<http://localhost:{server.port}/u>"))
    res = run(cfg, server, str(mid), "--yes")
    assert res.returncode == 1
    assert f"http://localhost:{server.port}/u is not an HTTPS link" in res.stderr
    assert server.requests == []


def test_a_redirect_elsewhere_is_refused(server: HttpsServer, tmp_path: Path) -> None:
    server.status = 302
    server.answer_headers = {"Location": "https://collector.example/u"}
    cfg, mid = setup(tmp_path, letter(f"<{server.url('/u')}>"))
    res = run(cfg, server, str(mid), "--yes")
    assert res.returncode == 1
    assert "redirects elsewhere (collector.example, not localhost)" in res.stderr
    assert len(server.requests) == 1  # nothing followed


def test_a_server_the_system_does_not_trust_is_refused(server: HttpsServer, tmp_path: Path) -> None:
    cfg, mid = setup(tmp_path, letter(f"<{server.url('/u')}>"))
    res = run(cfg, None, str(mid), "--yes")  # the test CA not given
    assert res.returncode == 1
    assert f"the certificate of localhost:{server.port} is not trusted" in res.stderr
    assert server.requests == []


def test_a_web_page_only_is_shown_not_opened(server: HttpsServer, tmp_path: Path) -> None:
    cfg, mid = setup(tmp_path, letter(f"<{server.url('/page')}>", post=False))
    res = run(cfg, server, str(mid), "--yes")
    assert res.returncode == 1
    assert "only a web page, which tmail does not open by itself" in res.stdout
    assert server.url("/page") in res.stdout
    assert server.requests == []


def test_no_list_unsubscribe_is_one_line(tmp_path: Path) -> None:
    cfg, mid = setup(tmp_path, letter("").replace(b"List-Unsubscribe: \r\n", b""))
    res = run(cfg, None, str(mid))
    assert res.returncode == 65  # bad input, as MessageError everywhere
    assert "offers no way to unsubscribe (no List-Unsubscribe field)" in res.stderr


@pytest.mark.stack
def test_the_mailto_way_sends_the_prepared_message_through_postfix(
    make_mail_user: Callable[..., MailUser], tmp_path: Path
) -> None:
    me, list_owner = make_mail_user("s"), make_mail_user("l")
    cfg = write_config(tmp_path, me)
    with Store.open(tmp_path / "data") as store:
        mid = store.add_message(
            "test",
            "INBOX",
            letter(f"<mailto:{list_owner.address}?subject=leave%20weekly>", post=False),
        )
    env = {**os.environ, "TMAIL_CONFIG": str(cfg), "TMAIL_TEST_PW": me.password}
    res = subprocess.run(
        [*TMAIL, "unsubscribe", str(mid), "--yes"], env=env, capture_output=True, text=True,
        timeout=120, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert f"  To: {list_owner.address}\n  Subject: leave weekly\n" in res.stdout
    assert me.stack.wait_for(list_owner.name, 1) == 1
    got = me.stack.stored_messages(list_owner.name)[0]
    assert b"Subject: leave weekly" in got and me.address.encode() in got
