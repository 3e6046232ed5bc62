"""``tmail check``, ``tmail accounts``, ``tmail account add`` and ``tmail account trust`` run as a
user would, against the real Dovecot and Postfix.

Keyring tests install an in-memory backend of the keyring API for the test
(tests/support/keyrings.py); tmail reads and writes it through keyring as it would the desktop's.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from tests.conftest import MailUser
from tests.support.faultservers import never_greets, starttls_not_offered, wrong_host_proxy
from tests.support.keyrings import MemoryKeyring, PlaintextKeyring, using_keyring
from tests.support.mailstack import MailStack
from tests.support.penalty import clear_auth_penalty
from tmail.cli import main

pytestmark = pytest.mark.stack


def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = None
    if stdin is not None:
        import sys

        old, sys.stdin = sys.stdin, io.StringIO(stdin)
    try:
        code = main(list(argv), stdout=out, stderr=err)
    finally:
        if old is not None:
            import sys

            sys.stdin = old
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    try:
        yield kr
    finally:
        keyring.set_keyring(previous)


def config_for(
    tmp_path: Path,
    stack: MailStack,
    user: str,
    *,
    protocol: str = "imap",
    security: str = "tls",
    smtp_security: str = "starttls",
    extra: str = "",
    password_line: str | None = None,
) -> Path:
    p = stack.ports
    port = {
        ("imap", "tls"): p.imaps,
        ("imap", "starttls"): p.imap,
        ("pop3", "tls"): p.pop3s,
        ("pop3", "starttls"): p.pop3,
    }[(protocol, security)]
    smtp_port = p.smtps if smtp_security == "tls" else p.smtp
    pwfile = tmp_path / "pw"
    pwfile.write_text(stack.users[user])
    if password_line is None:
        password_line = f'incoming.password_command = "cat {pwfile}"'
    path = tmp_path / "config.toml"
    path.write_text(f"""\
[general]
data_dir = "{tmp_path / "data"}"

