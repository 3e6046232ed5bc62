"""A in the pager: answer the calendar invitation shown (accept, tentative or decline).

The answer is an RFC 5546 REPLY to the organizer from the account's invited address, built and
sent on the session's worker through the outbox (``AnswerInvitation``); the outcome comes back
as a notice like any sent message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tmail.runtime.session import AnswerInvitation
from tmail.ui.pager import Pager
from tmail.ui.source import Row

if TYPE_CHECKING:
    from tmail.ui.app import App


def answer(app: App) -> None:
    from tmail.mime.invitation import calendar_part, read_invitation

    row = app.screen.extra.get("row")
    if not isinstance(app.screen.widget, Pager) or not isinstance(row, Row):
        return
    raw = app.source.raw(row.id)
    ics = calendar_part(raw)
    invitation = read_invitation(raw) if ics is not None else None
    if ics is None or invitation is None or invitation.method not in ("REQUEST", ""):
        app.notice("this message holds no invitation to answer")
        return
    account = row.account

    def choose(word: str) -> None:
        def send(comment: str) -> None:
            app.session.submit(
                AnswerInvitation(
                    account=account, ics=ics, answer=word, comment=comment.strip() or None
                )
            )
            app.notice(f"answering {word}…")

        app.prompt.ask(f"{word.capitalize()}: a comment to the organizer (Enter: none): ", send)

    app.prompt.ask_key(
        "Answer the invitation: a accept, t tentative, d decline ",
        {"a": lambda: choose("accept"), "t": lambda: choose("tentative"),
         "d": lambda: choose("decline")},
    )  # fmt: skip
