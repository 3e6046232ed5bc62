"""The demo mailbox through the real store: what a newcomer sees and does."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tmail.runtime.backend import DemoBackend
from tmail.runtime.demo import DEMO_EMAIL, create_demo, demo_config, demo_messages
from tmail.store import Store
from tmail.ui.app import App, Options
from tmail.ui.main import build_app


class Demo:
    def __init__(self, root: Path) -> None:
        self.config = demo_config(root)
        self.store = Store.open(self.config.data_dir)
        self.backend = DemoBackend(self.config, self.store)
        self.app: App = build_app(self.config, self.store, self.backend, {}, poll=False)
        self.app.options.editor = lambda text: "Got it, thanks!\n" + text

    def screen(self) -> str:
        return self.app.render_text(120, 40)

    def work(self) -> None:
        s = self.app.session
        for ev in s.run_pending():
            s.events.put(ev)
        self.app.handle_events(s.drain())


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo-template") / "demo"
    create_demo(root)
    return root


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Iterator[Demo]:
    shutil.copytree(demo_template, tmp_path / "demo")
    d = Demo(tmp_path / "demo")
    yield d
    d.store.close()


def test_demo_mailbox_has_what_the_issue_promises() -> None:
    msgs = demo_messages()
    assert 200 <= len(msgs) <= 500
    folders = {m.folder for m in msgs}
    assert {"INBOX", "Sent", "Drafts", "Trash", "Archive", "Lists/tmail-dev"} <= folders
    raws = [m.raw for m in msgs]
    assert any(b"charset=koi8-r" in r for r in raws)
    assert any(b"charset=windows-1251" in r for r in raws)
    assert any(b"charset=us-ascii" in r and "Привет".encode("cp1251") in r for r in raws)
    assert any(b"Content-Type: text/html" in r for r in raws)
    assert any(b"Content-Disposition: attachment" in r for r in raws)
    assert any(b"multipart/report" in r for r in raws)
    assert any(b"In-Reply-To:" in r for r in raws)


def test_first_screen_of_the_demo(demo: Demo) -> None:
    screen = demo.screen()
    top = screen.splitlines()[0]
    assert "Welcome to the tmail demo: start here" in top
    assert "All inboxes" in screen and "Lists/tmail-dev" in screen
    assert "Отчёт за квартал" in screen  # KOI8-R subject decoded in the index
    assert "r Reply" in screen


def test_read_a_koi8r_letter(demo: Demo) -> None:
    demo.app.press("/", *"subject:квартал", "enter")
    assert "search: subject:квартал" in demo.screen()
    demo.app.press("enter")
    screen = demo.screen()
    assert "From: Анна Петрова <anna@petrova.example>" in screen
    assert "Пересылаю отчёт за третий квартал." in screen


def test_windows_1251_letter_labelled_us_ascii_reads_right(demo: Demo) -> None:
    # the demo account assumes koi8-r and windows-1251: both decode any byte, the text decides
    demo.app.press("/", *'subject:"встреча в субботу (2)"', "enter", "enter")
    screen = demo.screen()
    assert "Subject: Встреча в субботу (2)" in screen
    assert "[charset: windows-1251 (detected)]" in screen
    assert "Встречаемся в субботу" in screen


def test_reply_send_and_see_it_arrive(demo: Demo) -> None:
    demo.app.press("/", *"subject:квартал", "enter", "enter", "r", "enter")
    screen = demo.screen()
    assert "To: Анна Петрова <anna@petrova.example>" in screen
    assert "Got it, thanks!" in screen and "> Здравствуйте!" in screen
    demo.app.press("y")
    demo.work()
    assert "sent: Re: Отчёт за квартал" in demo.screen()
    demo.app.press("q", "q")  # back to the inbox
    demo.app.press("home")
    top = demo.screen().splitlines()[0]
    assert "Re: Отчёт за квартал" in top and top.split("│", 1)[1].startswith("N")
    rows = demo.store.list_messages("demo", "INBOX", limit=1)
    assert rows[0].from_[0].addr == DEMO_EMAIL
    assert demo.store.count("demo", "Sent") == 36


def test_thread_view_draws_tree_lines(demo: Demo) -> None:
    demo.app.open_folder("demo", "Lists/tmail-dev")
    demo.app.press("t")
    screen = demo.screen()
    assert "threads" in screen
    assert "└─>" in screen or "├─>" in screen
    # replies that only repeat the subject show the tree alone (mutt's hide_thread_subject)
    assert any(line.rstrip().endswith("B") and "─>  " in line for line in screen.splitlines())


def test_delete_moves_to_trash_in_the_store(demo: Demo) -> None:
    before = demo.store.count("demo", "Trash")
    demo.app.press("j", "d")
    demo.work()
    assert demo.store.count("demo", "Trash") == before + 1


def test_delete_in_trash_asks_before_it_is_gone_for_good(demo: Demo) -> None:
    before = demo.store.count("demo", "Trash")
    demo.app.open_folder("demo", "Trash")
    demo.app.press("d")
    assert "Delete it for good? (y/n)" in demo.screen()
    demo.app.press("n")
    demo.work()
    assert demo.store.count("demo", "Trash") == before
    demo.app.press("d", "y")
    demo.work()
    assert demo.store.count("demo", "Trash") == before - 1
    assert "deleted" in demo.screen()


def test_address_completion_uses_the_store(demo: Demo) -> None:
    demo.app.press("m", *"gra", "tab")
    assert "Grace Okafor <grace@okafor.example>" in demo.screen()


@pytest.mark.skipif(
    not hasattr(__import__("tmail.mime").mime, "parse_message"),
    reason="HTML to text comes with tmail.mime.parse_message (issue 4)",
)
def test_html_newsletter_reads_as_text(demo: Demo) -> None:
    demo.app.press("/", *"subject:weekly", "enter", "enter")
    screen = demo.screen()
    assert "Weekly Terminal" in screen
    assert "<html>" not in screen


def test_options_default() -> None:
    assert Options().hints


def test_forward_inline_keeps_the_attachments(demo: Demo) -> None:
    demo.app.press("/", *"has:attachment from:eve", "enter")
    demo.app.press("enter", "f", "i")
    demo.app.press(*"carol@jensen.example", "enter", "enter", "enter", "enter")
    screen = demo.screen()
    assert "Attachments (" in screen
    assert "report-q3.pdf" in screen or "Отчёт за квартал.txt" in screen
    assert "---------- Forwarded message ----------" in screen
    demo.app.press("y")
    demo.work()
    assert "sent: Fwd:" in demo.screen()
    newest = demo.store.list_messages("demo", "INBOX", limit=1)[0]
    assert newest.subject.startswith("Fwd:") and newest.has_attachment


def test_forward_as_attachment_names_the_file_after_the_subject(demo: Demo) -> None:
    demo.app.press("/", *"subject:квартал", "enter", "enter", "f", "a")
    demo.app.press(*"carol@jensen.example", "enter", "enter", "enter", "enter")
    screen = demo.screen()
    assert "1. Отчёт за квартал, часть 4.eml  (" in screen  # not "forwarded-message.eml"


def test_bounce_shows_the_delivery_report(demo: Demo) -> None:
    demo.app.press("/", *"subject:undelivered", "enter", "enter")
    screen = demo.screen()
    assert "nobody@nowhere.example: failed 5.1.1" in screen
    assert "[-- Enclosed message --]" in screen
    assert "[charset: us-ascii]" in screen  # as declared, not the windows-1252 it is read with


def test_an_enclosed_message_opens_in_the_pager(demo: Demo) -> None:
    opened: list[list[str]] = []
    demo.app.options.opener = lambda argv: opened.append(list(argv)) or 0
    demo.app.press("/", *"subject:undelivered", "enter", "enter", "v", "enter")
    screen = demo.screen()
    assert "Subject: Hello?" in screen and "Is anybody there?" in screen  # read here, as mutt
    assert opened == []  # no external viewer for a message
    demo.app.press("q")
    assert "1. part1.eml" in demo.screen()  # back to the attachment list


def test_html_original_opens_in_the_browser_without_remote_content(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[list[str]] = []
    demo.app.options.opener = lambda argv: opened.append(list(argv)) or 0
    monkeypatch.setenv("BROWSER", "a-browser")
    demo.app.press("/", *"subject:weekly", "enter", "enter", "b")
    assert opened and opened[0][0] == "a-browser"
    page = Path(opened[0][1].removeprefix("file://")).read_text()
    assert "default-src 'none'" in page and "<h1>The Weekly Terminal" in page


def test_postpone_without_recipients_then_resume_and_send(demo: Demo, tmp_path: Path) -> None:
    drafts = demo.store.count("demo", "Drafts")
    notes = tmp_path / "notes.txt"
    notes.write_text("the numbers\n")
    demo.app.press("m", "enter", "enter")  # To and Cc left empty
    demo.app.press(*"boss@corp.example", "enter", *"Plans", "enter")
    demo.app.press("a")
    demo.app.prompt_edit.set_edit_text(str(notes))
    demo.app.press("enter", "P")
    demo.work()
    assert "postponed to demo/Drafts" in demo.screen()  # no "no recipients" refusal
    assert demo.store.count("demo", "Drafts") == drafts + 1

    demo.app.open_folder("demo", "Drafts")
    assert "R Resume" in demo.screen().splitlines()[-1]
    demo.app.press("home", "R")
    screen = demo.screen()
    assert "Compose: review and send" in screen
    assert "Bcc: boss@corp.example" in screen and "Subject: Plans" in screen
    assert "1. notes.txt  (12 B)" in screen and "Got it, thanks!" in screen
    demo.app.press("E", *"anna@petrova.example")  # the form starts on the empty To
    demo.app.press("enter", "enter", "enter", "enter")  # Cc, Bcc, Subject: back to review
    assert "To: anna@petrova.example" in demo.screen()
    demo.app.press("y")
    demo.work()
    demo.work()
    assert "sent: Plans" in demo.screen()
    assert demo.store.count("demo", "Drafts") == drafts  # the draft went once it was sent
    sent = demo.store.list_messages("demo", "INBOX", limit=1)[0]
    assert sent.subject == "Plans" and sent.has_attachment


def test_resume_says_what_it_is_for_outside_drafts(demo: Demo) -> None:
    demo.app.press("R")
    assert "not a draft" in demo.screen()


def test_folder_command_and_a_search_in_a_folder_say_where(demo: Demo) -> None:
    demo.app.run_command("folder Lists/tmail-dev")  # a folder of the current account
    assert "demo/Lists/tmail-dev  " in demo.screen()
    demo.app.run_command("folder demo/archive")
    assert "demo/Archive  " in demo.screen()
    demo.app.run_command("search is:flagged")
    assert "search in demo/Archive: is:flagged" in demo.screen()
    demo.app.run_command("folder demo/Nowhere")
    screen = demo.screen()
    assert "no folder demo/Nowhere (c shows the folders)" in screen
    assert "search in demo/Archive: is:flagged" in screen  # still where it was


def test_an_account_without_mail_yet_still_has_its_inbox(tmp_path: Path) -> None:
    from tests.tui.conftest import Harness
    from tmail.ui.storesource import StoreSource

    with Store.open(tmp_path / "data") as store:
        store.ensure_folder("work", "Sent")  # a POP3 account that only sent so far
        h = Harness(source=StoreSource(store, ["home", "work"]))  # type: ignore[arg-type]
        lines = h.screen().splitlines()
        for account in ("home", "work"):
            at = next(i for i, line in enumerate(lines) if line.startswith(account + " "))
            assert lines[at + 1].startswith(" INBOX "), lines[at + 1]
        h.press("c", "j", "enter")  # from All inboxes down to home's INBOX
        assert "home/INBOX  0 messages" in h.screen()
