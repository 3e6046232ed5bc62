"""POP3 multi-line answers read block-wise: the terminator found across any block boundary,
dot-unstuffing and bare LF exactly as line-by-line reading gave, and a pipelined next answer
left in the reader for whoever reads next."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tmail.core.errors import ConnectFailed, ProtocolError
from tmail.protocols.pop3 import Pop3Session


class _Wire:
    """A poplib stand-in holding a fixed byte stream in a BufferedReader of a small buffer."""

    def __init__(self, data: bytes, buffer: int) -> None:
        self.file = io.BufferedReader(io.BytesIO(data), buffer_size=buffer)  # type: ignore[arg-type]

    def capa(self) -> dict[str, Any]:
        return {}


def session(data: bytes, buffer: int = 8192, **kw: Any) -> Pop3Session:
    return Pop3Session(_Wire(data, buffer), account="a", server="s", **kw)


def stuff(lines: list[bytes]) -> bytes:
    return b"".join((b"." + ln if ln.startswith(b".") else ln) + b"\r\n" for ln in lines) + b".\r\n"


line = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))


@given(
    lines=st.lists(st.one_of(line, st.sampled_from([b".", b"..", b".x", b""])), max_size=20),
    buffer=st.integers(1, 16),
)
def test_body_and_the_next_answer_survive_any_block_size(lines: list[bytes], buffer: int) -> None:
    s = session(stuff(lines) + b"+OK next\r\n", buffer)
    assert s._multiline("RETR") == b"".join(ln + b"\r\n" for ln in lines)
    assert s._line() == b"+OK next\r\n"


def test_empty_answer_and_bare_lf() -> None:
    s = session(b".\r\nA\nB\r\n..C\n.\n+OK\r\n", 3)
    assert s._multiline("LIST") == b""
    assert s._multiline("RETR") == b"A\r\nB\r\n.C\r\n"
    assert s._line() == b"+OK\r\n"


def test_connection_lost_and_oversized_answer() -> None:
    with pytest.raises(ConnectFailed, match="connection lost"):
        session(b"line\r\n.more\r\n")._multiline("RETR")
    with pytest.raises(ProtocolError, match="larger than 100 bytes"):
        session(b"x" * 500 + b"\r\n.\r\n", 16, max_message=100)._multiline("RETR 1")
