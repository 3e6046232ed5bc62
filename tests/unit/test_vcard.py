"""vCard import and export: 3.0 and 4.0 files and vdirs, malformed cards reported, never fatal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import vobject

from tmail.cli import main
from tmail.mime.vcard import Card, read_path, vcard4
from tmail.store import Store

GOOD = """BEGIN:VCARD\r
VERSION:3.0\r
FN:Anna Petrova\r
N:Petrova;Anna;;;\r
EMAIL;TYPE=work:Anna@X.test\r
EMAIL:anna.home@y.test\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:4.0\r
N:Иванов;Фёдор;;;\r
EMAIL:mailto:fedor@x.test\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:3.0\r
FN:Folded Name\r
EMAIL:fol\r
 ded@x.test\r
END:VCARD\r
"""

BROKEN = """BEGIN:VCARD
VERSION:3.0
FN:Half Broken
BOGUS LINE WITHOUT A COLON
EMAIL:half@x.test
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:No Address
END:VCARD
BEGIN:VCARD
VERSION:3.0
EMAIL:nameless@x.test
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Cut off at the end
EMAIL:cut@x.test
"""


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        code = main(list(argv), stdout=out, stderr=err)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_cards_of_3_0_and_4_0_folded_lines_and_a_name_from_n(tmp_path: Path) -> None:
    f = tmp_path / "book.vcf"
    f.write_text(GOOD, encoding="utf-8")
    got = read_path(f)
    assert got.cards == [
        Card("Anna Petrova", ("anna@x.test", "anna.home@y.test")),
        Card("Фёдор Иванов", ("fedor@x.test",)),
        Card("Folded Name", ("folded@x.test",)),
    ]
    assert got.problems == [f"{f}: card 2: no FN, name taken from N"]


def test_malformed_cards_are_read_as_far_as_they_go_and_reported_once(tmp_path: Path) -> None:
    folder = tmp_path / "vdir"
    folder.mkdir()
    (folder / "a.vcf").write_text(BROKEN)
    (folder / "b.vcf").write_bytes(
        "BEGIN:VCARD\nFN:Зоя\nEMAIL:zoya@x.test\nEND:VCARD\n".encode("cp1251")
    )
    (folder / "notes.txt").write_text("not a card")
    got = read_path(folder)
    assert got.files == 2
    assert [c.emails[0] for c in got.cards] == [
        "half@x.test",
        "nameless@x.test",
        "cut@x.test",
        "zoya@x.test",
    ]
    assert got.cards[-1].name == "Зоя"
    text = "\n".join(got.problems)
    assert "a.vcf: card 1: lines skipped" in text
    assert "a.vcf: card 2: no EMAIL, not imported" in text
    assert "a.vcf: card 3: no FN or N, shown by address" in text
    assert "b.vcf: not UTF-8, read as" in text
    assert len(got.problems) == 4


def test_export_is_vcard_4_that_reads_back(tmp_path: Path) -> None:
    long = "Александра Константиновна Чрезвычайно-Длинная-Фамилия, Jr.; \x1b[31m"
    text = vcard4([Card(long, ("a@x.test",)), Card("", ("b@x.test",))])
    assert text.startswith("BEGIN:VCARD\r\nVERSION:4.0\r\n") and "\x1b" not in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    cards = list(vobject.readComponents(text))
    assert cards[0].fn.value == long.replace("\x1b", " ").strip()
    assert cards[1].fn.value == "b@x.test" and cards[1].email.value == "b@x.test"


def test_import_search_and_export_through_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMAIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TMAIL_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    with Store.open(tmp_path / "data") as s:
        s.add_message(
            "a",
            "INBOX",
            b"From: anna p <anna@x.test>\nTo: me@home.test\nSubject: s\n"
            b"Date: Mon, 02 Nov 2026 10:00:00 +0000\n\nhi\n",
        )
    book = tmp_path / "book.vcf"
    book.write_text(GOOD + BROKEN)
    code, out, err = run("contacts", "import", str(book))
    assert code == 0 and out.startswith("imported 7 addresses of 6 cards from 1 file")
    assert err.count("\n") == 4 and "no EMAIL" in err
    code, out, _ = run("contacts", "федор", "--json")
    assert json.loads(out)[0]["source"] == "vcard"
    code, out, _ = run("contacts", "anna", "--json")
    first = json.loads(out)[0]
    assert (first["name"], first["source"]) == ("Anna Petrova", "mail+vcard")  # the book's name
    book.write_text(GOOD)  # imported again: what left the file leaves the address book
    run("contacts", "import", str(book))
    assert run("contacts", "half")[0] == 1
    code, out, _ = run("contacts", "export")
    assert code == 0 and out.count("BEGIN:VCARD") == 5  # 4 from the book + me@home.test
    code, _, err = run("contacts", "import", str(tmp_path / "missing.vcf"))
    assert code == 2 and "does not exist" in err


def test_an_imported_vdir_is_read_again_when_its_files_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMAIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TMAIL_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    vdir = tmp_path / "contacts"
    vdir.mkdir()
    (vdir / "anna.vcf").write_text("BEGIN:VCARD\nFN:Anna\nEMAIL:anna@x.test\nEND:VCARD\n")
    assert run("contacts", "import", str(vdir))[0] == 0
    assert run("contacts", "zoya")[0] == 1
    (vdir / "zoya.vcf").write_text("BEGIN:VCARD\nFN:Zoya\nEMAIL:zoya@x.test\nEND:VCARD\n")
    (vdir / "anna.vcf").write_text("BEGIN:VCARD\nFN:Anna Renamed\nEMAIL:anna@x.test\nEND:VCARD\n")
    code, out, _ = run("contacts", "x.test")  # no second import: the change is seen
    assert code == 0 and "Zoya <zoya@x.test>" in out and "Anna Renamed <anna@x.test>" in out
    (vdir / "zoya.vcf").unlink()
    code, out, _ = run("contacts", "x.test")
    assert "zoya" not in out
    with Store.open(tmp_path / "data") as s:
        assert s.refresh_vcards() == []  # nothing changed since: nothing read


GROUPS = """BEGIN:VCARD\r
VERSION:4.0\r
UID:urn:uuid:anna-1\r
FN:Anna\r
EMAIL:anna@x.test\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:3.0\r
UID:bob-2\r
FN:Bob\r
EMAIL:bob@x.test\r
EMAIL:bob.other@x.test\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:4.0\r
KIND:group\r
FN:Team\r
MEMBER:urn:uuid:anna-1\r
MEMBER:urn:uuid:bob-2\r
MEMBER:mailto:guest@y.test\r
MEMBER:urn:uuid:nobody\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:3.0\r
FN:Apple group\r
X-ADDRESSBOOKSERVER-KIND:group\r
X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:bob-2\r
END:VCARD\r
"""


def test_groups_of_4_0_and_apple_cards_are_their_members(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tmail.mime.vcard import Group, read_text

    got = read_text(GROUPS, "book")
    assert got.groups == [
        Group("Team", ("anna@x.test", "bob@x.test", "guest@y.test")),
        Group("Apple group", ("bob@x.test",)),
    ]
    assert [c.name for c in got.cards] == ["Anna", "Bob"] and got.problems == []
    monkeypatch.setenv("TMAIL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TMAIL_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    (tmp_path / "book.vcf").write_text(GROUPS)
    assert run("contacts", "import", str(tmp_path / "book.vcf"))[0] == 0
    code, out, _ = run("contacts", "team")
    assert code == 0 and out == "Team: anna@x.test, bob@x.test, guest@y.test  (group)\n"
    code, out, _ = run("contacts", "team", "--json")
    assert json.loads(out)[0] == {
        "name": "Team",
        "addresses": ["anna@x.test", "bob@x.test", "guest@y.test"],
        "source": "group",
    }
