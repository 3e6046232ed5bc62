"""``tmail account add``: the questions, each answer checked when it is given, and a live test
whose failure is fixed by changing the one answer at fault (everything else is kept).

Order, as a person thinks of it: address, account name, your name, user name, password, then the
servers (the provider's, or host, port and security for each), and a CA file only when a
server's certificate turns out not to be trusted. Then the connection is tested with the
password typed; when it fails, tmail says what failed, suggests the answer to change (the
password after a refused login, the port after a refused connection, ...), asks only that one
again and tests again, until it passes or the user saves anyway or quits. Nothing is stored or
written before that point; then the password goes to the keyring and the account is appended to
the config file (validated first, written whole).
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

from tmail.config import Preset, guess_preset
from tmail.config.facts import ProviderFacts, provider_facts, refusal_advice
from tmail.config.loader import ACCOUNT_NAME, DEFAULT_PORTS
from tmail.config.model import Account, Role, ServerSettings
from tmail.core.errors import (
    AuthFailed,
    CertificateError,
    ConfigError,
    ConnectFailed,
    SecretError,
    TLSFailure,
    TmailError,
    UsageError,
)
from tmail.core.safe import safe_line

SECURITY = ("tls", "starttls", "none")
# The security a well-known port speaks (RFC 8314 implicit TLS; STARTTLS on the others).
PORT_SECURITY = {993: "tls", 995: "tls", 465: "tls", 143: "starttls", 110: "starttls",
                 587: "starttls", 25: "starttls"}  # fmt: skip
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_HOST = re.compile(r"[A-Za-z0-9._:\[\]-]+")

Check = Callable[[str], "str | None"]


# ---------------------------------------------------------------------------- the prompter
class Prompter:
    def __init__(self, stdin: TextIO, stdout: TextIO) -> None:
        self.stdin = stdin
        self.stdout = stdout

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def ask(self, question: str, default: str | None = None) -> str:
        shown = f" [{default}]" if default else ""
        self.stdout.write(f"{question}{shown}: ")
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            raise UsageError("input ended before the set-up was complete; nothing was saved")
        answer = line.strip()
        return answer if answer else (default or "")

    def checked(self, question: str, check: Check, default: str | None = None) -> str:
        """Ask until ``check`` (None: fine, else what is wrong) accepts the answer."""
        while True:
            answer = self.ask(question, default)
            problem = check(answer)
            if problem is None:
                return answer
            self.say(f"  {problem}")

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
        def check(answer: str) -> str | None:
            return None if answer in allowed else f"please answer one of: {', '.join(allowed)}"

        return self.checked(f"{question} ({'|'.join(allowed)})", check, default)

    def secret(self, question: str) -> str:
        import getpass
        import sys

        if self.stdin is sys.stdin and sys.stdin.isatty():
            return getpass.getpass(f"{question}: ")
        self.stdout.write(f"{question}: ")
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            raise UsageError("input ended before the set-up was complete; nothing was saved")
        return line.rstrip("\r\n")


# ------------------------------------------------------------------------ answer checks
def email_problem(answer: str) -> str | None:
    if _EMAIL.fullmatch(answer):
        return None
    return "an address looks like name@example.org"


def name_problem(taken: set[str]) -> Check:
    def check(answer: str) -> str | None:
        if not ACCOUNT_NAME.fullmatch(answer):
            return "an account name is letters, digits, '.', '_' and '-' (up to 64)"
        if answer in taken:
            return f"an account named {answer!r} exists already: choose another name"
        return None

    return check


def not_empty(what: str) -> Check:
    def check(answer: str) -> str | None:
        return None if answer else f"the {what} cannot be empty"

    return check


def port_problem(answer: str) -> str | None:
    if answer.isdigit() and 1 <= int(answer) <= 65535:
        return None
    return "a port is a number from 1 to 65535"


class HostCheck:
    """A host name or address that resolves; one that does not is kept when typed twice (the
    network may be down while setting up)."""

    def __init__(self) -> None:
        self.doubted: str | None = None

    def __call__(self, answer: str) -> str | None:
        if not answer:
            return "the server's host name cannot be empty"
        if not _HOST.fullmatch(answer):
            return f"{safe_line(answer)!r} is not a host name (letters, digits, '.', '-')"
        try:
            socket.getaddrinfo(answer.strip("[]"), None, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            if self.doubted == answer:
                return None
            self.doubted = answer
            why = exc.strerror if isinstance(exc, socket.gaierror) else "bad name"
            return f"cannot resolve {answer!r} ({why}): check it, or type it again to keep it"
        return None


def ca_file_problem(answer: str) -> str | None:
    """Empty (no CA file) is fine; else the file must exist and hold PEM certificates."""
    if not answer:
        return None
    path = Path(answer).expanduser()
    if not path.is_file():
        return f"{path} does not exist or is not a file"
    try:
        ssl.create_default_context(cafile=str(path))
    except ssl.SSLError:
        return f"{path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror}"
    return None


# --------------------------------------------------------------------------- the answers
@dataclass
class Server:
    host: str
    port: int
    security: str
    ca_file: str = ""  # absolute path, or "" for none
    from_preset: bool = False  # host/port/security come from the provider's preset

    def keys(self) -> dict[str, str | int]:
        out: dict[str, str | int] = {}
        if not self.from_preset:
            out.update(host=self.host, port=self.port, security=self.security)
        if self.ca_file:
            out["ca_file"] = self.ca_file
        return out


@dataclass
class Answers:
    email: str = ""
    name: str = ""
    display: str = ""
    username: str = ""
    password: str = ""
    command: str = ""
    default: bool = False
    preset: Preset | None = None  # used (the user confirmed it)
    protocol: str = "imap"
    servers: dict[Role, Server] = field(default_factory=dict)
    oauth2_provider: str = ""  # set: sign in with OAuth2 (tmail account login), no password
    client_id: str = ""
    client_secret: str = ""

    def section(self) -> str:
        lines = [f"[accounts.{self.name}]", f"email = {_toml(self.email)}"]
        if self.display:
            lines.append(f"name = {_toml(self.display)}")
        if self.default:
            lines.append("default = true")
        if self.preset is not None:
            lines.append(f"provider = {_toml(self.preset.name)}")
        incoming: dict[str, str | int] = {"protocol": self.protocol}
        incoming.update(self.servers["incoming"].keys())
        if self.username != self.email:
            incoming["username"] = self.username
        if self.command:
            incoming["password_command"] = self.command
        lines += [f"incoming.{k} = {_toml(v)}" for k, v in incoming.items()]
        if "outgoing" in self.servers:
            out = self.servers["outgoing"].keys()
            lines += [f"outgoing.{k} = {_toml(v)}" for k, v in out.items()]
        if self.client_id:
            lines.append(f"oauth2.provider = {_toml(self.oauth2_provider)}")
            lines.append(f"oauth2.client_id = {_toml(self.client_id)}")
            if self.client_secret:
                lines.append(f"oauth2.client_secret = {_toml(self.client_secret)}")
        return "\n".join(lines) + "\n"


def _toml(value: str | int) -> str:
    if isinstance(value, int):
        return str(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class Proposal:
    """Servers found for the address (``tmail account discover``) and accepted by the user."""

    protocol: str
    incoming: Server
    outgoing: Server | None
    username: str
    preset: Preset | None = None  # a built-in provider whose servers these are
    facts: ProviderFacts | None = None  # the provider's switches, shown after its refusal


Discover = Callable[[str], Proposal | None]


# ------------------------------------------------------------------------------ the flow
class Wizard:
    def __init__(
        self,
        prompt: Prompter,
        taken: set[str],
        validate: Callable[[str], Account],
        discover: Discover | None = None,
    ) -> None:
        self.prompt = prompt
        self.taken = taken
        self.validate = validate  # the whole new section -> the Account the loader makes of it
        # Address -> servers found and shown to the user before any password is asked.
        self.discover = discover
        self.a = Answers(default=not taken)
        self.saving = False  # set by fix() when the user saves an account whose test failed
        self.facts: ProviderFacts | None = None  # the provider's, once known

    # -- the questions, in order
    def ask_all(self, given_name: str | None, keyring_problem: str | None) -> None:
        p, a = self.prompt, self.a
        if given_name is not None and (problem := name_problem(self.taken)(given_name)):
            raise UsageError(problem)
        a.email = p.checked("Email address", email_problem)
        domain = a.email.rpartition("@")[2]
        found = self.discover(a.email) if self.discover is not None else None
        a.name = given_name or p.checked(
            "Account name", name_problem(self.taken), _suggest_name(domain, self.taken)
        )
        a.display = p.ask("Your name (for From:)", "")
        a.username = p.checked(
            "User name", not_empty("user name"), found.username if found else a.email
        )
        if keyring_problem is not None or not self.ask_oauth2():
            self.ask_password(keyring_problem)
        if found is not None:
            self.use_found(found, domain)
        else:
            self.ask_servers(domain)

    def use_found(self, found: Proposal, domain: str) -> None:
        a = self.a
        a.preset = found.preset
        self.facts = found.facts
        a.protocol = found.protocol
        a.servers["incoming"] = replace(found.incoming)
        if found.outgoing is not None:
            a.servers["outgoing"] = replace(found.outgoing)
        else:
            a.servers["outgoing"] = self.ask_server("outgoing", "smtp", f"smtp.{domain}")

    def ask_oauth2(self) -> bool:
        """Offer OAuth2 where the provider has it (its tokens need a real keyring)."""
        from tmail.config.oauth2 import PROVIDERS

        p, a = self.prompt, self.a
        preset = guess_preset(a.email)
        oauth = PROVIDERS.get(preset.name) if preset is not None else None
        if preset is None or oauth is None:
            return False
        p.say(
            f"{oauth.title} can sign tmail in with OAuth2 in your browser, with a client ID you "
            "register yourself (tmail ships none)."
        )
        if not p.yes("Sign in with OAuth2 instead of a password?", preset.auth == "xoauth2"):
            return False
        for i, step in enumerate(oauth.register, 1):
            p.say(f"  {i}. {step.replace('NAME', a.name)}")
        a.oauth2_provider = oauth.name
        a.client_id = p.checked("Client ID", not_empty("client ID"))
        a.client_secret = p.ask("Client secret (empty if the provider gave none)", "")
        return True

    def ask_password(self, keyring_problem: str | None) -> None:
        p, a = self.prompt, self.a
        a.password = a.command = ""
        if keyring_problem == "missing":
            p.say(
                "There is no system keyring here (no Secret Service or KWallet running): "
                "give a command that prints the password."
            )
        elif keyring_problem is None or p.yes(
            f"The keyring backend here is {keyring_problem}, which keeps passwords unencrypted "
            "on disk. Store the password there anyway?",
            default=False,
        ):
            a.password = p.secret("Password (kept in the system keyring; empty to use a command)")
        if not a.password:
            a.command = p.checked(
                "Password command (its first output line is the password)",
                not_empty("password command (or a password)"),
            )

    def ask_servers(self, domain: str) -> None:
        p, a = self.prompt, self.a
        preset = guess_preset(a.email)
        if preset is not None:
            shown = ", ".join(
                f"{proto.upper()} {s.host}:{s.port} {s.security}"
                for proto, s in (
                    ("imap", preset.imap),
                    ("pop3", preset.pop3),
                    ("smtp", preset.smtp),
                )
                if s is not None
            )
            p.say(f"This looks like {preset.title}: {shown}")
            if preset.note:
                p.say(f"  note: {preset.note}")
            facts = provider_facts().get(preset.name)
            for note in facts.switches if facts is not None else ():
                p.say(f"  note: {note}")
            if facts is not None and facts.limits:
                p.say(f"  note: sending limits: {facts.limits}")
            if p.yes("Use these settings?"):
                a.preset = preset
                self.facts = provider_facts().get(preset.name)
                protocols = tuple(x for x in ("imap", "pop3") if preset.server(x) is not None)
                a.protocol = p.choice("Incoming protocol", protocols, protocols[0])
                for role, proto in (("incoming", a.protocol), ("outgoing", "smtp")):
                    s = preset.server(proto)
                    if s is not None:
                        a.servers[role] = Server(s.host, s.port, s.security, from_preset=True)  # type: ignore[index]
                return
        a.protocol = p.choice("Incoming protocol", ("imap", "pop3"), "imap")
        a.servers["incoming"] = self.ask_server("incoming", a.protocol, f"{a.protocol}.{domain}")
        a.servers["outgoing"] = self.ask_server("outgoing", "smtp", f"smtp.{domain}")

    def ask_server(self, role: Role, protocol: str, host: str) -> Server:
        label = "Incoming" if role == "incoming" else "Outgoing (SMTP)"
        server = Server(host, DEFAULT_PORTS[(protocol, "tls")], "tls")
        server.host = self.ask_host(label, server.host)
        server.port = self.ask_port(label, server.port)
        server.security = self.ask_security(label, PORT_SECURITY.get(server.port, "tls"))
        return server

    def ask_host(self, label: str, default: str) -> str:
        return self.prompt.checked(f"{label} server host", HostCheck(), default)

    def ask_port(self, label: str, default: int) -> int:
        return int(self.prompt.checked(f"{label} port", port_problem, str(default)))

    def ask_security(self, label: str, default: str) -> str:
        return self.prompt.choice(f"{label} security", SECURITY, default)

    def ask_ca_file(self, role: Role, default: str) -> str:
        answer = self.prompt.checked(
            f"CA file that signed the {role} server's certificate (a PEM file; empty: none)",
            ca_file_problem,
            default,
        )
        return str(Path(answer).expanduser().resolve()) if answer else ""

    # -- testing and fixing
    def settle(self) -> tuple[Account | None, bool]:
        """Test until the account passes, is to be saved as it is, or is given up:
        ``(account, passed)``; account None when the user quits."""
        p = self.prompt
        while True:
            self.saving = False
            try:
                account = self.validate(self.a.section())
            except ConfigError as exc:  # a check above let something through: say it, fix it
                p.say(f"  {exc.one_line()}")
                if not self.fix(None):
                    return None, False
                if self.saving:
                    p.say("  the account cannot be saved as it is: change the answer named")
                continue
            if self.a.client_id:  # no token before the sign-in: the servers are tried then
                return account, True
            p.say("Testing the connection...")
            failures = self.test(account)
            if not failures:
                return account, True
            if self.offer_ca_file(*failures[0]):
                continue
            if not self.fix(failures[0]):
                return None, False
            if self.saving:
                return account, False

    def test(self, account: Account) -> list[tuple[Role, TmailError]]:
        from tmail.protocols import connect

        failures: list[tuple[Role, TmailError]] = []
        secret = self.a.password or None
        roles: tuple[Role, ...] = ("incoming", "outgoing")
        for role in roles:
            settings: ServerSettings | None = getattr(account, role)
            if settings is None:
                continue
            try:
                if settings.protocol == "imap":
                    connect.open_imap(account, secret=secret).logout()
                elif settings.protocol == "pop3":
                    connect.open_pop3(account, secret=secret).quit()
                else:
                    connect.open_smtp(account, secret=secret).quit()
                self.prompt.say(f"  {role} {settings.label}: ok")
            except TmailError as exc:
                # A new account: a refusal points to a setting, not to an outage.
                error = exc.as_first_contact() if isinstance(exc, ConnectFailed) else exc
                self.prompt.say(f"  {role} {settings.label}: {error.one_line()}")
                if isinstance(error, AuthFailed):
                    for note in refusal_advice(self.facts, error.message):
                        self.prompt.say(f"  note: {note}")
                failures.append((role, error))
        return failures

    def offer_ca_file(self, role: Role, exc: TmailError) -> bool:
        """A certificate no CA vouches for (self-signed, a private CA): ask for the CA file,
        the one question asked only when needed. True when one was given."""
        if not isinstance(exc, CertificateError) or "not trusted" not in exc.message:
            return False
        server = self.a.servers[role]
        self.prompt.say(
            f"The {role} server's certificate is not signed by a CA this system trusts "
            "(self-signed, or a private CA)."
        )
        # An outgoing server on the same host uses the incoming one's (the config loader's rule).
        server.ca_file = self.ask_ca_file(role, server.ca_file)
        return bool(server.ca_file)

    def fix(self, failure: tuple[Role, TmailError] | None) -> bool:
        """Ask which answer to change (suggesting the likely one) and ask it again. False when
        the user quits; sets ``saving`` when the user saves as it is."""
        p, a = self.prompt, self.a
        roles = [r for r in ("incoming", "outgoing") if r in a.servers]
        fields = ["user", "password"] + [
            f"{r} {f}" for r in roles for f in ("host", "port", "security", "ca")
        ]
        suggestion = suggest_change(failure) if failure is not None else "quit"
        p.say(
            "Change one answer and test again (the others are kept), or save the account as "
            "it is, or quit without saving."
        )
        p.say(f"  answers: {', '.join(fields)}, save, quit")
        default_role = failure[0] if failure is not None else "incoming"

        def check(answer: str) -> str | None:
            return (
                None if menu_entry(answer, default_role, fields) else "please name one of the above"
            )

        choice = menu_entry(p.checked("What to change?", check, suggestion), default_role, fields)
        assert choice is not None
        if choice == "quit":
            return False
        if choice == "save":
            self.saving = True
            return True
        if choice == "user":
            a.username = p.checked("User name", not_empty("user name"), a.username)
        elif choice == "password":
            self.ask_password(keyring_problem())
        else:
            role_text, _, what = choice.partition(" ")
            role: Role = "outgoing" if role_text == "outgoing" else "incoming"
            self.change_server(role, what)
        return True

    def change_server(self, role: Role, what: str) -> None:
        server = self.a.servers[role]
        label = "Incoming" if role == "incoming" else "Outgoing (SMTP)"
        if what == "ca":
            server.ca_file = self.ask_ca_file(role, server.ca_file)
            return
        if server.from_preset:  # from now on written out: the preset's value is being changed
            self.a.servers[role] = server = replace(server, from_preset=False)
        if what == "host":
            server.host = self.ask_host(label, server.host)
        elif what == "port":
            server.port = self.ask_port(label, server.port)
            server.security = self.ask_security(
                label, PORT_SECURITY.get(server.port, server.security)
            )
        else:
            server.security = self.ask_security(label, server.security)
            protocol = self.a.protocol if role == "incoming" else "smtp"
            server.port = self.ask_port(label, DEFAULT_PORTS[(protocol, server.security)])


def _suggest_name(domain: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]", "", domain.split(".")[0]) or "mail"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    return name


def suggest_change(failure: tuple[Role, TmailError]) -> str:
    role, exc = failure
    if isinstance(exc, AuthFailed | SecretError):
        return "password"
    if isinstance(exc, CertificateError):
        return f"{role} host" if "does not match host" in exc.message else f"{role} ca"
    if isinstance(exc, TLSFailure):
        return f"{role} security"
    if isinstance(exc, ConnectFailed) and "resolve" in exc.message:
        return f"{role} host"
    return f"{role} port"


def menu_entry(answer: str, role: Role, fields: list[str]) -> str | None:
    """The menu entry an answer names: 'port' means the failing server's port."""
    words = answer.lower().split()
    text = " ".join(words)
    if text in ("save", "quit", "user", "password") or text in fields:
        return text
    if text == "username" or text == "user name":
        return "user"
    if len(words) == 1 and f"{role} {text}" in fields:
        return f"{role} {text}"
    return None


def keyring_problem() -> str | None:
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
