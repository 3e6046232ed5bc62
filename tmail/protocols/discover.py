"""Finding an address's servers and proving them with a live probe (``tmail account discover``).

Sources, in this order; the first whose proposal a probe confirms wins (issue 15):

1. ``preset``: tmail's provider table, by the address's domain;
2. ``autoconfig``: the domain's own Thunderbird autoconfig file, over HTTPS only
   (``https://autoconfig.DOMAIN/mail/config-v1.1.xml?emailaddress=...``, then
   ``https://DOMAIN/.well-known/autoconfig/mail/config-v1.1.xml``);
3. ``ispdb``: the Thunderbird ISPDB (``https://autoconfig.thunderbird.net/v1.1/DOMAIN``);
4. ``mx``: the domain's MX records, when they point at a known provider (a custom domain at
   Google, Microsoft 365, Yandex 360, ...);
5. ``srv``: RFC 6186 / RFC 8314 SRV records;
6. ``guess``: imap./mail./pop./smtp.DOMAIN on the usual ports.

A proposal is confirmed when an incoming server answers the probe (:mod:`tmail.protocols.probe`:
TLS verified, capabilities read, no credentials sent); the outgoing servers are probed the same
way and the first that answers is taken. Servers offered only without encryption are refused.
Every step is reported through ``progress`` as one line, and the whole search stops at the
settings' deadline. No thread is started: the steps run one after another, each with its own
short time limit.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tmail.config.autoconfig import AutoconfigError, parse_autoconfig
from tmail.config.discovery import (
    SOURCE_TITLES,
    SRV_SERVICES,
    Candidate,
    DiscoverySettings,
    SrvRecord,
    guess_candidate,
    outside_domain,
    preset_candidate,
    provider_for_mx,
    split_address,
    srv_candidate,
)
from tmail.config.facts import ProviderFacts, ProviderTable, provider_table
from tmail.config.presets import Preset
from tmail.protocols import dnslookup, webfetch
from tmail.protocols.probe import ProbeResult, probe

Progress = Callable[[str], None]
ISPDB_URL = "https://autoconfig.thunderbird.net/v1.1/{domain}"


@dataclass(frozen=True)
class Discovered:
    """A confirmed answer: where it came from and what the probes saw."""

    source: str
    origin: str
    incoming: ProbeResult
    outgoing: ProbeResult | None
    username: str
    auth: str
    provider: str | None
    notes: tuple[str, ...]
    facts: ProviderFacts | None = None  # the provider's, when the answer is a known provider

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "incoming": self.incoming.endpoint.as_json(),
            "outgoing": self.outgoing.endpoint.as_json() if self.outgoing else None,
            "auth": self.auth,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class DiscoveryReport:
    address: str
    found: Discovered | None
    steps: tuple[str, ...]
    gave_up: bool = False  # the deadline passed before every source was tried


class _Deadline(Exception):
    pass


@dataclass
class _Run:
    address: str
    domain: str
    settings: DiscoverySettings
    table: ProviderTable
    ca_file: Path | None
    progress: Progress | None
    clock: Callable[[], float]
    end: float
    steps: list[str] = field(default_factory=list)
    dns_dead: str = ""  # set once the DNS server failed to answer: later questions are skipped

    def say(self, line: str) -> None:
        self.steps.append(line)
        if self.progress is not None:
            self.progress(line)

    def left(self, wanted: float) -> float:
        remaining = self.end - self.clock()
        if remaining <= 0.05:
            raise _Deadline
        return min(wanted, remaining)


def discover(
    address: str,
    settings: DiscoverySettings,
    *,
    ca_file: Path | None = None,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> DiscoveryReport:
    """Search the sources in order and return the first confirmed answer (or None, with the
    reasons in ``steps``). Raises ConfigError for an address that is not one, or a bad
    provider file."""
    _, domain = split_address(address)
    run = _Run(
        address=address.strip(),
        domain=domain,
        settings=settings,
        table=provider_table(settings.providers_file),
        ca_file=ca_file,
        progress=progress,
        clock=clock,
        end=clock() + settings.deadline,
    )
    try:
        for candidates in (
            _from_preset(run),
            _from_autoconfig(run),
            _from_ispdb(run),
            _from_mx(run),
            _from_srv(run),
            _from_guesses(run),
        ):
            run.left(1.0)  # a source starts only while time is left
            for candidate in candidates:
                found = _confirm(run, candidate)
                if found is not None:
                    return DiscoveryReport(run.address, found, tuple(run.steps))
    except _Deadline:
        run.say(
            f"gave up after {settings.deadline:g}s (the overall time limit; "
            "raise it with --timeout)"
        )
        return DiscoveryReport(run.address, None, tuple(run.steps), gave_up=True)
    run.say(f"nothing found for {domain}")
    return DiscoveryReport(run.address, None, tuple(run.steps))


# ---------------------------------------------------------------------------------- sources
def _preset_for(run: _Run) -> Preset | None:
    parts = run.domain.split(".")
    for i in range(len(parts) - 1):
        candidate = ".".join(parts[i:])
        for preset in run.table.presets.values():
            if candidate in preset.domains:
                return preset
    return None


def _from_preset(run: _Run) -> Iterator[Candidate]:
    preset = _preset_for(run)
    if preset is None:
        run.say(f"preset: {run.domain} is not in tmail's provider table")
        return
    run.say(f"preset: {run.domain} is {preset.title}")
    yield preset_candidate(preset, "preset")


def _fetch(run: _Run, source: str, url: str) -> Candidate | None:
    try:
        data = webfetch.fetch_https(
            url,
            domain=run.domain,
            timeout=run.left(run.settings.fetch_timeout),
            ca_file=run.ca_file,
            connect_to=run.settings.connect_to,
        )
    except webfetch.FetchFailed as exc:
        run.say(f"{source}: {_short(url)}: {exc}")
        return None
    try:
        candidate = parse_autoconfig(data, run.address, source, url)
    except AutoconfigError as exc:
        run.say(f"{source}: {_short(url)}: unusable ({exc})")
        return None
    run.say(f"{source}: {_short(url)}: found")
    return candidate


def _short(url: str) -> str:
    return url.split("?", 1)[0]


def _from_autoconfig(run: _Run) -> Iterator[Candidate]:
    query = urllib.parse.urlencode({"emailaddress": run.address})
    for url in (
        f"https://autoconfig.{run.domain}/mail/config-v1.1.xml?{query}",
        f"https://{run.domain}/.well-known/autoconfig/mail/config-v1.1.xml",
    ):
        candidate = _fetch(run, "autoconfig", url)
        if candidate is not None:
            yield candidate


def _from_ispdb(run: _Run) -> Iterator[Candidate]:
    candidate = _fetch(run, "ispdb", ISPDB_URL.format(domain=run.domain))
    if candidate is not None:
        yield candidate


def _resolver(run: _Run) -> Any:
    return dnslookup.make_resolver(run.settings.nameservers, run.settings.dns_timeout)


def _from_mx(run: _Run) -> Iterator[Candidate]:
    try:
        hosts = dnslookup.mx_hosts(_resolver(run), run.domain, run.left(run.settings.dns_timeout))
    except dnslookup.DnsFailed as exc:
        run.say(f"mx: {exc}")
        if exc.silent:
            run.dns_dead = str(exc)
        return
    if not hosts:
        run.say(f"mx: {run.domain} has no MX records")
        return
    name = provider_for_mx(hosts, run.table.mx_suffixes())
    if name is None:
        run.say(f"mx: {hosts[0]} is not a known provider's")
        return
    preset = run.table.presets[name]
    run.say(f"mx: {hosts[0]} is {preset.title}'s")
    yield preset_candidate(preset, "mx", origin=f"MX {hosts[0]}: {preset.title}")


def _from_srv(run: _Run) -> Iterator[Candidate]:
    if run.dns_dead:
        run.say("srv: skipped (the DNS server did not answer)")
        return
    try:
        resolver = _resolver(run)
        answers: dict[str, list[SrvRecord]] = {}
        for label, _, _ in SRV_SERVICES:
            records = dnslookup.srv_records(
                resolver, f"{label}.{run.domain}", run.left(run.settings.dns_timeout)
            )
            if records:
                answers[label] = records
    except dnslookup.DnsFailed as exc:
        run.say(f"srv: {exc}")
        return
    candidate = srv_candidate(run.domain, answers)
    if candidate is None:
        run.say(f"srv: {run.domain} has no mail SRV records")
        return
    offered = sorted(k for k, rs in answers.items() if any(r.target.strip(".") for r in rs))
    run.say(f"srv: found {', '.join(offered)}")
    yield candidate


def _from_guesses(run: _Run) -> Iterator[Candidate]:
    run.say(f"guess: trying the usual host names of {run.domain}")
    yield guess_candidate(run.domain)


# ------------------------------------------------------------------------------ confirming
def _confirm(run: _Run, candidate: Candidate) -> Discovered | None:
    src = candidate.source
    for ep in candidate.plaintext:
        run.say(f"{src}: {ep.protocol.upper()} {ep.label} is offered without encryption: refused")
    if not candidate.incoming:
        if candidate.plaintext:
            run.say(f"{src}: only unencrypted servers offered: refused")
        else:
            run.say(f"{src}: no incoming server offered")
        return None
    dead: set[str] = set()
    incoming = _first_answer(run, src, candidate.incoming, dead)
    if incoming is None:
        return None
    outgoing = _first_answer(run, src, candidate.outgoing, dead) if candidate.outgoing else None
    notes = list(candidate.notes)
    for result in (incoming, outgoing):
        if result is not None and outside_domain(result.endpoint.host, run.domain):
            notes.append(
                f"the server {result.endpoint.host} is outside {run.domain}: check that you "
                "expect your mail there before you give the password"
            )
    if outgoing is None:
        notes.append("no outgoing server answered: tmail asks for one")
    facts = run.table.facts.get(candidate.provider) if candidate.provider else None
    if facts is not None:
        notes.extend(facts.switches)
        notes.append(f"sending limits: {facts.limits}")
    return Discovered(
        source=src,
        origin=candidate.origin,
        incoming=incoming,
        outgoing=outgoing,
        username=candidate.username or run.address,
        auth=candidate.auth,
        provider=candidate.provider,
        notes=tuple(dict.fromkeys(notes)),
        facts=facts,
    )


def _first_answer(
    run: _Run, source: str, endpoints: tuple[Any, ...], dead: set[str]
) -> ProbeResult | None:
    for ep in endpoints:
        if ep.host in dead:
            continue
        result = probe(ep, ca_file=run.ca_file, timeout=run.left(run.settings.probe_timeout))
        run.say(f"{source}: {ep.describe()}: {'ok, ' if result.ok else ''}{result.detail}")
        if result.ok:
            return result
        if not result.resolved:
            dead.add(ep.host)
    return None


def source_title(source: str) -> str:
    return SOURCE_TITLES.get(source, source)
