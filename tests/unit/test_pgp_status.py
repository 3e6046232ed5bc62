"""gpg's status lines read into a verdict, and the one line the pager shows for each
(GnuPG doc/DETAILS; the lines below are as gpg 2.2 prints them)."""

from __future__ import annotations

import pytest

from tmail.mime.pgp import CryptoStatus, Signature, looks_protected, read_status

FPR = "0D7E435FD10DC2CEA7DCA0FBF0930055DC0D46ED"
GOOD = (
    "NEWSIG",
    "SIG_ID mPDlqalhx8nS8j8khcNpwtE74vA 2026-12-04 1796404111",
    "GOODSIG F0930055DC0D46ED Alice <alice@example.test>",
    f"VALIDSIG {FPR} 2026-12-04 1796404111 0 4 0 22 10 00 {FPR}",
    "TRUST_ULTIMATE 0 pgp",
)


def test_good_signature_with_ultimate_trust() -> None:
    sig = read_status(GOOD).signature
    assert sig == Signature(
        status="good",
        signer="Alice <alice@example.test>",
        fingerprint=FPR,
        key_id="F0930055DC0D46ED",
        trusted=True,
        validity="ultimate",
        hash_name="pgp-sha512",
    )


def test_marginal_trust_is_not_trusted() -> None:
    sig = read_status((*GOOD[:-1], "TRUST_MARGINAL 0 pgp")).signature
    assert sig is not None and sig.status == "good" and not sig.trusted


@pytest.mark.parametrize(
    ("line", "status", "words"),
    [
        ("BADSIG F0930055DC0D46ED Alice <a@x>", "bad", "BAD signature claiming Alice <a@x>"),
        ("EXPKEYSIG F0930055DC0D46ED Alice <a@x>", "expired-key", "the key has expired"),
        ("REVKEYSIG F0930055DC0D46ED Alice <a@x>", "revoked-key", "the key is REVOKED"),
        ("EXPSIG F0930055DC0D46ED Alice <a@x>", "expired", "expired signature from Alice"),
        (
            f"ERRSIG F0930055DC0D46ED 22 8 00 1796404111 9 {FPR}",
            "unknown-key",
            "signature by unknown key F0930055DC0D46ED: import the key",
        ),
        ("ERRSIG F0930055DC0D46ED 22 8 00 1796404111 4 -", "error", "cannot be checked"),
    ],
)
def test_each_verdict_has_its_words(line: str, status: str, words: str) -> None:
    sig = read_status(("NEWSIG", line)).signature
    assert sig is not None and sig.status == status
    assert words in CryptoStatus("pgp/mime", signed=True, signature=sig).line()


def test_percent_escaped_user_id_is_unescaped() -> None:
    sig = read_status(("GOODSIG ABCD Caf%C3%A9 <c@x>",)).signature
    assert sig is not None and sig.signer == "Café <c@x>"


def test_decryption_reading() -> None:
    reading = read_status(
        (
            "ENC_TO 7728B170A10FA464 18 0",
            "ENC_TO 1111111111111111 18 0",
            "NO_SECKEY 1111111111111111",
            "BEGIN_DECRYPTION",
            "DECRYPTION_OKAY",
            "SIG_CREATED D 22 8 00 1796404111 " + FPR,
        )
    )
    assert reading.encrypted_to == ["7728B170A10FA464", "1111111111111111"]
    assert reading.decryption_ok and reading.created_hash == "pgp-sha256"


def test_lines_for_encryption() -> None:
    done = CryptoStatus("pgp/mime", encrypted=True, decrypted=True, encrypted_to=("AA", "BB"))
    assert done.line() == "PGP: decrypted; encrypted to AA, BB"
    assert done.level == "good"
    failed = CryptoStatus("pgp/mime", encrypted=True, error="cannot decrypt: no secret key")
    assert failed.line() == "PGP: encrypted; cannot decrypt: no secret key"
    assert failed.level == "bad"


def test_looks_protected_is_false_for_plain_mail() -> None:
    assert not looks_protected(b"Subject: hi\r\n\r\nplain text\r\n")
    assert looks_protected(b"Content-Type: multipart/signed; protocol=application/pgp-signature")
    assert looks_protected(b"\r\n-----BEGIN PGP MESSAGE-----\r\n")


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (83918950, "set GPG_TTY=$(tty)"),  # ENOTTY from the agent (source 5)
        (83886179, "cancelled"),  # GPG_ERR_CANCELED
        (83886091, "bad passphrase"),
    ],
)
def test_why_the_secret_key_could_not_be_used(code: int, words: str) -> None:
    from tmail.mime.pgp import GpgOutcome, _describe_failure

    lines = ("ENC_TO FEDA675190240B52 18 0", f"ERROR pkdecrypt_failed {code}", "DECRYPTION_FAILED")
    why = _describe_failure(read_status(lines), GpgOutcome(False, b"", lines))
    assert why.startswith("cannot decrypt: ") and words in why
