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
them. A ``transcript`` callable, when given, receives each protocol line without secrets
(:mod:`.transcript`).

The parts live beside it: :mod:`.tls` (the context), :mod:`.certs` (reading certificates),
:mod:`.connerrors` (failures in one line), :mod:`.transcript` and :mod:`.sasl` (OAuth2).
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import poplib
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any, cast

import imapclient
import imapclient.exceptions
import imapclient.imap4

from tmail.config.model import Account, Role
from tmail.config.oauth2 import imap_xoauth2_unlisted
from tmail.config.secrets import get_secret
from tmail.core.errors import AuthFailed, ConnectFailed, NetworkError, ProtocolError, TLSFailure
from tmail.core.safe import safe_line
from tmail.protocols import sasl
from tmail.protocols.certs import (
    CertInfo,
    TlsInfo,
    cert_info,
    certificate_from_tls12,
    describe_tls,
    fetch_certificate,
    fingerprint,
    pem_fingerprint,
    tls_info,
)
from tmail.protocols.connerrors import Where, imap_errors, pop3_errors, server_text, smtp_errors
from tmail.protocols.oauth2_flow import retry_refused_token, token_for, token_hint
from tmail.protocols.tls import tls_context
from tmail.protocols.tlsprobe import guard_greeting
from tmail.protocols.transcript import Redactor, Transcript, redactor_of

# What callers import from here (the parts live in tls, certs, transcript, connerrors, sasl).
__all__ = [
    "MAX_IMAP_LITERAL",
    "MAX_POP3_LINE",
    "CertInfo",
    "TlsInfo",
    "Transcript",
    "cert_info",
    "certificate_from_tls12",
    "fetch_certificate",
    "fingerprint",
    "imap_capabilities",
    "login_imap",
    "login_pop3",
    "login_smtp",
    "open_imap",
    "open_pop3",
    "open_smtp",
    "pem_fingerprint",
    "pop3_capabilities",
    "tls_context",
    "tls_info",
]

# gh-119511: imaplib on 3.11 reads whatever literal size a server announces in one allocation.
# Nothing a mail server sends legitimately comes near this; the sync layer may set its own cap.
MAX_IMAP_LITERAL = 256 * 1024 * 1024
# poplib refuses lines over 2048 bytes (poplib._MAXLINE); real mail has much longer header lines,
# so POP3 connections made here allow up to this much per line, and no more.
MAX_POP3_LINE = 1024 * 1024


# ------------------------------------------------------------------- open and login prologues
def _opening(
    account: Account, role: Role, protocol: str, transcript: Transcript | None, secret: str | None
) -> tuple[Where, ssl.SSLContext, Redactor]:
    """What every open does first: the server's settings (checked to speak ``protocol``), its
    TLS context, and the transcript, told where tmail is connecting."""
    where = Where.of(account, role, protocol)
    ctx = tls_context(where.settings)
    red = Redactor(transcript, [secret] if secret else [], protocol)
    red.note(f"connecting to {where.settings.label} ({where.settings.security})")
    return where, ctx, red


def _login_secret(
    account: Account,
    where: Where,
    red: Redactor,
    given: str | None,
    ready: Callable[[], None] | None = None,
) -> str:
    """What every login does first: refuse to send a password in clear (``security = "none"``
    without ``allow_plaintext_auth``), then ``ready`` (the protocol's own check before the
    secret is fetched), then the password or token (``given``, else from its configured
    source), which the transcript will never show."""
    s = where.settings
    if s.security == "none" and not s.allow_plaintext_auth:
        where.fail(
            TLSFailure,
            "refusing to send the password unencrypted (security = none)",
            f'use {where.role}.security = "tls" or "starttls"; or, if you accept that '
            f"anyone on the network can read it, set {where.role}.allow_plaintext_auth = true",
        )
    if ready is not None:
        ready()
    value = token_for(account, where.role, given)  # tmail's own OAuth2 sign-in, if it has one
    if value is None:
        value = given if given is not None else get_secret(account, where.role)
    red.secrets.append(value)
    return value


def _oauth_mechanism(where: Where, offered: Iterable[str], source: str = "") -> str:
    """OAUTHBEARER or XOAUTH2, whichever the server offers first (:mod:`.sasl`), else the
    failure that says to use a password."""
    mechanism = sasl.oauth_mechanism(offered)
    if mechanism is None:
        where.fail(
            AuthFailed,
            f"the server offers neither OAUTHBEARER nor XOAUTH2{source}",
            f'use {where.role}.auth = "password"',
        )
    return mechanism


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
    where, ctx, red = _opening(account, "incoming", "imap", transcript, secret)
    s = where.settings
    with where.errors("connect"), imap_errors(where, "greeting"):
        client = _IMAPClient(
            s.host, port=s.port, ssl=s.security == "tls", ssl_context=ctx, timeout=s.timeout
        )
    cast(Any, client)._tmail_redactor = red
    try:
        _hook_imap(client, red, max_literal)
        red.server(client.welcome or b"")
        with where.errors("greeting"), imap_errors(where, "CAPABILITY"):
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


