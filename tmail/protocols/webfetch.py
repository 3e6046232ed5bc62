"""Fetching an autoconfig file over HTTPS, and nothing weaker.

The standard library's urllib with an opener built here from exactly three handlers: HTTPS
(a verifying context: the system store plus the ``ca_file`` given, TLS 1.2 or later), a
redirect handler that follows a redirect only within the mail domain and over HTTPS, and the
error processor. There is no plain-HTTP handler (an ``http://`` URL or redirect cannot be
opened at all) and no proxy handler (discovery asks the domain itself). A redirect elsewhere
is reported, with its target, and not followed: the Thunderbird autoconfig leak (a file from
another domain naming that domain's servers, where the password would then go).

``connect_to`` maps (host, port) to another (host, port) for the TCP connection only, as curl's
--connect-to: the certificate is still checked against the URL's host name.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from tmail.core.safe import safe_line

MAX_BYTES = 256 * 1024


class FetchFailed(Exception):
    """No file: the message says why in a few words (not found, refused, time-out, ...)."""


class RedirectRefused(FetchFailed):
    """The server redirected somewhere discovery does not follow; ``target`` is where."""

    def __init__(self, message: str, target: str) -> None:
        super().__init__(message)
        self.target = target


def _context(ca_file: Path | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if ca_file is not None:
        ctx.load_verify_locations(cafile=str(ca_file))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _within(host: str, domain: str) -> bool:
    host = host.lower().rstrip(".")
    return host == domain or host.endswith("." + domain)


class _Redirects(urllib.request.HTTPRedirectHandler):
    max_redirections = 3

    def __init__(self, domain: str) -> None:
        self.domain = domain

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        target = urllib.parse.urlsplit(newurl)
        shown = safe_line(newurl)[:200]
        if target.scheme != "https":
            raise RedirectRefused(f"redirects to {shown}, not HTTPS: refused", newurl)
        if not _within(target.hostname or "", self.domain):
            raise RedirectRefused(
                f"redirects to {shown}, another domain than {self.domain}: not followed", newurl
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(
        self, context: ssl.SSLContext, connect_to: Mapping[tuple[str, int], tuple[str, int]]
    ) -> None:
        super().__init__(context=context)
        self.ctx = context
        self.connect_to = connect_to

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connect_to = self.connect_to

        class _Connection(http.client.HTTPSConnection):
            def connect(self) -> None:
                target = connect_to.get((self.host.lower(), self.port))
                if target is None:
                    super().connect()
                    return
                # The TCP connection goes to the mapped address; TLS checks the URL's host.
                raw = socket.create_connection(target, self.timeout)
                self.sock = self._context.wrap_socket(  # type: ignore[attr-defined]
                    raw, server_hostname=self.host
                )

        return self.do_open(_Connection, req, context=self.ctx)


def fetch_https(
    url: str,
    *,
    domain: str,
    timeout: float,
    ca_file: Path | None = None,
    connect_to: Mapping[tuple[str, int], tuple[str, int]] | None = None,
) -> bytes:
    """The body of ``url`` (at most :data:`MAX_BYTES`), or FetchFailed saying why not."""
    if urllib.parse.urlsplit(url).scheme != "https":
        raise FetchFailed(f"{url}: only HTTPS is used")
    opener = urllib.request.OpenerDirector()
    for handler in (
        _HTTPSHandler(_context(ca_file), connect_to or {}),
        _Redirects(domain),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.HTTPDefaultErrorHandler(),
    ):
        opener.add_handler(handler)
    request = urllib.request.Request(url, headers={"User-Agent": "tmail-autoconfig"})
    try:
        with opener.open(request, timeout=max(timeout, 0.05)) as response:
            data: bytes = response.read(MAX_BYTES + 1)
    except RedirectRefused:
        raise
    except urllib.error.HTTPError as exc:
        reason = safe_line(str(exc.reason or ""))[:60].strip()
        raise FetchFailed(f"HTTP {exc.code}" + (f" {reason}" if reason else "")) from None
    except urllib.error.URLError as exc:
        raise FetchFailed(_why(exc.reason, timeout)) from None
    except (OSError, http.client.HTTPException) as exc:
        raise FetchFailed(_why(exc, timeout)) from None
    if len(data) > MAX_BYTES:
        raise FetchFailed(f"the answer is larger than {MAX_BYTES // 1024} KB")
    return data


def _why(reason: Any, timeout: float) -> str:
    if isinstance(reason, ssl.SSLCertVerificationError):
        why = safe_line(str(reason.verify_message or reason.reason or reason))
        return f"certificate not trusted ({why})"
    if isinstance(reason, ssl.SSLError):
        return f"TLS handshake failed ({safe_line(str(reason.reason or reason))})"
    if isinstance(reason, socket.gaierror):
        return "no such host"
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"no answer within {timeout:.1f}s"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, OSError):
        return safe_line(reason.strerror or str(reason))
    return safe_line(str(reason))[:120]
