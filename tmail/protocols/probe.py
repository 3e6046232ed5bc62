"""A live probe of one server discovery proposes, without credentials.

Connect, secure the connection as proposed (implicit TLS or STARTTLS, the certificate and host
name verified against the system store plus the ``ca_file`` given), read the greeting and the
capabilities, and leave (LOGOUT, QUIT). It goes through :mod:`tmail.protocols.connect` with
``login=False``, so the probe meets exactly the checks a real session does (STARTTLS required
when proposed, nothing read before the handshake reused) and never asks for a password.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tmail.config.discovery import Endpoint
from tmail.config.model import Account, ServerSettings
from tmail.core.errors import TmailError
from tmail.core.safe import safe_line
from tmail.protocols import connect
from tmail.protocols.certs import tls_info


@dataclass(frozen=True)
class ProbeResult:
    endpoint: Endpoint
    ok: bool
    detail: str  # one line: what was seen, or why it failed
    mechanisms: tuple[str, ...] = ()  # SASL mechanisms offered after TLS
    resolved: bool = True  # False: the host name does not resolve (no point trying its ports)


def _account(endpoint: Endpoint, ca_file: Path | None, timeout: float) -> Account:
    settings = ServerSettings(
        protocol=endpoint.protocol,  # type: ignore[arg-type]
        host=endpoint.host,
        port=endpoint.port,
        security=endpoint.security,
        ca_file=ca_file,
        timeout=timeout,
    )
    if endpoint.protocol == "smtp":
        # The incoming side is never opened: it only fills the type.
        return Account(name="discovery", email="", incoming=settings, outgoing=settings)
    return Account(name="discovery", email="", incoming=settings)


def probe(endpoint: Endpoint, *, ca_file: Path | None = None, timeout: float = 5.0) -> ProbeResult:
    """What ``endpoint`` answers, as one :class:`ProbeResult`; never raises for network trouble."""
    if endpoint.security == "none":
        return ProbeResult(endpoint, False, "offers no encryption: not probed, not used")
    try:
        socket.getaddrinfo(endpoint.host, endpoint.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return ProbeResult(endpoint, False, "no such host", resolved=False)
    account = _account(endpoint, ca_file, max(timeout, 0.1))
    try:
        if endpoint.protocol == "imap":
            return _imap(endpoint, account)
        if endpoint.protocol == "pop3":
            return _pop3(endpoint, account)
        return _smtp(endpoint, account)
    except TmailError as exc:
        # The message alone: the hints name config keys of an account that does not exist yet.
        return ProbeResult(endpoint, False, safe_line(exc.message))


def _seen(sock: Any, mechanisms: list[str]) -> str:
    info = tls_info(sock)
    tls = f"{info.version}, certificate verified" if info is not None else "no TLS"
    login = f"login offered ({' '.join(mechanisms)})" if mechanisms else "no login method offered"
    return f"{tls}; {login}"


def _imap(endpoint: Endpoint, account: Account) -> ProbeResult:
    client = connect.open_imap(account, login=False)
    try:
        caps = [c.decode("ascii", "replace") if isinstance(c, bytes) else str(c)
                for c in client.capabilities()]  # fmt: skip
        mechs = [c[5:] for c in caps if c.upper().startswith("AUTH=")]
        if "LOGINDISABLED" not in (c.upper() for c in caps):
            mechs = [*mechs, "LOGIN"] if "LOGIN" not in mechs else mechs
        detail = _seen(client._imap.sock, mechs)
    finally:
        with contextlib.suppress(Exception):
            client.logout()
    return ProbeResult(endpoint, True, detail, tuple(mechs))


def _pop3(endpoint: Endpoint, account: Account) -> ProbeResult:
    pop = connect.open_pop3(account, login=False)
    try:
        mechs: list[str] = []
        with contextlib.suppress(Exception):
            caps = pop.capa()
            mechs = list(caps.get("SASL", []))
            if "USER" in caps:
                mechs.append("USER")
        detail = _seen(pop.sock, mechs)
    finally:
        with contextlib.suppress(Exception):
            pop.quit()  # in the authorization state: QUIT deletes nothing (RFC 1939 6)
    return ProbeResult(endpoint, True, detail, tuple(mechs))


def _smtp(endpoint: Endpoint, account: Account) -> ProbeResult:
    smtp = connect.open_smtp(account, login=False)
    try:
        mechs = smtp.esmtp_features.get("auth", "").split()
        detail = _seen(smtp.sock, mechs)
    finally:
        with contextlib.suppress(Exception):
            smtp.quit()
    return ProbeResult(endpoint, True, detail, tuple(mechs))
