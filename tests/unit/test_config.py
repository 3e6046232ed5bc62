"""The config loader: presets, defaults, paths, and one clear error per mistake."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tmail.config import guess_preset, load_config, presets
from tmail.config.facts import provider_facts
from tmail.config.secrets import get_secret, password_source
from tmail.core.errors import ConfigError, SecretError

BASE = """
[general]
poll_interval = "2m"

[accounts.home]
email = "alice@example.test"
name = "Alice Liddell"
incoming.host = "imap.example.test"
incoming.username = "alice"
outgoing.host = "smtp.example.test"
"""


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    os.chmod(path, mode)
    return path


def load(tmp_path: Path, text: str, **env: str) -> object:
    return load_config(write(tmp_path, text), environ=env)


def test_minimal_account_gets_usual_ports_and_tls(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, BASE), environ={})
    acc = cfg.account()
    assert acc.name == "home" and acc.display_name == "Alice Liddell"
    assert (acc.incoming.protocol, acc.incoming.port, acc.incoming.security) == ("imap", 993, "tls")
    assert acc.outgoing is not None
    assert (acc.outgoing.protocol, acc.outgoing.port, acc.outgoing.security) == ("smtp", 465, "tls")
    assert acc.incoming.username == "alice"
    assert acc.outgoing.username == "alice"  # default: the incoming server's login
    assert acc.poll_interval == 120.0 and cfg.poll_interval == 120.0
    assert acc.incoming.timeout == 30.0


def test_fetch_limits_and_preview_mode(tmp_path: Path) -> None:
    text = BASE + 'max_size = "500k"\nmax_age = "30d"\nheaders_only = true\n'
    acc = load_config(write(tmp_path, text), environ={}).account("home")
    assert (acc.max_size, acc.max_age, acc.headers_only) == (500 * 1024, 30 * 86400.0, True)
    assert load_config(write(tmp_path, BASE), environ={}).account().headers_only is False


def test_starttls_gets_its_own_default_port(tmp_path: Path) -> None:
    text = BASE + 'incoming.security = "starttls"\noutgoing.security = "starttls"\n'
    acc = load_config(write(tmp_path, text), environ={}).account("home")
    assert acc.incoming.port == 143
    assert acc.outgoing is not None and acc.outgoing.port == 587


def test_preset_fills_servers_and_limits(tmp_path: Path) -> None:
    text = """
