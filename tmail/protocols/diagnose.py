"""``tmail check`` in tmail's own types: each server of an account, step by step, as an admin
would check it with telnet: resolve, connect, TLS, capabilities, login, then for IMAP the folders
and INBOX counts, for POP3 the mailbox size, for SMTP a MAIL FROM/RCPT TO probe to the account's
own address ended by RSET (nothing is sent). Every SMTP reply in the transcript is explained
(smtpcodes).

Each :class:`Step` has a one-line ``detail`` (the short report) and ``extra`` lines (certificate,
full capability lists, the probe's replies) for ``--verbose`` or a failed step. ``on_step``
receives each step as it is decided, so a caller can print it between the transcript lines that
led to it. Each server is asked for its capabilities once (twice around STARTTLS).

Library objects stay in here; the CLI gets :class:`ServerCheck` values.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tmail.config.model import Account, Role, ServerSettings
from tmail.config.oauth2 import uses_builtin
from tmail.config.secrets import password_source
from tmail.core.counts import plural
from tmail.core.errors import (
    AuthFailed,
    ConnectFailed,
    SecretError,
    TLSFailure,
    TmailError,
)
from tmail.core.safe import safe_line
from tmail.core.sizes import human_size
from tmail.protocols import connect
from tmail.protocols.smtpcodes import explain

Transcript = Callable[[str, str], None]
_FINAL_REPLY = re.compile(r"^(\d{3})(?: (.*))?$")
INTERESTING_EHLO = ("SIZE", "AUTH", "PIPELINING", "DSN", "8BITMIME", "SMTPUTF8", "STARTTLS",
                    "ENHANCEDSTATUSCODES", "CHUNKING", "REQUIRETLS")  # fmt: skip


@dataclass(frozen=True)
class Step:
    """One thing checked: its name, whether it passed, one line, and optional detail lines."""

    name: str
    ok: bool
    detail: str
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class ServerCheck:
    account: str
    role: Role
    protocol: str
    label: str
    security: str
    steps: tuple[Step, ...]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)


StepHook = Callable[[Step], None]
# IMAP extensions tmail's sync uses when offered (imap.py): shown as the short report.
USED_IMAP = ("IDLE", "MOVE", "UIDPLUS", "CONDSTORE", "SPECIAL-USE")


@dataclass
class _Run:
    account: Account
    role: Role
    settings: ServerSettings
    transcript: Transcript | None
    on_step: StepHook | None = None
    steps: list[Step] = field(default_factory=list)
    first: str | None = None  # the first line of a multi-line SMTP reply in the transcript

    def hook(self, direction: str, text: str) -> None:
        if self.transcript is None:
            return
        if self.settings.protocol == "smtp" and direction == "S":
            text = self._explained(text)
        self.transcript(direction, text)

    def _explained(self, text: str) -> str:
        # A multi-line reply is explained on its last line, by its first line's words.
        if re.match(r"^\d{3}-", text):
            self.first = self.first if self.first is not None else text[4:]
            return text
        m = _FINAL_REPLY.match(text)
        words, self.first = (self.first, None) if self.first is not None else (None, None)
        if not m:
            return text
        reply = explain(int(m.group(1)), words if words is not None else (m.group(2) or ""))
        code = f"{reply.code} {reply.enhanced}" if reply.enhanced else str(reply.code)
        return f"{text}   [{code}: {reply.meaning} ({reply.kind})]"

    def add(self, name: str, ok: bool, detail: str, extra: tuple[str, ...] = ()) -> None:
        step = Step(name, ok, safe_line(detail), tuple(safe_line(e) for e in extra))
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)

    def result(self) -> ServerCheck:
        s = self.settings
        return ServerCheck(
            self.account.name, self.role, s.protocol, s.label, s.security, tuple(self.steps)
        )


def check_account(
    account: Account, transcript: Transcript | None = None, reached: Collection[Role] = ()
) -> list[ServerCheck]:
    """Every server of the account, incoming first. ``reached``: the roles whose server the
    account has logged in to before (a refusal there is an outage, elsewhere a setting)."""
    return [check_server(account, role, transcript, reached) for role in roles(account)]


def roles(account: Account) -> list[Role]:
    """The account's servers to check, incoming first."""
    return ["incoming", "outgoing"] if account.outgoing is not None else ["incoming"]


