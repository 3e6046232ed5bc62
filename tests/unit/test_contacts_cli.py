"""``tmail contacts`` through ``tmail.cli.main``: what a person and a script read."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tmail.cli import main
from tmail.store import Store


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(list(argv), stdout=out, stderr=err)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def mail(n: int, sender: str, to: str = "Me <me@home.test>", folder_day: int = 1) -> bytes:
    return (
        f"From: {sender}\nTo: {to}\nSubject: s{n}\nMessage-ID: <k{n}@x.test>\n"
        f"Date: Mon, {folder_day:02d} Nov 2026 10:00:00 +0000\n\nhi\n"
    ).encode()


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TMAIL_DATA_DIR", str(tmp_path / "data"))
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[accounts.home]\nemail = "me@home.test"\nincoming.host = "imap.home.test"\n'
        '[[accounts.home.identities]]\naddress = "alias@home.test"\n'
    )
    monkeypatch.setenv("TMAIL_CONFIG", str(cfg))
    with Store.open(tmp_path / "data") as s:
        s.add_message("home", "INBOX", mail(1, "Фёдор Иванов <fedor@x.test>"))
        s.add_message("home", "INBOX", mail(2, "=?utf-8?q?Evil=1B]0;pwned=07?= <evil@x.test>"))
        s.add_message("home", "INBOX", mail(3, "alias@home.test", to="Zoë <zoe@x.test>"))
        s.add_message("home", "Sent", mail(4, "me@home.test", to="Zoë <zoe@x.test>"))
    return tmp_path


def test_contacts_lists_best_first_without_ones_own_addresses(data: Path) -> None:
    code, out, _ = run("contacts")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("Zoë <zoe@x.test>") and "sent 1, received 1" in lines[0]
    assert "me@home.test" not in out and "alias@home.test" not in out


def test_contacts_query_any_case_and_accent_cyrillic_included(data: Path) -> None:
    for query in ("ФЕДОР", "фёдор иванов", "FEDOR@"):
        code, out, _ = run("contacts", *query.split())
        assert code == 0 and out.startswith("Фёдор Иванов <fedor@x.test>"), query
    code, out, err = run("contacts", "nobody")
    assert (code, out, err) == (1, "", "no contacts match\n")
    code, out, _ = run("contacts", "zoe", "--limit", "1")
    assert len(out.splitlines()) == 1


def test_contacts_json_and_mutt_formats(data: Path) -> None:
    code, out, _ = run("contacts", "zoe", "--json")
    got = json.loads(out)
    assert code == 0 and got[0]["name"] == "Zoë" and got[0]["addresses"] == ["zoe@x.test"]
    assert got[0]["source"] == "mail" and got[0]["last_contact"].startswith("2026-11-01")
    code, out, _ = run("contacts", "x.test", "--mutt")
    lines = out.splitlines()
    assert lines[0] == "tmail: 3 contacts"
    assert lines[1].split("\t")[:2] == ["zoe@x.test", "Zoë"]


def test_a_name_with_control_characters_is_made_safe(data: Path) -> None:
    for argv in (("contacts", "evil"), ("contacts", "evil", "--json"), ("contacts", "--mutt")):
        code, out, _ = run(*argv)
        assert code == 0 and "evil@x.test" in out
        assert "\x1b" not in out and "\x07" not in out
