"""``tmail account discover`` against real parts: dnsmasq serving MX and SRV records for test
domains, an HTTPS server on loopback serving autoconfig files (certificate from a CA made for
the session), and the real Dovecot and Postfix of the mail stack as the probed servers.

tmail is pointed at them through its documented settings: ``TMAIL_DNS_SERVER`` (the DNS server
to ask), ``TMAIL_DISCOVERY_CONNECT_TO`` (where the autoconfig hosts' port 443 really is; the
certificate is still checked against their names) and ``TMAIL_PROVIDERS`` (a provider table
added to the built-in one: the only way to have "a known provider's MX" lead to a server here).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import MailUser
from tests.integration.test_account_cli import wait_for_user
from tests.support.discoverynet import (
    DnsServer,
    HttpsServer,
    LaggingDns,
    Route,
    TestCA,
    autoconfig_xml,
    connect_to,
    dnsmasq_missing,
)
from tests.support.faultservers import starttls_not_offered
from tests.support.keyrings import MemoryKeyring, using_keyring
from tests.support.mailstack import MailStack, free_ports
from tests.support.penalty import clear_auth_penalty
from tmail.cli import main

pytestmark = pytest.mark.stack

AC_PATH = "/mail/config-v1.1.xml"
WK_PATH = "/.well-known/autoconfig/mail/config-v1.1.xml"
HTTPS_NAMES = [
    "autoconfig.autoconf.test",
    "wellknown.test",
    "autoconfig.thunderbird.net",
    "autoconfig.redirect.test",
    "redirect.test",
    "evil.test",
    "autoconfig.plain.test",
    "autoconfig.hop.test",
    "config.hop.test",
]


@dataclass
class Net:
    stack: MailStack
    dns: DnsServer
    https: HttpsServer
    ca_bundle: Path
    providers: Path
    closed_port: int
    recorder_port: int
    recorder_lines: list[bytes]

    def env(self) -> dict[str, str]:
        return {
            "TMAIL_DNS_SERVER": self.dns.address,
            "TMAIL_DISCOVERY_CONNECT_TO": connect_to(HTTPS_NAMES, self.https.port),
            "TMAIL_PROVIDERS": str(self.providers),
        }


def _routes(stack: MailStack) -> dict[tuple[str, str], Route]:
    p = stack.ports
    smtp_starttls = {"type": "smtp", "hostname": "localhost", "port": p.smtp,
                     "socketType": "STARTTLS"}  # fmt: skip
    smtp_tls = {"type": "smtp", "hostname": "localhost", "port": p.smtps, "socketType": "SSL"}
    imaps = {"type": "imap", "hostname": "localhost", "port": p.imaps, "socketType": "SSL"}
    return {
        ("autoconfig.autoconf.test", AC_PATH): Route(
            body=autoconfig_xml(
                "autoconf.test",
                [imaps],
                [smtp_starttls],
                documentation="Autoconf Test: turn on IMAP in the web mail first",
            )
        ),
        ("wellknown.test", WK_PATH): Route(
            body=autoconfig_xml(
                "wellknown.test",
                [{"type": "pop3", "hostname": "localhost", "port": p.pop3s, "socketType": "SSL"}],
                [smtp_tls],
            )
        ),
        ("autoconfig.thunderbird.net", "/v1.1/ispdb.test"): Route(
            body=autoconfig_xml(
                "ispdb.test",
                [
                    {
                        "type": "imap",
                        "hostname": "localhost",
                        "port": p.imap,
                        "socketType": "STARTTLS",
                    }
                ],
                [smtp_tls],
            )
        ),
        ("autoconfig.redirect.test", AC_PATH): Route(
            status=302, location="https://evil.test/config.xml"
        ),
        ("redirect.test", WK_PATH): Route(status=301, location="http://redirect.test/plain.xml"),
        # What the redirect leads to would work: following it would be found out.
        ("evil.test", "/config.xml"): Route(
            body=autoconfig_xml("evil.test", [imaps], [smtp_starttls])
        ),
        # hop.test: a redirect within the domain, over HTTPS, is followed.
        ("autoconfig.hop.test", AC_PATH): Route(
            status=302, location="https://config.hop.test/mail/hop.xml"
        ),
        ("config.hop.test", "/mail/hop.xml"): Route(
            body=autoconfig_xml("hop.test", [imaps], [smtp_starttls])
        ),
        ("autoconfig.plain.test", AC_PATH): Route(
            body=autoconfig_xml(
                "plain.test",
                [{"type": "imap", "hostname": "localhost", "port": p.imap, "socketType": "plain"}],
                [{"type": "smtp", "hostname": "localhost", "port": p.smtp, "socketType": "plain"}],
            )
        ),
    }


def _dns_lines(stack: MailStack, closed: int, recorder: int) -> list[str]:
    p = stack.ports
    lines = [
        f"local=/{d}/"
        for d in ("srvonly.test", "mxonly.test", "autoconf.test", "wellknown.test", "ispdb.test",
                  "redirect.test", "plain.test", "liar.test", "empty.test", "presetonly.test",
                  "otherMX.test", "nologin.test", "hop.test")
    ]  # fmt: skip
    lines += [
        # srvonly.test: only SRV records (implicit TLS IMAP, STARTTLS submission; no POP3).
        f"srv-host=_imaps._tcp.srvonly.test,localhost,{p.imaps},0,1",
        f"srv-host=_submission._tcp.srvonly.test,localhost,{p.smtp},0,1",
        "srv-host=_pop3._tcp.srvonly.test",
        # mxonly.test: only MX records, at the (test) provider's hosts; returned 20 before 10.
        "mx-host=mxonly.test,mx2.testprovider.example,20",
        "mx-host=mxonly.test,mx1.testprovider.example,10",
        "mx-host=othermx.test,mx.nobody-knows.example,10",
        # liar.test: the best IMAPS record names a closed port, the next one the STARTTLS port
        # (no TLS from the first byte there); the honest _imap record comes after them.
        f"srv-host=_imaps._tcp.liar.test,localhost,{closed},0,1",
        f"srv-host=_imaps._tcp.liar.test,localhost,{p.imap},5,1",
        f"srv-host=_imap._tcp.liar.test,localhost,{p.imap},0,1",
        f"srv-host=_submission._tcp.liar.test,localhost,{p.smtp},0,1",
        # nologin.test: an IMAP server without STARTTLS where STARTTLS is announced.
        f"srv-host=_imap._tcp.nologin.test,localhost,{recorder},0,1",
    ]
    return lines


@pytest.fixture(scope="module")
def net(mailstack: MailStack) -> Iterator[Net]:
    why = dnsmasq_missing()
    if why:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"dnsmasq is required in CI: {why}", pytrace=False)
        pytest.skip(why)
    root = Path(tempfile.mkdtemp(prefix="tmail-discover-"))
    closed = free_ports(1)[0]
    with contextlib.ExitStack() as stack:
        recorder = stack.enter_context(starttls_not_offered("imap"))
        # lag.test: a DNS server that answers each question 0.7 s late (the limit is 2 s).
        lag = LaggingDns(
            {
                "_imaps._tcp.lag.test": ("localhost", mailstack.ports.imaps),
                "_submission._tcp.lag.test": ("localhost", mailstack.ports.smtp),
            },
            delay=0.7,
        ).start()
        stack.callback(lag.stop)
        dns = DnsServer(
            root / "dns",
            _dns_lines(mailstack, closed, recorder.port),
            silent_domains=["slow.test"],
            forward={"lag.test": lag.port},
        ).start()
        stack.callback(dns.stop)
        ca = TestCA(root / "ca")
        cert, key = ca.issue(HTTPS_NAMES, "https")
        https = HttpsServer(cert, key, routes=_routes(mailstack)).start()
        stack.callback(https.stop)
        bundle = root / "ca-bundle.pem"
        bundle.write_text(ca.pem.read_text() + mailstack.ca_file.read_text())
        p = mailstack.ports
        providers = root / "providers.toml"
        providers.write_text(f"""\
