"""``tmail account add`` (interactive set-up) and ``tmail account trust NAME`` (pin a certificate).

``add`` is the wizard of ``_wizard.py`` (each answer checked when given, a failed test fixed by
changing one answer); then it stores the password in the system keyring (or keeps the password
command) and appends the account to the config file: validated first, written whole (temp file,
fsync, rename), so a failure leaves the file as it was.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from tmail.cli.base import Command, Context
from tmail.cli.commands import account_discover
from tmail.cli.commands._config import load
from tmail.cli.commands._wizard import Prompter, Wizard, keyring_problem
from tmail.config import load_config, pinned_cert_path, resolve_config_path
from tmail.config.model import Account, Role
from tmail.core.errors import ConfigError


def write_atomically(path: Path, text: str, mode: int = 0o600) -> None:
    """Replace ``path`` with ``text``: temp file in the same folder, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


class AccountCommand(Command):
    name = "account"
    help = (
        "set up an account (add), find an address's servers (discover), sign in with OAuth2 "
        "(login), pin a certificate (trust)"
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="account_action", metavar="ACTION", required=True)
        add = sub.add_parser(
            "add",
            help="interactive: address, provider preset, servers, password (keyring), test",
            description="Set up an account interactively and append it to the config file.",
        )
        add.add_argument("--name", help="the account's name (default: asked)")
        account_discover.add_common_arguments(add)
        add.add_argument(
            "--no-discover",
            action="store_true",
            help="do not look for the servers (provider table and manual entry only)",
        )
        account_discover.add_discover_arguments(
            sub.add_parser(
                "discover",
                help="find an address's servers (provider table, autoconfig, DNS) and probe them",
                description="Find the servers of an e-mail address and check them live, "
                "without sending any password.",
            )
        )
        trust = sub.add_parser(
            "trust",
            help="fetch a server's certificate, show it, and pin it for the account",
            description="Pin the certificate a server presents as the only one trusted for it.",
        )
        trust.add_argument("account", metavar="NAME")
        which = trust.add_mutually_exclusive_group()
        which.add_argument("--incoming", action="store_true", help="the incoming server (default)")
        which.add_argument("--outgoing", action="store_true", help="the outgoing server")
        trust.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        login = sub.add_parser(
            "login",
            help="sign in with OAuth2 in the browser; the token is then renewed by itself",
            description="Sign an account in with OAuth2 (authorization code with PKCE and a "
            "redirect to 127.0.0.1) using the client_id of its [oauth2] table.",
        )
        login.add_argument("account", metavar="NAME")
        how = login.add_mutually_exclusive_group()
        how.add_argument(
            "--no-browser", action="store_true", help="print the URL instead of opening a browser"
        )
        how.add_argument(
            "--device",
            action="store_true",
            help="device sign-in (RFC 8628): a code to enter on any device",
        )

    def run(self, ctx: Context) -> int:
        stdin: TextIO = getattr(ctx, "stdin", None) or sys.stdin
        prompt = Prompter(stdin, ctx.stdout)
        if ctx.args.account_action == "trust":
            return _trust(ctx, prompt)
        if ctx.args.account_action == "discover":
            return account_discover.run_discover(ctx)
        if ctx.args.account_action == "login":
            from tmail.cli.commands._login import login

            return login(ctx)
        return _add(ctx, prompt)


