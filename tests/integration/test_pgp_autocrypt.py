"""Autocrypt level 1 with the real GnuPG: tmail's own header carries a key that imports, and
the reader learns a correspondent's key from theirs, only for an address it has no key for and
only when the header's addr is the From address."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.gnupg import GpgUser
from tests.tui.conftest import T0, Harness
from tmail.config import load_config
from tmail.config.model import Account
from tmail.core.models import Address
from tmail.mime.autocrypt import header_field, learn, read_header
from tmail.mime.compose import Draft, compose
from tmail.mime.gpg import GnupgBackend
from tmail.mime.pgp import open_protected
from tmail.outbox.protect import protect_composed
from tmail.ui.source import MemorySource, Row


@pytest.fixture
def alice() -> Iterator[GpgUser]:
    user = GpgUser.make("Alice Example", "alice@example.test")
    yield user
    user.close()


@pytest.fixture
def reader() -> Iterator[GpgUser]:
    user = GpgUser.make("Reader", "reader@example.test")
    yield user
    user.close()


def account(tmp_path: Path, **changes: object) -> Account:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[accounts.a]\nemail = "alice@example.test"\nautocrypt = true\n'
        'incoming.protocol = "imap"\nincoming.host = "127.0.0.1"\n'
    )
    return dataclasses.replace(load_config(cfg, environ={}).account(), **changes)


def alice_mail(tmp_path: Path, alice: GpgUser, **changes: object) -> bytes:
    draft = Draft(
        from_=Address("Alice Example", "alice@example.test"),
        to=("reader@example.test",),
        subject="hello",
        body="Hi!\n",
    )
    composed = protect_composed(
        compose(draft), account(tmp_path, **changes), backend=lambda: GnupgBackend(alice.home)
    )
    return composed.data


def test_sent_mail_carries_an_autocrypt_header_whose_key_imports(
    tmp_path: Path, alice: GpgUser, reader: GpgUser
) -> None:
    data = alice_mail(tmp_path, alice)
    head = data.split(b"\n\n", 1)[0]
    assert b"\nAutocrypt: addr=alice@example.test;" in head and b"prefer-encrypt" not in head
    found = read_header(data)
    assert found is not None and found.addr == "alice@example.test"
    assert GnupgBackend(reader.home).import_key(found.keydata) == (alice.fingerprint,)
    mutual = read_header(alice_mail(tmp_path, alice, pgp_encrypt="opportunistic"))
    assert mutual is not None and mutual.prefer_encrypt


def test_signed_mail_keeps_the_header_outside_and_still_verifies(
    tmp_path: Path, alice: GpgUser, reader: GpgUser
) -> None:
    data = alice_mail(tmp_path, alice, pgp_sign="always")
    assert read_header(data) is not None
    backend = GnupgBackend(reader.home)
    assert learn(data, backend) == "alice@example.test"  # learned from the header
    opened = open_protected(data, lambda: backend)
    assert opened.crypto is not None and opened.crypto.signature is not None
    assert opened.crypto.signature.status == "good"


def test_learning_needs_the_from_address_and_never_adds_a_second_key(
    tmp_path: Path, alice: GpgUser, reader: GpgUser
) -> None:
    mallory = GpgUser.make("Mallory", "mallory@example.test")
    try:
        backend = GnupgBackend(reader.home)
        good = alice_mail(tmp_path, alice)
        # the same header under another From: ignored (spec: addr must be the From address)
        forged_from = good.replace(b"From: Alice Example <alice@example.test>", b"From: x@y.test")
        assert learn(forged_from, backend) is None
        assert backend.find_key("alice@example.test") is None
        assert learn(good, backend) == "alice@example.test"
        assert backend.find_key("alice@example.test") == alice.fingerprint
        # Mallory's key offered for Alice's address: Alice already has one, nothing is added
        fake = header_field(
            "alice@example.test",
            GnupgBackend(mallory.home).export_minimal(mallory.fingerprint),
            mutual=True,
        )
        forged = b"From: alice@example.test\nTo: reader@example.test\n" + fake + b"\n\nhi\n"
        assert read_header(forged) is not None
        assert learn(forged, backend) is None
        assert backend.find_key("mallory@example.test") is None
        # two Autocrypt fields: both ignored
        assert read_header(forged.replace(b"\n\nhi", b"\n" + fake + b"\n\nhi")) is None
    finally:
        mallory.close()


def test_the_reader_learns_the_key_when_the_message_is_opened(
    tmp_path: Path, alice: GpgUser, reader: GpgUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GNUPGHOME", reader.home)
    raw = alice_mail(tmp_path, alice)
    src = MemorySource(
        [(Row(1, "demo", "INBOX", T0, "Alice", "hello", frozenset(), len(raw)), raw)]
    )
    h = Harness(source=src)
    h.app.identities[0] = dataclasses.replace(h.app.identities[0], autocrypt=True)
    h.press("enter")
    assert "learned the OpenPGP key of alice@example.test (Autocrypt)" in h.screen()
    assert GnupgBackend(reader.home).find_key("alice@example.test") == alice.fingerprint
