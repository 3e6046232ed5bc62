"""Compose as a person does it: headers form, the editor, the review screen, send."""

from __future__ import annotations

from pathlib import Path

import pytest
import urwid

from tests.tui.conftest import T0, Harness, message
from tmail.core.models import Address
from tmail.mime.compose import Draft
from tmail.ui.compose import (
    ComposeState,
    Identity,
    Original,
    forgotten_attachment,
    forward_state,
    reply_state,
)

ME = Identity("demo", Address("Me", "me@demo.test"))


def summary(**kw: object) -> Original:
    base: dict[str, object] = dict(
        message_id="orig@x",
        references=("root@x",),
        date=T0,
        from_=(Address("Anna", "anna@x.test"),),
        to=(Address("Me", "me@demo.test"), Address("Bob", "bob@x.test")),
        cc=(Address("", "ME@other.test"), Address("Carol", "carol@x.test")),
        subject="Отчёт",
        body_text="line one\n> older\n",
    )
    base.update(kw)
    return Original(**base)  # type: ignore[arg-type]


def test_reply_quotes_with_attribution_and_keeps_threading() -> None:
    s = reply_state(summary(), ME, reply_all=False, own_addresses=["me@other.test"])
    assert s.to == "Anna <anna@x.test>" and s.cc == ""
    assert s.subject == "Re: Отчёт"
    assert s.in_reply_to == "orig@x" and s.references == ("root@x", "orig@x")
    assert (
        "On Fri, 20 Nov 2026 09:30 +0000, Anna <anna@x.test> wrote:\n> line one\n>> older" in s.body
    )


def test_reply_all_drops_own_addresses_and_duplicates() -> None:
    s = reply_state(summary(), ME, reply_all=True, own_addresses=["me@other.test"])
    assert s.to == "Anna <anna@x.test>"
    assert s.cc == "Bob <bob@x.test>, Carol <carol@x.test>"
    assert "me@" not in s.cc.lower()


def test_a_note_from_ones_other_account_gets_a_reply_to_that_account() -> None:
    # From the user's other account to this one: everyone is "own"; the reply went to nobody
    other = Address("Me at home", "me@other.test")
    note = summary(from_=(other,), to=(Address("Me", "me@demo.test"),), cc=())
    for reply_all in (False, True):
        s = reply_state(note, ME, reply_all=reply_all, own_addresses=["me@other.test"])
        assert s.to == "Me at home <me@other.test>" and s.cc == ""


def test_reply_goes_to_reply_to_when_set() -> None:
    s = reply_state(
        summary(reply_to=(Address("List", "list@x.test"),)), ME, reply_all=False, own_addresses=[]
    )
    assert s.to == "List <list@x.test>"


def test_re_is_not_stacked() -> None:
    s = reply_state(summary(subject="RE: x"), ME, reply_all=False, own_addresses=[])
    assert s.subject == "RE: x"


def test_forward_inline_keeps_attachments_and_headers(tmp_path: Path) -> None:
    part = tmp_path / "a.pdf"
    part.write_bytes(b"%PDF-1.1")
    s = forward_state(summary(), ME, attachments=[part])
    assert s.subject == "Fwd: Отчёт"
    assert s.attachments == [part]
    assert "---------- Forwarded message ----------\nFrom: Anna <anna@x.test>" in s.body
    assert "line one" in s.body


def test_forgotten_attachment_in_english_and_russian(tmp_path: Path) -> None:
    assert forgotten_attachment(ComposeState(ME, body="The file is attached."))
    assert forgotten_attachment(ComposeState(ME, body="Документ во вложении."))
    assert not forgotten_attachment(ComposeState(ME, body="> see attached\nthanks"))
    f = tmp_path / "x.txt"
    f.write_text("x")
    assert not forgotten_attachment(ComposeState(ME, body="attached", attachments=[f]))


