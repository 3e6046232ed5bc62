"""Dovecot's auth penalty: each failed login from an IP delays the next one from it (2, 4, 8,
up to 15 s; auth-penalty.h) until a login succeeds. Tests that fail logins on purpose use
:func:`clear_auth_penalty` afterwards so the next test's login is not the one that waits."""

from __future__ import annotations

import ssl
import time

import imapclient

from tests.support.mailstack import MailStack


def clear_auth_penalty(stack: MailStack, user: str = "alice") -> None:
    """One successful login from 127.0.0.1 resets the penalty (it may wait out the delay)."""
    ctx = ssl.create_default_context(cafile=str(stack.ca_file))
    deadline = time.monotonic() + 40
    while True:
        try:
            c = imapclient.IMAPClient(
                stack.host, port=stack.ports.imaps, ssl_context=ctx, timeout=30
            )
            c.login(user, stack.users[user])
            c.logout()
            return
        except (imapclient.exceptions.IMAPClientError, OSError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
