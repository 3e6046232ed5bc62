"""U in the pager (issue 18 item 4): the question names the host; y sends the RFC 8058 POST
through the session to a real HTTPS server on loopback; the mailto: way opens the composer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.httpsserver import HttpsServer, https_server
from tests.tui.conftest import T0, Harness, RecordingBackend, message
from tmail.config.model import Account, Config, ServerSettings
from tmail.runtime.backend import MailBackend
from tmail.store import Store
from tmail.ui.source import MemorySource, Row


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpsServer]:
    with https_server(tmp_path) as s:
        monkeypatch.setenv("SSL_CERT_FILE", str(s.cert))  # the test CA: verified, not skipped
        yield s


def reader(tmp_path: Path, list_unsubscribe: str, *, allow: tuple[str, ...]) -> Harness:
    src = MemorySource()
    extra = (
        f"List-Unsubscribe: {list_unsubscribe}\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
    )
    raw = message(
        "n1@lists.example", "News <news@lists.example>", "Issue 42", "News.\n", extra=extra
    )
    src.messages.append(
        (Row(1, "demo", "INBOX", T0, "News", "Issue 42", frozenset(), len(raw)), raw)
    )
    account = Account(
        "demo", "me@demo.test", ServerSettings("imap", "imap.demo.test", 993),
        unsubscribe_allow_hosts=allow,
    )  # fmt: skip
    store = Store.open(tmp_path / "data")
    real = MailBackend(Config(None, tmp_path / "data", 300.0, {"demo": account}), store)

    class Backend(RecordingBackend):
        def unsubscribe(self, account: str, url: str) -> str:
            self.calls.append(("unsubscribe", url))
            return real.unsubscribe(account, url)

    h = Harness(src)
    h.backend = Backend(src)
    h.session.backend = h.backend
    return h


def test_u_asks_naming_the_host_then_posts(server: HttpsServer, tmp_path: Path) -> None:
    h = reader(tmp_path, f"<{server.url('/u?id=42')}>", allow=("localhost",))
    h.press("enter", "U")
    assert "Unsubscribe with a one-click POST to localhost? (y/n)" in h.screen()
    h.work()
    assert server.requests == []
    h.press("y")
    h.work()
    assert "unsubscribed: localhost answered 200 OK" in h.screen()
    [request] = server.requests
    assert (request.method, request.path, request.body) == (
        "POST",
        "/u?id=42",
        b"List-Unsubscribe=One-Click",
    )


def test_n_sends_nothing(server: HttpsServer, tmp_path: Path) -> None:
    h = reader(tmp_path, f"<{server.url('/u')}>", allow=("localhost",))
    h.press("enter", "U", "n")
    h.work()
    assert "not unsubscribed" in h.screen()
    assert server.requests == []


def test_a_private_address_is_refused_with_the_reason(server: HttpsServer, tmp_path: Path) -> None:
    h = reader(tmp_path, f"<{server.url('/u')}>", allow=())
    h.press("enter", "U", "y")
    h.work()
    assert "points at a private address (127.0.0.1)" in h.screen()
    assert server.requests == []


def test_the_mailto_way_opens_the_composer_for_review(tmp_path: Path) -> None:
    h = reader(tmp_path, "<mailto:leave@lists.example?subject=leave%20weekly>", allow=())
    h.press("enter", "U")
    screen = h.screen()
    assert "leave@lists.example" in screen and "leave weekly" in screen
    assert not any(c[0] == "send" for c in h.backend.calls)
