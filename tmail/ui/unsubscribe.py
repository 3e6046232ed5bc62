"""U in the pager: leave the list the message came from (RFC 8058 one-click, or mailto:).

The one-click POST is network work: it goes to the session's worker after the person answered
the question that names the host; the answer comes back as a notice. The mailto: way opens the
composer filled in, so the message is reviewed before it goes. A plain web link is only shown.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from tmail.runtime.session import OneClickUnsubscribe
from tmail.ui import composeflow
from tmail.ui.pager import Pager
from tmail.ui.source import Row

if TYPE_CHECKING:
    from tmail.ui.app import App


def unsubscribe(app: App) -> None:
    from tmail.mime.unsubscribe import unsubscribe_offer

    pager = app.screen.widget
    row = app.screen.extra.get("row")
    if not isinstance(pager, Pager) or not isinstance(row, Row):
        return
    parsed = pager.rendered.parsed
    offer = unsubscribe_offer(parsed.headers) if parsed is not None else None
    if offer is None:
        app.notice("this message offers no way to unsubscribe (no List-Unsubscribe field)")
        return
    if offer.method == "web":
        app.notice(f"the list offers only a web page, not opened by itself: {offer.url}")
        return
    if offer.method == "mailto" and offer.mailto is not None:
        mailto = offer.mailto
        if mailto.subject is None:
            mailto = replace(mailto, subject="unsubscribe")
        if mailto.body is None:
            mailto = replace(mailto, body="unsubscribe\n")
        composeflow.compose_mailto(app, mailto)
        return
    account, url = row.account, offer.url

    def go() -> None:
        app.session.submit(OneClickUnsubscribe(account=account, url=url))
        app.notice(f"unsubscribing through {offer.host}…")

    app.prompt.ask_key(
        f"Unsubscribe with a one-click POST to {offer.host or url}? (y/n) ",
        {"y": go, "n": lambda: app.notice("not unsubscribed")},
    )