[testprovider]
title = "Test Provider"
domains = []
imap = {{ host = "localhost", port = {p.imaps}, security = "tls" }}
smtp = {{ host = "localhost", port = {p.smtp}, security = "starttls" }}
mx = ["testprovider.example"]
switches = ["Test Provider: turn on access by mail clients in the settings"]
refusals = ["authentication failed"]
send_limits = "unknown (Test Provider publishes none)"

[presetprovider]
title = "Preset Provider"
domains = ["presetonly.test"]
imap = {{ host = "localhost", port = {p.imaps}, security = "tls" }}
smtp = {{ host = "localhost", port = {p.smtps}, security = "tls" }}
""")
        yield Net(mailstack, dns, https, bundle, providers, closed, recorder.port, recorder.lines)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def env(net: Net, monkeypatch: pytest.MonkeyPatch) -> Net:
    for key, value in net.env().items():
        monkeypatch.setenv(key, value)
    return net


def discover(net: Net, address: str, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["account", "discover", address, "--ca-file", str(net.ca_bundle), *extra],
        stdout=out,
        stderr=err,
    )
    return code, out.getvalue(), err.getvalue()


def discover_json(net: Net, address: str, *extra: str) -> tuple[int, object, str]:
    code, out, err = discover(net, address, "--json", *extra)
    return code, json.loads(out), err


# ------------------------------------------------------------------------- each source alone
def test_a_domain_with_only_srv_records_is_found_by_srv(env: Net) -> None:
    p = env.stack.ports
    code, answer, err = discover_json(env, "someone@srvonly.test")
    assert code == 0, err
    assert answer == {
        "source": "srv",
        "incoming": {"protocol": "imap", "host": "localhost", "port": p.imaps, "security": "tls"},
        "outgoing": {
            "protocol": "smtp",
            "host": "localhost",
            "port": p.smtp,
            "security": "starttls",
        },
        "auth": "password",
        "notes": [
            "the server localhost is outside srvonly.test: check that you expect your mail "
            "there before you give the password"
        ],
    }
    # Every earlier source was asked and said no, in order, before SRV answered.
    lines = err.splitlines()
    order = [next(i for i, s in enumerate(lines) if f"  {src}:" in s)
             for src in ("preset", "autoconfig", "ispdb", "mx", "srv")]  # fmt: skip
    assert order == sorted(order)
    assert "mx: srvonly.test has no MX records" in err
    assert "srv: found _imaps._tcp, _submission._tcp" in err


def test_plain_output_says_where_the_answer_came_from_and_what_the_probe_saw(env: Net) -> None:
    p = env.stack.ports
    code, out, _ = discover(env, "someone@srvonly.test")
    assert code == 0
    # the test stack's Dovecot also offers the OAuth2 mechanisms (its oauth2 passdb)
    assert out.splitlines()[:4] == [
        "Found by the domain's SRV records (RFC 6186) "
        "(_imaps._tcp.srvonly.test and the other SRV names), checked live:",
        f"  incoming  IMAP localhost:{p.imaps} TLS: TLSv1.3, certificate verified; "
        "login offered (PLAIN LOGIN XOAUTH2 OAUTHBEARER)",
        f"  outgoing  SMTP localhost:{p.smtp} STARTTLS: TLSv1.3, certificate verified; "
        "login offered (PLAIN LOGIN XOAUTH2 OAUTHBEARER)",
        "  login     password, user name someone@srvonly.test",
    ]


def test_a_domain_with_only_an_autoconfig_file_is_found_by_it(env: Net) -> None:
    p = env.stack.ports
    code, answer, err = discover_json(env, "some.one@autoconf.test")
    assert code == 0, err
    assert isinstance(answer, dict)
    assert answer["source"] == "autoconfig"
    assert answer["incoming"] == {"protocol": "imap", "host": "localhost", "port": p.imaps,
                                  "security": "tls"}  # fmt: skip
    assert answer["outgoing"]["port"] == p.smtp and answer["outgoing"]["security"] == "starttls"
    assert any("turn on IMAP in the web mail first" in n for n in answer["notes"])
    # The request carried the address, as the Thunderbird format asks.
    assert ("autoconfig.autoconf.test", f"{AC_PATH}?emailaddress=some.one%40autoconf.test") in (
        env.https.requests
    )


def test_the_well_known_autoconfig_path_is_tried_second(env: Net) -> None:
    p = env.stack.ports
    code, answer, err = discover_json(env, "a@wellknown.test")
    assert code == 0, err
    assert isinstance(answer, dict)
    assert answer["source"] == "autoconfig"
    assert answer["incoming"]["protocol"] == "pop3" and answer["incoming"]["port"] == p.pop3s
    assert answer["outgoing"]["port"] == p.smtps
    assert "autoconfig: https://autoconfig.wellknown.test/mail/config-v1.1.xml: no such host" in err


def test_the_ispdb_answers_for_a_domain_it_knows(env: Net) -> None:
    p = env.stack.ports
    code, answer, err = discover_json(env, "a@ispdb.test")
    assert code == 0, err
    assert isinstance(answer, dict)
    assert answer["source"] == "ispdb"
    assert answer["incoming"] == {"protocol": "imap", "host": "localhost", "port": p.imap,
                                  "security": "starttls"}  # fmt: skip


def test_an_mx_at_a_known_provider_means_that_providers_settings(env: Net) -> None:
    p = env.stack.ports
    code, answer, err = discover_json(env, "boss@mxonly.test")
    assert code == 0, err
    assert isinstance(answer, dict)
    assert answer["source"] == "mx"
    assert answer["incoming"]["port"] == p.imaps
    assert "Test Provider: turn on access by mail clients in the settings" in answer["notes"]
    assert "sending limits: unknown (Test Provider publishes none)" in answer["notes"]
    # The most preferred MX (10) was the one looked at, though the server listed 20 first.
    assert "mx: mx1.testprovider.example is Test Provider's" in err
    log = (env.dns.root / "dnsmasq.log").read_text()
    assert "query[MX] mxonly.test" in log


def test_an_mx_nobody_knows_is_not_a_provider(env: Net) -> None:
    code, answer, err = discover_json(env, "a@othermx.test", "--timeout", "8")
    assert code == 1 and answer is None
    assert "mx: mx.nobody-knows.example is not a known provider's" in err


def test_a_domain_in_the_provider_table_is_found_by_the_preset(env: Net) -> None:
    code, answer, err = discover_json(env, "a@presetonly.test")
    assert code == 0, err
    assert isinstance(answer, dict)
    assert answer["source"] == "preset"
    assert "preset: presetonly.test is Preset Provider" in err
    assert not any(s.startswith("  autoconfig") for s in err.splitlines())


def test_a_domain_with_nothing_at_all_says_so_after_every_source(env: Net) -> None:
    code, out, err = discover(env, "a@empty.test")
    assert code == 1
    assert out == (
        "No working settings found for a@empty.test: set the servers by hand "
        "(tmail account add, or config.toml).\n"
    )
    for line in (
        "preset: empty.test is not in tmail's provider table",
        "autoconfig: https://autoconfig.empty.test/mail/config-v1.1.xml: no such host",
        "ispdb: https://autoconfig.thunderbird.net/v1.1/empty.test: HTTP 404 Not Found",
        "mx: empty.test has no MX records",
        "srv: empty.test has no mail SRV records",
        "guess: IMAP imap.empty.test:993 TLS: no such host",
        "nothing found for empty.test",
    ):
        assert f"  {line}\n" in err, line


# ------------------------------------------------------------------------------ sources that lie
def test_srv_records_naming_a_wrong_port_are_probed_and_passed_over(env: Net) -> None:
    p = env.stack.ports
    code, answer, err = discover_json(env, "a@liar.test")
    assert code == 0, err
    assert isinstance(answer, dict)
    assert answer["incoming"] == {"protocol": "imap", "host": "localhost", "port": p.imap,
                                  "security": "starttls"}  # fmt: skip
    lines = [s.strip() for s in err.splitlines()]
    refused = next(s for s in lines if s.startswith(f"srv: IMAP localhost:{env.closed_port} TLS:"))
    assert "connection refused" in refused
    no_tls = next(s for s in lines if s.startswith(f"srv: IMAP localhost:{p.imap} TLS:"))
    assert "TLS handshake failed" in no_tls


def test_an_autoconfig_offering_only_plaintext_is_refused(env: Net) -> None:
    p = env.stack.ports
    code, answer, err = discover_json(env, "a@plain.test", "--timeout", "10")
    assert code == 1 and answer is None
    assert f"autoconfig: IMAP localhost:{p.imap} is offered without encryption: refused" in err
    assert f"autoconfig: SMTP localhost:{p.smtp} is offered without encryption: refused" in err
    assert "autoconfig: only unencrypted servers offered: refused" in err
    # Never probed: the plain port was not even connected to.
    assert f"localhost:{p.imap} TLS" not in err and "STARTTLS: ok" not in err


def test_a_probe_never_sends_credentials(env: Net) -> None:
    code, answer, err = discover_json(env, "a@nologin.test", "--timeout", "10")
    assert code == 1 and answer is None
    assert "the server does not offer STARTTLS" in err
    sent = b"".join(env.recorder_lines).upper()
    assert sent, "the probe did reach the server"
    assert b"LOGIN" not in sent and b"AUTHENTICATE" not in sent


def test_an_autoconfig_redirect_to_another_domain_is_shown_not_followed(env: Net) -> None:
    code, answer, err = discover_json(env, "a@redirect.test", "--timeout", "10")
    assert code == 1 and answer is None
    assert (
        "autoconfig: https://autoconfig.redirect.test/mail/config-v1.1.xml: redirects to "
        "https://evil.test/config.xml, another domain than redirect.test: not followed"
    ) in err
    assert (
        "autoconfig: https://redirect.test/.well-known/autoconfig/mail/config-v1.1.xml: "
        "redirects to http://redirect.test/plain.xml, not HTTPS: refused"
    ) in err
    assert not any(host == "evil.test" for host, _ in env.https.requests)


def test_an_autoconfig_redirect_within_the_domain_over_https_is_followed(env: Net) -> None:
    code, answer, err = discover_json(env, "a@hop.test")
    assert code == 0, err
    assert isinstance(answer, dict) and answer["source"] == "autoconfig"
    assert ("config.hop.test", "/mail/hop.xml") in env.https.requests


def test_autoconfig_from_an_untrusted_certificate_is_not_used(env: Net) -> None:
    # Without --ca-file the test CA is not trusted: the file is not read at all.
    out, err = io.StringIO(), io.StringIO()
    code = main(["account", "discover", "a@autoconf.test", "--timeout", "8"], out, err)
    assert code == 1
    assert (
        "autoconfig: https://autoconfig.autoconf.test/mail/config-v1.1.xml: "
        "certificate not trusted (unable to get local issuer certificate)"
    ) in err.getvalue()


# ---------------------------------------------------------------------------------- slow DNS
def test_a_dns_server_that_does_not_answer_costs_one_time_out(env: Net) -> None:
    code, answer, err = discover_json(env, "a@slow.test", "--timeout", "20")
    assert code == 1 and answer is None
    assert f"mx: no answer from {env.dns.address} within 2.0s (MX slow.test)" in err
    assert "srv: skipped (the DNS server did not answer)" in err


def test_a_dns_server_that_answers_late_still_gives_the_answer(env: Net) -> None:
    p = env.stack.ports
    code, answer, err = discover_json(env, "a@lag.test")
    assert code == 0, err
    assert isinstance(answer, dict) and answer["source"] == "srv"
    assert answer["incoming"]["port"] == p.imaps and answer["outgoing"]["port"] == p.smtp


def test_the_whole_search_stops_at_its_deadline(env: Net) -> None:
    code, answer, err = discover_json(env, "a@slow.test", "--timeout", "1")
    assert code == 1 and answer is None
    assert "gave up after 1s (the overall time limit; raise it with --timeout)" in err
    assert "guess:" not in err


# ------------------------------------------------------------------ account add, from the address
@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    with using_keyring(MemoryKeyring()) as kr:
        assert isinstance(kr, MemoryKeyring)
        yield kr


def add_account(net: Net, config: Path, answers: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old, sys.stdin = sys.stdin, io.StringIO("\n".join(answers) + "\n")
    try:
        code = main(
            ["--config", str(config), "account", "add", "--ca-file", str(net.ca_bundle)],
            stdout=out,
            stderr=err,
        )
    finally:
        sys.stdin = old
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("domain", "source"),
    [("srvonly.test", "SRV records"), ("autoconf.test", "autoconfig file"),
     ("mxonly.test", "MX records")],
)  # fmt: skip
def test_account_add_reaches_a_working_account_from_the_address_alone(
    env: Net,
    mail_user: MailUser,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
    domain: str,
    source: str,
) -> None:
    wait_for_user(mail_user)
    address = f"{mail_user.name}@{domain}"
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\ndata_dir = "{tmp_path / "data"}"\n')
    # Typed: the address, the confirmation, the password; Enter takes every offered default.
    code, out, err = add_account(env, config, [address, "y", "", "", "", mail_user.password])
    assert code == 0, out + err
    # The servers were shown, with where they came from, before the password was asked.
    shown = out.index("Found by ")
    assert source in out[shown:].splitlines()[0]
    assert shown < out.index("Use these settings?") < out.index("Password (kept")
    assert "Testing the connection..." in out
    name = domain.split(".")[0]
    assert f"Account {name!r} added" in out
    assert memory_keyring.get_password("tmail", f"{name}/incoming") == mail_user.password
    # The live check passes from the config file and the keyring alone.
    out2, err2 = io.StringIO(), io.StringIO()
    assert main(["--config", str(config), "check"], stdout=out2, stderr=err2) == 0, (
        out2.getvalue() + err2.getvalue()
    )
    text = config.read_text()
    assert mail_user.password not in text
    assert 'incoming.host = "localhost"' in text
    assert f'incoming.ca_file = "{env.ca_bundle}"' in text


def test_account_add_shows_what_was_found_and_a_no_leads_to_the_questions(
    env: Net, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    # The input ends at the first question of manual entry: nothing is saved.
    code, out, err = add_account(env, config, ["x@srvonly.test", "n", "", "", "", "pw"])
    assert code == 2 and "nothing was saved" in err
    assert "Found by the domain's SRV records" in out
    assert "Incoming protocol (imap|pop3)" in out  # the questions of manual entry
    assert not config.exists()


def test_account_add_with_nothing_found_asks_for_the_servers(
    env: Net, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    code, out, err = add_account(env, config, ["x@empty.test", "", "", "", "pw"])
    assert code == 2 and "nothing was saved" in err
    assert "No working settings found: enter the servers yourself." in out
    assert "Incoming protocol (imap|pop3)" in out
    assert "Use these settings?" not in out


# ------------------------------------------------------------------------ provider facts, refusals
def test_a_login_refused_the_providers_way_shows_its_switches_in_account_add(
    env: Net, mail_user: MailUser, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    wait_for_user(mail_user)
    config = tmp_path / "config.toml"
    address = f"{mail_user.name}@mxonly.test"
    code, out, _ = add_account(env, config, [address, "y", "", "", "", "wrong", "quit"])
    clear_auth_penalty(env.stack)
    assert code == 1 and "Nothing saved." in out
    refused = out.index("login refused")
    assert out.index("note: Test Provider: turn on access by mail clients", refused) > refused
    assert not config.exists()


@pytest.mark.parametrize("command", ["check", "sync"])
def test_a_refused_login_shows_the_providers_switches_after_its_typical_refusal(
    env: Net, mail_user: MailUser, tmp_path: Path, command: str
) -> None:
    # A Yandex account whose servers are set to the test stack: Dovecot's refusal
    # ("Authentication failed") is one of Yandex's typical ones.
    wait_for_user(mail_user)
    p = env.stack.ports
    config = tmp_path / "config.toml"
    config.write_text(f"""\
