"""Undo send in the reader: y holds the message in the real outbox files for the account's
undo_seconds, the status line counts down, Z takes it back into the review screen (out of the
outbox), and when the time is up it goes (SendHeld). The clock is the Undo's seam."""

from __future__ import annotations

from pathlib import Path

from tests.tui.conftest import Harness
from tmail.config.model import Account, Config, ServerSettings
from tmail.outbox.queue import Queue
from tmail.runtime.backend import MailBackend
from tmail.runtime.session import MailSession
from tmail.store.store import Store


def reader(tmp_path: Path, undo: float) -> tuple[Harness, Store]:
    account = Account(
        "demo", "me@demo.test", ServerSettings("imap", "imap.demo.test", 993),
        undo_seconds=undo,
    )  # fmt: skip  # no outgoing server: nothing here ever touches the network
    store = Store.open(tmp_path / "data")
    h = Harness()
    h.backend = MailBackend(Config(None, tmp_path / "data", 300.0, {"demo": account}), store)  # type: ignore[assignment]
    h.session = MailSession(h.backend, poll=False)
    h.app.session = h.session
    return h, store


def write_and_send(h: Harness) -> None:
    h.press("m")
    h.type("friend@example.org")
    h.press("enter", "enter", "enter")
    h.type("Undo me")
    h.press("enter")  # the editor writes "Hello there."
    h.press("y")
    h.work()


def test_y_holds_the_message_counting_down_and_z_takes_it_back(tmp_path: Path) -> None:
    h, store = reader(tmp_path, 10.0)
    try:
        now = [1_000_000.0]
        h.app.undo.clock = lambda: now[0]
        q = Queue.for_account(tmp_path / "data", "demo")
        write_and_send(h)
        [entry] = q.entries()  # in the outbox on disk, not sent
        assert entry.subject == "Undo me" and entry.not_before is not None
        h.app.undo.clock = lambda: entry.not_before - 7.2  # type: ignore[operator]
        h.app.undo.tick()
        assert 'sending "Undo me" in 8s: Z takes it back' in h.screen()
        h.press("Z")
        screen = h.screen()
        assert "Compose: review and send" in screen  # the review screen again
        assert "To: friend@example.org" in screen and "Hello there." in screen
        assert "taken back: not sent" in screen
        assert q.entries() == []  # out of the outbox: nothing will go
        assert "takes it back" not in screen
        h.press("Z")  # on the review screen Z does nothing harmful; y sends again
        h.press("y")
        h.work()
        [again] = q.entries()
        assert again.subject == "Undo me" and again.id != entry.id
    finally:
        store.close()


def test_when_the_time_is_up_it_goes_and_z_says_too_late(tmp_path: Path) -> None:
    h, store = reader(tmp_path, 10.0)
    try:
        q = Queue.for_account(tmp_path / "data", "demo")
        write_and_send(h)
        [entry] = q.entries()
        assert entry.not_before is not None
        h.app.undo.clock = lambda: entry.not_before + 0.5  # type: ignore[operator]
        h.app.undo.tick()  # the window ended: SendHeld is asked for
        assert "takes it back" not in h.screen()
        h.work()  # no outgoing server here: it stays queued, released from its hold
        [left] = q.entries()
        assert left.id == entry.id and left.not_before is None
        h.press("Z")
        assert "nothing to take back" in h.screen()
    finally:
        store.close()


def test_undo_seconds_0_sends_at_once(tmp_path: Path) -> None:
    h, store = reader(tmp_path, 0.0)
    try:
        write_and_send(h)
        [entry] = Queue.for_account(tmp_path / "data", "demo").entries()
        assert entry.not_before is None and "takes it back" not in h.screen()
    finally:
        store.close()


def test_l_on_the_review_screen_sends_at_a_time(tmp_path: Path) -> None:
    """ "Send at..." keeps the message in the outbox until then, with no countdown to take
    back; a past time asks before sending at once."""
    import time

    h, store = reader(tmp_path, 10.0)
    try:
        q = Queue.for_account(tmp_path / "data", "demo")
        h.press("m")
        h.type("friend@example.org")
        h.press("enter", "enter", "enter")
        h.type("Later")
        h.press("enter", "L")
        assert "Send at (18:00, tomorrow 9:00, +2h" in h.screen()
        h.type("+2h")
        h.press("enter")
        h.work()
        [entry] = q.entries()
        assert entry.not_before is not None
        assert abs(entry.not_before - (time.time() + 7200)) < 60
        screen = h.screen()
        assert "Later: scheduled for" in screen and "takes it back" not in screen
        h.press("m")
        h.type("friend@example.org")
        h.press("enter", "enter", "enter")
        h.type("Past")
        h.press("enter", "L")
        h.type("2020-01-01T09:00")
        h.press("enter")
        assert "2020-01-01 09:00 has passed: send it now? (y/n)" in h.screen()
        h.press("y")
        h.work()
        assert len(q.entries()) == 2  # the past one: at once (held for undo as y is)
    finally:
        store.close()
