"""The raw view's text: the source with each part's 8-bit text in its own charset."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tmail.mime.rawtext import source_text


def test_raw_source_text_of_a_multipart_with_a_charset_per_part() -> None:
    raw = (
        b"From: a@x.test\r\nSubject: =?koi8-r?b?8NLJ18XU?=\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed;\r\n boundary="BB"\r\n\r\n'
        b"--BB\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n"
        + "Привет из КОИ\r\n".encode("koi8-r")
        + b'--BB\r\nContent-Type: text/plain;\r\n\tcharset="windows-1251"\r\n\r\n'
        + "Привет из Windows\r\n".encode("cp1251")
        + b"--BB\r\nContent-Type: text/plain\r\n\r\n"
        + "Привет без кодировки\r\n".encode("cp1251")
        + b"--BB--\r\n"
    )
    text = source_text(raw, ("windows-1251",))
    assert "Привет из КОИ" in text and "Привет из Windows" in text
    assert "Привет без кодировки" in text  # no charset: the hint, as the message view
    assert "=?koi8-r?b?8NLJ18XU?=" in text and "--BB--" in text  # the source stays the source
    assert source_text(b"Subject: x\r\n\r\nplain \xff bytes\r\n").startswith("Subject: x\r\n")


@given(st.binary(max_size=400))
def test_any_bytes_give_text_and_ascii_stays_as_it_is(raw: bytes) -> None:
    text = source_text(raw)
    if raw.isascii():
        assert text == raw.decode("ascii")
