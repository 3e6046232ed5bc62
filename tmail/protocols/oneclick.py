"""RFC 8058 one-click unsubscribe: one HTTPS POST of ``List-Unsubscribe=One-Click``.

What a message names is not trusted: the URL must be ``https`` (the certificate verified against
the system's trust store, or ``SSL_CERT_FILE``; never switched off); its host must resolve only to
public addresses (a link in a message must not make tmail poke at the router, the printer or a
service on this machine), unless the account allows that host by name
(``unsubscribe_allow_hosts``, for an intranet list server, and the tests' server on loopback);
the connection goes to the address that was checked (no second lookup to rebind). A redirect is
followed only to the same host over HTTPS (RFC 8058 section 3.2 expects none); anything else is
refused with a line saying why. No cookies, no credentials, and no body is read beyond 64 KB.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from tmail.core.errors import CertificateError, ConnectFailed, NetworkError, ProtocolError
from tmail.core.safe import safe_line

ONE_CLICK_BODY = b"List-Unsubscribe=One-Click"
MAX_REDIRECTS = 3
USER_AGENT = "tmail (RFC 8058 one-click unsubscribe)"

Resolver = Callable[[str, int], list[str]]


class Refused(NetworkError):
    """The URL is not one tmail will POST to (not HTTPS, a private address, a redirect away)."""


@dataclass(frozen=True)
class OneClickResult:
    url: str  # where the POST that succeeded went
    status: int
    reason: str


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise ConnectFailed(f"cannot resolve {host}: {exc}", server=host) from exc
    return sorted({str(info[4][0]) for info in infos})


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> tuple[str, int, str]:
    """``(host, port, path-and-query)`` of an https URL; Refused for anything else."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() != "https":
        raise Refused(
            f"not unsubscribing: {safe_line(url[:200])} is not an HTTPS link",
            hint="one-click unsubscribe goes over HTTPS only; the list's mailto: address may work",
        )
    if parts.username is not None or parts.password is not None:
        raise Refused(f"not unsubscribing: {safe_line(url[:200])} carries a user name")
    host = parts.hostname or ""
    if not host:
        raise Refused(f"not unsubscribing: {safe_line(url[:200])} names no host")
    try:
        port = parts.port or 443
    except ValueError as exc:
        raise Refused(f"not unsubscribing: bad port in {safe_line(url[:200])}") from exc
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return host, port, path


def _address_for(host: str, port: int, allow_hosts: Iterable[str], resolve: Resolver) -> str:
    addresses = resolve(host, port)
    if not addresses:
        raise ConnectFailed(f"{host} has no address", server=host)
    allowed = host.lower().rstrip(".") in {h.lower().rstrip(".") for h in allow_hosts}
    private = [a for a in addresses if not _is_public(a)]
    if private and not allowed:
        raise Refused(
            f"not unsubscribing: {safe_line(host)} points at a private address ({private[0]})",
            server=host,
            hint="a link in a message may not reach this machine or the local network "
            "(allow a trusted list server with unsubscribe_allow_hosts)",
        )
    return addresses[0]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """Connects to the address already checked, verifying the certificate for ``host``."""

    def __init__(self, host: str, port: int, address: str, ctx: ssl.SSLContext, timeout: float):
        super().__init__(host, port, timeout=timeout, context=ctx)
        self._address = address
        self._ctx = ctx

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._ctx.wrap_socket(sock, server_hostname=self.host)


def one_click(
    url: str,
    *,
    allow_hosts: Iterable[str] = (),
    timeout: float = 30.0,
    resolve: Resolver = _resolve,
) -> OneClickResult:
    """POST ``List-Unsubscribe=One-Click`` to ``url`` (RFC 8058 section 3.1). Raises Refused,
    ConnectFailed, CertificateError or ProtocolError (the server's status) with one line."""
    allow = tuple(allow_hosts)
    ctx = ssl.create_default_context()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    current = url.strip()
    first_host = check_url(current)[0].lower()
    for _ in range(MAX_REDIRECTS + 1):
        host, port, path = check_url(current)
        if host.lower() != first_host:
            raise Refused(
                f"not unsubscribing: the link redirects elsewhere ({safe_line(host)}, "
                f"not {safe_line(first_host)})",
                server=first_host,
                hint="open the list's own page yourself if you trust it",
            )
        address = _address_for(host, port, allow, resolve)
        conn = _PinnedHTTPSConnection(host, port, address, ctx, timeout)
        label = f"{host}:{port}" if port != 443 else host
        try:
            conn.request(
                "POST",
                path,
                body=ONE_CLICK_BODY,
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "User-Agent": USER_AGENT,
                    "Connection": "close",
                },
            )
            response = conn.getresponse()
            response.read(65536)
            status, reason = response.status, safe_line(response.reason or "")
            location = response.getheader("Location")
        except ssl.SSLCertVerificationError as exc:
            raise CertificateError(
                f"not unsubscribing: the certificate of {label} is not trusted "
                f"({safe_line(exc.verify_message or str(exc))})",
                server=label,
            ) from exc
        except ssl.SSLError as exc:
            raise CertificateError(f"TLS with {label} failed: {exc}", server=label) from exc
        except (OSError, http.client.HTTPException) as exc:
            raise ConnectFailed(f"unsubscribe request failed: {exc}", server=label) from exc
        finally:
            conn.close()
        if 200 <= status < 300:
            return OneClickResult(current, status, reason)
        if status in (301, 302, 303, 307, 308) and location:
            current = urljoin(current, location.strip())
            continue
        raise ProtocolError(
            f"the list server answered {status} {reason}: not unsubscribed", server=label
        )
    raise Refused(f"not unsubscribing: more than {MAX_REDIRECTS} redirects", server=first_host)
