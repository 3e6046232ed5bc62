"""Account discovery in tmail's own types, and the parts of it that need no network.

``tmail account discover`` (the probing, in :mod:`tmail.protocols.discover`) turns an address
into server settings from several sources; this module holds what they have in common:

* :class:`Endpoint` (one server: protocol, host, port, security) and :class:`Candidate` (what
  one source proposes: incoming and outgoing endpoints in the order to try, the user name, the
  login method, notes);
* the pure steps: SRV records to endpoints (RFC 6186, RFC 8314), an MX host to a known provider,
  the guesses (``imap.DOMAIN``, ``mail.DOMAIN``, ``smtp.DOMAIN``), a preset to a candidate;
* :class:`DiscoverySettings`: where to ask DNS, which provider table to add, where to fetch
  autoconfig files from, read from the environment (documented in tmail(1) ENVIRONMENT).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from tmail.config.model import Security
from tmail.config.presets import Preset
from tmail.core.errors import ConfigError

# Sources, in the order discovery tries them (issue 15); the names are what --json prints.
SOURCES = ("preset", "autoconfig", "ispdb", "mx", "srv", "guess")
SOURCE_TITLES = {
    "preset": "tmail's provider table",
    "autoconfig": "the domain's own autoconfig file",
    "ispdb": "the Thunderbird ISPDB",
    "mx": "the domain's MX records",
    "srv": "the domain's SRV records (RFC 6186)",
    "guess": "a guess at the usual host names",
}


@dataclass(frozen=True)
class Endpoint:
    """One server a source proposes."""

    protocol: str  # imap, pop3, smtp
    host: str
    port: int
    security: Security  # tls (implicit), starttls, none (plaintext: never used by discovery)

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"

    def describe(self) -> str:
        return f"{self.protocol.upper()} {self.label} {_SECURITY_WORDS[self.security]}"

    def as_json(self) -> dict[str, str | int]:
        return {
            "protocol": self.protocol,
            "host": self.host,
            "port": self.port,
            "security": self.security,
        }


_SECURITY_WORDS = {"tls": "TLS", "starttls": "STARTTLS", "none": "no encryption"}


@dataclass(frozen=True)
class Candidate:
    """What one source proposes, before any probe."""

    source: str  # one of SOURCES
    incoming: tuple[Endpoint, ...]
    outgoing: tuple[Endpoint, ...]
    username: str = ""  # "" = the address
    auth: str = "password"  # password or oauth2
    provider: str | None = None  # a preset's name, when the answer is a known provider
    notes: tuple[str, ...] = ()
    origin: str = ""  # where exactly: a URL, a DNS name
    # Servers the source offered only without encryption: never probed, never used, shown.
    plaintext: tuple[Endpoint, ...] = ()


# ------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class DiscoverySettings:
    """Where discovery looks, beyond the defaults. Read by :func:`discovery_settings`.

    ``nameservers``: (address, port) pairs to ask instead of /etc/resolv.conf's
    (``TMAIL_DNS_SERVER=127.0.0.1:15353``). ``connect_to``: (host, port) -> (host, port) for the
    HTTPS fetches of autoconfig files, as curl's --connect-to: the certificate is still checked
    against the first name (``TMAIL_DISCOVERY_CONNECT_TO``). ``providers_file``: a TOML file in
    the format of the built-in provider table, whose entries are added to it and win over it
    (``TMAIL_PROVIDERS``).
    """

    nameservers: tuple[tuple[str, int], ...] = ()
    connect_to: Mapping[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    providers_file: Path | None = None
    dns_timeout: float = 2.0  # one DNS query
    fetch_timeout: float = 5.0  # one HTTPS fetch
    probe_timeout: float = 5.0  # one server probe
    deadline: float = 40.0  # the whole discovery


_HOSTPORT = re.compile(r"\[?([^\[\]]+?)\]?(?::(\d{1,5}))?")


def _host_port(text: str, default_port: int, what: str) -> tuple[str, int]:
    m = _HOSTPORT.fullmatch(text.strip())
    if not m or not m.group(1) or (m.group(2) and not 0 < int(m.group(2)) < 65536):
        raise ConfigError(f"{what}: {text!r} is not HOST or HOST:PORT")
    return m.group(1), int(m.group(2) or default_port)


def discovery_settings(
    environ: Mapping[str, str] | None = None, *, deadline: float | None = None
) -> DiscoverySettings:
    """The settings the environment asks for (see tmail(1), ENVIRONMENT)."""
    env = os.environ if environ is None else environ
    servers: list[tuple[str, int]] = []
    for item in env.get("TMAIL_DNS_SERVER", "").split(","):
        if item.strip():
            servers.append(_host_port(item, 53, "TMAIL_DNS_SERVER"))
    mapping: dict[tuple[str, int], tuple[str, int]] = {}
    for item in env.get("TMAIL_DISCOVERY_CONNECT_TO", "").split(","):
        if not item.strip():
            continue
        parts = item.strip().split(":")
        if len(parts) != 4 or not all(parts) or not (parts[1] + parts[3]).isdigit():
            raise ConfigError(
                f"TMAIL_DISCOVERY_CONNECT_TO: {item!r} is not HOST:PORT:OTHER-HOST:OTHER-PORT"
            )
        mapping[(parts[0].lower(), int(parts[1]))] = (parts[2], int(parts[3]))
    providers = env.get("TMAIL_PROVIDERS", "").strip()
    settings = DiscoverySettings(
        nameservers=tuple(servers),
        connect_to=mapping,
        providers_file=Path(providers).expanduser() if providers else None,
    )
    return settings if deadline is None else replace(settings, deadline=deadline)


# ------------------------------------------------------------------------------ addresses
HOST_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")


def split_address(address: str) -> tuple[str, str]:
    """(local part, domain) of an address; the domain lower-cased and IDNA-encoded.

    Raises ConfigError for anything that is not ``LOCAL@DOMAIN`` with a DNS-shaped domain: the
    domain ends up in URLs and DNS names, so it must be exactly a host name.
    """
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        raise ConfigError(f"{address!r} is not an e-mail address (LOCAL@DOMAIN)")
    try:
        ascii_domain = domain.lower().rstrip(".").encode("idna").decode("ascii")
    except UnicodeError:
        raise ConfigError(f"{address!r}: {domain!r} is not a valid domain name") from None
    if not _DOMAIN.fullmatch(ascii_domain):
        raise ConfigError(f"{address!r}: {domain!r} is not a valid domain name")
    return local, ascii_domain


# ------------------------------------------------------------------------------- presets
def preset_candidate(preset: Preset, source: str, origin: str = "") -> Candidate:
    """A preset's servers as a candidate: IMAP before POP3."""
    incoming = tuple(
        Endpoint(p, s.host, s.port, s.security)
        for p, s in (("imap", preset.imap), ("pop3", preset.pop3))
        if s is not None
    )
    outgoing = tuple(
        Endpoint("smtp", s.host, s.port, s.security) for s in (preset.smtp,) if s is not None
    )
    return Candidate(
        source=source,
        incoming=incoming,
        outgoing=outgoing,
        auth="oauth2" if preset.auth == "xoauth2" else "password",
        provider=preset.name,
        origin=origin or preset.title,
    )


