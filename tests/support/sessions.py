"""Logged-in protocol sessions and accounts on the test stack, for sync tests."""

from __future__ import annotations

import email.policy
import os
import poplib
import ssl
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import imapclient

from tests.support.mailstack import MailStack
from tmail.config.model import Account, Security, ServerSettings
from tmail.protocols.imap import ImapSession
from tmail.protocols.pop3 import Pop3Session


def context(stack: MailStack) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(stack.ca_file))


def imap_session(stack: MailStack, user: str, password: str) -> ImapSession:
    client = imapclient.IMAPClient(
        stack.host, port=stack.ports.imaps, ssl=True, ssl_context=context(stack), timeout=30
    )
    _retry_login(lambda: client.login(user, password))
    return ImapSession(client, account=user, server=f"{stack.host}:{stack.ports.imaps}")


def pop3_session(stack: MailStack, user: str, password: str) -> Pop3Session:
    pop = poplib.POP3_SSL(stack.host, stack.ports.pop3s, context=context(stack), timeout=30)

    def login() -> None:
        pop.user(user)
        pop.pass_(password)

    try:
        _retry_login(login)
    except poplib.error_proto:
        pop.close()
        pop = poplib.POP3_SSL(stack.host, stack.ports.pop3s, context=context(stack), timeout=30)
        login()
    return Pop3Session(pop, account=user, server=f"{stack.host}:{stack.ports.pop3s}")


def _retry_login(login: Callable[[], object]) -> None:
    # Dovecot notices a new user when the passwd file's mtime changes, which can lag a second
    # behind add_user: retry for a little while.
    deadline = time.monotonic() + 3
    while True:
        try:
            login()
            return
        except (imapclient.exceptions.LoginError, poplib.error_proto):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def account(
    stack: MailStack,
    user: str,
    password: str,
    protocol: str = "imap",
    security: Security = "tls",
    **extra: object,
) -> Account:
    """An Account for a stack user; the password travels in an environment variable."""
    env = f"TMAIL_TEST_PW_{user.upper()}"
    os.environ[env] = password
    ports = {
        ("imap", "tls"): stack.ports.imaps,
        ("imap", "starttls"): stack.ports.imap,
        ("pop3", "tls"): stack.ports.pop3s,
        ("pop3", "starttls"): stack.ports.pop3,
    }
    incoming = ServerSettings(
        protocol,  # type: ignore[arg-type]
        stack.host,
        ports[(protocol, security)],
        security=security,
        username=user,
        password_env=env,
        ca_file=stack.ca_file,
        timeout=10.0,
    )
    return Account(name=user, email=stack.address(user), incoming=incoming, **extra)  # type: ignore[arg-type]


def message(
    subject: str = "", body: str = "hello\n", size: int = 0, mid: str | None = None
) -> bytes:
    """A small RFC 5322 message; ``size`` pads the body to about that many bytes."""
    msg = EmailMessage()
    msg["From"] = "Sender <sender@example.test>"
    msg["To"] = "rcpt@example.test"
    msg["Subject"] = subject or "test " + uuid.uuid4().hex[:8]
    msg["Message-ID"] = mid or f"<{uuid.uuid4().hex}@example.test>"
    msg["Date"] = "Mon, 2 Nov 2026 10:00:00 +0000"
    if size > len(body):
        body += ("x" * 75 + "\n") * ((size - len(body)) // 76)
    msg.set_content(body)
    return msg.as_bytes(policy=email.policy.SMTP)


def write_config(
    folder: Path,
    stack: MailStack,
    user: str,
    password: str,
    *,
    protocol: str = "imap",
    name: str = "acct",
    extra: str = "",
) -> Path:
    """A config file for one stack account (password in a file read by password_command);
    returns its path. Local mail goes to ``folder/data``."""
    folder.mkdir(parents=True, exist_ok=True)
    pwfile = folder / "password"
    pwfile.write_text(password)
    port = stack.ports.imaps if protocol == "imap" else stack.ports.pop3s
    path = folder / "config.toml"
    path.write_text(f"""\
[general]
data_dir = "{folder / "data"}"
poll_interval = "5m"

[accounts.{name}]
email = "{stack.address(user)}"
incoming.protocol = "{protocol}"
incoming.host = "{stack.host}"
incoming.port = {port}
incoming.security = "tls"
incoming.username = "{user}"
incoming.password_command = "cat {pwfile}"
incoming.ca_file = "{stack.ca_file}"
{extra}
""")
    return path