[accounts.old]
email = "ivan@yandex.ru"
provider = "yandex"
incoming.protocol = "pop3"
"""
    acc = load_config(write(tmp_path, text), environ={}).account()
    assert (acc.incoming.host, acc.incoming.port) == ("pop.yandex.ru", 995)
    assert acc.outgoing is not None
    assert (acc.outgoing.host, acc.outgoing.port) == ("smtp.yandex.ru", 465)
    assert acc.limits.per_day == 500
    text += "outgoing.limits = { per_second = 1, per_day = 50 }\n"
    acc = load_config(write(tmp_path, text), environ={}).account()
    assert acc.limits.per_day == 50 and acc.limits.per_second == 1


@pytest.mark.parametrize(
    ("email", "preset"),
    [
        ("a@gmail.com", "gmail"),
        ("a@HOTMAIL.com", "outlook"),
        ("a@bk.ru", "mailru"),
        ("a@list.ru", "mailru"),
        ("a@inbox.ru", "mailru"),
        ("a@ya.ru", "yandex"),
        ("a@rambler.ru", "rambler"),
        ("a@gmx.de", "gmx"),
        ("a@me.com", "icloud"),
        ("a@pm.me", "proton-bridge"),
        ("a@fastmail.com", "fastmail"),
        ("a@zohomail.com", "zoho"),
        ("a@yahoo.com", "yahoo"),
        ("a@example.org", None),
    ],
)
def test_preset_is_guessed_from_the_domain(email: str, preset: str | None) -> None:
    found = guess_preset(email)
    assert (found.name if found else None) == preset


def test_every_preset_has_complete_servers() -> None:
    assert len(presets()) >= 11
    for p in presets().values():
        assert p.imap is not None and p.smtp is not None, p.name
        for s in (p.imap, p.pop3, p.smtp):
            if s is not None:
                assert s.security in ("tls", "starttls") and 0 < s.port < 65536
        # A daily figure where the provider publishes one; where it does not, its facts say
        # "unknown" rather than tmail inventing a number (issue 15).
        facts = provider_facts().get(p.name)
        assert p.limits.per_day or (facts and facts.limits.startswith("unknown")), p.name


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("incoming.prot = 1", ["account 'home': incoming.prot", "unknown key", "allowed here"]),
        ("incoming.port = 99999", ["incoming.port", "out of range", "1-65535"]),
        ('incoming.port = "993"', ["incoming.port", "expected a port number"]),
        ('incoming.security = "ssl"', ["incoming.security", "'ssl' is not allowed", "starttls"]),
        ('provider = "aol"', ["provider", "unknown provider 'aol'", "gmail"]),
        ('incoming.protocol = "smtp"', ["incoming.protocol", "imap, pop3"]),
        ("default = 1", ["default", "expected true or false"]),
        ('incoming.timeout = "soon"', ["incoming.timeout", "not a duration"]),
        ('max_size = "lots"', ["max_size", "not a size"]),
        ('headers_only = "yes"', ["headers_only", "expected true or false"]),
        ('incoming.ca_file = "/nonexistent/ca.pem"', ["ca_file", "does not exist"]),
        ('incoming.auth = "xoauth2"', ["oauth2_token_command", "required"]),
    ],
)
def test_config_errors_name_file_account_key_and_allowed(
    tmp_path: Path, extra: str, words: list[str]
) -> None:
    path = write(tmp_path, BASE + extra + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, environ={})
    line = info.value.one_line()
    assert str(path) in line
    for w in words:
        assert w in line, line
    assert info.value.exit_status == 2


def test_two_defaults_named(tmp_path: Path) -> None:
    text = (
        BASE
        + "default = true\n[accounts.work]\nemail = 'w@example.test'\n"
        + "incoming.host = 'h'\ndefault = true\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    assert "home, work" in info.value.one_line()


def test_bad_toml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 2"):
        load_config(write(tmp_path, "[general]\npoll_interval = \n"), environ={})


def test_config_path_precedence_and_data_dir(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "tmail").mkdir(parents=True)
    (xdg / "tmail" / "config.toml").write_text(BASE)
    env = {"XDG_CONFIG_HOME": str(xdg), "XDG_DATA_HOME": str(tmp_path / "data")}
    cfg = load_config(environ=env)
    assert cfg.path == xdg / "tmail" / "config.toml"
    assert cfg.data_dir == tmp_path / "data" / "tmail"
    other = tmp_path / "other.toml"
    other.write_text(BASE.replace("[general]", f'[general]\ndata_dir = "{tmp_path / "d2"}"'))
    cfg = load_config(environ={**env, "TMAIL_CONFIG": str(other)})
    assert cfg.path == other and cfg.data_dir == tmp_path / "d2"
    cfg = load_config(other, environ={**env, "TMAIL_DATA_DIR": str(tmp_path / "d3")})
    assert cfg.data_dir == tmp_path / "d3"
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(environ={**env, "TMAIL_CONFIG": str(tmp_path / "missing.toml")})
    # No file at the default place: no accounts, and a clear word when one is asked for.
    empty = load_config(environ={"XDG_CONFIG_HOME": str(tmp_path / "none")})
    assert empty.accounts == {}
    with pytest.raises(ConfigError, match="no accounts configured"):
        empty.account()


def test_literal_password_warns_and_loose_permissions_warn(tmp_path: Path) -> None:
    text = BASE + 'incoming.password = "hunter2"\n'
    cfg = load_config(write(tmp_path, text, 0o644), environ={})
    joined = " ".join(cfg.warnings)
    assert "literal password" in joined
    assert "readable by others" in joined and "chmod 600" in joined
    assert "hunter2" not in joined
    cfg = load_config(write(tmp_path, text, 0o600), environ={})
    assert not any("readable by others" in w for w in cfg.warnings)


def test_outgoing_inherits_the_incoming_password_source(tmp_path: Path) -> None:
    text = BASE + "incoming.password_command = \"printf 's3cret\\\\nignored'\"\n"
    acc = load_config(write(tmp_path, text), environ={}).account()
    assert get_secret(acc, "incoming") == "s3cret"
    assert acc.outgoing is not None and acc.outgoing.password_command is not None
    assert get_secret(acc, "outgoing") == "s3cret"
    assert password_source(acc, "incoming") == "command (printf ...)"


def test_password_env_and_failing_command(tmp_path: Path) -> None:
    acc = load_config(
        write(tmp_path, BASE + 'incoming.password_env = "MY_PW"\n'), environ={}
    ).account()
    assert get_secret(acc, "incoming", environ={"MY_PW": "pw1"}) == "pw1"
    with pytest.raises(SecretError, match="MY_PW"):
        get_secret(acc, "incoming", environ={})
    acc = load_config(
        write(tmp_path, BASE + 'incoming.password_command = "echo nope >&2; exit 3"\n'),
        environ={},
    ).account()
    with pytest.raises(SecretError, match=r"password_command failed \(exit status 3\): nope"):
        get_secret(acc, "incoming")


def test_example_config_loads_and_names_every_key() -> None:
    from tmail.config.loader import ACCOUNT_KEYS, GENERAL_KEYS, LIMIT_KEYS, SERVER_KEYS

    example = Path(__file__).resolve().parents[2] / "config" / "config.example.toml"
    cfg = load_config(example, environ={})
    assert set(cfg.accounts) == {"home", "old"}
    assert cfg.account().name == "home"
    old = cfg.account("old")
    assert old.incoming.host == "pop.yandex.ru" and old.incoming.password_env
    text = example.read_text()
    for key in (*GENERAL_KEYS, *ACCOUNT_KEYS, *SERVER_KEYS, *LIMIT_KEYS):
        assert key in text, key
    man = (Path(__file__).resolve().parents[2] / "man" / "tmail.1").read_text()
    section = man.split(".SH CONFIGURATION", 1)[1].split("\n.SH ", 1)[0]
    for key in (*GENERAL_KEYS, *ACCOUNT_KEYS, *SERVER_KEYS, *LIMIT_KEYS):
        assert key in section.replace("\\-", "-"), key


def test_provider_alone_is_a_whole_account(tmp_path: Path) -> None:
    text = '[accounts.home]\nemail = "ivan@yandex.ru"\nprovider = "yandex"\n'
    acc = load_config(write(tmp_path, text), environ={}).account()
    assert (acc.incoming.protocol, acc.incoming.host, acc.incoming.port) == (
        "imap", "imap.yandex.ru", 993,
    )  # fmt: skip
    assert acc.incoming.username == "ivan@yandex.ru"
    assert acc.outgoing is not None and acc.outgoing.host == "smtp.yandex.ru"
    with pytest.raises(ConfigError, match="incoming: required"):
        load_config(write(tmp_path, '[accounts.x]\nemail = "a@b.test"\n'), environ={})
