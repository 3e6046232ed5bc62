"""OAuth2 sign-in settings: provider endpoints and scopes, the account's client, the token store.

No network here (that is ``tmail.protocols.oauth2_flow``): this module says where to go and
keeps what came back. The refresh token lives only in the system keyring (service ``tmail``, key
``ACCOUNT/oauth2``), together with the current access token and its expiry, as one JSON value;
never in the config file, never in a log.

An account signs in itself (``tmail account login NAME``) when its config has an ``oauth2``
table with the user's own ``client_id``: tmail ships no one else's client ID.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from typing import Any

from tmail.config.model import Account, OAuth2Settings, Role
from tmail.core.errors import SecretError
from tmail.core.safe import safe_line

KEYRING_SERVICE = "tmail"
# Refresh this long before the access token expires: a sync may take a while, and clocks drift.
REFRESH_MARGIN = 120.0


@dataclass(frozen=True)
class OAuth2Provider:
    """A provider's OAuth2 endpoints, the scopes mail needs, and how to register a client."""

    name: str
    title: str
    authorization_endpoint: str
    token_endpoint: str
    scopes: tuple[str, ...]
    device_authorization_endpoint: str | None = None
    # Extra parameters of the authorization request (Google sends a refresh token only with
    # access_type=offline, and again only with prompt=consent).
    extra_params: tuple[tuple[str, str], ...] = ()
    # Protocols whose servers take the token; the others stay on a password (Mail.ru's SMTP).
    protocols: tuple[str, ...] = ("imap", "pop3", "smtp")
    register: tuple[str, ...] = ()  # numbered steps shown by `tmail account login`
    # The IMAP server takes AUTHENTICATE XOAUTH2 although its CAPABILITY does not list it.
    imap_xoauth2_unlisted: bool = False


_MS_SCOPES = (
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/POP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
    "offline_access",
)

PROVIDERS: dict[str, OAuth2Provider] = {
    p.name: p
    for p in (
        OAuth2Provider(
            name="gmail",
            title="Gmail",
            authorization_endpoint="https://accounts.google.com/o/oauth2/v2/auth",
            token_endpoint="https://oauth2.googleapis.com/token",
            scopes=("https://mail.google.com/",),
            extra_params=(("access_type", "offline"), ("prompt", "consent")),
            register=(
                "open https://console.cloud.google.com/apis/credentials and create a project",
                "enable the Gmail API; on the OAuth consent screen add yourself as a test user",
                'create an OAuth client ID of type "Desktop app"',
                "put its client ID and client secret in [accounts.NAME.oauth2] as "
                "client_id and client_secret",
            ),
        ),
        OAuth2Provider(
            name="outlook",
            title="Microsoft 365 / Outlook.com",
            authorization_endpoint="https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
            token_endpoint="https://login.microsoftonline.com/common/oauth2/v2.0/token",
            device_authorization_endpoint=(
                "https://login.microsoftonline.com/common/oauth2/v2.0/devicecode"
            ),
            scopes=_MS_SCOPES,
            register=(
                "open https://entra.microsoft.com > App registrations > New registration",
                'choose "Accounts in any organizational directory and personal Microsoft '
                'accounts"; add the redirect URI http://localhost of type "Mobile and desktop"',
                "under API permissions add IMAP.AccessAsUser.All, POP.AccessAsUser.All, "
                "SMTP.Send and offline_access; allow public client flows",
                "put the Application (client) ID in [accounts.NAME.oauth2] as client_id",
            ),
        ),
        OAuth2Provider(
            name="yandex",
            title="Yandex Mail",
            authorization_endpoint="https://oauth.yandex.ru/authorize",
            token_endpoint="https://oauth.yandex.ru/token",
            device_authorization_endpoint="https://oauth.yandex.ru/device/code",
            scopes=("mail:imap_full", "mail:smtp"),
            imap_xoauth2_unlisted=True,
            register=(
                "open https://oauth.yandex.ru/client/new",
                'choose "Web services", redirect URI http://127.0.0.1, and the access '
                '"Mail: IMAP" and "Mail: SMTP"',
                "put its ClientID (and client secret) in [accounts.NAME.oauth2]",
            ),
        ),
        OAuth2Provider(
            name="mailru",
            title="Mail.ru",
            authorization_endpoint="https://oauth.mail.ru/login",
            token_endpoint="https://oauth.mail.ru/token",
            scopes=("mail.imap",),
            protocols=("imap", "pop3"),  # its SMTP stays on an app password
            register=(
                "open https://o2.mail.ru/app/ and add an application",
                "allow the mail.imap access and the redirect URI http://127.0.0.1",
                "put its ID (and secret) in [accounts.NAME.oauth2] as client_id/client_secret",
            ),
        ),
    )
}


@dataclass(frozen=True)
class Endpoints:
    """What the flows need, preset and config merged."""

    title: str
    authorization_endpoint: str
    token_endpoint: str
    device_authorization_endpoint: str | None
    scopes: tuple[str, ...]
    extra_params: tuple[tuple[str, str], ...]
    client_id: str
    client_secret: str | None
    register: tuple[str, ...]


