"""Saving attachments: safe names, no overwrite, temp file + rename; the attachments command."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from tmail.cli import main
from tmail.mime.attachments import MAX_NAME_BYTES, safe_filename, save_bytes


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("/etc/shadow", "shadow"),
        ("..\\..\\boot.ini", "boot.ini"),
        (".bashrc", "bashrc"),
        ("..", "attachment"),
        ("", "attachment"),
        ("   ", "attachment"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("lpt1", "_lpt1"),
        ("report\x1b[2J.pdf", "report_[2J.pdf"),
        ("invoice\u202efdp.exe", "invoice_fdp.exe"),
        ("a\tb\nc.txt", "a_b_c.txt"),
        ("what?.txt", "what_.txt"),
        ("Отчёт за март.pdf", "Отчёт за март.pdf"),
        ("trailing dots...", "trailing dots"),
    ],
)
def test_safe_filename(given: str, expected: str) -> None:
    assert safe_filename(given) == expected


def test_long_names_are_capped_keeping_the_extension() -> None:
    name = safe_filename("я" * 500 + ".docx")
    assert name.endswith(".docx") and len(name.encode()) <= MAX_NAME_BYTES
    name.encode("utf-8")  # not cut inside a character


def test_save_never_overwrites_and_leaves_no_temp(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"mine")
    first = save_bytes(b"one", tmp_path, "a.txt")
    second = save_bytes(b"two", tmp_path, "../a.txt")
    assert (tmp_path / "a.txt").read_bytes() == b"mine"
    assert first == tmp_path / "a (1).txt" and first.read_bytes() == b"one"
    assert second == tmp_path / "a (2).txt" and second.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a (1).txt", "a (2).txt", "a.txt"]


def test_save_does_not_follow_a_symlink_planted_under_the_name(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(victim, out / "x.txt")
    saved = save_bytes(b"data", out, "x.txt")
    assert saved.name == "x (1).txt" and victim.read_bytes() == b"keep"


def _message(tmp_path: Path) -> Path:
    raw = (
        b"Subject: files\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="../.profile"\r\n\r\nZWNobyBwd25lZA==\r\n'
        b"--b\r\nContent-Type: text/plain; name*=koi8-r''%F4%C5%D3%D4.txt\r\n"
        b"Content-Disposition: attachment\r\n\r\n\xf4\xc5\xd3\xd4\r\n"
        b"--b--\r\n"
    )
    path = tmp_path / "m.eml"
    path.write_bytes(raw)
    return path


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return main(list(argv), stdout=out, stderr=err), out.getvalue(), err.getvalue()


def test_attachments_command_lists_and_saves(tmp_path: Path) -> None:
    path = _message(tmp_path)
    code, out, _ = run("attachments", str(path))
    assert code == 0
    assert out.splitlines() == [
        "  1  profile  application/octet-stream  10 B",
        "  2  Тест.txt  text/plain  4 B",
    ]
    code, out, _ = run("attachments", "--json", str(path))
    assert json.loads(out)[1] == {
        "number": "2",
        "index": 2,
        "filename": "Тест.txt",
        "original_filename": "Тест.txt",
        "content_type": "text/plain",
        "size": 4,
        "inline": False,
    }
    dest = tmp_path / "saved"
    code, out, _ = run("attachments", str(path), "--save", str(dest))
    assert code == 0
    assert (dest / "profile").read_bytes() == b"echo pwned"
    assert (dest / "Тест.txt").read_bytes() == b"\xf4\xc5\xd3\xd4"
    assert out.splitlines() == [str(dest / "profile"), str(dest / "Тест.txt")]  # as tmail(1)
    code, out, _ = run("attachments", str(path), "--save", str(dest), "--index", "2")
    assert (dest / "Тест (1).txt").read_bytes() == b"\xf4\xc5\xd3\xd4"
    assert out == f"{dest / 'Тест (1).txt'}\n"
    assert sorted(p.name for p in dest.iterdir()) == ["profile", "Тест (1).txt", "Тест.txt"]


def test_attachments_bad_index_is_one_line(tmp_path: Path) -> None:
    code, out, err = run("attachments", str(_message(tmp_path)), "--index", "7")
    assert code == 2 and out == "" and "no attachment 7" in err and err.count("\n") == 1


def test_attachments_inside_an_enclosed_message(tmp_path: Path) -> None:
    raw = (
        b"Subject: Fwd\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n"
        b"--o\r\nContent-Type: text/plain\r\n\r\nsee below\r\n"
        b"--o\r\nContent-Type: message/rfc822\r\n\r\n"
        b"Subject: inner\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n"
        b"--i\r\nContent-Type: text/plain\r\n\r\ninner text\r\n"
        b"--i\r\nContent-Type: application/pdf; name=inner.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--i--\r\n"
        b"--o--\r\n"
    )
    path = tmp_path / "fwd.eml"
    path.write_bytes(raw)
    code, out, _ = run("attachments", str(path))
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 and lines[1] == "1.1    inner.pdf  application/pdf  4 B"
    assert out.splitlines()[0].startswith("  1  part1.eml  message/rfc822")
    dest = tmp_path / "out"
    code, out, _ = run("attachments", str(path), "--save", str(dest), "--index", "1.1")
    assert code == 0 and (dest / "inner.pdf").read_bytes() == b"%PDF"
    code, out, _ = run("attachments", str(path), "--save", str(dest))
    assert sorted(p.name for p in dest.iterdir()) == ["inner.pdf", "part1.eml"]


HOSTILE_NAMES = (
    b"Subject: names\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
    b'--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="../../.bashrc"'
    b"\r\n\r\nx\r\n"
    b"--b\r\nContent-Type: application/octet-stream\r\n"
    b'Content-Disposition: attachment; filename="..\\\\..\\\\Windows\\\\System32\\\\evil.dll"'
    b"\r\n\r\nx\r\n"
    b"--b\r\nContent-Type: text/plain\r\n"
    b'Content-Disposition: attachment; filename="/etc/cron.d/job"\r\n\r\nx\r\n'
    b"--b--\r\n"
)
SAFE = ["bashrc", "evil.dll", "job"]
ORIGINAL = ["../../.bashrc", "..\\..\\Windows\\System32\\evil.dll", "/etc/cron.d/job"]


def test_attachment_names_are_shown_and_emitted_as_saved(tmp_path: Path) -> None:
    # A script that saves under the JSON "filename" must not escape its folder.
    path = tmp_path / "m.eml"
    path.write_bytes(HOSTILE_NAMES)
    code, out, _ = run("attachments", str(path))
    assert code == 0 and [line.split()[1] for line in out.splitlines()] == SAFE
    assert ".." not in out and "\\" not in out and "/etc" not in out
    items = json.loads(run("attachments", "--json", str(path))[1])
    assert [a["filename"] for a in items] == SAFE
    assert [a["original_filename"] for a in items] == ORIGINAL
    shown = json.loads(run("show", "--json", str(path))[1])["attachments"]
    assert [a["filename"] for a in shown] == SAFE
    assert [a["original_filename"] for a in shown] == ORIGINAL
    code, out, _ = run("show", str(path))
    listed = out.split("[-- Attachments --]")[1]
    assert ".." not in listed and "\\" not in listed and "/etc" not in listed
    assert "1. bashrc  (text/plain" in listed
    dest = tmp_path / "saved"
    code, out, _ = run("attachments", str(path), "--save", str(dest))
    assert code == 0 and sorted(p.name for p in dest.iterdir()) == sorted(SAFE)
