"""POP3 for tmail: poplib inside, tmail's own types out.

:class:`Pop3Session` wraps one logged-in ``poplib.POP3`` (made by
:func:`tmail.protocols.connect.open_pop3`, which owns TLS and login) and offers UIDL (with a hash
of the ``TOP n 0`` headers as the fallback for servers without it), RETR pipelined when the server
says PIPELINING (RFC 2449), DELE and QUIT.

Multi-line answers are read here rather than by poplib, for two reasons: poplib refuses any line
over 2048 bytes (``poplib._MAXLINE``, a module global we must not raise for everyone), which makes
a mailbox with one long header line impossible to download; and poplib cannot pipeline. Our limits
are per status line (``max_line``) and per answer (``max_message``, also bounding any one line of
it), so a hostile server still cannot make us read without end.

Deletions are committed by QUIT only (RFC 1939 6): :meth:`Pop3Session.abandon` drops the
connection without QUIT, so nothing marked is deleted after a failed store.
"""

from __future__ import annotations

import contextlib
import hashlib
import poplib
import re
import ssl
from collections.abc import Iterator, Sequence
from typing import Any

from tmail.core.errors import ConnectFailed, NetworkError, ProtocolError
from tmail.core.safe import safe_line

DEFAULT_MAX_LINE = 1024 * 1024  # RFC 5322 allows 998; real mail has 100 kB header lines
DEFAULT_MAX_MESSAGE = 256 * 1024 * 1024


_BARE_LF = re.compile(rb"(?<!\r)\n")


def _find_end(window: bytes) -> tuple[int, int]:
    """Where a multi-line answer ends in ``window``: (index of the newline before the ``.``
    line, length of newline + terminator line), or (-1, 0). Accepts a bare-LF ``.`` line too."""
    crlf = window.find(b"\n.\r\n")
    lf = window.find(b"\n.\n")
    if lf >= 0 and (crlf < 0 or lf < crlf):
        return lf, 3
    return (crlf, 4) if crlf >= 0 else (-1, 0)


