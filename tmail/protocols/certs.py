"""Certificates: what a server presents, read for a person to judge and for pinning.

:func:`cert_info` describes a certificate (subject, issuer, validity, SHA-256, names);
:func:`tls_info` an established TLS socket; :func:`fetch_certificate` reads the certificate a
server presents even when it is not trusted (for ``tmail account trust`` and error lines), with
verification still on.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tmail.config.model import ServerSettings
from tmail.core.safe import safe_line
from tmail.protocols.tls import tls_context


@dataclass(frozen=True)
class CertInfo:
    """What a person needs to decide about a certificate."""

    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    sha256: str  # AB:CD:... as browsers show it
    names: tuple[str, ...]  # subjectAltName DNS names and IP addresses
    pem: str

    def describe(self) -> str:
        return (
            f"subject {self.subject}, issuer {self.issuer}, valid "
            f"{self.not_before:%Y-%m-%d} to {self.not_after:%Y-%m-%d}, SHA-256 {self.sha256}"
        )


@dataclass(frozen=True)
class TlsInfo:
    version: str
    cipher: str
    cert: CertInfo | None


def fingerprint(der: bytes) -> str:
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def cert_info(der: bytes) -> CertInfo:
    """Subject, issuer, validity, SHA-256 and names of a DER certificate."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    names: list[str] = []
    with contextlib.suppress(x509.ExtensionNotFound):
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names.extend(san.get_values_for_type(x509.DNSName))
        names.extend(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    return CertInfo(
        subject=safe_line(cert.subject.rfc4514_string()),
        issuer=safe_line(cert.issuer.rfc4514_string()),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sha256=fingerprint(der),
        names=tuple(safe_line(n) for n in names),
        pem=ssl.DER_cert_to_PEM_cert(der),
    )


def pem_fingerprint(path: Path) -> str:
    return fingerprint(ssl.PEM_cert_to_DER_cert(path.read_text("ascii")))


def tls_info(sock: Any) -> TlsInfo | None:
    """Version, cipher and certificate of an established TLS socket (None for plain TCP)."""
    if not isinstance(sock, ssl.SSLSocket):
        return None
    der = sock.getpeercert(binary_form=True)
    cipher = sock.cipher()
    return TlsInfo(
        version=sock.version() or "?",
        cipher=cipher[0] if cipher else "?",
        cert=cert_info(der) if der else None,
    )


def describe_tls(sock: Any) -> str:
    """``TLSv1.3 TLS_AES_256_GCM_SHA384`` for a transcript note, or ``plain TCP``.

    Without the certificate: parsing it loads ``cryptography`` (30 ms here), which every
    connection paid for a note that does not show it.
    """
    if not isinstance(sock, ssl.SSLSocket):
        return "plain TCP"
    cipher = sock.cipher()
    return f"{sock.version() or '?'} {cipher[0] if cipher else '?'}"


def fetch_certificate(settings: ServerSettings, timeout: float | None = None) -> bytes:
    """The DER certificate the server presents, also when it is not trusted: for display only.

    Used to show what failed verification and by ``tmail account trust`` to let the user decide.
    Verification is never switched off, not even here: the handshake runs with the usual
    verifying context, limited to TLS 1.2, where the server's Certificate message still travels
    in clear (RFC 5246 7.4.2), so the certificate is read from the bytes received before the
    verification refuses it. Nothing is sent but the STARTTLS preamble and the ClientHello. A
    server that speaks only TLS 1.3 encrypts its certificate: then this says so.
    """
    t = settings.timeout if timeout is None else timeout
    raw = socket.create_connection((settings.host, settings.port), timeout=t)
    try:
        if settings.security == "starttls":
            _plain_starttls(raw, settings.protocol)
        ctx = tls_context(settings)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(incoming, outgoing, server_hostname=settings.host)
        received = bytearray()
        while True:
            try:
                tls.do_handshake()
                der = tls.getpeercert(binary_form=True)  # trusted already
                if der:
                    return der
                break
            except ssl.SSLWantReadError:
                if pending := outgoing.read():
                    raw.sendall(pending)
                chunk = raw.recv(65536)
                if not chunk:
                    break
                received += chunk
                incoming.write(chunk)
            except ssl.SSLCertVerificationError:
                break
            except ssl.SSLError as exc:
                if "VERSION" in str(exc.reason or exc).upper():
                    raise ssl.SSLError(
                        "the server speaks only TLS 1.3, which encrypts its certificate: "
                        "get the certificate from its admin and set ca_file"
                    ) from None
                raise
    finally:
        raw.close()
    der = certificate_from_tls12(bytes(received))
    if der is None:
        raise ssl.SSLError("the server sent no certificate")
    return der


def certificate_from_tls12(data: bytes) -> bytes | None:
    """The first (leaf) certificate of the Certificate handshake message in cleartext TLS 1.2
    records, or None. Hand-written because no library exposes a certificate that failed
    verification; it only slices lengths, it trusts nothing it reads."""
    handshake = bytearray()
    pos = 0
    while pos + 5 <= len(data):
        ctype = data[pos]
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        if pos + 5 + length > len(data):
            break
        if ctype == 22:  # handshake
            handshake += data[pos + 5 : pos + 5 + length]
        elif ctype == 20:  # ChangeCipherSpec: what follows is encrypted
            break
        pos += 5 + length
    i = 0
    while i + 4 <= len(handshake):
        mtype = handshake[i]
        mlen = int.from_bytes(handshake[i + 1 : i + 4], "big")
        body = handshake[i + 4 : i + 4 + mlen]
        if len(body) < mlen:
            return None
        if mtype == 11 and len(body) >= 6:  # Certificate: list length, then length + DER each
            first = int.from_bytes(body[3:6], "big")
            der = bytes(body[6 : 6 + first])
            return der if len(der) == first and der else None
        i += 4 + mlen
    return None


def _plain_starttls(sock: socket.socket, protocol: str) -> None:
    """The cleartext steps up to the TLS handshake, for :func:`fetch_certificate` only."""
    f = sock.makefile("rb")

    def line() -> bytes:
        data = f.readline(8192)
        if not data:
            raise ConnectionResetError("closed before STARTTLS")
        return data

    if protocol == "imap":
        line()
        sock.sendall(b"t1 STARTTLS\r\n")
        while not (resp := line()).startswith(b"t1 "):
            pass
        if not resp.upper().startswith(b"T1 OK"):
            raise ssl.SSLError("STARTTLS refused")
    elif protocol == "pop3":
        line()
        sock.sendall(b"STLS\r\n")
        if not line().startswith(b"+OK"):
            raise ssl.SSLError("STLS refused")
    else:
        while (resp := line())[3:4] == b"-":
            pass
        sock.sendall(b"EHLO localhost\r\n")
        while (resp := line())[3:4] == b"-":
            pass
        sock.sendall(b"STARTTLS\r\n")
        while (resp := line())[3:4] == b"-":
            pass
        if not resp.startswith(b"220"):
            raise ssl.SSLError("STARTTLS refused")
