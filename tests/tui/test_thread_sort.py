"""The thread view sorted by the key the status line names (issue 11, item 15)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tui.conftest import RecordingBackend
from tmail.core.models import Address
from tmail.runtime.session import MailSession
from tmail.store import Store
from tmail.ui.app import App, Options
from tmail.ui.compose import Identity
from tmail.ui.source import MemorySource, View
from tmail.ui.storesource import StoreSource


def letter(n: int, day: int, sender: str, subject: str, reply_to: int | None = None) -> bytes:
    head = (
        f"From: {sender}\r\nTo: me@demo.test\r\nSubject: {subject}\r\n"
        f"Message-ID: <t{n}@demo.test>\r\nDate: Mon, {day:02d} Jun 2025 10:00:00 +0000\r\n"
    )
    if reply_to is not None:
        head += f"In-Reply-To: <t{reply_to}@demo.test>\r\nReferences: <t{reply_to}@demo.test>\r\n"
    return (head + "\r\nbody\r\n").encode()


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    store = Store.open(tmp_path / "data")
    # three threads: Apples (started first, the newest reply), Bananas (alone, big),
    # Cherries (started last but one, a reply before Apples' reply)
    for n, day, sender, subject, parent in [
        (1, 1, "Zoe <zoe@demo.test>", "Apples", None),
        (2, 2, "Bob <bob@demo.test>", "Bananas" + " padding" * 200, None),
        (3, 3, "Mia <mia@demo.test>", "Cherries", None),
        (4, 4, "Ann <ann@demo.test>", "Re: Cherries", 3),
        (5, 5, "Ann <ann@demo.test>", "Re: Apples", 1),
    ]:
        store.add_message("demo", "INBOX", letter(n, day, sender, subject, parent))
    session = MailSession(RecordingBackend(MemorySource()), poll=False)
    yield App(
        StoreSource(store, ["demo"]),
        session,
        identities=[Identity("demo", Address("Me", "me@demo.test"))],
        options=Options(editor=lambda t: t, opener=lambda argv: 0),
        start_view=View("demo", "INBOX", threads=True),
    )
    store.close()


def order(app: App) -> list[str]:
    """The fruit of each index line, top to bottom, and '>' for a reply (tree line)."""
    out = []
    for line in app.render_text(120, 12).splitlines():
        for fruit in ("Apples", "Bananas", "Cherries"):
            if fruit in line or (">" in line and "Ann" in line and fruit[:3] in line):
                out.append((">" if "─>" in line else "") + fruit)
                break
        else:
            if "─>" in line:
                out.append(">")  # a reply showing the tree alone (subject as above)
    return out


def test_thread_view_follows_the_sort_key_and_o_reverses_it(app: App) -> None:
    # by date (newest first): a thread is as new as its newest message
    assert order(app) == ["Apples", ">", "Cherries", ">", "Bananas"]
    assert "[date ↓, threads]" in app.render_text(120, 12)
    app.press("o", "s")  # subject, A to Z: the replies stay under their thread
    screen = app.render_text(120, 12)
    assert "[subject ↑, threads]" in screen
    assert order(app) == ["Apples", ">", "Bananas", "Cherries", ">"]
    app.press("O")  # Z to A
    assert "[subject ↓, threads]" in app.render_text(120, 12)
    assert order(app) == ["Cherries", ">", "Bananas", "Apples", ">"]
    app.press("o", "f")  # by the first message's sender: Bob, Mia, Zoe
    assert order(app) == ["Bananas", "Cherries", ">", "Apples", ">"]
    app.press("o", "z")  # largest first: Bananas' subject makes it big
    assert order(app)[0] == "Bananas"
    app.press("o", "d", "O")  # oldest activity first: the reverse of the date order
    assert order(app) == ["Bananas", "Cherries", ">", "Apples", ">"]


def test_the_lazy_walk_of_the_default_order_agrees_with_the_full_sort(tmp_path: Path) -> None:
    from tmail.store.threadsort import iter_thread_ids, thread_ids

    store = Store.open(tmp_path / "data")
    for n in range(1, 28):  # replies to letters a week older: threads overlap in time
        parent = n - 7 if n % 3 == 0 and n > 7 else None
        store.add_message("a", "INBOX", letter(n, n, "x@y.test", f"s{n}", parent))
    lazy = list(iter_thread_ids(store, "a", "INBOX", "date", True))
    assert lazy == thread_ids(store, "a", "INBOX", "date", True)
    assert len(lazy) == 20  # 7 replies joined their threads
    store.close()
