"""SASL for OAuth2 access tokens, the same for IMAP, POP3 and SMTP.

Which mechanism to use of those a server offers (OAUTHBEARER, RFC 7628, before Google's older
XOAUTH2) and the initial client response of each, as text; the caller base64-encodes it (or
hands it to a library that does); and the other end of the exchange, the server's error
challenge (RFC 7628 3.2.2), answered as the RFC asks and put in plain words.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any

from tmail.core.safe import safe_line

# In order of preference: the standard one first.
OAUTH_MECHANISMS = ("OAUTHBEARER", "XOAUTH2")


def oauth_mechanism(offered: Iterable[str]) -> str | None:
    """The mechanism to use of ``offered`` (names, any case), or None when neither is."""
    names = {m.upper() for m in offered}
    return next((m for m in OAUTH_MECHANISMS if m in names), None)


def xoauth2(user: str, token: str) -> str:
    """Google's XOAUTH2 initial response."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def oauthbearer(user: str, host: str, port: int, token: str) -> str:
    """The OAUTHBEARER initial response (RFC 7628 3.1): the user as authorization identity."""
    authz = user.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={authz},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"


def initial_response(mechanism: str, user: str, token: str, host: str, port: int) -> str:
    """The initial response of ``mechanism`` (one of :data:`OAUTH_MECHANISMS`)."""
    if mechanism == "OAUTHBEARER":
        return oauthbearer(user, host, port, token)
    return xoauth2(user, token)


# ----------------------------------------------------------- the server's error challenge
_STATUS_WORDS = {
    # RFC 6750 3.1 error codes (Dovecot, RFC 7628's examples) and the HTTP statuses Google sends.
    "invalid_token": "the server refused the access token (expired, revoked, or granted for "
    "another mailbox than the login name)",
    "401": "the server refused the access token (expired, revoked, or granted for another "
    "mailbox than the login name)",
    "insufficient_scope": "the access token lacks the scope this server needs",
    "403": "the access token lacks the scope this server needs",
    "invalid_request": "the server could not use the token for this login name",
    "400": "the server could not use the token for this login name (another user, or a "
    "missing scope)",
}


def challenge_words(raw: bytes | str) -> str | None:
    """The RFC 7628 3.2.2 error challenge (JSON, or base64 of it) in plain words; None when
    ``raw`` is not one."""
    data: Any = None
    text = raw.encode("latin-1", "replace") if isinstance(raw, str) else raw
    for candidate in (text, None):
        try:
            blob = candidate if candidate is not None else base64.b64decode(text, validate=False)
            data = json.loads(blob)
            break
        except (ValueError, TypeError):
            continue
    if not isinstance(data, dict) or "status" not in data:
        return None
    status = safe_line(str(data["status"]))[:40]
    words = _STATUS_WORDS.get(status, f"the server refused the token (status {status})")
    scope = data.get("scope")
    if scope:
        words += f"; it asks for the scope {safe_line(str(scope))[:120]}"
    return words


class SaslAnswer:
    """The client side of an XOAUTH2/OAUTHBEARER exchange for smtplib-style callers: the
    payload first; to an error challenge the empty answer RFC 7628 3.2.3 asks for (a single
    %x01 for OAUTHBEARER), with the challenge kept in words for the error line."""

    def __init__(self, mechanism: str, payload: str) -> None:
        self.mechanism = mechanism
        self.payload = payload
        self.refusal: str | None = None
        self._sent = False

    def __call__(self, challenge: bytes | None = None) -> str:
        """The payload on the first call (smtplib's initial response, or imaplib's answer to
        the empty ``+``), the answer to the error challenge on any later one."""
        if not self._sent:
            self._sent = True
            return self.payload
        return self.error_reply(challenge or b"")

    def error_reply(self, challenge: bytes) -> str:
        """Keep what the error challenge says; the answer that ends the exchange."""
        self.refusal = challenge_words(challenge) or self.refusal
        return "\x01" if self.mechanism == "OAUTHBEARER" else ""