[accounts.acct]
email = "{stack.address(user)}"
incoming.protocol = "{protocol}"
incoming.host = "{stack.host}"
incoming.port = {port}
incoming.security = "{security}"
incoming.username = "{user}"
{password_line}
incoming.ca_file = "{stack.ca_file}"
outgoing.host = "{stack.host}"
outgoing.port = {smtp_port}
outgoing.security = "{smtp_security}"
{extra}
""")
    path.chmod(0o600)
    return path


def wait_for_user(user: MailUser) -> None:
    # Dovecot sees a new user once it notices the passwd file changed (up to a second).
    import imapclient

    deadline = time.monotonic() + 4
    while True:
        c = imapclient.IMAPClient(
            user.stack.host,
            port=user.stack.ports.imaps,
            ssl_context=__import__("ssl").create_default_context(cafile=str(user.stack.ca_file)),
        )
        try:
            c.login(user.name, user.password)
            c.logout()
            return
        except imapclient.exceptions.LoginError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


MODES = [("imap", "tls"), ("imap", "starttls"), ("pop3", "tls"), ("pop3", "starttls")]


@pytest.mark.parametrize(("protocol", "security"), MODES)
def test_check_passes_for_every_protocol_and_mode(
    tmp_path: Path, mail_user: MailUser, protocol: str, security: str
) -> None:
    wait_for_user(mail_user)
    smtp_security = "tls" if security == "tls" else "starttls"
    path = config_for(
        tmp_path, mail_user.stack, mail_user.name, protocol=protocol, security=security,
        smtp_security=smtp_security,
    )  # fmt: skip
    code, out, err = run("--config", str(path), "check")
    assert code == 0, out + err
    assert "all 2 servers pass" in out
    assert "TLSv1." in out and "certificate expires" in out
    if protocol == "imap":
        assert "INBOX        0 messages, 0 unseen" in out
    else:
        assert "mailbox      0 messages" in out
    # SMTP: SIZE and AUTH, and the probe (nothing is sent).
    assert "SIZE 52428800" in out and "AUTH PLAIN LOGIN" in out
    assert f"probe        the server would accept mail from and to {mail_user.address}" in out
    # The default is short: a header per server and one line per step, nothing more.
    body = [line for line in out.splitlines()[1:-1] if not line.startswith("  incoming ")]
    body = [line for line in body if not line.startswith("  outgoing ")]
    assert all(line.startswith("    ok   ") for line in body), out
    # --verbose: each reply in the transcript explained, before the step it led to; details.
    code, out, err = run("--config", str(path), "check", "--verbose")
    assert code == 0, out + err
    assert "subject CN=localhost" in out
    rcpt = out.index(f"C: RCPT TO:<{mail_user.address}>")
    assert "S: 250 2.1.5 Ok   [250 2.1.5: destination address valid (success)]" in out[rcpt:]
    assert rcpt < out.index("ok   probe") and "C: RSET" in out
    assert "[235 2.7.0: other security or policy status (success)]" in out
    # Nothing was sent: the mailbox is still empty.
    assert not any((mail_user.stack.maildir(mail_user.name) / "new").glob("*"))


@pytest.mark.parametrize(("protocol", "security"), MODES)
def test_check_asks_capabilities_once_and_lists_them_once(
    tmp_path: Path, mail_user: MailUser, protocol: str, security: str
) -> None:
    # Issue 11: SMTP capabilities were listed twice (a summary, then every line again) and the
    # POP3 check sent CAPA three times; STARTTLS needs one question before and one after.
    wait_for_user(mail_user)
    smtp_security = "tls" if security == "tls" else "starttls"
    path = config_for(
        tmp_path, mail_user.stack, mail_user.name, protocol=protocol, security=security,
        smtp_security=smtp_security,
    )  # fmt: skip
    code, out, err = run("--config", str(path), "check", "--verbose")
    assert code == 0, out + err
    lines = out.splitlines()
    said = [line.strip() for line in lines if line.startswith("         C: ")]
    asked = sum(1 for c in said if c.upper().endswith((" CAPABILITY", "C: CAPA")))
    # Dovecot's IMAP greeting carries its capabilities; after STLS, POP3 asks again.
    expected = {("imap", "tls"): 0, ("imap", "starttls"): 1, ("pop3", "tls"): 1,
                ("pop3", "starttls"): 2}[(protocol, security)]  # fmt: skip
    assert asked == expected, said
    steps = [line for line in lines if not line.startswith("         C: ")]
    steps = [line for line in steps if not line.startswith("         S: ")]
    assert sum("AUTH PLAIN LOGIN" in line for line in steps) == 1, steps
    assert sum("SIZE 52428800" in line for line in steps) == 1, steps
    assert not any(line.strip() == "PIPELINING" for line in steps)


def test_check_verbose_shows_transcript_without_secrets(
    tmp_path: Path, mail_user: MailUser
) -> None:
    wait_for_user(mail_user)
    path = config_for(tmp_path, mail_user.stack, mail_user.name, security="starttls")
    code, out, _ = run("--config", str(path), "check", "--verbose")
    assert code == 0
    assert "C: STARTTLS" in out and "LOGIN" in out and "C: AUTH PLAIN ***" in out
    assert mail_user.password not in out
    import base64

    assert base64.b64encode(mail_user.password.encode()).decode()[:8] not in out


def test_check_fails_with_wrong_password(tmp_path: Path, mail_user: MailUser) -> None:
    path = config_for(
        tmp_path, mail_user.stack, mail_user.name,
        password_line='incoming.password_command = "echo wrong-password"',
    )  # fmt: skip
    code, out, err = run("--config", str(path), "check")
    clear_auth_penalty(mail_user.stack)
    assert code == 1
    assert "FAIL login" in out and "login refused" in out
    assert "2 of 2 servers failed" in err
    assert "wrong-password" not in out + err


def test_check_fault_servers_each_fail_with_one_clear_line(
    tmp_path: Path, mailstack: MailStack
) -> None:
    with (
        never_greets() as silent,
        starttls_not_offered("imap") as fake,
        wrong_host_proxy(mailstack.ports.imaps) as (other_host, other_port),
    ):
        path = tmp_path / "config.toml"
        path.write_text(f"""\