def _hook_imap(client: imapclient.IMAPClient, red: Redactor, max_literal: int) -> None:
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
    client: imapclient.IMAPClient, ctx: ssl.SSLContext, where: Where, red: Redactor
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
        where.fail(TLSFailure, f"the server refused STARTTLS: {server_text(exc)}")
    # Anything the server said before the handshake is untrusted (RFC 2595 3.1): drop it.
    imap.untagged_responses.clear()
    client._cached_capabilities = None
    red.note(f"TLS established: {describe_tls(imap.sock)}")


def _imap_login(
    account: Account,
    client: imapclient.IMAPClient,
    caps: set[bytes],
    where: Where,
    red: Redactor,
    secret: str | None,
) -> None:
    s = where.settings
    token_or_password = _login_secret(account, where, red, secret)
    caps = {c.upper() for c in caps}
    with where.errors("login"), imap_errors(where, "LOGIN"):
        if s.auth == "xoauth2":
            offered = [c[5:].decode("ascii", "replace") for c in caps if c.startswith(b"AUTH=")]
            if imap_xoauth2_unlisted(account):  # Yandex takes it without listing it
                offered.append("XOAUTH2")
            mech = _oauth_mechanism(where, offered)
            payload = sasl.initial_response(mech, s.username, token_or_password, s.host, s.port)
            # As imapclient's oauth2_login, but the error challenge (RFC 7628 3.2.2) gets the
            # answer that ends it, not the token again, and is kept in words.
            answer = sasl.SaslAnswer(mech, payload)
            try:
                client._command_and_check("authenticate", mech, answer)
            except imapclient.exceptions.IMAPClientError as exc:
                if isinstance(exc, imaplib.IMAP4.abort):
                    raise imapclient.exceptions.LoginError(str(exc)) from exc
                why = f"{answer.refusal} ({server_text(exc)})" if answer.refusal else ""
                where.fail(
                    AuthFailed,
                    f"login refused for {s.username!r}: {why or server_text(exc)}",
                    token_hint(account, "incoming"),
                )
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
    red: Redactor

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
    def __init__(self, host: str, port: int, timeout: float, red: Redactor) -> None:
        self.red = red
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout: float) -> socket.socket:
        sock: socket.socket = super()._create_socket(timeout)  # type: ignore[misc]
        guard_greeting(sock, self.host, self.port, timeout)
        return sock


class _POP3_SSL(_BoundedMixin, poplib.POP3_SSL):
    def __init__(
        self, host: str, port: int, timeout: float, red: Redactor, context: ssl.SSLContext
    ) -> None:
        self.red = red
        super().__init__(host, port, timeout=timeout, context=context)


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
    where, ctx, red = _opening(account, "incoming", "pop3", transcript, secret)
    s = where.settings
    with where.errors("connect"), pop3_errors(where, "greeting"):
        pop: poplib.POP3
        if s.security == "tls":
            pop = _POP3_SSL(s.host, s.port, s.timeout, red, ctx)
        else:
            pop = _POP3(s.host, s.port, s.timeout, red)
    cast(Any, pop)._tmail_redactor = red
    try:
        with where.errors("greeting"), pop3_errors(where, "CAPA"):
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
                    where.fail(TLSFailure, f"the server refused STLS: {server_text(exc)}")
                red.note(f"TLS established: {describe_tls(pop.sock)}")
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
    where: Where,
    red: Redactor,
    secret: str | None,
) -> None:
    s = where.settings
    value = _login_secret(account, where, red, secret)
    answer: sasl.SaslAnswer | None = None  # keeps the RFC 7628 error challenge in words
    with where.errors("login"):
        try:
            if s.auth == "xoauth2":
                mech = _oauth_mechanism(where, caps.get("SASL", []), " (CAPA SASL)")
                payload = sasl.initial_response(mech, s.username, value, s.host, s.port)
                b64 = base64.b64encode(payload.encode()).decode("ascii")
                resp = cast(Any, pop)._shortcmd(f"AUTH {mech} {b64}")
                if resp.startswith(b"+ ") or resp == b"+":
                    # RFC 7628 3.2.3: the error comes as a challenge; the answer ends it.
                    answer = sasl.SaslAnswer(mech, payload)
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


