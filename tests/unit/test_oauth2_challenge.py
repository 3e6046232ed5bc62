"""The RFC 7628 error challenge in plain words, and the answer a client owes it."""

from __future__ import annotations

import base64

import pytest

from tmail.protocols.sasl import SaslAnswer, challenge_words


@pytest.mark.parametrize(
    ("challenge", "words"),
    [
        (b'{"status":"invalid_token"}', "the server refused the access token"),  # Dovecot
        (
            base64.b64encode(b'{"status":"401","schemes":"bearer","scope":"mail"}'),
            "the server refused the access token (expired, revoked, or granted for another "
            "mailbox than the login name); it asks for the scope mail",
        ),
        (b'{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}', "another user"),
        (b'{"status":"insufficient_scope","scope":"mail:smtp"}', "lacks the scope"),
        (b'{"status":"\\u001b[31m999"}', "the server refused the token (status"),
    ],
)
def test_the_error_challenge_in_words(challenge: bytes, words: str) -> None:
    said = challenge_words(challenge)
    assert said is not None and words in said
    assert "\x1b" not in said


@pytest.mark.parametrize("raw", [b"", b"not base64 at all!", b"e30=", b"[1, 2]"])
def test_anything_else_is_not_an_error_challenge(raw: bytes) -> None:
    assert challenge_words(raw) is None


def test_the_answer_to_an_error_challenge_is_not_the_token_again() -> None:
    bearer = SaslAnswer("OAUTHBEARER", "n,a=u,\x01auth=Bearer T\x01\x01")
    assert bearer() == "n,a=u,\x01auth=Bearer T\x01\x01"
    assert bearer(b'{"status":"invalid_token"}') == "\x01"  # RFC 7628 3.2.3
    assert bearer.refusal is not None and "refused the access token" in bearer.refusal
    xoauth2 = SaslAnswer("XOAUTH2", "user=u\x01auth=Bearer T\x01\x01")
    xoauth2()
    assert xoauth2(b'{"status":"401"}') == ""  # Google: an empty response


def test_imaplib_gets_the_payload_for_its_empty_continuation_then_the_error_answer() -> None:
    answer = SaslAnswer("XOAUTH2", "user=u\x01auth=Bearer T\x01\x01")
    assert answer(b"") == "user=u\x01auth=Bearer T\x01\x01"  # imaplib passes the empty "+ "
    assert answer(b'{"status":"401"}') == ""
    assert answer.refusal is not None and "refused the access token" in answer.refusal