[accounts.silent]
email = "a@example.test"
incoming.host = "127.0.0.1"
incoming.port = {silent}
incoming.password = "x"
incoming.timeout = "1s"

[accounts.nostarttls]
email = "a@example.test"
incoming.host = "127.0.0.1"
incoming.port = {fake.port}
incoming.security = "starttls"
incoming.password = "x"

[accounts.mismatch]
email = "a@example.test"
incoming.host = "{other_host}"
incoming.port = {other_port}
incoming.password = "x"
incoming.ca_file = "{mailstack.ca_file}"
""")
        path.chmod(0o600)
        results = {n: run("--config", str(path), "check", "-a", n) for n in
                   ("silent", "nostarttls", "mismatch")}  # fmt: skip
    assert all(code == 1 for code, _, _ in results.values())
    assert "no answer within 1s" in results["silent"][1]
    assert (
        "does not offer STARTTLS; stopped before sending any credentials"
        in (results["nostarttls"][1])
    )
    assert "does not match host '127.0.0.2'" in results["mismatch"][1]
    assert "localhost, 127.0.0.1" in results["mismatch"][1]


def test_accounts_lists_servers_and_password_sources(tmp_path: Path, mailstack: MailStack) -> None:
    path = config_for(tmp_path, mailstack, "alice")
    code, out, _ = run("--config", str(path), "accounts")
    assert code == 0
    assert "acct (default): <alice@example.test>" in out
    assert f"incoming  IMAP  127.0.0.1:{mailstack.ports.imaps} tls" in out
    assert f"outgoing  SMTP  127.0.0.1:{mailstack.ports.smtp} starttls" in out
    assert "password: command (cat ...)" in out


def test_account_add_stores_password_in_keyring_and_writes_config(
    tmp_path: Path, mail_user: MailUser, memory_keyring: MemoryKeyring
) -> None:
    wait_for_user(mail_user)
    stack = mail_user.stack
    path = tmp_path / "cfg" / "config.toml"
    answers = "\n".join([
        mail_user.address,        # email (example.test: no preset)
        "work",                   # account name
        "Alice Liddell",          # display name
        mail_user.name,           # user name
        mail_user.password,       # password
        "imap",                   # protocol
        stack.host,               # incoming host
        str(stack.ports.imap),    # port
        "starttls",               # security
        stack.host,               # outgoing host
        str(stack.ports.smtps),   # outgoing port
        "tls",                    # outgoing security
        # the test finds the self-signed certificate: only now is the CA file asked for
        str(stack.ca_file),       # ca file (the outgoing server, same host, uses it too)
    ]) + "\n"  # fmt: skip
    code, out, err = run("--config", str(path), "account", "add", stdin=answers)
    assert code == 0, out + err
    assert "incoming 127.0.0.1" in out and ": ok" in out
    assert memory_keyring.get_password("tmail", "work/incoming") == mail_user.password
    text = path.read_text()
    assert mail_user.password not in text
    assert 'incoming.security = "starttls"' in text and "default = true" in text
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    # The account now works from the keyring alone.
    code, out, err = run("--config", str(path), "check")
    assert code == 0, out + err
    code, out, _ = run("--config", str(path), "accounts")
    assert "keyring (tmail work/incoming)" in out


def test_account_add_with_failed_test_writes_nothing(
    tmp_path: Path, mailstack: MailStack, memory_keyring: MemoryKeyring
) -> None:
    path = tmp_path / "config.toml"
    path.write_text("# mine\n")
    answers = "\n".join(["x@example.test", "x", "", "nobody", "wrong", "pop3", mailstack.host,
                         str(mailstack.ports.pop3s), "tls", mailstack.host,
                         str(mailstack.ports.smtps), "tls", str(mailstack.ca_file),
                         "quit"]) + "\n"  # fmt: skip
    code, out, _ = run("--config", str(path), "account", "add", stdin=answers)
    clear_auth_penalty(mailstack)
    assert code == 1
    assert "login refused" in out and "Nothing saved." in out
    assert path.read_text() == "# mine\n"
    assert memory_keyring.get_password("tmail", "x/incoming") is None


def test_keyring_unavailable_points_to_password_command(
    tmp_path: Path, mailstack: MailStack
) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        path = config_for(tmp_path, mailstack, "alice", password_line="")
        code, out, _ = run("--config", str(path), "check", "-a", "acct")
    finally:
        keyring.set_keyring(previous)
    assert code == 1
    assert "the system keyring is not available" in out
    assert "incoming.password_command" in out


def test_trust_pins_certificate_and_a_changed_one_is_refused(
    tmp_path: Path, mailstack: MailStack
) -> None:
    # No ca_file: the self-signed certificate is not trusted until pinned.
    path = config_for(tmp_path, mailstack, "alice")
    text = path.read_text().replace(f'incoming.ca_file = "{mailstack.ca_file}"\n', "")
    path.write_text(text)
    code, out, _ = run("--config", str(path), "check", "-a", "acct")
    assert code == 1 and "certificate not trusted" in out
    assert "tmail account trust acct --incoming" in out

    code, out, _ = run("--config", str(path), "account", "trust", "acct", stdin="n\n")
    assert code == 1 and "Nothing changed." in out
    assert not (tmp_path / "certs").exists()
    code, out, _ = run("--config", str(path), "account", "trust", "acct", stdin="y\n")
    assert code == 0, out
    assert "SHA-256" in out and "Pinned:" in out
    pinned = tmp_path / "certs" / "acct-incoming.pem"
    assert pinned.read_bytes().strip() == mailstack.ca_file.read_bytes().strip()
    code, out, _ = run("--config", str(path), "check", "-a", "acct")
    assert "pinned certificate" in out
    assert "FAIL" not in out.split("outgoing")[0]

    # Another certificate pinned: the server's real one is refused, both fingerprints shown.
    import subprocess

    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
         str(tmp_path / "k.pem"), "-out", str(pinned), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    code, out, _ = run("--config", str(path), "check", "-a", "acct")
    assert code == 1
    assert "certificate changed: pinned SHA-256" in out
    assert "server now presents SHA-256" in out
    code, out, _ = run("--config", str(path), "account", "trust", "acct", stdin="n\n")
    assert "WARNING: the pinned certificate is different" in out


def test_config_error_is_exit_2_naming_file_account_key(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[accounts.a]\nemail = "a@x.test"\nincoming.host = "h"\nincoming.port = 0\n')
    code, _, err = run("--config", str(path), "check")
    assert code == 2
    assert err.count("\n") == 1
    assert str(path) in err and "account 'a': incoming.port" in err and "1-65535" in err


def test_account_add_guesses_the_preset_from_the_domain(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    # pm.me -> Proton Mail Bridge on 127.0.0.1 (nothing listens there in tests: the connection
    # test fails at once, without touching the internet); saved anyway on request.
    path = tmp_path / "config.toml"
    answers = "\n".join(["me@pm.me", "", "", "", "bridge-pw", "y", "imap", "save"]) + "\n"
    code, out, _ = run("--config", str(path), "account", "add", stdin=answers)
    assert code == 1  # saved, but the test did not pass
    assert "This looks like Proton Mail" in out and "IMAP 127.0.0.1:1143 starttls" in out
    assert "connection refused" in out
    from tmail.config import load_config

    acc = load_config(path).account("pm")
    assert acc.provider == "proton-bridge"
    assert (acc.incoming.host, acc.incoming.port, acc.incoming.security) == (
        "127.0.0.1", 1143, "starttls",
    )  # fmt: skip
    assert acc.outgoing is not None and acc.outgoing.port == 1025
    assert memory_keyring.get_password("tmail", "pm/incoming") == "bridge-pw"


def test_account_add_will_not_put_a_password_in_a_plaintext_keyring_unasked(
    tmp_path: Path,
) -> None:
    plain = PlaintextKeyring()
    path = tmp_path / "config.toml"
    answers = "\n".join(["me@pm.me", "", "", "",
                         "",                  # store in the plaintext keyring? default: no
                         "pass show mail/pm",  # so: a password command
                         "y", "imap", "save"]) + "\n"  # fmt: skip
    with using_keyring(plain):
        code, out, _ = run("--config", str(path), "account", "add", stdin=answers)
    assert code == 1  # saved; the connection test fails (nothing listens on the Bridge port)
    assert "PlaintextKeyring, which keeps passwords unencrypted" in out
    assert plain.items == {}
    assert 'incoming.password_command = "pass show mail/pm"' in path.read_text()


def test_account_add_without_a_keyring_asks_for_a_password_command(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    answers = "\n".join(["me@pm.me", "", "", "", "pass show mail/pm", "y", "imap",
                         "save"]) + "\n"  # fmt: skip
    with using_keyring(keyring.backends.fail.Keyring()):
        code, out, _ = run("--config", str(path), "account", "add", stdin=answers)
    assert code == 1  # saved; the connection test fails (nothing listens on the Bridge port)
    assert "There is no system keyring here" in out and "Password (kept" not in out
    assert 'incoming.password_command = "pass show mail/pm"' in path.read_text()


def test_account_add_checks_each_answer_and_fixes_only_the_one_that_failed(
    tmp_path: Path, mail_user: MailUser, memory_keyring: MemoryKeyring
) -> None:
    # Issue 11 item 18: every answer is checked when given; the CA file is asked for only when
    # the server's certificate is not trusted; a failed test asks again only what failed.
    wait_for_user(mail_user)
    stack = mail_user.stack
    closed = __import__("tests.support.mailstack", fromlist=["free_ports"]).free_ports(1)[0]
    path = tmp_path / "config.toml"
    mine = '[accounts.home]\nemail = "me@home.test"\nincoming.host = "127.0.0.1"\n'
    path.write_text(mine)
    not_pem = tmp_path / "notes.txt"
    not_pem.write_text("not a certificate\n")
    answers = "\n".join([
        "alice at home",          # not an address
        mail_user.address,
        "home",                   # taken
        "my work!",               # not an account name
        "work",
        "Alice Liddell",
        mail_user.name,           # user name
        "wrong-password",         # password (the test will refuse it)
        "imap",
        "bad host",               # not a host name
        stack.host,
        "99999",                  # not a port
        str(closed),              # a port where nothing listens (the test will say so)
        "starttls",
        stack.host,               # outgoing
        str(stack.ports.smtps),
        "tls",
        # test: incoming refused -> the suggested answer to change is the incoming port
        "",                       # accept the suggestion
        str(stack.ports.imap),    # the port again, now right
        "",                       # security: keep starttls
        # test: certificate not trusted -> now the CA file is asked for
        "/nonexistent/ca.pem",    # no such file
        str(not_pem),             # not PEM
        str(stack.ca_file),
        # test: login refused -> the suggestion is the password
        "",
        mail_user.password,
    ]) + "\n"  # fmt: skip
    code, out, err = run("--config", str(path), "account", "add", stdin=answers)
    clear_auth_penalty(stack)
    assert code == 0, out + err
    for said in (
        "an address looks like name@example.org",
        "an account named 'home' exists already",
        "an account name is letters, digits",
        "'bad host' is not a host name",
        "a port is a number from 1 to 65535",
        f"connection refused on port {closed}: nothing listens there",
        "What to change? [incoming port]",
        "/nonexistent/ca.pem does not exist",
        "holds no PEM certificate",
        "login refused",
        "What to change? [password]",
        "Account 'work' added",
    ):
        assert said in out, said
    # The CA file is asked for only once the certificate was found untrusted.
    assert out.index("CA file") > out.index("certificate not trusted")
    assert out.count("Email address") == 2 and out.count("Outgoing (SMTP) server host") == 1
    # Everything typed was kept; only the answers changed were asked again.
    text = path.read_text()
    assert text.startswith(mine)
    assert 'name = "Alice Liddell"' in text and f'incoming.username = "{mail_user.name}"' in text
    assert f"incoming.port = {stack.ports.imap}\n" in text
    assert 'incoming.security = "starttls"' in text
    assert f'incoming.ca_file = "{stack.ca_file}"' in text
    assert f"outgoing.port = {stack.ports.smtps}\n" in text
    assert memory_keyring.get_password("tmail", "work/incoming") == mail_user.password
    code, out, err = run("--config", str(path), "check", "--account", "work")
    assert code == 0, out + err
