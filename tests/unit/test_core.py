"""Core helpers: terminal-safe text, durations, error lines."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tmail.core.durations import format_duration, parse_duration
from tmail.core.errors import AuthFailed
from tmail.core.safe import safe_line, safe_text


def test_escape_sequences_are_made_visible() -> None:
    assert safe_line("Hi \x1b[2J\x1b]0;owned\x07there") == "Hi ^[[2J^[]0;owned^Gthere"
    assert safe_line("a\x9bb") == "a<U+009B>b"  # C1 CSI


def test_body_keeps_tabs_and_newlines_but_not_carriage_returns() -> None:
    assert safe_text("a\tb\r\nc\rd\x00") == "a\tb\nc\nd^@"


def test_bidi_override_in_a_file_name_is_shown() -> None:
    assert safe_line("invoice\u202efdp.exe") == "invoice<U+202E>fdp.exe"


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    for out in (safe_line(text), safe_text(text)):
        assert not any((ord(c) < 0x20 and c not in "\t\n") or 0x7F <= ord(c) <= 0x9F for c in out)
    assert "\n" not in safe_line(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("7d", 604800), ("45", 45), (2, 2)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "5 minutes", "m5", "-3", "1x"])
def test_bad_durations_say_what_is_allowed(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_format_duration() -> None:
    assert format_duration(90) == "1m30s"
    assert format_duration(0) == "0s"
    assert format_duration(90061) == "1d1h1m1s"


def test_error_line_names_account_server_and_hint() -> None:
    err = AuthFailed(
        "login refused: [AUTHENTICATIONFAILED] \x1b[31mbad\x1b[0m",
        account="work",
        server="imap.example.test:993",
        hint="check the password (tmail account add work)",
    )
    assert err.one_line() == (
        "work (imap.example.test:993): login refused: [AUTHENTICATIONFAILED] "
        "^[[31mbad^[[0m — check the password (tmail account add work)"
    )
