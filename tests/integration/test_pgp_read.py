"""Reading OpenPGP mail with the real GnuPG: PGP/MIME and inline, signed and encrypted, built by
the ``gpg`` command line the way other clients build them; and the bad cases, each with its
status line and nothing raised.

Every user has a GnuPG home of its own made for the test (tests/support/gnupg.py): Bob reads,
Alice writes, Mallory's key is one Bob has never seen.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.gnupg import (
    GpgUser,
    inline_message,
    mime_encrypted,
    mime_signed,
    text_entity,
    with_attachment,
)
from tmail.cli import main
from tmail.mime import parse_message
from tmail.mime.gpg import GnupgBackend
from tmail.mime.pgp import CryptoStatus, Opened, open_protected
from tmail.ui.pager import body_lines
from tmail.ui.render import render

SECRET = "The launch code is 0000, tell nobody"


@pytest.fixture(scope="module")
def people() -> Iterator[dict[str, GpgUser]]:
    users = {
        "alice": GpgUser.make("Alice Example", "alice@example.test"),
        "bob": GpgUser.make("Bob Example", "bob@example.test"),
        "mallory": GpgUser.make("Mallory", "mallory@example.test"),
    }
    try:
        alice, bob, mallory = users["alice"], users["bob"], users["mallory"]
        alice.learn(bob)
        mallory.learn(bob)
        bob.learn(alice, certify=True)  # Bob has checked Alice's key; he has no Mallory key
        yield users
    finally:
        for user in users.values():
            user.close()


def read_as(user: GpgUser, raw: bytes) -> Opened:
    return open_protected(raw, lambda: GnupgBackend(user.home))


def crypto(user: GpgUser, raw: bytes) -> CryptoStatus:
    opened = read_as(user, raw)
    assert opened.crypto is not None
    return opened.crypto


def show_json(user: GpgUser, raw: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("GNUPGHOME", user.home)
    path = tmp_path / "m.eml"
    path.write_bytes(raw)
    out, err = io.StringIO(), io.StringIO()
    assert main(["show", "--json", str(path)], stdout=out, stderr=err) == 0, err.getvalue()
    data: dict = json.loads(out.getvalue())
    return data


# --- PGP/MIME ---------------------------------------------------------------------------------


def test_pgp_mime_signed_by_a_certified_key_is_good_trusted_and_matches_from(people) -> None:
    alice, bob = people["alice"], people["bob"]
    raw = mime_signed(alice, bob.addr, "signed", text_entity("Hello Bob, signed."))
    status = crypto(bob, raw)
    sig = status.signature
    assert sig is not None
    assert (sig.status, sig.trusted, sig.matches_from) == ("good", True, True)
    assert sig.fingerprint == alice.fingerprint
    assert status.signed and not status.encrypted and status.error is None
    assert status.level == "good"
    assert status.line().startswith("PGP: good signature from Alice Example <alice@example.test>")
    assert "trusted" in status.line() and "micalg" not in status.line()


def test_pgp_mime_signed_by_a_key_not_certified_says_not_trusted(people) -> None:
    alice, bob = people["alice"], people["bob"]
    raw = mime_signed(bob, alice.addr, "from bob", text_entity("Hi Alice"))
    status = crypto(alice, raw)  # Alice imported Bob's key but never certified it
    assert status.signature is not None and status.signature.status == "good"
    assert status.signature.trusted is False
    assert "key not trusted" in status.line()
    assert status.level == "doubt"


def test_signature_from_a_key_that_is_not_the_from_address_is_said(people) -> None:
    alice, bob = people["alice"], people["bob"]
    raw = mime_signed(alice, bob.addr, "x", text_entity("hello")).replace(
        b"From: Alice Example <alice@example.test>", b"From: Boss <boss@example.test>"
    )
    status = crypto(bob, raw)
    assert status.signature is not None and status.signature.status == "good"
    assert status.signature.matches_from is False
    assert "signer is not the From address" in status.line()


def test_pgp_mime_signed_with_lf_line_ends_as_a_maildir_stores_it_still_verifies(people) -> None:
    alice, bob = people["alice"], people["bob"]
    raw = mime_signed(alice, bob.addr, "lf", text_entity("Line one\nLine two"))
    status = crypto(bob, raw.replace(b"\r\n", b"\n"))
    assert status.signature is not None and status.signature.status == "good"


def test_pgp_mime_encrypted_and_signed_decrypts_with_attachment_listed_and_saved(
    people, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = people["alice"], people["bob"]
    payload = bytes(range(256)) * 40
    raw = mime_encrypted(alice, bob, "enc", with_attachment(SECRET, "plans.bin", payload))
    assert SECRET.encode() not in raw
    opened = read_as(bob, raw)
    status = opened.crypto
    assert status is not None
    assert (status.encrypted, status.decrypted, status.signed) == (True, True, True)
    assert status.signature is not None and status.signature.status == "good"
    assert status.signature.matches_from is True
    assert status.line().startswith("PGP: decrypted; good signature from Alice Example")
    assert "; encrypted to " in status.line()
    parsed = parse_message(opened.raw)
    assert SECRET in parsed.text
    assert parsed.subject == "enc" and parsed.from_[0].addr == alice.addr
    assert [(a.filename, a.data()) for a in parsed.attachments] == [("plans.bin", payload)]

    # the CLI lists and saves the attachment inside the encrypted part
    monkeypatch.setenv("GNUPGHOME", bob.home)
    eml = tmp_path / "enc.eml"
    eml.write_bytes(raw)
    out, err = io.StringIO(), io.StringIO()
    assert main(["attachments", str(eml), "--save", str(tmp_path / "out")], out, err) == 0
    assert (tmp_path / "out" / "plans.bin").read_bytes() == payload


def test_sign_then_encrypt_nested_multipart_signed_inside_encrypted(people) -> None:
    alice, bob = people["alice"], people["bob"]
    signed = mime_signed(alice, bob.addr, "inner", text_entity(SECRET))
    inner = signed[signed.index(b"Content-Type: multipart/signed") :]
    raw = mime_encrypted(alice, bob, "nested", inner, sign=False)
    opened = read_as(bob, raw)
    status = opened.crypto
    assert status is not None and status.decrypted and status.signature is not None
    assert status.signature.status == "good" and status.signed
    assert SECRET in parse_message(opened.raw).text


def test_protected_subject_of_an_encrypted_message_is_shown(people) -> None:
    alice, bob = people["alice"], people["bob"]
    inner = (
        b'Content-Type: text/plain; charset=utf-8; protected-headers="v1"\r\n'
        b"Subject: The real subject\r\n\r\nbody\r\n"
    )
    raw = mime_encrypted(alice, bob, "...", inner)
    parsed = parse_message(read_as(bob, raw).raw)
    assert parsed.subject == "The real subject"


# --- inline PGP -------------------------------------------------------------------------------


def test_inline_clearsigned_text_verifies_and_the_armor_is_gone(people) -> None:
    alice, bob = people["alice"], people["bob"]
    body = alice.clearsign(b"- dashed line\nSigned inline, caf\xc3\xa9.\n")
    opened = read_as(bob, inline_message(alice, bob.addr, "inline signed", body))
    status = opened.crypto
    assert status is not None and status.kind == "inline" and status.signed
    assert status.signature is not None and status.signature.status == "good"
    text = parse_message(opened.raw).text
    assert "Signed inline, café." in text and "- dashed line" in text
    assert "BEGIN PGP" not in text and "\n- - dashed" not in text


def test_inline_encrypted_text_decrypts(people) -> None:
    alice, bob = people["alice"], people["bob"]
    body = alice.encrypt(SECRET.encode() + b"\n", bob.addr, sign=True)
    opened = read_as(bob, inline_message(alice, bob.addr, "inline enc", b"Hi,\n\n" + body))
    status = opened.crypto
    assert status is not None and status.decrypted and status.encrypted
    assert status.signature is not None and status.signature.status == "good"
    text = parse_message(opened.raw).text
    assert SECRET in text and "BEGIN PGP" not in text
    assert "[-- Begin decrypted text --]" in text  # "Hi," before it is not covered
    assert status.partial and "only part of the message" in status.line()


# --- bad input --------------------------------------------------------------------------------


def test_signature_over_a_different_body_is_bad(people) -> None:
    alice, bob = people["alice"], people["bob"]
    raw = mime_signed(alice, bob.addr, "x", text_entity("Pay 10 EUR")).replace(b"10 EUR", b"99 EUR")
    status = crypto(bob, raw)
    assert status.signature is not None and status.signature.status == "bad"
    assert status.level == "bad" and "BAD signature" in status.line()
    assert "99 EUR" in parse_message(read_as(bob, raw).raw).text  # still readable


def test_wrong_micalg_is_said_but_the_signature_still_counts(people) -> None:
    alice, bob = people["alice"], people["bob"]
    raw = mime_signed(alice, bob.addr, "x", text_entity("hello"), micalg="pgp-sha1")
    status = crypto(bob, raw)
    assert status.signature is not None and status.signature.status == "good"
    assert "micalg pgp-sha1 does not name the hash used (pgp-sha256)" in status.line()


def test_malformed_signature_part_gives_a_status_line(people) -> None:
    alice, bob = people["alice"], people["bob"]
    raw = mime_signed(alice, bob.addr, "x", text_entity("hello"))
    start = raw.index(b"-----BEGIN PGP SIGNATURE-----")
    end = raw.index(b"-----END PGP SIGNATURE-----") + len(b"-----END PGP SIGNATURE-----")
    raw = raw[:start] + b"this is not a signature at all" + raw[end:]
    status = crypto(bob, raw)
    assert status.error is not None and "malformed signature part" in status.error
    assert status.level == "bad"
    assert "hello" in parse_message(read_as(bob, raw).raw).text


def test_signature_by_a_key_not_in_the_keyring_is_unknown(people) -> None:
    mallory, bob = people["mallory"], people["bob"]
    status = crypto(bob, mime_signed(mallory, bob.addr, "x", text_entity("hi")))
    assert status.signature is not None and status.signature.status == "unknown-key"
    assert "unknown key" in status.line() and "import the key" in status.line()


def test_truncated_armor_says_so_and_keeps_the_text(people) -> None:
    alice, bob = people["alice"], people["bob"]
    body = alice.encrypt(SECRET.encode(), bob.addr)
    cut = body[: len(body) // 2]
    opened = read_as(bob, inline_message(alice, bob.addr, "cut", cut))
    assert opened.crypto is not None and opened.crypto.decrypted is False
    assert opened.crypto.error is not None and "cannot decrypt" in opened.crypto.error
    assert "BEGIN PGP MESSAGE" in parse_message(opened.raw).text  # shown as it came


def test_truncated_clearsigned_block_says_so(people) -> None:
    alice, bob = people["alice"], people["bob"]
    body = alice.clearsign(b"signed text\n")
    cut = body[: body.index(b"-----BEGIN PGP SIGNATURE-----") + 40]
    status = crypto(bob, inline_message(alice, bob.addr, "cut", cut))
    assert status.error is not None and "cut short" in status.error
    assert status.level == "bad"


def test_message_encrypted_to_a_key_one_does_not_have(people) -> None:
    alice, mallory = people["alice"], people["mallory"]
    raw = mime_encrypted(mallory, people["bob"], "not for alice", text_entity(SECRET))
    opened = read_as(alice, raw)
    status = opened.crypto
    assert status is not None and status.encrypted and not status.decrypted
    assert status.error is not None and "no secret key" in status.error
    assert len(status.encrypted_to) == 2  # Bob's and Mallory's encryption subkeys
    assert SECRET not in parse_message(opened.raw).text


def test_no_gpg_program_gives_a_status_line_not_a_traceback(people) -> None:
    alice, bob = people["alice"], people["bob"]
    raw = mime_signed(alice, bob.addr, "x", text_entity("hello"))
    opened = open_protected(raw, lambda: GnupgBackend(bob.home, binary="no-such-gpg"))
    assert opened.crypto is not None and opened.crypto.error is not None
    assert "cannot run gpg" in opened.crypto.error and "install GnuPG" in opened.crypto.error


# --- what the person sees ---------------------------------------------------------------------


def test_pager_shows_the_status_line_above_the_decrypted_text(
    people, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = people["alice"], people["bob"]
    monkeypatch.setenv("GNUPGHOME", bob.home)
    raw = mime_encrypted(alice, bob, "for the pager", text_entity(SECRET))
    lines = [line.plain for line in body_lines(render(raw))]
    status_at = next(i for i, line in enumerate(lines) if line.startswith("PGP: "))
    text_at = next(i for i, line in enumerate(lines) if SECRET in line)
    assert status_at < text_at
    assert "decrypted" in lines[status_at] and "good signature from Alice" in lines[status_at]
    # right under the header block (and the charset line)
    assert lines[status_at - 1].startswith(("Subject: ", "[charset: "))
    assert lines[status_at + 1] == ""


def test_show_json_carries_crypto(people, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alice, bob = people["alice"], people["bob"]
    raw = mime_encrypted(alice, bob, "json", text_entity(SECRET))
    data = show_json(bob, raw, tmp_path, monkeypatch)
    assert SECRET in data["text"]
    c = data["crypto"]
    assert (c["encrypted"], c["decrypted"], c["signed"], c["error"]) == (True, True, True, None)
    assert c["signature"] == {
        "status": "good",
        "signer": "Alice Example <alice@example.test>",
        "fingerprint": alice.fingerprint,
        "trusted": True,
        "matches_from": True,
    }
    plain = show_json(bob, inline_message(alice, bob.addr, "p", b"plain\n"), tmp_path, monkeypatch)
    assert plain["crypto"] is None


def test_show_prints_the_status_line_under_the_headers(
    people, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = people["alice"], people["bob"]
    monkeypatch.setenv("GNUPGHOME", bob.home)
    path = tmp_path / "m.eml"
    path.write_bytes(mime_signed(alice, bob.addr, "sig", text_entity("hello there")))
    out, err = io.StringIO(), io.StringIO()
    assert main(["show", str(path)], stdout=out, stderr=err) == 0
    text = out.getvalue()
    assert "\nSubject: sig\n\nPGP: good signature from Alice Example" in text
    assert text.index("PGP: ") < text.index("hello there")


def test_decrypted_text_is_not_written_to_any_file(
    people, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = people["alice"], people["bob"]
    raw = mime_encrypted(alice, bob, "leak?", text_entity(SECRET))
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR is read again
    data = show_json(bob, raw, tmp_path, monkeypatch)
    assert SECRET in data["text"]
    for root in (tmpdir, Path(bob.home)):
        for dirpath, _dirs, files in os.walk(root):
            for name in files:
                path = Path(dirpath) / name
                if path.is_file():
                    assert SECRET.encode() not in path.read_bytes(), path


@pytest.mark.slow
def test_a_100_mb_encrypted_attachment_opens_and_saves_whole(people) -> None:
    alice, bob = people["alice"], people["bob"]
    payload = os.urandom(100 << 20)
    raw = mime_encrypted(alice, bob, "big", with_attachment("the big one", "big.bin", payload))
    opened = read_as(bob, raw)
    assert opened.crypto is not None and opened.crypto.decrypted, opened.crypto
    parsed = parse_message(opened.raw)
    assert "the big one" in parsed.text
    (att,) = parsed.attachments
    assert (att.filename, att.size) == ("big.bin", len(payload))
    assert att.data() == payload


def test_no_terminal_for_the_passphrase_says_set_gpg_tty(
    people, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = people["alice"]
    locked = GpgUser.make("Locked", "locked@example.test", passphrase="secret words")
    try:
        alice.learn(locked)
        monkeypatch.delenv("GPG_TTY", raising=False)
        monkeypatch.delenv("DISPLAY", raising=False)
        raw = mime_encrypted(alice, locked, "locked", text_entity(SECRET))
        status = crypto(locked, raw)
        assert status.encrypted and not status.decrypted
        assert status.error == (
            "cannot decrypt: no terminal to ask for the passphrase on: set GPG_TTY=$(tty) "
            "(gpg-agent(1))"
        )
    finally:
        locked.close()


def test_inline_clearsigned_text_changed_after_signing_is_bad(people) -> None:
    alice, bob = people["alice"], people["bob"]
    body = alice.clearsign(b"Pay 10 EUR\n").replace(b"Pay 10 EUR", b"Pay 99 EUR")
    opened = read_as(bob, inline_message(alice, bob.addr, "inline bad", body))
    status = opened.crypto
    assert status is not None and status.signature is not None
    assert status.signature.status == "bad" and status.level == "bad"
    assert "Pay 99 EUR" in parse_message(opened.raw).text  # still readable


def test_signature_by_a_key_expired_since_says_so(people) -> None:
    bob = people["bob"]
    old = GpgUser.make("Old Key", "old@example.test", born="20200101T000000", expire="1y")
    try:
        old.sign_options = ("--faked-system-time", "20200601T000000")  # signed while valid
        bob.learn(old)
        status = crypto(bob, mime_signed(old, bob.addr, "old", text_entity("from 2020")))
        assert status.signature is not None and status.signature.status == "expired-key"
        assert "but the key has expired" in status.line() and status.level == "doubt"
    finally:
        old.close()


def test_signature_by_a_revoked_key_says_revoked(people) -> None:
    bob = people["bob"]
    gone = GpgUser.make("Gone", "gone@example.test")
    try:
        raw = mime_signed(gone, bob.addr, "revoked", text_entity("signed, then revoked"))
        bob.learn(gone)
        bob.gpg("--import", data=gone.revocation())
        status = crypto(bob, raw)
        assert status.signature is not None and status.signature.status == "revoked-key"
        assert "the key is REVOKED" in status.line() and status.level == "bad"
    finally:
        gone.close()
