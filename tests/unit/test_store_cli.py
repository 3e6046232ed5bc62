"""The store commands through ``tmail.cli.main``: what a person reads, what is on disk."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tmail.cli import main
from tmail.core.models import Flag
from tmail.store import Store


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(list(argv), stdout=out, stderr=err)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def raw(n: int, subject: str, sender: str = "Alice <alice@example.com>") -> bytes:
    return (
        f"From: {sender}\r\nTo: bob@example.org\r\nSubject: {subject}\r\n"
        f"Message-ID: <c{n}@example.com>\r\nDate: Tue, {n + 1} Jan 2024 09:00:00 +0000\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nквартальный отчёт\r\n"
    ).encode()


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TMAIL_DATA_DIR", str(tmp_path))
    with Store.open(tmp_path) as s:
        s.add_message("home", "INBOX", raw(1, "Lunch"), uid=1)
        s.add_message(
            "home", "INBOX", raw(2, "Report \x1b]0;pwned\x07"), frozenset({Flag.SEEN}), uid=2
        )
        s.add_message("home", "Archive", raw(3, "Old"), frozenset({Flag.SEEN}), uid=9)
    return tmp_path


def test_list_prints_newest_first_and_safe(data: Path) -> None:
    code, out, _ = run("list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert "Report" in lines[0] and "Lunch" in lines[1]
    assert "\x1b" not in out and "^[" in out
    assert lines[1].split()[0] == "1" and "N---" in lines[1]


def test_list_json_and_limit(data: Path) -> None:
    code, out, _ = run("list", "--json", "--limit", "1", "--folder", "Archive")
    assert code == 0
    [row] = json.loads(out)
    assert (row["subject"], row["folder"], row["flags"]) == ("Old", "Archive", "S")


def test_folders_counts(data: Path) -> None:
    code, out, _ = run("folders", "--json")
    assert code == 0
    got = {(f["folder"], f["total"], f["unread"]) for f in json.loads(out)}
    assert got == {("INBOX", 2, 1), ("Archive", 1, 0)}


def test_search_query_and_errors(data: Path) -> None:
    code, out, _ = run("search", "--ids", "subject:lunch OR folder:archive")
    assert code == 0 and out.split() == ["3", "1"]
    code, out, _ = run("search", "--count", "ОТЧЕТ")
    assert out.strip() == "3"
    code, _, err = run("search", "(lunch")
    assert code == 2 and err.count("\n") == 1 and "never closed" in err


def test_flag_move_delete_change_disk_and_record_pending(data: Path) -> None:
    assert run("flag", "1", "+S", "+F")[0] == 0
    assert run("move", "2", "Archive")[0] == 0
    assert run("delete", "3")[0] == 0
    code, out, _ = run("delete", "--purge", "1")
    assert code == 0 and "1 expunged" in out
    with Store.open(data) as s:
        assert s.get(1) is None
        assert s.get(2).folder == "Archive"  # type: ignore[union-attr]
        assert s.get(3).folder == "Trash"  # type: ignore[union-attr]
        kinds = sorted((p.kind, p.folder, p.uid) for p in s.pending())
        assert kinds == [("delete", "INBOX", 1), ("move", "Archive", 9), ("move", "INBOX", 2)]
        trash = s.folder_path("home", "Trash")
        assert len(list((trash / "cur").iterdir())) == 1


def test_flag_usage_errors(data: Path) -> None:
    code, _, err = run("flag", "1", "+Q")
    assert code == 2 and "unknown flag" in err
    code, _, err = run("flag", "abc", "+S")
    assert code == 2 and "not a message id" in err
    code, _, err = run("flag", "77", "+S")
    assert code != 0 and "no message with id 77" in err


def test_reindex_rebuilds(data: Path) -> None:
    code, out, _ = run("reindex")
    assert code == 0 and out.startswith("3 messages indexed")
    code, out, _ = run("reindex", "--check")
    assert code == 0 and out.startswith("0 changes")


def test_list_starts_without_importing_the_parser(data: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from tmail.cli import main; main(['list', '--limit', '1']); "
        "print(sorted(m for m in ('tmail.mime', 'email.parser', 'imapclient') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.splitlines()[-1] == "[]"


def test_data_dir_comes_from_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TMAIL_DATA_DIR", raising=False)
    config = tmp_path / "config.toml"
    config.write_text(f'[general]\ndata_dir = "{tmp_path / "elsewhere"}"\n')
    with Store.open(tmp_path / "elsewhere") as s:
        s.add_message("home", "INBOX", raw(1, "From the config"))
    code, out, err = run("--config", str(config), "list")
    assert code == 0, err
    assert "From the config" in out


def test_list_shows_an_undeclared_koi8r_subject_of_an_account_with_assumed_charsets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    with Store.open(tmp_path / "data") as s:
        s.ensure_folder("old", "INBOX")
        folder = s.folder_path("old", "INBOX")
    # Upper-case KOI8-R with no charset: a detector reads it as windows-1251 ("феуф учсъй").
    letter = (
        b"From: boris@example.ru\nSubject: " + "ТЕСТ СВЯЗИ".encode("koi8-r") + b"\n"
        b"Date: Mon, 01 Jan 2024 10:00:00 +0000\n\n" + "ПРОВЕРКА".encode("koi8-r") + b"\n"
    )
    (folder / "new" / "1700000000.koi.host").write_bytes(letter)  # delivered by another tool
    code, out, err = run("--config", str(config), "list")  # the start-up check indexes it
    assert code == 0, err
    assert "ТЕСТ СВЯЗИ" in out
    code, out, _ = run("--config", str(config), "reindex")
    code, out, _ = run("--config", str(config), "list", "--json")
    assert json.loads(out)[0]["subject"] == "ТЕСТ СВЯЗИ"
    code, out, _ = run("--config", str(config), "search", "проверка", "--json")
    assert code == 0 and len(json.loads(out)) == 1


def test_an_empty_list_or_search_says_no_messages(data: Path) -> None:
    # On stderr: a script reading stdout still gets nothing; --json still prints [].
    assert run("list", "--folder", "Drafts") == (0, "", "no messages in Drafts\n")
    assert run("list", "--folder", "Drafts", "--threads") == (0, "", "no messages in Drafts\n")
    assert run("list", "--unread", "--account", "home", "--folder", "Archive") == (
        0,
        "",
        "no unread messages in Archive of home\n",
    )
    assert run("list", "--folder", "Drafts", "--json") == (0, "[]\n", "")
    assert run("search", "nothing-like-this") == (1, "", "no messages match\n")
    assert run("search", "--ids", "nothing-like-this") == (1, "", "no messages match\n")
    assert run("search", "--json", "nothing-like-this") == (1, "[]\n", "")
    assert run("search", "--count", "nothing-like-this") == (0, "0\n", "")


def test_counts_are_pluralised(data: Path) -> None:
    from tmail.core.counts import plural

    assert [plural(n, "error") for n in (0, 1, 2)] == ["0 errors", "1 error", "2 errors"]
    assert plural(2, "entry", "entries") == "2 entries"
    assert run("flag", "1", "2", "+F") == (0, "2 messages changed\n", "")
    assert run("flag", "1", "-F") == (0, "1 message changed\n", "")
    assert run("move", "1", "Archive") == (0, "1 message moved to Archive\n", "")
