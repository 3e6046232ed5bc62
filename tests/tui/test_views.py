"""Keys in, screen text out: what a person reads after each key."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from tests.tui.conftest import T0, Harness, mailbox
from tmail.core.models import Flag
from tmail.ui.keys import ACTIONS, KeyMap, default_keys_toml
from tmail.ui.source import Row
from tmail.ui.theme import default_theme_toml


def test_index_shows_flags_date_sender_subject_size_and_counts(ui: Harness) -> None:
    screen = ui.screen()
    lines = screen.splitlines()
    anna = next(line for line in lines if "Квартальный отчёт" in line)
    assert anna.split("│", 1)[1].startswith("N ")  # unread
    assert "Nov 20" in anna and "Anna Petrova" in anna and anna.rstrip().endswith("B")
    carol = next(line for line in lines if "Release notes" in line)
    assert "  F " in carol  # flagged
    assert "All inboxes  3 messages, 1 unread" in screen
    assert "Archive" in screen  # the sidebar lists folders
    assert "Old thread" not in screen  # not an inbox message


def test_hint_line_names_the_keys_of_the_view_and_can_be_turned_off(ui: Harness) -> None:
    assert "r Reply" in ui.screen() and "? Help" in ui.screen()
    ui.press("f1")
    assert "r Reply" not in ui.screen()


def test_enter_opens_the_pager_with_decoded_headers_and_quotes(ui: Harness) -> None:
    ui.press("j", "enter")
    screen = ui.screen()
    assert "From: Bob <bob@demo.test>" in screen
    assert "Subject: Lunch on Friday?" in screen
    assert "Shall we?" in screen and "> earlier text" in screen


def test_reading_marks_read_and_the_count_drops(ui: Harness) -> None:
    ui.press("enter")
    assert "Привет!" in ui.screen()  # KOI8-R body decoded
    ui.work()
    assert ("flags", ((1,), frozenset({Flag.SEEN}), frozenset())) in ui.backend.calls
    ui.press("q")
    screen = ui.screen()
    assert "0 unread" not in screen and "unread" not in screen.splitlines()[-2]
    anna = next(line for line in screen.splitlines() if "Квартальный" in line)
    assert not anna.split("│", 1)[1].startswith("N")


def test_links_are_numbered_and_open_in_the_browser(ui: Harness, monkeypatch: object) -> None:
    opened: list[list[str]] = []
    ui.app.options.opener = lambda argv: opened.append(list(argv)) or 0
    import os

    os.environ["BROWSER"] = "echo-browser"
    try:
        ui.press("j", "j", "enter")
        assert "[1] https://example.org/notes" in ui.screen()
        ui.press("u", "1", "enter")
    finally:
        del os.environ["BROWSER"]
    assert opened == [["echo-browser", "https://example.org/notes"]]


def test_html_links_open_the_url_shown_with_that_number() -> None:
    # html2text numbers [named links][N] but leaves <https://...> autolinks unnumbered: the number
    # the reader sees next to a link must be the one `u` opens, shown once.
    html = (
        '<p>Docs at <a href="https://auto.example/">https://auto.example/</a> and '
        '<a href="https://named.example/page">the named page</a>.</p>'
    )
    raw = (
        "From: News <news@demo.test>\nTo: me@demo.test\nSubject: html links\n"
        "Message-ID: <h1@demo.test>\nMIME-Version: 1.0\n"
        "Content-Type: text/html; charset=utf-8\n\n" + html + "\n"
    ).encode()
    source = mailbox()
    source.messages.insert(
        0, (Row(9, "demo", "INBOX", T0 + timedelta(hours=1), "News", "html links",
                frozenset(), len(raw)), raw),
    )  # fmt: skip
    ui = Harness(source)
    opened: list[list[str]] = []
    ui.app.options.opener = lambda argv: opened.append(list(argv)) or 0
    os.environ["BROWSER"] = "echo-browser"
    try:
        ui.press("home", "enter")
        screen = ui.screen()
        assert "[the named page][1]" in screen
        lines = [line.split("│", 1)[-1].rstrip() for line in screen.splitlines()]
        assert "   [1]: https://named.example/page" in lines  # no second number after it
        assert "<https://auto.example/>[2]" in screen
        ui.press("u", "1", "enter")
    finally:
        del os.environ["BROWSER"]
    assert opened == [["echo-browser", "https://named.example/page"]]


def test_only_web_links_reach_the_browser_and_mailto_writes_here() -> None:
    html = (
        '<p><a href="-remote-control">options</a> <a href="file:///etc/passwd">file</a> '
        '<a href="mailto:list@x.test?subject=unsubscribe">leave</a> '
        '<a href="https://ok.example/">web</a></p>'
    )
    raw = (
        "From: News <news@demo.test>\nTo: me@demo.test\nSubject: links\n"
        "Message-ID: <l1@demo.test>\nMIME-Version: 1.0\n"
        "Content-Type: text/html; charset=utf-8\n\n" + html + "\n"
    ).encode()
    source = mailbox()
    source.messages.insert(
        0, (Row(9, "demo", "INBOX", T0 + timedelta(hours=1), "News", "links",
                frozenset(), len(raw)), raw),
    )  # fmt: skip
    ui = Harness(source)
    opened: list[list[str]] = []
    ui.app.options.opener = lambda argv: opened.append(list(argv)) or 0
    os.environ["BROWSER"] = "echo-browser"
    try:
        ui.press("home", "enter", "u", "1", "enter")
        assert "not opened: -remote-control is no web link" in ui.screen()
        ui.press("u", "2", "enter")
        assert "not opened: file:///etc/passwd" in ui.screen()
        ui.press("u", "4", "enter")
        ui.press("u", "3", "enter")
    finally:
        del os.environ["BROWSER"]
    assert opened == [["echo-browser", "https://ok.example/"]]
    screen = ui.screen()
    assert "To:      list@x.test" in screen and "Subject: unsubscribe" in screen


def test_raw_source_toggle(ui: Harness) -> None:
    ui.press("enter", "h")
    screen = ui.screen()
    assert "Message-ID: <m1@demo.test>" in screen
    assert "raw source" in screen
    ui.press("h")
    assert "Message-ID" not in ui.screen()


def test_view_as_charset_redecodes_the_body(ui: Harness) -> None:
    ui.press("enter", "C")
    ui.app.press(*"iso-8859-5")
    ui.press("enter")
    screen = ui.screen()
    assert "Привет!" not in screen
    assert "shown as iso-8859-5" in screen
    ui.press("C", *"nonsense-cs", "enter")
    assert "unknown charset 'nonsense-cs'" in ui.screen()
    ui.press("C", *"base64", "enter")  # a codec Python has, but no charset
    assert "unknown charset 'base64'" in ui.screen() and "[charset: base64]" not in ui.screen()


def test_find_in_message_highlights_and_n_moves_on(ui: Harness) -> None:
    ui.press("j", "enter", "/", *"earlier", "enter")
    assert "not found" not in ui.screen()
    ui.press("/")
    assert "Find in message [earlier]:" in ui.screen()
    ui.press(*"zzz", "enter")
    assert "not found: zzz" in ui.screen()


def test_search_lists_matches_and_q_returns(ui: Harness) -> None:
    ui.press("/", *"lunch", "enter")
    screen = ui.screen()
    assert "search: lunch  1 message " in screen
    assert "Lunch on Friday?" in screen and "Release notes" not in screen
    ui.press("q")
    assert "All inboxes  3 messages" in ui.screen()


def test_flag_and_unread_toggles_show_at_once(ui: Harness) -> None:
    ui.press("j", "F")
    bob = next(line for line in ui.screen().splitlines() if "Lunch" in line)
    assert "F" in bob.split("│", 1)[1][:4]
    ui.press("N")
    bob = next(line for line in ui.screen().splitlines() if "Lunch" in line)
    assert bob.split("│", 1)[1].startswith("N")
    ui.work()
    kinds = [c[0] for c in ui.backend.calls]
    assert kinds.count("flags") == 2


def test_delete_marks_and_asks_the_session(ui: Harness) -> None:
    ui.press("d")
    assert "moved to Trash" in ui.screen()
    ui.work()
    assert ("delete", (1,)) in ui.backend.calls


def test_move_prompts_with_folder_completion(ui: Harness) -> None:
    ui.press("s", "A", "tab")
    assert "Move to folder: Archive" in ui.screen()
    ui.press("enter")
    ui.work()
    assert ("move", ((1,), "Archive")) in ui.backend.calls


def test_move_to_a_folder_that_does_not_exist_asks_first(ui: Harness) -> None:
    ui.press("s", *"Arhive", "enter")  # a typo
    assert "There is no folder Arhive in demo: create it? (y/n)" in ui.screen()
    ui.press("n")
    ui.work()
    assert not any(c[0] == "move" for c in ui.backend.calls)
    ui.press("s", *"archive", "enter")  # any case finds the folder
    ui.work()
    assert ("move", ((1,), "Archive")) in ui.backend.calls
    ui.press("s", *"INBOX", "enter")
    assert "it is in INBOX already" in ui.screen()
    ui.press("s", *"Projects/2026", "enter", "y")
    ui.work()
    assert any(c == ("move", ((2,), "Projects/2026")) for c in ui.backend.calls)


def test_sort_and_reverse(ui: Harness) -> None:
    ui.press("o", "s")
    lines = [line for line in ui.screen().splitlines() if " Nov " in line]
    assert "Lunch" in lines[0]  # subjects A..Z, as mutt sorts them
    assert "[subject ↑]" in ui.screen()
    ui.press("O")
    lines = [line for line in ui.screen().splitlines() if " Nov " in line]
    assert "Квартальный" in lines[0]  # Z..A: Cyrillic sorts after Latin
    ui.press("o", "d")
    assert "[date ↓]" in ui.screen()  # back to newest first, whatever O did before


def test_change_folder_through_the_sidebar(ui: Harness) -> None:
    ui.press("c", "j", "j", "j", "enter")
    screen = ui.screen()
    assert "demo/Archive  1 message," not in screen and "demo/Archive  1 message " in screen
    assert "Old thread" in screen


def test_help_screen_is_generated_from_the_key_map(ui: Harness) -> None:
    ui.press("?")
    screen = ui.screen()
    assert "reply to all (your own addresses dropped)" in screen
    assert "Help" in screen.splitlines()[-2]
    ui.press("q")
    assert "All inboxes" in ui.screen().splitlines()[-2]


def test_rebound_keys_change_behaviour_and_help() -> None:
    h = Harness()
    h.app.keys = KeyMap({"reply": "R", "help": ["?", "f2"]})
    h.press("f2")
    line = next(x for x in h.screen().splitlines() if "reply to the sender" in x)
    assert line.split("│", 1)[1].split()[:3] == ["R", "index,", "pager"]


def test_quit_asks_first(ui: Harness) -> None:
    ui.press("q")
    assert "Quit tmail? (y/n)" in ui.screen()
    ui.press("n")
    assert "cancelled" in ui.screen()
    import pytest
    import urwid

    ui.press("q")
    with pytest.raises(urwid.ExitMainLoop):
        ui.press("y")


def test_sync_key_shows_progress_and_result(ui: Harness) -> None:
    ui.press("$")
    assert "syncing…" in ui.screen()
    ui.work()
    assert ("sync", "demo") in ui.backend.calls
    assert "synced" in ui.screen()


def test_command_line(ui: Harness) -> None:
    ui.press(":", *"folder Archive", "enter")
    assert "demo/Archive" in ui.screen()
    ui.press(":", *"bogus", "enter")
    assert "unknown command :bogus" in ui.screen()


def test_mouse_click_selects_a_row(ui: Harness) -> None:
    ui.app.top.mouse_event((120, 30), "mouse press", 1, 60, 2, True)
    assert ui.app.index.current() is not None
    assert ui.app.index.current().subject == "Release notes"  # type: ignore[union-attr]


def test_mouse_click_in_the_sidebar_opens_the_folder(ui: Harness) -> None:
    ui.app.top.mouse_event((120, 30), "mouse press", 1, 3, 3, True)
    assert "demo/Archive" in ui.screen()


def test_terminal_escapes_from_mail_are_shown_not_obeyed() -> None:
    h = Harness()
    src = h.source
    row, raw = src.messages[0]
    from dataclasses import replace

    src.messages[0] = (replace(row, subject="evil\x1b]0;pwned\x07 subject"), raw)
    h.app.index.walker.refresh()
    screen = h.screen()
    assert "\x1b" not in screen and "evil^[]0;pwned^G subject" in screen


def test_config_files_list_every_action_and_colour() -> None:
    root = Path(__file__).resolve().parents[2]
    assert (root / "config" / "keys.toml").read_text() == default_keys_toml()
    assert (root / "config" / "theme.toml").read_text() == default_theme_toml()
    assert len({a.name for a in ACTIONS}) == len(ACTIONS)


def test_man_page_lists_every_action() -> None:
    root = Path(__file__).resolve().parents[2]
    man = (root / "man" / "tmail.1").read_text()
    for a in ACTIONS:
        assert f".BR {a.name} ." in man, a.name
    assert KeyMap().keys_for("reply") == ("r",)


def test_attachments_list_saves_without_overwriting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    from tests.tui.conftest import T0
    from tmail.ui.source import MemorySource, Row

    raw = (
        b"From: A <a@x.test>\nTo: me@demo.test\nSubject: files\nMessage-ID: <f@x>\n"
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n'
        b"Content-Type: text/plain\n\nsee attached\n--b\nContent-Type: application/pdf\n"
        b'Content-Disposition: attachment; filename="../../report.pdf"\n'
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(b"%PDF-1.1 x") + b"--b--\n"
    )
    src = MemorySource([(Row(1, "demo", "INBOX", T0, "A", "files", frozenset(), len(raw)), raw)])
    h = Harness(source=src)
    (tmp_path / "report.pdf").write_text("mine")
    h.press("enter")
    assert "report.pdf  (application/pdf, 10 B)" in h.screen()
    h.press("v")
    assert "Attachments" in h.screen() and "s Save" in h.screen()
    h.press("s")
    h.app.prompt_edit.set_edit_text(str(tmp_path))
    h.press("enter")
    assert (tmp_path / "report.pdf").read_text() == "mine"
    saved = [p for p in tmp_path.iterdir() if p.name != "report.pdf"]
    assert len(saved) == 1 and saved[0].read_bytes() == b"%PDF-1.1 x"
    assert f"saved {saved[0]}" in h.screen()
    opened: list[list[str]] = []
    h.app.options.opener = lambda argv: opened.append(list(argv)) or 0
    monkeypatch.setattr("tmail.ui.attachments_view.shutil.which", lambda name: f"/usr/bin/{name}")
    h.press("enter")
    assert opened[0][:2] == ["/usr/bin/run-mailcap", "--action=view"]
    assert opened[0][2].endswith("report.pdf")


def test_saving_an_attachment_under_a_name_of_ones_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    from tmail.ui.source import MemorySource

    raw = (
        b"From: A <a@x.test>\nTo: me@demo.test\nSubject: files\nMessage-ID: <f@x>\n"
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b"\n\n--b\n'
        b"Content-Type: text/plain\n\nsee attached\n--b\nContent-Type: application/pdf\n"
        b'Content-Disposition: attachment; filename="../q3.pdf"\n'
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(b"%PDF-1.1 x") + b"--b--\n"
    )
    src = MemorySource([(Row(1, "demo", "INBOX", T0, "A", "files", frozenset(), len(raw)), raw)])
    h = Harness(source=src)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    h.press("enter", "v", "s")
    assert f"Save to: {tmp_path}/q3.pdf" in h.screen()  # mutt's prompt: a file, named safely
    h.press("enter")
    assert (tmp_path / "q3.pdf").read_bytes() == b"%PDF-1.1 x"
    h.press("s")
    h.app.prompt_edit.set_edit_text(str(tmp_path / "report-for-boss.pdf"))
    h.press("enter")
    assert (tmp_path / "report-for-boss.pdf").read_bytes() == b"%PDF-1.1 x"  # a file, no folder
    h.press("s")
    h.app.prompt_edit.set_edit_text(str(tmp_path / "new-folder") + "/")
    h.press("enter")
    assert (tmp_path / "new-folder" / "q3.pdf").is_file()
    h.press("s")
    h.app.prompt_edit.set_edit_text("/proc/no-such/x.pdf")
    h.press("enter")
    assert "cannot save into /proc/no-such:" in h.screen()


def test_error_log_collects_failures_in_plain_words(ui: Harness) -> None:
    from tmail.runtime.session import SyncFailed

    ui.app.handle_events(
        [SyncFailed(account="demo", error="demo (imap.example:993): login refused — check it")]
    )
    assert "login refused" in ui.screen() and "sync failed" in ui.screen()
    ui.press("E")
    screen = ui.screen()
    assert "Errors (newest last)" in screen
    assert "demo (imap.example:993): login refused — check it" in screen
    assert "Traceback" not in screen


def test_every_failed_folder_is_in_the_error_log(
    ui: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two folders failed in one sync: both lines reach the reader (the error log E), not
    # only the first one.
    from tmail.sync.result import AccountSyncResult

    errors = ["demo (imap.example:993): Lists: NO over quota", "demo (imap.example:993): Old: NO"]

    def sync(account: str, progress: object = None, stop: object = None) -> AccountSyncResult:
        return AccountSyncResult(account, errors=tuple(errors))

    monkeypatch.setattr(ui.backend, "sync", sync)
    ui.press("$")
    ui.work()
    assert "sync failed" in ui.screen()
    ui.press("E")
    screen = ui.screen()
    assert errors[0] in screen and errors[1] in screen


def test_a_long_error_is_cut_on_the_status_line_not_dropped(ui: Harness) -> None:
    from tmail.runtime.session import SyncFailed

    error = "work (imap.example.test:993): login refused for 'someone': " + "x" * 80
    ui.app.handle_events([SyncFailed(account="work", error=error)])
    for width in (120, 60):
        status = ui.app.render_text(width, 10).splitlines()[-2]
        assert "sync failed" in status and "work (imap.exa" in status, status
        assert status.rstrip().endswith("…") and len(status) == width


def test_tab_goes_to_the_next_unread_and_j_k_move_between_messages(ui: Harness) -> None:
    ui.press("j", "tab")  # the only unread is above: Tab goes on from the top
    assert "wrapped to the top" in ui.screen()
    ui.press("enter", "J")
    assert "Subject: Lunch on Friday?" in ui.screen()
    ui.press("K")
    assert "Subject: Квартальный отчёт" in ui.screen()


def test_new_mail_updates_counts_and_shows_a_notice(ui: Harness) -> None:
    from dataclasses import replace as dc_replace

    from tmail.runtime.session import NewMessages

    row, raw = ui.source.messages[1]
    ui.source.messages.append((dc_replace(row, id=9, subject="Fresh news", flags=frozenset()), raw))
    ui.app.handle_events([NewMessages(account="demo", folder="INBOX", count=1)])
    screen = ui.screen()
    assert "1 new message" in screen
    assert "All inboxes  4 messages, 2 unread" in screen
    assert "Fresh news" in screen


def test_new_mail_above_the_cursor_shows_at_the_top() -> None:
    from dataclasses import replace as dc_replace

    from tmail.runtime.session import NewMessages

    source = mailbox()
    row, raw = source.messages[1]
    for i in range(60):  # more rows than the screen has
        old = dc_replace(row, id=100 + i, date=T0 - timedelta(days=2 + i), subject=f"Old {i}")
        source.messages.append((old, raw))
    ui = Harness(source)
    ui.press("j")  # the cursor on the second message
    assert "Квартальный отчёт" in ui.screen().splitlines()[0]
    row, raw = ui.source.messages[1]
    newer = dc_replace(row, id=9, date=T0 + timedelta(hours=1), subject="Fresh news")
    ui.source.messages.append((dc_replace(newer, flags=frozenset()), raw))
    ui.app.handle_events([NewMessages(account="demo", folder="INBOX", count=1)])
    lines = ui.screen().splitlines()
    assert "Fresh news" in lines[0]  # not scrolled away above the screen
    assert "Квартальный отчёт" in lines[1]
    ui.press("enter")  # the cursor stayed on the message it was on
    assert "Subject: Lunch on Friday?" in ui.screen()


def test_a_60_column_terminal_keeps_subjects_and_help_readable(ui: Harness) -> None:
    ui.app.options.sidebar = True  # [ui] sidebar = true: shown however narrow
    screen = ui.app.render_text(60, 24)
    assert all(len(line) == 60 for line in screen.splitlines())
    assert "Квартальный отчёт" in screen  # the sidebar gives way, the subject fits
    assert "All inbox… 1│" in screen
    ui.press("?")
    screen = ui.app.render_text(60, 24)
    lines = [line.split("│", 1)[1].rstrip() for line in screen.splitlines()[:-2]]
    # every key says what it does, not only its name in a cut column
    assert any(line.startswith("j, Down") and "next line" in line for line in lines)
    assert any(line.startswith("Q") and "quit tmail (everywhere)" in line for line in lines)
    assert "quit tmail" in ui.app.render_text(120, 40)  # wide: the three columns as before


def test_a_long_account_name_takes_one_line_of_the_narrow_sidebar(ui: Harness) -> None:
    from tmail.ui.source import SidebarFolder

    name = "my-very-long-account-name"
    ui.app.sidebar.update([name], [SidebarFolder(name, "INBOX", 0, 0)], None)
    ui.app.options.sidebar = True
    lines = ui.app.render_text(60, 10).splitlines()
    assert lines[1].startswith("my-very-lon…│") and lines[2].startswith(" INBOX ")


def test_the_q_hint_says_what_q_does(ui: Harness) -> None:
    assert ui.screen().splitlines()[-1].startswith("? Help  q Quit  ")  # q asks to quit here
    ui.press("q")
    assert "Quit tmail? (y/n)" in ui.screen()
    ui.press("n", "enter")
    assert ui.screen().splitlines()[-1].startswith("? Help  q Back  ")  # from a message: back
    ui.press("q")
    assert "All inboxes" in ui.screen().splitlines()[-2]


def test_dollar_asks_to_send_the_outbox_now(ui: Harness) -> None:
    from tmail.runtime.session import SyncNow

    ui.press("$")
    request = ui.session.take_requests()[0]
    assert isinstance(request, SyncNow) and request.send_now
    assert "syncing" in ui.screen()


def test_wide_characters_in_the_sender_do_not_push_the_size_off_the_line() -> None:
    from dataclasses import replace as dc_replace

    from urwid.str_util import calc_width

    source = mailbox()
    row, raw = source.messages[1]
    wide = dc_replace(row, id=9, date=T0 + timedelta(hours=1), sender="山田 太郎",
                      subject="日本語の件名テスト", size=4321)  # fmt: skip
    source.messages.append((wide, raw))
    ui = Harness(source)
    for width in (120, 80, 60):
        line = next(x for x in ui.app.render_text(width, 10).splitlines() if "山田" in x)
        assert calc_width(line, 0, len(line)) == width
        assert line.endswith(" 4.2 KB"), line  # the size column is whole, at the right edge


def test_the_first_sync_fills_the_index_as_it_goes() -> None:
    # Progress reaches the reader as events (each one: a batch the sync committed), not by
    # looking at the store once a second: no alarm ticks while a sync runs.
    from dataclasses import replace as dc_replace

    from tmail.runtime.session import SyncFinished, SyncProgress, SyncStarted

    class Loop:  # the part of urwid's MainLoop a tick would use
        def __init__(self) -> None:
            self.alarms: list[object] = []

        def set_alarm_in(self, sec: float, callback: object) -> object:
            self.alarms.append(callback)
            return callback

    ui = Harness()
    loop = Loop()
    ui.app.loop = loop  # type: ignore[assignment]
    ui.app.handle_events([SyncStarted(account="demo")])
    row, raw = ui.source.messages[1]
    for i in range(3):  # what the sync worker has stored so far
        ui.source.messages.append((dc_replace(row, id=50 + i, subject=f"Early {i}"), raw))
    ui.app.handle_events([SyncProgress(account="demo", folder="INBOX", done=3, total=900)])
    screen = ui.screen()
    assert "All inboxes  6 messages" in screen and "Early 0" in screen  # before the sync ends
    assert "syncing demo INBOX 3/900" in screen
    ui.app.handle_events([SyncFinished(account="demo")])
    assert "synced" in ui.screen()
    assert loop.alarms == []  # nothing polled the store


def test_space_at_the_end_of_a_message_reads_the_next(ui: Harness) -> None:
    ui.press("enter")
    assert "Subject: Квартальный отчёт" in ui.screen()  # short: all of it on the screen
    ui.press(" ")
    assert "Subject: Lunch on Friday?" in ui.screen()
    ui.press(" ")
    assert "Subject: Release notes" in ui.screen()
    ui.press(" ")
    assert "that was the last message" in ui.screen()


def test_delete_in_a_message_goes_on_to_the_next(ui: Harness) -> None:
    ui.press("enter", "d")
    screen = ui.screen()
    assert "Subject: Lunch on Friday?" in screen and "moved to Trash" in screen
    ui.work()
    assert ("delete", (1,)) in ui.backend.calls
    ui.press("d")
    assert "Subject: Release notes" in ui.screen()
    ui.press("d")  # the last one: back to the list
    assert "Subject:" not in ui.screen() and "All inboxes" in ui.screen().splitlines()[-2]


def test_help_and_error_log_do_not_pile_up(ui: Harness) -> None:
    ui.press("?", "?", "?", "q")
    assert "All inboxes" in ui.screen().splitlines()[-2]  # one q leaves the help
    ui.press("E", "E", "q")
    assert "All inboxes" in ui.screen().splitlines()[-2]


def test_emoji_with_a_presentation_selector_cannot_garble_a_line() -> None:
    # urwid counts "☺️" as one column, terminals draw two: the line ran past the edge and left
    # stale cells behind. Shown without the selector, both count one.
    from dataclasses import replace as dc_replace

    source = mailbox()
    row, raw = source.messages[1]
    smiley = dc_replace(row, id=9, date=T0 + timedelta(hours=1), subject="Done ✔️ thanks ☺️")
    source.messages.append((smiley, raw))
    ui = Harness(source)
    line = ui.screen().splitlines()[0]
    assert "Done ✔ thanks ☺ " in line and "\ufe0f" not in ui.screen()


def test_a_command_missing_its_argument_shows_how_to_write_it(ui: Harness) -> None:
    for line, usage in [
        ("sort", "usage: :sort date|from|subject|size"),
        ("sort foo", "usage: :sort date|from|subject|size"),
        ("folder", "usage: :folder ACCOUNT/FOLDER"),
        ("search", "usage: :search QUERY"),
        ("hints maybe", "usage: :hints on|off"),
    ]:
        ui.app.run_command(line)
        assert usage in ui.screen(), line
    ui.app.run_command("frobnicate")
    assert "unknown command :frobnicate (:help lists them)" in ui.screen()


def test_n_in_a_message_marks_it_unread_when_nothing_is_searched(ui: Harness) -> None:
    ui.press("enter")
    ui.work()
    ui.press("N")  # no text search here: mark unread, as in the index and in mutt's pager
    assert "marked unread" in ui.screen()
    ui.work()
    ui.press("q")
    anna = next(line for line in ui.screen().splitlines() if "Квартальный" in line)
    assert anna.split("│", 1)[1].startswith("N")


def test_a_bug_is_one_line_not_a_traceback(ui: Harness) -> None:
    def broken() -> None:
        raise ZeroDivisionError("oops")

    from dataclasses import replace

    flag = ui.app.keys.actions["flag"]  # what F does, from the action registry
    ui.app.keys.actions["flag"] = replace(flag, do=lambda app: broken())
    ui.press("F")
    screen = ui.screen()
    assert "internal error: ZeroDivisionError('oops')" in screen
    assert "Traceback" not in screen


def test_an_error_goes_from_the_status_line_after_a_while(
    ui: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tmail.ui.app as app_module

    clock = [1000.0]
    monkeypatch.setattr(app_module.time, "monotonic", lambda: clock[0])
    ui.app.notice("no viewer (run-mailcap, xdg-open); saved as /tmp/x.pdf", error=True)
    ui.press("j")
    assert "no viewer" in ui.screen()  # a key right after: still there to be read
    clock[0] += 11
    ui.press("k")
    assert "no viewer" not in ui.screen()  # not hanging over every later screen
    ui.press("E")
    assert "no viewer" in ui.screen()  # the error log keeps it


def test_a_failing_click_is_one_line_not_a_traceback(ui: Harness) -> None:
    def broken(account: str, folder: str) -> None:
        raise ZeroDivisionError("oops")

    ui.app.sidebar._on_open = broken  # type: ignore[attr-defined]
    ui.app.refresh_sidebar()
    ui.screen()
    ui.app.top.mouse_event((120, 30), "mouse press", 1, 5, 2, True)  # the INBOX line
    screen = ui.screen()
    assert "internal error: ZeroDivisionError('oops')" in screen


def test_theme_and_keys_from_the_config_are_checked() -> None:
    from tmail.core.errors import ConfigError
    from tmail.ui.theme import palette

    entries = {name: (fg, bg, mono) for name, fg, bg, mono in palette({"quote": "dark blue"})}
    assert entries["quote"][0] == "dark blue"
    # every element keeps a meaning without colour
    for name in ("index_unread", "index_focus", "status", "hint_key", "warning", "link"):
        assert entries[name][2], name
    with pytest.raises(ConfigError, match=r"\[theme\] qoute: no such element"):
        palette({"qoute": "red"})
    with pytest.raises(ConfigError, match=r"\[keys\] rply: no such action"):
        KeyMap({"rply": "r"})
    with pytest.raises(ConfigError, match="expected a key or a list of keys"):
        KeyMap({"reply": 5})


def test_the_palette_registers_on_a_monochrome_screen() -> None:
    import urwid

    from tmail.ui.theme import palette

    screen = urwid.display.raw.Screen()
    screen.set_terminal_properties(colors=1)
    screen.register_palette(palette())
