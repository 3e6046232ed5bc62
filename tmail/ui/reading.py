"""Reading: opening messages and folders, moving between messages, the pager's own keys (raw
source, view as charset, find in the message, links, the HTML original), searching and
ordering the index.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import urwid

from tmail.core.errors import TmailError
from tmail.core.models import Flag
from tmail.core.safe import safe_line
from tmail.ui import changes, charsets, composeflow, external
from tmail.ui.index import IndexView
from tmail.ui.pager import Pager
from tmail.ui.screens import Screen
from tmail.ui.source import SORT_KEYS, Row, View

if TYPE_CHECKING:
    from tmail.ui.app import App
    from tmail.ui.render import Rendered


# The MIME parser loads on the first message opened: the first screen does not need it.
def render(
    raw: bytes,
    charset: str | None = None,
    assumed: Sequence[str] = (),
    width: int = 78,
    authserv_ids: Sequence[str] = (),
) -> Rendered:
    from tmail.ui.render import render as _render

    return _render(raw, charset, tuple(assumed), width, tuple(authserv_ids))


def open_focused(app: App) -> None:
    """Enter: the folder chosen in the sidebar, or the message under the cursor."""
    if app.columns.focus_position == 0:
        where = app.sidebar.focused()
        if where:
            app.open_folder(*where)
        return
    row = app.index.current()
    if row is not None:
        open_message(app, row)


def open_message(app: App, row: Row) -> None:
    raw = app.source.raw(row.id)
    assumed = app.assumed(row.account)
    trusted = tuple(app.authserv_ids(row.account))
    pager = Pager(
        row.id, raw, render(raw, None, assumed, app.body_width, trusted), assumed, trusted
    )
    if pager.rendered.crypto is not None and app.loop is not None:
        app.loop.screen.clear()  # gpg's pinentry may have drawn on the terminal: redraw all
    autocrypt = any(i.account == row.account and i.autocrypt for i in app.identities)
    if autocrypt and b"utocrypt:" in raw:
        from tmail.mime.autocrypt import learn
        from tmail.mime.gpg import default_backend

        learned = learn(raw, default_backend())
        if learned:
            app.notice(f"learned the OpenPGP key of {safe_line(learned)} (Autocrypt)")
    screen = Screen("pager", pager, extra={"row": row})
    if app.screen.kind == "pager":
        app.replace(screen)
    else:
        app.push(screen)
    if row.unread:
        changes.set_flags(app, row, add={Flag.SEEN})


def next_message(app: App) -> None:
    app.step(1)


def prev_message(app: App) -> None:
    app.step(-1)


def next_unread(app: App) -> None:
    walker = app.index.walker
    pos = walker.find(walker.focus, lambda r: r.unread)
    if pos is None:  # on from the top, as mutt's next-new ("Search wrapped to top.")
        pos = walker.find(-1, lambda r: r.unread, limit=min(walker.focus, 5000))
        if pos is None:
            current = walker.row_at(walker.focus)
            other = " other" if current is not None and current.unread else ""
            app.notice(f"no{other} unread messages")
            return
        app.notice("wrapped to the top for the next unread")
    app.index.focus_on(pos)
    if app.screen.kind == "pager":
        row = walker.row_at(pos)
        if row is not None:
            open_message(app, row)


def _pager(app: App) -> Pager | None:
    widget = app.screen.widget
    return widget if isinstance(widget, Pager) else None


def raw(app: App) -> None:
    pager = _pager(app)
    if pager is not None:
        pager.toggle_raw()


def charset(app: App) -> None:
    pager = _pager(app)
    if pager is None:
        return

    def answer(name: str) -> None:
        name = name.strip()
        if not name:
            return
        if name.lower() == charsets.AUTO:  # back to the declared (or detected) charset
            assumed = app.assumed(_pager_account(app))
            pager.set_rendered(render(pager.raw, assumed=assumed, authserv_ids=pager.authserv_ids))
            app.notice(f"shown as {pager.rendered.charset or 'declared'} (auto)")
            return
        from tmail.mime.charsets import normalize_charset

        if normalize_charset(name) is None:  # unknown, or no text codec (base64, rot13)
            app.notice(f"unknown charset {name!r}: try koi8-r, windows-1251, cp866, utf-8", True)
            return
        pager.view_as(name)
        app.notice(f"shown as {name}")

    app.prompt.ask("View as charset (auto: as declared): ", answer, complete=charsets.complete)
    # the choices at once, above the prompt (Tab completes a started name)
    line = urwid.Text(("hint", charsets.choices_line(pager.rendered.charset)))
    app.bottom.original_widget = urwid.Pile([line, app.prompt.edit], focus_item=1)


def _pager_account(app: App) -> str:
    row = app.screen.extra.get("row")
    return row.account if isinstance(row, Row) else ""


def search(app: App) -> None:
    """/: find in the message shown, or search the folder (a new index on the stack)."""
    pager = _pager(app)
    if pager is not None:
        last = pager.query or ""
        caption = f"Find in message [{safe_line(last)}]: " if last else "Find in message: "
        app.prompt.ask(caption, lambda q: _find(app, pager, q or last, True))
        return

    def answer(query: str) -> None:
        query = query.strip()
        if not query:
            return
        old = app.index.view
        view = View(
            account=old.account,
            folder=old.folder,
            query=query,
            sort=old.sort,
            reverse=old.reverse,
        )
        try:
            index = IndexView(app.source, view)
        except TmailError as exc:
            app.notice(exc.one_line(), error=True)
            return
        app.push(Screen("index", index))
        if not len(index.walker):
            app.notice(f"nothing matches {query}")

    app.prompt.ask("Search: ", answer)


def _find(app: App, pager: Pager, query: str, forward: bool) -> None:
    if not query:
        return
    found = pager.find(query, forward)
    if found is None:
        app.notice(f"not found: {query}")
    elif found.total > 1 or found.wrapped:
        end = "bottom, went on at the top" if forward else "top, went on at the bottom"
        wrapped = f" (hit the {end})" if found.wrapped and found.total > 1 else ""
        app.notice(f"match {found.number} of {found.total}{wrapped}")


def next_match(app: App) -> None:
    pager = _pager(app)
    if pager is not None and pager.query:
        _find(app, pager, pager.query, True)


def prev_match(app: App) -> None:
    pager = _pager(app)
    if pager is not None and pager.query:
        _find(app, pager, pager.query, False)
    elif pager is not None:
        # no text search in this message: N does what it does in the index (and in mutt's
        # pager), mark unread, instead of nothing
        changes.toggle_unread(app)


def threads(app: App) -> None:
    reopen(app, threads=not app.index.view.threads)


def sort(app: App) -> None:
    # Each order starts the way people read it (O reverses): newest and largest first,
    # senders and subjects A to Z.
    choices = {
        k[0] if k != "size" else "z": (
            lambda k=k: reopen(app, sort=k, reverse=k in ("date", "size"))
        )
        for k in SORT_KEYS
    }
    app.prompt.ask_key("Sort by (d)ate (f)rom (s)ubject si(z)e: ", choices)  # type: ignore[arg-type]


def reverse(app: App) -> None:
    reopen(app, reverse=not app.index.view.reverse)


def reopen(app: App, **fields: object) -> None:
    """The index anew with ``fields`` of its view changed (order, threads), the cursor kept."""
    current = app.current_id()
    view = app.index.view.with_(**fields)
    index = IndexView(app.source, view)
    for i, s in enumerate(app.stack):
        if s.widget is app.index:
            app.stack[i] = Screen("index", index)
            break
    if app.screen.kind == "index":
        app.main.original_widget = index
    if current is not None:
        page = index.walker
        for pos in range(min(len(page), 200)):
            row = page.row_at(pos)
            if row and row.id == current:
                index.focus_on(pos)
                break


def open_link(app: App) -> None:
    pager = _pager(app)
    if pager is None or not pager.rendered.links:
        app.notice("this message has no links")
        return
    shown: Pager = pager

    def answer(text: str) -> None:
        links = shown.rendered.links
        try:
            url = links[int(text) - 1]
        except (ValueError, IndexError):
            app.notice(f"no link {text!r}: the links are numbered 1-{len(links)}")
            return
        open_url(app, url)

    app.prompt.ask(f"Open link (1-{len(pager.rendered.links)}): ", answer)


def open_url(app: App, url: str) -> None:
    """A link from a message: web links go to $BROWSER, mailto: opens a new message here;
    anything else (file:, javascript:, a "-option" the browser would obey) is refused."""
    from urllib.parse import urlsplit

    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "mailto":
        from tmail.mime.mailto import parse_mailto

        try:
            mailto = parse_mailto(url)
        except TmailError as exc:
            app.notice(exc.one_line(), True)
            return
        composeflow.compose_mailto(app, mailto)
    elif scheme in ("http", "https", "ftp") and parts.netloc:
        external.browse(app, url.strip())
    else:
        app.notice(f"not opened: {url} is no web link (http, https, ftp, mailto)", True)


def open_html(app: App) -> None:
    pager = _pager(app)
    if pager is None:
        return
    from tmail.mime.original import html_original

    page = html_original(pager.raw)
    if page is None:
        app.notice("this message has no HTML part")
        return
    # A private folder (mode 0700) the browser can read; nothing from the network loads.
    folder = Path(tempfile.mkdtemp(prefix="tmail-html-"))
    path = folder / "message.html"
    path.write_text(page, encoding="utf-8")
    external.browse(app, path.as_uri())
