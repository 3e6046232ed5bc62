"""Small things of the reader a new user meets in the first hour (issue 11, item 21)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from tests.tui import test_demo
from tests.tui.conftest import Harness
from tests.tui.test_demo import Demo
from tests.tui.test_thread_sort import letter
from tmail.runtime.demo import DEMO_NAME
from tmail.store import Store
from tmail.ui.index import RowWidget
from tmail.ui.source import View
from tmail.ui.storesource import StoreSource

demo_template = test_demo.demo_template  # the demo mailbox's fixtures
demo = test_demo.demo


def test_sent_mail_shows_its_recipient_not_oneself(demo: Demo) -> None:
    demo.app.open_folder("demo", "Sent")
    listed = "\n".join(line for line in demo.screen().splitlines()[:10] if "│" in line)
    assert "To: Hiro Tanaka" in listed
    assert DEMO_NAME not in listed


def test_ones_own_mail_in_any_folder_names_the_recipient(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "data")
    store.add_message("a", "INBOX", letter(1, 1, "Me <me@x.test>", "Note to self"))
    store.add_message("a", "INBOX", letter(2, 2, "Ann <ann@x.test>", "Hello"))
    source = StoreSource(store, ["a"], ["ME@x.test"])
    texts = [RowWidget(r).text(100) for r in source.rows(View("a", "INBOX"), 0, 10)]
    assert "To: me@demo.test" in texts[1] and "Me " not in texts[1]
    assert "Ann" in texts[0]
    store.close()


def test_a_search_across_folders_names_each_results_folder(demo: Demo) -> None:
    demo.app.press("/", *"lunch", "enter")  # from All inboxes: every folder
    lines = demo.screen().splitlines()
    sent = next(line for line in lines if "To: Carol Jensen" in line)
    assert " Sent " in sent
    assert any(" INBOX " in line and "Lunch on Friday?" in line for line in lines)
    assert any(" tmail-dev " in line for line in lines)  # Lists/tmail-dev by its own name
    # searched in one folder, every row is from there: no folder column
    demo.app.press("q")
    demo.app.open_folder("demo", "INBOX")
    demo.app.press("/", *"lunch", "enter")
    rows = [line.partition("│")[2] for line in demo.screen().splitlines()[:20]]
    assert "Lunch on Friday?" in "".join(rows)
    assert not any(" INBOX " in row for row in rows)


class _Loop:
    """The parts of urwid's MainLoop the status line uses: alarms, run when the test says."""

    def __init__(self) -> None:
        self.alarms: list[tuple[float, Callable[..., object]]] = []

    def set_alarm_in(self, sec: float, callback: Callable[..., object]) -> None:
        self.alarms.append((sec, callback))


def status_line(ui: Harness) -> str:
    return ui.app.render_text(120, 10).splitlines()[-2]


