"""``tmail show FILE|-``: the readable view, --json keys, --raw, --headers."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tmail.cli import main

LETTER = (
    (
        b"From: =?koi8-r?B?6dfBzg==?= <ivan@example.ru>\n"
        b"To: Petr <petr@example.ru>, anna@example.ru\n"
        b"Cc: =?utf-8?Q?=1B=5D0=3Bpwned=07?= <cc@example.ru>\n"
        b"Subject: =?koi8-r?B?8NLJ18XU?= \x1b[2J\n"
        b"Date: Tue, 07 Jul 2009 22:47:35 +0300\n"
        b"Message-ID: <1@example.ru>\n"
        b"MIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed; boundary=zz\n"
        b"\n"
        b"--zz\n"
        b"Content-Type: text/plain; charset=us-ascii\n"
        b"Content-Transfer-Encoding: 8bit\n"
        b"\n"
    )
    + "Привет, как дела?\n".encode("cp1251")
    + (
        b"--zz\n"
        b"Content-Type: application/octet-stream\n"
        b"Content-Transfer-Encoding: base64\n"
        b'Content-Disposition: attachment; filename="../../etc/\x1b[2Jpasswd"\n'
        b"\n"
        b"AAECAwQ=\n"
        b"--zz--\n"
    )
)


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_show_file_renders_safe_readable_text(tmp_path: Path) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(LETTER)
    code, out, _ = run(["show", str(path)])
    assert code == 0
    assert "From: Иван <ivan@example.ru>" in out
    assert "Subject: Привет ^[[2J" in out
    assert "Привет, как дела?" in out
    assert "\x1b" not in out and "\x07" not in out
    assert "passwd  (application/octet-stream, 5 B)" in out


def test_show_json_has_the_documented_keys(tmp_path: Path) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(LETTER)
    code, out, _ = run(["show", "--json", str(path)])
    assert code == 0
    data = json.loads(out)
    for key in ("subject", "from", "to", "cc", "date", "message_id", "text", "charset"):
        assert key in data
    assert data["subject"] == "Привет ^[[2J"
    assert data["from"] == [{"name": "Иван", "addr": "ivan@example.ru"}]
    assert data["to"] == [
        {"name": "Petr", "addr": "petr@example.ru"},
        {"name": "", "addr": "anna@example.ru"},
    ]
    assert data["cc"][0]["name"] == "^[]0;pwned^G"
    assert data["date"] == "2009-07-07T22:47:35+03:00"
    assert data["message_id"] == "<1@example.ru>"
    assert data["text"] == "Привет, как дела?\n"
    assert data["charset"] == "windows-1251"
    (att,) = data["attachments"]
    assert att["size"] == 5 and att["content_type"] == "application/octet-stream"
    assert "\x1b" not in att["filename"]


def test_show_json_headers(tmp_path: Path) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(LETTER)
    data = json.loads(run(["show", "--json", "--headers", str(path)])[1])
    assert ["MIME-Version", "1.0"] in data["headers"]
    assert ["Subject", "Привет ^[[2J"] in data["headers"]
    assert "headers" not in json.loads(run(["show", "--json", str(path)])[1])


def test_show_stdin_raw_and_headers() -> None:
    cmd = [sys.executable, "-m", "tmail", "show", "-"]
    done = subprocess.run(cmd, input=LETTER, capture_output=True, check=True)
    assert "Привет, как дела?" in done.stdout.decode()
    raw = subprocess.run([*cmd, "--raw"], input=LETTER, capture_output=True, check=True)
    assert raw.stdout == LETTER  # a pipe gets the stored bytes exactly
    headers = subprocess.run([*cmd, "--headers"], input=LETTER, capture_output=True, check=True)
    assert "MIME-Version: 1.0" in headers.stdout.decode()


def test_show_missing_file_is_one_line_error(tmp_path: Path) -> None:
    code, out, err = run(["show", str(tmp_path / "nope.eml")])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no such file" in err


def test_show_and_attachments_by_store_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tmail.store import Store

    monkeypatch.setenv("TMAIL_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with Store.open(tmp_path) as store:
        mid = store.add_message("home", "INBOX", LETTER, uid=7)
    code, out, _ = run(["show", str(mid)])
    assert code == 0 and "Привет, как дела?" in out and "From: Иван" in out
    code, out, _ = run(["attachments", str(mid)])
    assert code == 0 and "passwd" in out
    code, out, err = run(["show", "999"])
    assert code == 2 and "no message with id 999" in err


def test_stored_message_is_read_with_the_accounts_assumed_charsets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tmail.store import Store

    config = tmp_path / "config.toml"
    config.write_text(
        "[accounts.old]\n"
        'email = "ivan@example.ru"\n'
        'incoming.host = "imap.example.ru"\n'
        'outgoing.host = "smtp.example.ru"\n'
        'assumed_charsets = ["koi8-r"]\n'
    )
    config.chmod(0o600)
    monkeypatch.setenv("TMAIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("TMAIL_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    # "Ну" alone is too short to detect (it reads as ISO-8859-5 "юе"): the hint decides.
    raw = b"From: a@example.ru\nSubject: x\n\n" + "Ну\n".encode("koi8_r")
    with Store.open(tmp_path / "data") as store:
        mid = store.add_message("old", "INBOX", raw, uid=1)
    code, out, _ = run(["--config", str(config), "show", "--json", str(mid)])
    data = json.loads(out)
    assert code == 0 and data["text"] == "Ну\n" and data["charset"] == "koi8-r"
    code, out, _ = run(["show", "--json", str(mid)])  # no config: no hint
    assert json.loads(out)["text"] != "Ну\n"
