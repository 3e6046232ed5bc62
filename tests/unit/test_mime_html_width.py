"""HTML is converted for the width the reader asks for (its pager's), 78 by default."""

from __future__ import annotations

from tmail.mime import parse_message

WORDS = " ".join(f"word{i}" for i in range(80))
RAW = (
    "From: a@x.test\nSubject: s\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
    f"--b\nContent-Type: text/html\n\n<p>{WORDS}</p>\n"
    "--b\nContent-Type: message/rfc822\n\nSubject: inner\nContent-Type: text/html\n\n"
    f"<p>{WORDS}</p>\n--b--\n"
).encode()


def _longest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def test_html_lines_fit_the_width_asked_for_in_enclosed_messages_too() -> None:
    assert 70 < _longest(parse_message(RAW).text) <= 78
    narrow = parse_message(RAW, html_width=40)
    assert 30 < _longest(narrow.text) <= 40
    inner = narrow.nested[0]
    assert 30 < _longest(inner.text) <= 40
