"""DNS questions discovery asks (MX, SRV), through dnspython, with short timeouts.

dnspython rather than the C library: getaddrinfo cannot ask for MX or SRV records, and
dnspython lets discovery ask a DNS server of the user's choosing (``TMAIL_DNS_SERVER``) with a
time limit per question. The answers leave here as plain values (host names, :class:`SrvRecord`).
Nothing here validates DNSSEC: answers are shown to the user before any password is used.
"""

from __future__ import annotations

from collections.abc import Sequence

import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from tmail.config.discovery import SrvRecord


class DnsFailed(Exception):
    """The DNS server did not give an answer (time-out, refusal, failure); the message says
    which in a few words. ``silent`` is True when it did not answer at all."""

    def __init__(self, message: str, *, silent: bool = False) -> None:
        super().__init__(message)
        self.silent = silent


def make_resolver(nameservers: Sequence[tuple[str, int]], timeout: float) -> dns.resolver.Resolver:
    """A resolver asking ``nameservers`` ((address, port) pairs), or the system's
    (/etc/resolv.conf) when none are given; no cache, so every answer is fresh."""
    if nameservers:
        resolver = dns.resolver.Resolver(configure=False)
        try:
            resolver.nameservers = [dns.nameserver.Do53Nameserver(a, p) for a, p in nameservers]
        except ValueError:
            raise DnsFailed(
                "TMAIL_DNS_SERVER must name DNS servers by IP address (like 127.0.0.1:53)"
            ) from None
    else:
        try:
            resolver = dns.resolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise DnsFailed("no DNS server configured (/etc/resolv.conf names none)") from None
    resolver.timeout = timeout
    resolver.lifetime = timeout
    resolver.cache = None
    return resolver


def _servers(resolver: dns.resolver.Resolver) -> str:
    names = []
    for ns in resolver.nameservers:
        if isinstance(ns, dns.nameserver.Do53Nameserver):
            names.append(f"{ns.address}:{ns.port}" if ns.port != 53 else ns.address)
        else:
            names.append(str(ns))
    return ", ".join(names) or "the DNS server"


def _query(
    resolver: dns.resolver.Resolver, name: str, rdtype: str, lifetime: float
) -> dns.resolver.Answer | None:
    """The answer, or None when the name or the record type does not exist."""
    try:
        return resolver.resolve(name, rdtype, lifetime=max(lifetime, 0.05), search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    except dns.exception.Timeout:
        raise DnsFailed(
            f"no answer from {_servers(resolver)} within {lifetime:.1f}s ({rdtype} {name})",
            silent=True,
        ) from None
    except dns.resolver.NoNameservers as exc:
        errors = exc.kwargs.get("errors") or []
        why = ", ".join(str(e[3]) for e in errors if len(e) > 3) or "no server answered"
        raise DnsFailed(f"{_servers(resolver)} answered {why} ({rdtype} {name})") from None
    except dns.exception.DNSException as exc:
        raise DnsFailed(f"DNS error for {rdtype} {name}: {exc}") from None


def mx_hosts(resolver: dns.resolver.Resolver, domain: str, lifetime: float) -> list[str]:
    """The domain's MX hosts, most preferred first ([] when it has none)."""
    answer = _query(resolver, domain, "MX", lifetime)
    if answer is None:
        return []
    records = sorted(answer, key=lambda r: r.preference)
    return [r.exchange.to_text(omit_final_dot=True).lower() for r in records]


def srv_records(resolver: dns.resolver.Resolver, name: str, lifetime: float) -> list[SrvRecord]:
    """The SRV records of ``name`` ([] when there are none)."""
    answer = _query(resolver, name, "SRV", lifetime)
    if answer is None:
        return []
    return [
        SrvRecord(r.priority, r.weight, r.port, r.target.to_text(omit_final_dot=True))
        for r in answer
    ]
