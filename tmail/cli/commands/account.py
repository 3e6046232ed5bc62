"""``tmail account add`` (interactive set-up) and ``tmail account trust NAME`` (pin a certificate).

``add`` asks for the address, guesses the provider from its domain, lets the user confirm or edit
the servers, tests the connection with the password typed, stores that password in the system
keyring (or takes a password command instead) and only then appends the account to the config
file: validated first, written whole (temp file, fsync, rename), so a failure leaves the file as
it was.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from tmail.cli.base import Command, Context
from tmail.cli.commands._config import load
from tmail.config import guess_preset, load_config, pinned_cert_path, resolve_config_path
from tmail.config.loader import DEFAULT_PORTS
from tmail.config.model import Account, Role, ServerSettings
from tmail.core.errors import ConfigError, TmailError, UsageError
from tmail.core.safe import safe_line


def _toml_str(value: str) -> str:
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{out}"'


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


class _Prompter:
    def __init__(self, stdin: TextIO, stdout: TextIO) -> None:
        self.stdin = stdin
        self.stdout = stdout

    def ask(self, question: str, default: str | None = None) -> str:
        shown = f" [{default}]" if default else ""
        self.stdout.write(f"{question}{shown}: ")
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            raise UsageError("input ended before the set-up was complete")
        answer = line.strip()
        return answer if answer else (default or "")

    def yes(self, question: str, default: bool = True) -> bool:
        hint = "Y/n" if default else "y/N"
        while True:
            answer = self.ask(f"{question} ({hint})").lower()
            if not answer:
                return default
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False

    def choice(self, question: str, allowed: tuple[str, ...], default: str) -> str:
        while True:
            answer = self.ask(f"{question} ({'|'.join(allowed)})", default)
            if answer in allowed:
                return answer
            self.stdout.write(f"  please answer one of: {', '.join(allowed)}\n")

    def number(self, question: str, default: int) -> int:
        while True:
            answer = self.ask(question, str(default))
            if answer.isdigit() and 1 <= int(answer) <= 65535:
                return int(answer)
            self.stdout.write("  a port is a number from 1 to 65535\n")

    def secret(self, question: str) -> str:
        if self.stdin is sys.stdin and sys.stdin.isatty():
            return getpass.getpass(f"{question}: ")
        self.stdout.write(f"{question}: ")
        self.stdout.flush()
        return self.stdin.readline().rstrip("\r\n")


class AccountCommand(Command):
    name = "account"
    help = "set up an account (add) or pin a server's certificate (trust)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="account_action", metavar="ACTION", required=True)
        add = sub.add_parser(
            "add",
            help="interactive: address, provider preset, servers, password (keyring), test",
            description="Set up an account interactively and append it to the config file.",
        )
        add.add_argument("--name", help="the account's name (default: asked)")
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

    def run(self, ctx: Context) -> int:
        stdin: TextIO = getattr(ctx, "stdin", None) or sys.stdin
        prompt = _Prompter(stdin, ctx.stdout)
        if ctx.args.account_action == "trust":
            return _trust(ctx, prompt)
        return _add(ctx, prompt)


# ----------------------------------------------------------------------------------- trust
def _trust(ctx: Context, prompt: _Prompter) -> int:
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
def _add(ctx: Context, prompt: _Prompter) -> int:
    path, _named = resolve_config_path(ctx.config_path)
    existing = load(ctx) if path.exists() else None
    out = ctx.stdout
    email = ""
    while "@" not in email:
        email = prompt.ask("Email address")
    _, _, domain = email.partition("@")
    name = ctx.args.name or prompt.ask("Account name", domain.split(".")[0] or "mail")
    if existing is not None and name in existing.accounts:
        raise UsageError(f"an account named {name!r} exists already in {path}")
    display = prompt.ask("Your name (for From:)", "")
    preset = guess_preset(email)
    lines = [f"[accounts.{name}]", f"email = {_toml_str(email)}"]
    if display:
        lines.append(f"name = {_toml_str(display)}")
    if existing is None or not existing.accounts:
        lines.append("default = true")
    use_preset = False
    if preset is not None:
        servers = ", ".join(
            f"{p.upper()} {s.host}:{s.port} {s.security}"
            for p, s in (("imap", preset.imap), ("pop3", preset.pop3), ("smtp", preset.smtp))
            if s is not None
        )
        out.write(f"This looks like {preset.title}: {servers}\n")
        if preset.note:
            out.write(f"  note: {preset.note}\n")
        use_preset = prompt.yes("Use these settings?")
    incoming_kv: dict[str, str | int] = {}
    outgoing_kv: dict[str, str | int] = {}
    if use_preset and preset is not None:
        lines.append(f"provider = {_toml_str(preset.name)}")
        protocols = tuple(p for p in ("imap", "pop3") if preset.server(p) is not None)
        protocol = prompt.choice("Incoming protocol", protocols, protocols[0])
        incoming_kv["protocol"] = protocol
    else:
        protocol = prompt.choice("Incoming protocol", ("imap", "pop3"), "imap")
        incoming_kv["protocol"] = protocol
        incoming_kv["host"] = prompt.ask("Incoming server host", f"{protocol}.{domain}")
        sec = prompt.choice("Incoming security", ("tls", "starttls", "none"), "tls")
        incoming_kv["security"] = sec
        incoming_kv["port"] = prompt.number("Incoming port", DEFAULT_PORTS[(protocol, sec)])
        outgoing_kv["host"] = prompt.ask("Outgoing (SMTP) server host", f"smtp.{domain}")
        osec = prompt.choice("Outgoing security", ("tls", "starttls", "none"), "tls")
        outgoing_kv["security"] = osec
        outgoing_kv["port"] = prompt.number("Outgoing port", DEFAULT_PORTS[("smtp", osec)])
        ca = prompt.ask("CA file for a self-signed or private-CA server (empty: none)", "")
        if ca:
            incoming_kv["ca_file"] = str(Path(ca).expanduser().resolve())
    username = prompt.ask("User name", email)
    if username != email:
        incoming_kv["username"] = username
    password = ""
    problem = _keyring_problem()
    if problem == "missing":
        out.write(
            "There is no system keyring here (no Secret Service or KWallet running): "
            "give a command that prints the password.\n"
        )
    elif problem is None or prompt.yes(
        f"The keyring backend here is {problem}, which keeps passwords unencrypted on disk. "
        "Store the password there anyway?",
        default=False,
    ):
        password = prompt.secret("Password (kept in the system keyring; empty to use a command)")
    command = ""
    if not password:
        command = prompt.ask("Password command (its first output line is the password)")
        if not command:
            raise UsageError("no password and no password command given")
        incoming_kv["password_command"] = command
    for key, value in incoming_kv.items():
        lines.append(f"incoming.{key} = {_value(value)}")
    for key, value in outgoing_kv.items():
        lines.append(f"outgoing.{key} = {_value(value)}")
    section = "\n".join(lines) + "\n"

    # Validate the whole new file before anything is stored or written.
    before = path.read_text("utf-8") if path.exists() else ""
    new_text = (before.rstrip("\n") + "\n\n" if before.strip() else "") + section
    account = _validate(path, new_text, name)

    out.write("Testing the connection...\n")
    ok = _test(ctx, account, password or None)
    if not ok and not prompt.yes("The test failed. Save the account anyway?", default=False):
        out.write("Nothing saved.\n")
        return 1
    if password:
        from tmail.config.secrets import store_password

        store_password(name, "incoming", password)
        out.write(f"Password stored in the system keyring (service tmail, key {name}/incoming)\n")
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    write_atomically(path, new_text, mode)
    out.write(f"Account {name!r} added to {path}\n")
    return 0 if ok else 1


def _value(value: str | int) -> str:
    return str(value) if isinstance(value, int) else _toml_str(value)


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


def _test(ctx: Context, account: Account, password: str | None) -> bool:
    from tmail.protocols import connect

    ok = True
    servers: list[tuple[Role, ServerSettings | None]] = [
        ("incoming", account.incoming),
        ("outgoing", account.outgoing),
    ]
    for role, settings in servers:
        if settings is None:
            continue
        try:
            if settings.protocol == "imap":
                connect.open_imap(account, secret=password).logout()
            elif settings.protocol == "pop3":
                connect.open_pop3(account, secret=password).quit()
            else:
                connect.open_smtp(account, secret=password).quit()
            ctx.stdout.write(f"  {role} {settings.label}: ok\n")
        except TmailError as exc:
            ok = False
            ctx.stdout.write(f"  {role} {settings.label}: {exc.one_line()}\n")
    return ok


def _keyring_problem() -> str | None:
    """None when the keyring can keep a password safely; "missing" when there is none (keyring's
    fail backend: no Secret Service or KWallet); the backend's name when it keeps passwords
    unencrypted (keyrings.alt's PlaintextKeyring, found on headless machines)."""
    try:
        import keyring
        import keyring.backends.fail

        backend = type(keyring.get_keyring())
    except Exception:
        return "missing"
    if issubclass(backend, keyring.backends.fail.Keyring):
        return "missing"
    if "plaintext" in backend.__name__.lower():
        return safe_line(f"{backend.__module__}.{backend.__name__}")
    return None
