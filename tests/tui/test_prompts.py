"""The reader's prompts: readline's keys, and a filled-in path that a typed path replaces."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.tui.conftest import T0, Harness
from tmail.ui.source import MemorySource, Row


def _with_attachment() -> Harness:
    raw = (
        b"From: A <a@x.test>\nTo: me@demo.test\nSubject: files\nMessage-ID: <f@x>\n"
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n'
        b"Content-Type: text/plain\n\nsee attached\n--b\nContent-Type: application/pdf\n"
        b'Content-Disposition: attachment; filename="report-q3.pdf"\n'
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(b"%PDF-1.1 x") + b"--b--\n"
    )
    row = Row(1, "demo", "INBOX", T0, "A", "files", frozenset(), len(raw))
    return Harness(source=MemorySource([(row, raw)]))


def _prompt_line(h: Harness) -> str:
    return h.screen().splitlines()[-1].rstrip()


@pytest.fixture
def saving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Harness:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    h = _with_attachment()
    h.press("enter", "v", "s")
    assert _prompt_line(h) == f"Save to: {tmp_path}/report-q3.pdf"
    return h


def test_a_typed_absolute_path_replaces_the_filled_in_one(saving: Harness, tmp_path: Path) -> None:
    # the issue: "/tmp/report-q3.pdf" + typed "/tmp/saved/" made the tree report-q3.pdf/tmp/saved
    saving.type(f"{tmp_path}/saved/")
    assert _prompt_line(saving) == f"Save to: {tmp_path}/saved/"
    saving.press("enter")
    assert (tmp_path / "saved" / "report-q3.pdf").read_bytes() == b"%PDF-1.1 x"
    assert not (tmp_path / "report-q3.pdf").exists()  # no folder of that name either


def test_a_typed_home_path_replaces_the_filled_in_one(saving: Harness, tmp_path: Path) -> None:
    saving.type("~/mine.pdf")
    assert _prompt_line(saving) == "Save to: ~/mine.pdf"
    saving.press("enter")
    assert (tmp_path / "mine.pdf").read_bytes() == b"%PDF-1.1 x"


def test_readline_keys_edit_the_save_prompt(saving: Harness, tmp_path: Path) -> None:
    saving.press("ctrl w")  # the last path component goes
    assert _prompt_line(saving) == f"Save to: {tmp_path}/"
    saving.type("q3.pdf")
    saving.press("ctrl a")
    assert saving.app.prompt_edit.edit_pos == 0
    saving.press("ctrl e", "meta b", "ctrl k")  # back a word, cut to the end
    assert _prompt_line(saving) == f"Save to: {tmp_path}/q3."
    saving.press("meta b", "ctrl d", "meta f")  # delete under the cursor, then forward a word
    assert _prompt_line(saving) == f"Save to: {tmp_path}/3."
    assert saving.app.prompt_edit.edit_pos == len(f"{tmp_path}/3")
    saving.press("ctrl e")
    saving.type("x")
    saving.press("ctrl b", "ctrl b", "ctrl h")  # back two, delete the one before
    assert _prompt_line(saving) == f"Save to: {tmp_path}/.x"
    saving.press("ctrl u")  # everything before the cursor
    assert _prompt_line(saving) == "Save to: .x"
    saving.press("ctrl k")
    assert _prompt_line(saving) == "Save to:"
    saving.type(f"{tmp_path}/final.pdf")
    saving.press("enter")
    assert (tmp_path / "final.pdf").read_bytes() == b"%PDF-1.1 x"


def test_other_prompts_have_readline_keys_and_keep_a_typed_slash(ui: Harness) -> None:
    ui.press(":")
    ui.type("sync now")
    ui.press("meta backspace")
    assert _prompt_line(ui) == ":sync"
    ui.press("ctrl u")
    assert _prompt_line(ui) == ":"
    ui.press("esc", "/")
    ui.type("from:bob")
    ui.press("ctrl w")
    assert _prompt_line(ui) == "Search:"
    ui.type("a/b")  # a slash in a search is text, never a new start
    assert _prompt_line(ui) == "Search: a/b"


def test_the_attach_prompt_starts_over_at_a_typed_tilde(
    ui: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "notes.txt").write_text("hello")
    ui.press("m")
    ui.type("a@b.test")
    ui.press("enter", "enter", "enter", "enter", "a")
    ui.type("~/notes.txt")
    assert _prompt_line(ui) == "Attach file: ~/notes.txt"
    ui.press("enter")
    assert "1. notes.txt  (5 B)" in ui.screen()


def test_compose_fields_have_readline_keys(ui: Harness) -> None:
    ui.press("m")
    ui.type("a@b.test, wrong@x.test")
    ui.press("ctrl w")
    assert "To:      a@b.test," in ui.screen() and "wrong" not in ui.screen()
    ui.press("enter", "enter", "enter")
    ui.type("Old subject")
    ui.press("ctrl u")
    ui.type("New")
    assert "Subject: New" in ui.screen() and "Old" not in ui.screen()


def test_the_help_screen_lists_the_prompt_keys(ui: Harness) -> None:
    ui.press("?", "end")
    screen = ui.app.render_text(120, 40)
    assert "In a prompt" in screen
    assert "delete the word or path component before the cursor" in screen
