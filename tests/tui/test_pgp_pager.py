"""The reader with OpenPGP mail: Enter on an encrypted message shows the status line above the
decrypted text, its attachments list and save; a bad signature's line says so.
Real GnuPG homes (tests/support/gnupg.py); GNUPGHOME points the reader at the recipient's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.gnupg import GpgUser, mime_encrypted, mime_signed, text_entity, with_attachment
from tests.tui.conftest import T0, Harness
from tmail.ui.source import MemorySource, Row

SECRET = "The vault opens at dawn"


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[GpgUser, GpgUser]]:
    alice = GpgUser.make("Alice Example", "alice@example.test")
    me = GpgUser.make("Me", "me@demo.test")
    try:
        alice.learn(me)
        me.learn(alice, certify=True)
        yield alice, me
    finally:
        alice.close()
        me.close()


def harness(*messages: bytes) -> Harness:
    rows = [
        (Row(i, "demo", "INBOX", T0, "Alice", f"m{i}", frozenset(), len(raw)), raw)
        for i, raw in enumerate(messages, 1)
    ]
    return Harness(source=MemorySource(rows))


def test_encrypted_message_opens_decrypted_under_its_status_line(
    pair: tuple[GpgUser, GpgUser], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, me = pair
    monkeypatch.setenv("GNUPGHOME", me.home)
    payload = b"%PDF-1.1 secret plans"
    raw = mime_encrypted(alice, me, "plans", with_attachment(SECRET, "plans.pdf", payload))
    h = harness(raw)
    h.press("enter")
    lines = h.screen().splitlines()
    status = next(
        i
        for i, line in enumerate(lines)
        if line.lstrip("│ ").startswith("PGP: decrypted; good signature")
    )
    text = next(i for i, line in enumerate(lines) if SECRET in line)
    assert status < text
    assert "good signature from Alice Example <alice@example.test>, trusted" in lines[status]
    assert "plans.pdf" in h.screen()  # in the attachment list under the text
    h.press("v")
    assert "plans.pdf" in h.screen()
    h.press("s")
    h.app.prompt_edit.set_edit_text(str(tmp_path))
    h.press("enter")
    assert (tmp_path / "plans.pdf").read_bytes() == payload


def test_changed_signed_message_shows_bad_signature(
    pair: tuple[GpgUser, GpgUser], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, me = pair
    monkeypatch.setenv("GNUPGHOME", me.home)
    raw = mime_signed(alice, me.addr, "pay", text_entity("Pay 10 EUR")).replace(b"10 ", b"90 ")
    h = harness(raw)
    h.press("enter")
    screen = h.screen()
    assert "PGP: BAD signature claiming Alice Example" in screen
    assert "Pay 90 EUR" in screen


def test_encrypted_html_is_wrapped_again_for_a_wider_window(
    pair: tuple[GpgUser, GpgUser], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, me = pair
    monkeypatch.setenv("GNUPGHOME", me.home)
    words = " ".join(f"word{i}" for i in range(80))
    html = (
        b"Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>"
        + words.encode()
        + b"</p></body></html>\r\n"
    )
    h = harness(mime_encrypted(alice, me, "html", html))
    h.press("enter")
    narrow = h.app.render_text(120, 30)
    wide = h.app.render_text(220, 30)
    longest = max(len(line.rstrip()) for line in wide.splitlines() if "word1" in line)
    assert longest > max(len(line.rstrip()) for line in narrow.splitlines()) + 40