def test_new_message_form_editor_review_send(ui: Harness) -> None:
    ui.press("m")
    screen = ui.screen()
    assert "From:    Me <me@demo.test> [demo]" in screen and "Compose: headers" in screen
    assert screen.splitlines()[-1].startswith("Tab Complete  Enter Next  ↑↓ Field  Esc Cancel")
    ui.type("friend@example.org")
    ui.press("enter", "enter", "enter")
    ui.type("Hello")
    ui.press("enter")  # Subject done: the editor runs
    assert ui.edited == [""]
    screen = ui.screen()
    assert "Compose: review and send" in screen
    assert "To: friend@example.org" in screen and "Hello there." in screen
    assert "y Send" in screen and "P Postpone" in screen
    ui.press("y")
    ui.work()
    assert "sent: Hello" in ui.screen()
    draft = next(c[1] for c in ui.backend.calls if c[0] == "send")
    assert isinstance(draft, Draft)
    assert draft.to == ("friend@example.org",) and draft.subject == "Hello"
    assert draft.body == "Hello there.\n"


def test_reply_from_the_index_goes_to_review_with_quote(ui: Harness) -> None:
    ui.press("j", "r", "enter")  # the form opens on Subject; Enter runs the editor
    screen = ui.screen()
    assert "Subject: Re: Lunch on Friday?" in screen
    assert "> Shall we?" in screen
    ui.press("y")
    ui.work()
    draft = next(c[1] for c in ui.backend.calls if c[0] == "send")
    assert isinstance(draft, Draft)
    assert (draft.in_reply_to or "").strip("<>") == "m2@demo.test"
    # the original is flagged replied once the reply is out
    assert any(c[0] == "flags" and c[1][0] == (2,) for c in ui.backend.calls)


def test_forgotten_attachment_asks_before_sending() -> None:
    h = Harness(editor_text="See the attached report.\n")
    h.press("m")
    h.type("a@b.test")
    h.press("enter", "enter", "enter", "enter")
    assert "mentions an attachment, but nothing is attached" in h.screen()
    h.press("y")
    assert "Send anyway? (y/n)" in h.screen()
    h.press("n")
    h.work()
    assert not any(c[0] == "send" for c in h.backend.calls)