def test_one_status_message_at_a_time_and_each_goes(
    ui: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tmail.ui.app as app_module
    from tmail.runtime.session import NewMessages, SyncFailed, SyncFinished, SyncStarted

    clock = [1000.0]
    monkeypatch.setattr(app_module.time, "monotonic", lambda: clock[0])
    # "synced 09:30" and "2 new messages" do not run together: the message alone
    ui.app.handle_events(
        [SyncFinished(account="demo"), NewMessages(account="demo", folder="INBOX", count=2)]
    )
    assert "2 new messages" in status_line(ui) and "synced" not in status_line(ui)
    # a running sync keeps its progress, set apart from the message
    ui.app.handle_events([SyncStarted(account="demo")])
    ui.app.notice("marked read")
    assert "syncing demo… │ marked read" in status_line(ui)
    # a notice goes after a while without a key
    loop = _Loop()
    ui.app.loop = loop  # type: ignore[assignment]
    ui.app.notice("moved to Trash")
    clock[0] += 9
    for _sec, callback in loop.alarms:
        callback(loop, None)
    assert "moved to Trash" not in status_line(ui)
    ui.app.loop = None
    # an error is kept a while through keys in the same view ...
    ui.app.handle_events([SyncFailed(account="demo", error="demo: login refused")])
    ui.press("j")
    assert "login refused" in status_line(ui)
    # ... but does not follow into the message opened next
    ui.press("enter")
    assert "login refused" not in status_line(ui)
    assert "Subject: Lunch on Friday?" in ui.screen()
    # a key that changes the view and says something keeps its own message
    ui.press("d")
    assert "moved to Trash" in status_line(ui)


def test_view_as_charset_shows_the_choices_at_once_and_goes_back_to_auto(ui: Harness) -> None:
    ui.press("enter", "C")  # the KOI8-R letter
    screen = ui.app.render_text(80, 24)
    assert "View as charset" in screen
    for name in ("auto", "utf-8", "[koi8-r]", "windows-1251", "cp866"):
        assert name in screen  # before any Tab; the one in use marked
    ui.app.press(*"iso-8859-5", "enter")
    assert "Привет!" not in ui.screen() and "[charset: iso-8859-5]" in ui.screen()
    ui.press("C")
    assert "[iso-8859-5]" in ui.screen()
    ui.app.press(*"auto", "enter")
    screen = ui.screen()
    assert "Привет!" in screen and "[charset: koi8-r]" in screen
    assert "shown as koi8-r (auto)" in screen
    ui.press("C", "tab")  # Tab on nothing completes nothing away: the list stays
    assert "windows-1251" in ui.screen()
    ui.press("esc")
    assert "windows-1251" not in ui.screen()  # the hint line is back


def test_raw_view_decodes_each_parts_legacy_charset(ui: Harness) -> None:
    ui.press("enter", "h")  # the KOI8-R letter's source
    screen = ui.screen()
    assert "Content-Type: text/plain; charset=koi8-r" in screen
    assert "Привет!" in screen and "Отчёт во вложении." in screen
    assert "\ufffd" not in screen


def test_tab_to_the_next_unread_wraps_to_the_top_and_says_so(ui: Harness) -> None:
    ui.press("j", "j", "tab")  # on the last message; the unread one is the first
    assert "wrapped to the top" in status_line(ui)
    assert ui.app.index.current().id == 1  # type: ignore[union-attr]
    ui.press("tab")  # the only unread: nothing else to go to
    assert "no other unread messages" in status_line(ui)
    ui.press("enter")
    ui.work()
    ui.press("q", "tab")  # read now: none left anywhere
    assert "no unread messages" in status_line(ui)
    # in a message, Tab opens the next unread from the top too
    ui.source.update(replace(ui.source.row(1), flags=frozenset()))  # type: ignore[arg-type]
    ui.app.index.refresh()
    ui.press("j", "j", "enter", "tab")
    assert "Subject: Квартальный отчёт" in ui.screen()
    assert "wrapped to the top" in status_line(ui)


def test_esc_in_compose_and_d_in_review_ask_before_anything_is_lost(
    ui: Harness, tmp_path: Path
) -> None:
    ui.press("m", "esc")  # nothing written yet: gone at once
    assert "message abandoned" in status_line(ui) and "Compose" not in status_line(ui)
    ui.press("m")
    ui.type("ann@x.test")
    ui.press("esc")
    assert "Abandon this message? (y/n)" in ui.screen()
    ui.press("n")  # kept, where it was
    assert "ann@x.test" in ui.screen() and "Compose: headers" in ui.screen()
    ui.press("enter", "enter", "enter", "enter")  # on to the review screen
    (tmp_path / "plan.txt").write_text("plan")
    ui.press("a")
    ui.app.prompt_edit.set_edit_text(str(tmp_path / "plan.txt"))
    ui.press("enter", "D")
    assert "Remove plan.txt from the message? (y/n)" in ui.screen()
    ui.press("n")
    assert "1. plan.txt" in ui.screen()
    ui.press("E")  # the headers again: changed ones are not dropped unasked
    ui.type(",bo@x.test")
    ui.press("esc")
    assert "Drop the changes to the headers? (y/n)" in ui.screen()
    ui.press("y")
    assert "Compose: review" in ui.screen() and "bo@x.test" not in ui.screen()
    ui.press("q", "y")
    ui.press("m")  # something written: Esc asks, y abandons
    ui.type("cy@x.test")
    ui.press("esc", "y")
    assert "message abandoned" in ui.screen()


def test_attaching_a_folder_says_it_is_a_folder_and_offers_its_files(
    ui: Harness, tmp_path: Path
) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "q3.pdf").write_bytes(b"%PDF")
    ui.press("m")
    ui.type("a@b.test")
    ui.press("enter", "enter", "enter", "enter", "a")
    ui.app.prompt_edit.set_edit_text(str(tmp_path / "reports"))
    ui.press("enter")
    screen = ui.screen()
    assert "reports: is a folder, not a file" in screen and "no such file" not in screen
    # the prompt is open again inside the folder: Tab finds the file, Enter attaches it
    assert f"Attach file: {tmp_path / 'reports'}/" in screen
    ui.press("tab", "enter")
    assert "1. q3.pdf" in ui.screen()
    ui.press("a")
    ui.app.prompt_edit.set_edit_text(str(tmp_path / "nothing.txt"))
    ui.press("enter")
    assert "nothing.txt: no such file" in ui.screen()
