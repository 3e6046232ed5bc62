"""The contact view (W, ``:contact ADDRESS``): a person's messages, to and from them, in every
folder of every account, newest first. From a message it is its sender's (for mail one sent,
its first recipient's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tmail.core.errors import TmailError
from tmail.core.safe import safe_line
from tmail.ui.index import IndexView
from tmail.ui.screens import Screen
from tmail.ui.source import ALL_INBOXES, View

if TYPE_CHECKING:
    from tmail.ui.app import App


def contact_query(address: str) -> str:
    quoted = '"' + address.replace('"', "") + '"'
    return f"from:{quoted} OR to:{quoted} OR cc:{quoted}"


def open_contact(app: App, address: str) -> bool:
    address = address.strip().strip("<>")
    if "@" not in address:
        return False
    view = View(account=ALL_INBOXES, query=contact_query(address))
    try:
        index = IndexView(app.source, view)
    except TmailError as exc:
        app.notice(exc.one_line(), error=True)
        return True
    app.push(Screen("index", index))
    app.notice(f"messages to and from {safe_line(address)}")
    return True


def sender_contact(app: App) -> None:
    """W: the focused message's sender (or, for mail one sent, its first recipient)."""
    row = app.target_row()
    if row is None:
        return
    import email.parser
    import email.policy
    from email.utils import getaddresses

    head = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(
        app.source.raw(row.id)
    )
    fields = ("To", "Cc") if row.outgoing else ("From",)
    for name in fields:
        for _, addr in getaddresses([str(v) for v in head.get_all(name, [])]):
            if "@" in addr:
                open_contact(app, addr)
                return
    app.notice("no address on this message", error=True)


def command(app: App, arg: str) -> bool:
    """``:contact ADDRESS`` (without one: the focused message's sender)."""
    if not arg.strip():
        sender_contact(app)
        return True
    return open_contact(app, arg)
