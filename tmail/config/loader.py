"""Reading and validating ``config.toml`` into :class:`tmail.config.model.Config`.

Every mistake becomes one :class:`ConfigError` naming the file, the account, the key and what is
allowed; nothing is written while loading. Where the file leaves a server key out, the account's
provider preset (``provider = "..."``) fills it in, then the protocol's usual port.
"""

from __future__ import annotations

import logging
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import platformdirs

from tmail.config.identities import parse_identities
from tmail.config.model import (
    Account,
    CardDav,
    Config,
    OAuth2Settings,
    SendLimits,
    ServerSettings,
)
from tmail.config.oauth2 import PROVIDERS as OAUTH2_PROVIDERS
from tmail.config.oauth2 import provider_protocols
from tmail.config.presets import Preset, presets
from tmail.config.tables import TableReader, describe_value
from tmail.core.errors import ConfigError

log = logging.getLogger("tmail.config")


SECURITY_MODES = ("tls", "starttls", "none")
AUTH_METHODS = ("password", "xoauth2")
INCOMING_PROTOCOLS = ("imap", "pop3")
# The usual port of each protocol in each security mode (RFC 8314 for the implicit-TLS ones).
DEFAULT_PORTS: dict[tuple[str, str], int] = {
    ("imap", "tls"): 993,
    ("imap", "starttls"): 143,
    ("imap", "none"): 143,
    ("pop3", "tls"): 995,
    ("pop3", "starttls"): 110,
    ("pop3", "none"): 110,
    ("smtp", "tls"): 465,
    ("smtp", "starttls"): 587,
    ("smtp", "none"): 25,
}
# Sections read by other parts of tmail (the UI's keys and theme); the loader leaves them alone.
OTHER_SECTIONS = ("ui", "keys", "theme")
ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

GENERAL_KEYS = ("poll_interval", "data_dir")
CONTACTS_KEYS = (
    "query_command",
    "carddav_url",
    "carddav_username",
    "carddav_password_command",
    "carddav_password_env",
    "carddav_ca_file",
)
SERVER_KEYS = (
    "protocol",
    "host",
    "port",
    "security",
    "username",
    "auth",
    "password_command",
    "password_env",
    "password",
    "oauth2_token_command",
    "ca_file",
    "timeout",
    "allow_plaintext_auth",
)
OUTGOING_ONLY_KEYS = ("limits",)
LIMIT_KEYS = ("per_second", "per_hour", "per_day", "per_message")
LIMIT_FLAGS = ("count_recipients",)
PGP_SIGN = ("always", "ask", "never")
PGP_ENCRYPT = ("always", "opportunistic", "never")
ACCOUNT_KEYS = (
    "email",
    "name",
    "default",
    "provider",
    "poll_interval",
    "incoming",
    "outgoing",
    "limits",
    "assumed_charsets",
    "send_charset",
    "leave_on_server",
    "delete_after",
    "folders_include",
    "folders_exclude",
    "max_age",
    "max_size",
    "headers_only",
    "max_attachment_size",
    "max_message_size",
    "blocked_extensions",
    "save_sent",
    "max_queue_age",
    "resend_uncertain",
    "undo_seconds",
    "split_recipients",
    "on_new_mail",
    "identities",
    "authserv_id",
    "unsubscribe_allow_hosts",
    "pgp_key",
    "pgp_sign",
    "pgp_encrypt",
    "autocrypt",
    "oauth2",
)
OAUTH2_KEYS = (
    "client_id",
    "client_secret",
    "provider",
    "authorization_endpoint",
    "token_endpoint",
    "device_authorization_endpoint",
    "scopes",
)


# ------------------------------------------------------------------------------------ paths
def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/tmail/config.toml`` (``~/.config/tmail/config.toml``)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME")
    if base:
        return Path(base) / "tmail" / "config.toml"
    return Path(platformdirs.user_config_dir("tmail", appauthor=False)) / "config.toml"


