"""The configuration as tmail's own frozen types: what the TOML file says, validated.

The loader (``tmail.config.load_config``) builds these; everything else reads them. Field names
follow the config file's keys (``incoming.port`` -> ``Account.incoming.port``).
Extend, do not rename.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Security = Literal["tls", "starttls", "none"]
Protocol = Literal["imap", "pop3", "smtp"]
AuthMethod = Literal["password", "xoauth2"]
Role = Literal["incoming", "outgoing"]
SignaturePlacement = Literal["below", "above"]


@dataclass(frozen=True)
class ServerSettings:
    """One server of an account: where it is, how to secure the connection, how to log in."""

    protocol: Protocol
    host: str
    port: int
    security: Security = "tls"
    username: str = ""
    auth: AuthMethod = "password"
    # Where the password comes from, first match wins: password_command, password_env,
    # password (literal, warned about), else the system keyring (service "tmail",
    # key "ACCOUNT/incoming" or "ACCOUNT/outgoing").
    password_command: str | None = None
    password_env: str | None = None
    password: str | None = None
    oauth2_token_command: str | None = None
    ca_file: Path | None = None  # extra trust anchor for self-signed / private-CA servers
    timeout: float = 30.0  # seconds, on connect and on every read
    allow_plaintext_auth: bool = False  # only meaningful with security = "none"
    # A certificate pinned with `tmail account trust` (stored under the config dir): when set,
    # it is the only trust anchor for this server (host name still checked).
    pinned_cert: Path | None = None

    @property
    def label(self) -> str:
        """``host:port`` as shown in error lines."""
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class OAuth2Settings:
    """An account's ``[accounts.NAME.oauth2]`` table: the user's own client and, for a provider
    without a preset, the endpoints and scopes (tmail.config.oauth2 has the presets)."""

    client_id: str
    client_secret: str | None = None
    provider: str | None = None  # a key of tmail.config.oauth2.PROVIDERS, or None (generic)
    authorization_endpoint: str | None = None
    token_endpoint: str | None = None
    device_authorization_endpoint: str | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class SendLimits:
    """Per-account sending limits (defaults from the provider preset); None means no limit."""

    per_second: float | None = None
    per_hour: int | None = None
    per_day: int | None = None
    per_message: int | None = None  # most recipients one message may have (the provider's)
    count_recipients: bool = False  # per_hour/per_day count recipients, not messages (Yandex)


@dataclass(frozen=True)
class Identity:
    """One address an account sends from: its main address, an alias, or a wildcard
    (``*@example.org``, a catch-all domain) that stands for any address of that domain.

    The signature comes from ``signature`` (text), ``signature_file`` or ``signature_command``
    (its output), at most one of them; :mod:`tmail.config.signature` reads it.
    """

    address: str  # lower-case for a wildcard; as written otherwise
    name: str = ""
    reply_to: str | None = None
    bcc_self: bool = False
    signature: str | None = None
    signature_file: Path | None = None
    signature_command: str | None = None
    signature_placement: SignaturePlacement = "below"  # in a reply: below or above the quote

    @property
    def wildcard(self) -> bool:
        return self.address.startswith("*@")

    def covers(self, address: str) -> bool:
        """Whether mail to ``address`` is mail to this identity (case-insensitive)."""
        addr = address.strip().lower()
        if self.wildcard:
            return addr.endswith(self.address[1:].lower()) and len(addr) > len(self.address) - 1
        return addr == self.address.lower()


@dataclass(frozen=True)
class Account:
    """One mail account: an incoming server (IMAP or POP3) and an outgoing SMTP server."""

    name: str
    email: str
    incoming: ServerSettings
    outgoing: ServerSettings | None = None
    display_name: str = ""
    default: bool = False
    provider: str | None = None
    poll_interval: float = 300.0
    limits: SendLimits = field(default_factory=SendLimits)
    # MIME: charsets to try first for 8-bit text without a (trusted) charset, as mutt's
    # assumed_charset; and the charset for outgoing text (falls back to UTF-8 when it does not fit).
    assumed_charsets: tuple[str, ...] = ()
    send_charset: str = "utf-8"
    # POP3
    leave_on_server: bool = True
    delete_after: float | None = None  # seconds; None keeps messages on the server forever
    # IMAP sync
    folders_include: tuple[str, ...] = ()
    folders_exclude: tuple[str, ...] = ()
    max_age: float | None = None  # seconds; only messages newer than this are fetched
    max_size: int | None = None  # bytes; larger messages are fetched headers-only (IMAP, POP3)
    # Preview mode: only the headers of new mail are stored (IMAP BODY.PEEK[HEADER], POP3 TOP);
    # a message stored headers only is never deleted from a POP3 server.
    headers_only: bool = False
    # Sending
    max_attachment_size: int | None = None
    max_message_size: int | None = None  # default: the server's SMTP SIZE when known
    blocked_extensions: tuple[str, ...] = ()
    save_sent: bool = True  # copy sent mail to the Sent folder (IMAP APPEND or local)
    max_queue_age: float = 5 * 86400.0
    # Connection lost after the final dot: hold the message for the user (False) or send it
    # again by itself at the next try, risking a duplicate (True).
    resend_uncertain: bool = False
    # More recipients than limits.per_message: refuse the message before it is queued (False),
    # or send it in batches of that many, the same message to each (True).
    split_recipients: bool = False
    # The reader holds each message sent with y this long in the outbox (counting down on the
    # status line) so it can be taken back into the editor; 0 sends at once.
    undo_seconds: float = 10.0
    on_new_mail: str | None = None  # command run with TMAIL_ACCOUNT and TMAIL_NEW_COUNT set
    # More addresses to send from ([[accounts.NAME.identities]]); see all_identities().
    identities: tuple[Identity, ...] = ()
    # Who really sent it: the authserv-ids (RFC 8601) of the account's own receiving server,
    # whose Authentication-Results are believed (tmail.mime.sender); none: no verdict shown.
    authserv_ids: tuple[str, ...] = ()
    # One-click unsubscribe (RFC 8058) refuses hosts that resolve to private or loopback
    # addresses; these host names are allowed all the same (an intranet list server).
    unsubscribe_allow_hosts: tuple[str, ...] = ()
    # OpenPGP for what is sent: the signing key (default: the secret key of ``email``), whether
    # to sign ("always", "ask": the reader asks when sending, "never") and encrypt ("always",
    # "opportunistic": when every recipient has a key, "never"); ``tmail send --sign/--no-sign
    # --encrypt/--no-encrypt`` decide instead (for it "ask" is "never": a script is not asked).
    pgp_key: str | None = None
    pgp_sign: str = "never"
    pgp_encrypt: str = "never"
    # Autocrypt level 1: send one's key in an Autocrypt header; the reader learns the keys of
    # correspondents from theirs (for addresses the keyring has no key for).
    autocrypt: bool = False
    # Built-in OAuth2 sign-in (`tmail account login`); None: passwords or oauth2_token_command.
    oauth2: OAuth2Settings | None = None

    def all_identities(self) -> tuple[Identity, ...]:
        """The main address first (as configured under identities, or plain), then the rest."""
        main = next((i for i in self.identities if i.covers(self.email) and not i.wildcard), None)
        first = main or Identity(self.email, self.display_name)
        return (first, *(i for i in self.identities if i is not first))

    def own_addresses(self) -> tuple[str, ...]:
        """The addresses this account writes from: its email and every identity's own address
        (wildcards cover a domain, not an address, and are left out)."""
        return tuple(i.address for i in self.all_identities() if not i.wildcard)


@dataclass(frozen=True)
class CardDav:
    """A CardDAV address book ([contacts] carddav_*): its URL (the book, or the server to
    discover it on), the login, where the password comes from, the trust anchor."""

    url: str
    username: str
    password_command: str | None = None
    password_env: str | None = None  # neither: the keyring, service "tmail", key "contacts"
    ca_file: Path | None = None
    timeout: float = 30.0


@dataclass(frozen=True)
class Config:
    """The whole configuration file."""

    path: Path | None
    data_dir: Path
    poll_interval: float
    accounts: dict[str, Account]
    config_dir: Path | None = None  # where pinned certificates live (``certs/``)
    warnings: tuple[str, ...] = ()  # said on every run (literal passwords, loose permissions)
    query_command: str | None = None  # [contacts]: an outside address book, mutt's format
    carddav: CardDav | None = None  # [contacts]: a CardDAV address book synced with mail

    def assumed_charsets(self, account: str) -> tuple[str, ...]:
        """An account's ``assumed_charsets``; () for one not (or no longer) configured.

        Pass it to ``Store.open(..., assumed_charsets=config.assumed_charsets)``.
        """
        acct = self.accounts.get(account)
        return acct.assumed_charsets if acct is not None else ()

    def authserv_ids(self, account: str) -> tuple[str, ...]:
        """An account's trusted ``authserv_id`` values; () for one not configured."""
        acct = self.accounts.get(account)
        return acct.authserv_ids if acct is not None else ()

    def account(self, name: str | None = None) -> Account:
        """The named account, or the default one (the only one, or the one marked default)."""
        from tmail.core.errors import ConfigError

        if name is not None:
            if name not in self.accounts:
                known = ", ".join(sorted(self.accounts)) or "none"
                raise ConfigError(
                    f"no account named {name!r} (known: {known})",
                    hint=f"add [accounts.{name}] to {self.path}" if self.path else None,
                )
            return self.accounts[name]
        if not self.accounts:
            raise ConfigError(
                "no accounts configured",
                hint="run 'tmail account add' or copy config/config.example.toml",
            )
        for acc in self.accounts.values():
            if acc.default:
                return acc
        return next(iter(self.accounts.values()))