def test_attach_detach_html_and_postpone(ui: Harness, tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    ui.press("m")
    ui.type("a@b.test")
    ui.press("enter", "enter", "enter", "enter")
    ui.press("a")
    ui.app.prompt_edit.set_edit_text(str(tmp_path / "no"))
    ui.press("tab")
    assert f"Attach file: {f}" in ui.screen()
    ui.press("enter")
    assert "1. notes.txt  (5 B)" in ui.screen()
    ui.press("H")
    assert "HTML alternative: yes" in ui.screen()
    ui.press("D", "y")
    assert "No attachments" in ui.screen()
    ui.press("P")
    ui.work()
    assert "postponed to demo/Drafts" in ui.screen()
    draft = next(c[1] for c in ui.backend.calls if c[0] == "postpone")
    assert isinstance(draft, Draft) and draft.html is not None


def test_typing_an_absolute_path_after_the_filled_in_folder(ui: Harness, tmp_path: Path) -> None:
    # the prompt starts with the current folder; a person types /full/path or ~/x after it
    f = tmp_path / "report.txt"
    f.write_text("numbers")
    ui.press("m")
    ui.type("a@b.test")
    ui.press("enter", "enter", "enter", "enter", "a")
    assert ui.app.prompt_edit.edit_text.endswith("/")
    ui.type(str(tmp_path / "rep"))
    ui.press("tab")
    assert f"Attach file: {f}" in ui.screen()
    ui.press("enter")
    assert "1. report.txt  (7 B)" in ui.screen()


def test_bad_address_is_one_line_on_the_status(ui: Harness) -> None:
    ui.press("m")
    ui.type("not an address")
    ui.press("enter", "enter", "enter", "enter", "y")
    assert "is not an e-mail address" in ui.screen()
    assert "Compose: review and send" in ui.screen()


def test_abandon_asks(ui: Harness) -> None:
    ui.press("m", "enter", "enter", "enter", "enter", "q")
    assert "Abandon this message? (y/n)" in ui.screen()
    ui.press("y")
    assert "message abandoned" in ui.screen()
    assert "All inboxes" in ui.screen()


def test_address_completion_from_the_store() -> None:
    from tmail.ui.source import Contact

    h = Harness()
    h.source.contacts = lambda prefix, limit=10: [Contact("Anna Petrova", "anna@demo.test")]  # type: ignore[method-assign]
    h.press("m")
    h.type("an")
    h.press("tab")
    assert "To:      Anna Petrova <anna@demo.test>" in h.screen()


def test_tab_again_offers_the_next_matching_address() -> None:
    from tmail.ui.source import Contact

    h = Harness()
    found = [Contact("Anna Petrova", "anna@demo.test"), Contact("Anna Berg", "berg@x.test")]
    h.source.contacts = lambda prefix, limit=10: found  # type: ignore[method-assign]
    h.press("m")
    h.type("bob@x.test, an")
    h.press("tab")
    assert "To:      bob@x.test, Anna Petrova <anna@demo.test>" in h.screen()
    h.press("tab")
    assert "To:      bob@x.test, Anna Berg <berg@x.test>" in h.screen()
    h.press("tab")
    assert "To:      bob@x.test, Anna Petrova <anna@demo.test>" in h.screen()


def test_raw_message_roundtrip_helper() -> None:
    assert message("x@y", "A <a@b>", "S", "body").startswith(b"From: A <a@b>")


def test_from_chooser_cycles_accounts() -> None:
    h = Harness()
    work = Identity("work", Address("Me at Work", "me@work.test"))
    h.app.identities.append(work)
    h.press("m", "up")  # from To up to the From chooser
    assert "From:    Me <me@demo.test> [demo]  (←/→ to change)" in h.screen()
    h.press("right")
    assert "From:    Me at Work <me@work.test> [work]" in h.screen()
    h.press("down")
    h.type("x@y.test")
    h.press("enter", "enter", "enter", "enter", "y")
    h.work()
    draft = next(c[1] for c in h.backend.calls if c[0] == "send")
    assert isinstance(draft, Draft) and draft.from_ == work.address


def test_ctrl_c_while_writing_asks_and_keeps_the_message(ui: Harness) -> None:
    ui.press("m")
    ui.type("a@b.test")
    ui.press("enter", "enter", "enter", "enter")
    ui.app.interrupted()  # what SIGINT rings on the doorbell
    assert "Quit tmail? The message you are writing will be lost. (y/n)" in ui.screen()
    ui.press("n")
    screen = ui.screen()
    assert "Compose: review and send" in screen and "To: a@b.test" in screen


def test_capital_q_while_writing_asks_too(ui: Harness) -> None:
    ui.press("m")
    ui.type("a@b.test")
    ui.press("enter", "enter", "enter", "enter", "Q")
    assert "The message you are writing will be lost. (y/n)" in ui.screen()
    ui.press("n")
    assert "Compose: review and send" in ui.screen()
    with pytest.raises(urwid.ExitMainLoop):
        ui.press("Q", "y")


def test_the_form_hints_name_the_keys_of_the_focused_field(ui: Harness) -> None:
    ui.press("m", "up")  # the From line
    assert ui.screen().splitlines()[-1].startswith("↓ Next field  Esc Cancel")  # one account
    ui.press("down", "down", "down", "down")  # Subject
    assert ui.screen().splitlines()[-1].startswith("Enter Write the message  ↑ Field")


def test_j_and_k_choose_the_attachment_d_removes(ui: Harness, tmp_path: Path) -> None:
    for name in ("one.txt", "two.txt"):
        (tmp_path / name).write_text(name)
    ui.press("m")
    ui.type("a@b.test")
    ui.press("enter", "enter", "enter", "enter")
    for name in ("one.txt", "two.txt"):
        ui.press("a")
        ui.app.prompt_edit.set_edit_text(str(tmp_path / name))
        ui.press("enter")
    ui.press("j", "D", "y")  # the list starts on the first one: j goes to the second
    screen = ui.screen()
    assert "detached two.txt" in screen and "1. one.txt" in screen


def test_the_review_screen_hint_says_q_abandons(ui: Harness) -> None:
    ui.press("m", "enter", "enter", "enter", "enter")
    assert ui.screen().splitlines()[-1].startswith("? Help  q Abandon  y Send")
    ui.press("q")
    assert "Abandon this message? (y/n)" in ui.screen()