def default_data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/tmail`` (``~/.local/share/tmail``)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_DATA_HOME")
    if base:
        return Path(base) / "tmail"
    return Path(platformdirs.user_data_dir("tmail", appauthor=False))


def resolve_config_path(
    path: Path | str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[Path, bool]:
    """The config file to read and whether the user named it (``--config``, ``TMAIL_CONFIG``)."""
    env = os.environ if environ is None else environ
    if path is not None and str(path) != "":
        return Path(path).expanduser(), True
    if env.get("TMAIL_CONFIG"):
        return Path(env["TMAIL_CONFIG"]).expanduser(), True
    return default_config_path(env), False


def pinned_cert_path(config_dir: Path, account: str, role: str) -> Path:
    """Where ``tmail account trust`` keeps the pinned certificate of one server."""
    return config_dir / "certs" / f"{account}-{role}.pem"


# ----------------------------------------------------------------------------------- loading
def load_config(path: Path | str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config file.

    ``path`` is ``--config``; without it ``TMAIL_CONFIG``, then the XDG path. A missing file at
    the default place is an empty configuration (no accounts); a missing file the user named is
    an error. ``environ`` replaces ``os.environ`` (tests).
    """
    env = os.environ if environ is None else environ
    file, named = resolve_config_path(path, env)
    if not file.exists():
        if named:
            raise ConfigError(
                f"config file {file} does not exist",
                hint="check --config / TMAIL_CONFIG, or copy config/config.example.toml there",
            )
        return Config(
            path=None,
            data_dir=_data_dir(None, env, file),
            poll_interval=300.0,
            accounts={},
            config_dir=file.parent,
        )
    try:
        raw_bytes = file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {file}: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{file}: not valid TOML: {exc}", hint="see config/config.example.toml"
        ) from exc
    return _Loader(file, env).build(data)


def _data_dir(configured: object, env: Mapping[str, str], file: Path) -> Path:
    if env.get("TMAIL_DATA_DIR"):
        return Path(env["TMAIL_DATA_DIR"]).expanduser()
    if isinstance(configured, str) and configured:
        p = Path(configured).expanduser()
        return p if p.is_absolute() else (file.parent / p)
    return default_data_dir(env)


class _Loader(TableReader):
    def __init__(self, file: Path, env: Mapping[str, str]) -> None:
        super().__init__(file)
        self.env = env
        self.warnings: list[str] = []

    # -------------------------------------------------------------------- build
    def build(self, data: dict[str, Any]) -> Config:
        for key in data:
            if key not in ("general", "accounts", "contacts", *OTHER_SECTIONS):
                raise self.error(
                    f"[{key}]",
                    "unknown section",
                    hint="allowed: [general], [accounts.NAME], [contacts], "
                    + ", ".join(f"[{s}]" for s in OTHER_SECTIONS),
                )
        general = data.get("general", {})
        if not isinstance(general, dict):
            raise self.error("general", "expected a table [general]")
        self._check_keys(general, GENERAL_KEYS, "general.")
        poll = self._duration(general, "poll_interval", "general.")
        data_dir_value = self._str(general, "data_dir", "general.")
        contacts = data.get("contacts", {})
        if not isinstance(contacts, dict):
            raise self.error("contacts", "expected a table [contacts]")
        self._check_keys(contacts, CONTACTS_KEYS, "contacts.")
        query_command = self._str(contacts, "query_command", "contacts.")
        carddav = self._carddav(contacts)
        poll_interval = 300.0 if poll is None else poll
        if poll_interval <= 0:
            raise self.error("general.poll_interval", "must be more than 0s")
        accounts_raw = data.get("accounts", {})
        if not isinstance(accounts_raw, dict):
            raise self.error("accounts", "expected tables [accounts.NAME]")
        accounts: dict[str, Account] = {}
        for name, table in accounts_raw.items():
            accounts[name] = self._account(name, table, poll_interval)
        defaults = [a.name for a in accounts.values() if a.default]
        if len(defaults) > 1:
            raise self.error(
                "default",
                f"more than one account says default = true ({', '.join(defaults)})",
                hint="keep default = true on one account only",
            )
        if any(
            s is not None and s.password is not None
            for a in accounts.values()
            for s in (a.incoming, a.outgoing)
        ):
            self._check_permissions()
        # Said on every run, by every command (logging's last-resort handler writes to stderr
        # when nothing else is configured; the UI routes it to its status line).
        for w in self.warnings:
            log.warning("tmail: warning: %s", w)
        return Config(
            path=self.file,
            data_dir=_data_dir(data_dir_value, self.env, self.file),
            poll_interval=poll_interval,
            accounts=accounts,
            config_dir=self.file.parent,
            warnings=tuple(self.warnings),
            query_command=query_command or None,
            carddav=carddav,
        )

    def _carddav(self, table: Mapping[str, Any]) -> CardDav | None:
        where = "contacts."
        url = self._str(table, "carddav_url", where)
        if not url:
            if any(k.startswith("carddav_") for k in table):
                raise self.error(f"{where}carddav_url", "required with the other carddav_ keys")
            return None
        if not url.startswith("https://"):
            raise self.error(
                f"{where}carddav_url",
                f"{url!r} is not an https:// URL",
                hint="CardDAV passwords travel only over TLS",
            )
        username = self._str(table, "carddav_username", where)
        if not username:
            raise self.error(f"{where}carddav_username", "required with carddav_url")
        ca_text = self._str(table, "carddav_ca_file", where)
        ca_file: Path | None = None
        if ca_text:
            ca_file = Path(ca_text).expanduser()
            if not ca_file.is_absolute():
                ca_file = self.file.parent / ca_file
            if not ca_file.is_file():
                raise self.error(f"{where}carddav_ca_file", f"{ca_file} does not exist")
        return CardDav(
            url=url,
            username=username,
            password_command=self._str(table, "carddav_password_command", where),
            password_env=self._str(table, "carddav_password_env", where),
            ca_file=ca_file,
        )

    def _check_permissions(self) -> None:
        try:
            mode = self.file.stat().st_mode
        except OSError:
            return
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            self.warnings.append(
                f"{self.file} holds a password and is readable by others "
                f"(mode {stat.S_IMODE(mode):o}): run 'chmod 600 {self.file}'"
            )

    def _account(self, name: str, table: Any, poll_interval: float) -> Account:
        where = f"account {name!r}: "
        if not ACCOUNT_NAME.fullmatch(name):
            raise self.error(
                f"[accounts.{name}]",
                "account names are letters, digits, '.', '_' and '-' (up to 64)",
            )
        if not isinstance(table, dict):
            raise self.error(f"accounts.{name}", "expected a table [accounts.NAME]")
        self._check_keys(table, ACCOUNT_KEYS, where)
        email = self._str(table, "email", where)
        if not email or "@" not in email:
            raise self.error(
                f"{where}email",
                "required: the account's address, like alice@example.org",
            )
        preset: Preset | None = None
        provider = self._str(table, "provider", where)
        if provider is not None:
            preset = presets().get(provider.lower())
            if preset is None:
                raise self.error(
                    f"{where}provider",
                    f"unknown provider {provider!r}",
                    hint="allowed: " + ", ".join(sorted(presets())),
                )
        oauth2 = self._oauth2(table.get("oauth2"), where, preset)
        incoming_raw = table.get("incoming")
        if incoming_raw is None and preset is not None:
            incoming_raw = {}  # the preset's servers, the address as login
        if not isinstance(incoming_raw, dict):
            raise self.error(
                f"{where}incoming",
                "required: the incoming server (incoming.host, incoming.protocol, ...)"
                if incoming_raw is None
                else f"expected a table, got {describe_value(incoming_raw)}",
            )
        incoming = self._server(name, "incoming", incoming_raw, email, preset, None, oauth2)
        outgoing_raw = table.get("outgoing")
        outgoing: ServerSettings | None = None
        limits_raw: Any = table.get("limits")
        if outgoing_raw is not None:
            if not isinstance(outgoing_raw, dict):
                raise self.error(
                    f"{where}outgoing", f"expected a table, got {describe_value(outgoing_raw)}"
                )
            if "limits" in outgoing_raw:
                if limits_raw is not None:
                    raise self.error(f"{where}outgoing.limits", "given twice (also as limits)")
                limits_raw = outgoing_raw["limits"]
            outgoing = self._server(name, "outgoing", outgoing_raw, email, preset, incoming, oauth2)
        elif preset is not None and preset.smtp is not None:
            outgoing = self._server(name, "outgoing", {}, email, preset, incoming, oauth2)
        limits = preset.limits if preset is not None else SendLimits()
        if limits_raw is not None:
            limits = self._limits(limits_raw, f"{where}outgoing.limits.", limits)

        def num(key: str) -> float | None:
            return self._duration(table, key, where)

        acc_poll = num("poll_interval")
        max_queue_age = num("max_queue_age")
        undo = num("undo_seconds")
        return Account(
            name=name,
            email=email,
            incoming=incoming,
            outgoing=outgoing,
            display_name=self._str(table, "name", where) or "",
            default=bool(self._bool(table, "default", where)),
            provider=preset.name if preset else None,
            poll_interval=acc_poll if acc_poll else poll_interval,
            limits=limits,
            assumed_charsets=self._strings(table, "assumed_charsets", where),
            send_charset=self._str(table, "send_charset", where) or "utf-8",
            leave_on_server=_default(self._bool(table, "leave_on_server", where), True),
            delete_after=num("delete_after"),
            folders_include=self._strings(table, "folders_include", where),
            folders_exclude=self._strings(table, "folders_exclude", where),
            max_age=num("max_age"),
            max_size=self._size(table, "max_size", where),
            headers_only=bool(self._bool(table, "headers_only", where)),
            max_attachment_size=self._size(table, "max_attachment_size", where),
            max_message_size=self._size(table, "max_message_size", where),
            blocked_extensions=self._strings(table, "blocked_extensions", where),
            save_sent=_default(self._bool(table, "save_sent", where), True),
            max_queue_age=5 * 86400.0 if max_queue_age is None else max_queue_age,
            resend_uncertain=bool(self._bool(table, "resend_uncertain", where)),
            split_recipients=bool(self._bool(table, "split_recipients", where)),
            undo_seconds=10.0 if undo is None else min(undo, 3600.0),
            on_new_mail=self._str(table, "on_new_mail", where),
            identities=parse_identities(
                table.get("identities"), file=self.file, account=name, error=self.error
            ),
            authserv_ids=self._one_or_more(table, "authserv_id", where),
            unsubscribe_allow_hosts=self._strings(table, "unsubscribe_allow_hosts", where),
            pgp_key=self._str(table, "pgp_key", where),
            pgp_sign=self._choice(table, "pgp_sign", where, PGP_SIGN) or "never",
            pgp_encrypt=self._choice(table, "pgp_encrypt", where, PGP_ENCRYPT) or "never",
            autocrypt=bool(self._bool(table, "autocrypt", where)),
            oauth2=oauth2,
        )

    def _oauth2(self, raw: Any, where: str, preset: Preset | None) -> OAuth2Settings | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            raise self.error(f"{where}oauth2", "expected a table [accounts.NAME.oauth2]")
        where = f"{where}oauth2."
        self._check_keys(raw, OAUTH2_KEYS, where)
        client_id = self._str(raw, "client_id", where)
        if not client_id:
            raise self.error(
                f"{where}client_id",
                "required: the client ID you registered with the provider",
                hint="'tmail account login NAME' says where to register one",
            )
        provider = self._str(raw, "provider", where)
        if provider is None and preset is not None and preset.name in OAUTH2_PROVIDERS:
            provider = preset.name
        if provider is not None and provider not in OAUTH2_PROVIDERS:
            raise self.error(
                f"{where}provider",
                f"no OAuth2 preset for {provider!r}",
                hint="known: "
                + ", ".join(sorted(OAUTH2_PROVIDERS))
                + "; or leave it out and set authorization_endpoint, token_endpoint, scopes",
            )
        settings = OAuth2Settings(
            client_id=client_id,
            client_secret=self._str(raw, "client_secret", where),
            provider=provider,
            authorization_endpoint=self._str(raw, "authorization_endpoint", where),
            token_endpoint=self._str(raw, "token_endpoint", where),
            device_authorization_endpoint=self._str(raw, "device_authorization_endpoint", where),
            scopes=self._strings(raw, "scopes", where),
        )
        if provider is None:
            for key in ("authorization_endpoint", "token_endpoint", "scopes"):
                if not getattr(settings, key):
                    raise self.error(
                        f"{where}{key}",
                        "required for a provider without an OAuth2 preset",
                        hint="presets: " + ", ".join(sorted(OAUTH2_PROVIDERS)),
                    )
        # A desktop client's client_secret is no secret (RFC 8252 8.5): no warning for it.
        return settings

    def _limits(self, raw: Any, where: str, base: SendLimits) -> SendLimits:
        if not isinstance(raw, dict):
            raise self.error(where.rstrip("."), "expected { per_second = N, per_hour = N, ... }")
        self._check_keys(raw, LIMIT_KEYS + LIMIT_FLAGS, where)
        counted = self._bool(raw, "count_recipients", where)
        values: dict[str, Any] = {}
        for key in LIMIT_KEYS:
            v = self._get(raw, key, where, (int, float), "a number")
            if v is not None and v <= 0:
                raise self.error(f"{where}{key}", "must be more than 0")
            values[key] = v
        return SendLimits(
            per_second=values["per_second"]
            if values["per_second"] is not None
            else base.per_second,
            per_hour=int(values["per_hour"]) if values["per_hour"] is not None else base.per_hour,
            per_day=int(values["per_day"]) if values["per_day"] is not None else base.per_day,
            per_message=int(values["per_message"])
            if values["per_message"] is not None
            else base.per_message,
            count_recipients=base.count_recipients if counted is None else counted,
        )

    def _server(
        self,
        account: str,
        role: str,
        raw: dict[str, Any],
        email: str,
        preset: Preset | None,
        incoming: ServerSettings | None,
        oauth2: OAuth2Settings | None = None,
    ) -> ServerSettings:
        where = f"account {account!r}: {role}."
        allowed = SERVER_KEYS + (OUTGOING_ONLY_KEYS if role == "outgoing" else ())
        self._check_keys(raw, allowed, where)
        if role == "incoming":
            protocol = self._choice(raw, "protocol", where, INCOMING_PROTOCOLS)
            if protocol is None:
                protocol = "imap"
                if preset is not None and preset.imap is None and preset.pop3 is not None:
                    protocol = "pop3"
        else:
            protocol = self._choice(raw, "protocol", where, ("smtp",)) or "smtp"
        base = preset.server(protocol) if preset is not None else None
        if preset is not None and base is None and "host" not in raw:
            raise self.error(
                f"{where}protocol",
                f"{preset.title} has no {protocol.upper()} server",
                hint="choose another protocol or set host/port/security yourself",
            )
        host = self._str(raw, "host", where) or (base.host if base else None)
        if not host:
            raise self.error(
                f"{where}host",
                'required (or set provider = "..." for a preset)',
                hint="known providers: " + ", ".join(sorted(presets())),
            )
        security = self._choice(raw, "security", where, SECURITY_MODES)
        if security is None:
            security = base.security if base and "port" not in raw else "tls"
        port = self._get(raw, "port", where, int, "a port number (1-65535)")
        if port is None:
            if base is not None and base.security == security:
                port = base.port
            else:
                port = DEFAULT_PORTS[(protocol, security)]
        if not 1 <= port <= 65535:
            raise self.error(f"{where}port", f"{port} is out of range", hint="allowed: 1-65535")
        auth = self._choice(raw, "auth", where, AUTH_METHODS)
        timeout = self._duration(raw, "timeout", where)
        if timeout is not None and timeout <= 0:
            raise self.error(f"{where}timeout", "must be more than 0s")
        ca_file_text = self._str(raw, "ca_file", where)
        ca_file: Path | None = None
        if ca_file_text:
            ca_file = Path(ca_file_text).expanduser()
            if not ca_file.is_absolute():
                ca_file = self.file.parent / ca_file
            if not ca_file.is_file():
                raise self.error(f"{where}ca_file", f"{ca_file} does not exist or is not a file")
        secret_keys = ("password_command", "password_env", "password", "oauth2_token_command")
        secrets = {k: self._str(raw, k, where) for k in secret_keys}
        given = [k for k in ("password_command", "password_env", "password") if secrets[k]]
        if len(given) > 1:
            raise self.error(
                f"{where}{given[1]}",
                f"set only one of {', '.join(given)}",
                hint="the password comes from one place",
            )
        username = self._str(raw, "username", where)
        # An outgoing server that names no password source and no login of its own uses the
        # incoming server's (the same mailbox at most providers).
        inherit = (
            incoming is not None
            and not any(secrets.values())
            and "auth" not in raw
            and (username is None or username == incoming.username)
        )
        if inherit and incoming is not None:
            secrets = {
                "password_command": incoming.password_command,
                "password_env": incoming.password_env,
                "password": incoming.password,
                "oauth2_token_command": incoming.oauth2_token_command,
            }
            auth = auth or incoming.auth
        if oauth2 is not None and "auth" not in raw and not any(secrets.values()):
            # Signed in with `tmail account login`: every server of the provider that takes
            # the token uses it (Mail.ru's SMTP stays on its app password).
            auth = "xoauth2" if protocol in provider_protocols(oauth2) else None
        auth = auth or (preset.auth if preset is not None else "password")
        if auth == "xoauth2" and not secrets["oauth2_token_command"] and oauth2 is None:
            raise self.error(
                f"{where}oauth2_token_command",
                'required with auth = "xoauth2" (a command that prints a fresh access token)',
                hint="or add [accounts.NAME.oauth2] with your client_id and run "
                "'tmail account login NAME'",
            )
        if ca_file is None and incoming is not None and incoming.host == host:
            ca_file = incoming.ca_file
        if secrets["password"] and not (inherit and incoming is not None):
            self.warnings.append(
                f"{self.file}: account {account!r}: {role}.password holds a literal password; "
                "prefer the keyring (tmail account add) or password_command"
            )
        plaintext = self._bool(raw, "allow_plaintext_auth", where)
        pinned = pinned_cert_path(self.file.parent, account, role)
        return ServerSettings(
            protocol=protocol,  # type: ignore[arg-type]
            host=host,
            port=port,
            security=security,  # type: ignore[arg-type]
            username=(
                username
                if username is not None
                else (incoming.username if incoming is not None else email)
            ),
            auth=auth,  # type: ignore[arg-type]
            password_command=secrets["password_command"],
            password_env=secrets["password_env"],
            password=secrets["password"],
            oauth2_token_command=secrets["oauth2_token_command"],
            ca_file=ca_file,
            timeout=30.0 if timeout is None else timeout,
            allow_plaintext_auth=bool(plaintext),
            pinned_cert=pinned if pinned.is_file() else None,
        )


def _default(value: bool | None, default: bool) -> bool:
    return default if value is None else value
