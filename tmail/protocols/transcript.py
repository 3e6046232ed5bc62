"""Protocol transcripts without secrets (``tmail check -v``, ``tmail account add``).

A ``transcript`` callable receives each protocol line as ``(direction, text)``: ``"C"`` (client),
``"S"`` (server) or ``"*"`` (a note). :class:`Redactor` replaces passwords and SASL payloads by
``***``, makes every line terminal-safe and clips it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tmail.core.safe import safe_line

Transcript = Callable[[str, str], None]
_TRANSCRIPT_WIDTH = 300


class Redactor:
    """Turns protocol lines into transcript lines without secrets."""

    def __init__(self, transcript: Transcript | None, secrets: list[str], protocol: str) -> None:
        self.transcript = transcript
        self.imap = protocol == "imap"
        self.secrets = secrets
        self.in_auth = False  # inside a SASL exchange: every client line is a payload

    def note(self, text: str) -> None:
        if self.transcript is not None:
            self.transcript("*", safe_line(text))

    def server(self, data: bytes) -> None:
        if self.transcript is None:
            return
        text = data.decode("utf-8", "replace").rstrip("\r\n")
        self.transcript("S", self._clip(self._scrub(text)))

    def client(self, data: bytes) -> None:
        if self.transcript is None:
            return
        for raw in data.decode("utf-8", "replace").split("\r\n"):
            if raw == "":
                continue
            self.transcript("C", self._clip(self._scrub(self._redact(raw))))

    def _redact(self, line: str) -> str:
        if self.in_auth:
            return "***"
        words = line.split(" ")
        upper = [w.upper() for w in words]
        # IMAP: "tag LOGIN user pass", "tag AUTHENTICATE MECH [payload]"
        if self.imap:
            if len(words) >= 3 and upper[1] == "LOGIN":
                return " ".join([*words[:3], "***"])
            if len(words) >= 3 and upper[1] == "AUTHENTICATE":
                self.in_auth = True
                return " ".join(words[:3]) + (" ***" if len(words) > 3 else "")
            return line
        # POP3: "PASS secret", "APOP user digest", "AUTH MECH [payload]"; SMTP: "AUTH MECH [...]"
        if upper[0] == "PASS":
            return "PASS ***"
        if upper[0] == "APOP" and len(words) >= 2:
            return f"APOP {words[1]} ***"
        if upper[0] == "AUTH" and len(words) >= 2:
            self.in_auth = True
            return " ".join(words[:2]) + (" ***" if len(words) > 2 else "")
        return line

    def _scrub(self, text: str) -> str:
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def auth_over(self) -> None:
        self.in_auth = False

    @staticmethod
    def _clip(text: str) -> str:
        text = safe_line(text)
        if len(text) > _TRANSCRIPT_WIDTH:
            return text[:_TRANSCRIPT_WIDTH] + f"... ({len(text)} characters)"
        return text


def redactor_of(conn: Any, protocol: str) -> Redactor:
    """The redactor a connection was opened with (so a later login writes to the same
    transcript), or a silent one."""
    red = getattr(conn, "_tmail_redactor", None)
    return red if isinstance(red, Redactor) else Redactor(None, [], protocol)
