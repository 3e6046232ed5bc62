"""A real mail stack on loopback for tests and benchmarks: Dovecot + Postfix from Debian.

Dovecot serves IMAP (STARTTLS), IMAPS, POP3 (STLS), POP3S, LMTP and SASL; Postfix accepts
submission with STARTTLS + AUTH on one port and implicit TLS on another, authenticates through
Dovecot's SASL socket and delivers to Dovecot over LMTP. Everything runs as root-started daemons
under one temporary folder, on free ports of 127.0.0.1, with a self-signed certificate that tests
hand to tmail as its CA file (verification is never switched off).

Use from pytest through the ``mailstack`` fixture (tests/conftest.py), from a benchmark with
``MailStack.start(folder)``, or by hand::

    python -m tests.support.mailstack start /tmp/ms     # prints ports, leaves it running
    python -m tests.support.mailstack stop /tmp/ms

Users alice, bob and carol exist with password ``secret``; addresses are USER@example.test.

OAuth2: beside the password passdb, Dovecot has an ``oauth2`` passdb (mechanisms XOAUTH2 and
OAUTHBEARER only) that validates bearer tokens itself: JWTs signed with the stack's own RSA key
(``oauth2_jwk``, written here) by the issuer ``oauth2_issuer``. The OAuth2 server that issues
them (tests/support/oauth2server.py) is started only by the tests that need it, on the port
reserved here. Postfix authenticates through Dovecot's SASL, so submission takes the tokens too.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import time
import uuid
from base64 import urlsafe_b64encode
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

DOMAIN = "example.test"
PASSWORD = "secret"
DEFAULT_USERS = ("alice", "bob", "carol")
DEBIAN_PACKAGES = ("dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd", "postfix")


class MailStackUnavailable(RuntimeError):
    """The servers are not installed or cannot be started here (not root, ...)."""


def missing_requirements() -> str | None:
    """Why the stack cannot start on this machine, or None when it can."""
    missing = [b for b in ("dovecot", "doveadm", "postfix", "openssl") if not shutil.which(b)]
    if missing:
        return (
            f"not installed: {', '.join(missing)}; install the Debian packages "
            f"{' '.join(DEBIAN_PACKAGES)} (make test does it when run as root)"
        )
    if os.geteuid() != 0:
        return "the test mail stack starts Dovecot and Postfix and must run as root"
    for user in ("dovenull", "dovecot", "postfix"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            return f"system user {user!r} is missing: reinstall {' '.join(DEBIAN_PACKAGES)}"
    return None


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports that are free on 127.0.0.1 right now."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


@dataclass
class Ports:
    imap: int
    imaps: int
    pop3: int
    pop3s: int
    lmtp: int
    smtp: int
    smtps: int
    oauth2: int = 0  # reserved for the OAuth2 server of tests/support/oauth2server.py


@dataclass
class MailStack:
    """A running Dovecot + Postfix pair under ``root``."""

    root: Path
    ports: Ports
    users: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    _postfix: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    # ----------------------------------------------------------------- paths
    @property
    def ca_file(self) -> Path:
        """The self-signed certificate both servers present; give it to tmail as ``ca_file``."""
        return self.root / "cert.pem"

    @property
    def dovecot_conf(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def postfix_dir(self) -> Path:
        return self.root / "pf" / "etc"

    def maildir(self, user: str, folder: str = "INBOX") -> Path:
        """The server-side Maildir (Dovecot's Maildir++ layout) of one folder of ``user``."""
        base = self.root / "mail" / user / "Maildir"
        return base if folder == "INBOX" else base / f".{folder}"

    @property
    def oauth2_issuer(self) -> str:
        """The issuer Dovecot trusts; the OAuth2 server of the tests runs there."""
        return f"http://127.0.0.1:{self.ports.oauth2}"

    @property
    def oauth2_jwk(self) -> Path:
        """The private RSA key (JWK) the OAuth2 server signs its tokens with."""
        return self.root / "oauth2" / "jwk.json"

    def address(self, user: str) -> str:
        return f"{user}@{DOMAIN}"

    def describe(self) -> str:
        p = self.ports
        return (
            f"mail stack on {self.host}: imap {p.imap} (starttls) imaps {p.imaps} "
            f"pop3 {p.pop3} (stls) pop3s {p.pop3s} lmtp {p.lmtp} "
            f"smtp {p.smtp} (starttls) smtps {p.smtps}; ca_file {self.ca_file}; dir {self.root}"
        )

    # ------------------------------------------------------------- lifecycle
    @classmethod
    def start(cls, root: Path | str, users: Iterable[str] = DEFAULT_USERS) -> MailStack:
        why = missing_requirements()
        if why:
            raise MailStackUnavailable(why)
        root = Path(root).resolve()
        p = free_ports(8)
        stack = cls(root=root, ports=Ports(*p))
        stack._prepare(users)
        try:
            stack._start_dovecot()
            stack._start_postfix()
            stack._wait_ready()
        except BaseException:
            stack.stop()
            raise
        (root / "stack.json").write_text(json.dumps({"ports": asdict(stack.ports)}))
        return stack

    @classmethod
    def attach(cls, root: Path | str) -> MailStack:
        """A handle on a stack started earlier (by ``python -m tests.support.mailstack start``)."""
        root = Path(root).resolve()
        info = json.loads((root / "stack.json").read_text())
        stack = cls(root=root, ports=Ports(**info["ports"]))
        for line in (root / "passwd").read_text().splitlines():
            name, _, rest = line.partition(":")
            stack.users[name] = rest.split(":")[0].removeprefix("{PLAIN}")
        return stack

    def _prepare(self, users: Iterable[str]) -> None:
        r = self.root
        for sub in ("dv/run", "dv/state", "mail", "pf/etc", "pf/queue/private", "pf/data"):
            (r / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(r, 0o755)
        os.chmod(r / "dv", 0o755)
        _ensure_vmail_user()
        if not self.ca_file.exists():
            subprocess.run(
                [
                    "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", str(r / "key.pem"), "-out", str(self.ca_file), "-days", "30",
                    "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                ],
                check=True,
                capture_output=True,
            )  # fmt: skip
        os.chmod(self.ca_file, 0o644)
        os.chmod(r / "key.pem", 0o600)
        for user in users:
            self.users[user] = PASSWORD
        self._write_passwd()
        vmail = pwd.getpwnam("vmail")
        os.chown(r / "mail", vmail.pw_uid, vmail.pw_gid)
        postfix = pwd.getpwnam("postfix")
        os.chown(r / "pf/queue/private", postfix.pw_uid, -1)
        self._write_oauth2_key()
        self.dovecot_conf.write_text(self._dovecot_config())
        self._write_postfix_config()

    def _write_oauth2_key(self) -> None:
        # Dovecot validates the tokens locally (introspection_mode = local) against this key:
        # oauth2-mock-server's /introspect says "active" to any string, so it is never asked.
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        def b64(n: int) -> str:
            raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
            return urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        priv, pub = key.private_numbers(), key.public_key().public_numbers()
        kid = "tmail-test"
        jwk = {
            "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": b64(pub.n), "e": b64(pub.e), "d": b64(priv.d), "p": b64(priv.p),
            "q": b64(priv.q), "dp": b64(priv.dmp1), "dq": b64(priv.dmq1), "qi": b64(priv.iqmp),
        }  # fmt: skip
        self.oauth2_jwk.parent.mkdir(parents=True, exist_ok=True)
        self.oauth2_jwk.write_text(json.dumps(jwk))
        os.chmod(self.oauth2_jwk, 0o600)
        # "default" = tokens without an azp claim; the file name is the token's kid.
        keydir = self.root / "oauth-keys" / "default" / "RS256"
        keydir.mkdir(parents=True, exist_ok=True)
        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        (keydir / kid).write_bytes(pem)
        for d in (self.root / "oauth-keys", keydir.parent, keydir):
            os.chmod(d, 0o755)
        os.chmod(keydir / kid, 0o644)
        (self.root / "oauth2.conf.ext").write_text(
            "introspection_mode = local\n"
            f"local_validation_key_dict = fs:posix:prefix={self.root}/oauth-keys/\n"
            "username_attribute = sub\n"
            f"issuers = {self.oauth2_issuer}\n"
            "scope = mail\n"  # a token without the scope "mail" is refused
        )
        os.chmod(self.root / "oauth2.conf.ext", 0o644)

    def _write_passwd(self) -> None:
        path = self.root / "passwd"
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(f"{u}:{{PLAIN}}{pw}:::::\n" for u, pw in self.users.items()))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)  # Dovecot re-reads a passwd-file whose mtime changed.

    def _dovecot_config(self) -> str:
        r, p = self.root, self.ports
        # Gotchas (each failed first on this machine): login processes refuse root, so they run
        # as dovenull; mail processes refuse uid 0, so the mail belongs to vmail; each
        # inet_listener setting goes on its own line; LMTP gets user@domain while the
        # passwd-file has bare names, hence auth_username_format = %Ln.
        return f"""\
base_dir = {r}/dv/run
state_dir = {r}/dv/state
instance_name = tmail-test-{p.imap}
protocols = imap pop3 lmtp
listen = 127.0.0.1
default_login_user = dovenull
default_internal_user = dovecot
default_internal_group = dovecot
log_path = {r}/dovecot.log
ssl = yes
ssl_cert = <{self.ca_file}
ssl_key = <{r}/key.pem
auth_mechanisms = plain login xoauth2 oauthbearer
auth_username_format = %Ln
disable_plaintext_auth = no
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = {r}/passwd
  # "none": the static userdb asks the passdb whether a user exists (LMTP, doveadm).
  mechanisms = plain login none
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {r}/oauth2.conf.ext
}}
userdb {{
  driver = static
  args = uid=vmail gid=vmail home={r}/mail/%u
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
protocol pop3 {{
  pop3_uidl_format = %08Xu%08Xv
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {p.imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {p.imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {p.pop3}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {p.pop3s}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {p.lmtp}
  }}
}}
service auth {{
  unix_listener {r}/pf/queue/private/auth {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
"""

    def _write_postfix_config(self) -> None:
        r, p = self.root, self.ports
        etc = self.postfix_dir
        master = Path("/etc/postfix/master.cf").read_text()
        for extra in Path("/etc/postfix").glob("dynamicmaps.cf*"):
            if extra.is_file():
                shutil.copy(extra, etc / extra.name)
        (etc / "main.cf").write_text(f"""\
compatibility_level = 3.6
queue_directory = {r}/pf/queue
data_directory = {r}/pf/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.{DOMAIN}
mydomain = {DOMAIN}
myorigin = {DOMAIN}
inet_interfaces = loopback-only
inet_protocols = ipv4
mydestination =
virtual_mailbox_domains = {DOMAIN}
virtual_transport = lmtp:inet:127.0.0.1:{p.lmtp}
smtpd_sasl_type = dovecot
smtpd_sasl_path = private/auth
smtpd_sasl_auth_enable = yes
smtpd_tls_cert_file = {self.ca_file}
smtpd_tls_key_file = {r}/key.pem
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = permit_sasl_authenticated, reject_unauth_destination
message_size_limit = 52428800
maillog_file = /dev/stdout
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
smtpd_client_connection_count_limit = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
""")
        # Our own submission ports; chroot off everywhere (the queue is not a chroot jail here).
        out = []
        for line in master.split("\n"):
            fields = line.split()
            if line.startswith("smtp") and len(fields) > 1 and fields[1] == "inet":
                line = f"127.0.0.1:{p.smtp} inet n - n - - smtpd"
            elif (
                line[:1].isalnum()
                and len(fields) >= 8
                and fields[1] in ("unix", "inet", "fifo", "unix-dgram", "pass")
            ):
                fields[4] = "n"
                line = "  ".join(fields)
            out.append(line)
        out.append(f"127.0.0.1:{p.smtps} inet n - n - - smtpd\n  -o smtpd_tls_wrappermode=yes")
        (etc / "master.cf").write_text("\n".join(out) + "\n")
        postfix = pwd.getpwnam("postfix")
        for dirpath, _dirs, files in os.walk(r / "pf/data"):
            os.chown(dirpath, postfix.pw_uid, -1)
            for f in files:
                os.chown(os.path.join(dirpath, f), postfix.pw_uid, -1)
        with contextlib.suppress(FileNotFoundError):
            (r / "pf/data/master.lock").unlink()

    def _start_dovecot(self) -> None:
        # Not capture_output: the daemon inherits the pipes and the read would never end.
        errlog = self.root / "dovecot-start.log"
        with open(errlog, "wb") as err:
            res = subprocess.run(
                ["dovecot", "-c", str(self.dovecot_conf)],
                stdout=err,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        if res.returncode != 0:
            raise MailStackUnavailable(f"dovecot did not start: {errlog.read_text().strip()}")

    def _start_postfix(self) -> None:
        # `postfix start` exits silently here (no syslog); start-fg in its own session works.
        log = open(self.root / "postfix.log", "ab")  # noqa: SIM115 - owned by the child
        proc = subprocess.Popen(
            ["postfix", "-c", str(self.postfix_dir), "start-fg"],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self._postfix = proc
        (self.root / "postfix.pid").write_text(str(proc.pid))

    def _wait_ready(self, timeout: float = 30.0) -> None:
        p = self.ports
        deadline = time.monotonic() + timeout
        pending = {p.imap, p.imaps, p.pop3, p.pop3s, p.lmtp, p.smtp, p.smtps}
        while pending and time.monotonic() < deadline:
            for port in list(pending):
                with socket.socket() as s:
                    s.settimeout(0.5)
                    if s.connect_ex((self.host, port)) == 0:
                        pending.discard(port)
            if pending:
                time.sleep(0.1)
        if pending:
            raise MailStackUnavailable(
                f"ports {sorted(pending)} did not open in {timeout:.0f}s; "
                f"see {self.root}/dovecot.log and {self.root}/postfix.log"
            )

    def stop(self) -> None:
        """Stop both servers; safe to call twice and after a failed start."""
        for cmd in (
            ["postfix", "-c", str(self.postfix_dir), "stop"],
            ["doveadm", "-c", str(self.dovecot_conf), "stop"],
        ):
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        pidfile = self.root / "postfix.pid"
        if pidfile.exists():
            with contextlib.suppress(ProcessLookupError, ValueError, PermissionError):
                os.killpg(int(pidfile.read_text()), signal.SIGTERM)
        if self._postfix is not None:
            try:
                self._postfix.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._postfix.pid, signal.SIGKILL)
                self._postfix.wait(timeout=5)
            self._postfix = None
        master = self.root / "dv/run/master.pid"
        if master.exists():
            with contextlib.suppress(ProcessLookupError, ValueError, PermissionError):
                os.kill(int(master.read_text()), signal.SIGTERM)

    # ------------------------------------------------------------ test helpers
    def add_user(self, name: str, password: str = PASSWORD) -> str:
        """Create a user (Dovecot re-reads the passwd file); returns its address."""
        self.users[name] = password
        self._write_passwd()
        # Dovecot's passwd-file driver re-reads the file at most once a second, so a user added
        # right after another lookup stays unknown for up to a second: wait until it is seen.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                self.doveadm("user", name)
                break
            except RuntimeError:
                time.sleep(0.2)
        return self.address(name)

    def doveadm(self, *args: str, input: bytes | None = None) -> str:
        res = subprocess.run(
            ["doveadm", "-c", str(self.dovecot_conf), *args],
            input=input,
            capture_output=True,
            check=False,
        )
        if res.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)}: {res.stderr.decode(errors='replace')}")
        return res.stdout.decode(errors="replace")

    def create_mailbox(self, user: str, mailbox: str, subscribe: bool = True) -> None:
        self.doveadm("mailbox", "create", "-u", user, *(["-s"] if subscribe else []), mailbox)

    def save(self, user: str, message: bytes, mailbox: str = "INBOX") -> None:
        """Put one message straight into a mailbox, as the server would store it."""
        self.doveadm("save", "-u", user, "-m", mailbox, input=message)

    def bulk_save(self, user: str, messages: Iterable[bytes], mailbox: str = "INBOX") -> int:
        """Drop many messages into a mailbox fast (thousands a second): Maildir files in new/.

        Dovecot indexes them on the next access, with UIDs in the order they were written.
        """
        if mailbox != "INBOX":
            with contextlib.suppress(RuntimeError):
                self.create_mailbox(user, mailbox)
        md = self.maildir(user, mailbox)
        for sub in ("cur", "new", "tmp"):
            (md / sub).mkdir(parents=True, exist_ok=True)
        vmail = pwd.getpwnam("vmail")
        count = 0
        stamp = int(time.time())
        for count, data in enumerate(messages, 1):
            name = f"{stamp}.M{count}P{os.getpid()}Q{uuid.uuid4().hex[:8]}.tmailtest"
            tmp = md / "tmp" / name
            tmp.write_bytes(data)
            os.chown(tmp, vmail.pw_uid, vmail.pw_gid)
            os.rename(tmp, md / "new" / name)
        for dirpath, _dirs, files in os.walk(self.root / "mail" / user):
            os.chown(dirpath, vmail.pw_uid, vmail.pw_gid)
            for f in files:
                os.chown(os.path.join(dirpath, f), vmail.pw_uid, vmail.pw_gid)
        return count

    def deliver(self, recipient: str, message: bytes, sender: str = "") -> None:
        """Deliver through LMTP, the way Postfix hands mail to Dovecot."""
        rcpt = recipient if "@" in recipient else self.address(recipient)
        with smtplib.LMTP(self.host, self.ports.lmtp, timeout=30) as lmtp:
            lmtp.sendmail(sender or f"sender@{DOMAIN}", [rcpt], message)

    def message_count(self, user: str, mailbox: str = "INBOX") -> int:
        out = self.doveadm("mailbox", "status", "-u", user, "messages", mailbox)
        return int(out.strip().split("=")[-1])

    def stored_messages(self, user: str, mailbox: str = "INBOX") -> list[bytes]:
        """The bytes of every message Dovecot holds in ``mailbox`` (read from its Maildir)."""
        md = self.maildir(user, mailbox)
        files = [f for sub in ("cur", "new") if (md / sub).is_dir() for f in (md / sub).iterdir()]
        return [f.read_bytes() for f in sorted(files)]

    def wait_for(self, user: str, count: int, mailbox: str = "INBOX", timeout: float = 30.0) -> int:
        """Wait until ``mailbox`` holds at least ``count`` messages; returns the count."""
        deadline = time.monotonic() + timeout
        n = self.message_count(user, mailbox)
        while n < count and time.monotonic() < deadline:
            time.sleep(0.2)
            n = self.message_count(user, mailbox)
        return n


def _ensure_vmail_user() -> None:
    try:
        pwd.getpwnam("vmail")
    except KeyError:
        subprocess.run(["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", "vmail"], check=True)


def _cli(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python -m tests.support.mailstack start|stop DIR", file=sys.stderr)
        return 2
    action, folder = argv
    if action == "start":
        stack = MailStack.start(folder)
        print(stack.describe())
    else:
        MailStack.attach(folder).stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(_cli(sys.argv[1:]))
