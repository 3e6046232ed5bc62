"""A small mailbox in memory, a backend that records requests, and an App over them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from tmail.core.models import Address, Flag
from tmail.mime.compose import Draft
from tmail.runtime.session import Backend, MailSession, SendResult
from tmail.sync.result import AccountSyncResult
from tmail.ui.app import App, Options
from tmail.ui.compose import Identity
from tmail.ui.source import MemorySource, Row

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def message(
    mid: str, sender: str, subject: str, body: str, *, charset: str = "utf-8", extra: str = ""
) -> bytes:
    head = (
        f"From: {sender}\nTo: Me <me@demo.test>\nSubject: {subject}\n"
        f"Date: Fri, 20 Nov 2026 09:30:00 +0000\nMessage-ID: <{mid}>\n{extra}"
        f"MIME-Version: 1.0\nContent-Type: text/plain; charset={charset}\n"
        "Content-Transfer-Encoding: 8bit\n\n"
    )
    return head.encode("ascii") + body.encode(charset)


def mailbox() -> MemorySource:
    src = MemorySource()
    rows = [
        (
            1,
            "INBOX",
            "Anna Petrova",
            "Квартальный отчёт",
            "Привет!\nОтчёт во вложении.\n",
            "koi8-r",
            set(),
        ),
        (
            2,
            "INBOX",
            "Bob",
            "Lunch on Friday?",
            "Shall we?\n> earlier text\n",
            "utf-8",
            {Flag.SEEN},
        ),
        (
            3,
            "INBOX",
            "Carol",
            "Release notes",
            "See https://example.org/notes for details\n",
            "utf-8",
            {Flag.SEEN, Flag.FLAGGED},
        ),
        (4, "Archive", "Dave", "Old thread", "archived\n", "utf-8", {Flag.SEEN}),
    ]
    for i, folder, name, subject, body, cs, flags in rows:
        raw = message(
            f"m{i}@demo.test",
            f"{name} <{name.split()[0].lower()}@demo.test>",
            subject
            if subject.isascii()
            else "=?utf-8?b?" + __import__("base64").b64encode(subject.encode()).decode() + "?=",
            body,
            charset=cs,
        )
        src.messages.append(
            (
                Row(
                    i,
                    "demo",
                    folder,
                    T0 - timedelta(hours=i),
                    name,
                    subject,
                    frozenset(flags),
                    len(raw),
                ),
                raw,
            )
        )
    return src


@dataclass
class RecordingBackend(Backend):
    """Does every request at once in memory and remembers it."""

    source: MemorySource
    calls: list[tuple[str, object]] = field(default_factory=list)

    def accounts(self) -> Sequence[str]:
        return ["demo"]

    def poll_interval(self, account: str) -> float | None:
        return None

    def sync(self, account: str, progress: object = None, stop: object = None) -> AccountSyncResult:
        self.calls.append(("sync", account))
        return AccountSyncResult(account)

    def set_flags(self, ids: Sequence[int], add: Iterable[Flag], remove: Iterable[Flag]) -> None:
        self.calls.append(("flags", (tuple(ids), frozenset(add), frozenset(remove))))
        for i in ids:
            row = self.source.row(i)
            if row:
                self.source.update(replace(row, flags=(row.flags | set(add)) - set(remove)))

    def move(self, ids: Sequence[int], folder: str) -> None:
        self.calls.append(("move", (tuple(ids), folder)))

    def delete(self, ids: Sequence[int]) -> None:
        self.calls.append(("delete", tuple(ids)))

    def send(self, account: str, draft: Draft) -> SendResult:
        self.calls.append(("send", draft))
        return SendResult("delivered")

    def postpone(self, account: str, draft: Draft) -> str:
        self.calls.append(("postpone", draft))
        return "Drafts"

    def close(self) -> None:
        pass


class Harness:
    def __init__(self, source: MemorySource | None = None, editor_text: str | None = None) -> None:
        self.source = source or mailbox()
        self.backend = RecordingBackend(self.source)
        self.session = MailSession(self.backend, poll=False)
        self.edited: list[str] = []

        def editor(text: str) -> str:
            self.edited.append(text)
            return (editor_text if editor_text is not None else "Hello there.\n") + text

        self.app = App(
            self.source,
            self.session,
            identities=[Identity("demo", Address("Me", "me@demo.test"))],
            options=Options(editor=editor, opener=lambda argv: 0),
        )

    def press(self, *keys: str) -> None:
        self.app.press(*keys)

    def type(self, text: str) -> None:
        self.app.press(*list(text))

    def screen(self) -> str:
        return self.app.render_text(120, 30)

    def work(self) -> None:
        """Let the session do what was asked, as the worker would, then deliver the events."""
        for ev in self.session.run_pending():
            self.session.events.put(ev)
        self.app.handle_events(self.session.drain())


@pytest.fixture
def ui() -> Harness:
    return Harness()