def check_server(
    account: Account,
    role: Role,
    transcript: Transcript | None = None,
    reached: Collection[Role] = (),
    on_step: StepHook | None = None,
) -> ServerCheck:
    settings = account.incoming if role == "incoming" else account.outgoing
    assert settings is not None
    run = _Run(account, role, settings, transcript, on_step)
    if not _resolve(run):
        return run.result()
    try:
        if settings.protocol == "imap":
            _check_imap(run)
        elif settings.protocol == "pop3":
            _check_pop3(run)
        else:
            _check_smtp(run)
    except TmailError as exc:
        if isinstance(exc, ConnectFailed) and role not in reached:
            exc = exc.as_first_contact()
        run.add(_failed_step(exc, run), False, exc.one_line())
    return run.result()


def _failed_step(exc: TmailError, run: _Run) -> str:
    done = {s.name for s in run.steps}
    if isinstance(exc, TLSFailure):
        return "tls"
    if isinstance(exc, AuthFailed | SecretError):
        return "login"
    if isinstance(exc, ConnectFailed) and "connect" not in done:
        return "connect"
    return "server"


def _resolve(run: _Run) -> bool:
    s = run.settings
    try:
        infos = socket.getaddrinfo(s.host, s.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        run.add("resolve", False, f"cannot resolve {s.host!r}: {exc.strerror}")
        return False
    addrs = list(dict.fromkeys(str(i[4][0]) for i in infos))
    run.add("resolve", True, f"{s.host} -> {', '.join(addrs[:4])}")
    return True


def _connected(run: _Run, started: float, sock: Any) -> None:
    ms = (time.monotonic() - started) * 1000
    run.add("connect", True, f"{run.settings.label} in {ms:.0f} ms")
    info = connect.tls_info(sock)
    if info is None:
        run.add("tls", True, "none: plain TCP (security = none): everything travels in clear")
        return
    extra: tuple[str, ...] = ()
    detail = f"{info.version}, {info.cipher}"
    if info.cert is not None:
        c = info.cert
        days = (c.not_after - datetime.now(UTC)).days
        detail += f"; certificate expires {c.not_after:%Y-%m-%d} ({plural(days, 'day')})"
        if run.settings.pinned_cert is not None:
            detail += "; trusted as the pinned certificate (tmail account trust)"
        extra = (
            f"subject {c.subject}",
            f"issuer  {c.issuer}",
            f"names   {', '.join(c.names) or '-'}",
            f"SHA-256 {c.sha256}",
        )
    run.add("tls", True, detail, extra)


def _login_detail(run: _Run) -> str:
    s = run.settings
    if uses_builtin(run.account, run.role):  # "OAuth2, signed in (access token valid until ...)"
        return f"as {s.username!r} ({password_source(run.account, run.role)})"
    how = "OAuth2 token" if s.auth == "xoauth2" else "password"
    return f"as {s.username!r} ({how} from {password_source(run.account, run.role)})"


# ------------------------------------------------------------------------------------- IMAP
def _check_imap(run: _Run) -> None:
    started = time.monotonic()
    client = connect.open_imap(run.account, transcript=run.hook, login=False)
    try:
        _connected(run, started, client._imap.sock)
        caps = sorted(c.decode("ascii", "replace") for c in connect.imap_capabilities(client))
        auth = [c for c in caps if c.startswith("AUTH=") or c == "LOGINDISABLED"]
        run.add(
            "capabilities",
            True,
            f"{len(caps)} before login; {' '.join(auth) or 'LOGIN only'}",
            ("before login: " + " ".join(caps),),
        )
        connect.login_imap(run.account, client)
        run.add("login", True, _login_detail(run))
        caps = sorted(c.decode("ascii", "replace") for c in connect.imap_capabilities(client))
        used = [c for c in USED_IMAP if c in caps]
        missing = [c for c in USED_IMAP if c not in caps]
        detail = " ".join(used) or "none of " + " ".join(USED_IMAP)
        if used and missing:
            detail += f"; not offered: {' '.join(missing)}"
        run.add("extensions", True, detail, ("after login: " + " ".join(caps),))
        try:
            folders = [f[2] for f in client.list_folders()]
        except Exception as exc:
            run.add("folders", False, f"LIST failed: {exc}")
            return
        names = [str(f) for f in folders]
        run.add("folders", True, f"{len(names)}: {', '.join(sorted(names)[:30])}")
        try:
            st = client.folder_status("INBOX", [b"MESSAGES", b"UNSEEN", b"RECENT"])
        except Exception as exc:
            run.add("INBOX", False, f"STATUS INBOX failed: {exc}")
            return
        run.add(
            "INBOX",
            True,
            f"{_messages(st.get(b'MESSAGES'))}, {st.get(b'UNSEEN', '?')} unseen, "
            f"{st.get(b'RECENT', '?')} recent",
        )
    finally:
        with contextlib.suppress(Exception):
            client.logout()


def _messages(n: object) -> str:
    return plural(n, "message") if isinstance(n, int) else "? messages"


# ------------------------------------------------------------------------------------- POP3
def _check_pop3(run: _Run) -> None:
    started = time.monotonic()
    pop = connect.open_pop3(run.account, transcript=run.hook, login=False)
    try:
        _connected(run, started, pop.sock)
        caps = connect.pop3_capabilities(pop)
        if caps:
            shown = ", ".join(f"{k} {' '.join(v)}".strip() for k, v in sorted(caps.items()))
            run.add("capabilities", True, shown)
        else:
            run.add("capabilities", True, "the server does not answer CAPA (an old server)")
        connect.login_pop3(run.account, pop)
        run.add("login", True, _login_detail(run))
        count, size = pop.stat()
        run.add("mailbox", True, f"{plural(count, 'message')}, {human_size(size)}")
    finally:
        with contextlib.suppress(Exception):
            pop.quit()  # nothing was marked for deletion: QUIT is safe here


# ------------------------------------------------------------------------------------- SMTP
def _check_smtp(run: _Run) -> None:
    started = time.monotonic()
    smtp = connect.open_smtp(run.account, transcript=run.hook, login=False)
    try:
        _connected(run, started, smtp.sock)
        # One line: SIZE and AUTH (what sending depends on), then the other extensions once;
        # the EHLO reply itself is in the transcript (--verbose).
        feats = smtp.esmtp_features
        tls_on = connect.tls_info(smtp.sock) is not None
        missing = [
            x
            for x in INTERESTING_EHLO
            if x.lower() not in feats and not (x == "STARTTLS" and tls_on)
        ]
        size = feats.get("size", "").strip()
        summary = f"SIZE {size}" if size else "no SIZE"
        auth = feats.get("auth", "").strip()
        summary += f"; AUTH {auth}" if auth else "; no AUTH"
        others = sorted(k.upper() for k in feats if k not in ("size", "auth"))
        if others:
            summary += f"; {' '.join(others)}"
        extra = (f"not offered: {' '.join(missing)}",) if missing else ()
        run.add("capabilities", True, summary, extra)
        if run.settings.username:
            connect.login_smtp(run.account, smtp)
            run.add("login", True, _login_detail(run))
        else:
            run.add("login", True, "no outgoing.username: not logging in")
        _smtp_probe(run, smtp)
    finally:
        with contextlib.suppress(Exception):
            smtp.quit()


def _smtp_probe(run: _Run, smtp: Any) -> None:
    addr = run.account.email
    steps = []
    ok = True
    try:
        for cmd in (f"MAIL FROM:<{addr}>", f"RCPT TO:<{addr}>"):
            code, msg = smtp.docmd(cmd)
            reply = explain(code, msg)
            steps.append(f"{cmd} -> {reply.explain()}")
            if not reply.ok:
                ok = False
                break
    except Exception as exc:  # the server hung up on the probe
        ok = False
        steps.append(f"connection lost during the probe: {exc}")
    finally:
        with contextlib.suppress(Exception):
            code, msg = smtp.docmd("RSET")
            steps.append(f"RSET -> {explain(code, msg).explain()}")
    detail = (
        f"the server would accept mail from and to {addr} (nothing sent)"
        if ok
        else f"the server refused the probe for {addr}"
    )
    # The replies, explained, when refused (a passing probe is in the --verbose transcript).
    run.add("probe", ok, detail, () if ok else tuple(steps))
