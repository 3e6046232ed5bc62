"""[contacts] in the config file: query_command and the CardDAV keys, one line per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from tmail.config import load_config
from tmail.core.errors import ConfigError


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return load_config(path, environ={})


def test_carddav_keys_are_read(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    cfg = load(
        tmp_path,
        '[contacts]\nquery_command = "lbdbq %s"\ncarddav_url = "https://dav.test/"\n'
        'carddav_username = "alice"\ncarddav_password_command = "pass dav"\n'
        'carddav_ca_file = "ca.pem"\n',
    )
    dav = cfg.carddav  # type: ignore[attr-defined]
    assert cfg.query_command == "lbdbq %s"  # type: ignore[attr-defined]
    assert (dav.url, dav.username, dav.password_command, dav.ca_file) == (
        "https://dav.test/", "alice", "pass dav", ca,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('carddav_url = "http://dav.test/"\ncarddav_username = "a"', "is not an https:// URL"),
        ('carddav_url = "https://dav.test/"', "carddav_username: required"),
        ('carddav_username = "a"', "carddav_url: required"),
        ('carddav_url = "https://d/"\ncarddav_username = "a"\ncarddav_ca_file = "/no"', "exist"),
        ('query_comand = "x"', "unknown key"),
    ],
)
def test_a_bad_contacts_key_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, f"[contacts]\n{text}\n")
    line = err.value.one_line()
    assert "contacts." in line and message in line and "\n" not in line