def provider_for_mx(mx_hosts: Sequence[str], suffixes: Mapping[str, Sequence[str]]) -> str | None:
    """The provider whose MX suffixes match the most preferred MX host that matches any.

    ``suffixes``: provider name -> host suffixes (``google.com`` matches ``aspmx.l.google.com``
    and ``google.com`` itself, never ``notgoogle.com``).
    """
    for host in mx_hosts:
        name = host.lower().rstrip(".")
        for provider, ends in suffixes.items():
            for end in ends:
                end = end.lower().strip(".")
                if name == end or name.endswith("." + end):
                    return provider
    return None


# ----------------------------------------------------------------------------------- SRV
@dataclass(frozen=True)
class SrvRecord:
    priority: int
    weight: int
    port: int
    target: str  # "" or "." = the service is not offered (RFC 2782, RFC 6186 3.4)


# RFC 6186 section 3 and RFC 8314 section 5.1: the service labels, what they mean, in the order
# tmail prefers them (implicit TLS first, then STARTTLS; the plain services are used only with
# STARTTLS, which tmail then requires).
SRV_SERVICES: tuple[tuple[str, str, Security], ...] = (
    ("_imaps._tcp", "imap", "tls"),
    ("_imap._tcp", "imap", "starttls"),
    ("_pop3s._tcp", "pop3", "tls"),
    ("_pop3._tcp", "pop3", "starttls"),
    ("_submissions._tcp", "smtp", "tls"),
    ("_submission._tcp", "smtp", "starttls"),
)