def endpoints(account: Account) -> Endpoints:
    """The account's OAuth2 endpoints; SecretError when it has no ``oauth2`` table."""
    o = account.oauth2
    if o is None:
        raise SecretError(
            "this account has no [oauth2] settings",
            account=account.name,
            hint=f"add [accounts.{account.name}.oauth2] with your client_id",
        )
    p = PROVIDERS.get(o.provider or "")
    return Endpoints(
        title=p.title if p else "the provider",
        authorization_endpoint=o.authorization_endpoint or (p.authorization_endpoint if p else ""),
        token_endpoint=o.token_endpoint or (p.token_endpoint if p else ""),
        device_authorization_endpoint=o.device_authorization_endpoint
        or (p.device_authorization_endpoint if p else None),
        scopes=o.scopes or (p.scopes if p else ()),
        extra_params=p.extra_params if p else (),
        client_id=o.client_id,
        client_secret=o.client_secret,
        register=p.register if p else (),
    )


def uses_builtin(account: Account, role: Role) -> bool:
    """True when this server logs in with tmail's own OAuth2 tokens (not a token command)."""
    s = account.incoming if role == "incoming" else account.outgoing
    return (
        s is not None
        and s.auth == "xoauth2"
        and not s.oauth2_token_command
        and account.oauth2 is not None
    )


def imap_xoauth2_unlisted(account: Account) -> bool:
    """The account's provider takes IMAP XOAUTH2 without listing it (Yandex), whether the token
    comes from tmail's sign-in or from oauth2_token_command."""
    name = (account.oauth2.provider if account.oauth2 else None) or account.provider or ""
    p = PROVIDERS.get(name)
    return p is not None and p.imap_xoauth2_unlisted


def provider_protocols(settings: OAuth2Settings) -> tuple[str, ...]:
    p = PROVIDERS.get(settings.provider or "")
    return p.protocols if p else ("imap", "pop3", "smtp")


# ------------------------------------------------------------------------------ token store
@dataclass(frozen=True)
class Tokens:
    """What the token endpoint gave: kept in the keyring as one JSON value."""

    access_token: str
    expires_at: float  # seconds since the epoch; 0 when the provider did not say
    refresh_token: str | None = None
    scope: str = ""

    def fresh(self, now: float | None = None) -> bool:
        """Usable for a while yet (not within REFRESH_MARGIN of its expiry)."""
        if not self.access_token:
            return False
        if not self.expires_at:
            return True
        return (time.time() if now is None else now) < self.expires_at - REFRESH_MARGIN

    def expired(self) -> Tokens:
        """The same grant with the access token marked as no longer usable."""
        return replace(self, access_token="", expires_at=0.0)

    @classmethod
    def from_response(cls, data: dict[str, Any], previous: Tokens | None = None) -> Tokens:
        """From a token endpoint's JSON answer (RFC 6749 5.1). A refresh that brings no new
        refresh token keeps the old one (Google sends it only at the first grant)."""
        expires_in = data.get("expires_in")
        try:
            expires_at = time.time() + float(expires_in) if expires_in is not None else 0.0
        except (TypeError, ValueError):
            expires_at = 0.0
        refresh = data.get("refresh_token") or (previous.refresh_token if previous else None)
        return cls(
            access_token=str(data["access_token"]),
            expires_at=expires_at,
            refresh_token=str(refresh) if refresh else None,
            scope=str(data.get("scope") or (previous.scope if previous else "")),
        )


def keyring_key(account: str) -> str:
    return f"{account}/oauth2"


def _keyring_error(account: str, exc: BaseException) -> SecretError:
    text = str(exc).strip().splitlines()
    why = safe_line(text[0])[:160] if text else type(exc).__name__
    return SecretError(
        f"the system keyring is not available ({why})",
        account=account,
        hint="OAuth2 sign-in keeps its refresh token in the keyring; start one "
        "(gnome-keyring, kwallet) or use oauth2_token_command with a token helper",
    )


def load_tokens(account: str) -> Tokens | None:
    """The stored tokens of an account, or None before ``tmail account login``."""
    try:
        import keyring

        raw = keyring.get_password(KEYRING_SERVICE, keyring_key(account))
    except Exception as exc:  # D-Bus/Secret Service failures surface as assorted errors
        raise _keyring_error(account, exc) from None
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return Tokens(
            access_token=str(data.get("access_token") or ""),
            expires_at=float(data.get("expires_at") or 0.0),
            refresh_token=data.get("refresh_token") or None,
            scope=str(data.get("scope") or ""),
        )
    except (ValueError, TypeError, AttributeError):
        return None  # unreadable: as if never signed in


def save_tokens(account: str, tokens: Tokens) -> None:
    value = json.dumps(
        {
            "access_token": tokens.access_token,
            "expires_at": tokens.expires_at,
            "refresh_token": tokens.refresh_token,
            "scope": tokens.scope,
        }
    )
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, keyring_key(account), value)
    except Exception as exc:
        raise _keyring_error(account, exc) from None


def describe(account: Account, now: float | None = None) -> str:
    """The sign-in state in words (for ``tmail accounts``); never a token."""
    try:
        tokens = load_tokens(account.name)
    except SecretError:
        return "OAuth2 (keyring not available)"
    if tokens is None:
        return f"OAuth2, not signed in (run 'tmail account login {account.name}')"
    moment = time.time() if now is None else now
    if tokens.expires_at and tokens.access_token:
        until = time.strftime("%Y-%m-%d %H:%M", time.localtime(tokens.expires_at))
        if tokens.expires_at > moment:
            left = f"access token valid until {until}"
        else:
            left = f"access token expired at {until}, renewed at the next use"
    else:
        left = "access token renewed at the next use"
    renew = "refreshed by itself" if tokens.refresh_token else "no refresh token"
    return f"OAuth2, signed in ({left}; {renew})"
