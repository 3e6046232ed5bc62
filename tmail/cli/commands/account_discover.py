"""``tmail account discover ADDRESS [--json]``: find an address's servers and prove them live.

The ``account`` command (account.py) hands its ``discover`` action to :func:`run_discover`;
``account add`` uses :func:`discover_for_add` the same way. The search itself is
:func:`tmail.protocols.discover.discover`; this module only prints.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tmail.cli.base import Context
from tmail.cli.commands._wizard import Discover, Prompter, Proposal, Server
from tmail.config.discovery import Endpoint, discovery_settings
from tmail.config.presets import PresetServer
from tmail.core.errors import ConfigError, UsageError
from tmail.core.safe import safe_line

if TYPE_CHECKING:  # imported when used: tmail's start-up does not pay for dnspython
    from tmail.protocols.discover import Discovered, DiscoveryReport


def add_discover_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("address", metavar="ADDRESS", help="the e-mail address")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    add_common_arguments(parser)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ca-file",
        metavar="FILE",
        help="also trust this CA file (a private CA or a self-signed server), for the "
        "autoconfig fetch and the probes; account add writes it to the account",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=float,
        default=None,
        help="give up the whole search after this long (default 40)",
    )


def ca_file_of(ctx: Context) -> Path | None:
    value = getattr(ctx.args, "ca_file", None)
    if not value:
        return None
    path = Path(value).expanduser().resolve()
    if not path.is_file():
        raise UsageError(f"--ca-file {value}: no such file")
    return path


def discover_for_add(ctx: Context, address: str, progress: TextIO) -> DiscoveryReport:
    """The discovery report for ``address`` with the command's options, progress on
    ``progress``."""
    from tmail.protocols.discover import discover

    timeout = getattr(ctx.args, "timeout", None)
    if timeout is not None and timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    settings = discovery_settings(os.environ, deadline=timeout)

    def say(line: str) -> None:
        progress.write(f"  {safe_line(line)}\n")
        progress.flush()

    return discover(address, settings, ca_file=ca_file_of(ctx), progress=say)


def run_discover(ctx: Context) -> int:
    ctx.stderr.write(f"Looking for the servers of {safe_line(ctx.args.address)}...\n")
    report = discover_for_add(ctx, ctx.args.address, ctx.stderr)
    found = report.found
    if ctx.args.json:
        if found is None:
            ctx.stdout.write(json.dumps(None) + "\n")
        else:
            ctx.stdout.write(json.dumps(found.as_json(), ensure_ascii=False, indent=2) + "\n")
        return 0 if found is not None else 1
    if found is None:
        ctx.stdout.write(
            f"No working settings found for {safe_line(report.address)}: set the servers "
            "by hand (tmail account add, or config.toml).\n"
        )
        return 1
    write_found(ctx.stdout, found)
    return 0


def write_found(out: TextIO, found: Discovered) -> None:
    """A few lines a person reads: the source, each server with what its probe saw, notes."""
    from tmail.protocols.discover import source_title

    out.write(f"Found by {source_title(found.source)} ({safe_line(found.origin)}), checked live:\n")
    out.write(
        f"  incoming  {safe_line(found.incoming.endpoint.describe())}: "
        f"{safe_line(found.incoming.detail)}\n"
    )
    if found.outgoing is not None:
        out.write(
            f"  outgoing  {safe_line(found.outgoing.endpoint.describe())}: "
            f"{safe_line(found.outgoing.detail)}\n"
        )
    else:
        out.write("  outgoing  none found\n")
    login = "OAuth2" if found.auth == "oauth2" else "password"
    out.write(f"  login     {login}, user name {safe_line(found.username)}\n")
    for note in found.notes:
        out.write(f"  note      {safe_line(note)}\n")


def proposer(ctx: Context, prompt: Prompter) -> Discover:
    """What ``account add`` calls with the address: discovery with the command's options, its
    progress and answer shown, and the user's yes; None when nothing was found or the user
    said no (then the wizard asks for the servers)."""

    def propose(address: str) -> Proposal | None:
        prompt.say("Looking for the servers...")
        try:
            report = discover_for_add(ctx, address, prompt.stdout)
        except ConfigError as exc:  # a bad TMAIL_* setting or provider file: say it, go on
            prompt.say(f"  {exc.one_line()}")
            return None
        found = report.found
        if found is None:
            prompt.say("No working settings found: enter the servers yourself.")
            return None
        write_found(prompt.stdout, found)
        if not prompt.yes("Use these settings?"):
            return None
        return _proposal(found, ca_file_of(ctx))

    return propose


def _proposal(found: Discovered, ca_file: Path | None) -> Proposal:
    from tmail.config.presets import presets

    ca = str(ca_file) if ca_file is not None else ""
    preset = presets().get(found.provider or "")
    inc = found.incoming.endpoint
    protocol = inc.protocol
    out = found.outgoing.endpoint if found.outgoing is not None else None
    # A built-in provider's own servers: written as provider = NAME (its limits come along).
    same = (
        preset is not None
        and _is(preset.server(protocol), inc)
        and (out is None or _is(preset.smtp, out))
    )
    incoming = Server(inc.host, inc.port, inc.security, ca_file=ca, from_preset=same)
    outgoing = (
        Server(out.host, out.port, out.security, ca_file=ca, from_preset=same)
        if out is not None
        else None
    )
    return Proposal(
        protocol=protocol,
        incoming=incoming,
        outgoing=outgoing,
        username=found.username,
        preset=preset if same else None,
        facts=found.facts,
    )


def _is(server: PresetServer | None, endpoint: Endpoint) -> bool:
    return server is not None and (server.host, server.port, server.security) == (
        endpoint.host,
        endpoint.port,
        endpoint.security,
    )