def srv_candidate(domain: str, answers: Mapping[str, Sequence[SrvRecord]]) -> Candidate | None:
    """Endpoints from the SRV answers (service label -> records), best first; None if none.

    Within one service, records are taken by priority, then the higher weight first (RFC 2782
    asks for a weighted random pick; a client trying them in turn gains nothing from chance).
    """
    incoming: list[Endpoint] = []
    outgoing: list[Endpoint] = []
    for label, protocol, security in SRV_SERVICES:
        records = sorted(answers.get(label, ()), key=lambda r: (r.priority, -r.weight))
        for r in records:
            target = r.target.rstrip(".").lower()
            if not target or r.port == 0:
                continue  # "." : not offered
            if not HOST_NAME.fullmatch(target):
                continue  # not a host name (DNS allows any byte in a label): never used
            ep = Endpoint(protocol, target, r.port, security)
            (outgoing if protocol == "smtp" else incoming).append(ep)
    if not incoming and not outgoing:
        return None
    return Candidate(
        source="srv",
        incoming=_unique(incoming),
        outgoing=_unique(outgoing),
        origin=f"_imaps._tcp.{domain} and the other SRV names",
    )


# ---------------------------------------------------------------------------------- guesses
_IMAP_PORTS: tuple[tuple[int, Security], ...] = ((993, "tls"), (143, "starttls"))
_POP3_PORTS: tuple[tuple[int, Security], ...] = ((995, "tls"), (110, "starttls"))
_SMTP_PORTS: tuple[tuple[int, Security], ...] = ((465, "tls"), (587, "starttls"))


def guess_candidate(domain: str) -> Candidate:
    """The usual names on the usual ports, as Thunderbird guesses them, TLS before STARTTLS."""
    incoming = [
        Endpoint("imap", host, port, sec)
        for host in (f"imap.{domain}", f"mail.{domain}")
        for port, sec in _IMAP_PORTS
    ]
    incoming += [
        Endpoint("pop3", host, port, sec)
        for host in (f"pop3.{domain}", f"pop.{domain}", f"mail.{domain}")
        for port, sec in _POP3_PORTS
    ]
    outgoing = [
        Endpoint("smtp", host, port, sec)
        for host in (f"smtp.{domain}", f"mail.{domain}")
        for port, sec in _SMTP_PORTS
    ]
    return Candidate(
        source="guess",
        incoming=tuple(incoming),
        outgoing=tuple(outgoing),
        origin=f"imap.{domain}, mail.{domain}, smtp.{domain}",
    )


def _unique(endpoints: Iterable[Endpoint]) -> tuple[Endpoint, ...]:
    return tuple(dict.fromkeys(endpoints))


def outside_domain(host: str, domain: str) -> bool:
    """True when ``host`` is neither ``domain`` nor below it (worth showing: RFC 6186 6)."""
    host = host.lower().rstrip(".")
    return host != domain and not host.endswith("." + domain)
