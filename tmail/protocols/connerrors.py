"""Where a connection failed, in one line: account, server, what happened, what to do.

:class:`Where` names one connection (account, role, server settings) and turns socket, TLS and
certificate errors into tmail's own (:mod:`tmail.core.errors`), each with a hint naming the
setting to change (``incoming.port``, ``outgoing.security``...); :func:`imap_errors`,
:func:`pop3_errors` and :func:`smtp_errors` do the same for each library's protocol errors, and
:func:`server_text` makes a server's words from a library exception printable.
"""

from __future__ import annotations

import contextlib
import imaplib
import poplib
import smtplib
import socket
import ssl
from collections.abc import Iterator
from typing import NoReturn

import imapclient.exceptions

from tmail.config.model import Account, Role, ServerSettings
from tmail.core.errors import (
    AuthFailed,
    CertificateError,
    ConnectFailed,
    NetworkError,
    ProtocolError,
    TLSFailure,
)
from tmail.core.safe import safe_line
from tmail.protocols.certs import CertInfo, cert_info, fetch_certificate, pem_fingerprint
from tmail.protocols.tlsprobe import ImplicitTLSPort


class Where:
    """Account, server and role of one connection, for error lines."""

    def __init__(self, account: Account, role: Role, settings: ServerSettings) -> None:
        self.account = account
        self.role = role
        self.settings = settings

    @classmethod
    def of(cls, account: Account, role: Role, protocol: str) -> Where:
        """The account's ``role`` server, which must speak ``protocol``."""
        return cls(account, role, settings_for(account, role, (protocol,)))

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


def server_text(exc: BaseException) -> str:
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


@contextlib.contextmanager
def imap_errors(where: Where, what: str) -> Iterator[None]:
    """imaplib and imapclient errors of ``what`` as tmail's (a refused login: AuthFailed)."""
    try:
        yield
    except NetworkError:
        raise
    except imapclient.exceptions.LoginError as exc:
        if isinstance(exc.__context__, imaplib.IMAP4.abort):  # not a refusal: the link broke
            where.fail(ProtocolError, f"{what}: connection aborted: {server_text(exc)}")
        where.fail(
            AuthFailed,
            f"login refused for {where.settings.username!r}: {server_text(exc)}",
            f"check {where.role}.username and the password",
        )
    except imaplib.IMAP4.abort as exc:
        cause = exc.__context__
        if isinstance(cause, TimeoutError):
            raise cause from None
        where.fail(ProtocolError, f"{what}: connection aborted: {server_text(exc)}")
    except (imaplib.IMAP4.error, imapclient.exceptions.IMAPClientError) as exc:
        where.fail(ProtocolError, f"{what}: the server said: {server_text(exc)}")


@contextlib.contextmanager
def pop3_errors(where: Where, what: str) -> Iterator[None]:
    """poplib errors of ``what`` as tmail's, with the server's words."""
    try:
        yield
    except NetworkError:
        raise
    except poplib.error_proto as exc:
        text = server_text(exc.args[0] if exc.args else exc)
        if text.startswith("b'") or text.startswith('b"'):
            raw = exc.args[0]
            text = safe_line(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else text)
        where.fail(ProtocolError, f"{what}: the server said: {text}")


@contextlib.contextmanager
def smtp_errors(where: Where, what: str) -> Iterator[None]:
    """smtplib errors of ``what`` as tmail's, with the server's words."""
    try:
        yield
    except NetworkError:
        raise
    except smtplib.SMTPServerDisconnected as exc:
        where.fail(ConnectFailed, f"the server closed the connection ({what}: {exc})")
    except smtplib.SMTPResponseException as exc:
        where.fail(ProtocolError, f"{what}: the server said: {server_text(exc)}")
    except smtplib.SMTPException as exc:
        where.fail(ProtocolError, f"{what}: {safe_line(str(exc))[:300]}")


def settings_for(account: Account, role: Role, protocols: tuple[str, ...]) -> ServerSettings:
    """The account's ``role`` server settings, checked to speak one of ``protocols``."""
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
