"""Opening IMAP, POP3 and SMTP connections the way an account's settings say, and safely.

The one place that decides how tmail talks to a server before any mail moves:

* ``security = "tls"``: implicit TLS from the first byte (RFC 8314).
* ``security = "starttls"``: STARTTLS / STLS is required. A server that does not offer it, refuses
  it, or greets with PREAUTH in the clear is an error raised before any credential is sent. After
  the handshake nothing the server sent before it is used: the buffered reader is replaced, stale
  untagged responses are dropped and the capabilities are read again (RFC 2595 3.1, RFC 3207 4.2).
* ``security = "none"``: plain TCP, only when configured so; a password is still refused unless the
  server settings say ``allow_plaintext_auth = true``.

Certificates and host names are always verified: the system store plus the account's ``ca_file``,
or a pinned certificate (``tmail account trust``) as the only trust anchor. Every socket phase has
the server's timeout. Library exceptions leave here as one of tmail's errors with one clear line.

The functions return library objects (``imapclient.IMAPClient``, ``poplib.POP3``,
``smtplib.SMTP``) for the wrappers in ``tmail/protocols/`` only; nothing above this package sees
them. A ``transcript`` callable, when given, receives each protocol line as
``(direction, text)`` with direction ``"C"`` (client), ``"S"`` (server) or ``"*"`` (a note), with
passwords and SASL payloads replaced by ``***``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import imaplib
import os
import poplib
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn, cast

import imapclient
import imapclient.exceptions
import imapclient.imap4

from tmail.config.model import Account, Role, ServerSettings
from tmail.config.oauth2 import imap_xoauth2_unlisted
from tmail.config.secrets import get_secret
from tmail.core.errors import (
    AuthFailed,
    CertificateError,
    ConnectFailed,
    NetworkError,
    ProtocolError,
    TLSFailure,
)
from tmail.core.safe import safe_line
from tmail.protocols.oauth2_flow import SaslAnswer, retry_refused_token, token_for, token_hint
from tmail.protocols.tlsprobe import ImplicitTLSPort, guard_greeting

Transcript = Callable[[str, str], None]

# gh-119511: imaplib on 3.11 reads whatever literal size a server announces in one allocation.
# Nothing a mail server sends legitimately comes near this; the sync layer may set its own cap.
MAX_IMAP_LITERAL = 256 * 1024 * 1024
# poplib refuses lines over 2048 bytes (poplib._MAXLINE); real mail has much longer header lines,
# so POP3 connections made here allow up to this much per line, and no more.
MAX_POP3_LINE = 1024 * 1024
_TRANSCRIPT_WIDTH = 300


# ------------------------------------------------------------------------------ TLS basics
def _system_capath() -> str | None:
    """The system's hashed CA directory (``/etc/ssl/certs`` on Debian) when it holds the same
    certificates as the default CA file, else None (then the default loading is used).

    Start-up speed: ``ssl.create_default_context()`` parses the whole CA bundle (about 140
    certificates, 90 ms with OpenSSL 3.0 here) for every connection; a hashed directory is read
    lazily, one file for the issuer actually met (3 ms). Same trust: the directory is used only
    when the default CA file (SSL_CERT_FILE included) lies inside it, as update-ca-certificates
    writes it (Debian, Ubuntu), or when there is no CA file at all.
    """
    paths = ssl.get_default_verify_paths()
    capath = paths.capath
    if not capath or not os.path.isdir(capath):
        return None
    if paths.cafile and os.path.dirname(os.path.realpath(paths.cafile)) != os.path.realpath(capath):
        return None
    try:
        with os.scandir(capath) as entries:
            hashed = any(e.name.endswith(".0") for e in entries)
    except OSError:
        return None
    return capath if hashed else None


def tls_context(settings: ServerSettings) -> ssl.SSLContext:
    """A verifying client context: system store plus ``ca_file``, or only the pinned cert."""
    if settings.pinned_cert is not None:
        ctx = ssl.create_default_context(cafile=str(settings.pinned_cert))
        # The pinned certificate may be a leaf issued by a private CA: accept it as the anchor
        # without its issuer. Host names are still checked.
        ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    else:
        ctx = ssl.create_default_context(capath=_system_capath())
        if settings.ca_file is not None:
            ctx.load_verify_locations(cafile=str(settings.ca_file))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


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


# --------------------------------------------------------------------------- error mapping
class _Where:
    """Account, server and role of one connection, for error lines."""

    def __init__(self, account: Account, role: Role, settings: ServerSettings) -> None:
        self.account = account
        self.role = role
        self.settings = settings

    def fail(self, cls: type[NetworkError], message: str, hint: str | None = None) -> NoReturn:
        raise cls(message, account=self.account.name, server=self.settings.label, hint=hint)

    @contextlib.contextmanager
    def errors(self, phase: str) -> Iterator[None]:
        """Socket and TLS errors of ``phase`` as one clear tmail error."""
        s = self.settings
        try:
            yield
        except NetworkError:
            raise
        except socket.gaierror as exc:
            self.fail(
                ConnectFailed,
                f"cannot resolve host name {s.host!r} ({exc.strerror})",
                f"check {self.role}.host and the network",
            )
        except ConnectionRefusedError:
            # Worded for a server that worked before (down, restarting); callers that know the
            # account never reached it say so with ConnectFailed.as_first_contact().
            raise ConnectFailed(
                f"the server is not answering (connection refused on port {s.port})",
                account=self.account.name,
                server=s.label,
                hint="it may be down or restarting: try again later",
                first_contact=(
                    f"connection refused on port {s.port}: nothing listens there",
                    f"check {self.role}.host, {self.role}.port and {self.role}.security",
                ),
            ) from None
        except ImplicitTLSPort:
            self.fail(
                TLSFailure,
                f"port {s.port} expects TLS from the first byte (implicit TLS), "
                f"not a greeting in clear (security = {s.security})",
                f'use {self.role}.security = "tls" for this port',
            )
        except TimeoutError:
            self.fail(
                ConnectFailed,
                f"no answer within {s.timeout:g}s ({phase})",
                f"the server or the network is slow or blocked; check {self.role}.host/port "
                f"or raise {self.role}.timeout",
            )
        except ssl.SSLCertVerificationError as exc:
            self._certificate_failure(exc)
        except ssl.SSLError as exc:
            reason = exc.reason or str(exc)
            hint = "check that the server speaks TLS here"
            if reason in (
                "WRONG_VERSION_NUMBER",
                "UNEXPECTED_EOF_WHILE_READING",
                "RECORD_LAYER_FAILURE",
            ):
                hint = (
                    f"port {s.port} does not seem to speak implicit TLS: "
                    f'try {self.role}.security = "starttls" or the TLS port'
                    if s.security == "tls"
                    else hint
                )
            self.fail(TLSFailure, f"TLS handshake failed ({reason})", hint)
        except (ConnectionResetError, BrokenPipeError, EOFError) as exc:
            self.fail(ConnectFailed, f"the server closed the connection ({phase}: {exc or 'EOF'})")
        except OSError as exc:
            self.fail(ConnectFailed, f"cannot connect ({phase}): {exc.strerror or exc}")

    def _certificate_failure(self, exc: ssl.SSLCertVerificationError) -> NoReturn:
        s = self.settings
        why = safe_line(str(exc.verify_message or exc.reason or exc))
        info: CertInfo | None = None
        with contextlib.suppress(Exception):
            info = cert_info(fetch_certificate(s))
        trust = f"tmail account trust {self.account.name} --{self.role}"
        if s.pinned_cert is not None and info is not None:
            with contextlib.suppress(OSError, ValueError):
                pinned = pem_fingerprint(s.pinned_cert)
                if pinned != info.sha256:
                    self.fail(
                        CertificateError,
                        f"the server's certificate changed: pinned SHA-256 {pinned}, "
                        f"server now presents SHA-256 {info.sha256} ({info.describe()})",
                        f"if the change is expected, run '{trust}' again; otherwise do not "
                        "connect (someone may be intercepting)",
                    )
        detail = f": {info.describe()}" if info else ""
        if "mismatch" in why.lower() and info is not None:
            carried = ", ".join(info.names) or info.subject
            self.fail(
                CertificateError,
                f"certificate does not match host {s.host!r} (it is for {carried}){detail}",
                f"set {self.role}.host to a name the certificate carries",
            )
        self.fail(
            CertificateError,
            f"certificate not trusted ({why}){detail}",
            f"if you trust this server, run '{trust}' or set {self.role}.ca_file",
        )


def _server_text(exc: BaseException) -> str:
    text = str(exc)
    arg = exc.args[0] if len(exc.args) == 1 else None
    if isinstance(arg, bytes):  # imaplib's errors carry the server's bytes: not "b'...'"
        text = arg.decode("utf-8", "replace")
    elif isinstance(arg, str) and len(arg) > 3 and arg[:2] in ("b'", 'b"') and arg[-1] == arg[1]:
        # imapclient's LoginError is str(bytes) of the server's words
        text = arg[2:-1]
    if isinstance(exc, smtplib.SMTPResponseException):
        msg = exc.smtp_error
        text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
        text = f"{exc.smtp_code} {text}"
    return safe_line(text)[:300]


# -------------------------------------------------------------------- certificate fetching
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


# ------------------------------------------------------------------------ transcripts
class _Redactor:
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


def _settings(account: Account, role: Role, protocols: tuple[str, ...]) -> ServerSettings:
    s = account.incoming if role == "incoming" else account.outgoing
    if s is None:
        raise ProtocolError(
            f"no {role} server configured",
            account=account.name,
            hint=f"add {role}.host to the account",
        )
    if s.protocol not in protocols:
        raise ProtocolError(
            f"the {role} server speaks {s.protocol.upper()}, not {'/'.join(protocols).upper()}",
            account=account.name,
            server=s.label,
        )
    return s


def _refuse_plaintext(where: _Where) -> None:
    s = where.settings
    if s.security == "none" and not s.allow_plaintext_auth:
        where.fail(
            TLSFailure,
            "refusing to send the password unencrypted (security = none)",
            f'use {where.role}.security = "tls" or "starttls"; or, if you accept that '
            f"anyone on the network can read it, set {where.role}.allow_plaintext_auth = true",
        )


def _secret(account: Account, role: Role, given: str | None) -> str:
    token = token_for(account, role, given)  # tmail's own OAuth2 sign-in, if the account has it
    if token is not None:
        return token
    return given if given is not None else get_secret(account, role)


def _sasl_xoauth2(user: str, token: str) -> str:
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def _sasl_oauthbearer(user: str, host: str, port: int, token: str) -> str:
    # RFC 7628 3.1
    authz = user.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={authz},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"


# ------------------------------------------------------------------------------------ IMAP
@retry_refused_token("incoming")
def open_imap(
    account: Account,
    *,
    transcript: Transcript | None = None,
    secret: str | None = None,
    max_literal: int = MAX_IMAP_LITERAL,
    login: bool = True,
) -> imapclient.IMAPClient:
    """A connected, TLS-protected (per settings), logged-in IMAPClient for the incoming server.

    ``secret`` overrides the configured password source (``tmail account add`` tests a password
    before storing it); ``login=False`` stops after TLS and CAPABILITY (for diagnostics).
    """
    s = _settings(account, "incoming", ("imap",))
    where = _Where(account, "incoming", s)
    ctx = tls_context(s)
    red = _Redactor(transcript, [secret] if secret else [], "imap")
    red.note(f"connecting to {s.label} ({s.security})")
    with where.errors("connect"), _imap_errors(where, "greeting"):
        client = _IMAPClient(
            s.host, port=s.port, ssl=s.security == "tls", ssl_context=ctx, timeout=s.timeout
        )
    cast(Any, client)._tmail_redactor = red
    try:
        _hook_imap(client, red, max_literal)
        red.server(client.welcome or b"")
        with where.errors("greeting"), _imap_errors(where, "CAPABILITY"):
            if s.security == "starttls":
                _imap_starttls(client, ctx, where, red)
                # imaplib asked CAPABILITY inside TLS as its STARTTLS ended; asking again
                # would only repeat it (imapclient does, on every call before login).
                caps = {c.upper().encode("ascii") for c in client._imap.capabilities}
            else:
                caps = set(client.capabilities())
        cast(Any, client)._tmail_caps = frozenset(caps)
        if login:
            _imap_login(account, client, caps, where, red, secret)
        return client
    except BaseException:
        with contextlib.suppress(Exception):
            client.shutdown()
        raise


class _GuardedIMAP4(imapclient.imap4.IMAP4WithTimeout):  # type: ignore[misc]
    """A cleartext IMAP connection that notices an implicit-TLS port before the greeting."""

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sock: socket.socket = super()._create_socket(timeout)
        guard_greeting(sock, self.host, self.port, sock.gettimeout())
        return sock


class _IMAPClient(imapclient.IMAPClient):  # type: ignore[misc]
    def _create_IMAP4(self) -> Any:
        if self.ssl or self.stream:
            return super()._create_IMAP4()
        return _GuardedIMAP4(self.host, self.port, getattr(self._timeout, "connect", None))


def _hook_imap(client: imapclient.IMAPClient, red: _Redactor, max_literal: int) -> None:
    imap = client._imap
    send, readline, read = imap.send, imap.readline, imap.read

    def hooked_send(data: bytes) -> None:
        red.client(data)
        send(data)

    def hooked_readline() -> bytes:
        line: bytes = readline()
        red.server(line)
        if red.in_auth and line[:1] not in (b"+", b""):
            red.auth_over()
        return line

    def capped_read(size: int) -> bytes:
        if size > max_literal:
            raise imaplib.IMAP4.abort(
                f"server announced a {size}-byte literal (limit {max_literal})"
            )
        data: bytes = read(size)
        if red.transcript is not None:
            red.note(f"<{len(data)} bytes of literal data>")
        return data

    imap.send = hooked_send
    imap.readline = hooked_readline
    imap.read = capped_read


def _imap_starttls(
    client: imapclient.IMAPClient, ctx: ssl.SSLContext, where: _Where, red: _Redactor
) -> None:
    imap = client._imap
    if imap.state != "NONAUTH":
        where.fail(
            TLSFailure,
            "the server logged us in (PREAUTH) before STARTTLS: refusing an unencrypted session",
            'use incoming.security = "tls" on the server\'s TLS port',
        )
    caps = {c.upper() for c in client.capabilities()}
    if b"STARTTLS" not in caps:
        where.fail(
            TLSFailure,
            "the server does not offer STARTTLS; stopped before sending any credentials",
            'use incoming.security = "tls" (usually port 993), or ask the server\'s admin',
        )
    red.note("starting TLS")
    try:
        client.starttls(ctx)
    except imapclient.exceptions.IMAPClientError as exc:
        if isinstance(exc.__context__, ssl.SSLError | OSError):
            raise exc.__context__ from None
        where.fail(TLSFailure, f"the server refused STARTTLS: {_server_text(exc)}")
    # Anything the server said before the handshake is untrusted (RFC 2595 3.1): drop it.
    imap.untagged_responses.clear()
    client._cached_capabilities = None
    red.note(f"TLS established: {_describe_tls(imap.sock)}")


def _describe_tls(sock: Any) -> str:
    info = tls_info(sock)
    return f"{info.version} {info.cipher}" if info else "plain TCP"


@contextlib.contextmanager
def _imap_errors(
    where: _Where, what: str, sasl: Callable[[], SaslAnswer | None] | None = None
) -> Iterator[None]:
    try:
        yield
    except NetworkError:
        raise
    except imapclient.exceptions.LoginError as exc:
        if isinstance(exc.__context__, imaplib.IMAP4.abort):  # not a refusal: the link broke
            where.fail(ProtocolError, f"{what}: connection aborted: {_server_text(exc)}")
        answer = sasl() if sasl is not None else None
        refusal = f"{answer.refusal} ({_server_text(exc)})" if answer and answer.refusal else ""
        where.fail(
            AuthFailed,
            f"login refused for {where.settings.username!r}: " + (refusal or _server_text(exc)),
            token_hint(where.account, where.role)
            if where.settings.auth == "xoauth2"
            else f"check {where.role}.username and the password",
        )
    except imaplib.IMAP4.abort as exc:
        cause = exc.__context__
        if isinstance(cause, TimeoutError):
            raise cause from None
        where.fail(ProtocolError, f"{what}: connection aborted: {_server_text(exc)}")
    except (imaplib.IMAP4.error, imapclient.exceptions.IMAPClientError) as exc:
        where.fail(ProtocolError, f"{what}: the server said: {_server_text(exc)}")


def _imap_login(
    account: Account,
    client: imapclient.IMAPClient,
    caps: set[bytes],
    where: _Where,
    red: _Redactor,
    secret: str | None,
) -> None:
    s = where.settings
    _refuse_plaintext(where)
    token_or_password = _secret(account, "incoming", secret)
    red.secrets.append(token_or_password)
    caps = {c.upper() for c in caps}
    answer: SaslAnswer | None = None  # keeps the RFC 7628 error challenge in words
    with where.errors("login"), _imap_errors(where, "LOGIN", lambda: answer):
        if s.auth == "xoauth2":
            if b"AUTH=OAUTHBEARER" in caps:
                payload = _sasl_oauthbearer(s.username, s.host, s.port, token_or_password)
                answer = SaslAnswer("OAUTHBEARER", payload)
            elif b"AUTH=XOAUTH2" in caps or imap_xoauth2_unlisted(account):
                answer = SaslAnswer("XOAUTH2", _sasl_xoauth2(s.username, token_or_password))
            else:
                where.fail(
                    AuthFailed,
                    "the server offers neither OAUTHBEARER nor XOAUTH2",
                    'use incoming.auth = "password"',
                )
            # As imapclient's oauth2_login, with an answer to the error challenge that is not
            # the token again.
            try:
                client._command_and_check("authenticate", answer.mechanism, answer)
            except imapclient.exceptions.IMAPClientError as exc:
                raise imapclient.exceptions.LoginError(str(exc)) from exc
        else:
            if b"LOGINDISABLED" in caps:
                where.fail(
                    AuthFailed,
                    "the server does not allow LOGIN on this connection (LOGINDISABLED)",
                    'use incoming.security = "tls" or "starttls"',
                )
            client.login(s.username, token_or_password)
    red.auth_over()


# ------------------------------------------------------------------------------------ POP3
class _BoundedMixin:
    """poplib with a per-connection line limit and a transcript (see MAX_POP3_LINE)."""

    file: Any
    max_line: int = MAX_POP3_LINE
    red: _Redactor

    def _getline(self) -> tuple[bytes, int]:
        line: bytes = self.file.readline(self.max_line + 1)
        if len(line) > self.max_line:
            raise poplib.error_proto(f"-ERR line longer than {self.max_line} bytes")
        if not line:
            raise poplib.error_proto("-ERR EOF")
        self.red.server(line)
        octets = len(line)
        if line[-2:] == b"\r\n":
            return line[:-2], octets
        if line[:1] == b"\r":
            return line[1:-1], octets
        return line[:-1], octets

    def _putline(self, line: bytes) -> None:
        self.red.client(line)
        super()._putline(line)  # type: ignore[misc]


class _POP3(_BoundedMixin, poplib.POP3):
    def __init__(self, host: str, port: int, timeout: float, red: _Redactor) -> None:
        self.red = red
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float) -> socket.socket:
        sock: socket.socket = super()._create_socket(timeout)  # type: ignore[misc]
        guard_greeting(sock, self.host, self.port, timeout)
        return sock


class _POP3_SSL(_BoundedMixin, poplib.POP3_SSL):
    def __init__(
        self, host: str, port: int, timeout: float, red: _Redactor, context: ssl.SSLContext
    ) -> None:
        self.red = red
        super().__init__(host, port, timeout=timeout, context=context)


@contextlib.contextmanager
def _pop3_errors(where: _Where, what: str) -> Iterator[None]:
    try:
        yield
    except NetworkError:
        raise
    except poplib.error_proto as exc:
        text = _server_text(exc.args[0] if exc.args else exc)
        if text.startswith("b'") or text.startswith('b"'):
            raw = exc.args[0]
            text = safe_line(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else text)
        where.fail(ProtocolError, f"{what}: the server said: {text}")


def _pop3_capa(pop: poplib.POP3) -> dict[str, list[str]]:
    try:
        return {k.upper(): v for k, v in pop.capa().items()}
    except poplib.error_proto:
        return {}


def _pop3_stls(pop: poplib.POP3, ctx: ssl.SSLContext) -> None:
    """What ``poplib.POP3.stls`` does after its own CAPA (the caller has just read CAPA: one
    is enough): STLS, wrap, a new reader so nothing read in clear is used (RFC 2595 4)."""
    p = cast(Any, pop)
    p._shortcmd("STLS")
    p.sock = ctx.wrap_socket(p.sock, server_hostname=p.host)
    p.file = p.sock.makefile("rb")
    p._tls_established = True


def pop3_capabilities(pop: poplib.POP3) -> dict[str, list[str]]:
    """The CAPA answer read when the connection was opened (after TLS): no new CAPA."""
    caps = getattr(pop, "_tmail_caps", None)
    return caps if isinstance(caps, dict) else _pop3_capa(pop)


@retry_refused_token("incoming")
def open_pop3(
    account: Account,
    *,
    transcript: Transcript | None = None,
    secret: str | None = None,
    login: bool = True,
) -> poplib.POP3:
    """A connected, TLS-protected (per settings), logged-in ``poplib.POP3`` (lines up to
    :data:`MAX_POP3_LINE`)."""
    s = _settings(account, "incoming", ("pop3",))
    where = _Where(account, "incoming", s)
    ctx = tls_context(s)
    red = _Redactor(transcript, [secret] if secret else [], "pop3")
    red.note(f"connecting to {s.label} ({s.security})")
    with where.errors("connect"), _pop3_errors(where, "greeting"):
        pop: poplib.POP3
        if s.security == "tls":
            pop = _POP3_SSL(s.host, s.port, s.timeout, red, ctx)
        else:
            pop = _POP3(s.host, s.port, s.timeout, red)
    cast(Any, pop)._tmail_redactor = red
    try:
        with where.errors("greeting"), _pop3_errors(where, "CAPA"):
            if s.security == "starttls":
                caps = _pop3_capa(pop)
                if "STLS" not in caps:
                    where.fail(
                        TLSFailure,
                        "the server does not offer STLS (STARTTLS); stopped before sending any "
                        "credentials",
                        'use incoming.security = "tls" (usually port 995), or ask the admin',
                    )
                red.note("starting TLS")
                try:
                    _pop3_stls(pop, ctx)
                except poplib.error_proto as exc:
                    where.fail(TLSFailure, f"the server refused STLS: {_server_text(exc)}")
                red.note(f"TLS established: {_describe_tls(pop.sock)}")
            caps = _pop3_capa(pop)  # after TLS: read again, never reuse the cleartext answer
        cast(Any, pop)._tmail_caps = caps
        if login:
            _pop3_login(account, pop, caps, where, red, secret)
        return pop
    except BaseException:
        with contextlib.suppress(Exception):
            pop.close()
        raise


def _pop3_login(
    account: Account,
    pop: poplib.POP3,
    caps: dict[str, list[str]],
    where: _Where,
    red: _Redactor,
    secret: str | None,
) -> None:
    s = where.settings
    _refuse_plaintext(where)
    value = _secret(account, "incoming", secret)
    red.secrets.append(value)
    mechs = {m.upper() for m in caps.get("SASL", [])}
    answer: SaslAnswer | None = None  # keeps the RFC 7628 error challenge in words
    with where.errors("login"):
        try:
            if s.auth == "xoauth2":
                if "OAUTHBEARER" in mechs:
                    payload = _sasl_oauthbearer(s.username, s.host, s.port, value)
                    mech = "OAUTHBEARER"
                elif "XOAUTH2" in mechs:
                    payload, mech = _sasl_xoauth2(s.username, value), "XOAUTH2"
                else:
                    where.fail(
                        AuthFailed,
                        "the server offers neither OAUTHBEARER nor XOAUTH2 (CAPA SASL)",
                        'use incoming.auth = "password"',
                    )
                b64 = base64.b64encode(payload.encode()).decode("ascii")
                resp = cast(Any, pop)._shortcmd(f"AUTH {mech} {b64}")
                if resp.startswith(b"+ ") or resp == b"+":
                    # RFC 7628 3.2.3: the error comes as a challenge; answer empty to end it.
                    answer = SaslAnswer(mech, payload)
                    after = answer.error_reply(resp[2:]).encode()
                    cast(Any, pop)._shortcmd(base64.b64encode(after).decode("ascii"))
            else:
                pop.user(s.username)
                pop.pass_(value)
        except poplib.error_proto as exc:
            raw = exc.args[0] if exc.args else b""
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            if answer is not None and answer.refusal:
                where.fail(
                    AuthFailed,
                    f"login refused for {s.username!r}: {answer.refusal} ({safe_line(text)[:200]})",
                    token_hint(account, "incoming"),
                )
            where.fail(
                AuthFailed,
                f"login refused for {s.username!r}: {safe_line(text)[:300]}",
                "check incoming.username and the password",
            )
        finally:
            red.auth_over()


# ------------------------------------------------------------------------------------ SMTP
def _ehlo_name(sock: socket.socket | None) -> str:
    """An address literal of our end (RFC 5321 4.1.3), as Thunderbird does: no DNS lookups and
    no host name leaked."""
    with contextlib.suppress(OSError, AttributeError, IndexError):
        assert sock is not None
        addr = sock.getsockname()[0]
        return f"[IPv6:{addr}]" if ":" in addr else f"[{addr}]"
    return "[127.0.0.1]"


def _hook_smtp(smtp: smtplib.SMTP, red: _Redactor) -> None:
    # smtplib reports every line it sends and reads through _print_debug when debuglevel > 0:
    # the only hook it has. We route it into the transcript instead of stderr.
    import ast

    def debug(*args: Any) -> None:
        if len(args) < 2 or not isinstance(args[0], str):
            return
        kind, value = args[0], args[1]
        try:
            data = ast.literal_eval(value) if isinstance(value, str) else value
        except (ValueError, SyntaxError):
            data = value
        if isinstance(data, str):
            data = data.encode("utf-8", "replace")
        if not isinstance(data, bytes):
            return
        if kind == "send:":
            red.client(data)
        elif kind == "reply:":
            red.server(data)
            if red.in_auth and not data.startswith(b"334"):
                red.auth_over()

    cast(Any, smtp)._print_debug = debug
    smtp.set_debuglevel(1)


class _SMTP(smtplib.SMTP):
    """A cleartext SMTP connection that notices an implicit-TLS port before the greeting."""

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        # Port 25 may sit behind a greeting delay that takes a talking client for a spammer
        # (Postfix postscreen): no ClientHello is sent there, only peeked.
        guard_greeting(sock, host, port, timeout, probe=port != 25)
        return sock


@retry_refused_token("outgoing")
def open_smtp(
    account: Account,
    *,
    transcript: Transcript | None = None,
    secret: str | None = None,
    login: bool = True,
) -> smtplib.SMTP:
    """A connected SMTP session to the outgoing server: TLS per settings, EHLO done (again after
    STARTTLS), authenticated when a username is set."""
    s = _settings(account, "outgoing", ("smtp",))
    where = _Where(account, "outgoing", s)
    ctx = tls_context(s)
    red = _Redactor(transcript, [secret] if secret else [], "smtp")
    smtp: smtplib.SMTP = (
        # local_hostname given so smtplib does not ask DNS for ours (getfqdn); the EHLO name is
        # set once connected.
        smtplib.SMTP_SSL(local_hostname="localhost", timeout=s.timeout, context=ctx)
        if s.security == "tls"
        else _SMTP(local_hostname="localhost", timeout=s.timeout)
    )
    cast(Any, smtp)._tmail_redactor = red
    if transcript is not None:
        _hook_smtp(smtp, red)
    red.note(f"connecting to {s.label} ({s.security})")
    try:
        with where.errors("connect"), _smtp_errors(where, "greeting"):
            cast(Any, smtp)._host = s.host  # the TLS server name; smtplib sets it only in __init__
            code, msg = smtp.connect(s.host, s.port)
            if code != 220:
                where.fail(
                    ProtocolError,
                    f"the server refused the session: {code} {_decode(msg)}",
                )
        smtp.local_hostname = _ehlo_name(smtp.sock)
        with where.errors("EHLO"), _smtp_errors(where, "EHLO"):
            _ehlo(smtp, where)
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    where.fail(
                        TLSFailure,
                        "the server does not offer STARTTLS; stopped before sending any "
                        "credentials",
                        'use outgoing.security = "tls" (usually port 465), or ask the admin',
                    )
                red.note("starting TLS")
                code, msg = smtp.docmd("STARTTLS")
                if code != 220:
                    where.fail(TLSFailure, f"the server refused STARTTLS: {code} {_decode(msg)}")
                # What smtplib.starttls does after a 220, here so the reply check above is ours:
                # wrap, and forget the cleartext reader and EHLO answer (RFC 3207 4.2).
                smtp.sock = ctx.wrap_socket(smtp.sock, server_hostname=s.host)  # type: ignore[arg-type]
                smtp.file = None
                smtp.helo_resp = None
                smtp.ehlo_resp = None
                smtp.esmtp_features = {}
                smtp.does_esmtp = False
                red.note(f"TLS established: {_describe_tls(smtp.sock)}")
                _ehlo(smtp, where)
        if login and s.username:
            _smtp_login(account, smtp, where, red, secret)
        return smtp
    except BaseException:
        with contextlib.suppress(Exception):
            smtp.close()
        raise


def _decode(msg: bytes | str) -> str:
    text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else msg
    return safe_line(text)[:300]


def _ehlo(smtp: smtplib.SMTP, where: _Where) -> None:
    code, msg = smtp.ehlo()
    if code != 250:
        where.fail(ProtocolError, f"EHLO refused: {code} {_decode(msg)}")


@contextlib.contextmanager
def _smtp_errors(where: _Where, what: str) -> Iterator[None]:
    try:
        yield
    except NetworkError:
        raise
    except smtplib.SMTPServerDisconnected as exc:
        where.fail(ConnectFailed, f"the server closed the connection ({what}: {exc})")
    except smtplib.SMTPResponseException as exc:
        where.fail(ProtocolError, f"{what}: the server said: {_server_text(exc)}")
    except smtplib.SMTPException as exc:
        where.fail(ProtocolError, f"{what}: {safe_line(str(exc))[:300]}")


def _smtp_login(
    account: Account,
    smtp: smtplib.SMTP,
    where: _Where,
    red: _Redactor,
    secret: str | None,
) -> None:
    s = where.settings
    _refuse_plaintext(where)
    if not smtp.has_extn("auth"):
        where.fail(
            AuthFailed,
            "the server offers no AUTH on this connection",
            'use outgoing.security = "starttls" or "tls" (many servers offer AUTH only '
            "after TLS), or remove outgoing.username if the server needs no login",
        )
    value = _secret(account, "outgoing", secret)
    red.secrets.append(value)
    mechs = {m.upper() for m in smtp.esmtp_features.get("auth", "").split()}
    answer: SaslAnswer | None = None  # keeps the RFC 7628 error challenge in words
    with where.errors("AUTH"):
        try:
            if s.auth == "xoauth2":
                if "OAUTHBEARER" in mechs:
                    payload = _sasl_oauthbearer(s.username, s.host, s.port, value)
                    smtp.auth("OAUTHBEARER", answer := SaslAnswer("OAUTHBEARER", payload))
                elif "XOAUTH2" in mechs:
                    payload = _sasl_xoauth2(s.username, value)
                    smtp.auth("XOAUTH2", answer := SaslAnswer("XOAUTH2", payload))
                else:
                    where.fail(
                        AuthFailed,
                        "the server offers neither OAUTHBEARER nor XOAUTH2",
                        'use outgoing.auth = "password"',
                    )
            else:
                # One mechanism, not smtplib.login's try-them-all: each failure costs the
                # server's auth delay, and a wrong password would be sent once per mechanism.
                mech = next((m for m in ("PLAIN", "LOGIN") if m in mechs), None)
                if mech is None:
                    where.fail(
                        AuthFailed,
                        "the server offers no password mechanism tmail uses "
                        f"(AUTH {' '.join(sorted(mechs))})",
                        "PLAIN or LOGIN is needed",
                    )
                smtp.user, smtp.password = s.username, value
                auth_object = smtp.auth_plain if mech == "PLAIN" else smtp.auth_login
                smtp.auth(mech, auth_object, initial_response_ok=True)
        except smtplib.SMTPAuthenticationError as exc:
            if 400 <= exc.smtp_code < 500:  # RFC 4954 454: a passing trouble, not the password
                where.fail(
                    NetworkError, f"login failed for now: {_server_text(exc)}", "tried again later"
                )
            if answer is not None and answer.refusal:
                where.fail(
                    AuthFailed,
                    f"login refused for {s.username!r}: {answer.refusal} ({_server_text(exc)})",
                    token_hint(account, "outgoing"),
                )
            where.fail(
                AuthFailed,
                f"login refused for {s.username!r}: {_server_text(exc)}",
                "check outgoing.username and the password",
            )
        except smtplib.SMTPNotSupportedError as exc:
            where.fail(AuthFailed, f"AUTH not possible: {safe_line(str(exc))}")
        except smtplib.SMTPException as exc:
            if isinstance(exc, smtplib.SMTPServerDisconnected):
                where.fail(ConnectFailed, f"the server closed the connection during AUTH ({exc})")
            where.fail(AuthFailed, f"AUTH failed: {_server_text(exc)}")
        finally:
            red.auth_over()


# ------------------------------------------------------------- login on an open connection
# For diagnostics (``tmail check``) that look at a connection before logging in: open with
# ``login=False``, inspect, then log in here with the same transcript.
def _redactor_of(conn: Any, protocol: str) -> _Redactor:
    red = getattr(conn, "_tmail_redactor", None)
    return red if isinstance(red, _Redactor) else _Redactor(None, [], protocol)


def login_imap(account: Account, client: imapclient.IMAPClient, secret: str | None = None) -> None:
    s = _settings(account, "incoming", ("imap",))
    where = _Where(account, "incoming", s)
    with where.errors("CAPABILITY"), _imap_errors(where, "CAPABILITY"):
        caps = set(imap_capabilities(client))
    _imap_login(account, client, caps, where, _redactor_of(client, "imap"), secret)


def imap_capabilities(client: imapclient.IMAPClient) -> frozenset[bytes]:
    """Before login: the capabilities read when the connection was opened (after TLS), without
    asking again; after login, what the server says now."""
    caps = getattr(client, "_tmail_caps", None)
    if client._imap.state == "NONAUTH" and isinstance(caps, frozenset):
        return caps
    return frozenset(c.upper() for c in client.capabilities())


def login_pop3(account: Account, pop: poplib.POP3, secret: str | None = None) -> None:
    s = _settings(account, "incoming", ("pop3",))
    where = _Where(account, "incoming", s)
    with where.errors("CAPA"):
        caps = pop3_capabilities(pop)
    _pop3_login(account, pop, caps, where, _redactor_of(pop, "pop3"), secret)


def login_smtp(account: Account, smtp: smtplib.SMTP, secret: str | None = None) -> None:
    s = _settings(account, "outgoing", ("smtp",))
    where = _Where(account, "outgoing", s)
    _smtp_login(account, smtp, where, _redactor_of(smtp, "smtp"), secret)
