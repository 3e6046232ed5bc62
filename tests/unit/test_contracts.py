"""The shared types other layers build on: flags, summaries, the default account."""

from __future__ import annotations

from pathlib import Path

import pytest

from tmail.config.model import Account, Config, ServerSettings
from tmail.core.errors import ConfigError
from tmail.core.models import Flag, flags_from_maildir, flags_to_maildir
from tmail.mime import summarize


def test_maildir_flags_round_trip_in_ascii_order() -> None:
    flags = {Flag.SEEN, Flag.FLAGGED, Flag.REPLIED}
    assert flags_to_maildir(flags) == "FRS"
    assert flags_from_maildir("FRSa") == frozenset(flags)


def test_summarize_reads_the_index_fields() -> None:
    raw = (
        b"From: =?utf-8?b?0JDQu9C40YHQsA==?= <alice@example.test>\r\n"
        b"To: bob@example.test\r\nSubject: hello\r\nMessage-ID: <1@x>\r\n"
        b"In-Reply-To: <0@x>\r\nReferences: <a@x> <0@x>\r\n"
        b"Date: Mon, 2 Nov 2026 10:00:00 +0300\r\n\r\nbody text\r\n"
    )
    s = summarize(raw)
    assert s.from_[0].name == "Алиса" and s.from_[0].addr == "alice@example.test"
    assert s.references == ("<a@x>", "<0@x>")
    assert s.date is not None and s.date.utcoffset() is not None
    assert s.body_text.strip() == "body text" and s.size == len(raw)


def test_summarize_never_raises_on_garbage() -> None:
    s = summarize(b"\x00\xff\r\n\r\n\x1b[2J")
    assert s.subject == ""


def test_default_account() -> None:
    inc = ServerSettings("imap", "127.0.0.1", 993)
    a = Account("a", "a@x", inc)
    b = Account("b", "b@x", inc, default=True)
    cfg = Config(Path("c.toml"), Path("data"), 300.0, {"a": a, "b": b})
    assert cfg.account() is b
    with pytest.raises(ConfigError, match="no account named 'zz'"):
        cfg.account("zz")
