"""The pure parts of account discovery: autoconfig files, SRV answers, MX hosts, guesses,
addresses and the settings read from the environment (no sockets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tmail.config.autoconfig import AutoconfigError, parse_autoconfig
from tmail.config.discovery import (
    Endpoint,
    SrvRecord,
    discovery_settings,
    guess_candidate,
    outside_domain,
    provider_for_mx,
    split_address,
    srv_candidate,
)
from tmail.config.facts import account_facts, provider_facts, provider_table, refusal_advice
from tmail.config.presets import presets
from tmail.core.errors import ConfigError

XML = b"""<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="example.org">
    <domain>example.org</domain>
    <incomingServer type="imap">
      <hostname>imap.%EMAILDOMAIN%</hostname><port>993</port><socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.org</hostname><port>110</port><socketType>plain</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="exchange">
      <hostname>ews.example.org</hostname><port>443</port><socketType>SSL</socketType>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.org</hostname><port>587</port><socketType>STARTTLS</socketType>
      <authentication>password-cleartext</authentication>
    </outgoingServer>
    <documentation url="https://example.org/mail-help">
      <descr lang="en">Turn on IMAP first</descr>
    </documentation>
  </emailProvider>
</clientConfig>
"""


def test_an_autoconfig_file_gives_its_servers_with_the_placeholders_filled() -> None:
    c = parse_autoconfig(XML, "jo@example.org", "autoconfig", "https://x")
    assert c.incoming == (Endpoint("imap", "imap.example.org", 993, "tls"),)
    assert c.outgoing == (Endpoint("smtp", "smtp.example.org", 587, "starttls"),)
    assert c.username == "jo"
    assert c.auth == "password"
    assert c.notes == ("Turn on IMAP first https://example.org/mail-help",)


def test_an_autoconfig_plaintext_server_is_kept_apart_never_offered() -> None:
    c = parse_autoconfig(XML, "jo@example.org", "autoconfig", "https://x")
    assert c.plaintext == (Endpoint("pop3", "pop.example.org", 110, "none"),)
    assert all(e.security != "none" for e in c.incoming + c.outgoing)


def test_an_autoconfig_offering_only_oauth2_means_oauth2() -> None:
    xml = XML.replace(b"password-cleartext", b"OAuth2")
    assert parse_autoconfig(xml, "jo@example.org", "ispdb", "u").auth == "oauth2"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"<html><body>hi</body></html>", "not an autoconfig file"),
        (b"not xml at all <", "not XML"),
        (b"<clientConfig/>", "no emailProvider"),
        (
            b'<clientConfig><emailProvider id="x"><incomingServer type="exchange">'
            b"</incomingServer></emailProvider></clientConfig>",
            "names no IMAP, POP3 or SMTP server",
        ),
        (b"<clientConfig>" + b" " * (300 * 1024) + b"</clientConfig>", "larger than 256 KB"),
    ],
)
def test_an_unusable_autoconfig_file_says_why(data: bytes, words: str) -> None:
    with pytest.raises(AutoconfigError, match=words):
        parse_autoconfig(data, "jo@example.org", "autoconfig", "u")


def test_an_autoconfig_entity_bomb_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
        b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
        b'<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">'
        b'<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">'
        b'<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">'
        b'<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">'
        b'<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">'
        b"]><clientConfig>&lol9;</clientConfig>"
    )
    with pytest.raises(AutoconfigError, match="not XML"):
        parse_autoconfig(bomb, "jo@example.org", "autoconfig", "u")


def test_an_autoconfig_host_name_with_odd_characters_is_skipped() -> None:
    xml = XML.replace(b"smtp.example.org", b"smtp.example.org;rm -rf")
    c = parse_autoconfig(xml, "jo@example.org", "autoconfig", "u")
    assert c.outgoing == ()


def test_srv_answers_become_endpoints_tls_first_by_priority_and_weight() -> None:
    c = srv_candidate(
        "example.org",
        {
            "_imap._tcp": [SrvRecord(0, 1, 143, "imap.example.org.")],
            "_imaps._tcp": [
                SrvRecord(10, 1, 993, "b.example.org."),
                SrvRecord(0, 1, 993, "a.example.org."),
                SrvRecord(10, 5, 993, "c.example.org."),
            ],
            "_pop3._tcp": [SrvRecord(0, 0, 1, ".")],  # not offered
            "_submission._tcp": [SrvRecord(0, 1, 587, "smtp.example.org.")],
        },
    )
    assert c is not None
    assert [e.label for e in c.incoming] == [
        "a.example.org:993",
        "c.example.org:993",
        "b.example.org:993",
        "imap.example.org:143",
    ]
    assert c.incoming[-1].security == "starttls"  # _imap means STARTTLS, never plaintext
    assert c.outgoing == (Endpoint("smtp", "smtp.example.org", 587, "starttls"),)


def test_an_srv_target_that_is_not_a_host_name_is_never_used() -> None:
    c = srv_candidate(
        "x.org",
        {"_imaps._tcp": [SrvRecord(0, 1, 993, "evil\\027[2J.x.org."),
                         SrvRecord(1, 1, 993, "imap.x.org.")]},
    )  # fmt: skip
    assert c is not None and [e.host for e in c.incoming] == ["imap.x.org"]


def test_srv_records_that_only_say_not_offered_are_no_answer() -> None:
    assert srv_candidate("x.org", {"_imaps._tcp": [SrvRecord(0, 0, 0, ".")]}) is None


@pytest.mark.parametrize(
    ("mx", "provider"),
    [
        (["aspmx.l.google.com"], "gmail"),
        (["mx.yandex.net"], "yandex"),
        (["emx.mail.ru"], "mailru"),
        (["mx.rambler.ru"], "rambler"),
        (["example-org.mail.protection.outlook.com"], "microsoft365"),
        (["mx01.mail.icloud.com"], "icloud"),
        (["mx1.mail.ovh.net"], "ovh"),
        (["mail.notgoogle.com"], None),
        (["mx.example.org", "alt1.aspmx.l.google.com"], "gmail"),
        ([], None),
    ],
)
def test_an_mx_host_names_its_provider(mx: list[str], provider: str | None) -> None:
    assert provider_for_mx(mx, provider_table().mx_suffixes()) == provider


def test_every_provider_fact_belongs_to_a_preset() -> None:
    assert set(provider_facts()) <= set(presets())


def test_the_guesses_are_the_usual_names_tls_first() -> None:
    c = guess_candidate("example.org")
    assert c.incoming[0] == Endpoint("imap", "imap.example.org", 993, "tls")
    assert c.incoming[1] == Endpoint("imap", "imap.example.org", 143, "starttls")
    assert Endpoint("smtp", "smtp.example.org", 465, "tls") in c.outgoing
    assert all(e.security != "none" for e in c.incoming + c.outgoing)


@pytest.mark.parametrize(
    ("address", "domain"),
    [("a@Example.ORG", "example.org"), ("a@b@пример.рф", "xn--e1afmkfd.xn--p1ai")],
)
def test_an_address_gives_its_domain_ready_for_dns(address: str, domain: str) -> None:
    assert split_address(address)[1] == domain


@pytest.mark.parametrize("address", ["nobody", "a@", "@x.org", "a@x", "a@x..org", "a@x/y.org"])
def test_something_that_is_not_an_address_is_refused(address: str) -> None:
    with pytest.raises(ConfigError, match="not"):
        split_address(address)


def test_a_host_outside_the_domain_is_noticed() -> None:
    assert not outside_domain("imap.example.org", "example.org")
    assert not outside_domain("example.org.", "example.org")
    assert outside_domain("imap.example.org.evil.test", "example.org")
    assert outside_domain("badexample.org", "example.org")


def test_discovery_settings_come_from_the_environment(tmp_path: Path) -> None:
    s = discovery_settings(
        {
            "TMAIL_DNS_SERVER": "127.0.0.1:15353, 10.0.0.1",
            "TMAIL_DISCOVERY_CONNECT_TO": "autoconfig.x.org:443:127.0.0.1:8443",
            "TMAIL_PROVIDERS": str(tmp_path / "p.toml"),
        },
        deadline=5,
    )
    assert s.nameservers == (("127.0.0.1", 15353), ("10.0.0.1", 53))
    assert s.connect_to == {("autoconfig.x.org", 443): ("127.0.0.1", 8443)}
    assert s.providers_file == tmp_path / "p.toml"
    assert s.deadline == 5


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("TMAIL_DNS_SERVER", "127.0.0.1:99999"),
        ("TMAIL_DISCOVERY_CONNECT_TO", "a.org:443:b.org"),
        ("TMAIL_DISCOVERY_CONNECT_TO", "a.org:https:b.org:443"),
    ],
)
def test_a_bad_discovery_setting_is_one_clear_error(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=key):
        discovery_settings({key: value})


def test_a_providers_file_adds_to_the_table_and_wins(tmp_path: Path) -> None:
    f = tmp_path / "p.toml"
    f.write_text(
        '[corp]\ntitle = "Corp"\ndomains = ["corp.example"]\n'
        'imap = { host = "imap.corp.example", port = 993, security = "tls" }\n'
        'smtp = { host = "smtp.corp.example", port = 465, security = "tls" }\n'
        'mx = ["mx.corp.example"]\nswitches = ["ask IT"]\n'
    )
    t = provider_table(f)
    assert t.presets["corp"].imap is not None and "gmail" in t.presets
    assert t.mx_suffixes()["corp"] == ("mx.corp.example",)
    assert t.facts["corp"].switches == ("ask IT",)
    f.write_text('[corp]\ntitle = "Corp"\nimap = { host = "x" }\n')
    with pytest.raises(ConfigError, match="incomplete"):
        provider_table(f)


@pytest.mark.parametrize(
    ("provider", "refusal", "first_words"),
    [
        ("yandex", "[AUTHENTICATIONFAILED] This user does not have access rights to this service",
         "Yandex: turn on \"allow access to the mailbox using mail clients\""),
        ("mailru", "535 5.7.0 NEOBHODIM parol prilozheniya / Application password is REQUIRED",
         "Mail.ru: create a password for external applications"),
        ("gmail", "[ALERT] Application-specific password required",
         "Gmail: sign in with OAuth2"),
        ("rambler", "NO [AUTHENTICATIONFAILED] Authentication failed.",
         "Rambler: turn on access by mail clients"),
    ],
)  # fmt: skip
def test_a_providers_typical_refusal_brings_its_switches(
    provider: str, refusal: str, first_words: str
) -> None:
    advice = refusal_advice(account_facts(provider), refusal)
    assert advice and advice[0].startswith(first_words)


def test_a_refusal_unlike_the_providers_or_an_unknown_provider_brings_nothing() -> None:
    assert refusal_advice(account_facts("gmail"), "NO mailbox is full") == ()
    assert refusal_advice(account_facts(None), "Authentication failed") == ()
    assert refusal_advice(account_facts("nosuch"), "Authentication failed") == ()


def test_send_limits_are_the_published_ones_or_unknown() -> None:
    facts = provider_facts()
    assert facts["yandex"].limits == (
        "500 messages a day (each recipient counts), at most 35 recipients per message"
    )
    assert facts["yandex"].per_message == 35
    for name in ("mailru", "rambler"):
        assert facts[name].limits.startswith("unknown"), name
        assert presets()[name].limits.per_day is None, name  # no number invented


def test_the_most_recipients_of_one_message_is_a_limit_an_account_can_set(tmp_path: Path) -> None:
    from tmail.config import load_config

    assert presets()["yandex"].limits.per_message == 35
    assert presets()["yandex"].limits.count_recipients  # "each recipient counts"
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[accounts.y]\nemail = "a@yandex.ru"\nprovider = "yandex"\n'
        'incoming.password_command = "echo x"\n'
    )
    acc = load_config(cfg, environ={}).account("y")
    assert acc.limits.per_message == 35 and acc.limits.per_day == 500
    assert acc.split_recipients is False
    cfg.write_text(
        cfg.read_text()
        + "split_recipients = true\nlimits = { per_message = 10, count_recipients = false }\n"
    )
    acc = load_config(cfg, environ={}).account("y")
    assert acc.limits.per_message == 10 and acc.limits.per_day == 500 and acc.split_recipients
    assert not acc.limits.count_recipients
