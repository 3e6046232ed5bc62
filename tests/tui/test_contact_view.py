"""W (and :contact): a person's messages, to and from them, in every folder, over the real store."""

from __future__ import annotations

from pathlib import Path

from tests.tui.conftest import RecordingBackend
from tmail.core.models import Address
from tmail.runtime.session import MailSession
from tmail.store import Store
from tmail.ui.app import App, Options
from tmail.ui.compose import Identity
from tmail.ui.source import MemorySource
from tmail.ui.storesource import StoreSource


def mail(sender: str, to: str, subject: str, day: int) -> bytes:
    return (
        f"From: {sender}\nTo: {to}\nSubject: {subject}\nMessage-ID: <{subject}@x.test>\n"
        f"Date: Mon, {day:02d} Nov 2026 10:00:00 +0000\n\nhi\n"
    ).encode()


def test_w_lists_the_senders_messages_to_and_from_them_in_every_folder(tmp_path: Path) -> None:
    with Store.open(tmp_path / "data") as store:
        store.add_message(
            "a", "INBOX", mail("Anna <anna@x.test>", "me@y.test", "Hello-from-Anna", 2)
        )
        store.add_message("a", "Sent", mail("me@y.test", "Anna <anna@x.test>", "Reply-to-Anna", 3))
        store.add_message("a", "INBOX", mail("annabel@x.test", "me@y.test", "Annabel-note", 1))
        store.add_message("a", "INBOX", mail("bob@x.test", "me@y.test", "Bob-about-anna", 4))
        source = StoreSource(store, ["a"], ["me@y.test"])
        session = MailSession(RecordingBackend(MemorySource()), poll=False)
        app = App(
            source,
            session,
            identities=[Identity("a", Address("Me", "me@y.test"))],
            options=Options(opener=lambda argv: 0),
        )
        app.press("j")  # Bob's (newest) first, then Anna's
        app.press("W")
        screen = app.render_text(120, 20)
        assert "Hello-from-Anna" in screen and "Reply-to-Anna" in screen
        assert "Annabel-note" not in screen and "Bob-about-anna" not in screen
        assert "messages to and from anna@x.test" in screen
        app.press("q", ":")
        app.press(*"contact bob@x.test", "enter")
        screen = app.render_text(120, 20)
        assert "Bob-about-anna" in screen and "Hello-from-Anna" not in screen