def _hook_smtp(smtp: smtplib.SMTP, red: Redactor) -> None:
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
    where, ctx, red = _opening(account, "outgoing", "smtp", transcript, secret)
    s = where.settings
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
    try:
        with where.errors("connect"), smtp_errors(where, "greeting"):
            cast(Any, smtp)._host = s.host  # the TLS server name; smtplib sets it only in __init__
            code, msg = smtp.connect(s.host, s.port)
            if code != 220:
                where.fail(
                    ProtocolError,
                    f"the server refused the session: {code} {_decode(msg)}",
                )
        smtp.local_hostname = _ehlo_name(smtp.sock)
        with where.errors("EHLO"), smtp_errors(where, "EHLO"):
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
                red.note(f"TLS established: {describe_tls(smtp.sock)}")
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


def _ehlo(smtp: smtplib.SMTP, where: Where) -> None:
    code, msg = smtp.ehlo()
    if code != 250:
        where.fail(ProtocolError, f"EHLO refused: {code} {_decode(msg)}")


def _smtp_login(
    account: Account,
    smtp: smtplib.SMTP,
    where: Where,
    red: Redactor,
    secret: str | None,
) -> None:
    s = where.settings

    def auth_offered() -> None:
        if not smtp.has_extn("auth"):
            where.fail(
                AuthFailed,
                "the server offers no AUTH on this connection",
                'use outgoing.security = "starttls" or "tls" (many servers offer AUTH only '
                "after TLS), or remove outgoing.username if the server needs no login",
            )

    value = _login_secret(account, where, red, secret, auth_offered)
    mechs = {m.upper() for m in smtp.esmtp_features.get("auth", "").split()}
    answer: sasl.SaslAnswer | None = None  # keeps the RFC 7628 error challenge in words
    with where.errors("AUTH"):
        try:
            if s.auth == "xoauth2":
                oauth = _oauth_mechanism(where, mechs)
                payload = sasl.initial_response(oauth, s.username, value, s.host, s.port)
                smtp.auth(oauth, answer := sasl.SaslAnswer(oauth, payload))
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
                    NetworkError, f"login failed for now: {server_text(exc)}", "tried again later"
                )
            if answer is not None and answer.refusal:
                where.fail(
                    AuthFailed,
                    f"login refused for {s.username!r}: {answer.refusal} ({server_text(exc)})",
                    token_hint(account, "outgoing"),
                )
            where.fail(
                AuthFailed,
                f"login refused for {s.username!r}: {server_text(exc)}",
                "check outgoing.username and the password",
            )
        except smtplib.SMTPNotSupportedError as exc:
            where.fail(AuthFailed, f"AUTH not possible: {safe_line(str(exc))}")
        except smtplib.SMTPException as exc:
            if isinstance(exc, smtplib.SMTPServerDisconnected):
                where.fail(ConnectFailed, f"the server closed the connection during AUTH ({exc})")
            where.fail(AuthFailed, f"AUTH failed: {server_text(exc)}")
        finally:
            red.auth_over()


# ------------------------------------------------------------- login on an open connection
# For diagnostics (``tmail check``) that look at a connection before logging in: open with
# ``login=False``, inspect, then log in here with the same transcript.
def login_imap(account: Account, client: imapclient.IMAPClient, secret: str | None = None) -> None:
    where = Where.of(account, "incoming", "imap")
    with where.errors("CAPABILITY"), imap_errors(where, "CAPABILITY"):
        caps = set(imap_capabilities(client))
    _imap_login(account, client, caps, where, redactor_of(client, "imap"), secret)


def imap_capabilities(client: imapclient.IMAPClient) -> frozenset[bytes]:
    """Before login: the capabilities read when the connection was opened (after TLS), without
    asking again; after login, what the server says now."""
    caps = getattr(client, "_tmail_caps", None)
    if client._imap.state == "NONAUTH" and isinstance(caps, frozenset):
        return caps
    return frozenset(c.upper() for c in client.capabilities())


def login_pop3(account: Account, pop: poplib.POP3, secret: str | None = None) -> None:
    where = Where.of(account, "incoming", "pop3")
    with where.errors("CAPA"):
        caps = pop3_capabilities(pop)
    _pop3_login(account, pop, caps, where, redactor_of(pop, "pop3"), secret)


def login_smtp(account: Account, smtp: smtplib.SMTP, secret: str | None = None) -> None:
    where = Where.of(account, "outgoing", "smtp")
    _smtp_login(account, smtp, where, redactor_of(smtp, "smtp"), secret)