[general]
data_dir = "{tmp_path / "data"}"

[accounts.ya]
email = "{mail_user.name}@yandex.ru"
provider = "yandex"
incoming.protocol = "imap"
incoming.host = "localhost"
incoming.port = {p.imaps}
incoming.security = "tls"
incoming.username = "{mail_user.name}"
incoming.password_env = "TMAIL_TEST_WRONG_PASSWORD"
incoming.ca_file = "{env.stack.ca_file}"
outgoing.host = "localhost"
outgoing.port = {p.smtps}
outgoing.security = "tls"
""")
    os.environ["TMAIL_TEST_WRONG_PASSWORD"] = "wrong"
    try:
        out, err = io.StringIO(), io.StringIO()
        code = main(["--config", str(config), command, "-a", "ya"], stdout=out, stderr=err)
    finally:
        del os.environ["TMAIL_TEST_WRONG_PASSWORD"]
        clear_auth_penalty(env.stack)
    assert code == 1
    if command == "check":
        text, lead = out.getvalue(), "    note: "
        assert "FAIL login" in text
    else:
        text, lead = err.getvalue(), "tmail: note: "
        assert "login refused" in text
    assert (
        f'{lead}Yandex: turn on "allow access to the mailbox using mail clients" '
        "(Mail settings > Mail clients)\n"
    ) in text
    assert f"{lead}Yandex: create an app password" in text


def test_account_add_with_a_providers_domain_shows_its_switches_and_limits(
    memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    # No search (--no-discover: the real Yandex is not for tests); the provider table's facts.
    # The answers: address, account name, your name, user name, "no" to OAuth2, the password.
    out, err = io.StringIO(), io.StringIO()
    answers = ["ivan@yandex.ru", "", "", "", "n", "pw"]
    old, sys.stdin = sys.stdin, io.StringIO("\n".join(answers) + "\n")
    try:
        main(["--config", str(tmp_path / "c.toml"), "account", "add", "--no-discover"], out, err)
    finally:
        sys.stdin = old
    text = out.getvalue()
    assert "This looks like Yandex Mail" in text
    assert '  note: Yandex: turn on "allow access to the mailbox using mail clients"' in text
    assert "  note: Yandex: create an app password (Yandex ID > Security > App passwords)" in text
    assert (
        "  note: sending limits: 500 messages a day (each recipient counts), at most 35 "
        "recipients per message"
    ) in text
    assert "Looking for the servers" not in text
