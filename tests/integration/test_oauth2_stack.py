"""The OAuth2 part of the test mail stack, proved with the standard library alone.

Dovecot validates the JWTs of the tests' OAuth2 server itself (signature, expiry, issuer, the
scope "mail", and that the SASL user is the token's subject); Postfix submission takes them
through Dovecot's SASL; password users are not disturbed.
"""

from __future__ import annotations

import imaplib
import json
import smtplib
import ssl
import urllib.parse
import urllib.request

import pytest

from tests.conftest import MailUser
from tests.support.mailstack import MailStack
from tests.support.oauth2server import OAuth2Server

pytestmark = pytest.mark.stack


def _password_grant(server: OAuth2Server, user: str, scope: str = "mail") -> str:
    body = urllib.parse.urlencode(
        {
            "grant_type": "password",
            "username": user,
            "password": "x",
            "client_id": "c",
            "scope": scope,
        }
    ).encode()
    with urllib.request.urlopen(server.token_endpoint, body, timeout=10) as resp:
        return str(json.loads(resp.read())["access_token"])


def _xoauth2(user: str, token: str) -> bytes:
    return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()


def _imaps(stack: MailStack) -> imaplib.IMAP4_SSL:
    ctx = ssl.create_default_context(cafile=str(stack.ca_file))
    return imaplib.IMAP4_SSL(stack.host, stack.ports.imaps, ssl_context=ctx, timeout=30)


def test_dovecot_takes_the_servers_token_for_its_subject_only(
    mailstack: MailStack, oauth2_server: OAuth2Server, make_mail_user: object
) -> None:
    owner: MailUser = make_mail_user()  # type: ignore[operator]
    other: MailUser = make_mail_user()  # type: ignore[operator]
    token = _password_grant(oauth2_server, owner.name)
    with _imaps(mailstack) as imap:
        assert imap.authenticate("XOAUTH2", lambda _: _xoauth2(owner.name, token))[0] == "OK"
    with _imaps(mailstack) as imap, pytest.raises(imaplib.IMAP4.error):
        imap.authenticate("XOAUTH2", lambda _: _xoauth2(other.name, token))
    # A token without the scope "mail" is refused too (test_oauth2_login.py, end to end), and so
    # is a token whose signature was changed (ibid., a refused token refreshed once): each
    # refusal here would make Dovecot slow down the next login from 127.0.0.1.

    # The password passdb is still there for the same kind of user.
    with _imaps(mailstack) as imap:
        assert imap.login(other.name, other.password)[0] == "OK"


def test_postfix_submission_takes_the_token_through_dovecot_sasl(
    mailstack: MailStack, oauth2_server: OAuth2Server, mail_user: MailUser
) -> None:
    token = _password_grant(oauth2_server, mail_user.name)
    ctx = ssl.create_default_context(cafile=str(mailstack.ca_file))
    with smtplib.SMTP_SSL(mailstack.host, mailstack.ports.smtps, context=ctx, timeout=30) as smtp:
        smtp.ehlo()
        assert "XOAUTH2" in smtp.esmtp_features["auth"].split()
        code, _ = smtp.auth("XOAUTH2", lambda _=None: _xoauth2(mail_user.name, token).decode())
    assert code == 235
