"""Noticing an implicit-TLS port when an account expects a greeting in clear.

With ``security = "none"`` or ``"starttls"`` the client waits for the server's greeting
(``* OK``, ``+OK``, ``220``). A port that speaks implicit TLS (RFC 8314: 993, 995, 465) says
nothing: it waits for the client's ClientHello, and the client waits for a greeting, until a
timeout ends both. Some servers answer stray bytes with a TLS alert (``15 03 ..``) instead.

:func:`guard_greeting` runs on the freshly connected socket, before the protocol library reads
the greeting: it peeks (nothing is consumed) for a short grace period. A TLS record there, or
silence followed by a TLS answer to a ClientHello on a second connection, raises
:class:`ImplicitTLSPort` at once; anything else leaves the socket to the library as it was.
"""

from __future__ import annotations

import contextlib
import socket
import ssl

# How long a server may keep quiet before tmail asks, on a second connection, whether the port
# speaks TLS. Real servers greet within milliseconds; a slow one only costs that probe.
GREETING_GRACE = 1.5
# The ports RFC 8314 (and SMTPS) give to implicit TLS.
IMPLICIT_TLS_PORTS = (993, 995, 465)
# TLS record types a server sends first: handshake (ServerHello) or alert; version major 3.
_TLS_CONTENT_TYPES = (0x15, 0x16)


class ImplicitTLSPort(ConnectionError):
    """The port answers with TLS, not with a greeting in clear."""


def looks_like_tls(data: bytes) -> bool:
    """True when ``data`` starts like a TLS record (a handshake or an alert, version 3.x)."""
    return len(data) >= 2 and data[0] in _TLS_CONTENT_TYPES and data[1] == 0x03


def client_hello(server_name: str) -> bytes:
    """The bytes of a ClientHello, made by the ssl module (it is never completed)."""
    ctx = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    name = None if _is_address(server_name) else server_name
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=name)
    with contextlib.suppress(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


def _is_address(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        with contextlib.suppress(OSError):
            socket.inet_pton(family, host)
            return True
    return False


def speaks_tls(host: str, port: int, timeout: float) -> bool:
    """Whether ``host:port`` answers a ClientHello with TLS (on a connection of its own)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(client_hello(host))
            return looks_like_tls(sock.recv(5))
    except OSError:
        return False


def guard_greeting(
    sock: socket.socket, host: str, port: int, timeout: float | None, *, probe: bool = True
) -> None:
    """Raise :class:`ImplicitTLSPort` (``sock`` closed) when the server on ``sock`` speaks TLS
    instead of greeting. ``probe=False``: after silence, ask with a ClientHello only on a port
    known for implicit TLS (an SMTP server on port 25 with a greeting delay counts a client
    that talks first as a spammer: Postfix postscreen's pregreet test).

    Otherwise nothing is read from ``sock`` (MSG_PEEK) and its timeout is restored.
    """
    if _speaks_tls_first(sock, host, port, timeout, probe or port in IMPLICIT_TLS_PORTS):
        sock.close()
        raise ImplicitTLSPort(f"port {port} speaks TLS")


def _speaks_tls_first(
    sock: socket.socket, host: str, port: int, timeout: float | None, probe: bool
) -> bool:
    grace = GREETING_GRACE if timeout is None else min(GREETING_GRACE, timeout)
    sock.settimeout(grace)
    try:
        first = sock.recv(5, socket.MSG_PEEK)
    except TimeoutError:
        return probe and speaks_tls(host, port, grace)
    except OSError:
        return False  # the library meets the same error and reports it
    finally:
        with contextlib.suppress(OSError):
            sock.settimeout(timeout)
    return looks_like_tls(first)
