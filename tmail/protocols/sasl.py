"""SASL for OAuth2 access tokens, the same for IMAP, POP3 and SMTP.

Which mechanism to use of those a server offers (OAUTHBEARER, RFC 7628, before Google's older
XOAUTH2) and the initial client response of each, as text; the caller base64-encodes it (or
hands it to a library that does).
"""

from __future__ import annotations

from collections.abc import Iterable

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