class Pop3Session:
    """One logged-in POP3 connection of one account."""

    def __init__(
        self,
        pop: Any,
        *,
        account: str,
        server: str,
        max_line: int = DEFAULT_MAX_LINE,
        max_message: int = DEFAULT_MAX_MESSAGE,
    ) -> None:
        self._p = pop
        self.account = account
        self.server = server
        self.max_line = max_line
        self.max_message = max_message
        self.capabilities: frozenset[str] = frozenset()
        with contextlib.suppress(poplib.error_proto, OSError):
            self.capabilities = frozenset(k.upper() for k in pop.capa())

    # ------------------------------------------------------------------ plumbing
    def error(self, cls: type[NetworkError], message: str, hint: str | None = None) -> NetworkError:
        return cls(message, account=self.account, server=self.server, hint=hint)

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except NetworkError:
            raise
        except poplib.error_proto as exc:
            text = exc.args[0] if exc.args else b""
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            if "EOF" in str(text):
                raise self.error(ConnectFailed, f"{what}: connection lost") from exc
            raise self.error(
                ProtocolError, f"{what} refused: {safe_line(str(text))[:200]}"
            ) from exc
        except TimeoutError as exc:
            raise self.error(
                ConnectFailed, f"{what}: the server stopped answering", "fetch again later"
            ) from exc
        except (ssl.SSLError, OSError, EOFError) as exc:
            raise self.error(ConnectFailed, f"{what}: connection lost ({exc})") from exc

    def _send(self, command: str) -> None:
        self._p._putcmd(command)

    def _line(self) -> bytes:
        line: bytes = self._p.file.readline(self.max_line + 1)
        if not line:
            raise self.error(ConnectFailed, "connection lost in the middle of an answer")
        if len(line) > self.max_line:
            raise self.error(ProtocolError, f"the server sent a line over {self.max_line} bytes")
        return line

    def _status(self, what: str) -> bytes:
        line = self._line().rstrip(b"\r\n")
        if not line.startswith(b"+OK"):
            text = safe_line(line.decode("utf-8", "replace"))[:200]
            raise self.error(ProtocolError, f"{what} refused: {text}")
        return line

    def _multiline(self, what: str) -> bytes:
        """The body of a multi-line answer, dot-unstuffed, lines ending in CRLF.

        The hot path of a POP3 download. Instead of one ``readline`` per line (2.7 million
        calls for 200 MB) it looks at what the reader holds (``peek``), finds the terminating
        ``.`` line with one C search per block and consumes exactly up to it, so a pipelined
        next answer stays in the reader (for the next call and for poplib). Unstuffing and line
        endings are then fixed on the whole body at once.
        """
        f = self._p.file
        max_message = self.max_message
        chunks: list[bytes] = []
        total = 0
        tail = b"\r\n"  # what was consumed last (up to 4 bytes); first the status line's end
        while True:
            block = f.peek(1 << 16)
            if not block:
                raise self.error(ConnectFailed, "connection lost in the middle of an answer")
            window = tail + block
            pos, size = _find_end(window)
            if pos >= 0:
                # The body ends with the newline at ``pos``; the terminator follows it. With tiny
                # blocks its first bytes were taken as body already: ``excess`` drops them.
                body_bytes = pos + 1 - len(tail)
                got = f.read(pos + size - len(tail))
                chunks.append(got[: max(0, body_bytes)])
                excess = max(0, -body_bytes)
                total += body_bytes
            else:
                got = f.read(len(block))
                chunks.append(got)
                total += len(got)
                tail = (tail + got)[-4:]
            if total > max_message:
                raise self.error(ProtocolError, f"{what}: message larger than {max_message} bytes")
            if pos >= 0:
                break
        body = b"".join(chunks)
        if excess:
            body = body[:-excess]
        if body.startswith(b".."):
            body = body[1:]
        if b"\n.." in body:
            body = body.replace(b"\n..", b"\n.")
        if body.count(b"\n") != body.count(b"\r\n"):
            body = _BARE_LF.sub(b"\r\n", body)
        return body

    # ------------------------------------------------------------------ commands
    def stat(self) -> tuple[int, int]:
        with self._errors("STAT"):
            count, size = self._p.stat()
            return int(count), int(size)

    def uidls(self) -> list[tuple[int, str]] | None:
        """(message number, UIDL) for every message, or None when the server has no UIDL."""
        with self._errors("UIDL"):
            self._send("UIDL")
            first = self._line()
            if not first.startswith(b"+OK"):
                return None
            out: list[tuple[int, str]] = []
            for row in self._multiline("UIDL").splitlines():
                parts = row.split(None, 1)
                if len(parts) == 2:
                    out.append((int(parts[0]), parts[1].decode("ascii", "replace").strip()))
            return out

    def sizes(self) -> dict[int, int]:
        with self._errors("LIST"):
            self._send("LIST")
            self._status("LIST")
            out: dict[int, int] = {}
            for row in self._multiline("LIST").splitlines():
                parts = row.split()
                if len(parts) >= 2:
                    out[int(parts[0])] = int(parts[1])
            return out

    def headers(self, number: int) -> bytes:
        """The header of one message (``TOP n 0``), for a preview or a UIDL substitute."""
        with self._errors(f"TOP {number}"):
            self._send(f"TOP {number} 0")
            self._status("TOP")
            return self._multiline("TOP")

    def header_hash_uidls(self, count: int) -> list[tuple[int, str]]:
        """Stand-in UIDLs for servers without UIDL: a hash of each message's header.

        Two identical messages (same header bytes) get the same id; the planner fetches such a
        duplicate once and never deletes it.
        """
        return [
            (n, "top-" + hashlib.sha256(self.headers(n)).hexdigest()[:32])
            for n in range(1, count + 1)
        ]

    def retrieve(self, numbers: Sequence[int], window: int = 64) -> Iterator[tuple[int, bytes]]:
        """RETR each message, yielding (number, raw bytes) one at a time.

        With PIPELINING up to ``window`` RETRs are in flight; otherwise one at a time.
        """
        depth = window if "PIPELINING" in self.capabilities else 1
        sent = 0
        with self._errors("RETR"):
            for i, number in enumerate(numbers):
                while sent < len(numbers) and sent < i + depth:
                    self._send(f"RETR {numbers[sent]}")
                    sent += 1
                self._status(f"RETR {number}")
                yield number, self._multiline(f"RETR {number}")

    def delete(self, number: int) -> None:
        """Mark a message for deletion; QUIT commits it."""
        with self._errors(f"DELE {number}"):
            self._send(f"DELE {number}")
            self._status(f"DELE {number}")

    def quit(self) -> None:
        """QUIT: the server now deletes what was marked (RFC 1939 6)."""
        with self._errors("QUIT"):
            self._p.quit()

    def abandon(self) -> None:
        """Drop the connection without QUIT: marked messages stay on the server."""
        with contextlib.suppress(Exception):
            self._p.close()
