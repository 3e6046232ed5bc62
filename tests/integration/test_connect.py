"""tmail.protocols.connect against the real Dovecot and Postfix, in every security mode, and
against the small fault servers for what they cannot do on demand."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MailUser
from tests.support.faultservers import never_greets, starttls_not_offered, wrong_host_proxy
from tests.support.mailstack import MailStack
from tests.support.penalty import clear_auth_penalty
from tmail.config.model import Account, Security, ServerSettings
from tmail.core.errors import (
    AuthFailed,
    CertificateError,
    ConnectFailed,
    TLSFailure,
    TmailError,
)
from tmail.protocols.connect import open_imap, open_pop3, open_smtp, tls_info

pytestmark = pytest.mark.stack


def make_account(
    stack: MailStack,
    user: str,
    password: str,
    protocol: str,
    security: Security,
    *,
    host: str | None = None,
    port: int | None = None,
    timeout: float = 10.0,
    **extra: Any,
) -> Account:
    p = stack.ports
    ports = {
        ("imap", "tls"): p.imaps,
        ("imap", "starttls"): p.imap,
        ("imap", "none"): p.imap,
        ("pop3", "tls"): p.pop3s,
        ("pop3", "starttls"): p.pop3,
        ("pop3", "none"): p.pop3,
        ("smtp", "tls"): p.smtps,
        ("smtp", "starttls"): p.smtp,
        ("smtp", "none"): p.smtp,
    }
    server = ServerSettings(
        protocol,  # type: ignore[arg-type]
        host or stack.host,
        port or ports[(protocol, security)],
        security=security,
        username=user,
        password=password,
        timeout=timeout,
        **{"ca_file": stack.ca_file, **extra},
    )
    if protocol == "smtp":
        incoming = ServerSettings("imap", stack.host, p.imaps, ca_file=stack.ca_file)
        return Account("acct", stack.address(user), incoming, server)
    return Account("acct", stack.address(user), server)


OPENERS: dict[str, Callable[..., Any]] = {"imap": open_imap, "pop3": open_pop3, "smtp": open_smtp}


def connect_retrying(protocol: str, account: Account, **kw: Any) -> Any:
    # Dovecot notices a new user when the passwd file's mtime changes, up to a second later.
    deadline = time.monotonic() + 4
    while True:
        try:
            return OPENERS[protocol](account, **kw)
        except AuthFailed:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def close(protocol: str, conn: Any) -> None:
    if protocol == "imap":
        conn.logout()
    else:
        conn.quit()


@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_connects_and_logs_in_over_tls(
    mail_user: MailUser, protocol: str, security: Security
) -> None:
    lines: list[tuple[str, str]] = []
    account = make_account(mail_user.stack, mail_user.name, mail_user.password, protocol, security)
    conn = connect_retrying(protocol, account, transcript=lambda d, t: lines.append((d, t)))
    try:
        sock = {"imap": lambda: conn._imap.sock, "pop3": lambda: conn.sock}.get(
            protocol, lambda: conn.sock
        )()
        info = tls_info(sock)
        assert info is not None and info.version.startswith("TLSv1.")
        assert info.cert is not None and "CN=localhost" in info.cert.subject
        if protocol == "imap":
            assert conn.list_folders()  # logged in: INBOX at least
        elif protocol == "pop3":
            assert conn.stat()[0] == 0
        else:
            assert conn.noop()[0] == 250
            assert "auth" in conn.esmtp_features
    finally:
        close(protocol, conn)
    text = "\n".join(t for _, t in lines)
    assert mail_user.password not in text
    assert "***" in text
    if security == "starttls":
        assert "TLS established: TLSv1." in text


@pytest.mark.parametrize("protocol", ["imap", "pop3"])
def test_plain_mode_logs_in_only_when_plaintext_auth_is_allowed(
    mail_user: MailUser, protocol: str
) -> None:
    stack = mail_user.stack
    refused = make_account(stack, mail_user.name, mail_user.password, protocol, "none")
    with pytest.raises(TLSFailure, match="refusing to send the password unencrypted"):
        OPENERS[protocol](refused)
    allowed = make_account(
        stack, mail_user.name, mail_user.password, protocol, "none", allow_plaintext_auth=True
    )
    conn = connect_retrying(protocol, allowed)
    assert tls_info(conn._imap.sock if protocol == "imap" else conn.sock) is None
    close(protocol, conn)


@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
def test_wrong_password_is_auth_failed_in_one_line(mail_user: MailUser, protocol: str) -> None:
    account = make_account(mail_user.stack, mail_user.name, "not-the-password", protocol, "tls")
    try:
        with pytest.raises(AuthFailed) as info:
            OPENERS[protocol](account)
    finally:
        clear_auth_penalty(mail_user.stack)
    line = info.value.one_line()
    assert "\n" not in line
    assert f"login refused for {mail_user.name!r}" in line
    assert "not-the-password" not in line
    assert account.name in line
    assert "authentication failed" in line.lower()  # the server's words, as text
    assert ": b'" not in line and ': b"' not in line  # not a Python bytes repr


def test_smtp_without_tls_offers_no_auth(mail_user: MailUser) -> None:
    # The test Postfix has smtpd_tls_auth_only = yes: AUTH appears only after STARTTLS.
    account = make_account(
        mail_user.stack, mail_user.name, mail_user.password, "smtp", "none",
        allow_plaintext_auth=True,
    )  # fmt: skip
    with pytest.raises(AuthFailed, match="offers no AUTH"):
        open_smtp(account)


@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
def test_certificate_for_another_host_is_refused(mailstack: MailStack, protocol: str) -> None:
    target = {"imap": mailstack.ports.imaps, "pop3": mailstack.ports.pop3s}.get(
        protocol, mailstack.ports.smtps
    )
    with wrong_host_proxy(target) as (host, port):
        account = make_account(mailstack, "alice", "secret", protocol, "tls", host=host, port=port)
        with pytest.raises(CertificateError) as info:
            OPENERS[protocol](account)
    line = info.value.one_line()
    assert "does not match host '127.0.0.2'" in line
    assert "localhost" in line and "SHA-256" in line


def test_untrusted_certificate_shows_details_and_how_to_trust(mailstack: MailStack) -> None:
    account = make_account(mailstack, "alice", "secret", "imap", "tls", ca_file=None)
    with pytest.raises(CertificateError) as info:
        open_imap(account)
    line = info.value.one_line()
    assert "certificate not trusted" in line
    assert "subject CN=localhost" in line and "issuer CN=localhost" in line
    assert "tmail account trust acct --incoming" in line


def test_pinned_certificate_is_the_only_trust_anchor(mailstack: MailStack, tmp_path: Path) -> None:
    pinned = tmp_path / "pinned.pem"
    pinned.write_bytes(mailstack.ca_file.read_bytes())
    ok = make_account(mailstack, "alice", "secret", "imap", "tls", ca_file=None, pinned_cert=pinned)
    open_imap(ok).logout()
    # Another self-signed certificate pinned: the server's real one is refused, both shown.
    import subprocess

    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
         str(tmp_path / "k.pem"), "-out", str(pinned), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    changed = make_account(
        mailstack, "alice", "secret", "imap", "tls", ca_file=mailstack.ca_file, pinned_cert=pinned
    )
    with pytest.raises(CertificateError) as info:
        open_imap(changed)
    line = info.value.one_line()
    assert "certificate changed" in line
    assert line.count("SHA-256") >= 2


@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
def test_starttls_not_offered_stops_before_credentials(protocol: str, tmp_path: Path) -> None:
    with starttls_not_offered(protocol) as fake:
        server = ServerSettings(
            protocol,  # type: ignore[arg-type]
            "127.0.0.1",
            fake.port,
            security="starttls",
            username="alice",
            password="hunter2",
            timeout=5,
        )
        if protocol == "smtp":
            account = Account("acct", "a@x.test", ServerSettings("imap", "h", 1), server)
        else:
            account = Account("acct", "a@x.test", server)
        with pytest.raises(TLSFailure) as info:
            OPENERS[protocol](account)
    assert "does not offer" in info.value.one_line()
    sent = b"".join(fake.lines)
    assert b"hunter2" not in sent
    for word in (b"LOGIN", b"PASS", b"AUTH", b"USER"):
        assert word not in sent.upper()


@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
def test_server_that_never_answers_times_out(protocol: str) -> None:
    with never_greets() as port:
        server = ServerSettings(
            protocol,  # type: ignore[arg-type]
            "127.0.0.1",
            port,
            security="tls",
            username="alice",
            password="x",
            timeout=1.0,
        )
        account = (
            Account("acct", "a@x.test", ServerSettings("imap", "h", 1), server)
            if protocol == "smtp"
            else Account("acct", "a@x.test", server)
        )
        started = time.monotonic()
        with pytest.raises(ConnectFailed) as info:
            OPENERS[protocol](account)
    assert time.monotonic() - started < 5
    assert "no answer within 1s" in info.value.one_line()


def test_refused_port_and_unknown_host_are_one_line() -> None:
    with never_greets() as port:
        pass  # closed again: nothing listens there now
    server = ServerSettings("imap", "127.0.0.1", port, timeout=2)
    with pytest.raises(ConnectFailed, match="connection refused") as refused:
        open_imap(Account("acct", "a@x.test", server))
    # Worded for a server that worked before (it is down), and for a first contact (settings).
    assert "the server is not answering" in refused.value.one_line()
    assert "check incoming" not in refused.value.one_line()
    first = refused.value.as_first_contact().one_line()
    assert f"connection refused on port {port}: nothing listens there" in first
    assert "check incoming.host, incoming.port and incoming.security" in first
    server = ServerSettings("imap", "no-such-host.invalid", 993, timeout=2)
    with pytest.raises(TmailError, match=r"cannot resolve host name 'no-such-host\.invalid'"):
        open_imap(Account("acct", "a@x.test", server))


@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
def test_bytes_injected_before_the_tls_handshake_are_discarded(
    mailstack: MailStack, protocol: str
) -> None:
    from tests.support.faultservers import injects_before_tls

    cert, key = str(mailstack.ca_file), str(mailstack.root / "key.pem")
    with injects_before_tls(protocol, cert, key) as fake:
        server = ServerSettings(
            protocol,  # type: ignore[arg-type]
            "127.0.0.1",
            fake.port,
            security="starttls",
            username="alice",
            password="x",
            ca_file=mailstack.ca_file,
            timeout=5,
        )
        account = (
            Account("acct", "a@x.test", ServerSettings("imap", "h", 1), server)
            if protocol == "smtp"
            else Account("acct", "a@x.test", server)
        )
        conn = OPENERS[protocol](account, login=False)
        try:
            if protocol == "imap":
                caps = b" ".join(conn.capabilities())
                assert b"STARTTLS" in caps  # the honest answer, read inside TLS
            elif protocol == "pop3":
                caps = " ".join(conn.capa()).encode()
                assert b"STLS" in caps
            else:
                caps = str(conn.esmtp_features).encode()
                assert b"starttls" in caps
            assert tls_info(conn._imap.sock if protocol == "imap" else conn.sock) is not None
            assert b"INJECTED" not in caps
        finally:
            conn.close() if protocol != "imap" else conn.shutdown()


@pytest.mark.parametrize(
    ("protocol", "security"),
    [("imap", "none"), ("imap", "starttls"), ("pop3", "none"), ("pop3", "starttls"),
     ("smtp", "none"), ("smtp", "starttls")],
)  # fmt: skip
def test_cleartext_security_on_an_implicit_tls_port_says_the_port_expects_tls(
    mailstack: MailStack, protocol: str, security: Security
) -> None:
    # Dovecot's IMAPS/POP3S and Postfix's SMTPS ports wait for a ClientHello and say nothing:
    # the answer is known within the short grace, not after the whole timeout.
    port = {"imap": mailstack.ports.imaps, "pop3": mailstack.ports.pop3s,
            "smtp": mailstack.ports.smtps}[protocol]  # fmt: skip
    account = make_account(
        mailstack, "alice", "x", protocol, security, port=port, timeout=20,
        allow_plaintext_auth=True,
    )  # fmt: skip
    with pytest.raises(TLSFailure) as info:
        OPENERS[protocol](account)
    line = info.value.one_line()
    role = "outgoing" if protocol == "smtp" else "incoming"
    assert f"port {port} expects TLS from the first byte" in line
    assert f'use {role}.security = "tls"' in line


@pytest.mark.parametrize("protocol", ["imap", "pop3", "smtp"])
def test_a_connection_does_not_parse_the_certificate_for_its_transcript_note(
    mail_user: MailUser, protocol: str
) -> None:
    # Start-up (issue 13): the "TLS established" note needs the version and the cipher only;
    # parsing the certificate loaded `cryptography` (30 ms) for every sync and every flush.
    stack = mail_user.stack
    port = {"imap": stack.ports.imap, "pop3": stack.ports.pop3, "smtp": stack.ports.smtp}
    code = f"""
import sys, time
from tmail.config.model import Account, ServerSettings
from tmail.core.errors import AuthFailed
from tmail.protocols.connect import open_imap, open_pop3, open_smtp
server = ServerSettings({protocol!r}, {stack.host!r}, {port[protocol]}, security="starttls",
    username={mail_user.name!r}, password={mail_user.password!r}, ca_file={str(stack.ca_file)!r})
incoming = ServerSettings("imap", {stack.host!r}, {stack.ports.imaps})
account = Account("acct", "x@example.test", incoming if {protocol!r} == "smtp" else server,
    server if {protocol!r} == "smtp" else None)
opener = {{"imap": open_imap, "pop3": open_pop3, "smtp": open_smtp}}[{protocol!r}]
notes = []
deadline = time.monotonic() + 4
while True:
    try:
        conn = opener(account, transcript=lambda d, t: notes.append(t))
        break
    except AuthFailed:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.3)
print([n for n in notes if n.startswith("TLS established")])
print("cryptography" in sys.modules)
"""
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    note, loaded = res.stdout.splitlines()[-2:]
    assert "TLS established: TLSv1." in note
    assert loaded == "False"