# ----------------------------------------------------------------------------------- trust
def _trust(ctx: Context, prompt: Prompter) -> int:
    from tmail.protocols.connect import cert_info, fetch_certificate, pem_fingerprint

    config = load(ctx)
    account = config.account(ctx.args.account)
    role: Role = "outgoing" if ctx.args.outgoing else "incoming"
    settings = account.incoming if role == "incoming" else account.outgoing
    if settings is None:
        raise ConfigError(f"account {account.name!r} has no {role} server")
    if settings.security == "none":
        raise ConfigError(
            f"account {account.name!r}: {role}.security is none: there is no certificate to pin"
        )
    if config.config_dir is None:
        raise ConfigError("no config directory to keep the certificate in")
    from tmail.core.errors import ConnectFailed

    try:
        der = fetch_certificate(settings)
    except OSError as exc:
        raise ConnectFailed(
            f"cannot fetch the certificate: {exc}", account=account.name, server=settings.label
        ) from None
    info = cert_info(der)
    out = ctx.stdout
    out.write(f"{account.name} {role} server {settings.label} presents:\n")
    out.write(f"  subject  {info.subject}\n  issuer   {info.issuer}\n")
    out.write(f"  valid    {info.not_before:%Y-%m-%d} to {info.not_after:%Y-%m-%d}\n")
    out.write(f"  names    {', '.join(info.names) or '-'}\n")
    out.write(f"  SHA-256  {info.sha256}\n")
    target = pinned_cert_path(config.config_dir, account.name, role)
    if target.exists():
        old = pem_fingerprint(target)
        if old == info.sha256:
            out.write("This certificate is already pinned.\n")
            return 0
        out.write(
            f"WARNING: the pinned certificate is different:\n  pinned   {old}\n"
            f"  now      {info.sha256}\n"
            "If you did not expect the server's certificate to change, do not trust it.\n"
        )
    host = settings.host.lower()
    if host not in {n.lower() for n in info.names}:
        out.write(
            f"Note: the certificate does not name {settings.host!r}; host names are always "
            f"checked, so set {role}.host to one of: {', '.join(info.names) or info.subject}\n"
        )
    out.write("Compare the SHA-256 fingerprint with the one your provider or admin published.\n")
    if not ctx.args.yes and not prompt.yes(
        f"Trust this certificate for {account.name} {role}?", default=False
    ):
        out.write("Nothing changed.\n")
        return 1
    write_atomically(target, info.pem, 0o644)
    out.write(f"Pinned: {target}\n")
    return 0


# ------------------------------------------------------------------------------------- add
def _add(ctx: Context, prompt: Prompter) -> int:
    path, _named = resolve_config_path(ctx.config_path)
    existing = load(ctx) if path.exists() else None
    out = ctx.stdout
    before = path.read_text("utf-8") if path.exists() else ""

    def whole_file(section: str) -> str:
        return (before.rstrip("\n") + "\n\n" if before.strip() else "") + section

    wizard = Wizard(
        prompt,
        set(existing.accounts) if existing is not None else set(),
        lambda section: _validate(path, whole_file(section), wizard.a.name),
        None if ctx.args.no_discover else account_discover.proposer(ctx, prompt),
    )
    wizard.ask_all(ctx.args.name, keyring_problem())
    account, passed = wizard.settle()
    if account is None:
        out.write("Nothing saved.\n")
        return 1
    answers = wizard.a
    if answers.password:
        from tmail.config.secrets import store_password

        store_password(answers.name, "incoming", answers.password)
        out.write(
            f"Password stored in the system keyring (service tmail, key {answers.name}/incoming)\n"
        )
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    write_atomically(path, whole_file(answers.section()), mode)
    out.write(f"Account {answers.name!r} added to {path}\n")
    if answers.client_id:
        from tmail.cli.commands._login import sign_in

        if prompt.yes("Sign in now in the browser?"):
            return sign_in(account, out, no_browser=False, device=False)
        out.write(f"Sign in later with 'tmail account login {answers.name}'.\n")
        return 0
    if not passed:
        out.write(f"The test did not pass: 'tmail check --account {answers.name}' shows why.\n")
    return 0 if passed else 1


def _validate(path: Path, text: str, name: str) -> Account:
    fd, tmp = tempfile.mkstemp(prefix=".check-", suffix=".toml", dir=_writable_dir(path))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        try:
            return load_config(Path(tmp)).accounts[name]
        except ConfigError as exc:
            raise ConfigError(
                exc.message.replace(tmp, str(path)), hint="nothing was written"
            ) from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _writable_dir(path: Path) -> Path:
    # Relative ca_file paths resolve against the config's folder: validate beside it.
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.parent
