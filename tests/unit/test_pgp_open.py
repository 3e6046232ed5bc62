"""open_protected on any bytes and any gpg answer: it never raises, never needs its last-resort
catch (an error starting "OpenPGP: " would mean a bug reached it), and leaves mail without
OpenPGP untouched. gpg is a tiny in-memory backend here that answers what the test says."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tmail.mime import parse_message
from tmail.mime.pgp import GpgOutcome, open_protected

STATUS = st.sampled_from(
    [
        "ENC_TO 7728B170A10FA464 18 0",
        "DECRYPTION_OKAY",
        "DECRYPTION_FAILED",
        "NO_SECKEY 7728B170A10FA464",
        "NODATA 1",
        "BADARMOR",
        "GOODSIG F0930055DC0D46ED Alice <a@x>",
        "BADSIG F0930055DC0D46ED Alice <a@x>",
        "ERRSIG F0930055DC0D46ED 22 8 00 1796404111 9 -",
        "ERRSIG short",
        "VALIDSIG 0D7E 2026-12-04 1 0 4 0 22 8 00 0D7E",
        "VALIDSIG",
        "TRUST_FULLY 0 pgp",
        "EXPKEYSIG X Y",
        "REVKEYSIG",
        "ERROR pkdecrypt_failed 83918950",
        "ERROR x notanumber",
        "SIG_CREATED D 22 8 00 1 X",
        "",
    ]
)


class AnswerGpg:
    """Answers every call with the same outcome."""

    def __init__(self, outcome: GpgOutcome) -> None:
        self.outcome = outcome

    def decrypt(self, data: bytes) -> GpgOutcome:
        return self.outcome

    def verify_detached(self, data: bytes, signature: bytes) -> GpgOutcome:
        return self.outcome

    def key_uids(self, keys: object) -> dict[str, tuple[str, ...]]:
        return {}


PIECES = st.sampled_from(
    [
        b"From: A <a@x>\n",
        b"Subject: s\n",
        b"MIME-Version: 1.0\n",
        b'Content-Type: multipart/signed; protocol="application/pgp-signature"; micalg=pgp-sha1;'
        b' boundary="b"\n',
        b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=b\n',
        b"Content-Type: multipart/mixed; boundary=b\n",
        b"Content-Type: application/pgp-signature\n",
        b"Content-Type: text/plain; charset=utf-8\n",
        b"Content-Transfer-Encoding: base64\n",
        b"Content-Transfer-Encoding: quoted-printable\n",
        b"\n",
        b"--b\n",
        b"--b--\n",
        b"-----BEGIN PGP MESSAGE-----\n",
        b"-----END PGP MESSAGE-----\n",
        b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n",
        b"-----BEGIN PGP SIGNATURE-----\n",
        b"-----END PGP SIGNATURE-----\n",
        b"Version: 1\n",
        b"hello\r\n",
        b"\xff\xfe\x00",
    ]
)
ENTITY = st.lists(PIECES, max_size=12).map(b"".join)
TOPS = st.sampled_from(
    [
        b'Content-Type: multipart/signed; protocol="application/pgp-signature"; '
        b'micalg=pgp-sha256; boundary="b"\n',
        b"Content-Type: multipart/encrypted; protocol=application/pgp-encrypted; boundary=b\n",
        b"Content-Type: multipart/mixed; boundary=b\n",
        b"Content-Type: text/plain\n",
    ]
)
PART_HEADS = st.sampled_from(
    [
        b"Content-Type: text/plain\n\n",
        b"Content-Type: application/pgp-signature\n\n",
        b"Content-Type: application/pgp-encrypted\n\nVersion: 1\n",
        b"Content-Type: application/octet-stream\n\n",
        b"Content-Type: multipart/signed; protocol=application/pgp-signature; boundary=c\n\n",
        b"",
    ]
)
PART = st.tuples(PART_HEADS, ENTITY).map(b"".join)
# A top part and its children, each part of random pieces: reaches every layer's code.
STRUCTURED = st.tuples(TOPS, st.lists(PART, max_size=3), st.booleans()).map(
    lambda t: (
        b"From: A <a@x>\n"
        + t[0]
        + b"\n"
        + b"".join(b"--b\n" + p + b"\n" for p in t[1])
        + (b"--b--\n" if t[2] else b"")
    )
)


@settings(max_examples=300, deadline=None)
@given(
    message=st.one_of(STRUCTURED, st.lists(PIECES, max_size=40).map(b"".join)),
    ok=st.booleans(),
    data=st.one_of(ENTITY, st.binary(max_size=200)),
    status=st.lists(STATUS, max_size=8),
)
def test_any_message_and_any_gpg_answer(message: bytes, ok: bool, data: bytes, status: list[str]):
    outcome = GpgOutcome(ok, data, tuple(status))
    opened = open_protected(message, lambda: AnswerGpg(outcome))
    if opened.crypto is None:
        assert opened.raw == message
    else:
        assert not (opened.crypto.error or "").startswith("OpenPGP: "), opened.crypto.error
        assert opened.crypto.line().startswith("PGP: ")
        json.dumps(opened.crypto.to_json())
        assert opened.crypto.level in ("good", "doubt", "bad")
    parse_message(opened.raw)  # and what it gives reads


@given(st.binary(max_size=400))
def test_mail_without_openpgp_is_not_touched_and_gpg_not_called(raw: bytes) -> None:
    def no_gpg() -> AnswerGpg:
        raise AssertionError("gpg asked about mail without OpenPGP")

    if b"pgp" in raw.lower() or b"PGP" in raw:
        return
    opened = open_protected(raw, no_gpg)
    assert opened == type(opened)(raw, None)
