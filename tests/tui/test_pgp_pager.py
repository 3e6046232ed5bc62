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


def compose_to(h: Harness, to: str) -> None:
    h.press("m")
    h.type(to)
    h.press("enter", "enter", "enter")
    h.type("Plans")
    h.press("enter")  # the editor runs, then the review screen


def test_review_screen_shows_and_toggles_openpgp_and_names_recipients_without_a_key(
    pair: tuple[GpgUser, GpgUser], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from tmail.mime.compose import Draft

    alice, me = pair
    monkeypatch.setenv("GNUPGHOME", me.home)  # it has Alice's key, not nokey@example.test's
    h = Harness()
    h.app.identities[0] = replace(h.app.identities[0], pgp_sign="always", pgp_encrypt="always")
    compose_to(h, f"{alice.addr}, nokey@example.test")
    screen = h.screen()
    assert "OpenPGP: sign yes, encrypt yes (S, X)" in screen
    assert "no OpenPGP key for nokey@example.test: encrypted, it cannot be sent" in screen
    assert alice.addr + ":" not in screen  # Alice has a key
    h.press("y")  # refused on the spot: the message stays on the review screen
    h.work()
    assert not any(c[0] == "send" for c in h.backend.calls)
    assert "S Sign  X Encrypt" in h.screen()  # the review screen's keys: still there
    assert "not sent: no OpenPGP key for nokey@example.test" in h.screen()
    h.press("X")
    screen = h.screen()
    assert "OpenPGP: sign yes, encrypt no (S, X)" in screen
    assert "no OpenPGP key" not in screen
    h.press("S", "X")
    assert "OpenPGP: sign no, encrypt yes (S, X)" in h.screen()
    h.press("X", "y")
    h.work()
    draft = next(c[1] for c in h.backend.calls if c[0] == "send")
    assert isinstance(draft, Draft)
    assert (draft.pgp_sign, draft.pgp_encrypt) == (False, False)


def test_review_screen_opportunistic_encryption_says_what_will_happen(
    pair: tuple[GpgUser, GpgUser], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    _alice, me = pair
    monkeypatch.setenv("GNUPGHOME", me.home)
    h = Harness()
    h.app.identities[0] = replace(h.app.identities[0], pgp_encrypt="opportunistic")
    compose_to(h, "nokey@example.test")
    screen = h.screen()
    assert "OpenPGP: sign no, encrypt if every recipient has a key (S, X)" in screen
    assert "no OpenPGP key for nokey@example.test: it will go unencrypted" in screen
    h.press("X")  # would not encrypt: X asks for it
    assert "encrypt yes" in h.screen()
    assert "encrypted, it cannot be sent" in h.screen()


def test_signing_without_a_key_of_ones_own_is_said_on_the_review_screen(
    pair: tuple[GpgUser, GpgUser], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    alice, _me = pair
    monkeypatch.setenv("GNUPGHOME", alice.home)  # no secret key for me@demo.test there
    h = Harness()
    h.app.identities[0] = replace(h.app.identities[0], pgp_sign="always")
    compose_to(h, "friend@example.org")
    h.press("y")
    h.work()
    assert not any(c[0] == "send" for c in h.backend.calls)
    assert "no OpenPGP secret key of yours for me@demo.test" in h.screen()
    h.press("S", "y")  # signing off: it goes
    h.work()
    assert any(c[0] == "send" for c in h.backend.calls)


def test_a_reply_to_an_encrypted_message_quotes_it_decrypted_and_is_to_be_encrypted(
    pair: tuple[GpgUser, GpgUser], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, me = pair
    monkeypatch.setenv("GNUPGHOME", me.home)
    h = harness(mime_encrypted(alice, me, "plans", text_entity(SECRET)))
    h.press("enter", "r", "enter")  # the form opens on Subject; Enter runs the editor
    assert f"> {SECRET}" in h.edited[0]
    assert "OpenPGP: sign no, encrypt yes (S, X)" in h.screen()


def test_the_editor_file_of_a_message_to_be_encrypted_is_made_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tmail.ui import external

    folder = external.private_tmp()
    if folder is None:
        pytest.skip("no XDG_RUNTIME_DIR or /dev/shm here")
    log = tmp_path / "where"
    editor = tmp_path / "editor"
    editor.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {log}\n')
    editor.chmod(0o755)
    monkeypatch.setenv("VISUAL", str(editor))
    h = Harness()
    h.app.options.editor = None
    h.app.options.opener = None  # the real editor command runs
    assert external.edit_text(h.app, SECRET, private=True) == SECRET
    assert log.read_text().startswith(folder + "/tmail-compose-")
    assert not Path(log.read_text()).exists()  # removed after
    external.edit_text(h.app, "plain")
    assert not log.read_text().startswith(folder + "/")


def test_pgp_sign_ask_asks_when_sending(
    pair: tuple[GpgUser, GpgUser], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from tmail.mime.compose import Draft

    _alice, me = pair
    monkeypatch.setenv("GNUPGHOME", me.home)
    h = Harness()
    h.app.identities[0] = replace(h.app.identities[0], pgp_sign="ask")
    compose_to(h, "friend@example.org")
    assert "OpenPGP: sign ask (when sending), encrypt no" in h.screen()
    h.press("y")
    assert "Sign it with OpenPGP? (y/n)" in h.screen()
    h.press("y")
    h.work()
    draft = next(c[1] for c in h.backend.calls if c[0] == "send")
    assert isinstance(draft, Draft) and draft.pgp_sign is True
